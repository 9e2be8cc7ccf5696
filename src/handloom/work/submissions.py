"""Submissions: store a worker's answer durably, exactly once.

The client sends an idempotency key with every answer; a retried submission with the same key
returns the first result instead of creating a second annotation. The answer is validated by
the project's task kind against the item, scored when the item is gold, and committed (with
its ledger event) before the caller replies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.errors import Conflict, Invalid
from handloom.kinds.base import KindError, TaskKind
from handloom.store.db import as_utc, utcnow
from handloom.store.schema import annotations, assignments, items
from handloom.work.routing import _own_assignment

MAX_ACTIVE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Submission:
    annotation_id: int
    assignment_id: int
    external_id: str
    replayed: bool
    submitted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"annotation_id": self.annotation_id, "assignment_id": self.assignment_id,
                "item_id": self.external_id, "replayed": self.replayed,
                "submitted_at": self.submitted_at.isoformat()}


def _replay(conn: Connection, worker_id: int, key: str, assignment_id: int) -> Submission | None:
    row = conn.execute(
        select(annotations.c.id, annotations.c.assignment_id, annotations.c.submitted_at,
               items.c.external_id)
        .join(items, items.c.id == annotations.c.item_id)
        .where(annotations.c.worker_id == worker_id, annotations.c.idempotency_key == key)
    ).first()
    if row is None:
        return None
    if row.assignment_id != assignment_id:
        raise Conflict(f"Idempotency key {key!r} was already used for another assignment "
                       f"({row.assignment_id}); use a fresh key for each answer.",
                       field="idempotency_key")
    return Submission(row.id, row.assignment_id, row.external_id, True, as_utc(row.submitted_at))


def submit_answer(
    conn: Connection,
    project: Any,
    kind: TaskKind,
    worker_id: int,
    assignment_id: int,
    answer: dict[str, Any],
    *,
    idempotency_key: str,
    active_seconds: float | None = None,
    suggestion: dict[str, Any] | None = None,
    client_meta: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Submission:
    now = now or utcnow()
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid("An idempotency key of 1 to 200 characters is required.",
                      field="idempotency_key")
    replay = _replay(conn, worker_id, idempotency_key, assignment_id)
    if replay is not None:
        return replay
    if active_seconds is not None and not (0 <= active_seconds <= MAX_ACTIVE_SECONDS):
        raise Invalid("active_seconds must be between 0 and 86400.", field="active_seconds")

    lease = _own_assignment(conn, project, worker_id, assignment_id)
    if lease.status == "submitted":
        raise Conflict(f"Assignment {assignment_id} was already answered (with another "
                       "idempotency key).")
    if lease.status in ("skipped", "released"):
        raise Conflict(f"Assignment {assignment_id} was {lease.status}; ask for the next item.")
    item_query = select(items).where(items.c.id == lease.item_id)
    if conn.dialect.name == "postgresql":
        item_query = item_query.with_for_update()  # counters change under the row lock
    item = conn.execute(item_query).one()
    if lease.status == "expired" and not lease.is_gold:
        # A late answer is still welcome while the item has room for it.
        if item.answers + item.leased >= project.overlap:
            raise Conflict(f"The lease on assignment {assignment_id} expired and the item was "
                           "answered by others meanwhile; ask for the next item.")
    try:
        clean = kind.validate_answer(answer, item.payload)
    except KindError as exc:
        raise Invalid(exc.reason if exc.field in ("", "answer") else f"{exc.field}: {exc.reason}",
                      field=exc.field or "answer") from exc

    gold_correct = None
    if item.is_gold and item.gold_answer is not None:
        gold_correct = kind.answer_key(clean) == kind.answer_key(item.gold_answer)
    annotation_id = int(conn.execute(annotations.insert().values(
        project_id=project.id, item_id=item.id, worker_id=worker_id,
        assignment_id=assignment_id, answer=clean,
        instruction_version=lease.instruction_version, served_at=lease.leased_at,
        submitted_at=now, active_seconds=active_seconds, idempotency_key=idempotency_key,
        suggestion=suggestion, client_meta=client_meta or {}, is_gold=item.is_gold,
        gold_correct=gold_correct, review_status="accepted",
    )).inserted_primary_key[0])
    conn.execute(assignments.update().where(assignments.c.id == assignment_id)
                 .values(status="submitted", closed_at=now))
    if not item.is_gold:
        leased = item.leased - (1 if lease.status == "leased" else 0)
        conn.execute(items.update().where(items.c.id == item.id).values(
            answers=item.answers + 1, leased=leased,
            full=(item.answers + 1 + leased) >= project.overlap))
    answer_hash = hashlib.sha256(ledger.canonical_json(clean).encode()).hexdigest()
    ledger.append(conn, "annotation.submitted", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  body={"annotation": annotation_id, "assignment": assignment_id,
                        "item": item.id, "worker": worker_id,
                        "instruction_version": lease.instruction_version,
                        "active_seconds": active_seconds, "answer_sha256": answer_hash,
                        "suggestion_shown": suggestion is not None, "gold": item.is_gold,
                        "gold_correct": gold_correct})
    return Submission(annotation_id, assignment_id, item.external_id, False, now)
