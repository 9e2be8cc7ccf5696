"""Reviews of a worker's place in a project: no one is removed by an algorithm alone.

A gold accuracy below the project's ``score_review_below`` (after at least
``score_review_min_gold`` gold answers) opens a review (:func:`check_low_score`); a manager
can open one by hand too (:func:`open_review`). Opening a review changes nothing else: the
worker keeps working. A person then decides (:func:`decide`): keep, or remove, with a reason
the worker sees. A removal closes the project to the worker (routing says why, see
:mod:`handloom.labor.access`) and releases their open leases; the worker can appeal it, and
an upheld appeal reinstates them (:func:`reinstate`).

After a person kept a worker, a new low-score review opens only once the worker has answered
another ``score_review_min_gold`` gold items and is still below the threshold: the same
figures do not reopen a question a person already answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Conflict, Invalid, NotFound
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.fastsql import Sql
from handloom.store.schema import (
    appeals,
    assignments,
    projects,
    users,
    worker_reviews,
    worker_scores,
    workers,
)

TRIGGERS = ("low_score", "manual")
STATUSES = ("open", "kept", "removed", "reinstated")
MAX_REASON_CHARS = 5000


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give a reason; the worker sees it with the decision.", field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid(f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason")
    return reason


def open_review(conn: Connection, project: Any, worker_id: int, *, trigger: str = "manual",
                score: float | None = None, threshold: float | None = None,
                opened_by: int | None = None, actor: str = "system",
                now: datetime | None = None) -> int:
    """Open a review of *worker_id* in *project*; one open review per worker and project
    (a second raises :class:`Conflict` naming the open one)."""
    if trigger not in TRIGGERS:
        raise Invalid(f"A review is opened by one of {', '.join(TRIGGERS)}.", field="trigger")
    now = now or utcnow()
    if conn.execute(select(workers.c.id).where(workers.c.id == worker_id)).first() is None:
        raise NotFound(f"No worker with id {worker_id}.")
    existing = conn.execute(select(worker_reviews.c.id).where(
        worker_reviews.c.project_id == project.id, worker_reviews.c.worker_id == worker_id,
        worker_reviews.c.status == "open")).scalar()
    if existing is not None:
        raise Conflict(f"Review #{existing} of this worker in project {project.name!r} is "
                       "already open; decide it first.")
    review_id = inserted_id(conn.execute(worker_reviews.insert().values(
        project_id=project.id, worker_id=worker_id, trigger=trigger, score=score,
        threshold=threshold, status="open", opened_by=opened_by, opened_at=now)))
    ledger.append(conn, "worker_review.opened", actor=actor, project_id=project.id,
                  body={"review": review_id, "worker": worker_id, "trigger": trigger,
                        "score": None if score is None else round(score, 6),
                        "threshold": threshold, "opened_by": opened_by})
    return review_id


def check_low_score(conn: Connection, project: Any, worker_id: int, *,
                    now: datetime | None = None) -> int | None:
    """Open a low-score review when the worker's gold accuracy is below the project's
    threshold (see the module docstring); returns its id, or None when nothing opened.
    Costs nothing when the project sets no threshold."""
    threshold = getattr(project, "score_review_below", None)
    if threshold is None:
        return None
    min_gold = int(getattr(project, "score_review_min_gold", 10))
    sql = Sql(conn)
    row = sql.first("SELECT gold_answered, gold_correct FROM worker_scores "
                    "WHERE project_id = ? AND worker_id = ?", (project.id, worker_id))
    if row is None or int(row[0]) < min_gold:
        return None
    accuracy = int(row[1]) / int(row[0])
    if accuracy >= float(threshold):
        return None
    latest = sql.first("SELECT status, decided_at FROM worker_reviews WHERE project_id = ? "
                       "AND worker_id = ? ORDER BY id DESC LIMIT 1", (project.id, worker_id))
    if latest is not None:
        if latest[0] in ("open", "removed"):
            return None
        since = sql.scalar(
            "SELECT count(*) FROM annotations a JOIN items i ON i.id = a.item_id "
            "WHERE a.project_id = ? AND a.worker_id = ? AND a.is_gold = ? "
            "AND i.is_qualification = ? AND a.gold_correct IS NOT NULL AND a.submitted_at > ?",
            (project.id, worker_id, True, False, sql.ts(sql.read_ts(latest[1]))))
        if int(since) < min_gold:
            return None
    return open_review(conn, project, worker_id, trigger="low_score", score=accuracy,
                       threshold=float(threshold), actor="system", now=now)


def _review(conn: Connection, project: Any, review_id: int) -> Any:
    row = conn.execute(select(worker_reviews).where(worker_reviews.c.id == review_id)).first()
    if row is None or row.project_id != project.id:
        raise NotFound(f"No worker review #{review_id} in project {project.name!r}.")
    return row


def _release_leases(conn: Connection, project: Any, worker_id: int, reason: str,
                    now: datetime) -> list[int]:
    from handloom.work import routing  # routing imports labor.access; keep the cycle lazy

    leases = conn.execute(select(assignments.c.id).where(
        assignments.c.project_id == project.id, assignments.c.worker_id == worker_id,
        assignments.c.status == "leased").order_by(assignments.c.id)).scalars().all()
    for assignment_id in leases:
        routing.close_lease(conn, project, worker_id, int(assignment_id), status="released",
                            reason=reason, now=now)
    return [int(a) for a in leases]


def decide(conn: Connection, project: Any, review_id: int, *, remove: bool, reason: str,
           decider_user_id: int, actor: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """A person decides an open review: keep the worker, or remove them from the project,
    with a reason the worker sees. A removal releases the worker's open leases there."""
    now = now or utcnow()
    reason = _reason(reason)
    row = _review(conn, project, review_id)
    if row.status != "open":
        raise Conflict(f"Worker review #{review_id} was already decided ({row.status}).")
    status = "removed" if remove else "kept"
    changed = conn.execute(worker_reviews.update().where(
        worker_reviews.c.id == review_id, worker_reviews.c.status == "open").values(
        status=status, decided_by=decider_user_id, decided_at=now, reason=reason)).rowcount
    if changed != 1:
        raise Conflict(f"Worker review #{review_id} was decided meanwhile.")
    released = (_release_leases(conn, project, int(row.worker_id), "removed from project", now)
                if remove else [])
    ledger.append(conn, "worker_review.decided", actor=actor or f"user:{decider_user_id}",
                  project_id=project.id,
                  body={"review": review_id, "worker": int(row.worker_id), "status": status,
                        "reason_chars": len(reason), "released": released})
    return {"review": review_id, "status": status, "released": len(released),
            "decided_at": now.isoformat()}


def reinstate(conn: Connection, project: Any, review_id: int, *, appeal_id: int, actor: str,
              now: datetime | None = None) -> dict[str, Any]:
    """An upheld appeal against a removal: the review becomes ``reinstated`` and the
    project is open to the worker again."""
    row = _review(conn, project, review_id)
    if row.status != "removed":
        raise Conflict(f"Worker review #{review_id} is {row.status}, not a removal.")
    conn.execute(worker_reviews.update().where(worker_reviews.c.id == review_id)
                 .values(status="reinstated"))
    ledger.append(conn, "worker_review.reinstated", actor=actor, project_id=project.id,
                  body={"review": review_id, "worker": int(row.worker_id),
                        "appeal": appeal_id})
    return {"review": review_id, "status": "reinstated"}


def close_open_as_kept(conn: Connection, project: Any, worker_id: int, *, appeal_id: int,
                       decider_user_id: int, reason: str, actor: str,
                       now: datetime | None = None) -> int | None:
    """Close the worker's open review (if any) as kept, because an appeal against the score
    behind it was upheld. Returns the review's id, or None."""
    now = now or utcnow()
    review_id = conn.execute(select(worker_reviews.c.id).where(
        worker_reviews.c.project_id == project.id, worker_reviews.c.worker_id == worker_id,
        worker_reviews.c.status == "open")).scalar()
    if review_id is None:
        return None
    text = f"Closed by upheld appeal #{appeal_id}: {reason}"[:MAX_REASON_CHARS]
    conn.execute(worker_reviews.update().where(worker_reviews.c.id == review_id).values(
        status="kept", decided_by=decider_user_id, decided_at=now, reason=text))
    ledger.append(conn, "worker_review.decided", actor=actor, project_id=project.id,
                  body={"review": int(review_id), "worker": worker_id, "status": "kept",
                        "reason_chars": len(text), "released": [], "appeal": appeal_id})
    return int(review_id)


def find_worker(conn: Connection, project: Any, who: str) -> int:
    """A worker of the project by pseudonym (as staff see them), or by ref."""
    ids = conn.execute(select(assignments.c.worker_id).where(
        assignments.c.project_id == project.id).distinct()).scalars().all()
    for worker_id in ids:
        if pseudonym(project.pseudonym_secret, int(worker_id)) == who:
            return int(worker_id)
    found = conn.execute(select(workers.c.id).where(workers.c.ref == who)).scalar()
    if found is None:
        raise NotFound(f"No worker {who!r} in project {project.name!r} (give the pseudonym "
                       "shown on the project's pages, or the worker's ref).", field="worker")
    return int(found)


def project_workers(conn: Connection, project: Any) -> list[str]:
    """Pseudonyms of the workers who took items in the project and have no open review
    (those a manager may open a review of), sorted."""
    under_review = set(conn.execute(select(worker_reviews.c.worker_id).where(
        worker_reviews.c.project_id == project.id,
        worker_reviews.c.status == "open")).scalars())
    ids = conn.execute(select(assignments.c.worker_id).where(
        assignments.c.project_id == project.id).distinct()).scalars().all()
    return sorted(pseudonym(project.pseudonym_secret, int(w)) for w in ids
                  if int(w) not in under_review)


# ------------------------------------------------------------------ reading
def _usernames(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.id, users.c.username)
                             .where(users.c.id.in_(ids))).all())


def _latest_appeals(conn: Connection, review_ids: list[int]) -> dict[int, Any]:
    if not review_ids:
        return {}
    rows = conn.execute(select(appeals.c.id, appeals.c.subject_id, appeals.c.status,
                               appeals.c.due_at)
                        .where(appeals.c.subject_type == "removal",
                               appeals.c.subject_id.in_(review_ids))
                        .order_by(appeals.c.id)).all()
    return {int(r.subject_id): r for r in rows}


def _entry(r: Any, names: dict[int, str], appeal: Any) -> dict[str, Any]:
    return {
        "id": int(r.id), "trigger": r.trigger, "status": r.status,
        "score": r.score, "threshold": r.threshold,
        "opened_at": as_utc(r.opened_at).isoformat(),
        "opened_by": names.get(r.opened_by) if r.opened_by else None,
        "decided_at": None if r.decided_at is None else as_utc(r.decided_at).isoformat(),
        "decided_by": names.get(r.decided_by) if r.decided_by else None,
        "reason": r.reason,
        "appeal": None if appeal is None else {
            "id": int(appeal.id), "status": appeal.status,
            "due_at": as_utc(appeal.due_at).isoformat()},
    }


def list_reviews(conn: Connection, project: Any, *, status: str | None = None,
                 limit: int = 500) -> list[dict[str, Any]]:
    """The project's worker reviews, open ones first, workers by per-project pseudonym,
    each with the worker's gold figures now."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"Unknown review status {status!r}; choose one of "
                      f"{', '.join(STATUSES)}.", field="status")
    query = (select(worker_reviews, worker_scores.c.gold_answered, worker_scores.c.gold_correct)
             .select_from(worker_reviews.outerjoin(worker_scores, (
                 worker_scores.c.project_id == worker_reviews.c.project_id) & (
                 worker_scores.c.worker_id == worker_reviews.c.worker_id)))
             .where(worker_reviews.c.project_id == project.id))
    if status is not None:
        query = query.where(worker_reviews.c.status == status)
    rows = sorted(conn.execute(query.order_by(worker_reviews.c.id.desc()).limit(limit)).all(),
                  key=lambda r: r.status != "open")
    names = _usernames(conn, {int(x) for r in rows for x in (r.opened_by, r.decided_by) if x})
    found = _latest_appeals(conn, [int(r.id) for r in rows])
    out = []
    for r in rows:
        entry = _entry(r, names, found.get(int(r.id)))
        entry["worker"] = pseudonym(project.pseudonym_secret, int(r.worker_id))
        answered = int(r.gold_answered or 0)
        entry["gold_answered"] = answered
        entry["gold_correct"] = int(r.gold_correct or 0)
        entry["gold_accuracy"] = (int(r.gold_correct or 0) / answered) if answered else None
        out.append(entry)
    return out


def for_worker(conn: Connection, worker_id: int) -> list[dict[str, Any]]:
    """Every review of this worker, in every project, newest first: why it opened, the
    decision and its reason, and any appeal."""
    rows = conn.execute(
        select(worker_reviews, projects.c.name.label("project_name"),
               projects.c.title.label("project_title"),
               projects.c.appeal_deadline_days)
        .join(projects, projects.c.id == worker_reviews.c.project_id)
        .where(worker_reviews.c.worker_id == worker_id)
        .order_by(worker_reviews.c.id.desc())).all()
    names = _usernames(conn, {int(x) for r in rows for x in (r.opened_by, r.decided_by) if x})
    found = _latest_appeals(conn, [int(r.id) for r in rows])
    out = []
    for r in rows:
        entry = _entry(r, names, found.get(int(r.id)))
        # Which person decided is the staff's business; the worker sees the decision.
        entry.pop("opened_by")
        entry.pop("decided_by")
        entry.update({"project": r.project_name, "title": r.project_title,
                      "appeal_deadline_days": int(r.appeal_deadline_days),
                      "appealable": r.status == "removed" and (
                          found.get(int(r.id)) is None
                          or found[int(r.id)].status != "open")})
        out.append(entry)
    return out


def project_counts(conn: Connection, project: Any) -> dict[str, int]:
    """Reviews of the project's workers by status (for the manager's page)."""
    counts: dict[str, int] = dict(conn.execute(
        select(worker_reviews.c.status, func.count()).where(
            worker_reviews.c.project_id == project.id)
        .group_by(worker_reviews.c.status)).all())
    return {s: int(counts.get(s, 0)) for s in STATUSES}
