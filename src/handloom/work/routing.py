"""Routing, the hot path: lease the next item to a worker, take it back on skip, release
or expiry.

Guarantees, held by the database as well as by this code:
- never more live leases plus answers per item than the project's overlap (item counters are
  changed only under the item's row lock: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the one
  writer on SQLite);
- never the same item twice to one worker (a unique index on assignments);
- never an item of a category the worker opted out of;
- gold items mixed in at the project's rate, exactly (the n-th lease is gold when
  ``floor(n * rate)`` exceeds the gold served so far); gold does not count toward overlap;
- expired leases returned to the pool before a new lease is chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select

from handloom import ledger
from handloom.errors import Conflict, Forbidden, NotFound
from handloom.store.db import as_utc, utcnow
from handloom.store.schema import assignments, instruction_versions, items, workers

CANDIDATE_BATCH = 16
EXPIRE_BATCH = 500


@dataclass(frozen=True)
class Lease:
    assignment_id: int
    item_id: int
    external_id: str
    payload: dict[str, Any]
    sensitivity: list[str]
    instruction_version: int
    leased_at: datetime
    expires_at: datetime
    resumed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment_id": self.assignment_id,
            "item": {"id": self.external_id, "payload": self.payload,
                     "sensitivity": self.sensitivity},
            "instruction_version": self.instruction_version,
            "leased_at": self.leased_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "resumed": self.resumed,
        }


def _worker_row(conn: Connection, worker_id: int) -> Any:
    query = select(workers.c.id, workers.c.qualifications, workers.c.opt_outs,
                   workers.c.active).where(workers.c.id == worker_id)
    if conn.dialect.name == "postgresql":
        # Serialise one worker's own concurrent requests (two open tabs); others run freely.
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"No worker with id {worker_id}.")
    return row


def check_eligible(project: Any, worker: Any) -> None:
    if not worker.active:
        raise Forbidden("This worker account is inactive.")
    if project.status != "open":
        raise Conflict(f"Project {project.name!r} is {project.status}, not open for work.",
                       hint="A manager can open it with `handloom project open`.")
    missing = sorted(set(project.required_qualifications or []) - set(worker.qualifications or []))
    if missing:
        raise Forbidden(f"Project {project.name!r} requires the qualification(s) "
                        f"{', '.join(missing)}, which this worker does not hold.")


def expire_leases(conn: Connection, project: Any, now: datetime) -> int:
    """Return leases past their expiry to the pool; one ledger event per lease."""
    stale = conn.execute(
        select(assignments.c.id, assignments.c.item_id, assignments.c.worker_id,
               assignments.c.is_gold)
        .where(assignments.c.project_id == project.id, assignments.c.status == "leased",
               assignments.c.expires_at < now)
        .limit(EXPIRE_BATCH)
    ).all()
    if not stale:
        return 0
    events = []
    for row in stale:
        done = conn.execute(
            assignments.update()
            .where(assignments.c.id == row.id, assignments.c.status == "leased")
            .values(status="expired", closed_at=now)
        ).rowcount
        if not done:
            continue
        if not row.is_gold:
            conn.execute(items.update().where(items.c.id == row.item_id).values(
                leased=items.c.leased - 1, full=False))
        events.append(("assignment.expired", "system", project.id,
                       {"assignment": row.id, "item": row.item_id, "worker": row.worker_id}))
    if events:
        ledger.append_many(conn, events)
    return len(events)


def _current_version(conn: Connection, project_id: int) -> int:
    version = conn.execute(select(func.max(instruction_versions.c.version))
                           .where(instruction_versions.c.project_id == project_id)).scalar()
    return int(version or 0)


def _open_lease(conn: Connection, project_id: int, worker_id: int, now: datetime) -> Any:
    return conn.execute(
        select(assignments.c.id, assignments.c.item_id, assignments.c.leased_at,
               assignments.c.expires_at, assignments.c.instruction_version)
        .where(assignments.c.worker_id == worker_id, assignments.c.project_id == project_id,
               assignments.c.status == "leased", assignments.c.expires_at >= now)
        .order_by(assignments.c.id).limit(1)
    ).first()


def _gold_due(conn: Connection, project: Any, worker_id: int) -> bool:
    if project.gold_rate <= 0:
        return False
    total, gold = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((assignments.c.is_gold, 1), else_=0)), 0))
        .where(assignments.c.worker_id == worker_id, assignments.c.project_id == project.id)
    ).one()
    return math.floor((int(total) + 1) * project.gold_rate + 1e-9) > int(gold)


def _pick(conn: Connection, project: Any, worker: Any, *, gold: bool) -> Any:
    """Lock and return the best item with room for this worker, or None."""
    already = exists().where(assignments.c.item_id == items.c.id,
                             assignments.c.worker_id == worker.id)
    conds = [items.c.project_id == project.id, items.c.is_gold.is_(gold), ~already]
    if not gold:
        conds.append(items.c.full.is_(False))
    opted_out = set(worker.opt_outs or [])
    offset = 0
    while True:
        query = (select(items.c.id, items.c.external_id, items.c.payload, items.c.sensitivity,
                        items.c.answers, items.c.leased)
                 .where(and_(*conds))
                 .order_by(items.c.priority.desc(), items.c.id)
                 .limit(CANDIDATE_BATCH).offset(offset))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=items)
        rows = conn.execute(query).all()
        for row in rows:
            if opted_out and opted_out.intersection(row.sensitivity or []):
                continue
            if not gold and row.answers + row.leased >= project.overlap:
                continue
            return row
        if len(rows) < CANDIDATE_BATCH:
            return None
        offset += CANDIDATE_BATCH


def next_item(conn: Connection, project: Any, worker_id: int, *,
              now: datetime | None = None) -> Lease | None:
    """Lease the next item to a worker (or hand back the lease it already holds)."""
    now = now or utcnow()
    worker = _worker_row(conn, worker_id)
    check_eligible(project, worker)
    expire_leases(conn, project, now)

    held = _open_lease(conn, project.id, worker_id, now)
    if held is not None:
        item = conn.execute(select(items.c.external_id, items.c.payload, items.c.sensitivity)
                            .where(items.c.id == held.item_id)).one()
        return Lease(held.id, held.item_id, item.external_id, item.payload, item.sensitivity,
                     held.instruction_version, as_utc(held.leased_at), as_utc(held.expires_at),
                     resumed=True)

    row = None
    is_gold = False
    if _gold_due(conn, project, worker_id):
        row = _pick(conn, project, worker, gold=True)
        is_gold = row is not None
    if row is None:
        row = _pick(conn, project, worker, gold=False)
    if row is None:
        return None

    version = _current_version(conn, project.id)
    expires = now + timedelta(seconds=project.lease_seconds)
    assignment_id = int(conn.execute(assignments.insert().values(
        project_id=project.id, item_id=row.id, worker_id=worker_id, status="leased",
        is_gold=is_gold, instruction_version=version, leased_at=now, expires_at=expires,
    )).inserted_primary_key[0])
    if not is_gold:
        conn.execute(items.update().where(items.c.id == row.id).values(
            leased=items.c.leased + 1,
            full=(row.answers + row.leased + 1) >= project.overlap))
    ledger.append(conn, "assignment.leased", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"assignment": assignment_id, "item": row.id, "worker": worker_id,
                        "instruction_version": version, "expires_at": expires.isoformat()})
    return Lease(assignment_id, row.id, row.external_id, row.payload, row.sensitivity, version,
                 now, expires, resumed=False)


def _own_assignment(conn: Connection, project: Any, worker_id: int, assignment_id: int) -> Any:
    row = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).first()
    if row is None or row.worker_id != worker_id or row.project_id != project.id:
        # Another worker's assignment is reported as absent, not as forbidden: ids leak nothing.
        raise NotFound(f"No assignment {assignment_id} of yours in project {project.name!r}.")
    return row


def close_lease(conn: Connection, project: Any, worker_id: int, assignment_id: int, *,
                status: str, reason: str | None = None, now: datetime | None = None) -> None:
    """Skip (the worker will not see the item again) or release (hand it back unanswered)."""
    assert status in ("skipped", "released")
    now = now or utcnow()
    row = _own_assignment(conn, project, worker_id, assignment_id)
    if row.status == status:
        return  # a retried skip or release changes nothing
    if row.status not in ("leased", "expired"):
        raise Conflict(f"Assignment {assignment_id} is already {row.status}.")
    conn.execute(assignments.update().where(assignments.c.id == assignment_id)
                 .values(status=status, closed_at=now, skip_reason=reason))
    if row.status == "leased" and not row.is_gold:
        conn.execute(items.update().where(items.c.id == row.item_id).values(
            leased=items.c.leased - 1, full=False))
    ledger.append(conn, f"assignment.{status}", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  body={"assignment": assignment_id, "item": row.item_id, "worker": worker_id,
                        "reason": reason or ""})

