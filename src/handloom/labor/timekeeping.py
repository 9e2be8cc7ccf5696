"""Time that is work but yields no label: reading instructions, skipped items and the like.

Each entry is a row in ``time_entries`` with its reason. A worker's work time in a project
is the active seconds of their answers plus all of these entries; effective hourly pay
(:mod:`handloom.labor.pay`) divides earnings by all of it, not only by the time spent on
accepted answers. In an hourly project an entry with a paid reason earns the hourly rate in
the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.errors import Invalid
from handloom.labor import pay
from handloom.store.db import inserted_id, utcnow
from handloom.store.schema import time_entries

REASONS = ("instructions", "qualification", "skipped", "rejected", "appeal", "wellbeing")
MAX_ENTRY_SECONDS = 4 * 3600


def record(conn: Connection, project_id: int, worker_id: int, reason: str, seconds: float,
           *, ref_id: int | None = None) -> int:
    """Record *seconds* of work for *reason* (and, in an hourly project with a paid
    reason, its pay); returns the entry's id."""
    if reason not in REASONS:
        raise Invalid(f"Unknown time reason {reason!r}.", field="reason")
    if not (0 <= seconds <= MAX_ENTRY_SECONDS):
        raise Invalid("Seconds must be between 0 and 14400.", field="seconds")
    entry = inserted_id(conn.execute(time_entries.insert().values(
        project_id=project_id, worker_id=worker_id, reason=reason, seconds=float(seconds),
        ref_id=ref_id, recorded_at=utcnow())))
    ledger.append(conn, "time.recorded", actor=f"worker:{worker_id}", project_id=project_id,
                  body={"entry": entry, "reason": reason, "seconds": round(seconds, 3),
                        "ref": ref_id})
    pay.record_time_pay(conn, project_id, worker_id, entry, reason, float(seconds))
    return entry


def summary(conn: Connection, worker_id: int, project_id: int | None = None,
            since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """A worker's work time (``since`` inclusive, ``until`` exclusive): active seconds (the
    answers' measured time plus every time entry), paid and unpaid seconds, each by reason.

    Time is paid when it earned something: an answer with pay left on it after any
    clawback, an entry that earned the hourly rate. Unpaid reasons are the entries' reasons,
    ``rejected`` for rejected answers whose pay was taken back, ``qualification`` for test
    answers the project does not pay, and ``answers`` for answers that earned nothing (no
    rate, or no measured time in an hourly project).
    """
    figures = pay.collect(conn, worker_id=worker_id, project_id=project_id, since=since,
                          until=until)
    paid: dict[str, Fraction] = {}
    unpaid: dict[str, Fraction] = {}
    for f in figures.values():
        for bucket, source in ((paid, f.paid), (unpaid, f.unpaid)):
            for reason, seconds in source.items():
                bucket[reason] = bucket.get(reason, Fraction(0)) + seconds

    def total(bucket: dict[str, Fraction]) -> float:
        return float(round(sum(bucket.values(), Fraction(0)), 3))

    return {
        "active_seconds": float(round(sum(paid.values(), Fraction(0))
                                      + sum(unpaid.values(), Fraction(0)), 3)),
        "paid_seconds": total(paid), "unpaid_seconds": total(unpaid),
        "paid_by_reason": {r: float(round(paid[r], 3)) for r in pay.TIME_REASONS if r in paid},
        "unpaid_by_reason": {r: float(round(unpaid[r], 3)) for r in pay.TIME_REASONS
                             if r in unpaid},
    }


def last_read_instructions(conn: Connection, project_id: int, worker_id: int) -> int:
    """The newest instruction version this worker has opened (0 if none)."""
    version = conn.execute(select(func.max(time_entries.c.ref_id)).where(
        time_entries.c.project_id == project_id, time_entries.c.worker_id == worker_id,
        time_entries.c.reason == "instructions")).scalar()
    return int(version or 0)


def read_instructions(conn: Connection, project: Any, worker_id: int, version: int,
                      seconds: float) -> int:
    if not (1 <= version <= project.instruction_version):
        raise Invalid(f"Instruction version {version} does not exist.", field="version")
    return record(conn, project.id, worker_id, "instructions", seconds, ref_id=version)
