"""Workers' recourse and voice from the command line: reject an answer, list and decide
appeals, review workers, answer guideline flags, show a project's terms. Registered on the
main app by :mod:`handloom.cli`.

Decisions are made by a person: commands that decide take ``--by USERNAME``, the staff
account the decision is recorded under (checked against the same policy table as the API,
so a reviewer can decide appeals but not remove workers, and no one decides an appeal
against their own decision).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Connection, select

from handloom.cli import (
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _fail,
    _print_json,
    _store,
    _table,
    app,
    console,
)
from handloom.errors import NotFound
from handloom.labor import appeals, guidelines, standing, terms
from handloom.store.schema import users
from handloom.web.policies import authorize
from handloom.work import projects, review
from handloom.work.accounts import Principal, principal_for_user

answer_app = typer.Typer(help="Act on one answer: reject it with a reason the worker sees.",
                         no_args_is_help=True)
appeal_app = typer.Typer(help="Workers' appeals: list them (overdue first), show one, decide.",
                         no_args_is_help=True)
review_worker_app = typer.Typer(
    help="Reviews of a worker's place in a project: list, open by hand, keep or remove.",
    no_args_is_help=True)
flags_app = typer.Typer(help="Guideline flags from workers: list and answer them.",
                        no_args_is_help=True)
terms_app = typer.Typer(help="A project's terms, as workers read them before consenting.",
                        no_args_is_help=True)
app.add_typer(answer_app, name="answer")
app.add_typer(appeal_app, name="appeal")
app.add_typer(review_worker_app, name="review-worker")
app.add_typer(flags_app, name="flags")
app.add_typer(terms_app, name="terms")

ByOpt = Annotated[str, typer.Option(
    "--by", help="Username of the staff member making the decision (recorded with it).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why; the worker reads it.")]
ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="Project name.")]


def acting(conn: Connection, username: str, action: str) -> Principal:
    """The staff account *username*, checked to be active and allowed to take *action*."""
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    principal = principal_for_user(conn, int(user_id)) if user_id is not None else None
    if principal is None:
        raise NotFound(f"No active user {username!r}; --by names the staff account the "
                       "decision is recorded under (see `handloom user add`).")
    authorize(principal, action)
    return principal


# ------------------------------------------------------------------ answers
@answer_app.command("reject")
def answer_reject(
    project: Annotated[str, typer.Argument(help="Project name.")],
    annotation_id: Annotated[int, typer.Argument(help="The answer's id (see the API's "
                                                      "annotations list).")],
    reason: ReasonOpt,
    by: ByOpt,
    fraud: Annotated[bool, typer.Option(
        "--fraud", help="Confirm fraud: the answer goes unpaid (what it earned is clawed "
                        "back).")] = False,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Reject an answer with a reason the worker sees; it stays paid unless --fraud.

    Example: `handloom answer reject toxicity 812 --reason "ignores rule 3" --by rita`
    """
    with _store(workspace) as store, _errors(), store.write() as conn:
        who = acting(conn, by, "annotation.reject")
        row = projects.get_project(conn, project)
        outcome = review.reject_answer(conn, row, annotation_id, who.user_id, reason,
                                       fraud=fraud, actor=who.actor)
    if as_json:
        _print_json(outcome)
        return
    clawed = outcome["clawed_back_minor"]
    pay = (f" {projects.from_minor_units(clawed, row.currency)} {row.currency} clawed back."
           if clawed else " It stays paid." if not fraud else " Nothing had been paid.")
    console.print(f"Answer {annotation_id} rejected.{pay} The worker sees the reason and may "
                  "appeal.")


# ------------------------------------------------------------------ appeals
@appeal_app.command("list")
def appeal_list(
    project: Annotated[str | None, typer.Option("--project", "-p",
                                                help="Only this project.")] = None,
    status: Annotated[str, typer.Option(
        help="open (overdue included), overdue, upheld, denied, decided or all.")] = "open",
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List appeals, overdue first; workers by per-project pseudonym, statements left out
    (see `appeal show`).

    Example: `handloom appeal list --status overdue`
    """
    with _store(workspace) as store, _errors(), store.read() as conn:
        row = projects.get_project(conn, project) if project else None
        entries = appeals.queue(conn, project=row, status=status)
    if as_json:
        _print_json([{k: v for k, v in e.items() if k != "statement"} for e in entries])
        return
    rows = [{"id": e["id"], "project": e["project"], "worker": e["worker"],
             "about": e["subject_type"] + (f" #{e['subject_id']}" if e["subject_id"] else ""),
             "status": "overdue" if e["overdue"] else e["status"],
             "due": (e["due_at"] or "")[:16].replace("T", " "),
             "contested_by": e["contested_by"] or "(automatic)"} for e in entries]
    if not rows:
        console.print(f"No {status} appeals.")
        return
    _table(rows, ["id", "project", "worker", "about", "status", "due", "contested_by"],
           title="Appeals")


@appeal_app.command("show")
def appeal_show(
    appeal_id: Annotated[int, typer.Argument(help="The appeal's id.")],
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Show one appeal with the worker's statement (private: for the people who decide)."""
    with _store(workspace) as store, _errors(), store.read() as conn:
        entry = appeals.get(conn, appeal_id)
    if as_json:
        _print_json(entry)
        return
    subject = entry["subject"]
    console.print(f"[bold]Appeal #{entry['id']}[/] · {entry['project']} · worker "
                  f"{entry['worker']} · {'overdue' if entry['overdue'] else entry['status']}, "
                  f"due {(entry['due_at'] or '')[:16]}", highlight=False)
    details = {k: v for k, v in subject.items() if v is not None}
    console.print(details, markup=False, highlight=False)
    console.print("Statement:", highlight=False)
    console.print(entry["statement"], markup=False, highlight=False)
    if entry["status"] != "open":
        console.print(f"Decision ({entry['status']}): {entry['decision_reason']}", markup=False,
                      highlight=False)
        if entry["restored_text"]:
            console.print(entry["restored_text"], markup=False, highlight=False)


@appeal_app.command("decide")
def appeal_decide(
    appeal_id: Annotated[int, typer.Argument(help="The appeal's id.")],
    reason: ReasonOpt,
    by: ByOpt,
    uphold: Annotated[bool | None, typer.Option(
        "--uphold/--deny", help="Uphold (restores pay, score or access) or deny.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Decide an appeal with a reason the worker sees; --by may not be the person who made
    the contested decision.

    Example: `handloom appeal decide 4 --uphold --reason "the answer follows rule 3" --by sam`
    """
    if uphold is None:
        _fail("Say --uphold or --deny.")
    with _store(workspace) as store, _errors(), store.write() as conn:
        who = acting(conn, by, "appeal.decide")
        entry = appeals.get(conn, appeal_id)
        outcome = appeals.decide(conn, projects.get_project(conn, entry["project"]), appeal_id,
                                 who.user_id, uphold=bool(uphold), reason=reason,
                                 actor=who.actor)
    if as_json:
        _print_json(outcome)
        return
    restored = appeals.describe_restored(outcome["restored"])
    console.print(f"Appeal {appeal_id} {outcome['status']}." + (f" {restored}" if restored
                                                                 else ""), highlight=False)


# ------------------------------------------------------------------ reviews of workers
@review_worker_app.command("list")
def review_worker_list(
    project: ProjectOpt,
    status: Annotated[str | None, typer.Option(
        help="open, kept, removed or reinstated (default: all).")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List reviews of the project's workers (by pseudonym), open ones first."""
    with _store(workspace) as store, _errors(), store.read() as conn:
        reviews = standing.list_reviews(conn, projects.get_project(conn, project), status=status)
    if as_json:
        _print_json(reviews)
        return
    if not reviews:
        console.print(f"No reviews of workers in {project}.")
        return
    rows = [{**r, "score": "" if r["score"] is None else f"{r['score']:.2f}",
             "gold_now": f"{r['gold_correct']}/{r['gold_answered']}",
             "opened": r["opened_at"][:10]} for r in reviews]
    _table(rows, ["id", "worker", "trigger", "score", "gold_now", "status", "opened", "reason"],
           title=f"Reviews of workers in {project}")


@review_worker_app.command("open")
def review_worker_open(
    project: ProjectOpt,
    worker: Annotated[str, typer.Option(help="The worker's pseudonym in the project, or ref.")],
    by: ByOpt,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Open a review of a worker by hand; nothing changes for them until someone decides."""
    with _store(workspace) as store, _errors(), store.write() as conn:
        who = acting(conn, by, "worker_review.open")
        row = projects.get_project(conn, project)
        review_id = standing.open_review(conn, row, standing.find_worker(conn, row, worker),
                                         trigger="manual", opened_by=who.user_id,
                                         actor=who.actor)
    console.print(f"Review {review_id} opened. Decide it with `handloom review-worker decide "
                  f"{review_id} --keep|--remove --reason ... --by ...`.")


@review_worker_app.command("decide")
def review_worker_decide(
    review_id: Annotated[int, typer.Argument(help="The review's id.")],
    reason: ReasonOpt,
    by: ByOpt,
    remove: Annotated[bool | None, typer.Option(
        "--remove/--keep", help="Remove the worker from the project, or keep them.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Keep a worker or remove them from the project, with a reason they see (they can
    appeal a removal).

    Example: `handloom review-worker decide 2 --keep --reason "errors were on one batch" --by mo`
    """
    if remove is None:
        _fail("Say --keep or --remove.")
    from handloom.store.schema import worker_reviews

    with _store(workspace) as store, _errors(), store.write() as conn:
        who = acting(conn, by, "worker_review.decide")
        project_id = conn.execute(select(worker_reviews.c.project_id).where(
            worker_reviews.c.id == review_id)).scalar()
        if project_id is None:
            raise NotFound(f"No worker review #{review_id}.")
        outcome = standing.decide(conn, projects.get_project(conn, int(project_id)), review_id,
                                  remove=bool(remove), reason=reason,
                                  decider_user_id=who.user_id, actor=who.actor)
    if as_json:
        _print_json(outcome)
        return
    released = (f" {outcome['released']} open lease(s) released." if outcome["released"]
                else "")
    console.print(f"Review {review_id}: worker {outcome['status']}.{released}")


# ------------------------------------------------------------------ flags
@flags_app.command("list")
def flags_list(
    project: ProjectOpt,
    status: Annotated[str | None, typer.Option(help="open or answered (default: all).")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List the project's guideline flags, newest first, with their supporters."""
    with _store(workspace) as store, _errors(), store.read() as conn:
        row = projects.get_project(conn, project)
        flags = guidelines.list_flags(conn, row.id, limit=10000, status=status)
    if as_json:
        _print_json(flags)
        return
    if not flags:
        console.print(f"No flags in {project}.")
        return
    rows = [{**f, "answer": f["answer"] or (f"in v{f['resolved_in_version']}"
                                            if f["resolved_in_version"] else "")}
            for f in flags]
    _table(rows, ["id", "kind", "item_id", "instruction_version", "supporters", "status",
                  "note", "answer"], title=f"Flags in {project}")


@flags_app.command("answer")
def flags_answer(
    issue_id: Annotated[int, typer.Argument(help="The flag's id.")],
    text: Annotated[str, typer.Argument(help="The answer; every worker of the project sees "
                                             "it.")],
    by: ByOpt,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Answer a flag in words (to answer with new instructions, use `project instructions
    --answers`)."""
    from handloom.store.schema import guideline_issues

    with _store(workspace) as store, _errors(), store.write() as conn:
        who = acting(conn, by, "flags.answer")
        project_id = conn.execute(select(guideline_issues.c.project_id).where(
            guideline_issues.c.id == issue_id)).scalar()
        if project_id is None:
            raise NotFound(f"No flag #{issue_id}.")
        guidelines.answer(conn, projects.get_project(conn, int(project_id)), issue_id, text,
                          who.user_id, who.actor)
    console.print(f"Flag {issue_id} answered.")


# ------------------------------------------------------------------ terms
def _terms_lines(t: dict[str, Any]) -> list[str]:
    pay = t["pay"]
    rate = (f"{pay['currency']} {pay['piece_rate']} per item" if pay["piece_rate"]
            else f"{pay['currency']} {pay['hourly_rate']} per hour" if pay["hourly_rate"]
            else "not stated")
    warnings = ", ".join(
        c["category"] + "".join(
            f" ({c[k]} {unit}/day)" for k, unit in (("daily_items", "items"),
                                                   ("daily_minutes", "min")) if c[k] is not None)
        for c in t["content_warnings"]["categories"]) or "none declared"
    seconds = t["expected_seconds_per_item"]
    return [
        f"Pay: {rate}; qualification time "
        f"{'paid' if pay['qualification_time_paid'] else 'unpaid'}; rejected work "
        f"{'paid unless fraud' if pay['rejected_work_paid'] else 'unpaid'}",
        f"Expected time: {f'about {seconds} s per item' if seconds else 'not estimated'}",
        f"Content warnings: {warnings}"
        + ("; blurred until shown" if t["content_warnings"]["blurred"] else ""),
        f"Data use: {t['data_use']['downstream_use']}: {t['data_use']['purpose'] or '-'}",
        f"Retention: {t['retention'] or 'not stated'}",
        f"Appeals: decided within {t['appeals']['deadline_days']} days "
        f"({', '.join(t['appeals']['appealable'])})",
        f"Support: {t['support_resources'] or 'not stated'}",
    ]


@terms_app.command("show")
def terms_show(
    project: ProjectOpt,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Show the terms workers consent to, their fingerprint, and how many consented.

    Example: `handloom terms show --project toxicity`
    """
    with _store(workspace) as store, _errors(), store.read() as conn:
        row = projects.get_project(conn, project)
        shown = terms.terms_for(row)
        counts = terms.project_consents(conn, row)
    digest = terms.terms_hash(shown)
    if as_json:
        _print_json({"project": row.name, "required": bool(row.terms_required),
                     "terms": shown, "terms_hash": digest, "consents": counts})
        return
    required = ("consent required before work" if row.terms_required
                else "consent not required")
    console.print(f"[bold]Terms of {row.title}[/] ({required})", highlight=False)
    for line in _terms_lines(shown):
        console.print("  " + line, markup=False, highlight=False)
    console.print(f"  Fingerprint (SHA-256): {digest}", highlight=False)
    console.print(f"  Consents: {counts['current']} to these terms, {counts['older_terms']} "
                  f"to earlier terms only, {counts['withdrawn']} withdrawn", highlight=False)
