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

from sqlalchemy import Connection

from handloom import ledger
from handloom.errors import Conflict, Invalid
from handloom.kinds.base import KindError, TaskKind
from handloom.labor import exposure, pay
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql
from handloom.work import quality
from handloom.work.routing import own_assignment

MAX_ACTIVE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Submission:
    annotation_id: int
    assignment_id: int
    external_id: str
    replayed: bool
    submitted_at: datetime
    # For a qualification question: whether the answer was right, the expected answer and
    # where the worker stands in the test. None for every other item (hidden gold included).
    feedback: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"annotation_id": self.annotation_id, "assignment_id": self.assignment_id,
               "item_id": self.external_id, "replayed": self.replayed,
               "submitted_at": self.submitted_at.isoformat()}
        if self.feedback is not None:
            out["feedback"] = self.feedback
        return out


def _replay(sql: Sql, worker_id: int, key: str, assignment_id: int) -> Submission | None:
    row = sql.first(
        "SELECT a.id, a.assignment_id, a.submitted_at, i.external_id FROM annotations a "
        "JOIN items i ON i.id = a.item_id WHERE a.worker_id = ? AND a.idempotency_key = ?",
        (worker_id, key))
    if row is None:
        return None
    if int(row[1]) != assignment_id:
        raise Conflict(f"Idempotency key {key!r} was already used for another assignment "
                       f"({row[1]}); use a fresh key for each answer.", field="idempotency_key")
    return Submission(int(row[0]), int(row[1]), row[3], True, sql.read_ts(row[2]))


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
    sql = Sql(conn)
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid("An idempotency key of 1 to 200 characters is required.",
                      field="idempotency_key")
    if sql.pg:
        # One worker's submissions run one at a time, so a retry racing its original waits
        # and then finds it (instead of failing on the unique key).
        sql.run("SELECT id FROM workers WHERE id = ? FOR UPDATE", (worker_id,))
    replay = _replay(sql, worker_id, idempotency_key, assignment_id)
    if replay is not None:
        return replay
    if active_seconds is not None and not (0 <= active_seconds <= MAX_ACTIVE_SECONDS):
        raise Invalid("active_seconds must be between 0 and 86400.", field="active_seconds")

    lease = own_assignment(sql, project, worker_id, assignment_id)
    if lease.status == "submitted":
        raise Conflict(f"Assignment {assignment_id} was already answered (with another "
                       "idempotency key).")
    if lease.status in ("skipped", "released"):
        raise Conflict(f"Assignment {assignment_id} was {lease.status}; ask for the next item.")
    item = sql.first(
        "SELECT id, external_id, payload, is_gold, gold_answer, answers, leased, "
        "extra_answers, is_qualification, sensitivity, difficulty FROM items "
        "WHERE id = ?" + (" FOR UPDATE" if sql.pg else ""), (lease.item_id,))
    item_id, external_id = int(item[0]), item[1]
    payload, is_gold, gold_answer = sql.load(item[2]), bool(item[3]), sql.load(item[4])
    answers, leased, extra = int(item[5]), int(item[6]), int(item[7])
    is_test = bool(item[8])
    target = project.overlap + extra
    if lease.status == "expired" and not is_gold and answers + leased >= target:
        # A late answer is still welcome while the item has room for it.
        raise Conflict(f"The lease on assignment {assignment_id} expired and the item was "
                       "answered by others meanwhile; ask for the next item.")
    try:
        clean = kind.validate_answer(answer, payload)
    except KindError as exc:
        raise Invalid(exc.reason if exc.field in ("", "answer") else f"{exc.field}: {exc.reason}",
                      field=exc.field or "answer") from exc

    gold_correct = None
    if is_gold and gold_answer is not None:
        gold_correct = kind.answer_key(clean) == kind.answer_key(gold_answer)
    annotation_id = sql.insert(
        "INSERT INTO annotations (project_id, item_id, worker_id, assignment_id, answer, "
        "instruction_version, served_at, submitted_at, active_seconds, idempotency_key, "
        "suggestion, client_meta, is_gold, gold_correct, review_status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted')",
        (project.id, item_id, worker_id, assignment_id, sql.json(clean),
         lease.instruction_version, sql.ts(lease.leased_at), sql.ts(now), active_seconds,
         idempotency_key, sql.json(suggestion), sql.json(client_meta or {}), is_gold,
         gold_correct))
    sql.run("UPDATE assignments SET status = 'submitted', closed_at = ? WHERE id = ?",
            (sql.ts(now), assignment_id))
    feedback = None
    if not is_gold:
        leased -= 1 if lease.status == "leased" else 0
        sql.run('UPDATE items SET answers = ?, leased = ?, "full" = ? WHERE id = ?',
                (answers + 1, leased, answers + 1 + leased >= target, item_id))

    answer_hash = hashlib.sha256(ledger.canonical_json(clean).encode()).hexdigest()
    events: list[pay.LedgerEvent] = [(
        "annotation.submitted", f"worker:{worker_id}", project.id,
        {"annotation": annotation_id, "assignment": assignment_id,
         "item": item_id, "worker": worker_id,
         "instruction_version": lease.instruction_version,
         "active_seconds": active_seconds, "answer_sha256": answer_hash,
         "suggestion_shown": suggestion is not None, "gold": is_gold,
         "gold_correct": gold_correct})]
    # What the answer earns is a pay event of the same transaction (fair-work layer).
    earned = pay.record_answer_pay(conn, pay.pay_policy(conn, project), worker_id,
                                   annotation_id, difficulty=item[10], is_qualification=is_test,
                                   active_seconds=active_seconds, now=now)
    if earned is not None:
        events.append(earned)
    ledger.append_many(conn, events)
    # A tagged item is exposure, whatever kind of item it is (gold and test items too).
    tags = sql.load(item[9]) or []
    if tags:
        exposure.record_exposure(conn, project.id, worker_id, item_id, tags, active_seconds,
                                 now=now, source="answer", assignment_id=assignment_id)
    # Quality bookkeeping comes after the answer's own event, so the ledger reads in order.
    if not is_gold:
        quality.after_item_answer(conn, project, kind, item_id, answers=answers + 1,
                                  leased=leased, extra=extra)
    elif is_test:
        status = quality.after_qualification_answer(conn, project, worker_id, now)
        feedback = {"correct": bool(gold_correct), "expected": gold_answer,
                    "expected_summary": kind.summarize(gold_answer),
                    "qualification": status.to_dict()}
    elif gold_correct is not None:
        quality.record_gold_answer(conn, project, worker_id, item_id, gold_correct, now)
    return Submission(annotation_id, assignment_id, external_id, False, now, feedback)


def amend_answer(conn: Connection, project: Any, kind: TaskKind, worker_id: int,
                 assignment_id: int, answer: dict[str, Any], *,
                 now: datetime | None = None) -> Submission:
    """Change one's own answer (undo) while the lease it was given under has not run out."""
    now = now or utcnow()
    sql = Sql(conn)
    own_assignment(sql, project, worker_id, assignment_id)
    row = sql.first(
        "SELECT a.id, a.answer, a.submitted_at, s.expires_at, i.external_id, i.payload "
        "FROM annotations a JOIN assignments s ON s.id = a.assignment_id "
        "JOIN items i ON i.id = a.item_id WHERE a.assignment_id = ?", (assignment_id,))
    if row is None:
        raise Conflict(f"Assignment {assignment_id} has no answer to change yet.")
    if sql.read_ts(row[3]) < now:
        raise Conflict("The time to change this answer has passed (its lease ran out).")
    try:
        clean = kind.validate_answer(answer, sql.load(row[5]))
    except KindError as exc:
        raise Invalid(exc.reason if exc.field in ("", "answer") else f"{exc.field}: {exc.reason}",
                      field=exc.field or "answer") from exc
    sql.run("UPDATE annotations SET answer = ? WHERE id = ?", (sql.json(clean), int(row[0])))
    old_hash = hashlib.sha256(ledger.canonical_json(sql.load(row[1])).encode()).hexdigest()
    new_hash = hashlib.sha256(ledger.canonical_json(clean).encode()).hexdigest()
    ledger.append(conn, "annotation.amended", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"annotation": int(row[0]), "assignment": assignment_id,
                        "old_answer_sha256": old_hash, "answer_sha256": new_hash})
    return Submission(int(row[0]), assignment_id, row[4], False, sql.read_ts(row[2]))
