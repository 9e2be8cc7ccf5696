"""Reviews of workers: a low score opens a review and removes no one; a person keeps or
removes with a reason; a removal closes routing with that reason and releases leases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from factories import import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Forbidden, Invalid
from handloom.labor import standing
from handloom.store.db import Store
from handloom.store.schema import assignments, ledger_events, worker_reviews
from handloom.work import accounts, projects, routing, submissions

WRONG = {"label": "not_toxic"}


def setup(store: Store, *, below: float | None = 0.7, min_gold: int = 3,
          gold_rate: float = 0.5) -> tuple[int, int, int]:
    """Project g (half gold, every gold answer 'toxic'); workers ann and bob; a manager."""
    with store.write() as conn:
        make_project(conn, "g", overlap=2, gold_rate=gold_rate, score_review_below=below,
                     score_review_min_gold=min_gold)
        ann = accounts.add_worker(conn, "ann")
        bob = accounts.add_worker(conn, "bob")
        boss = accounts.create_user(conn, "mona", "manager")
    import_rows(store, "g", [*text_items(12), *[{"id": f"gold-{i}", "text": f"gold {i}",
                                                "gold": "toxic"} for i in range(1, 9)]])
    return ann, bob, boss


def answer(store: Store, worker: int, label: dict[str, str] = WRONG) -> routing.Lease | None:
    with store.write() as conn:
        project = routing.load_project(conn, "g")
        got = routing.next_item(conn, project, worker)
        if got is None:
            return None
        submissions.submit_answer(conn, project, projects.kind_of(project), worker,
                                  got.assignment_id, dict(label),
                                  idempotency_key=f"{worker}-{got.assignment_id}")
        return got


def reviews(store: Store) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(worker_reviews).order_by(worker_reviews.c.id)))


def test_a_low_score_opens_a_review_and_the_worker_keeps_working(store: Store) -> None:
    ann, bob, _ = setup(store)
    for _ in range(6):  # three gold answers, all wrong
        answer(store, ann)
    opened = reviews(store)
    assert len(opened) == 1
    review = opened[0]
    assert (review.worker_id, review.trigger, review.status) == (ann, "low_score", "open")
    assert review.score == 0.0 and review.threshold == 0.7
    for _ in range(4):  # still low: no second review; and she still gets items
        assert answer(store, ann) is not None
    assert len(reviews(store)) == 1
    with store.read() as conn:
        event = conn.execute(select(ledger_events).where(
            ledger_events.c.event == "worker_review.opened")).one()
        listed = standing.list_reviews(conn, projects.get_project(conn, "g"))
        mine = standing.for_worker(conn, ann)
    assert event.actor == "system" and event.body["trigger"] == "low_score"
    assert listed[0]["worker"].startswith("w_") and listed[0]["gold_answered"] >= 3
    assert mine[0]["status"] == "open" and mine[0]["project"] == "g"
    assert "decided_by" not in mine[0]


def test_no_review_below_the_minimum_or_without_a_threshold(store: Store) -> None:
    ann, _, _ = setup(store, min_gold=5)
    for _ in range(6):  # three gold answers only
        answer(store, ann)
    assert reviews(store) == []


def test_no_threshold_no_review(store: Store) -> None:
    ann, _, _ = setup(store, below=None)
    for _ in range(10):
        answer(store, ann)
    assert reviews(store) == []


def test_a_person_removes_with_a_reason_and_routing_says_it(store: Store) -> None:
    ann, _, boss = setup(store)
    for _ in range(6):
        answer(store, ann)
    with store.write() as conn:  # she holds a lease when the decision comes
        held = routing.next_item(conn, routing.load_project(conn, "g"), ann)
    assert held is not None
    review_id = reviews(store)[0].id
    with store.write() as conn, pytest.raises(Invalid, match="reason"):
        standing.decide(conn, projects.get_project(conn, "g"), review_id, remove=True,
                        reason="  ", decider_user_id=boss)
    with store.write() as conn:
        out = standing.decide(conn, projects.get_project(conn, "g"), review_id, remove=True,
                              reason="Gold answers wrong on most items after two warnings",
                              decider_user_id=boss)
    assert out["status"] == "removed" and out["released"] == 1
    with pytest.raises(Forbidden) as refused:
        answer(store, ann)
    message = refused.value.message
    assert "removed from project 'g'" in message
    assert "Gold answers wrong on most items after two warnings" in message
    assert "appeal" in message and "within 7 days" in message
    with store.read() as conn:
        status = conn.execute(select(assignments.c.status).where(
            assignments.c.id == held.assignment_id)).scalar()
        decided = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "worker_review.decided")).scalar_one()
        assert ledger.verify(conn).ok
    assert status == "released"
    assert decided["status"] == "removed" and decided["reason_chars"] == 51
    assert "reason" not in decided
    with store.write() as conn, pytest.raises(Conflict, match="already decided"):
        standing.decide(conn, projects.get_project(conn, "g"), review_id, remove=False,
                        reason="changed my mind", decider_user_id=boss)


def test_kept_worker_is_not_reviewed_again_on_the_same_figures(store: Store) -> None:
    ann, _, boss = setup(store, gold_rate=1.0)
    for _ in range(3):
        answer(store, ann)
    with store.write() as conn:
        standing.decide(conn, projects.get_project(conn, "g"), reviews(store)[0].id,
                        remove=False, reason="New to the project; the rules changed today",
                        decider_user_id=boss)
    for _ in range(2):  # two more wrong gold answers: fewer than the minimum since
        answer(store, ann)
    assert len(reviews(store)) == 1
    answer(store, ann)  # the third since the decision, still below: a new review
    assert [r.status for r in reviews(store)] == ["kept", "open"]


def test_managers_open_reviews_by_hand_once(store: Store) -> None:
    ann, bob, boss = setup(store, below=None)
    answer(store, bob, {"label": "toxic"})
    with store.write() as conn:
        row = projects.get_project(conn, "g")
        who = standing.find_worker(conn, row, standing.project_workers(conn, row)[0])
        assert who == bob
        review_id = standing.open_review(conn, row, bob, trigger="manual", opened_by=boss,
                                         actor=f"user:{boss}")
        with pytest.raises(Conflict, match="already open"):
            standing.open_review(conn, row, bob, opened_by=boss)
        assert standing.project_workers(conn, row) == []
        counts = standing.project_counts(conn, row)
    assert counts["open"] == 1
    assert answer(store, bob, {"label": "toxic"}) is not None  # opening changes nothing
    with store.read() as conn:
        listed = standing.list_reviews(conn, projects.get_project(conn, "g"), status="open")
    assert listed[0]["id"] == review_id and listed[0]["opened_by"] == "mona"
    assert listed[0]["trigger"] == "manual"
