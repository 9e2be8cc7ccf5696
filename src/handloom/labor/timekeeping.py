"""Time that is work but yields no label: reading instructions, skipped items and the like.

Each entry is a row in ``time_entries`` with its reason; effective hourly pay (a later
milestone) divides earnings by all of it, not only by time spent on accepted answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.errors import Invalid
from handloom.store.db import inserted_id, utcnow
from handloom.store.schema import time_entries

REASONS = ("instructions", "qualification", "skipped", "rejected", "appeal", "wellbeing")
MAX_ENTRY_SECONDS = 4 * 3600


def record(conn: Connection, project_id: int, worker_id: int, reason: str, seconds: float,
           *, ref_id: int | None = None) -> int:
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
    return entry


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
