"""Review: adjudicate the items the quality engine is not sure of.

An item waits for review when :mod:`handloom.work.quality` queued it (``items.review_reason``)
and no reviewer has decided it yet (``items.final_answer`` is empty). Two things queue an
item: its aggregate confidence is below the project's ``review_threshold`` once it has all
its answers (``low_confidence``; answers are compared with the task kind's ``answer_key``,
so a pairwise rationale or a red-team note does not count as disagreement), or a worker's
answer to it, a gold item, did not match the gold answer (``gold_failed``).

A decision validates the final answer with the task kind, stores a ``reviews`` row, sets the
item's ``final_answer`` and appends a ``review.decided`` ledger event, all in the caller's
transaction. The ledger holds the SHA-256 of the final answer and the length of the reason,
never their text. Workers appear only under their per-project pseudonyms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Conflict, Invalid, NotFound
from handloom.kinds.base import KindError, TaskKind
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.schema import annotations as annotation_table
from handloom.store.schema import items, projects, reviews
from handloom.work import quality
from handloom.work.projects import kind_of

SCAN_BATCH = 500
MAX_REASON_CHARS = 5000
PREVIEW_CHARS = 140
# Payload keys that usually hold the text a person reads first, in order of preference.
PREVIEW_KEYS = ("text", "prompt", "goal", "a", "context")


@dataclass(frozen=True)
class Decision:
    """A recorded review decision."""

    review_id: int
    item_id: int
    external_id: str
    final_answer: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"review": self.review_id, "item_id": self.external_id,
                "final_answer": self.final_answer}


def preview(payload: Any, limit: int = PREVIEW_CHARS) -> str:
    """A short, one-line excerpt of an item's payload for queue tables (plain text)."""
    if isinstance(payload, dict):
        for key in PREVIEW_KEYS:
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return text if len(text) <= limit else text[: limit - 1] + "…"
        if isinstance(payload.get("candidates"), list):
            return f"{len(payload['candidates'])} candidates"
    return ""


def _counted(rows: Sequence[Any]) -> list[Any]:
    """The answers a decision weighs: all but those a reviewer rejected."""
    return [r for r in rows if r.review_status != "rejected"]


def _is_disagreement(kind: TaskKind, answers: Sequence[dict[str, Any]]) -> bool:
    return len({kind.answer_key(a) for a in answers}) > 1


def _candidates(conn: Connection, project: Any, after_id: int = 0,
                before_id: int | None = None) -> Iterator[tuple[Any, list[Any]]]:
    """Queued, undecided items after *after_id* (and before *before_id*), oldest first,
    each with its annotations, read in batches."""
    while True:
        query = (
            select(items.c.id, items.c.external_id, items.c.payload, items.c.sensitivity,
                   items.c.created_at, items.c.review_reason, items.c.agg_confidence,
                   items.c.is_gold)
            .where(items.c.project_id == project.id, items.c.review_reason.is_not(None),
                   items.c.final_answer.is_(None), items.c.id > after_id)
            .order_by(items.c.id).limit(SCAN_BATCH)
        )
        if before_id is not None:
            query = query.where(items.c.id < before_id)
        batch = conn.execute(query).all()
        if not batch:
            return
        by_item: dict[int, list[Any]] = {}
        for ann in conn.execute(
            select(annotation_table.c.id, annotation_table.c.item_id,
                   annotation_table.c.answer, annotation_table.c.review_status)
            .where(annotation_table.c.item_id.in_([r.id for r in batch]))
            .order_by(annotation_table.c.id)
        ):
            by_item.setdefault(ann.item_id, []).append(ann)
        for row in batch:
            yield row, by_item.get(row.id, [])
        if len(batch) < SCAN_BATCH:
            return
        after_id = batch[-1].id


def _queue_entry(kind: TaskKind, row: Any, anns: Sequence[Any]) -> dict[str, Any]:
    answers = [a.answer for a in _counted(anns)]
    groups: dict[Any, dict[str, Any]] = {}
    for answer in answers:
        key = kind.answer_key(answer)
        if key not in groups:
            groups[key] = {"summary": kind.summarize(answer), "count": 0}
        groups[key]["count"] += 1
    readings = sorted(groups.values(), key=lambda g: -int(g["count"]))
    return {
        "id": row.external_id,
        "preview": preview(row.payload),
        "sensitivity": list(row.sensitivity or []),
        "answers": len(answers),
        "distinct": len(readings),
        "readings": readings,
        "created_at": as_utc(row.created_at).isoformat(),
        "reason": row.review_reason,
        "confidence": row.agg_confidence,
        "is_gold": bool(row.is_gold),
    }


def _item_row_id(conn: Connection, project: Any, external_id: str) -> int | None:
    found = conn.execute(select(items.c.id).where(
        items.c.project_id == project.id, items.c.external_id == external_id)).scalar()
    return None if found is None else int(found)


def disagreement_queue(conn: Connection, project: Any, limit: int = 50, *,
                       after: str | None = None) -> list[dict[str, Any]]:
    """Items waiting for a reviewer, oldest first (see the module docstring).

    Each entry has the item's ``id`` (external id), a plain-text ``preview``, its
    ``sensitivity`` tags, the number of ``answers``, the number of ``distinct`` answers,
    the ``readings`` (a summary and count per distinct answer, most common first), why it
    is queued (``reason``), the aggregate ``confidence`` and ``is_gold``. With
    *after* (an item's external id) the queue starts after that item and wraps around to the
    oldest, so a reviewer moves forward.
    """
    if limit <= 0:
        return []
    kind = kind_of(project)
    start = _item_row_id(conn, project, after) if after is not None else None
    out: list[dict[str, Any]] = []
    passes = [(start, None), (0, start + 1)] if start is not None else [(0, None)]
    for after_id, before_id in passes:
        for row, anns in _candidates(conn, project, after_id or 0, before_id):
            out.append(_queue_entry(kind, row, anns))
            if len(out) >= limit:
                return out
    return out


def waiting_count(conn: Connection, project: Any) -> int:
    """How many items of the project wait for a reviewer (one indexed count)."""
    return int(conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == project.id, items.c.review_reason.is_not(None),
        items.c.final_answer.is_(None))).scalar_one())


def overview(conn: Connection) -> list[dict[str, Any]]:
    """Every project with its kind, the items waiting for review and the decisions made."""
    decided: dict[int, int] = dict(conn.execute(
        select(reviews.c.project_id, func.count()).group_by(reviews.c.project_id)).all())
    out = []
    for p in conn.execute(select(projects).order_by(projects.c.id)):
        out.append({"name": p.name, "title": p.title, "kind": p.kind, "status": p.status,
                    "overlap": p.overlap, "waiting": waiting_count(conn, p),
                    "decided": int(decided.get(p.id, 0))})
    return out


def is_decided(conn: Connection, project: Any, external_id: str) -> bool:
    """Whether the item exists and a reviewer has set its final answer."""
    return conn.execute(select(items.c.id).where(
        items.c.project_id == project.id, items.c.external_id == external_id,
        items.c.final_answer.is_not(None))).first() is not None


def _item(conn: Connection, project: Any, external_id: str, *, lock: bool = False) -> Any:
    query = select(items).where(items.c.project_id == project.id,
                                items.c.external_id == external_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"No item {external_id!r} in project {project.name!r}.")
    return row


def item_for_review(conn: Connection, project: Any, external_id: str) -> dict[str, Any]:
    """An item with every answer (under per-project pseudonyms) and the kind's suggestion.

    Answers carry the worker's ``worker`` pseudonym (never the worker's id or ref), the
    ``instruction_version`` they were given under, ``active_seconds``, ``submitted_at``,
    ``review_status`` and a one-line ``summary``. ``suggestion`` is the kind's aggregate of
    the counted answers; ``decision`` is the recorded review, if the item was decided.
    """
    kind = kind_of(project)
    item = _item(conn, project, external_id)
    anns = conn.execute(
        select(annotation_table).where(annotation_table.c.item_id == item.id)
        .order_by(annotation_table.c.id)).all()
    answers = [
        {"worker": pseudonym(project.pseudonym_secret, a.worker_id), "answer": a.answer,
         "summary": kind.summarize(a.answer), "instruction_version": a.instruction_version,
         "active_seconds": a.active_seconds,
         "submitted_at": as_utc(a.submitted_at).isoformat(), "review_status": a.review_status,
         "annotation_id": int(a.id), "review_note": a.review_note, "fraud": bool(a.fraud)}
        for a in anns
    ]
    counted = [a.answer for a in _counted(anns)]
    agg = kind.aggregate(counted)
    decision = None
    review_row = conn.execute(
        select(reviews).where(reviews.c.item_id == item.id).order_by(reviews.c.id.desc())
        .limit(1)).first()
    if review_row is not None:
        decision = {"final_answer": review_row.final_answer,
                    "summary": kind.summarize(review_row.final_answer),
                    "reason": review_row.reason,
                    "decided_at": as_utc(review_row.created_at).isoformat()}
    return {
        "id": item.external_id,
        "payload": item.payload,
        "sensitivity": list(item.sensitivity or []),
        "is_gold": bool(item.is_gold),
        "gold_answer": item.gold_answer,
        "review_reason": item.review_reason,
        "aggregate": ({"answer": item.agg_answer, "confidence": item.agg_confidence,
                       "method": item.agg_method,
                       "summary": kind.summarize(item.agg_answer)}
                      if item.agg_answer is not None else None),
        "complete": int(item.answers) >= int(project.overlap) + int(item.extra_answers),
        "final_answer": item.final_answer,
        "answers": answers,
        "disagreement": _is_disagreement(kind, counted),
        "suggestion": {"answer": agg.answer, "confidence": agg.confidence,
                       "method": agg.method, "n_answers": agg.n_answers,
                       "summary": kind.summarize(agg.answer) if agg.answer is not None else ""},
        "decision": decision,
    }


def _final_field(field: str) -> str:
    """The kind's field path ("answer.label") as the form names it ("final_answer.label")."""
    if field == "answer" or not field:
        return "final_answer"
    if field.startswith("answer."):
        return "final_answer." + field[len("answer."):]
    return f"final_answer.{field}"


def resolve(conn: Connection, project: Any, external_id: str, reviewer_user_id: int,
            final_answer: Any, reason: str, actor: str) -> Decision:
    """Decide an item: record *final_answer* (checked by the task kind) with *reason*.

    Raises :class:`Invalid` (naming the field) for an answer the kind rejects or an empty
    reason, :class:`NotFound` for an unknown item and :class:`Conflict` for an item that was
    already decided or has no answers to adjudicate.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give a reason for the decision; workers and auditors rely on it.",
                      field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid(f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason")
    kind = kind_of(project)
    item = _item(conn, project, external_id, lock=True)
    if item.final_answer is not None:
        raise Conflict(f"Item {external_id!r} was already decided; its final answer stands.")
    n_answers = conn.execute(select(func.count()).select_from(annotation_table)
                             .where(annotation_table.c.item_id == item.id)).scalar_one()
    if not n_answers:
        raise Conflict(f"Item {external_id!r} has no answers yet; there is nothing to decide.")
    try:
        clean = kind.validate_answer(final_answer, item.payload)
    except KindError as exc:
        field = _final_field(exc.field)
        raise Invalid(f"{field}: {exc.reason}", field=field) from exc
    now = utcnow()
    review_id = inserted_id(conn.execute(reviews.insert().values(
        project_id=project.id, item_id=item.id, reviewer_id=reviewer_user_id,
        final_answer=clean, reason=reason, created_at=now)))
    changed = conn.execute(
        items.update().where(items.c.id == item.id, items.c.final_answer.is_(None))
        .values(final_answer=clean)).rowcount
    if changed != 1:  # a concurrent decision got there first (SQLite has no row locks)
        raise Conflict(f"Item {external_id!r} was already decided; its final answer stands.")
    digest = hashlib.sha256(ledger.canonical_json(clean).encode("utf-8")).hexdigest()
    ledger.append(conn, "review.decided", actor=actor, project_id=project.id,
                  body={"review": review_id, "item": int(item.id),
                        "reviewer": reviewer_user_id, "final_answer_sha256": digest,
                        "reason_chars": len(reason)})
    if item.is_gold and item.gold_answer is not None and \
            kind.answer_key(clean) != kind.answer_key(item.gold_answer):
        quality.correct_gold(conn, project, kind, int(item.id), clean, review_id, actor)
    return Decision(review_id, int(item.id), item.external_id, clean)


def reject_answer(conn: Connection, project: Any, annotation_id: int, reviewer_user_id: int,
                  reason: str, *, fraud: bool = False, actor: str) -> dict[str, Any]:
    """Reject one answer, with a reason the worker sees (and may appeal).

    The answer stops counting in aggregates and agreement. Whether the work stays paid is the
    pay policy's call (:func:`handloom.labor.pay.pay_for_rejection`: paid unless the reviewer
    confirms fraud, or the project does not pay rejected work); when it does not, what the
    answer earned is clawed back. One ``annotation.rejected`` event records the reason's
    length, the fraud flag and the amount clawed back, never the reason's text.
    """
    from handloom.labor import pay  # the labor layer builds on this module

    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give a reason for rejecting the answer; the worker sees it and may "
                      "appeal.", field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid(f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason")
    row = conn.execute(select(annotation_table).where(
        annotation_table.c.id == annotation_id).with_for_update()).first()
    if row is None or row.project_id != project.id:
        raise NotFound(f"No answer #{annotation_id} in project {project.name!r}.")
    if row.review_status == "rejected":
        raise Conflict(f"Answer #{annotation_id} was already rejected.")
    now = utcnow()
    changed = conn.execute(annotation_table.update().where(
        annotation_table.c.id == annotation_id,
        annotation_table.c.review_status != "rejected").values(
        review_status="rejected", reviewed_by=reviewer_user_id, review_note=reason,
        fraud=bool(fraud), reviewed_at=now)).rowcount
    if changed != 1:  # a concurrent rejection got there first (SQLite has no row locks)
        raise Conflict(f"Answer #{annotation_id} was already rejected.")
    clawed = 0
    if not pay.pay_for_rejection(project, bool(fraud)):
        clawed = pay.clawback_annotation(conn, project, annotation_id,
                                         reason=f"answer rejected{' (fraud)' if fraud else ''}",
                                         actor=actor)
    ledger.append(conn, "annotation.rejected", actor=actor, project_id=project.id,
                  body={"annotation": annotation_id, "item": int(row.item_id),
                        "worker": int(row.worker_id), "reviewer": reviewer_user_id,
                        "reason_chars": len(reason), "fraud": bool(fraud),
                        "clawed_back_minor": clawed})
    return {"annotation": annotation_id, "review_status": "rejected", "fraud": bool(fraud),
            "clawed_back_minor": clawed, "reviewed_at": now.isoformat()}
