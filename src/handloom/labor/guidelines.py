"""Guideline issues: workers flag unclear instructions or out-of-scope items, add their
weight to each other's flags, and see the answers; managers answer them, one by one or with
a new instruction version that records which flags it answers.

A flag's note is shown, without its author, to the other workers of the project (so they
can add their +1) and to the staff; the ledger records that a flag was raised, supported or
answered, never the words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.schema import guideline_issues, guideline_supports, items, projects

KINDS = ("unclear", "out_of_scope")
MAX_NOTE_CHARS = 5000
MAX_ANSWER_CHARS = 20000


def flag(conn: Connection, project: Any, worker_id: int, *, kind: str, note: str,
         item_external_id: str | None = None) -> int:
    """Record a worker's flag on the project's current instructions (and item, if given).
    The author counts as its first supporter."""
    if kind not in KINDS:
        raise Invalid(f"A flag is one of {', '.join(KINDS)}.", field="kind")
    note = note.strip()
    if not note:
        raise Invalid("Say in a few words what is unclear, so the manager can answer it.",
                      field="note")
    if len(note) > MAX_NOTE_CHARS:
        raise Invalid(f"A flag note may have at most {MAX_NOTE_CHARS} characters.",
                      field="note")
    item_id = None
    if item_external_id:
        item_id = conn.execute(select(items.c.id).where(
            items.c.project_id == project.id, items.c.external_id == item_external_id)).scalar()
    now = utcnow()
    issue_id = inserted_id(conn.execute(guideline_issues.insert().values(
        project_id=project.id, worker_id=worker_id, item_id=item_id, kind=kind, note=note,
        instruction_version=project.instruction_version, supporters=1, status="open",
        created_at=now)))
    conn.execute(guideline_supports.insert().values(issue_id=issue_id, worker_id=worker_id,
                                                    created_at=now))
    # The note is the worker's own words: the ledger keeps that a flag was raised, not the text.
    ledger.append(conn, "guideline.flagged", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"issue": issue_id, "kind": kind, "item": item_id,
                        "instruction_version": project.instruction_version})
    return issue_id


def _issue(conn: Connection, project: Any, issue_id: int) -> Any:
    row = conn.execute(select(guideline_issues).where(guideline_issues.c.id == issue_id)).first()
    if row is None or row.project_id != project.id:
        raise NotFound(f"No flag #{issue_id} in project {project.name!r}.")
    return row


def support(conn: Connection, project: Any, issue_id: int, worker_id: int) -> dict[str, Any]:
    """Add the worker's +1 to an open flag (once per worker: a second +1 changes nothing
    and says so with ``added`` false). Returns the flag's supporter count."""
    row = _issue(conn, project, issue_id)
    if row.status != "open":
        raise Conflict(f"Flag #{issue_id} was already answered; see the answer instead.")
    already = conn.execute(select(guideline_supports.c.issue_id).where(
        guideline_supports.c.issue_id == issue_id,
        guideline_supports.c.worker_id == worker_id)).first()
    if already is not None:
        return {"issue": issue_id, "supporters": int(row.supporters), "added": False}
    conn.execute(guideline_supports.insert().values(issue_id=issue_id, worker_id=worker_id,
                                                    created_at=utcnow()))
    conn.execute(guideline_issues.update().where(guideline_issues.c.id == issue_id)
                 .values(supporters=guideline_issues.c.supporters + 1))
    supporters = int(conn.execute(select(guideline_issues.c.supporters).where(
        guideline_issues.c.id == issue_id)).scalar_one())
    ledger.append(conn, "guideline.supported", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  body={"issue": issue_id, "worker": worker_id, "supporters": supporters})
    return {"issue": issue_id, "supporters": supporters, "added": True}


def answer(conn: Connection, project: Any, issue_id: int, text: str, user_id: int,
           actor: str) -> dict[str, Any]:
    """Answer a flag in words (workers see the answer); answering again replaces it."""
    text = (text or "").strip()
    if not text:
        raise Invalid("Write the answer the workers will read.", field="answer")
    if len(text) > MAX_ANSWER_CHARS:
        raise Invalid(f"Keep the answer under {MAX_ANSWER_CHARS} characters.", field="answer")
    _issue(conn, project, issue_id)
    conn.execute(guideline_issues.update().where(guideline_issues.c.id == issue_id)
                 .values(answer=text, status="answered"))
    ledger.append(conn, "guideline.answered", actor=actor, project_id=project.id,
                  body={"issue": issue_id, "answer_chars": len(text), "by": user_id})
    return {"issue": issue_id, "status": "answered"}


def check_issue_ids(conn: Connection, project_id: int, issue_ids: Iterable[int]) -> list[int]:
    """The distinct ids, each checked to be a flag of the project (:class:`Invalid`, naming
    the others, when not)."""
    wanted = sorted({int(i) for i in issue_ids})
    if not wanted:
        return []
    found = set(conn.execute(select(guideline_issues.c.id).where(
        guideline_issues.c.project_id == project_id,
        guideline_issues.c.id.in_(wanted))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Invalid(f"No flag {', '.join(f'#{i}' for i in missing)} in this project; a new "
                      "instruction version can only answer the project's own flags.",
                      field="answers_issues")
    return wanted


def answered_by_version(conn: Connection, project_id: int, issue_ids: list[int],
                        version: int) -> None:
    """Mark flags as answered by instruction *version* (their ``resolved_in_version``); the
    ``instructions.versioned`` event written with it lists them."""
    if issue_ids:
        conn.execute(guideline_issues.update().where(
            guideline_issues.c.project_id == project_id,
            guideline_issues.c.id.in_(issue_ids)).values(
            status="answered", resolved_in_version=version))


def _row(r: Any, external_id: str | None) -> dict[str, Any]:
    return {"id": int(r.id), "kind": r.kind, "note": r.note, "item_id": external_id,
            "instruction_version": r.instruction_version, "supporters": int(r.supporters),
            "status": r.status, "answer": r.answer,
            "resolved_in_version": r.resolved_in_version,
            "created_at": as_utc(r.created_at).isoformat()}


def list_flags(conn: Connection, project_id: int, *, limit: int = 50,
               status: str | None = None, issue_id: int | None = None) -> list[dict[str, Any]]:
    """The project's flags, newest first (for staff; no author); or just *issue_id*."""
    query = (select(guideline_issues, items.c.external_id, projects.c.name.label("project"))
             .select_from(guideline_issues
                          .outerjoin(items, items.c.id == guideline_issues.c.item_id)
                          .join(projects, projects.c.id == guideline_issues.c.project_id))
             .where(guideline_issues.c.project_id == project_id))
    if status is not None:
        query = query.where(guideline_issues.c.status == status)
    if issue_id is not None:
        query = query.where(guideline_issues.c.id == issue_id)
    rows = conn.execute(query.order_by(guideline_issues.c.id.desc()).limit(limit)).all()
    return [{**_row(r, r.external_id), "project": r.project} for r in rows]


def flags_for_worker_in(conn: Connection, project: Any, worker_id: int, *,
                        limit: int = 200) -> list[dict[str, Any]]:
    """The project's flags as a worker sees them: open ones first (most supported first),
    then answered ones; each says whether it is the worker's own and whether they support
    it. Never who raised it."""
    mine = set(conn.execute(select(guideline_supports.c.issue_id).join(
        guideline_issues, guideline_issues.c.id == guideline_supports.c.issue_id).where(
        guideline_issues.c.project_id == project.id,
        guideline_supports.c.worker_id == worker_id)).scalars())
    rows = conn.execute(
        select(guideline_issues, items.c.external_id)
        .select_from(guideline_issues.outerjoin(items, items.c.id == guideline_issues.c.item_id))
        .where(guideline_issues.c.project_id == project.id)
        .order_by(guideline_issues.c.id.desc()).limit(limit)).all()
    out = []
    for r in rows:
        entry = _row(r, r.external_id)
        entry["mine"] = r.worker_id == worker_id
        entry["supported"] = int(r.id) in mine
        out.append(entry)
    out.sort(key=lambda e: (e["status"] != "open", -e["supporters"] if e["status"] == "open"
                            else 0))
    return out


def for_worker(conn: Connection, worker_id: int) -> list[dict[str, Any]]:
    """Flags the worker raised or supported, in every project, newest first, with the
    answers (in words, or the instruction version that answered them)."""
    rows = conn.execute(
        select(guideline_issues, items.c.external_id, projects.c.name.label("project"),
               projects.c.title.label("title"))
        .select_from(guideline_supports
                     .join(guideline_issues,
                           guideline_issues.c.id == guideline_supports.c.issue_id)
                     .join(projects, projects.c.id == guideline_issues.c.project_id)
                     .outerjoin(items, items.c.id == guideline_issues.c.item_id))
        .where(guideline_supports.c.worker_id == worker_id)
        .order_by(guideline_issues.c.id.desc())).all()
    return [{**_row(r, r.external_id), "project": r.project, "title": r.title,
             "mine": r.worker_id == worker_id} for r in rows]


def project_counts(conn: Connection, project: Any) -> dict[str, Any]:
    """Flags of a project: open, answered, and the most supported open ones."""
    by_status: dict[str, int] = dict(conn.execute(
        select(guideline_issues.c.status, func.count())
        .where(guideline_issues.c.project_id == project.id)
        .group_by(guideline_issues.c.status)).all())
    top = conn.execute(select(guideline_issues.c.id, guideline_issues.c.kind,
                              guideline_issues.c.supporters).where(
        guideline_issues.c.project_id == project.id, guideline_issues.c.status == "open")
        .order_by(guideline_issues.c.supporters.desc(), guideline_issues.c.id).limit(5)).all()
    return {"open": int(by_status.get("open", 0)), "answered": int(by_status.get("answered", 0)),
            "most_supported": [{"id": int(t.id), "kind": t.kind,
                                "supporters": int(t.supporters)} for t in top]}
