"""Routing rules on SQLite and PostgreSQL: overlap, no repeats, leases, gold, eligibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import add_workers, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Forbidden
from handloom.store.db import Store, utcnow
from handloom.store.schema import assignments, items, ledger_events, workers
from handloom.work import projects, routing
from handloom.work.submissions import submit_answer


def lease(store: Store, worker_id: int, name: str = "p", **kw: object) -> routing.Lease | None:
    with store.write() as conn:
        return routing.next_item(conn, projects.get_project(conn, name), worker_id, **kw)


def answer(store: Store, worker_id: int, assignment_id: int, label: str = "toxic",
           name: str = "p", key: str | None = None) -> None:
    with store.write() as conn:
        row = projects.get_project(conn, name)
        submit_answer(conn, row, projects.kind_of(row), worker_id, assignment_id,
                      {"label": label}, idempotency_key=key or f"k-{worker_id}-{assignment_id}")


def counters(store: Store) -> dict[str, tuple[int, int]]:
    with store.read() as conn:
        return {r.external_id: (r.answers, r.leased)
                for r in conn.execute(select(items.c.external_id, items.c.answers, items.c.leased))}


def test_overlap_caps_live_leases_and_answers(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2)
        ws = add_workers(conn, 5)
    import_rows(store, "p", text_items(2))
    got = [lease(store, w) for w in ws]
    # Two items × overlap 2 = four leases; the fifth worker finds nothing.
    assert [g is not None for g in got] == [True, True, True, True, False]
    assert all(v == (0, 2) for v in counters(store).values())
    for w, g in zip(ws, got, strict=False):
        if g is not None:
            answer(store, w, g.assignment_id)
    assert all(v == (2, 0) for v in counters(store).values())
    assert lease(store, ws[4]) is None


def test_a_worker_never_gets_the_same_item_twice(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=3)
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", text_items(4))
    seen = []
    while (got := lease(store, w)) is not None:
        seen.append(got.external_id)
        answer(store, w, got.assignment_id)
    assert sorted(seen) == ["item-1", "item-2", "item-3", "item-4"]


def test_next_returns_the_lease_already_held(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", text_items(3))
    first = lease(store, w)
    again = lease(store, w)
    assert first is not None and again is not None
    assert again.assignment_id == first.assignment_id and again.resumed and not first.resumed


def test_priority_is_honoured(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", [{"id": "low", "text": "a"}, {"id": "high", "text": "b",
                                                         "priority": 5}])
    got = lease(store, w)
    assert got is not None and got.external_id == "high"


def test_expired_lease_returns_the_item_to_the_pool(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, lease_seconds=60)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    first = lease(store, w1)
    assert first is not None
    assert lease(store, w2) is None  # the only slot is leased
    later = utcnow() + timedelta(seconds=61)
    second = lease(store, w2, now=later)
    assert second is not None and second.external_id == first.external_id
    with store.read() as conn:
        status = conn.execute(select(assignments.c.status)
                              .where(assignments.c.id == first.assignment_id)).scalar_one()
        events = conn.execute(select(ledger_events.c.event)).scalars().all()
    assert status == "expired"
    assert "assignment.expired" in events
    assert counters(store)["item-1"] == (0, 1)


def test_late_answer_is_taken_while_the_item_has_room(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2, lease_seconds=60)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    first = lease(store, w1)
    assert first is not None
    lease(store, w2, now=utcnow() + timedelta(seconds=61))  # sweeps w1's lease
    answer(store, w1, first.assignment_id)  # still room: accepted
    assert counters(store)["item-1"] == (1, 1)


def test_late_answer_is_refused_when_others_filled_the_item(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, lease_seconds=60)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    first = lease(store, w1)
    second = lease(store, w2, now=utcnow() + timedelta(seconds=61))
    assert first is not None and second is not None
    answer(store, w2, second.assignment_id)
    with pytest.raises(Conflict, match="expired"):
        answer(store, w1, first.assignment_id)
    assert counters(store)["item-1"] == (1, 0)


def test_gold_is_mixed_in_at_the_exact_rate_and_not_counted_toward_overlap(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, gold_rate=0.25)
        (w,) = add_workers(conn, 1)
    rows = text_items(12) + [{"id": f"gold-{i}", "text": "g", "gold": "toxic"} for i in range(4)]
    import_rows(store, "p", rows)
    kinds = []
    for _ in range(8):
        got = lease(store, w)
        assert got is not None
        kinds.append(got.external_id.startswith("gold"))
        answer(store, w, got.assignment_id)
    assert kinds == [False, False, False, True, False, False, False, True]
    with store.read() as conn:
        gold_counts = conn.execute(select(items.c.answers).where(items.c.is_gold.is_(True))
                                   ).scalars().all()
    assert set(gold_counts) == {0}


def test_gold_answers_are_scored(store: Store) -> None:
    from handloom.store.schema import annotations

    with store.write() as conn:
        make_project(conn, overlap=1, gold_rate=1.0)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", [{"id": "g", "text": "g", "gold": "toxic"}])
    for w, label in ((w1, "toxic"), (w2, "not_toxic")):
        got = lease(store, w)
        assert got is not None
        answer(store, w, got.assignment_id, label=label)
    with store.read() as conn:
        scored = {r[0]: r[1] for r in conn.execute(
            select(annotations.c.worker_id, annotations.c.gold_correct))}
    assert scored == {w1: True, w2: False}


def test_qualifications_are_required(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, required_qualifications=["medical"])
        (novice,) = add_workers(conn, 1, prefix="novice")
        (expert,) = add_workers(conn, 1, prefix="expert", qualifications=["medical"])
    import_rows(store, "p", text_items(1))
    with pytest.raises(Forbidden, match="medical"):
        lease(store, novice)
    assert lease(store, expert) is not None


def test_opted_out_categories_are_never_routed(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, content_categories=["violence", "hate"])
        (w,) = add_workers(conn, 1)
        conn.execute(workers.update().where(workers.c.id == w).values(opt_outs=["violence"]))
    import_rows(store, "p", [{"id": "v", "text": "x", "sensitivity": ["violence"],
                              "priority": 9},
                             {"id": "h", "text": "y", "sensitivity": ["hate"]},
                             {"id": "n", "text": "z"}])
    seen = []
    while (got := lease(store, w)) is not None:
        seen.append(got.external_id)
        answer(store, w, got.assignment_id)
    assert sorted(seen) == ["h", "n"]


def test_closed_project_refuses_work(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn)
        (w,) = add_workers(conn, 1)
        projects.set_status(conn, row.id, "paused")
    import_rows(store, "p", text_items(1))
    with pytest.raises(Conflict, match="paused"):
        lease(store, w)


def test_skip_hides_the_item_from_that_worker_only(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    got = lease(store, w1)
    assert got is not None
    with store.write() as conn:
        routing.close_lease(conn, projects.get_project(conn, "p"), w1, got.assignment_id,
                            status="skipped", reason="not English")
        # Retrying the skip changes nothing.
        routing.close_lease(conn, projects.get_project(conn, "p"), w1, got.assignment_id,
                            status="skipped", reason="not English")
    assert lease(store, w1) is None
    other = lease(store, w2)
    assert other is not None and other.external_id == got.external_id
    with store.read() as conn:
        bodies = conn.execute(select(ledger_events.c.body)
                              .where(ledger_events.c.event == "assignment.skipped")).scalars().all()
        assert ledger.verify(conn).ok
    assert len(bodies) == 1
    # The worker's reason is their own words: the ledger keeps its length, not the text.
    assert bodies[0]["reason_chars"] == len("not English")
    assert "not English" not in str(bodies[0])


def test_release_hands_the_item_back(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1)
        w1, w2 = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    got = lease(store, w1)
    assert got is not None
    with store.write() as conn:
        routing.close_lease(conn, projects.get_project(conn, "p"), w1, got.assignment_id,
                            status="released")
    assert counters(store)["item-1"] == (0, 0)
    assert lease(store, w2) is not None
