"""Payouts: marking earned pay as paid out, and what is paid and still owed.

Pay events (:mod:`handloom.labor.earnings`) record what a worker earned when they earned
it; ``paid_at`` records when the operator paid it out. :func:`mark_paid` stamps every unpaid
event of a project created before a cut-off (for one worker, or all) with one payout time
and writes ``pay.paid_out`` on the ledger. Statements show paid and owed from the same
events, and the transparency report reads payment timeliness (days from earning to payout)
from them.

A clawback or restoration is an event like any other: it is paid out (deducted, or added)
with the next payout after it, so what is "owed" is always the sum of the events not yet
marked paid, and can be negative when a clawback follows a payout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from handloom import ledger
from handloom.errors import Invalid
from handloom.store.db import as_utc, utcnow
from handloom.store.schema import pay_events
from handloom.work.projects import from_minor_units


def parse_through(text: str) -> datetime:
    """A payout cut-off from ISO text: a date means the end of that day (UTC), so that
    ``2025-01-31`` includes the whole of 31 January; a date-time without a zone is UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"through {text!r} is neither a date (YYYY-MM-DD) nor an ISO date-time "
                      "(YYYY-MM-DDTHH:MM[:SS][+00:00]).", field="through") from None
    return as_utc(moment).astimezone(UTC)


def mark_paid(conn: Connection, project: Any, *, through: datetime | None = None,
              worker_id: int | None = None, actor: str) -> dict[str, Any]:
    """Mark every unpaid pay event of *project* created before *through* (default: now;
    a later time counts as now) as paid now, for one worker or all, and record the payout
    (``pay.paid_out``: how many events, the net total in minor units, the currency, the
    cut-off). Returns the same figures. A payout with nothing to mark writes nothing."""
    now = utcnow()
    cutoff = now if through is None else min(as_utc(through).astimezone(UTC), now)
    pe = pay_events.c
    cond = [pe.project_id == project.id, pe.paid_at.is_(None), pe.created_at < cutoff]
    if worker_id is not None:
        cond.append(pe.worker_id == worker_id)
    # One statement marks and reports the rows it marked, so two payouts running at once
    # never both count the same event.
    marked = conn.execute(update(pay_events).where(*cond).values(paid_at=now)
                          .returning(pe.id, pe.worker_id, pe.amount_minor)).all()
    total = sum(int(r.amount_minor) for r in marked)
    workers = len({int(r.worker_id) for r in marked})
    result = {
        "project": project.name, "count": len(marked), "workers": workers,
        "total_minor": total, "total": from_minor_units(total, project.currency),
        "currency": project.currency, "through": cutoff.isoformat(),
        "paid_at": now.isoformat() if marked else None, "worker_id": worker_id,
    }
    if marked:
        ledger.append(conn, "pay.paid_out", actor=actor, project_id=project.id,
                      body={"project": project.id, "count": len(marked), "workers": workers,
                            "total_minor": total, "currency": project.currency,
                            "through": cutoff.isoformat(), "worker": worker_id})
    return result


@dataclass
class Paid:
    """What has been paid out of one worker's earnings in one project, and when last."""

    paid_minor: int = 0
    unpaid_events: int = 0
    last_paid_at: datetime | None = None


def paid_figures(conn: Connection, *, worker_id: int | None = None,
                 project_id: int | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> dict[tuple[int, int], Paid]:
    """Per (project, worker): the amount of the pay events (created in the period) already
    paid out, how many events are not, and the latest payout."""
    pe = pay_events.c
    cond = []
    if worker_id is not None:
        cond.append(pe.worker_id == worker_id)
    if project_id is not None:
        cond.append(pe.project_id == project_id)
    if since is not None:
        cond.append(pe.created_at >= since)
    if until is not None:
        cond.append(pe.created_at < until)
    paid = pe.paid_at.isnot(None)
    out: dict[tuple[int, int], Paid] = {}
    for row in conn.execute(
            select(pe.project_id, pe.worker_id, paid.label("paid"),
                   func.coalesce(func.sum(pe.amount_minor), 0), func.count(),
                   func.max(pe.paid_at))
            .where(*cond).group_by(pe.project_id, pe.worker_id, paid)):
        figures = out.setdefault((int(row[0]), int(row[1])), Paid())
        if row[2]:
            figures.paid_minor += int(row[3])
            figures.last_paid_at = as_utc(row[5]) if row[5] is not None else None
        else:
            figures.unpaid_events += int(row[4])
    return out


def payout_dict(total_minor: int, paid: Paid | None, currency: str) -> dict[str, Any]:
    """Paid and owed, for a statement entry whose earnings total *total_minor*."""
    paid = paid or Paid()
    owed = total_minor - paid.paid_minor
    return {"paid_minor": paid.paid_minor, "paid": from_minor_units(paid.paid_minor, currency),
            "owed_minor": owed, "owed": from_minor_units(owed, currency),
            "last_paid_at": paid.last_paid_at.isoformat() if paid.last_paid_at else None}


def project_payouts(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's payouts for its managers: paid out so far, still owed, the number of
    unpaid events and workers they belong to, the oldest unpaid event and the last payout."""
    pe = pay_events.c
    row = conn.execute(
        select(func.coalesce(func.sum(pe.amount_minor).filter(pe.paid_at.isnot(None)), 0),
               func.coalesce(func.sum(pe.amount_minor).filter(pe.paid_at.is_(None)), 0),
               func.count().filter(pe.paid_at.is_(None)),
               func.count(func.distinct(pe.worker_id)).filter(pe.paid_at.is_(None)),
               func.min(pe.created_at).filter(pe.paid_at.is_(None)),
               func.max(pe.paid_at))
        .where(pe.project_id == project.id)).one()
    paid, owed, events, workers, oldest, last = row
    c = project.currency
    return {"currency": c, "paid_minor": int(paid), "paid": from_minor_units(int(paid), c),
            "owed_minor": int(owed), "owed": from_minor_units(int(owed), c),
            "unpaid_events": int(events), "unpaid_workers": int(workers),
            "oldest_unpaid": as_utc(oldest).isoformat() if oldest else None,
            "last_paid_at": as_utc(last).isoformat() if last else None}
