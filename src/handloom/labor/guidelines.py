"""Guideline issues: workers flag unclear instructions or out-of-scope items; managers see
them live and answer them (a later milestone links answers to new instruction versions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.errors import Invalid
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.schema import guideline_issues, items

KINDS = ("unclear", "out_of_scope")


def flag(conn: Connection, project: Any, worker_id: int, *, kind: str, note: str,
         item_external_id: str | None = None) -> int:
    """Record a worker's flag on the project's current instructions (and item, if given)."""
    if kind not in KINDS:
        raise Invalid(f"A flag is one of {', '.join(KINDS)}.", field="kind")
    note = note.strip()
    if not note:
        raise Invalid("Say in a few words what is unclear, so the manager can answer it.",
                      field="note")
    if len(note) > 5000:
        raise Invalid("A flag note may have at most 5000 characters.", field="note")
    item_id = None
    if item_external_id:
        item_id = conn.execute(select(items.c.id).where(
            items.c.project_id == project.id, items.c.external_id == item_external_id)).scalar()
    issue_id = inserted_id(conn.execute(guideline_issues.insert().values(
        project_id=project.id, worker_id=worker_id, item_id=item_id, kind=kind, note=note,
        instruction_version=project.instruction_version, supporters=1, status="open",
        created_at=utcnow())))
    # The note is the worker's own words: the ledger keeps that a flag was raised, not the text.
    ledger.append(conn, "guideline.flagged", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"issue": issue_id, "kind": kind, "item": item_id,
                        "instruction_version": project.instruction_version})
    return issue_id


def list_flags(conn: Connection, project_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(guideline_issues, items.c.external_id)
        .select_from(guideline_issues.outerjoin(items, items.c.id == guideline_issues.c.item_id))
        .where(guideline_issues.c.project_id == project_id)
        .order_by(guideline_issues.c.id.desc()).limit(limit)
    ).all()
    return [{"id": r.id, "kind": r.kind, "note": r.note, "item_id": r.external_id,
             "instruction_version": r.instruction_version, "supporters": r.supporters,
             "status": r.status, "answer": r.answer,
             "created_at": as_utc(r.created_at).isoformat()} for r in rows]
