"""REST API v1 for pay and time: a worker's own statement, statements and payroll for staff,
the floor table, the floor check, and top-ups with their approval.

Workers see their own figures only. Staff see workers by per-project pseudonym; the payroll
report names workers by the operator's own reference only when asked to
(``reveal_refs=true``, owners and managers), and that request is on the ledger.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from handloom.errors import NotFound
from handloom.labor import floors, pay, payouts
from handloom.store.schema import projects, workers
from handloom.web.api.routes import ERRORS, _worker_id, action
from handloom.web.deps import PrincipalDep, StoreDep
from handloom.web.policies import authorize
from handloom.work.projects import get_project

router = APIRouter(prefix="/api/v1", tags=["pay"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Since = Annotated[date | None, Query(description="First day of the period (UTC), included.")]
Until = Annotated[date | None, Query(description="Last day of the period (UTC), included.")]
CSV_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}},
          "description": "The payroll, as JSON or as CSV with a header."}}


class FloorsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    floors: list[dict[str, Any]] = Field(
        min_length=1, max_length=10000,
        description="Rows with jurisdiction, currency, hourly (major units, e.g. \"7.25\"), "
                    "source, effective_date (YYYY-MM-DD), and optionally note and is_example.")
    source: str = Field("api", min_length=1, max_length=200,
                        description="A name for this import, kept on the ledger.")


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000,
                        description="Why the top-up is not paid; kept with it.")


# ------------------------------------------------------------------ statements
@router.get("/me/pay", responses=ERRORS, openapi_extra=action("pay.own"))
def my_pay(principal: PrincipalDep, store: StoreDep,
           project: Annotated[str | None, Query(max_length=120)] = None,
           since: Since = None, until: Until = None) -> dict[str, Any]:
    """Your own statement: what you earned per project (by kind), your time (active, paid,
    unpaid by reason), your effective hourly pay and the floor it is held to."""
    authorize(principal, "pay.own")
    worker_id = _worker_id(principal)
    start, end = pay.period(since, until)
    with store.read() as conn:
        project_id = None
        if project is not None:
            # An unknown name gives an empty statement: nothing about other projects leaks.
            project_id = conn.execute(select(projects.c.id).where(
                projects.c.name == project)).scalar() or -1
        return pay.statement(conn, worker_id, project_id=project_id, since=start, until=end)


@router.get("/workers/{ref}/pay", responses=ERRORS, openapi_extra=action("pay.read"))
def worker_statement(ref: Annotated[str, Path(max_length=200)], principal: PrincipalDep,
                     store: StoreDep, project: Annotated[str | None, Query(max_length=120)] = None,
                     since: Since = None, until: Until = None) -> dict[str, Any]:
    """A worker's statement, by the operator's reference for them (the same figures the
    worker sees)."""
    authorize(principal, "pay.read")
    start, end = pay.period(since, until)
    with store.read() as conn:
        worker_id = conn.execute(select(workers.c.id).where(workers.c.ref == ref)).scalar()
        if worker_id is None:
            raise NotFound(f"No worker {ref!r}.")
        project_id = get_project(conn, project).id if project is not None else None
        return pay.statement(conn, int(worker_id), project_id=project_id, since=start,
                             until=end)


# ------------------------------------------------------------------ a project's pay
@router.get("/projects/{name}/pay", responses=ERRORS, openapi_extra=action("pay.read"))
def project_pay(name: Annotated[str, Path(max_length=120)], principal: PrincipalDep,
                store: StoreDep) -> dict[str, Any]:
    """The project's pay in aggregate: money by kind, time paid and unpaid by reason,
    effective hourly pay, the floor check at today's measured time, workers below their
    floor (by pseudonym) and the top-ups waiting."""
    authorize(principal, "pay.read")
    with store.read() as conn:
        return pay.project_pay(conn, get_project(conn, name))


@router.get("/projects/{name}/pay/report", responses={**ERRORS, **CSV_OR_JSON},
            response_class=Response, openapi_extra=action("pay.read"))
def payroll_report(name: Annotated[str, Path(max_length=120)], principal: PrincipalDep,
                   store: StoreDep, format: Literal["csv", "json"] = "json",
                   reveal_refs: bool = False, since: Since = None,
                   until: Until = None) -> Response:
    """The payroll: one row per worker, the same figures as the workers' statements, whose
    totals they sum to. Workers by pseudonym; ``reveal_refs=true`` (owners and managers)
    names them by the operator's reference, and records on the ledger that it was asked."""
    authorize(principal, "pay.read")
    if reveal_refs:
        authorize(principal, "pay.reveal")
    start, end = pay.period(since, until)
    if reveal_refs:
        with store.write() as conn:
            report = pay.payroll(conn, get_project(conn, name), since=start, until=end,
                                 reveal_refs=True, actor=principal.actor)
    else:
        with store.read() as conn:
            report = pay.payroll(conn, get_project(conn, name), since=start, until=end)
    if format == "csv":
        return Response(pay.payroll_csv(report), media_type="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{name}-payroll.csv"'})
    return JSONResponse(report)


@router.get("/projects/{name}/pay/floor-check", responses=ERRORS,
            openapi_extra=action("pay.read"))
def floor_check(name: Annotated[str, Path(max_length=120)], principal: PrincipalDep,
                store: StoreDep) -> dict[str, Any]:
    """The check that opening the project would run now (nothing is changed): estimated
    effective pay against the floor of every jurisdiction it recruits from."""
    authorize(principal, "pay.read")
    with store.read() as conn:
        return pay.check_open(conn, get_project(conn, name)).to_dict()


@router.post("/projects/{name}/pay/check", responses=ERRORS, openapi_extra=action("pay.approve"))
def check_and_propose(name: Annotated[str, Path(max_length=120)], principal: PrincipalDep,
                      store: StoreDep) -> dict[str, Any]:
    """Check every worker's effective hourly pay against their floor now, and propose a
    top-up for each one below it (the proposals wait for a manager's approval)."""
    authorize(principal, "pay.approve")
    with store.write() as conn:
        project = get_project(conn, name)
        proposals = pay.propose_top_ups(conn, project, actor=principal.actor)
        breach = pay.check_floor_breach(conn, project).to_dict()
    return {"breach": breach, "proposed": proposals}


@router.get("/projects/{name}/top-ups", responses=ERRORS, openapi_extra=action("pay.read"))
def list_top_ups(name: Annotated[str, Path(max_length=120)], principal: PrincipalDep,
                 store: StoreDep,
                 status: Literal["proposed", "approved", "dismissed"] | None = None
                 ) -> list[dict[str, Any]]:
    """The project's top-ups, newest first (workers by pseudonym)."""
    authorize(principal, "pay.read")
    with store.read() as conn:
        return pay.list_top_ups(conn, get_project(conn, name), status=status)


@router.post("/projects/{name}/top-ups/{adjustment_id}/approve", responses=ERRORS,
             openapi_extra=action("pay.approve"))
def approve_top_up(name: Annotated[str, Path(max_length=120)], adjustment_id: Id,
                   principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Pay a proposed top-up (a pay event, on the ledger); a top-up is paid once."""
    authorize(principal, "pay.approve")
    with store.write() as conn:
        return pay.approve_top_up(conn, get_project(conn, name), adjustment_id,
                                  principal.user_id, principal.actor)


@router.post("/projects/{name}/top-ups/{adjustment_id}/dismiss", responses=ERRORS,
             openapi_extra=action("pay.approve"))
def dismiss_top_up(name: Annotated[str, Path(max_length=120)], adjustment_id: Id,
                   body: DismissIn, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Decide not to pay a proposed top-up, with a reason."""
    authorize(principal, "pay.approve")
    with store.write() as conn:
        return pay.dismiss_top_up(conn, get_project(conn, name), adjustment_id,
                                  principal.user_id, body.reason, principal.actor)


# ------------------------------------------------------------------ the floor table
@router.get("/pay/floors", responses=ERRORS, openapi_extra=action("pay.read"))
def list_floors(principal: PrincipalDep, store: StoreDep,
                on: Annotated[date | None, Query(description="In force on this day "
                                                 "(default today).")] = None
                ) -> list[dict[str, Any]]:
    """Every floor stored, each marked ``in_force`` on the day asked about."""
    authorize(principal, "pay.read")
    with store.read() as conn:
        return floors.list_floors(conn, on=on)


@router.post("/pay/floors", responses=ERRORS, openapi_extra=action("pay.floors"))
def import_floors(body: FloorsIn, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Import floors, all or nothing (an error names the row, counted from 1, and the
    field); rows with the same jurisdiction, currency and effective date are replaced."""
    authorize(principal, "pay.floors")
    with store.write() as conn:
        return floors.import_rows(conn, body.floors, source=body.source,
                                  actor=principal.actor).to_dict()


# -- disclosure: payouts (marking earned pay as paid out) --
class MarkPaidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    through: str | None = Field(None, min_length=1, max_length=40, description=(
        "Mark pay events created before this time: an ISO 8601 date-time (without a zone, "
        "UTC) or a date, meaning the end of that day (UTC). Default: now."))
    worker: str | None = Field(None, min_length=1, max_length=200, description=(
        "Only this worker's pay events, by the operator's reference for them."))


@router.post("/projects/{name}/pay/mark-paid", responses=ERRORS,
             openapi_extra=action("pay.mark_paid"))
def mark_paid(name: Annotated[str, Path(max_length=120)], body: MarkPaidIn,
              principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Record a payout: every pay event of the project not yet paid and created before
    ``through`` is marked paid now (for one worker, or all). Returns how many, the net
    total and the cut-off; the payout is on the ledger (``pay.paid_out``)."""
    authorize(principal, "pay.mark_paid")
    through = None if body.through is None else payouts.parse_through(body.through)
    with store.write() as conn:
        project = get_project(conn, name)
        worker_id = None
        if body.worker is not None:
            worker_id = conn.execute(select(workers.c.id).where(
                workers.c.ref == body.worker)).scalar()
            if worker_id is None:
                raise NotFound(f"No worker {body.worker!r}.", field="worker")
        return payouts.mark_paid(conn, project, through=through, worker_id=worker_id,
                                 actor=principal.actor)
