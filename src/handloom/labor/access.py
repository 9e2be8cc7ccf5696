"""May this worker be given work in this project? The fair-work side of routing.

Two things close a project to a worker: a person removed them (a decided worker review,
never a score alone), or the project asks for consent to its terms and the worker has none
for the current terms. :func:`check_access` runs on every lease, so it is one indexed
statement: the removal check and the latest live consent are scalar subqueries of the read
of the project's terms columns.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from handloom.errors import Forbidden
from handloom.labor.terms import TERMS_COLUMNS, terms_for, terms_hash
from handloom.ledger import canonical_json
from handloom.store.fastsql import Sql

_JSON_COLUMNS = frozenset({"piece_rates", "content_categories", "exposure_limits"})
_REMOVED = ("(SELECT max(r.id) FROM worker_reviews r WHERE r.project_id = p.id "
            "AND r.worker_id = ? AND r.status = 'removed')")
_LATEST_CONSENT = ("(SELECT c.terms_hash FROM consents c WHERE c.project_id = p.id "
                   "AND c.worker_id = ? AND c.withdrawn_at IS NULL ORDER BY c.id DESC LIMIT 1)")
_WITH_TERMS = (f"SELECT {_REMOVED}, {_LATEST_CONSENT}, "
               + ", ".join(f"p.{c}" for c in TERMS_COLUMNS) + " FROM projects p WHERE p.id = ?")
_REMOVAL_ONLY = f"SELECT {_REMOVED} FROM projects p WHERE p.id = ?"


@lru_cache(maxsize=1024)
def _current_hash(values: tuple[Any, ...]) -> str:
    """The terms hash of a project's terms columns, as read (JSON columns as text): cached,
    because the same settings are read on every lease and change rarely."""
    loaded = {c: (Sql.load(v) if c in _JSON_COLUMNS else v)
              for c, v in zip(TERMS_COLUMNS, values, strict=True)}
    return terms_hash(terms_for(SimpleNamespace(**loaded)))


def terms_url(name: str) -> str:
    return f"/work/{name}/terms"


def check_access(sql: Sql, project: Any, worker_id: int) -> None:
    """Raise :class:`Forbidden` saying why, when *worker_id* may not work in *project*.

    A removal names the date, the reason the person gave and how to appeal; missing or
    outdated consent names the page where the terms are read and accepted (and the API
    calls that do the same). Projects that do not require terms cost one indexed lookup.
    """
    requires_terms = bool(getattr(project, "terms_required", True))
    if not requires_terms:
        row = sql.first(_REMOVAL_ONLY, (worker_id, project.id))
        if row is not None and row[0] is not None:
            raise removed_error(sql, project, int(row[0]))
        return
    row = sql.first(_WITH_TERMS, (worker_id, worker_id, project.id))
    if row is None:
        return  # the caller already holds the project; nothing to judge against
    if row[0] is not None:
        raise removed_error(sql, project, int(row[0]))
    if row[1] == _current_hash(tuple(
            v if v is None or isinstance(v, str | int | float) else canonical_json(v)
            for v in row[2:])):
        return
    name = project.name
    api = (f"GET /api/v1/projects/{name}/terms, then POST /api/v1/projects/{name}/terms/consent")
    if row[1] is None:
        raise Forbidden(
            f"Project {name!r} asks you to read and accept its terms (pay, expected time per "
            f"item, content warnings, data use, retention, how to appeal) before you start. "
            f"Read them at {terms_url(name)}.", hint=f"Over the API: {api}.")
    raise Forbidden(
        f"The terms of project {name!r} changed since you accepted them. Read the new terms "
        f"at {terms_url(name)} and accept them to go on working.", hint=f"Over the API: {api}.")


def removed_error(sql: Sql, project: Any, review_id: int) -> Forbidden:
    """The refusal for a worker a person removed from the project (with the date, the
    reason, and the state of any appeal)."""
    decided_at, reason = sql.first(
        "SELECT decided_at, reason FROM worker_reviews WHERE id = ?", (review_id,))
    days = sql.scalar("SELECT appeal_deadline_days FROM projects WHERE id = ?", (project.id,))
    reason = str(reason or "").strip().rstrip(".")
    when = sql.read_ts(decided_at).strftime("%Y-%m-%d") if decided_at is not None else "?"
    appeal = sql.first(
        "SELECT id, due_at FROM appeals WHERE project_id = ? AND subject_type = 'removal' "
        "AND subject_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
        (project.id, review_id))
    if appeal is not None:
        due = sql.read_ts(appeal[1]).strftime("%Y-%m-%d")
        tail = (f" Your appeal (#{appeal[0]}) is open; a person who did not make this decision "
                f"decides it by {due}.")
    else:
        tail = (f" You can appeal this decision (review #{review_id}) from your page at "
                f"/me/appeals; appeals are decided within {days} days by someone who did not "
                "make the decision.")
    return Forbidden(
        f"You were removed from project {project.name!r} on {when} after a review by a "
        f"person. The reason given: {reason}.{tail}",
        hint=f"POST /api/v1/projects/{project.name}/appeals with subject_type 'removal' and "
             f"subject_id {review_id}.")
