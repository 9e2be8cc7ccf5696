"""Terms and consent: what a worker is told before starting a project, and their yes.

A project's terms are built from its own settings (:func:`terms_for`): pay, the expected
time per item, content warnings with their limits, what the data is for, how long it is
kept, how to appeal, and where to find support. The worker consents to one exact version,
identified by the SHA-256 of its canonical JSON (:func:`terms_hash`); when any of those
settings changes, the hash changes, the old consent is no longer current and routing asks
the worker to read and accept the new terms. Withdrawing costs nothing: open leases go back
to the pool, paid work stays paid, scores are untouched.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.errors import Conflict
from handloom.store.db import as_utc, inserted_id, utcnow
from handloom.store.schema import assignments, consents, projects
from handloom.work.projects import from_minor_units, get_project

# The project columns the terms are built from (and nothing else: a new instruction version
# or a change of overlap does not ask workers to consent again).
TERMS_COLUMNS = (
    "name", "pay_model", "currency", "piece_rate_minor", "piece_rates", "hourly_rate_minor",
    "pay_qualification_time", "pay_rejected_work", "est_seconds_per_item",
    "content_categories", "exposure_limits", "blur_sensitive", "break_after_sensitive",
    "break_minutes", "purpose", "downstream_use", "data_source", "data_retention",
    "appeal_deadline_days", "support_resources",
)
# What a worker may appeal (the subject types of :mod:`handloom.labor.appeals`).
APPEALABLE = ("rejection", "gold_failure", "score", "removal")


def _money(minor: Any, currency: str) -> str | None:
    return None if minor is None else from_minor_units(int(minor), currency)


def terms_for(project: Any) -> dict[str, Any]:
    """The terms of *project* (a row, or anything with the :data:`TERMS_COLUMNS`).

    Plain data only, so that the same settings always give the same hash: pay in major
    units as text, limits as numbers, the project's own words as they were written.
    """
    currency = str(project.currency)
    limits = project.exposure_limits or {}
    categories = []
    for category in project.content_categories or []:
        limit = limits.get(category) or {}
        categories.append({
            "category": str(category),
            "daily_items": limit.get("daily_items"),
            "daily_minutes": limit.get("daily_minutes"),
        })
    return {
        "project": str(project.name),
        "pay": {
            "model": str(project.pay_model),
            "currency": currency,
            "piece_rate": _money(project.piece_rate_minor, currency),
            "piece_rates": {str(k): _money(v, currency)
                            for k, v in sorted((project.piece_rates or {}).items())},
            "hourly_rate": _money(project.hourly_rate_minor, currency),
            "qualification_time_paid": bool(project.pay_qualification_time),
            "rejected_work_paid": bool(project.pay_rejected_work),
        },
        "expected_seconds_per_item": (None if project.est_seconds_per_item is None
                                      else int(project.est_seconds_per_item)),
        "content_warnings": {
            "categories": categories,
            "blurred": bool(project.blur_sensitive),
            "break_after_sensitive": (None if project.break_after_sensitive is None
                                      else int(project.break_after_sensitive)),
            "break_minutes": int(project.break_minutes),
        },
        "data_use": {"purpose": str(project.purpose or ""),
                     "downstream_use": str(project.downstream_use),
                     "data_source": str(project.data_source or "")},
        "retention": str(project.data_retention or ""),
        "appeals": {"deadline_days": int(project.appeal_deadline_days),
                    "appealable": list(APPEALABLE)},
        "support_resources": str(project.support_resources or ""),
    }


def terms_hash(terms: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of *terms* (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(ledger.canonical_json(terms).encode("utf-8")).hexdigest()


def _full(conn: Connection, project: Any) -> Any:
    """The full project row (routing hands around a slimmer record)."""
    if all(hasattr(project, c) for c in TERMS_COLUMNS):
        return project
    return get_project(conn, int(project.id))


def _live_consents(conn: Connection, project_id: int, worker_id: int) -> list[Any]:
    return list(conn.execute(
        select(consents).where(consents.c.project_id == project_id,
                               consents.c.worker_id == worker_id,
                               consents.c.withdrawn_at.is_(None))
        .order_by(consents.c.id.desc())).all())


def status(conn: Connection, project: Any, worker_id: int) -> dict[str, Any]:
    """The project's terms and where this worker stands with them.

    ``needs_consent`` is true when the project requires consent and the worker has none for
    these exact terms; ``changed`` says an older consent exists for terms since changed.
    """
    row = _full(conn, project)
    terms = terms_for(row)
    digest = terms_hash(terms)
    live = _live_consents(conn, row.id, worker_id)
    current = next((c for c in live if c.terms_hash == digest), None)
    withdrawn = conn.execute(
        select(func.max(consents.c.withdrawn_at)).where(
            consents.c.project_id == row.id, consents.c.worker_id == worker_id)).scalar()
    return {
        "project": row.name, "title": row.title, "required": bool(row.terms_required),
        "terms": terms, "terms_hash": digest,
        "consent": None if current is None else {
            "id": int(current.id), "given_at": as_utc(current.given_at).isoformat()},
        "changed": current is None and bool(live),
        "withdrawn_at": None if withdrawn is None or live else as_utc(withdrawn).isoformat(),
        "needs_consent": bool(row.terms_required) and current is None,
    }


def consent(conn: Connection, project: Any, worker_id: int, *,
            now: datetime | None = None) -> dict[str, Any]:
    """Record the worker's consent to the project's current terms (a snapshot of what they
    were shown, and its hash). Idempotent while those terms are current."""
    now = now or utcnow()
    row = _full(conn, project)
    terms = terms_for(row)
    digest = terms_hash(terms)
    for existing in _live_consents(conn, row.id, worker_id):
        if existing.terms_hash == digest:
            return {"consent": int(existing.id), "terms_hash": digest, "new": False,
                    "given_at": as_utc(existing.given_at).isoformat()}
    consent_id = inserted_id(conn.execute(consents.insert().values(
        project_id=row.id, worker_id=worker_id, terms_hash=digest, terms=terms, given_at=now)))
    ledger.append(conn, "consent.given", actor=f"worker:{worker_id}", project_id=row.id,
                  body={"consent": consent_id, "worker": worker_id, "terms_sha256": digest})
    return {"consent": consent_id, "terms_hash": digest, "new": True,
            "given_at": now.isoformat()}


def withdraw(conn: Connection, project: Any, worker_id: int, *,
             now: datetime | None = None) -> dict[str, Any]:
    """Withdraw the worker's consent to the project's terms, at no cost to them.

    Every consent of theirs in the project is marked withdrawn; their open leases there are
    released (the items go back to the pool exactly as on an ordinary release). Pay already
    earned stays earned and scores are not touched. Raises :class:`Conflict` when there is
    no consent to withdraw.
    """
    from handloom.work import routing  # routing calls into labor.access, which imports us

    now = now or utcnow()
    row = _full(conn, project)
    live = _live_consents(conn, row.id, worker_id)
    if not live:
        raise Conflict(f"You have no consent to withdraw in project {row.name!r}.")
    ids = [int(c.id) for c in live]
    conn.execute(consents.update().where(consents.c.id.in_(ids)).values(withdrawn_at=now))
    leases = conn.execute(select(assignments.c.id).where(
        assignments.c.project_id == row.id, assignments.c.worker_id == worker_id,
        assignments.c.status == "leased").order_by(assignments.c.id)).scalars().all()
    for assignment_id in leases:
        routing.close_lease(conn, row, worker_id, int(assignment_id), status="released",
                            reason="consent withdrawn", now=now)
    ledger.append(conn, "consent.withdrawn", actor=f"worker:{worker_id}", project_id=row.id,
                  body={"consents": ids, "worker": worker_id,
                        "released": [int(a) for a in leases]})
    return {"withdrawn": ids, "released": len(leases), "withdrawn_at": now.isoformat()}


def consents_for_worker(conn: Connection, worker_id: int) -> list[dict[str, Any]]:
    """Every consent the worker gave, newest first, each saying whether it is current (the
    project's terms are still the ones consented to) and when it was withdrawn."""
    rows = conn.execute(
        select(consents, projects.c.name, projects.c.title)
        .join(projects, projects.c.id == consents.c.project_id)
        .where(consents.c.worker_id == worker_id).order_by(consents.c.id.desc())).all()
    current_hash: dict[int, str] = {}
    out = []
    for r in rows:
        if r.project_id not in current_hash:
            current_hash[r.project_id] = terms_hash(terms_for(
                get_project(conn, int(r.project_id))))
        out.append({
            "id": int(r.id), "project": r.name, "title": r.title,
            "given_at": as_utc(r.given_at).isoformat(),
            "withdrawn_at": None if r.withdrawn_at is None else as_utc(r.withdrawn_at).isoformat(),
            "current": r.withdrawn_at is None and r.terms_hash == current_hash[r.project_id],
            "terms_hash": r.terms_hash,
        })
    return out


def project_consents(conn: Connection, project: Any) -> dict[str, int]:
    """For managers: how many workers consented to the current terms, to older terms
    only, and how many withdrew (counts, no names)."""
    digest = terms_hash(terms_for(_full(conn, project)))
    current: set[int] = set()
    older: set[int] = set()
    withdrawn: set[int] = set()
    for r in conn.execute(select(consents.c.worker_id, consents.c.terms_hash,
                                 consents.c.withdrawn_at)
                          .where(consents.c.project_id == project.id)):
        if r.withdrawn_at is not None:
            withdrawn.add(int(r.worker_id))
        elif r.terms_hash == digest:
            current.add(int(r.worker_id))
        else:
            older.add(int(r.worker_id))
    return {"current": len(current), "older_terms": len(older - current),
            "withdrawn": len(withdrawn - current - older)}
