"""The audit ledger: an append-only, hash-chained log of every state change.

Each event's hash is SHA-256 over the previous event's hash and the canonical JSON (sorted
keys, no spaces, UTF-8) of the event's sequence number, time, type, actor, project and body.
Events are written in the same transaction as the change they record, so a change without
its event (or an event without its change) cannot be committed. Editing, deleting or
reordering any row breaks the chain at that row, which :func:`verify` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from handloom.errors import Invalid
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql
from handloom.store.schema import ledger_events

GENESIS = "0" * 64
# Key in Connection.info where a batch writer that owns the whole transaction (and so knows
# no one else can append) keeps the chain's head, saving a query per event. It is present
# only inside such a batch, and reset whenever part of the batch is rolled back.
HEAD_CACHE = "handloom_ledger_head"
_PG_LEDGER_LOCK = 0x48414E44  # "HAND": advisory lock serialising appends on PostgreSQL


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def event_hash(prev_hash: str, seq: int, at: str, event: str, actor: str,
               project_id: int | None, body: dict[str, Any]) -> str:
    material = canonical_json(
        {"seq": seq, "at": at, "event": event, "actor": actor, "project": project_id, "body": body}
    )
    return hashlib.sha256((prev_hash + material).encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    event: str,
    *,
    actor: str,
    body: dict[str, Any],
    project_id: int | None = None,
) -> str:
    """Append one event inside the caller's transaction; returns its hash."""
    return append_many(conn, [(event, actor, project_id, body)])[-1]


def append_many(
    conn: Connection, events: list[tuple[str, str, int | None, dict[str, Any]]]
) -> list[str]:
    """Append several events (event, actor, project_id, body) in order, in one round trip."""
    sql = Sql(conn)
    if sql.pg:
        # Appends are serialised: the chain needs each event to see its predecessor.
        sql.run("SELECT pg_advisory_xact_lock(?)", (_PG_LEDGER_LOCK,))
    cached = conn.info.get(HEAD_CACHE)
    if cached is not None:
        seq, prev = cached
    else:
        last = sql.first("SELECT seq, hash FROM ledger_events ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    at = utcnow().isoformat(timespec="microseconds")
    hashes = []
    for event, actor, project_id, body in events:
        seq += 1
        h = event_hash(prev, seq, at, event, actor, project_id, body)
        sql.run(
            "INSERT INTO ledger_events (seq, at, event, actor, project_id, body, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, event, actor, project_id, sql.json(body), prev, h),
        )
        hashes.append(h)
        prev = h
    if HEAD_CACHE in conn.info:
        conn.info[HEAD_CACHE] = (seq, prev)
    return hashes


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None
    problem: str = ""


def iter_events(conn: Connection, batch: int = 5000) -> Iterator[Any]:
    after = 0
    while True:
        rows = conn.execute(
            select(ledger_events).where(ledger_events.c.seq > after)
            .order_by(ledger_events.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (as a transparency report prints its anchor) -> (seq, hash)."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64 or any(
            c not in "0123456789abcdef" for c in digest):
        raise Invalid(f"An anchor is SEQ:HASH, e.g. 1875:{'0' * 64}; got {text!r}.",
                      field="anchor")
    return int(seq), digest


def verify(conn: Connection, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Recompute the chain; report the first event whose stored hash or link is wrong.

    With *anchor* (sequence number, hash), as a transparency report records it, also check
    that the event at that sequence number still has that hash: the records the report was
    computed from have not been rewritten since."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in iter_events(conn):
        if anchor is not None and row.seq == anchor[0] and row.hash != anchor[1]:
            return VerifyResult(False, count, prev, row.seq,
                                f"event {row.seq} has hash {row.hash}, not the anchor's "
                                f"{anchor[1]}: the ledger was rewritten after the report")
        if row.seq != expected_seq:
            return VerifyResult(False, count, prev, expected_seq,
                                f"event {expected_seq} is missing (next stored is {row.seq})")
        if row.prev_hash != prev:
            return VerifyResult(False, count, prev, row.seq,
                                f"event {row.seq} does not link to event {row.seq - 1}")
        recomputed = event_hash(prev, row.seq, row.at, row.event, row.actor, row.project_id,
                                row.body)
        if recomputed != row.hash:
            return VerifyResult(False, count, prev, row.seq,
                                f"event {row.seq} ({row.event}) was altered: its content no longer "
                                "matches its hash")
        prev = row.hash
        expected_seq += 1
        count += 1
    if anchor is not None and anchor[0] > count:
        return VerifyResult(False, count, prev, anchor[0],
                            f"the ledger has {count} events; the anchor names event {anchor[0]}")
    return VerifyResult(True, count, prev)


def head(conn: Connection) -> tuple[int, str]:
    """The number of events and the hash of the last one (the anchor an auditor records)."""
    n = conn.execute(select(func.count()).select_from(ledger_events)).scalar_one()
    last = conn.execute(
        select(ledger_events.c.hash).order_by(ledger_events.c.seq.desc()).limit(1)
    ).scalar()
    return int(n), last or GENESIS
