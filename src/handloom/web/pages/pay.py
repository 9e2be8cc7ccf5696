"""Pay in the pages: the manager's pay page of a project (the floor check with its numbers,
effective hourly pay per worker against the floors, unpaid time by reason, top-ups to
approve or dismiss, the payroll CSV) and the pay sections of the worker's own page and of
the manager's fair-work page.

Workers appear to staff by their per-project pseudonym only. Charts are the server-drawn
SVG of :mod:`handloom.web.charts`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from handloom.errors import HandloomError
from handloom.labor import pay, payouts
from handloom.store.writer import WriteQueue
from handloom.web import charts
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.web.policies import POLICY, authorize
from handloom.work import projects

router = APIRouter(include_in_schema=False)

FLASH_KEY = "pay_flash"
MAX_WORKER_BARS = 25  # workers shown in the effective-hourly chart (the lowest paid first)
REASON_NAMES = {
    "answers": "answers that earned nothing", "instructions": "reading instructions",
    "qualification": "qualification test", "skipped": "skipped items",
    "rejected": "rejected answers (unpaid)", "appeal": "appeals", "wellbeing": "well-being",
}
Name = Annotated[str, Path(max_length=120)]


def _major(amount_minor: int | None, currency: str) -> float:
    """An amount in major units, for a chart's bar length only (never for arithmetic)."""
    if amount_minor is None:
        return 0.0
    return float(Decimal(projects.from_minor_units(amount_minor, currency)))


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f}"


# ------------------------------------------------------------------ sections
def me_section(conn: Connection, worker_id: int) -> dict[str, Any]:
    """The worker's own pay: per project what they earned by kind, their effective hourly
    pay against the floor, their time paid and unpaid by reason."""
    statement = pay.worker_pay(conn, worker_id)
    for p in statement["projects"]:
        p["unpaid_rows"] = [(REASON_NAMES.get(r, r), hours(s))
                            for r, s in p["time"]["unpaid_by_reason"].items() if s]
        p["active_hours"] = hours(p["time"]["active_seconds"])
        p["paid_hours"] = hours(p["time"]["paid_seconds"])
        p["unpaid_hours"] = hours(p["time"]["unpaid_seconds"])
    statement["unpaid_rows"] = [(REASON_NAMES.get(r, r), hours(s))
                                for r, s in statement["time"]["unpaid_by_reason"].items() if s]
    statement["active_hours"] = hours(statement["time"]["active_seconds"])
    statement["unpaid_hours"] = hours(statement["time"]["unpaid_seconds"])
    return statement


def manage_section(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's pay for its managers: the alert when anyone earns below their floor,
    the floor check at today's measured time, effective hourly pay per worker (chart and
    table), unpaid time by reason and the top-ups waiting."""
    data = pay.project_pay(conn, project)
    c = project.currency
    workers = sorted(data["breach"]["workers"],
                     key=lambda w: (w["effective_hourly_minor"] is None,
                                    w["effective_hourly_minor"] or 0))
    shown = [w for w in workers if w["effective_hourly_minor"] is not None][:MAX_WORKER_BARS]
    floors = sorted({(w["floor"]["jurisdiction"], w["floor"]["hourly"])
                     for w in workers if w["floor"]}, key=lambda f: f[0])
    unpaid = [(REASON_NAMES.get(r, r), s / 3600)
              for r, s in data["time"]["unpaid_by_reason"].items() if s]
    data.update({
        "name": project.name,
        "approve_roles": sorted(POLICY["pay.approve"]),
        "pilot_min": pay.PILOT_MIN_ANSWERS,
        "alert": data["breach"]["alert"],
        "worker_rows": workers,
        "floors_shown": floors,
        "hourly_chart": charts.bar_chart(
            [(w["worker"], _major(w["effective_hourly_minor"], c)) for w in shown],
            chart_id=f"pay-hourly-{project.name}", unit=f"{c}/h",
            title=f"Effective hourly pay per worker (pseudonyms), the lowest {len(shown)}"),
        "unpaid_chart": charts.bar_chart(
            unpaid, chart_id=f"pay-unpaid-{project.name}", unit="hours",
            title="Unpaid work time by reason, in hours"),
        "active_hours": hours(data["time"]["active_seconds"]),
        "paid_hours": hours(data["time"]["paid_seconds"]),
        "unpaid_hours": hours(data["time"]["unpaid_seconds"]),
        "unpaid_rows": [(name, f"{h:.2f}") for name, h in unpaid],
        # -- disclosure: payouts --
        "payouts": payouts.project_payouts(conn, project),
        "mark_paid_roles": sorted(POLICY["pay.mark_paid"]),
    })
    return data


# ------------------------------------------------------------------ the manager's pay page
def _take_flash(request: Request) -> str | None:
    message = request.session.pop(FLASH_KEY, None)
    return message if isinstance(message, str) else None


@router.get("/manage/{name}/pay")
def manage_pay(name: Name, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "pay.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        section = manage_section(conn, project)
        summary = projects.project_summary(conn, project)
    return page("pages/manage_pay.html", template_context(
        request, me, p=summary, section=section, flash=_take_flash(request)))


@router.get("/manage/{name}/pay/report.csv")
def payroll_csv(name: Name, me: UserDep, store: StoreDep) -> Response:
    """The payroll as CSV, workers by pseudonym."""
    authorize(me, "pay.read")
    with store.read() as conn:
        report = pay.payroll(conn, projects.get_project(conn, name))
    return Response(pay.payroll_csv(report), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-payroll.csv"'})


async def _act(request: Request, writes: WriteQueue, name: str,
               action: Callable[[Connection], str], anchor: str = "top-ups") -> Response:
    """Run *action* in a write transaction; its message (or the error's) is flashed on the
    pay page, where the manager lands again."""
    try:
        message = await writes.run(action)
    except HandloomError as exc:
        message = exc.message
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/manage/{name}/pay#{anchor}", status_code=303)


@router.post("/manage/{name}/pay/check")
async def check_pay(name: Name, request: Request, me: UserDep, _csrf: CsrfDep,
                    writes: WritesDep) -> Response:
    """Propose a top-up for every worker below their floor now."""
    authorize(me, "pay.approve")

    def work(conn: Connection) -> str:
        waiting = pay.propose_top_ups(conn, projects.get_project(conn, name), actor=me.actor)
        if not waiting:
            return "Checked every worker's pay: no top-up is due."
        return f"Checked every worker's pay: {len(waiting)} top-up(s) wait for a decision."

    return await _act(request, writes, name, work)


@router.post("/manage/{name}/pay/top-ups/{adjustment_id}/approve")
async def approve(name: Name, adjustment_id: int, request: Request, me: UserDep,
                  _csrf: CsrfDep, writes: WritesDep) -> Response:
    authorize(me, "pay.approve")

    def work(conn: Connection) -> str:
        pay.approve_top_up(conn, projects.get_project(conn, name), adjustment_id, me.user_id,
                           me.actor)
        return f"Top-up {adjustment_id} approved: it is now a pay event on the ledger."

    return await _act(request, writes, name, work)


@router.post("/manage/{name}/pay/top-ups/{adjustment_id}/dismiss")
async def dismiss(name: Name, adjustment_id: int, request: Request, me: UserDep,
                  _csrf: CsrfDep, writes: WritesDep) -> Response:
    authorize(me, "pay.approve")
    form = await request.form()
    reason = form.get("reason")
    text = reason if isinstance(reason, str) else ""

    def work(conn: Connection) -> str:
        pay.dismiss_top_up(conn, projects.get_project(conn, name), adjustment_id, me.user_id,
                           text, me.actor)
        return f"Top-up {adjustment_id} dismissed."

    return await _act(request, writes, name, work)



# -- disclosure: payouts --
@router.post("/manage/{name}/pay/mark-paid")
async def mark_paid(name: Name, request: Request, me: UserDep, _csrf: CsrfDep,
                    writes: WritesDep) -> Response:
    """Record a payout of everything owed (earned before the optional date)."""
    authorize(me, "pay.mark_paid")
    form = await request.form()
    raw = form.get("through")
    through_text = raw.strip() if isinstance(raw, str) else ""

    def work(conn: Connection) -> str:
        through = payouts.parse_through(through_text) if through_text else None
        result = payouts.mark_paid(conn, projects.get_project(conn, name), through=through,
                                   actor=me.actor)
        if not result["count"]:
            return "Nothing to mark as paid: no pay is owed from before that time."
        return (f"Marked {result['count']} pay event(s) as paid: {result['currency']} "
                f"{result['total']} to {result['workers']} worker(s). Their statements now "
                "show it as paid.")

    return await _act(request, writes, name, work, anchor="payouts")
