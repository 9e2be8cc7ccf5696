"""Exposure from the command line: workers' opt-outs and time zones, item tags, a worker's
exposure today and this week, and a project's exposure figures. Registered on the main app
(and its ``worker`` group) by :mod:`handloom.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from handloom.cli import (
    ACTOR,
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _print_json,
    _store,
    _table,
    app,
    console,
    worker_app,
)
from handloom.labor import exposure, wellbeing
from handloom.work import projects

item_app = typer.Typer(help="Act on one item: set its content tags.", no_args_is_help=True)
exposure_app = typer.Typer(help="Exposure to sensitive content: per worker and per project.",
                           no_args_is_help=True)
app.add_typer(item_app, name="item")
app.add_typer(exposure_app, name="exposure")

NO_PENALTY = "Opting out never affects the worker's score, pay or access."


@worker_app.command("opt-out")
def worker_opt_out(
    ref: Annotated[str, typer.Argument(help="The worker's id.")],
    category: Annotated[str, typer.Argument(help="A content category some project declares.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Opt a worker out of a content category: routing never offers them its items again.

    Example: `handloom worker opt-out w-0042 violence`
    """
    with _store(workspace) as store, _errors(), store.write() as conn:
        chosen = exposure.opt_out(conn, exposure.worker_id_for(conn, ref), category,
                                  actor=ACTOR)
    console.print(f"{ref} is opted out of: {', '.join(chosen)}. {NO_PENALTY}")


@worker_app.command("opt-in")
def worker_opt_in(
    ref: Annotated[str, typer.Argument(help="The worker's id.")],
    category: Annotated[str, typer.Argument(help="A category the worker opted out of.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Take a category off a worker's opt-outs. Example: `handloom worker opt-in w-0042 violence`"""
    with _store(workspace) as store, _errors(), store.write() as conn:
        chosen = exposure.opt_in(conn, exposure.worker_id_for(conn, ref), category, actor=ACTOR)
    console.print(f"{ref} is opted out of: {', '.join(chosen) or 'nothing'}.")


@worker_app.command("set-timezone")
def worker_set_timezone(
    ref: Annotated[str, typer.Argument(help="The worker's id.")],
    zone: Annotated[str, typer.Argument(help="IANA time zone, e.g. Europe/Berlin.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Set the time zone a worker's day is counted in (daily exposure limits reset at its
    midnight). Example: `handloom worker set-timezone w-0042 Africa/Nairobi`"""
    with _store(workspace) as store, _errors(), store.write() as conn:
        chosen = exposure.set_timezone(conn, exposure.worker_id_for(conn, ref), zone,
                                       actor=ACTOR)
    console.print(f"{ref}'s day now starts at midnight {chosen}.")


# -- disclosure: self-reported demographics --
@worker_app.command("forget-demographics")
def worker_forget_demographics(
    ref: Annotated[str, typer.Argument(help="The worker's id.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Erase a worker's self-reported demographics, acting on their erasure request. The
    ledger records that it was done (and which fields were erased, never the values).

    Example: `handloom worker forget-demographics w-0042`
    """
    from handloom.labor import demographics

    with _store(workspace) as store, _errors(), store.write() as conn:
        erased = demographics.forget_demographics(conn, exposure.worker_id_for(conn, ref),
                                                  actor=ACTOR)
    if erased:
        console.print(f"Erased the self-reported {', '.join(erased)} of {ref}.", markup=False,
                      highlight=False)
    else:
        console.print(f"{ref} had given no demographics; nothing to erase (the request is "
                      "recorded on the ledger).", markup=False, highlight=False)


@item_app.command("tag")
def item_tag(
    project: Annotated[str, typer.Argument(help="The project's name.")],
    item_id: Annotated[str, typer.Argument(help="The item's id.")],
    categories: Annotated[list[str] | None, typer.Argument(
        help="Content categories of the project (none, with --replace, clears the tags).")
    ] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Set exactly these tags (default: add them to the item's tags).")
    ] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Tag an item with content categories (routing applies them to the next leases).

    Example: `handloom item tag moderation post-17 violence hate`
    """
    if not categories and not replace:
        raise typer.BadParameter("name at least one category (or clear the tags with "
                                 "--replace and no category)", param_hint="CATEGORIES")
    with _store(workspace) as store, _errors(), store.write() as conn:
        tags = exposure.tag_item(conn, projects.get_project(conn, project), item_id,
                                 categories or [], ACTOR, replace=replace)
    console.print(f"Item {item_id} is tagged: {', '.join(tags) or 'nothing'}.")


@exposure_app.command("show")
def exposure_show(
    worker: Annotated[str, typer.Option("--worker", help="The worker's id.")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A worker's exposure today and this week per category, against the projects' daily
    limits, with their opt-outs and any break running. Example:
    `handloom exposure show --worker w-0042`"""
    with _store(workspace) as store, _errors(), store.read() as conn:
        seen = exposure.worker_exposure(conn, exposure.worker_id_for(conn, worker))
    if as_json:
        _print_json(seen)
        return
    rows: list[dict[str, Any]] = []
    for c in seen["categories"]:
        limits = "; ".join(
            f"{lim['project']}: "
            + " / ".join(x for x in (
                f"{lim['daily_items']} items" if lim["daily_items"] is not None else "",
                f"{lim['daily_minutes']} min" if lim["daily_minutes"] is not None else "") if x)
            + (" (reached)" if lim["reached"] else "")
            for lim in c["limits"])
        rows.append({"category": c["category"],
                     "today": f"{c['today']['items']} items, {c['today']['minutes']} min",
                     "week": f"{c['week']['items']} items, {c['week']['minutes']} min",
                     "daily_limits": limits or "none",
                     "opted_out": "yes" if c["opted_out"] else ""})
    _table(rows, ["category", "today", "week", "daily_limits", "opted_out"],
           title=f"Exposure of {worker} (day in {seen['timezone']}, resets {seen['resets_at']})")
    for brk in seen["breaks"]:
        if brk["until"]:
            console.print(f"Break running in {brk['project']} until {brk['until']} "
                          f"({brk['in_a_row']} sensitive items in a row).")


@exposure_app.command("summary")
def exposure_summary(
    project: Annotated[str, typer.Option("--project", "-p", help="The project's name.")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A project's exposure policy and per-category figures, with well-being check-in counts
    (never their answers). Example: `handloom exposure summary --project moderation`"""
    with _store(workspace) as store, _errors(), store.read() as conn:
        row = projects.get_project(conn, project)
        figures = exposure.project_exposure(conn, row)
        figures["checkins"] = wellbeing.project_counts(conn, row)
    if as_json:
        _print_json(figures)
        return
    policy = figures["policy"]
    _table(figures["categories"], ["category", "tagged_items", "exposures", "minutes",
                                   "workers", "opted_out_workers", "daily_items",
                                   "daily_minutes"], title=f"Exposure in {project}")
    brk = (f"{policy['break_minutes']} min after {policy['break_after_sensitive']} sensitive "
           "items" if policy["break_after_sensitive"] else "none")
    console.print(f"Forced break: {brk}. Interleaving: "
                  f"{policy['interleave_after'] or 'none'}. Blur: "
                  f"{'yes' if policy['blur_sensitive'] else 'no'}.")
    counts = figures["checkins"]
    console.print(f"Check-ins: {counts['total']} from {counts['workers']} workers "
                  f"({counts['shared']} shared with staff).")
