"""Read-side queries shared by the API, the CLI and the pages. Nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from handloom.disclose.privacy import pseudonym
from handloom.errors import NotFound
from handloom.store import schema
from handloom.store.db import as_utc
from handloom.store.schema import assignments, items, projects, workers
from handloom.work.projects import current_instructions, from_minor_units


def list_items(conn: Connection, project: Any, *, after: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    query = select(items).where(items.c.project_id == project.id).order_by(items.c.id).limit(limit)
    if after is not None:
        anchor = conn.execute(select(items.c.id).where(
            items.c.project_id == project.id, items.c.external_id == after)).scalar()
        if anchor is not None:
            query = query.where(items.c.id > anchor)
    return [
        {"id": r.external_id, "payload": r.payload, "sensitivity": r.sensitivity,
         "is_gold": r.is_gold, "priority": r.priority, "answers": r.answers, "leased": r.leased}
        for r in conn.execute(query)
    ]


def list_annotations(conn: Connection, project: Any, *, after_id: int = 0,
                     limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(schema.annotations, items.c.external_id)
        .join(items, items.c.id == schema.annotations.c.item_id)
        .where(schema.annotations.c.project_id == project.id, schema.annotations.c.id > after_id)
        .order_by(schema.annotations.c.id).limit(limit)
    ).all()
    return [
        {"id": r.id, "item_id": r.external_id,
         "worker": pseudonym(project.pseudonym_secret, r.worker_id), "answer": r.answer,
         "instruction_version": r.instruction_version,
         "submitted_at": as_utc(r.submitted_at).isoformat(), "active_seconds": r.active_seconds,
         "review_status": r.review_status}
        for r in rows
    ]


def own_assignments(conn: Connection, worker_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(assignments, items.c.external_id, projects.c.name)
        .join(items, items.c.id == assignments.c.item_id)
        .join(projects, projects.c.id == assignments.c.project_id)
        .where(assignments.c.worker_id == worker_id)
        .order_by(assignments.c.id.desc()).limit(limit)
    ).all()
    return [
        {"assignment_id": r.id, "project": r.name, "item_id": r.external_id,
         "status": r.status, "leased_at": as_utc(r.leased_at).isoformat(),
         "expires_at": as_utc(r.expires_at).isoformat()}
        for r in rows
    ]


def open_project_card(conn: Connection, worker_id: int, name: str) -> dict[str, Any]:
    """The card of project *name* if it is open to this worker; NotFound otherwise (a
    worker learns nothing about projects that are not open to them)."""
    for card in worker_project_cards(conn, worker_id):
        if card["name"] == name:
            return card
    raise NotFound(f"No project {name!r} is open to you.")


def worker_project_cards(conn: Connection, worker_id: int) -> list[dict[str, Any]]:
    """Open projects this worker may start, with what each pays and warns about."""
    worker = conn.execute(select(workers.c.qualifications).where(workers.c.id == worker_id)).one()
    held = set(worker.qualifications or [])
    cards = []
    for p in conn.execute(select(projects).where(projects.c.status == "open")
                          .order_by(projects.c.priority.desc(), projects.c.id)):
        if not set(p.required_qualifications or []) <= held:
            continue
        cards.append({
            "name": p.name, "title": p.title, "kind": p.kind, "purpose": p.purpose,
            "pay": {
                "model": p.pay_model, "currency": p.currency,
                "piece_rate": from_minor_units(p.piece_rate_minor, p.currency)
                if p.piece_rate_minor is not None else None,
                "hourly_rate": from_minor_units(p.hourly_rate_minor, p.currency)
                if p.hourly_rate_minor is not None else None,
                "est_seconds_per_item": p.est_seconds_per_item,
            },
            "content_categories": p.content_categories,
            "instructions_version": current_instructions(conn, p.id)["version"],
        })
    return cards
