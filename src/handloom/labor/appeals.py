"""Appeals: a worker contests a decision about their work, and a person decides.

Four things can be appealed (``subject_type``): a rejected answer (``rejection``, the
annotation's id), a gold answer scored wrong (``gold_failure``, the annotation's id), the
worker's gold score in a project (``score``, no id), and a removal from a project
(``removal``, the worker review's id). Each subject has at most one open appeal.

The decision is due ``appeal_deadline_days`` after filing. It is made by a reviewer, manager
or owner who did not make the contested decision (``contested_by``: who rejected the answer
or decided the removal; nobody for automatic gold scoring), with a reason the worker sees.
An upheld appeal restores what the decision took, in the same transaction:

- rejection: the answer is accepted again and what was clawed back is paid back;
- gold_failure: the answer counts as correct and the worker's gold figures are recounted;
- score: every ordinary gold failure of the worker in the project is struck (no longer
  scored) and the figures recounted; an open low-score review is closed as kept;
- removal: the worker is reinstated and the project is open to them again.

What was restored is kept with the appeal (``restored``) and on the ledger. The statement is
the worker's own words: it is shown to the worker and to the people who decide, and never
written to the ledger (only its length).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Conflict, Forbidden, Invalid, NotFound
from handloom.labor import standing, timekeeping
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.schema import annotations as answers
from handloom.store.schema import (
    appeals,
    items,
    users,
    worker_reviews,
    worker_scores,
)
from handloom.work import quality
from handloom.work.projects import from_minor_units, get_project, kind_of

SUBJECT_TYPES = ("rejection", "gold_failure", "score", "removal")
SUBJECT_LABELS = {"rejection": "a rejected answer", "gold_failure": "a gold answer scored wrong",
                  "score": "your gold score", "removal": "your removal from the project"}
STATUS_FILTERS = ("open", "overdue", "upheld", "denied", "decided", "all")
MAX_STATEMENT_CHARS = 5000
MAX_REASON_CHARS = 5000


def _full(conn: Connection, project: Any) -> Any:
    return project if hasattr(project, "appeal_deadline_days") else get_project(
        conn, int(project.id))


def _text(value: str | None, field: str, limit: int, empty: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(empty, field=field)
    if len(value) > limit:
        raise Invalid(f"Keep the {field} under {limit} characters (it has {len(value)}).",
                      field=field)
    return value


def _own_annotation(conn: Connection, project: Any, worker_id: int, annotation_id: Any) -> Any:
    if annotation_id is None:
        raise Invalid("Say which answer you appeal (subject_id: the answer's id).",
                      field="subject_id")
    row = conn.execute(select(answers).where(answers.c.id == int(annotation_id))).first()
    if row is None or row.project_id != project.id or row.worker_id != worker_id:
        raise NotFound(f"No answer #{annotation_id} of yours in project {project.name!r}.")
    return row


def _contested_by(conn: Connection, project: Any, worker_id: int, subject_type: str,
                  subject_id: int | None) -> int | None:
    """Check the subject is the worker's own and contestable; return who decided it."""
    if subject_type == "rejection":
        row = _own_annotation(conn, project, worker_id, subject_id)
        if row.review_status != "rejected":
            raise Conflict(f"Answer #{subject_id} is {row.review_status}, not rejected; there "
                           "is nothing to appeal.")
        return None if row.reviewed_by is None else int(row.reviewed_by)
    if subject_type == "gold_failure":
        row = _own_annotation(conn, project, worker_id, subject_id)
        if not row.is_gold or row.gold_correct is None or bool(row.gold_correct):
            raise Conflict(f"Answer #{subject_id} is not a gold answer scored wrong; there is "
                           "nothing to appeal.")
        return None
    if subject_type == "score":
        if subject_id is not None:
            raise Invalid("A score appeal concerns your whole score in the project; leave "
                          "subject_id empty.", field="subject_id")
        score = conn.execute(select(worker_scores.c.gold_answered, worker_scores.c.gold_correct)
                             .where(worker_scores.c.project_id == project.id,
                                    worker_scores.c.worker_id == worker_id)).first()
        if score is None or int(score.gold_answered) <= int(score.gold_correct):
            raise Conflict(f"Your gold score in project {project.name!r} has no failures to "
                           "contest.")
        return None
    if subject_type == "removal":
        if subject_id is None:
            raise Invalid("Say which removal you appeal (subject_id: the review's id).",
                          field="subject_id")
        review = conn.execute(select(worker_reviews).where(
            worker_reviews.c.id == int(subject_id))).first()
        if review is None or review.project_id != project.id or review.worker_id != worker_id:
            raise NotFound(f"No review #{subject_id} of you in project {project.name!r}.")
        if review.status != "removed":
            raise Conflict(f"Review #{subject_id} is {review.status}; only a removal can be "
                           "appealed.")
        return None if review.decided_by is None else int(review.decided_by)
    raise Invalid(f"An appeal concerns one of: {', '.join(SUBJECT_TYPES)}.",
                  field="subject_type")


def file(conn: Connection, project: Any, worker_id: int, subject_type: str,
         subject_id: int | None, statement: str, *, active_seconds: float | None = None,
         now: datetime | None = None) -> int:
    """File an appeal; returns its id. *active_seconds* (time spent writing it) is recorded
    as ``appeal`` time, which counts as work."""
    now = now or utcnow()
    project = _full(conn, project)
    statement = _text(statement, "statement", MAX_STATEMENT_CHARS,
                      "Say in your own words why the decision is wrong; the person who "
                      "decides reads it.")
    contested_by = _contested_by(conn, project, worker_id, subject_type, subject_id)
    same = conn.execute(select(appeals.c.id).where(
        appeals.c.project_id == project.id, appeals.c.worker_id == worker_id,
        appeals.c.subject_type == subject_type, appeals.c.status == "open",
        appeals.c.subject_id.is_(None) if subject_id is None
        else appeals.c.subject_id == int(subject_id))).scalar()
    if same is not None:
        raise Conflict(f"Your appeal #{same} against {SUBJECT_LABELS[subject_type]} is still "
                       "open; one open appeal per decision.")
    due = now + timedelta(days=int(project.appeal_deadline_days))
    appeal_id = inserted_id(conn.execute(appeals.insert().values(
        project_id=project.id, worker_id=worker_id, subject_type=subject_type,
        subject_id=None if subject_id is None else int(subject_id), statement=statement,
        status="open", contested_by=contested_by, created_at=now, due_at=due)))
    ledger.append(conn, "appeal.filed", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"appeal": appeal_id, "worker": worker_id, "subject_type": subject_type,
                        "subject_id": subject_id, "statement_chars": len(statement),
                        "contested_by": contested_by, "due_at": due.isoformat()})
    if active_seconds:
        timekeeping.record(conn, project.id, worker_id, "appeal", float(active_seconds),
                           ref_id=appeal_id)
    return appeal_id


# ------------------------------------------------------------------ deciding
def _restore(conn: Connection, project: Any, appeal: Any, decider_user_id: int, reason: str,
             actor: str, now: datetime) -> dict[str, Any]:
    from handloom.labor import pay  # written alongside; imported where it is needed

    worker_id = int(appeal.worker_id)
    if appeal.subject_type == "rejection":
        annotation_id = int(appeal.subject_id)
        # The rejection's reason stays (it is what was contested); who restored it and when
        # replace the rejecting reviewer and time, and the appeal keeps the decision's reason.
        conn.execute(answers.update().where(answers.c.id == annotation_id).values(
            review_status="accepted", fraud=False, reviewed_by=decider_user_id,
            reviewed_at=now))
        amount = pay.restore_annotation(conn, project, annotation_id, appeal_id=int(appeal.id),
                                        actor=actor)
        ledger.append(conn, "annotation.restored", actor=actor, project_id=project.id,
                      body={"annotation": annotation_id, "appeal": int(appeal.id),
                            "worker": worker_id, "restored_minor": amount})
        return {"annotation": annotation_id, "review_status": "accepted",
                "pay_restored_minor": amount, "currency": project.currency}
    if appeal.subject_type == "gold_failure":
        annotation_id = int(appeal.subject_id)
        conn.execute(answers.update().where(answers.c.id == annotation_id)
                     .values(gold_correct=True))
        scores = quality.rescore_gold(conn, project, worker_id, now)
        closed = _close_review_if_recovered(conn, project, worker_id, appeal, decider_user_id,
                                            reason, actor, now)
        return {"annotation": annotation_id, "gold_correct": True, **scores,
                "closed_review": closed}
    if appeal.subject_type == "score":
        struck = [int(i) for i in conn.execute(
            select(answers.c.id).join(items, items.c.id == answers.c.item_id).where(
                answers.c.project_id == project.id, answers.c.worker_id == worker_id,
                answers.c.is_gold.is_(True), items.c.is_qualification.is_(False),
                answers.c.gold_correct.is_(False)).order_by(answers.c.id)).scalars()]
        if struck:
            conn.execute(answers.update().where(answers.c.id.in_(struck))
                         .values(gold_correct=None))
        scores = quality.rescore_gold(conn, project, worker_id, now)
        closed = standing.close_open_as_kept(conn, project, worker_id, appeal_id=int(appeal.id),
                                             decider_user_id=decider_user_id, reason=reason,
                                             actor=actor, now=now)
        return {"struck_gold_failures": struck, **scores, "closed_review": closed}
    review_id = int(appeal.subject_id)
    standing.reinstate(conn, project, review_id, appeal_id=int(appeal.id), actor=actor, now=now)
    return {"review": review_id, "status": "reinstated"}


def _close_review_if_recovered(conn: Connection, project: Any, worker_id: int, appeal: Any,
                               decider_user_id: int, reason: str, actor: str,
                               now: datetime) -> int | None:
    """After a gold answer was rescored: an open low-score review whose score is no longer
    below the threshold is closed as kept."""
    threshold = project.score_review_below
    open_low = conn.execute(select(worker_reviews.c.id).where(
        worker_reviews.c.project_id == project.id, worker_reviews.c.worker_id == worker_id,
        worker_reviews.c.status == "open", worker_reviews.c.trigger == "low_score")).scalar()
    if open_low is None or threshold is None:
        return None
    score = conn.execute(select(worker_scores.c.gold_answered, worker_scores.c.gold_correct)
                         .where(worker_scores.c.project_id == project.id,
                                worker_scores.c.worker_id == worker_id)).first()
    if score is None or not score.gold_answered or (
            int(score.gold_correct) / int(score.gold_answered) < float(threshold)):
        return None
    return standing.close_open_as_kept(conn, project, worker_id, appeal_id=int(appeal.id),
                                       decider_user_id=decider_user_id, reason=reason,
                                       actor=actor, now=now)


def decide(conn: Connection, project: Any, appeal_id: int, decider_user_id: int, *,
           uphold: bool, reason: str, actor: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Decide an open appeal with a reason the worker sees; when upheld, restore what the
    contested decision took (see the module docstring). The person who made the contested
    decision may not decide (:class:`Forbidden`)."""
    now = now or utcnow()
    actor = actor or f"user:{decider_user_id}"
    project = _full(conn, project)
    reason = _text(reason, "reason", MAX_REASON_CHARS,
                   "Give a reason for the decision; the worker reads it.")
    row = conn.execute(select(appeals).where(appeals.c.id == appeal_id).with_for_update()).first()
    if row is None or row.project_id != project.id:
        raise NotFound(f"No appeal #{appeal_id} in project {project.name!r}.")
    if row.status != "open":
        raise Conflict(f"Appeal #{appeal_id} was already decided ({row.status}).")
    if row.contested_by is not None and int(row.contested_by) == decider_user_id:
        raise Forbidden(f"You made the decision appeal #{appeal_id} contests, so someone else "
                        "must decide it: another reviewer, a manager or an owner.")
    status = "upheld" if uphold else "denied"
    changed = conn.execute(appeals.update().where(
        appeals.c.id == appeal_id, appeals.c.status == "open").values(
        status=status, decided_by=decider_user_id, decision_reason=reason,
        decided_at=now)).rowcount
    if changed != 1:  # decided concurrently (SQLite has no row locks)
        raise Conflict(f"Appeal #{appeal_id} was decided meanwhile.")
    restored = _restore(conn, project, row, decider_user_id, reason, actor, now) if uphold \
        else None
    if restored is not None:
        conn.execute(appeals.update().where(appeals.c.id == appeal_id)
                     .values(restored=restored))
    ledger.append(conn, "appeal.decided", actor=actor, project_id=project.id,
                  body={"appeal": appeal_id, "worker": int(row.worker_id), "status": status,
                        "reason_chars": len(reason), "decider": decider_user_id,
                        "overdue": as_utc(row.due_at) < now, "restored": restored})
    return {"appeal": appeal_id, "status": status, "restored": restored,
            "decided_at": now.isoformat()}


# ------------------------------------------------------------------ reading
def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _subject(conn: Connection, project: Any, subject_type: str,
             subject_id: int | None, worker_id: int) -> dict[str, Any]:
    """What an appeal is about, in plain words and figures (for the worker and deciders)."""
    if subject_type in ("rejection", "gold_failure") and subject_id is not None:
        row = conn.execute(select(answers, items.c.external_id, items.c.gold_answer)
                           .join(items, items.c.id == answers.c.item_id)
                           .where(answers.c.id == subject_id)).first()
        if row is None:
            return {"label": SUBJECT_LABELS[subject_type]}
        kind = kind_of(project)
        out: dict[str, Any] = {
            "label": SUBJECT_LABELS[subject_type], "annotation": int(row.id),
            "item": row.external_id, "answer": kind.summarize(row.answer),
            "submitted_at": _iso(row.submitted_at), "review_status": row.review_status}
        if subject_type == "rejection":
            out.update({"rejection_reason": row.review_note, "fraud": bool(row.fraud),
                        "rejected_at": _iso(row.reviewed_at)})
        else:
            out["expected"] = (kind.summarize(row.gold_answer)
                               if row.gold_answer is not None else None)
            out["gold_correct"] = row.gold_correct
        return out
    if subject_type == "score":
        score = quality.worker_score(conn, project, worker_id)
        return {"label": SUBJECT_LABELS["score"], "gold_answered": score["gold_answered"],
                "gold_correct": score["gold_correct"], "gold_accuracy": score["gold_accuracy"]}
    review = conn.execute(select(worker_reviews).where(
        worker_reviews.c.id == subject_id)).first() if subject_id is not None else None
    if review is None:
        return {"label": SUBJECT_LABELS.get(subject_type, subject_type)}
    return {"label": SUBJECT_LABELS["removal"], "review": int(review.id),
            "trigger": review.trigger, "review_status": review.status,
            "removal_reason": review.reason, "decided_at": _iso(review.decided_at)}


def describe_restored(restored: dict[str, Any] | None) -> str:
    """What an upheld appeal gave back, in one or two plain sentences."""
    if not restored:
        return ""
    parts = []
    if "pay_restored_minor" in restored:
        amount = int(restored["pay_restored_minor"])
        currency = str(restored.get("currency") or "")
        parts.append("The answer counts as accepted again"
                     + (f"; {currency} {from_minor_units(amount, currency)} of pay was "
                        "restored." if amount else "; no pay had been withheld."))
    if "struck_gold_failures" in restored:
        n = len(restored["struck_gold_failures"])
        parts.append(f"{n} gold failure{'' if n == 1 else 's'} struck from the score.")
    elif restored.get("gold_correct"):
        parts.append("The gold answer counts as correct.")
    after = restored.get("gold_after")
    if after:
        parts.append(f"Gold score now: {after['correct']} of {after['answered']} correct.")
    if restored.get("qualification_after"):
        test = restored["qualification_after"]
        parts.append(f"Qualification test now: {test['correct']} correct, "
                     f"{'passed' if test['passed'] else 'not passed'}.")
    if restored.get("status") == "reinstated":
        parts.append("Reinstated: the project is open to the worker again.")
    if restored.get("closed_review"):
        parts.append(f"Review #{restored['closed_review']} of the worker was closed (kept).")
    return " ".join(parts)


def _base(row: Any, now: datetime) -> dict[str, Any]:
    overdue = row.status == "open" and as_utc(row.due_at) < now
    return {"id": int(row.id), "subject_type": row.subject_type,
            "subject_id": None if row.subject_id is None else int(row.subject_id),
            "status": row.status, "overdue": overdue, "statement": row.statement,
            "created_at": _iso(row.created_at), "due_at": _iso(row.due_at),
            "decided_at": _iso(row.decided_at), "decision_reason": row.decision_reason,
            "restored": row.restored, "restored_text": describe_restored(row.restored)}


def for_worker(conn: Connection, worker_id: int, *,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """The worker's own appeals, newest first: what each is about, the statement, its
    status and due date, and the decision with its reason and what was restored."""
    now = now or utcnow()
    rows = conn.execute(select(appeals).where(appeals.c.worker_id == worker_id)
                        .order_by(appeals.c.id.desc())).all()
    cache: dict[int, Any] = {}
    out = []
    for r in rows:
        project = cache.get(r.project_id) or cache.setdefault(
            r.project_id, get_project(conn, int(r.project_id)))
        entry = _base(r, now)
        entry.update({"project": project.name, "title": project.title,
                      "subject": _subject(conn, project, r.subject_type, r.subject_id,
                                          worker_id)})
        out.append(entry)
    return out


def _decider_entry(conn: Connection, p: Any, r: Any, names: dict[int, str],
                   decider_user_id: int | None, now: datetime) -> dict[str, Any]:
    entry = _base(r, now)
    entry.update({
        "project": p.name, "title": p.title,
        "worker": pseudonym(p.pseudonym_secret, int(r.worker_id)),
        "subject": _subject(conn, p, r.subject_type, r.subject_id, int(r.worker_id)),
        "contested_by": names.get(r.contested_by) if r.contested_by else None,
        "decided_by": names.get(r.decided_by) if r.decided_by else None,
        "may_decide": r.status == "open" and (
            decider_user_id is None or r.contested_by is None
            or int(r.contested_by) != decider_user_id),
    })
    return entry


def _entries(conn: Connection, rows: list[Any], decider_user_id: int | None,
             now: datetime) -> list[dict[str, Any]]:
    names: dict[int, str] = dict(conn.execute(select(users.c.id, users.c.username).where(
        users.c.id.in_({int(x) for r in rows for x in (r.contested_by, r.decided_by) if x}))
    ).all())
    cache: dict[int, Any] = {}
    out = []
    for r in rows:
        p = cache.get(r.project_id) or cache.setdefault(
            r.project_id, get_project(conn, int(r.project_id)))
        out.append(_decider_entry(conn, p, r, names, decider_user_id, now))
    return out


def queue(conn: Connection, *, project: Any | None = None, status: str = "open",
          decider_user_id: int | None = None, now: datetime | None = None,
          limit: int = 500) -> list[dict[str, Any]]:
    """Appeals for the people who decide them: open ones by due date (so the overdue come
    first), then decided ones newest first. Workers appear by per-project pseudonym; the
    statement is included (deciders must read it); ``may_decide`` is false where
    *decider_user_id* made the contested decision."""
    if status not in STATUS_FILTERS:
        raise Invalid(f"Unknown appeal status {status!r}; choose one of "
                      f"{', '.join(STATUS_FILTERS)}.", field="status")
    now = now or utcnow()
    base = select(appeals)
    if project is not None:
        base = base.where(appeals.c.project_id == project.id)
    rows: list[Any] = []
    if status in ("open", "overdue", "all"):
        waiting = base.where(appeals.c.status == "open")
        if status == "overdue":
            waiting = waiting.where(appeals.c.due_at < now)
        rows += conn.execute(waiting.order_by(appeals.c.due_at, appeals.c.id)
                             .limit(limit)).all()
    if status not in ("open", "overdue") and len(rows) < limit:
        decided = base.where(appeals.c.status != "open") if status in ("decided", "all") \
            else base.where(appeals.c.status == status)
        rows += conn.execute(decided.order_by(appeals.c.decided_at.desc(), appeals.c.id.desc())
                             .limit(limit - len(rows))).all()
    return _entries(conn, rows, decider_user_id, now)


def get(conn: Connection, appeal_id: int, *, decider_user_id: int | None = None,
        now: datetime | None = None) -> dict[str, Any]:
    """One appeal as the deciders see it (see :func:`queue`)."""
    row = conn.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
    if row is None:
        raise NotFound(f"No appeal #{appeal_id}.")
    return _entries(conn, [row], decider_user_id, now or utcnow())[0]


def appealable(conn: Connection, worker_id: int, *, project: Any | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    """The decisions about this worker's work that they may appeal, newest first: rejected
    answers, gold answers scored wrong, a gold score with failures, removals. Each names any
    appeal already filed against it (``appeal``: id and status)."""
    filed: dict[tuple[int, str, int | None], Any] = {}
    query = select(appeals).where(appeals.c.worker_id == worker_id).order_by(appeals.c.id)
    if project is not None:
        query = query.where(appeals.c.project_id == project.id)
    for a in conn.execute(query):
        filed[(int(a.project_id), a.subject_type,
               None if a.subject_id is None else int(a.subject_id))] = a
    cache: dict[int, Any] = {}

    def proj(pid: int) -> Any:
        return cache.get(pid) or cache.setdefault(pid, get_project(conn, pid))

    out: list[dict[str, Any]] = []

    def add(pid: int, subject_type: str, subject_id: int | None, when: datetime | None,
            **details: Any) -> None:
        p = proj(pid)
        a = filed.get((pid, subject_type, subject_id))
        out.append({"project": p.name, "title": p.title, "subject_type": subject_type,
                    "subject_id": subject_id, "label": SUBJECT_LABELS[subject_type],
                    "when": _iso(when), **details,
                    "appeal": None if a is None else {"id": int(a.id), "status": a.status},
                    "can_appeal": a is None or a.status != "open"})

    cond = [answers.c.worker_id == worker_id]
    if project is not None:
        cond.append(answers.c.project_id == project.id)
    rows = conn.execute(
        select(answers, items.c.external_id, items.c.gold_answer, items.c.is_qualification)
        .join(items, items.c.id == answers.c.item_id)
        .where(*cond, (answers.c.review_status == "rejected")
               | ((answers.c.is_gold.is_(True)) & (answers.c.gold_correct.is_(False))))
        .order_by(answers.c.id.desc()).limit(limit)).all()
    for r in rows:
        kind = kind_of(proj(int(r.project_id)))
        if r.review_status == "rejected":
            add(int(r.project_id), "rejection", int(r.id), r.reviewed_at, item=r.external_id,
                answer=kind.summarize(r.answer), reason=r.review_note, fraud=bool(r.fraud))
        if r.is_gold and r.gold_correct is False:
            add(int(r.project_id), "gold_failure", int(r.id), r.submitted_at,
                item=r.external_id, answer=kind.summarize(r.answer),
                expected=(kind.summarize(r.gold_answer) if r.gold_answer is not None
                          else None), qualification=bool(r.is_qualification))
    score_cond = [worker_scores.c.worker_id == worker_id,
                  worker_scores.c.gold_answered > worker_scores.c.gold_correct]
    if project is not None:
        score_cond.append(worker_scores.c.project_id == project.id)
    for s in conn.execute(select(worker_scores).where(*score_cond)):
        add(int(s.project_id), "score", None, s.updated_at,
            gold_answered=int(s.gold_answered), gold_correct=int(s.gold_correct))
    review_cond = [worker_reviews.c.worker_id == worker_id, worker_reviews.c.status == "removed"]
    if project is not None:
        review_cond.append(worker_reviews.c.project_id == project.id)
    for w in conn.execute(select(worker_reviews).where(*review_cond)):
        add(int(w.project_id), "removal", int(w.id), w.decided_at, reason=w.reason)
    out.sort(key=lambda e: e["when"] or "", reverse=True)
    return out


def project_counts(conn: Connection, project: Any, *,
                   now: datetime | None = None) -> dict[str, int]:
    """Appeals of a project by state (open, overdue among the open, upheld, denied)."""
    now = now or utcnow()
    by_status: dict[str, int] = dict(conn.execute(select(appeals.c.status, func.count()).where(
        appeals.c.project_id == project.id).group_by(appeals.c.status)).all())
    overdue = conn.execute(select(func.count()).select_from(appeals).where(
        appeals.c.project_id == project.id, appeals.c.status == "open",
        appeals.c.due_at < now)).scalar_one()
    return {"open": int(by_status.get("open", 0)), "overdue": int(overdue),
            "upheld": int(by_status.get("upheld", 0)),
            "denied": int(by_status.get("denied", 0))}


def open_counts(conn: Connection, *, now: datetime | None = None) -> dict[str, int]:
    """Open and overdue appeals across every project (for the deciders' menu)."""
    now = now or utcnow()
    open_n = conn.execute(select(func.count()).select_from(appeals)
                          .where(appeals.c.status == "open")).scalar_one()
    overdue = conn.execute(select(func.count()).select_from(appeals).where(
        appeals.c.status == "open", appeals.c.due_at < now)).scalar_one()
    return {"open": int(open_n), "overdue": int(overdue)}

