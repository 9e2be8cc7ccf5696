"""Routing, the hot path: lease the next item to a worker, take it back on skip, release
or expiry.

Guarantees, held by the database as well as by this code:
- never more live leases plus answers per item than the project's overlap (item counters are
  changed only under the item's row lock: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the one
  writer on SQLite);
- never the same item twice to one worker (a unique index on assignments);
- never an item of a category the worker opted out of, nor one past the worker's exposure
  limits or during a forced break (:mod:`handloom.labor.exposure`); a non-sensitive item
  first after ``interleave_after`` sensitive ones in a row, when there is one;
- gold items mixed in at the project's rate, exactly (the n-th lease is gold when
  ``floor(n * rate)`` exceeds the gold served so far); gold does not count toward overlap;
- expired leases returned to the pool before a new lease is chosen.

The statements are hand-written (:mod:`handloom.store.fastsql`): this loop is what hundreds
of workers wait on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from handloom import ledger
from handloom.errors import Conflict, Forbidden, NotFound
from handloom.labor import access, exposure
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql
from handloom.work.quality import qualification_status

CANDIDATE_BATCH = 16
# PostgreSQL only: when every candidate is held by another request at that instant, look
# again with a growing pause, for up to this long, before answering "no work".
LOCKED_PATIENCE_SECONDS = 3.0
EXPIRE_BATCH = 500


@dataclass(frozen=True)
class RoutingProject:
    """The project fields routing and submission need, read in one statement."""

    id: int
    name: str
    status: str
    kind: str
    kind_config: dict[str, Any]
    overlap: int
    gold_rate: float
    lease_seconds: int
    required_qualifications: list[str]
    instruction_version: int
    review_threshold: float
    max_overlap: int | None
    qualification_size: int
    qualification_pass: float
    # Exposure policy (migration 0003), read by handloom.labor.exposure.gate_for.
    content_categories: list[str] = field(default_factory=list)
    exposure_limits: dict[str, dict[str, int]] = field(default_factory=dict)
    break_after_sensitive: int | None = None
    break_minutes: int = 15
    interleave_after: int | None = None
    # Terms and worker reviews (migration 0003), read by handloom.labor.access and
    # handloom.labor.standing.
    terms_required: bool = True
    score_review_below: float | None = None
    score_review_min_gold: int = 10
    # Pay policy (read by handloom.labor.earnings.pay_policy when an answer is submitted,
    # so the submission does not read the project a second time).
    pay_model: str = "piece"
    currency: str = "USD"
    piece_rate_minor: int | None = None
    hourly_rate_minor: int | None = None
    piece_rates: dict[str, int] | None = None
    pay_qualification_time: bool = True
    pay_rejected_work: bool = True


def load_project(conn: Connection, name: str) -> RoutingProject:
    sql = Sql(conn)
    row = sql.first(
        "SELECT id, name, status, kind, kind_config, overlap, gold_rate, lease_seconds, "
        "required_qualifications, instruction_version, review_threshold, max_overlap, "
        "qualification_size, qualification_pass, content_categories, exposure_limits, "
        "break_after_sensitive, break_minutes, interleave_after, terms_required, "
        "score_review_below, score_review_min_gold, pay_model, currency, piece_rate_minor, "
        "hourly_rate_minor, piece_rates, pay_qualification_time, pay_rejected_work "
        "FROM projects WHERE name = ?",
        (name,))
    if row is None:
        raise NotFound(f"No project {name!r}.")
    return RoutingProject(int(row[0]), row[1], row[2], row[3], sql.load(row[4]), int(row[5]),
                          float(row[6]), int(row[7]), sql.load(row[8]) or [], int(row[9]),
                          float(row[10]), None if row[11] is None else int(row[11]),
                          int(row[12]), float(row[13]), sql.load(row[14]) or [],
                          sql.load(row[15]) or {}, row[16], int(row[17] or 15), row[18],
                          terms_required=bool(row[19]),
                          score_review_below=None if row[20] is None else float(row[20]),
                          score_review_min_gold=int(row[21]), pay_model=row[22],
                          currency=row[23], piece_rate_minor=row[24], hourly_rate_minor=row[25],
                          piece_rates=sql.load(row[26]), pay_qualification_time=bool(row[27]),
                          pay_rejected_work=bool(row[28]))


@dataclass(frozen=True)
class Lease:
    assignment_id: int
    item_id: int
    external_id: str
    payload: dict[str, Any]
    sensitivity: list[str]
    instruction_version: int
    leased_at: datetime
    expires_at: datetime
    resumed: bool
    # Set for an item of the qualification test: {"question": n, "of": size}.
    qualification: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment_id": self.assignment_id,
            "item": {"id": self.external_id, "payload": self.payload,
                     "sensitivity": self.sensitivity},
            "instruction_version": self.instruction_version,
            "leased_at": self.leased_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "resumed": self.resumed,
            "qualification": self.qualification,
        }


@dataclass(frozen=True)
class _Worker:
    id: int
    qualifications: list[str]
    opt_outs: list[str]
    active: bool
    timezone: str | None = None


def _worker(sql: Sql, worker_id: int) -> _Worker:
    # On PostgreSQL the row lock serialises one worker's own concurrent requests (two tabs).
    row = sql.first("SELECT id, qualifications, opt_outs, active, timezone FROM workers "
                    "WHERE id = ?" + (" FOR UPDATE" if sql.pg else ""), (worker_id,))
    if row is None:
        raise NotFound(f"No worker with id {worker_id}.")
    return _Worker(int(row[0]), sql.load(row[1]) or [], sql.load(row[2]) or [], bool(row[3]),
                   row[4])


def check_eligible(project: Any, worker: Any) -> None:
    if not worker.active:
        raise Forbidden("This worker account is inactive.")
    if project.status != "open":
        raise Conflict(f"Project {project.name!r} is {project.status}, not open for work.",
                       hint="A manager can open it with `handloom project open`.")
    missing = sorted(set(project.required_qualifications or []) - set(worker.qualifications or []))
    if missing:
        raise Forbidden(f"Project {project.name!r} requires the qualification(s) "
                        f"{', '.join(missing)}, which this worker does not hold.")


def expire_leases(conn: Connection, project: Any, now: datetime) -> int:
    """Return leases past their expiry to the pool; one ledger event per lease."""
    sql = Sql(conn)
    stale = sql.all(
        "SELECT id, item_id, worker_id, is_gold FROM assignments "
        "WHERE project_id = ? AND status = 'leased' AND expires_at < ? LIMIT ?",
        (project.id, sql.ts(now), EXPIRE_BATCH))
    events: list[tuple[str, str, int | None, dict[str, Any]]] = []
    for assignment_id, item_id, worker_id, is_gold in stale:
        done = sql.run("UPDATE assignments SET status = 'expired', closed_at = ? "
                       "WHERE id = ? AND status = 'leased'",
                       (sql.ts(now), assignment_id)).rowcount
        if not done:
            continue
        if not is_gold:
            sql.run('UPDATE items SET leased = leased - 1, "full" = ? WHERE id = ?',
                    (False, item_id))
        events.append(("assignment.expired", "system", project.id,
                       {"assignment": assignment_id, "item": item_id, "worker": worker_id}))
    if events:
        ledger.append_many(conn, events)
    return len(events)


def _gold_due(sql: Sql, project: Any, worker_id: int) -> bool:
    if project.gold_rate <= 0:
        return False
    total, gold = sql.first(
        "SELECT count(*), coalesce(sum(CASE WHEN is_gold THEN 1 ELSE 0 END), 0) "
        "FROM assignments WHERE worker_id = ? AND project_id = ?", (worker_id, project.id))
    due: bool = math.floor((int(total) + 1) * project.gold_rate + 1e-9) > int(gold)
    return due


def _pick(sql: Sql, project: Any, worker: _Worker, *, gold: bool,
          gate: exposure.Gate | None = None) -> Any:
    """Lock and return the best item with room for this worker, or None.

    Candidates are read without locks; then each is locked alone (``SKIP LOCKED`` on
    PostgreSQL) and re-checked. If every candidate was held by another request for that
    instant, the search is repeated after a few milliseconds rather than telling the worker
    there is no work. It never waits on a row lock: a transaction holding the ledger lock
    must never wait for an item, or two requests could deadlock. Items the exposure *gate*
    holds back are left out in the candidate query itself.
    """
    if gate is not None and gate.prefer_plain:
        found = _pick_plain(sql, project, worker, gold=gold, gate=gate)
        if found is not None:
            return found
    if not sql.pg:
        return _pick_single_writer(sql, project, worker, gold=gold, gate=gate)
    screen, screen_params = gate.screen(True) if gate is not None else ("", ())
    query = (
        "SELECT i.id FROM items i WHERE i.project_id = ? AND i.is_gold = ? "
        "AND i.is_qualification = ? "
        + ("" if gold else 'AND i."full" = ? ')
        + "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id "
        "AND a.worker_id = ?)" + screen + " ORDER BY i.priority DESC, i.id LIMIT ? OFFSET ?")
    head: tuple[Any, ...] = (project.id, gold, False) if gold else (project.id, gold, False,
                                                                    False)
    offset = 0
    pause = 0.002
    deadline = time.monotonic() + LOCKED_PATIENCE_SECONDS
    while True:
        ids = [int(r[0]) for r in sql.all(query, (*head, worker.id, *screen_params,
                                                  CANDIDATE_BATCH, offset))]
        found, skipped = _lock_first(sql, project, worker, ids, gold=gold, gate=gate)
        if found is not None:
            return found
        if skipped and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
            continue
        if len(ids) < CANDIDATE_BATCH:
            return None
        offset += CANDIDATE_BATCH


def _pick_single_writer(sql: Sql, project: Any, worker: _Worker, *, gold: bool,
                        gate: exposure.Gate | None = None) -> Any:
    """SQLite: this transaction is the only writer, so candidates need no locks and the
    first that fits is taken straight from one query."""
    screen, screen_params = gate.screen(False) if gate is not None else ("", ())
    query = (
        "SELECT i.id, i.external_id, i.payload, i.sensitivity, i.answers, i.leased, "
        "i.extra_answers FROM items i WHERE i.project_id = ? AND i.is_gold = ? "
        "AND i.is_qualification = 0 "
        + ("" if gold else 'AND i."full" = 0 ')
        + "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id "
        "AND a.worker_id = ?)" + screen + " ORDER BY i.priority DESC, i.id LIMIT ? OFFSET ?")
    offset = 0
    while True:
        rows = sql.all(query, (project.id, gold, worker.id, *screen_params, CANDIDATE_BATCH,
                               offset))
        for row in rows:
            tags = sql.load(row[3]) or []
            if gate is not None and not gate.allows(tags):
                continue
            if not gold and row[4] + row[5] >= project.overlap + row[6]:
                continue
            return (int(row[0]), row[1], sql.load(row[2]), tags, int(row[4]), int(row[5]),
                    int(row[6]))
        if len(rows) < CANDIDATE_BATCH:
            return None
        offset += CANDIDATE_BATCH


def _lock_first(sql: Sql, project: Any, worker: _Worker, ids: list[int], *,
                gold: bool, gate: exposure.Gate | None = None) -> tuple[Any, list[int]]:
    """The first of *ids* that is lockable and still fits; and the ids skipped as locked."""
    lock = " FOR UPDATE SKIP LOCKED" if sql.pg else ""
    skipped = []
    for item_id in ids:
        row = sql.first("SELECT id, external_id, payload, sensitivity, answers, leased, "
                        '"full", extra_answers FROM items WHERE id = ?' + lock, (item_id,))
        if row is None:
            skipped.append(item_id)
            continue
        tags = sql.load(row[3]) or []
        if gate is not None and not gate.allows(tags):
            continue
        if not gold and (row[6] or row[4] + row[5] >= project.overlap + row[7]):
            continue
        return ((int(row[0]), row[1], sql.load(row[2]), tags, int(row[4]), int(row[5]),
                 int(row[7])), skipped)
    return None, skipped


def _pick_plain(sql: Sql, project: Any, worker: _Worker, *, gold: bool,
                gate: exposure.Gate) -> Any:
    """Interleaving: the best non-sensitive item among the next
    ``exposure.INTERLEAVE_LOOKAHEAD`` candidates (a bounded scan, so that a project with no
    such item does not cost a pass over all its items), or None."""
    ids = [int(r[0]) for r in sql.all(
        "SELECT c.id FROM (SELECT i.id, i.priority, i.sensitivity FROM items i "
        "WHERE i.project_id = ? AND i.is_gold = ? AND i.is_qualification = ? "
        + ("" if gold else 'AND i."full" = ? ')
        + "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id "
        "AND a.worker_id = ?) ORDER BY i.priority DESC, i.id LIMIT ?) c "
        "WHERE json_array_length(c.sensitivity) = 0 ORDER BY c.priority DESC, c.id LIMIT ?",
        ((project.id, gold, False) if gold else (project.id, gold, False, False))
        + (worker.id, exposure.INTERLEAVE_LOOKAHEAD, CANDIDATE_BATCH))]
    found, _locked = _lock_first(sql, project, worker, ids, gold=gold, gate=gate)
    return found


@dataclass(frozen=True)
class Routed:
    """The outcome of a lease request: the lease, or None and, when exposure rules or the
    worker's opt-outs held items back, the reason (which rule, which category, when it
    lifts)."""

    lease: Lease | None
    reason: str | None = None


def next_item(conn: Connection, project: Any, worker_id: int, *,
              now: datetime | None = None) -> Lease | None:
    """Lease the next item to a worker (or hand back the lease it already holds)."""
    return route_next(conn, project, worker_id, now=now).lease


def route_next(conn: Connection, project: Any, worker_id: int, *,
               now: datetime | None = None) -> Routed:
    """:func:`next_item`, with the reason when exposure rules left the worker no item."""
    now = now or utcnow()
    sql = Sql(conn)
    worker = _worker(sql, worker_id)
    check_eligible(project, worker)
    access.check_access(sql, project, worker_id)
    expire_leases(conn, project, now)

    held = sql.first(
        "SELECT a.id, a.item_id, a.leased_at, a.expires_at, a.instruction_version, "
        "i.external_id, i.payload, i.sensitivity, i.is_qualification FROM assignments a "
        "JOIN items i ON i.id = a.item_id WHERE a.worker_id = ? AND a.project_id = ? "
        "AND a.status = 'leased' AND a.expires_at >= ? ORDER BY a.id LIMIT 1",
        (worker_id, project.id, sql.ts(now)))
    if held is not None:
        held_test = None
        if held[8]:
            status = qualification_status(sql, project, worker_id)
            held_test = {"question": status.answered + 1, "of": status.size}
        return Routed(Lease(int(held[0]), int(held[1]), held[5], sql.load(held[6]),
                            sql.load(held[7]) or [], int(held[4]), sql.read_ts(held[2]),
                            sql.read_ts(held[3]), resumed=True, qualification=held_test))

    # Exposure: one gate per request (None, at no cost, without policy or opt-outs).
    gate = exposure.gate_for(sql, project, worker_id, worker.opt_outs, worker.timezone, now)
    row = None
    is_gold = False
    qualification = None
    reuse: int | None = None
    qual = qualification_status(sql, project, worker_id)
    if qual.required and qual.passed is None:
        picked = _pick_qualification(sql, project, worker, gate)
        if picked is None:
            return Routed(None, exposure.held_back_reason(sql, project, worker_id, gate)
                          if gate is not None else None)
        row, reuse = picked
        is_gold = True
        qualification = {"question": qual.answered + 1, "of": qual.size}
    elif qual.required and qual.passed is False:
        raise Forbidden(
            f"You did not pass the qualification test of project {project.name!r} "
            f"({qual.correct} of {qual.answered} correct; the pass mark is "
            f"{qual.pass_mark:.0%}), so it offers you no work.",
            hint="If you think the test was scored wrongly, ask the project's manager.")
    elif _gold_due(sql, project, worker_id):
        row = _pick(sql, project, worker, gold=True, gate=gate)
        is_gold = row is not None
    if row is None:
        row = _pick(sql, project, worker, gold=False, gate=gate)
    if row is None:
        return Routed(None, exposure.held_back_reason(sql, project, worker_id, gate)
                      if gate is not None else None)
    item_id, external_id, payload, tags, answers, leased, extra = row

    version = project.instruction_version
    expires = now + timedelta(seconds=project.lease_seconds)
    if reuse is not None:
        # A test question the worker skipped, released or let expire comes back: every
        # question of the test must be answered for it to be scored.
        assignment_id = reuse
        sql.run("UPDATE assignments SET status = 'leased', instruction_version = ?, "
                "leased_at = ?, expires_at = ?, closed_at = NULL, skip_reason = NULL "
                "WHERE id = ?", (version, sql.ts(now), sql.ts(expires), reuse))
    else:
        assignment_id = sql.insert(
            "INSERT INTO assignments (project_id, item_id, worker_id, status, is_gold, "
            "instruction_version, leased_at, expires_at) VALUES (?, ?, ?, 'leased', ?, ?, ?, ?)",
            (project.id, item_id, worker_id, is_gold, version, sql.ts(now), sql.ts(expires)))
    if not is_gold:
        sql.run('UPDATE items SET leased = leased + 1, "full" = ? WHERE id = ?',
                (answers + leased + 1 >= project.overlap + extra, item_id))
    ledger.append(conn, "assignment.leased", actor=f"worker:{worker_id}", project_id=project.id,
                  body={"assignment": assignment_id, "item": item_id, "worker": worker_id,
                        "instruction_version": version, "expires_at": expires.isoformat()})
    return Routed(Lease(assignment_id, item_id, external_id, payload, tags, version, now,
                        expires, resumed=False, qualification=qualification))


def _pick_qualification(sql: Sql, project: Any, worker: _Worker,
                        gate: exposure.Gate | None = None) -> Any:
    """The next unanswered item of the qualification test, and the id of this worker's
    earlier assignment to it if one was skipped, released or expired (None otherwise).
    Test items are gold: they count toward no overlap, so no counters or locks are needed."""
    rows = sql.all(
        "SELECT i.id, i.external_id, i.payload, i.sensitivity, a.id FROM items i "
        "LEFT JOIN assignments a ON a.item_id = i.id AND a.worker_id = ? "
        "WHERE i.project_id = ? AND i.is_qualification = ? "
        "AND (a.id IS NULL OR a.status IN ('skipped', 'released', 'expired')) "
        "ORDER BY a.id IS NOT NULL, i.priority DESC, i.id", (worker.id, project.id, True))
    for row in rows:
        tags = sql.load(row[3]) or []
        if gate is not None and not gate.allows(tags):
            continue
        return ((int(row[0]), row[1], sql.load(row[2]), tags, 0, 0, 0),
                None if row[4] is None else int(row[4]))
    return None


@dataclass(frozen=True)
class OwnAssignment:
    id: int
    item_id: int
    status: str
    is_gold: bool
    instruction_version: int
    leased_at: datetime


def own_assignment(sql: Sql, project: Any, worker_id: int, assignment_id: int) -> OwnAssignment:
    # The row lock orders a late submit, skip or release against the expiry sweep, so the
    # item's lease counter is lowered exactly once.
    row = sql.first(
        "SELECT id, project_id, worker_id, item_id, status, is_gold, instruction_version, "
        "leased_at FROM assignments WHERE id = ?" + (" FOR UPDATE" if sql.pg else ""),
        (assignment_id,))
    if row is None or int(row[2]) != worker_id or int(row[1]) != project.id:
        # Another worker's assignment is reported as absent, not forbidden: ids leak nothing.
        raise NotFound(f"No assignment {assignment_id} of yours in project {project.name!r}.")
    return OwnAssignment(int(row[0]), int(row[3]), row[4], bool(row[5]), int(row[6]),
                         sql.read_ts(row[7]))


def close_lease(conn: Connection, project: Any, worker_id: int, assignment_id: int, *,
                status: str, reason: str | None = None, now: datetime | None = None,
                active_seconds: float | None = None) -> None:
    """Skip (the worker will not see the item again) or release (hand it back unanswered).

    *active_seconds* the worker spent on the item before giving it back are recorded as
    ``skipped`` time (unpaid, or paid in an hourly project), with the assignment's id."""
    if status not in ("skipped", "released"):
        raise ValueError(f"cannot close a lease as {status!r}")
    now = now or utcnow()
    sql = Sql(conn)
    lease = own_assignment(sql, project, worker_id, assignment_id)
    if lease.status == status:
        return  # a retried skip or release changes nothing
    if lease.status not in ("leased", "expired"):
        raise Conflict(f"Assignment {assignment_id} is already {lease.status}.")
    sql.run("UPDATE assignments SET status = ?, closed_at = ?, skip_reason = ? "
            "WHERE id = ? AND status = ?", (status, sql.ts(now), reason, assignment_id,
                                             lease.status))
    if lease.status == "leased" and not lease.is_gold:
        sql.run('UPDATE items SET leased = leased - 1, "full" = ? WHERE id = ?',
                (False, lease.item_id))
    ledger.append(conn, f"assignment.{status}", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  # The reason is the worker's own words: the ledger keeps only its length.
                  body={"assignment": assignment_id, "item": lease.item_id, "worker": worker_id,
                        "reason_chars": len(reason or "")})
    if active_seconds:
        from handloom.labor import timekeeping

        timekeeping.record(conn, project.id, worker_id, "skipped",
                           min(float(active_seconds), timekeeping.MAX_ENTRY_SECONDS),
                           ref_id=assignment_id)
    if status == "skipped":  # a skipped tagged item was seen: that is exposure too
        exposure.record_skip(conn, project, worker_id, assignment_id, seconds=active_seconds,
                             now=now)
