"""``handloom pay``: the floor table, statements, the payroll report, the floor check and
top-ups, from the command line. Registered on the main app by :mod:`handloom.cli`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from handloom.cli import (
    ACTOR,
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _fail,
    _print_json,
    _store,
    _table,
    app,
    console,
    err_console,
)

pay_app = typer.Typer(help="Pay: floors, statements, payroll, the floor check and top-ups.",
                      no_args_is_help=True)
floors_app = typer.Typer(help="The pay floor table the operator maintains.",
                         no_args_is_help=True)
pay_app.add_typer(floors_app, name="floors")
app.add_typer(pay_app, name="pay")

ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="Project name.")]
SinceOpt = Annotated[str | None, typer.Option(
    help="First day of the period, YYYY-MM-DD (UTC), included.")]
UntilOpt = Annotated[str | None, typer.Option(
    help="Last day of the period, YYYY-MM-DD (UTC), included.")]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date written YYYY-MM-DD.")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def _reasons(by_reason: dict[str, float]) -> str:
    return ", ".join(f"{r} {_hours(s)}" for r, s in by_reason.items() if s) or "none"


# ------------------------------------------------------------------ floors
@floors_app.command("import")
def floors_import(
    file: Annotated[Path, typer.Argument(help="CSV or TOML floor file.")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Import pay floors from a CSV or TOML file, all or nothing.

    Columns (CSV) or keys (TOML `[[floor]]` tables): jurisdiction, currency, hourly (major
    units), source, effective_date (YYYY-MM-DD), and optionally note and is_example. Rows
    with the same jurisdiction, currency and effective date replace the stored ones.

    Example: `handloom pay floors import examples/pay_floors.example.csv`
    """
    from handloom.labor import floors

    with _store(workspace) as store, _errors(), store.write() as conn:
        result = floors.import_file(conn, file, actor=ACTOR)
    if as_json:
        _print_json(result.to_dict())
        return
    console.print(f"Imported {result.rows} floors from {file.name} ({result.inserted} new, "
                  f"{result.replaced} replaced) for {', '.join(result.jurisdictions)}.",
                  markup=False, highlight=False)
    if result.examples:
        err_console.print(f"{result.examples} of them are marked as examples: check them "
                          "against their sources before relying on them.", markup=False)


@floors_app.command("list")
def floors_list(
    workspace: WorkspaceOpt = Path("."),
    on: Annotated[str | None, typer.Option(help="Mark the floors in force on this day "
                                                "(YYYY-MM-DD; default today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the stored pay floors; `in force` marks the one in force for each jurisdiction
    and currency. Example: `handloom pay floors list`"""
    from handloom.labor import floors

    day = _day(on, "--on")
    with _store(workspace) as store, _errors(), store.read() as conn:
        rows = floors.list_floors(conn, on=day)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        console.print("No pay floors yet. Import some with `handloom pay floors import FILE`.")
        return
    shown = [{**r, "hourly": f"{r['currency']} {r['hourly']}",
              "in_force": "yes" if r["in_force"] else "",
              "example": "example" if r["is_example"] else ""} for r in rows]
    _table(shown, ["jurisdiction", "hourly", "effective_date", "in_force", "example", "source"],
           title="Pay floors")


# ------------------------------------------------------------------ statements and payroll
@pay_app.command("statement")
def statement_cmd(
    worker: Annotated[str, typer.Option("--worker", help="The worker's ref.")],
    project: Annotated[str | None, typer.Option("--project", "-p", help="Only this project.")
                       ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A worker's pay statement: earnings per project by kind, time paid and unpaid by
    reason, effective hourly pay against the floor (what the worker sees on their page).

    Example: `handloom pay statement --worker kofi --since 2026-11-01`
    """
    from handloom.labor import pay
    from handloom.store.schema import workers
    from handloom.work.projects import get_project

    start, end = pay.period(_day(since, "--since"), _day(until, "--until")) if (
        since or until) else (None, None)
    with _store(workspace) as store, _errors(), store.read() as conn:
        worker_id = conn.execute(select(workers.c.id).where(workers.c.ref == worker)).scalar()
        if worker_id is None:
            _fail(f"No worker {worker!r}. List them with `handloom worker list`.")
        project_id = get_project(conn, project).id if project else None
        result = pay.statement(conn, int(worker_id), project_id=project_id, since=start,
                               until=end)
    if as_json:
        _print_json(result)
        return
    _print_statement(result)


def _print_statement(result: dict[str, Any]) -> None:
    period = ""
    if result["since"] or result["until"]:
        period = f" from {result['since'] or 'the start'} until {result['until'] or 'now'}"
    if not result["projects"]:
        console.print(f"No pay or work time recorded for {result['worker_ref']}{period}.",
                      markup=False)
        return
    table = Table(title=f"Pay statement of {result['worker_ref']}{period}")
    for col in ("project", "answers paid", "piece", "hourly", "top-up", "restored",
                "clawback", "total", "owed", "work time", "unpaid", "per hour", "floor"):
        table.add_column(col, justify="left" if col == "project" else "right")
    for p in result["projects"]:
        a = p["amounts"]
        floor = p["floor"]
        verdict = ""
        if floor:
            mark = {True: "met", False: "BELOW", None: ""}[p["at_or_above_floor"]]
            verdict = f"{floor['hourly']} {floor['jurisdiction']} {mark}".strip()
        table.add_row(p["project"], f"{p['answers_paid']}/{p['answers']}", a["piece"],
                      a["hourly"], a["top_up"], a["restored"], a["clawback"],
                      f"{p['currency']} {p['total']}", p["owed"],
                      _hours(p["time"]["active_seconds"]),
                      _hours(p["time"]["unpaid_seconds"]),
                      p["effective_hourly"] or "–", verdict)
    console.print(table)
    for p in result["projects"]:
        console.print(f"{p['project']}: unpaid time by reason: "
                      f"{_reasons(p['time']['unpaid_by_reason'])}.", markup=False,
                      highlight=False)
        for note in p["notes"]:
            console.print(f"{p['project']}: {note}", markup=False, highlight=False)
    for total in result["totals"]:
        console.print(f"Total: {total['currency']} {total['total']} (paid out "
                      f"{total['paid']}, still owed {total['owed']})", markup=False)


@pay_app.command("report")
def report_cmd(
    project: ProjectOpt,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of "
                                                                 "printing.")] = None,
    reveal_refs: Annotated[bool, typer.Option(
        "--reveal-refs", help="Name workers by your refs instead of pseudonyms (for paying "
                              "them); recorded on the ledger.")] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """The payroll of a project: one row per worker, the same figures as their statements.

    Workers appear by their pseudonym in the project unless `--reveal-refs` is given.

    Example: `handloom pay report --project toxicity --format csv --out payroll.csv`
    """
    from handloom.labor import pay
    from handloom.work.projects import get_project

    if fmt not in ("csv", "json"):
        _fail(f"--format {fmt!r}: choose csv or json.")
    start, end = pay.period(_day(since, "--since"), _day(until, "--until")) if (
        since or until) else (None, None)
    with _store(workspace) as store, _errors():
        with (store.write() if reveal_refs else store.read()) as conn:
            report = pay.payroll(conn, get_project(conn, project), since=start, until=end,
                                 reveal_refs=reveal_refs, actor=ACTOR)
    if fmt == "csv":
        text = pay.payroll_csv(report)
    else:
        import json

        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        console.file.write(text)
        return
    out.write_text(text, encoding="utf-8")
    shown = "their refs (recorded on the ledger)" if reveal_refs else "pseudonyms"
    console.print(f"Wrote the payroll of {project} ({len(report['rows'])} workers by {shown}, "
                  f"total {report['currency']} {report['total']}) to {out}.", markup=False,
                  highlight=False)


# ------------------------------------------------------------------ checks and top-ups
@pay_app.command("check")
def check_cmd(
    project: ProjectOpt,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Check a project's pay against the floors now and propose top-ups.

    Shows the floor check opening would run (today's measured median against each floor),
    then every worker below their floor and the top-up proposed for each (approve with
    `handloom pay approve ID`).

    Example: `handloom pay check --project toxicity`
    """
    from handloom.labor import pay
    from handloom.work.projects import get_project

    with _store(workspace) as store, _errors(), store.write() as conn:
        row = get_project(conn, project)
        check = pay.check_open(conn, row).to_dict()
        proposals = pay.propose_top_ups(conn, row, actor=ACTOR)
        breach = pay.check_floor_breach(conn, row).to_dict()
    if as_json:
        _print_json({"floor_check": check, "breach": breach, "proposed": proposals})
        return
    console.print(check["message"], markup=False, highlight=False)
    if breach["median_seconds"]:
        console.print(f"Measured median: {breach['median_seconds']} s per item over "
                      f"{breach['answers_measured']} accepted answers (opened with "
                      f"{breach['estimate_seconds'] or 'no estimate'} s).", markup=False,
                      highlight=False)
    console.print(breach["message"], markup=False, highlight=False)
    _print_top_ups(proposals, f"Top-ups waiting in {project}")


def _print_top_ups(rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        console.print("No top-ups.", markup=False)
        return
    _table([{**r, "amount": f"{r['currency']} {r['amount']}"} for r in rows],
           ["id", "worker", "amount", "status", "computed_at", "reason"], title=title)


@pay_app.command("top-ups")
def top_ups_cmd(
    project: ProjectOpt,
    status: Annotated[str | None, typer.Option(help="proposed, approved or dismissed.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List a project's top-ups (workers by pseudonym).

    Example: `handloom pay top-ups --project toxicity --status proposed`
    """
    from handloom.labor import pay
    from handloom.work.projects import get_project

    if status not in (None, "proposed", "approved", "dismissed"):
        _fail(f"--status {status!r}: choose proposed, approved or dismissed.")
    with _store(workspace) as store, _errors(), store.read() as conn:
        rows = pay.list_top_ups(conn, get_project(conn, project), status=status)
    if as_json:
        _print_json(rows)
        return
    _print_top_ups(rows, f"Top-ups of {project}")


@pay_app.command("approve")
def approve_cmd(
    adjustment_id: Annotated[int, typer.Argument(help="The top-up's id.")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposed top-up: it becomes a pay event, on the ledger.

    Example: `handloom pay approve 3`
    """
    from handloom.labor import pay

    with _store(workspace) as store, _errors(), store.write() as conn:
        project = pay.project_of_adjustment(conn, adjustment_id)
        result = pay.approve_top_up(conn, project, adjustment_id, None, ACTOR)
    if as_json:
        _print_json(result)
        return
    console.print(f"Approved top-up {adjustment_id}: {result['currency']} {result['amount']} "
                  f"to {result['worker']} in {project.name}.", markup=False, highlight=False)


@pay_app.command("dismiss")
def dismiss_cmd(
    adjustment_id: Annotated[int, typer.Argument(help="The top-up's id.")],
    reason: Annotated[str, typer.Option(help="Why it is not paid (kept with it).")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Dismiss a proposed top-up, with a reason.

    Example: `handloom pay dismiss 3 --reason "paid outside Handloom"`
    """
    from handloom.labor import pay

    with _store(workspace) as store, _errors(), store.write() as conn:
        project = pay.project_of_adjustment(conn, adjustment_id)
        result = pay.dismiss_top_up(conn, project, adjustment_id, None, reason, ACTOR)
    if as_json:
        _print_json(result)
        return
    console.print(f"Dismissed top-up {adjustment_id} in {project.name}.", markup=False)


# -- disclosure: payouts (marking earned pay as paid out) --
@pay_app.command("mark-paid")
def mark_paid_cmd(
    project: Annotated[str, typer.Argument(help="The project's name.")],
    through: Annotated[str | None, typer.Option(
        help="Only pay earned before this: an ISO date-time (UTC unless it says otherwise) "
             "or a date, meaning the end of that day. Default: now.")] = None,
    worker: Annotated[str | None, typer.Option(
        "--worker", help="Only this worker's pay (their ref).")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Record a payout: mark every pay event not yet paid, earned before `--through`, as
    paid now (for one worker, or all). Statements then show it as paid; the payout is on
    the ledger, and reports read payment timeliness from it.

    Example: `handloom pay mark-paid toxicity --through 2026-11-30`
    """
    from handloom.labor import payouts
    from handloom.labor.exposure import worker_id_for
    from handloom.work.projects import get_project

    with _errors():
        cutoff = None if through is None else payouts.parse_through(through)
    with _store(workspace) as store, _errors(), store.write() as conn:
        row = get_project(conn, project)
        worker_id = None if worker is None else worker_id_for(conn, worker)
        result = payouts.mark_paid(conn, row, through=cutoff, worker_id=worker_id, actor=ACTOR)
    if as_json:
        _print_json(result)
        return
    whose = f" of {worker}" if worker else ""
    if not result["count"]:
        console.print(f"Nothing to mark: no unpaid pay{whose} in {project} earned before "
                      f"{result['through']}.", markup=False, highlight=False)
        return
    console.print(f"Marked {result['count']} pay event(s){whose} in {project} as paid: "
                  f"{result['currency']} {result['total']} to {result['workers']} worker(s), "
                  f"earned before {result['through']}.", markup=False, highlight=False)
