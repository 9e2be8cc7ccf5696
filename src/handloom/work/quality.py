"""Quality in a running project: gold scores, the qualification test, the review queue's
automatic entries, dynamic overlap, and full aggregation runs.

The numbers come from :mod:`handloom.quality`; this module reads answers from the store,
writes the results back and puts every change on the ledger. Two moments matter:

- **each answer** (inside the submission's transaction): a gold answer updates the worker's
  gold score; a qualification answer moves the worker's test on (and records the result
  once complete); the answer that completes an item computes the item's posterior under
  the one-coin model with the workers' estimated skills, then either asks for one more
  answer (dynamic overlap, up to ``max_overlap``) or sends the item to a reviewer when the
  posterior confidence is below the project's ``review_threshold``;
- **an aggregation run** (``handloom aggregate --project``, the API, the manager's page):
  the project's method (Dawid–Skene by default) over every counted answer; each item's
  aggregate, confidence and method are stored, low-confidence items enter the review queue
  and items the full model is now sure of leave it, and each worker's agreement with the
  aggregate and estimated skill are stored for the worker to see.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection

from handloom import ledger
from handloom.errors import Invalid
from handloom.kinds.base import TaskKind
from handloom.quality.aggregate import METHODS, make_aggregator
from handloom.quality.agreement import LEVELS, METRICS, AgreementResult, Level, Metric, agreement
from handloom.quality.gold import (
    QualificationOutcome,
    gold_accuracy,
    item_posterior,
)
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql
from handloom.work.projects import kind_of

LOW_CONFIDENCE = "low_confidence"
GOLD_FAILED = "gold_failed"
REVIEW_REASONS = (LOW_CONFIDENCE, GOLD_FAILED)
UPDATE_BATCH = 5000


# ---------------------------------------------------------------- worker scores
def _upsert_score(sql: Sql, project_id: int, worker_id: int, now: datetime, *,
                  gold_answered: int = 0, gold_correct: int = 0) -> None:
    """Add gold counts to a worker's score row, creating it if needed."""
    sql.run(
        "INSERT INTO worker_scores (project_id, worker_id, gold_answered, gold_correct, "
        "agreement_n, updated_at) VALUES (?, ?, ?, ?, 0, ?) "
        "ON CONFLICT (project_id, worker_id) DO UPDATE SET "
        "gold_answered = worker_scores.gold_answered + excluded.gold_answered, "
        "gold_correct = worker_scores.gold_correct + excluded.gold_correct, "
        "updated_at = excluded.updated_at",
        (project_id, worker_id, gold_answered, gold_correct, sql.ts(now)))


def record_gold_answer(conn: Connection, project: Any, worker_id: int, item_id: int,
                       correct: bool, now: datetime) -> None:
    """Count a gold answer in the worker's score; a wrong one sends the gold item to a
    reviewer (the gold answer itself may be what is wrong)."""
    sql = Sql(conn)
    _upsert_score(sql, project.id, worker_id, now, gold_answered=1,
                  gold_correct=1 if correct else 0)
    if not correct:
        flagged = sql.run(
            "UPDATE items SET review_reason = ? WHERE id = ? AND review_reason IS NULL "
            "AND final_answer IS NULL", (GOLD_FAILED, item_id)).rowcount
        if flagged:
            ledger.append(conn, "review.queued", actor="system", project_id=project.id,
                          body={"item": item_id, "reason": GOLD_FAILED, "worker": worker_id})
    if getattr(project, "score_review_below", None) is not None:
        # A low score opens a review by a person; it never removes anyone by itself.
        from handloom.labor import standing

        standing.check_low_score(conn, project, worker_id, now=now)


def rescore_gold(conn: Connection, project: Any, worker_id: int,
                 now: datetime | None = None) -> dict[str, Any]:
    """Recount a worker's gold figures from their annotations (after an appeal changed how
    some of them are scored): ``worker_scores`` from the ordinary gold answers that are
    scored (``gold_correct`` not NULL), and a recorded qualification result from the test
    answers. Returns the figures before and after."""
    sql = Sql(conn)
    now = now or utcnow()
    before = sql.first("SELECT gold_answered, gold_correct FROM worker_scores "
                       "WHERE project_id = ? AND worker_id = ?", (project.id, worker_id))
    answered, correct = sql.first(
        "SELECT count(*), coalesce(sum(CASE WHEN a.gold_correct THEN 1 ELSE 0 END), 0) "
        "FROM annotations a JOIN items i ON i.id = a.item_id WHERE a.project_id = ? "
        "AND a.worker_id = ? AND a.is_gold = ? AND i.is_qualification = ? "
        "AND a.gold_correct IS NOT NULL", (project.id, worker_id, True, False))
    sql.run(
        "INSERT INTO worker_scores (project_id, worker_id, gold_answered, gold_correct, "
        "agreement_n, updated_at) VALUES (?, ?, ?, ?, 0, ?) "
        "ON CONFLICT (project_id, worker_id) DO UPDATE SET "
        "gold_answered = excluded.gold_answered, gold_correct = excluded.gold_correct, "
        "updated_at = excluded.updated_at",
        (project.id, worker_id, int(answered), int(correct), sql.ts(now)))
    out: dict[str, Any] = {
        "gold_before": None if before is None else {"answered": int(before[0]),
                                                     "correct": int(before[1])},
        "gold_after": {"answered": int(answered), "correct": int(correct)},
    }
    test = sql.first("SELECT answered, correct, passed, pass_mark FROM qualification_results "
                     "WHERE project_id = ? AND worker_id = ?", (project.id, worker_id))
    if test is not None:
        t_answered, t_correct = sql.first(
            "SELECT count(*), coalesce(sum(CASE WHEN a.gold_correct THEN 1 ELSE 0 END), 0) "
            "FROM annotations a JOIN items i ON i.id = a.item_id WHERE a.project_id = ? "
            "AND a.worker_id = ? AND i.is_qualification = ?", (project.id, worker_id, True))
        outcome = QualificationOutcome(int(t_answered), int(t_correct), int(test[0]),
                                       float(test[3]))
        sql.run("UPDATE qualification_results SET correct = ?, passed = ? "
                "WHERE project_id = ? AND worker_id = ?",
                (outcome.correct, outcome.passed, project.id, worker_id))
        out["qualification_before"] = {"correct": int(test[1]), "passed": bool(test[2])}
        out["qualification_after"] = {"correct": outcome.correct, "passed": outcome.passed}
    return out


def correct_gold(conn: Connection, project: Any, kind: TaskKind, item_id: int,
                 answer: dict[str, Any], review_id: int, actor: str) -> int:
    """A reviewer decided a gold item differently from its gold answer: the gold answer was
    wrong. Replace it, rescore every answer to the item and move each worker's gold score
    with it (a worker marked wrong for agreeing with the reviewer gets the point back).
    Returns the number of answers whose score changed; one ``gold.corrected`` event."""
    sql = Sql(conn)
    now = utcnow()
    key = kind.answer_key(answer)
    sql.run("UPDATE items SET gold_answer = ? WHERE id = ?", (sql.json(answer), item_id))
    changed = []
    for ann_id, worker_id, given, was in sql.all(
            "SELECT id, worker_id, answer, gold_correct FROM annotations WHERE item_id = ?",
            (item_id,)):
        now_right = kind.answer_key(sql.load(given)) == key
        if was is not None and bool(was) == now_right:
            continue
        sql.run("UPDATE annotations SET gold_correct = ? WHERE id = ?", (now_right, ann_id))
        changed.append(int(ann_id))
        if was is not None:
            _upsert_score(sql, project.id, int(worker_id), now,
                          gold_correct=1 if now_right else -1)
    ledger.append(conn, "gold.corrected", actor=actor, project_id=project.id,
                  body={"item": item_id, "review": review_id, "rescored": changed,
                        "gold_answer_sha256": hashlib.sha256(
                            ledger.canonical_json(answer).encode()).hexdigest()})
    return len(changed)


def skills_of(sql: Sql, project_id: int, worker_ids: list[int]) -> dict[int, float | None]:
    """The estimated skill of each worker (None where no aggregation has estimated it)."""
    if not worker_ids:
        return {}
    marks = ", ".join("?" * len(worker_ids))
    rows = sql.all(f"SELECT worker_id, skill FROM worker_scores WHERE project_id = ? "
                   f"AND worker_id IN ({marks})", (project_id, *worker_ids))
    found = {int(w): (None if s is None else float(s)) for w, s in rows}
    return {w: found.get(w) for w in worker_ids}


# ---------------------------------------------------------------- completion of an item
def after_item_answer(conn: Connection, project: Any, kind: TaskKind, item_id: int, *,
                      answers: int, leased: int, extra: int) -> None:
    """Called in the submission's transaction once a non-gold answer is counted.

    When the item has the answers it asks for, compute its posterior; extend the overlap
    by one (categorical kinds, while under ``max_overlap``) or queue it for review when
    the confidence is below the threshold.
    """
    target = project.overlap + extra
    if answers < target:
        return
    sql = Sql(conn)
    rows = sql.all("SELECT worker_id, answer FROM annotations WHERE item_id = ? "
                   "AND review_status <> 'rejected' ORDER BY id", (item_id,))
    if not rows:
        return
    answers_json = [sql.load(r[1]) for r in rows]
    keys: list[Hashable] = [kind.answer_key(a) for a in answers_json]
    skill = skills_of(sql, project.id, [int(r[0]) for r in rows])
    post = item_posterior(keys, [skill[int(r[0])] for r in rows])
    chosen = answers_json[keys.index(post.key)]
    sql.run("UPDATE items SET agg_answer = ?, agg_confidence = ?, agg_method = 'online' "
            "WHERE id = ?", (sql.json(chosen), post.confidence, item_id))
    if post.confidence >= project.review_threshold:
        return
    categorical = kind.categorical_label(chosen) is not None
    cap = project.max_overlap
    if categorical and cap is not None and target < cap:
        sql.run('UPDATE items SET extra_answers = ?, "full" = ? WHERE id = ?',
                (extra + 1, answers + leased >= target + 1, item_id))
        ledger.append(conn, "item.overlap_extended", actor="system", project_id=project.id,
                      body={"item": item_id, "overlap": target + 1,
                            "confidence": round(post.confidence, 6)})
        return
    flagged = sql.run("UPDATE items SET review_reason = ? WHERE id = ? AND review_reason IS "
                      "NULL AND final_answer IS NULL", (LOW_CONFIDENCE, item_id)).rowcount
    if flagged:
        ledger.append(conn, "review.queued", actor="system", project_id=project.id,
                      body={"item": item_id, "reason": LOW_CONFIDENCE,
                            "confidence": round(post.confidence, 6), "answers": answers})


# ---------------------------------------------------------------- qualification test
@dataclass(frozen=True)
class QualificationStatus:
    """Where a worker stands with a project's qualification test."""

    required: bool
    size: int
    answered: int
    correct: int
    pass_mark: float
    # None while the test is under way (or not required); then True or False for good.
    passed: bool | None
    remaining_items: int

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "size": self.size, "answered": self.answered,
                "correct": self.correct, "pass_mark": self.pass_mark, "passed": self.passed}


def qualification_status(sql: Sql, project: Any, worker_id: int) -> QualificationStatus:
    size = int(getattr(project, "qualification_size", 0) or 0)
    mark = float(getattr(project, "qualification_pass", 0.8))
    if size <= 0:
        return QualificationStatus(False, 0, 0, 0, mark, None, 0)
    done = sql.first("SELECT answered, correct, passed FROM qualification_results "
                     "WHERE project_id = ? AND worker_id = ?", (project.id, worker_id))
    if done is not None:
        return QualificationStatus(True, size, int(done[0]), int(done[1]), mark,
                                   bool(done[2]), 0)
    answered, correct = sql.first(
        "SELECT count(*), coalesce(sum(CASE WHEN a.gold_correct THEN 1 ELSE 0 END), 0) "
        "FROM annotations a JOIN items i ON i.id = a.item_id WHERE a.worker_id = ? "
        "AND a.project_id = ? AND i.is_qualification = ?", (worker_id, project.id, True))
    available = sql.scalar("SELECT count(*) FROM items WHERE project_id = ? "
                           "AND is_qualification = ?", (project.id, True))
    if not available:
        # A test with no items cannot be taken; it is not required until items exist.
        return QualificationStatus(False, size, 0, 0, mark, None, 0)
    size = min(size, int(available))
    return QualificationStatus(True, size, int(answered), int(correct), mark, None,
                               size - int(answered))


def after_qualification_answer(conn: Connection, project: Any, worker_id: int,
                               now: datetime) -> QualificationStatus:
    """Move the worker's test on; once complete, record the result on the ledger."""
    sql = Sql(conn)
    status = qualification_status(sql, project, worker_id)
    outcome = QualificationOutcome(status.answered, status.correct, status.size,
                                   status.pass_mark)
    if not status.required or status.passed is not None or not outcome.complete:
        return status
    sql.run("INSERT INTO qualification_results (project_id, worker_id, answered, correct, "
            "passed, pass_mark, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (project.id, worker_id, outcome.answered, outcome.correct, outcome.passed,
             outcome.pass_mark, sql.ts(now)))
    ledger.append(conn, "qualification.completed", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  body={"worker": worker_id, "answered": outcome.answered,
                        "correct": outcome.correct, "pass_mark": outcome.pass_mark,
                        "passed": outcome.passed})
    return QualificationStatus(True, status.size, outcome.answered, outcome.correct,
                               status.pass_mark, outcome.passed, 0)


# ---------------------------------------------------------------- full aggregation
@dataclass
class AggregationRun:
    """The result of aggregating a project (see :func:`aggregate_project`)."""

    method: str
    params: dict[str, Any]
    items: int
    answers: int
    workers: int
    mean_confidence: float | None
    below_threshold: int
    queued: int
    unqueued: int
    # item row id -> (answer, confidence, soft label {summary: share})
    results: dict[int, tuple[dict[str, Any], float, dict[str, float]]] = field(repr=False,
                                                                                default_factory=dict)
    # worker id -> (agreement with the aggregate, answers compared, estimated skill)
    worker_stats: dict[int, tuple[float, int, float | None]] = field(repr=False,
                                                                     default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params, "items": self.items,
                "answers": self.answers, "workers": self.workers,
                "mean_confidence": self.mean_confidence,
                "below_threshold": self.below_threshold, "queued": self.queued,
                "unqueued": self.unqueued}


def _counted_answers(sql: Sql, project: Any) -> list[Any]:
    return sql.all(
        "SELECT a.item_id, a.worker_id, a.answer FROM annotations a JOIN items i "
        "ON i.id = a.item_id WHERE a.project_id = ? AND i.is_gold = ? "
        "AND a.review_status <> 'rejected' ORDER BY a.item_id, a.id", (project.id, False))


def aggregate_project(conn: Connection, project: Any, *, method: str | None = None,
                      apply: bool = True, actor: str = "system",
                      progress: Callable[[int, float], None] | None = None,
                      now: datetime | None = None) -> AggregationRun:
    """Aggregate every item of *project* with *method* (default: the project's).

    Categorical kinds use the truth-inference estimator; kinds without a single categorical
    label (spans, free text, rankings, multi-label) fall back to majority vote over the
    kind's answer keys. With *apply*, results are written to the items (aggregate,
    confidence, method), the review queue is updated, worker scores are stored and a
    ``quality.aggregated`` ledger event records the run. Without it nothing is written
    (exports use that).
    """
    method = method or project.aggregation_method
    if method not in METHODS:
        raise Invalid(f"Unknown aggregation method {method!r}; choose one of "
                      f"{', '.join(METHODS)}.", field="method")
    now = now or utcnow()
    kind = kind_of(project)
    sql = Sql(conn)
    rows = _counted_answers(sql, project)
    answers_json = [sql.load(r[2]) for r in rows]
    keys = [kind.answer_key(a) for a in answers_json]
    categorical = bool(rows) and all(kind.categorical_label(a) is not None
                                     for a in answers_json)
    used = method if categorical else "mv"
    item_ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    worker_ids = np.fromiter((int(r[1]) for r in rows), dtype=np.int64, count=len(rows))
    estimator = make_aggregator(used)
    run = AggregationRun(method=used, params=estimator.params(), items=0, answers=len(rows),
                         workers=0, mean_confidence=None, below_threshold=0, queued=0,
                         unqueued=0)
    if rows:
        uniq_items, item_codes = np.unique(item_ids, return_inverse=True)
        uniq_workers, worker_codes = np.unique(worker_ids, return_inverse=True)
        key_index: dict[Hashable, int] = {}
        representative: list[dict[str, Any]] = []
        label_codes = np.empty(len(rows), dtype=np.int64)
        for n, (key, answer) in enumerate(zip(keys, answers_json, strict=True)):
            code = key_index.get(key)
            if code is None:
                code = key_index[key] = len(representative)
                representative.append(answer)
            label_codes[n] = code
        estimator.fit(item_codes, worker_codes, label_codes, progress=progress)
        summaries = [kind.summarize(a) for a in representative]
        counts = np.zeros((len(uniq_items), len(representative)))
        np.add.at(counts, (item_codes, label_codes), 1.0)
        shares = counts / counts.sum(axis=1, keepdims=True)
        for code, item_id in enumerate(uniq_items.tolist()):
            label = int(estimator.labels_[code])
            soft = {summaries[c]: round(float(shares[code, c]), 6)
                    for c in np.nonzero(shares[code])[0].tolist()}
            run.results[item_id] = (representative[label],
                                    float(estimator.confidence_[code]), soft)
        hit = estimator.labels_[item_codes] == label_codes
        agree = np.bincount(worker_codes, weights=hit, minlength=len(uniq_workers))
        n_w = np.bincount(worker_codes, minlength=len(uniq_workers))
        skills = estimator.skills_
        for code, worker_id in enumerate(uniq_workers.tolist()):
            s = float(skills[code]) if code < len(skills) and np.isfinite(skills[code]) else None
            run.worker_stats[worker_id] = (float(agree[code] / n_w[code]), int(n_w[code]), s)
        run.items = len(uniq_items)
        run.workers = len(uniq_workers)
        run.mean_confidence = float(estimator.confidence_.mean())
        run.below_threshold = int((estimator.confidence_ < project.review_threshold).sum())
    if apply:
        _apply_run(sql, conn, project, run, actor, now)
    return run


def _apply_run(sql: Sql, conn: Connection, project: Any, run: AggregationRun, actor: str,
               now: datetime) -> None:
    complete = {int(r[0]): (r[1], r[2] is not None) for r in sql.all(
        "SELECT id, review_reason, final_answer FROM items WHERE project_id = ? AND "
        "is_gold = ? AND answers >= ? + extra_answers", (project.id, False, project.overlap))}
    updates = []
    queue: list[int] = []
    unqueue: list[int] = []
    for item_id, (answer, confidence, _soft) in run.results.items():
        updates.append((sql.json(answer), confidence, run.method, item_id))
        state = complete.get(item_id)
        if state is None or state[1]:  # incomplete, or already decided by a reviewer
            continue
        reason = state[0]
        if confidence < project.review_threshold and reason is None:
            queue.append(item_id)
        elif confidence >= project.review_threshold and reason == LOW_CONFIDENCE:
            unqueue.append(item_id)
    for start in range(0, len(updates), UPDATE_BATCH):
        sql.many("UPDATE items SET agg_answer = ?, agg_confidence = ?, agg_method = ? "
                 "WHERE id = ?", updates[start:start + UPDATE_BATCH])
    for ids, value in ((queue, LOW_CONFIDENCE), (unqueue, None)):
        for start in range(0, len(ids), UPDATE_BATCH):
            sql.many("UPDATE items SET review_reason = ? WHERE id = ?",
                     [(value, i) for i in ids[start:start + UPDATE_BATCH]])
    run.queued, run.unqueued = len(queue), len(unqueue)
    for worker_id, (agree, n, skill) in run.worker_stats.items():
        sql.run(
            "INSERT INTO worker_scores (project_id, worker_id, gold_answered, gold_correct, "
            "agreement, agreement_n, skill, method, updated_at) VALUES (?, ?, 0, 0, ?, ?, ?, ?, ?) "
            "ON CONFLICT (project_id, worker_id) DO UPDATE SET agreement = excluded.agreement, "
            "agreement_n = excluded.agreement_n, skill = excluded.skill, "
            "method = excluded.method, updated_at = excluded.updated_at",
            (project.id, worker_id, agree, n, skill, run.method, sql.ts(now)))
    digest = hashlib.sha256(json.dumps(
        sorted((i, ledger.canonical_json(a), round(c, 9)) for i, (a, c, _s)
               in run.results.items())).encode()).hexdigest()
    ledger.append(conn, "quality.aggregated", actor=actor, project_id=project.id,
                  body={**run.to_dict(), "results_sha256": digest,
                        "queued_items": queue[:1000], "unqueued_items": unqueue[:1000]})


# ---------------------------------------------------------------- reading scores
@dataclass(frozen=True)
class AggregateState:
    """The stored aggregates of a project's non-gold items and its review backlog."""

    aggregated: int
    mean_confidence: float | None
    below_threshold: int
    waiting_low_confidence: int
    waiting_gold_failed: int

    @property
    def waiting(self) -> int:
        return self.waiting_low_confidence + self.waiting_gold_failed


def aggregate_state(conn: Connection, project: Any) -> AggregateState:
    """Counts for the manager's panel and ``GET /projects/{name}/quality`` (two reads)."""
    sql = Sql(conn)
    aggregated, mean, below = sql.first(
        "SELECT count(agg_confidence), avg(agg_confidence), "
        "coalesce(sum(CASE WHEN agg_confidence < ? THEN 1 ELSE 0 END), 0) FROM items "
        "WHERE project_id = ? AND is_gold = ?", (project.review_threshold, project.id, False))
    waiting = dict(sql.all(
        "SELECT review_reason, count(*) FROM items WHERE project_id = ? AND review_reason "
        "IS NOT NULL AND final_answer IS NULL GROUP BY review_reason", (project.id,)))
    return AggregateState(int(aggregated), None if mean is None else float(mean), int(below),
                          int(waiting.get(LOW_CONFIDENCE, 0)),
                          int(waiting.get(GOLD_FAILED, 0)))


def worker_score(conn: Connection, project: Any, worker_id: int) -> dict[str, Any]:
    """How this worker is judged in this project, with the figures behind each number."""
    sql = Sql(conn)
    row = sql.first("SELECT gold_answered, gold_correct, agreement, agreement_n, skill, "
                    "method, updated_at FROM worker_scores WHERE project_id = ? AND "
                    "worker_id = ?", (project.id, worker_id))
    gold_answered, gold_correct = (int(row[0]), int(row[1])) if row else (0, 0)
    qual = qualification_status(sql, project, worker_id)
    return {
        "gold_answered": gold_answered, "gold_correct": gold_correct,
        "gold_accuracy": gold_accuracy(gold_correct, gold_answered),
        "agreement": None if row is None or row[2] is None else float(row[2]),
        "agreement_answers": int(row[3]) if row else 0,
        "skill": None if row is None or row[4] is None else float(row[4]),
        "method": row[5] if row else None,
        "updated_at": sql.read_ts(row[6]).isoformat() if row else None,
        "qualification": qual.to_dict(),
    }


def worker_scores(conn: Connection, project: Any) -> list[dict[str, Any]]:
    """Every worker's score row in the project (worker ids; callers pseudonymize)."""
    sql = Sql(conn)
    out = []
    for r in sql.all("SELECT worker_id, gold_answered, gold_correct, agreement, agreement_n, "
                     "skill FROM worker_scores WHERE project_id = ? ORDER BY worker_id",
                     (project.id,)):
        out.append({"worker_id": int(r[0]), "gold_answered": int(r[1]),
                    "gold_correct": int(r[2]),
                    "gold_accuracy": gold_accuracy(int(r[2]), int(r[1])),
                    "agreement": None if r[3] is None else float(r[3]),
                    "agreement_answers": int(r[4]),
                    "skill": None if r[5] is None else float(r[5])})
    return out


def project_agreement(conn: Connection, project: Any, *, metric: Metric = "alpha",
                      level: Level = "nominal", ci: bool = False,
                      n_boot: int = 1000) -> AgreementResult:
    """Agreement between the workers of a project over its non-gold items.

    Nominal and percent metrics compare the kind's answer keys; ordinal, interval and ratio
    levels need a numeric label (a single-criterion rating).
    """
    if metric not in METRICS:
        raise Invalid(f"Unknown agreement metric {metric!r}; choose one of "
                      f"{', '.join(METRICS)}.", field="metric")
    if level not in LEVELS:
        raise Invalid(f"Unknown level {level!r}; choose one of {', '.join(LEVELS)}.",
                      field="level")
    kind = kind_of(project)
    sql = Sql(conn)
    rows = _counted_answers(sql, project)
    if not rows:
        # Undefined, not an error: no item has two answers yet.
        return AgreementResult(float("nan"), None, None, 0, 0, 0)
    answers = [sql.load(r[2]) for r in rows]
    if level == "nominal" or metric in ("percent", "fleiss", "cohen"):
        values: list[Any] = [repr(kind.answer_key(a)) for a in answers]
    else:
        values = []
        for a in answers:
            label = kind.categorical_label(a)
            try:
                values.append(float(label) if label is not None else None)
            except ValueError:
                values.append(None)
        if any(v is None for v in values):
            raise Invalid(f"The {level} level needs a numeric answer (a single-criterion "
                          f"rating); project {project.name!r} is {project.kind}.",
                          field="level")
    item_codes = np.unique(np.array([int(r[0]) for r in rows], dtype=np.int64),
                           return_inverse=True)[1]
    worker_codes = np.unique(np.array([int(r[1]) for r in rows], dtype=np.int64),
                             return_inverse=True)[1]
    if level == "nominal" or metric in ("percent", "fleiss", "cohen"):
        value_codes = np.unique(np.array(values, dtype=object).astype(str),
                                return_inverse=True)[1]
        return agreement(metric, item_codes, worker_codes, value_codes, level=level, ci=ci,
                         n_boot=n_boot)
    return agreement(metric, item_codes, worker_codes, np.array(values, dtype=np.float64),
                     level=level, ci=ci, n_boot=n_boot)
