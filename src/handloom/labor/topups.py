"""While a project runs: each worker's effective hourly pay against their floor, top-ups
proposed for those below it and decided by a manager, and the project's pay in aggregate
for its managers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Conflict, Invalid, NotFound
from handloom.labor.earnings import (
    KINDS,
    SECONDS_PER_HOUR,
    Figures,
    collect,
    due_for_time,
    floor_dict,
    money,
    per_hour,
    round_half_up,
    seconds_text,
    time_dict,
    worker_floor,
)
from handloom.labor.floor_check import check_open, measured_median
from handloom.labor.floors import Floor
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.fastsql import Sql
from handloom.store.schema import (
    ledger_events,
    pay_adjustments,
    pay_events,
    projects,
    workers,
)
from handloom.work.projects import from_minor_units


# ------------------------------------------------------------------ while it runs: top-ups
@dataclass(frozen=True)
class WorkerFloorCheck:
    """One worker's pay in a project (all time) against the floor they are held to."""

    worker_id: int
    who: str  # pseudonym in the project
    floor: Floor | None
    earned_minor: int  # every pay event, approved top-ups included
    top_ups_minor: int
    seconds: Fraction
    effective_hourly_minor: int | None
    due_minor: int | None  # what the time must earn at the floor (rounded up)

    @property
    def shortfall_minor(self) -> int:
        if self.due_minor is None:
            return 0
        return max(self.due_minor - self.earned_minor, 0)

    def to_dict(self, currency: str) -> dict[str, Any]:
        return {"worker": self.who, "floor": floor_dict(self.floor),
                "earned_minor": self.earned_minor, "earned": from_minor_units(
                    self.earned_minor, currency),
                "top_ups_minor": self.top_ups_minor,
                "seconds": float(round(self.seconds, 3)),
                "effective_hourly_minor": self.effective_hourly_minor,
                "effective_hourly": (None if self.effective_hourly_minor is None
                                     else from_minor_units(self.effective_hourly_minor,
                                                           currency)),
                "due_minor": self.due_minor, "shortfall_minor": self.shortfall_minor,
                "shortfall": from_minor_units(self.shortfall_minor, currency),
                "below_floor": self.shortfall_minor > 0}


@dataclass(frozen=True)
class BreachCheck:
    """The measured median now against the estimate used at open, and every worker's pay
    against their floor; ``below`` are those owed a top-up."""

    project: str
    currency: str
    median_seconds: Fraction | None
    answers_measured: int
    estimate_seconds: Fraction | None
    estimate_basis: str | None
    workers: tuple[WorkerFloorCheck, ...]

    @property
    def below(self) -> list[WorkerFloorCheck]:
        return [w for w in self.workers if w.shortfall_minor > 0]

    @property
    def median_rose(self) -> bool:
        return (self.median_seconds is not None and self.estimate_seconds is not None
                and self.median_seconds > self.estimate_seconds)

    def message(self) -> str:
        below = self.below
        if not below:
            return "Every worker's effective hourly pay meets their floor."
        owed = sum(w.shortfall_minor for w in below)
        median = ""
        if self.median_rose:
            median = (f" The measured median is {seconds_text(self.median_seconds)} s per item "
                      f"against the {seconds_text(self.estimate_seconds)} s the project "
                      "opened with.")
        return (f"{len(below)} worker(s) earn less than their floor an hour; top-ups of "
                f"{money(owed, self.currency)} in all would bring them up to it.{median}")

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "currency": self.currency,
                "median_seconds": seconds_text(self.median_seconds),
                "answers_measured": self.answers_measured,
                "estimate_seconds": seconds_text(self.estimate_seconds),
                "estimate_basis": self.estimate_basis, "median_rose": self.median_rose,
                "alert": bool(self.below), "message": self.message(),
                "below": [w.to_dict(self.currency) for w in self.below],
                "workers": [w.to_dict(self.currency) for w in self.workers]}


def floor_alert(conn: Connection, project: Any) -> str | None:
    """The alert for a project's managers when anyone in it earns below their floor (for
    banners on project pages), or None."""
    breach = check_floor_breach(conn, project)
    return breach.message() if breach.below else None


def estimate_at_open(conn: Connection, project: Any) -> tuple[Fraction | None, str | None]:
    """The seconds per item the project's latest opening was checked with (from the floor
    check on the ledger), else its estimate."""
    bodies = conn.execute(
        select(ledger_events.c.body).where(
            ledger_events.c.project_id == project.id,
            ledger_events.c.event.in_(("project.status_changed", "project.created")))
        .order_by(ledger_events.c.seq.desc()).limit(50)).scalars()
    for raw in bodies:
        body = Sql.load(raw) or {}
        check = body.get("floor_check") if isinstance(body, dict) else None
        if isinstance(check, dict) and check.get("seconds_per_item"):
            return Fraction(str(check["seconds_per_item"])), check.get("basis")
    if project.est_seconds_per_item:
        return Fraction(int(project.est_seconds_per_item)), "estimate"
    return None, None


def check_floor_breach(conn: Connection, project: Any, *, on: date | None = None) -> BreachCheck:
    """Read-only: each worker's effective hourly pay in the project (all their time, paid
    and unpaid) against the floor they are held to (:func:`worker_floor`), and the measured
    median time per item against the estimate used at open."""
    figures = collect(conn, project_id=project.id)
    ids = [wid for _pid, wid in figures]
    places = {int(r.id): r.jurisdiction for r in conn.execute(
        select(workers.c.id, workers.c.jurisdiction).where(workers.c.id.in_(ids)))} if ids else {}
    cache: dict[str, Floor | None] = {}
    rows = []
    for (_pid, wid), f in sorted(figures.items()):
        place = (places.get(wid) or "").upper()
        if place not in cache:
            cache[place] = worker_floor(conn, project, place or None, on)
        floor = cache[place]
        seconds = f.active_seconds
        rows.append(WorkerFloorCheck(
            wid, pseudonym(project.pseudonym_secret, wid), floor, f.total,
            f.amounts.get("top_up", 0), seconds, per_hour(f.total, seconds),
            None if floor is None else due_for_time(floor.hourly_minor, seconds)))
    median, n = measured_median(conn, project.id)
    estimate, basis = estimate_at_open(conn, project)
    return BreachCheck(project.name, project.currency, median, n, estimate, basis, tuple(rows))


def _adjustment_dict(row: Any, project: Any) -> dict[str, Any]:
    basis = Sql.load(row.basis) or {}
    return {"id": int(row.id), "worker": pseudonym(project.pseudonym_secret, int(row.worker_id)),
            "amount_minor": int(row.amount_minor),
            "amount": from_minor_units(int(row.amount_minor), row.currency),
            "currency": row.currency, "reason": row.reason, "basis": basis,
            "status": row.status, "computed_at": as_utc(row.computed_at).isoformat(),
            "decided_at": as_utc(row.decided_at).isoformat() if row.decided_at else None,
            "pay_event": row.pay_event_id}


def list_top_ups(conn: Connection, project: Any, *,
                 status: str | None = None) -> list[dict[str, Any]]:
    """The project's top-ups, newest first (workers by pseudonym)."""
    query = select(pay_adjustments).where(pay_adjustments.c.project_id == project.id)
    if status is not None:
        query = query.where(pay_adjustments.c.status == status)
    rows = conn.execute(query.order_by(pay_adjustments.c.id.desc())).all()
    return [_adjustment_dict(r, project) for r in rows]


def _dismiss(conn: Connection, project: Any, row: Any, *, reason: str, user_id: int | None,
             actor: str) -> None:
    basis = {**(Sql.load(row.basis) or {}), "dismissal_reason": reason}
    changed = conn.execute(pay_adjustments.update().where(
        pay_adjustments.c.id == row.id, pay_adjustments.c.status == "proposed").values(
        status="dismissed", decided_by=user_id, decided_at=utcnow(), basis=basis)).rowcount
    if not changed:
        raise Conflict(f"Top-up {row.id} is no longer proposed; reload and look again.")
    ledger.append(conn, "pay.top_up_dismissed", actor=actor, project_id=project.id,
                  body={"adjustment": int(row.id), "worker": int(row.worker_id),
                        "amount_minor": int(row.amount_minor), "currency": row.currency,
                        "reason": reason})


def propose_top_up(conn: Connection, project: Any, worker_id: int, amount_minor: int, *,
                   reason: str, basis: dict[str, Any], actor: str) -> int:
    """Record one top-up proposal for a worker (waiting for a manager's decision); an older
    proposal of theirs still waiting is superseded (dismissed, naming the new one). A
    ``pay.top_up_proposed`` ledger event; returns the new proposal's id."""
    if amount_minor <= 0:
        raise Invalid("A top-up must be more than zero.", field="amount")
    older = conn.execute(select(pay_adjustments).where(
        pay_adjustments.c.project_id == project.id, pay_adjustments.c.worker_id == worker_id,
        pay_adjustments.c.status == "proposed").order_by(pay_adjustments.c.id)).all()
    adjustment_id = inserted_id(conn.execute(pay_adjustments.insert().values(
        project_id=project.id, worker_id=worker_id, amount_minor=amount_minor,
        currency=project.currency, reason=reason[:2000], basis=basis, status="proposed",
        computed_at=utcnow())))
    for row in older:
        _dismiss(conn, project, row, reason=f"superseded by top-up {adjustment_id}",
                 user_id=None, actor=actor)
    ledger.append(conn, "pay.top_up_proposed", actor=actor, project_id=project.id,
                  body={"adjustment": adjustment_id, "worker": worker_id,
                        "amount_minor": amount_minor, "currency": project.currency,
                        "supersedes": [int(r.id) for r in older], "basis": basis})
    return adjustment_id


def propose_top_ups(conn: Connection, project: Any, *, actor: str) -> list[dict[str, Any]]:
    """Compute a top-up for every worker now below their floor: the pay their time is due at
    the floor (rounded up) less everything they have earned, approved top-ups included.

    A worker's older proposal still waiting is superseded (dismissed, with the reason); one
    for the same amount is kept as it is; one for a worker no longer below is dismissed as
    no longer due. Each new proposal is a ``pay.top_up_proposed`` ledger event. Returns the
    proposals now waiting for a decision.
    """
    breach = check_floor_breach(conn, project)
    waiting: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(select(pay_adjustments).where(
            pay_adjustments.c.project_id == project.id, pay_adjustments.c.status == "proposed")
            .order_by(pay_adjustments.c.id)):
        waiting[int(row.worker_id)].append(row)
    below_ids = set()
    for w in breach.below:
        below_ids.add(w.worker_id)
        older = waiting.get(w.worker_id, [])
        if len(older) == 1 and int(older[0].amount_minor) == w.shortfall_minor:
            continue
        floor = w.floor
        assert floor is not None
        basis = {
            "floor_jurisdiction": floor.jurisdiction, "floor_minor": floor.hourly_minor,
            "floor_source": floor.source, "floor_effective_date": floor.effective_date,
            "floor_is_example": floor.is_example, "seconds": seconds_text(w.seconds),
            "earned_minor": w.earned_minor, "top_ups_minor": w.top_ups_minor,
            "due_minor": w.due_minor, "effective_hourly_minor": w.effective_hourly_minor,
            "median_seconds": seconds_text(breach.median_seconds),
            "estimate_seconds": seconds_text(breach.estimate_seconds),
            "estimate_basis": breach.estimate_basis,
        }
        hours = Decimal(round_half_up(w.seconds * 100 / SECONDS_PER_HOUR)) / 100
        c = project.currency
        reason = (f"Effective pay {money(w.effective_hourly_minor, c)} an hour over {hours} "
                  f"hours of work (paid and unpaid) is below the {floor.jurisdiction} floor of "
                  f"{money(floor.hourly_minor, c)} an hour; the time is due "
                  f"{money(w.due_minor, c)} and has earned {money(w.earned_minor, c)}.")
        propose_top_up(conn, project, w.worker_id, w.shortfall_minor, reason=reason,
                       basis=basis, actor=actor)
    for worker_id, rows in waiting.items():
        if worker_id not in below_ids:
            for row in rows:
                _dismiss(conn, project, row, user_id=None, actor=actor,
                         reason="no longer due: the worker's pay now meets the floor")
    return list_top_ups(conn, project, status="proposed")


def _adjustment(conn: Connection, project: Any, adjustment_id: int) -> Any:
    query = select(pay_adjustments).where(pay_adjustments.c.id == adjustment_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None or int(row.project_id) != int(project.id):
        raise NotFound(f"No top-up {adjustment_id} in project {project.name!r}.")
    return row


def project_of_adjustment(conn: Connection, adjustment_id: int) -> Any:
    """The project row a top-up belongs to (for commands given only the top-up's id)."""
    pid = conn.execute(select(pay_adjustments.c.project_id)
                       .where(pay_adjustments.c.id == adjustment_id)).scalar()
    if pid is None:
        raise NotFound(f"No top-up {adjustment_id}. List them with `handloom pay top-ups`.")
    return conn.execute(select(projects).where(projects.c.id == pid)).first()


def approve_top_up(conn: Connection, project: Any, adjustment_id: int, user_id: int | None,
                   actor: str) -> dict[str, Any]:
    """Pay a proposed top-up: a ``top_up`` pay event, the proposal marked approved, and a
    ``pay.top_up_approved`` ledger event. A top-up is never paid twice (Conflict)."""
    row = _adjustment(conn, project, adjustment_id)
    if row.status != "proposed":
        raise Conflict(f"Top-up {adjustment_id} was already {row.status}; it cannot be "
                       "approved again.")
    now = utcnow()
    event_id = inserted_id(conn.execute(pay_events.insert().values(
        project_id=project.id, worker_id=row.worker_id, kind="top_up",
        amount_minor=row.amount_minor, currency=row.currency,
        reason=f"top-up {adjustment_id}: {row.reason}"[:2000], approved_by=user_id,
        created_at=now)))
    changed = conn.execute(pay_adjustments.update().where(
        pay_adjustments.c.id == adjustment_id, pay_adjustments.c.status == "proposed").values(
        status="approved", decided_by=user_id, decided_at=now, pay_event_id=event_id)).rowcount
    if not changed:
        raise Conflict(f"Top-up {adjustment_id} was decided meanwhile; it cannot be approved "
                       "again.")
    ledger.append(conn, "pay.top_up_approved", actor=actor, project_id=project.id,
                  body={"adjustment": adjustment_id, "pay_event": event_id,
                        "worker": int(row.worker_id), "amount_minor": int(row.amount_minor),
                        "currency": row.currency, "approved_by": user_id})
    return _adjustment_dict(_adjustment(conn, project, adjustment_id), project)


def dismiss_top_up(conn: Connection, project: Any, adjustment_id: int, user_id: int | None,
                   reason: str, actor: str) -> dict[str, Any]:
    """Decide not to pay a proposed top-up, with a reason (kept with it and on the ledger)."""
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why the top-up is dismissed; the reason is kept with it.",
                      field="reason")
    if len(reason) > 2000:
        raise Invalid("A reason may have at most 2000 characters.", field="reason")
    row = _adjustment(conn, project, adjustment_id)
    if row.status != "proposed":
        raise Conflict(f"Top-up {adjustment_id} was already {row.status}.")
    _dismiss(conn, project, row, reason=reason, user_id=user_id, actor=actor)
    return _adjustment_dict(_adjustment(conn, project, adjustment_id), project)


# ------------------------------------------------------------------ for managers
def project_pay(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's pay in aggregate for its managers: money by kind, time (paid and unpaid
    by reason), effective hourly pay, the floor check at today's measured time, who is
    below their floor, and the top-ups waiting."""
    figures = collect(conn, project_id=project.id)
    whole = Figures(project.id, 0)
    for f in figures.values():
        for kind, amount in f.amounts.items():
            whole.amounts[kind] = whole.amounts.get(kind, 0) + amount
        whole.answers += f.answers
        whole.answers_paid += f.answers_paid
        whole.answers_without_time += f.answers_without_time
        for reason, seconds in f.paid.items():
            whole.add_time(True, reason, seconds)
        for reason, seconds in f.unpaid.items():
            whole.add_time(False, reason, seconds)
    c = project.currency
    hourly = per_hour(whole.total, whole.active_seconds)
    breach = check_floor_breach(conn, project)
    proposed = list_top_ups(conn, project, status="proposed")
    approved = conn.execute(select(func.count(), func.coalesce(func.sum(
        pay_adjustments.c.amount_minor), 0)).where(
        pay_adjustments.c.project_id == project.id,
        pay_adjustments.c.status == "approved")).first()
    return {
        "project": project.name, "title": project.title, "currency": c,
        "pay_model": project.pay_model, "workers": len(figures),
        "answers": whole.answers, "answers_paid": whole.answers_paid,
        "answers_without_time": whole.answers_without_time,
        "amounts_minor": {k: whole.amounts.get(k, 0) for k in KINDS},
        "amounts": {k: from_minor_units(whole.amounts.get(k, 0), c) for k in KINDS},
        "total_minor": whole.total, "total": from_minor_units(whole.total, c),
        "time": time_dict(whole),
        "effective_hourly_minor": hourly,
        "effective_hourly": None if hourly is None else from_minor_units(hourly, c),
        "floor_check": check_open(conn, project).to_dict(),
        "breach": breach.to_dict(),
        "top_ups": {"proposed": proposed,
                    "approved_count": int(approved[0]) if approved else 0,
                    "approved_minor": int(approved[1]) if approved else 0,
                    "approved": from_minor_units(int(approved[1]) if approved else 0, c)},
    }
