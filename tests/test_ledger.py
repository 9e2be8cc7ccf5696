"""The audit ledger: a hash chain that names the first edited, deleted or relinked event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, bindparam, select, text

from handloom import ledger
from handloom.store.db import Store
from handloom.store.schema import ledger_events

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=8)


def append_events(store: Store, n: int) -> list[str]:
    hashes = []
    with store.write() as conn:
        for i in range(1, n + 1):
            hashes.append(ledger.append(conn, "test.event", actor=f"user:{i}",
                                        project_id=i % 2 or None,
                                        body={"n": i, "note": f"event «{i}»", "tags": [i, "x"]}))
    return hashes


def verify(store: Store) -> ledger.VerifyResult:
    with store.read() as conn:
        return ledger.verify(conn)


def raw(store: Store, sql: str, **params: Any) -> int:
    """Change the database behind the application's back; returns the rows touched."""
    statement = text(sql)
    if "body" in params:
        statement = statement.bindparams(bindparam("body", type_=JSON))
    with store.engine.begin() as conn:
        return conn.execute(statement, params).rowcount


def test_empty_ledger_verifies(store: Store) -> None:
    result = verify(store)
    assert result.ok
    assert result.events == 0
    assert result.head == ledger.GENESIS
    with store.read() as conn:
        assert ledger.head(conn) == (0, ledger.GENESIS)


def test_chain_verifies_with_counts_and_head(store: Store) -> None:
    hashes = append_events(store, 5)
    result = verify(store)
    assert result.ok, result.problem
    assert result.events == 5
    assert result.head == hashes[-1]
    assert result.broken_at is None
    with store.read() as conn:
        assert ledger.head(conn) == (5, hashes[-1])
        rows = conn.execute(select(ledger_events).order_by(ledger_events.c.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == ledger.GENESIS
    assert all(later.prev_hash == earlier.hash
               for earlier, later in zip(rows, rows[1:], strict=False))
    assert len(set(hashes)) == 5


def test_append_many_continues_the_chain(store: Store) -> None:
    append_events(store, 2)
    with store.write() as conn:
        hashes = ledger.append_many(conn, [("a.b", "system", None, {"i": 1}),
                                           ("a.c", "system", 7, {"i": 2})])
    result = verify(store)
    assert result.ok and result.events == 4 and result.head == hashes[-1]


def test_events_written_in_a_rolled_back_transaction_vanish(store: Store) -> None:
    append_events(store, 2)
    with pytest.raises(RuntimeError), store.write() as conn:
        ledger.append(conn, "doomed", actor="system", body={})
        raise RuntimeError("abort")
    result = verify(store)
    assert result.ok and result.events == 2


def test_edited_body_is_detected_at_its_seq(store: Store) -> None:
    append_events(store, 5)
    touched = raw(store, "UPDATE ledger_events SET body = :body WHERE seq = :seq",
                  body={"n": 3, "note": "event «3»", "tags": [3, "y"]}, seq=3)
    assert touched == 1
    result = verify(store)
    assert not result.ok
    assert result.broken_at == 3
    assert result.events == 2  # the two events before it still verify
    assert "3" in result.problem and "altered" in result.problem


def test_edited_actor_is_detected(store: Store) -> None:
    append_events(store, 4)
    raw(store, "UPDATE ledger_events SET actor = 'user:999' WHERE seq = 4")
    result = verify(store)
    assert not result.ok and result.broken_at == 4


def test_deleted_middle_event_is_named(store: Store) -> None:
    append_events(store, 5)
    assert raw(store, "DELETE FROM ledger_events WHERE seq = 3") == 1
    result = verify(store)
    assert not result.ok
    assert result.broken_at == 3
    assert "event 3 is missing" in result.problem


def test_deleted_first_event_is_named(store: Store) -> None:
    append_events(store, 3)
    raw(store, "DELETE FROM ledger_events WHERE seq = 1")
    result = verify(store)
    assert not result.ok and result.broken_at == 1


def test_changed_prev_hash_is_detected(store: Store) -> None:
    hashes = append_events(store, 4)
    raw(store, "UPDATE ledger_events SET prev_hash = :h WHERE seq = 3", h="f" * 64)
    result = verify(store)
    assert not result.ok
    assert result.broken_at == 3
    assert result.head == hashes[1]  # the last good event


def test_recomputed_hash_still_breaks_the_next_link(store: Store) -> None:
    """A forger who edits a body and recomputes that event's hash breaks the next link."""
    append_events(store, 4)
    with store.read() as conn:
        row = conn.execute(select(ledger_events).where(ledger_events.c.seq == 2)).one()
    forged_body = {**row.body, "n": 99}
    forged_hash = ledger.event_hash(row.prev_hash, row.seq, row.at, row.event, row.actor,
                                    row.project_id, forged_body)
    raw(store, "UPDATE ledger_events SET body = :body, hash = :h WHERE seq = 2",
        body=forged_body, h=forged_hash)
    result = verify(store)
    assert not result.ok
    assert result.broken_at == 3


def test_verify_reads_past_one_batch(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = append_events(store, 7)
    original = ledger.iter_events
    monkeypatch.setattr(ledger, "iter_events", lambda conn, batch=5000: original(conn, 2))
    result = verify(store)
    assert result.ok and result.events == 7 and result.head == hashes[-1]
    raw(store, "DELETE FROM ledger_events WHERE seq = 6")
    assert verify(store).broken_at == 6


# ---------------------------------------------------------------- canonical JSON (pure)
def test_canonical_json_is_compact_sorted_and_unicode() -> None:
    assert ledger.canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == \
        '{"a":[1,{"c":"é","d":2}],"b":1}'


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        ledger.canonical_json({"x": float("nan")})


@given(json_objects)
def test_canonical_json_ignores_key_order(value: dict[str, Any]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert ledger.canonical_json(reordered) == ledger.canonical_json(value)
    assert json.loads(ledger.canonical_json(value)) == value
    args = ("0" * 64, 1, "2024-01-01T00:00:00+00:00", "e", "system", None)
    assert ledger.event_hash(*args, reordered) == ledger.event_hash(*args, value)


FIELDS = ("prev_hash", "seq", "at", "event", "actor", "project_id", "body")


@given(
    base=st.fixed_dictionaries({
        "prev_hash": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        "seq": st.integers(min_value=1, max_value=2**40),
        "at": st.text(max_size=32),
        "event": st.text(min_size=1, max_size=20),
        "actor": st.text(max_size=20),
        "project_id": st.none() | st.integers(min_value=1, max_value=2**40),
        "body": json_objects,
    }),
    field=st.sampled_from(FIELDS),
    data=st.data(),
)
def test_event_hash_changes_when_any_field_changes(
    base: dict[str, Any], field: str, data: st.DataObject
) -> None:
    original = ledger.event_hash(*(base[f] for f in FIELDS))
    assert len(original) == 64 and int(original, 16) >= 0
    changed = dict(base)
    if field == "prev_hash":
        flip = "1" if base["prev_hash"][0] == "0" else "0"
        changed[field] = flip + base["prev_hash"][1:]
    elif field in ("seq", "project_id"):
        changed[field] = (base[field] or 0) + data.draw(st.integers(min_value=1, max_value=99))
    elif field == "body":
        changed[field] = {**base["body"], "\x00tamper": data.draw(json_values)}
    else:
        changed[field] = base[field] + data.draw(st.text(min_size=1, max_size=5))
    assert ledger.event_hash(*(changed[f] for f in FIELDS)) != original


# ---------------------------------------------------------------- report anchors
def test_anchor_holds_until_the_ledger_is_rewritten(store: Store) -> None:
    from sqlalchemy import update

    from handloom.errors import Invalid
    from handloom.store.schema import ledger_events

    with store.write() as conn:
        for n in range(3):
            ledger.append(conn, "test.event", actor="t", body={"n": n})
    with store.read() as conn:
        seq, digest = ledger.head(conn)
        assert ledger.verify(conn, (seq, digest)).ok
        assert ledger.verify(conn, ledger.parse_anchor(f"{seq - 1}:{'0' * 64}")).broken_at \
            == seq - 1
        beyond = ledger.verify(conn, (seq + 5, digest))
        assert not beyond.ok and "anchor names event" in beyond.problem
    with store.write() as conn:  # rewrite history, re-hashing the chain from event 1
        conn.execute(update(ledger_events).where(ledger_events.c.seq == 1)
                     .values(body={"tampered": True}))
    with store.read() as conn:
        assert not ledger.verify(conn, (seq, digest)).ok
    with pytest.raises(Invalid, match="SEQ:HASH"):
        ledger.parse_anchor("12:abc")
