"""Review: the disagreement queue, the item as a reviewer sees it, and decisions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from factories import add_workers, answer_all, answer_next, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound
from handloom.store.db import Store
from handloom.store.schema import items, ledger_events, reviews
from handloom.work import accounts, projects, review

T, N, U = {"label": "toxic"}, {"label": "not_toxic"}, {"label": "unsure"}
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "item-1": [T, T, T],  # unanimous: never queued
    "item-2": [T, N, T],
    "item-3": [N, U, N],
    "item-4": [U, U, U],
    "g-1": [T, T, T],  # gold answered rightly by all: not queued (a miss would queue it)
}


def setup(store: Store) -> tuple[list[int], int]:
    """Project p (overlap 3, some gold), three workers who answer everything, one reviewer,
    and item-5, answered by two workers only (incomplete: not queued yet)."""
    with store.write() as conn:
        make_project(conn, gold_rate=0.2)
        workers = add_workers(conn, 3)
        reviewer = accounts.create_user(conn, "rev", "reviewer", actor="test")
    import_rows(store, "p", [*text_items(4), {"id": "g-1", "text": "gold", "gold": "toxic"}])
    answer_all(store, "p", workers, ANSWERS)
    import_rows(store, "p", text_items(1, prefix="item-5"), source="more.jsonl")
    assert answer_next(store, "p", workers[0], default=T) is not None
    assert answer_next(store, "p", workers[1], default=N) is not None
    return workers, reviewer


def project(store: Store) -> Any:
    with store.read() as conn:
        return projects.get_project(conn, "p")


def queue_ids(store: Store, **kw: Any) -> list[str]:
    with store.read() as conn:
        return [e["id"] for e in review.disagreement_queue(conn, project(store), 50, **kw)]


def decide(store: Store, reviewer: int, item: str, answer: Any, reason: str = "Two of three "
           "agree and the instructions support them.") -> review.Decision:
    with store.write() as conn:
        return review.resolve(conn, projects.get_project(conn, "p"), item, reviewer, answer,
                              reason, actor=f"user:{reviewer}")


def test_queue_holds_complete_undecided_disagreements_oldest_first(store: Store) -> None:
    setup(store)
    assert queue_ids(store) == ["item-2", "item-3"]
    with store.read() as conn:
        p = projects.get_project(conn, "p")
        first = review.disagreement_queue(conn, p, 1)
        assert review.waiting_count(conn, p) == 2
        row = {r["name"]: r for r in review.overview(conn)}["p"]
    assert [e["id"] for e in first] == ["item-2"]
    entry = first[0]
    assert entry["answers"] == 3 and entry["distinct"] == 2
    assert entry["readings"] == [{"summary": "toxic", "count": 2},
                                 {"summary": "not_toxic", "count": 1}]
    assert entry["preview"] == "text number 2"
    assert row["waiting"] == 2 and row["decided"] == 0


def test_queue_moves_forward_from_an_item_and_wraps_around(store: Store) -> None:
    setup(store)
    assert queue_ids(store, after="item-2") == ["item-3", "item-2"]
    assert queue_ids(store, after="item-3") == ["item-2", "item-3"]
    with store.read() as conn:
        assert review.disagreement_queue(conn, project(store), 0) == []


def test_item_shows_every_answer_under_pseudonyms_with_the_suggestion(store: Store) -> None:
    workers, _ = setup(store)
    p = project(store)
    with store.read() as conn:
        item = review.item_for_review(conn, p, "item-2")
    assert item["id"] == "item-2" and item["payload"] == {"text": "text number 2"}
    assert item["disagreement"] and item["complete"] and item["decision"] is None
    assert [a["answer"] for a in item["answers"]] == [T, N, T]
    assert [a["summary"] for a in item["answers"]] == ["toxic", "not_toxic", "toxic"]
    assert all(a["worker"].startswith("w_") for a in item["answers"])
    assert len({a["worker"] for a in item["answers"]}) == 3
    text = repr(item)
    for i, worker_id in enumerate(workers, start=1):
        assert f"worker-{i}" not in text
        assert all(a["worker"] != str(worker_id) for a in item["answers"])
    assert {a["instruction_version"] for a in item["answers"]} == {1}
    assert {a["active_seconds"] for a in item["answers"]} == {12.5}
    suggestion = item["suggestion"]
    assert suggestion["answer"] == T and suggestion["summary"] == "toxic"
    assert suggestion["confidence"] == pytest.approx(2 / 3) and suggestion["n_answers"] == 3


def test_a_decision_is_stored_on_the_item_and_the_ledger(store: Store) -> None:
    _, reviewer = setup(store)
    reason = "The comment insults the reader directly; toxic per the instructions."
    decision = decide(store, reviewer, "item-2", {"label": "toxic"}, reason)
    assert decision.external_id == "item-2" and decision.final_answer == T
    assert queue_ids(store) == ["item-3"]
    with store.read() as conn:
        row = conn.execute(select(reviews)).one()
        final = conn.execute(select(items.c.final_answer)
                             .where(items.c.external_id == "item-2")).scalar_one()
        event = conn.execute(select(ledger_events)
                             .where(ledger_events.c.event == "review.decided")).one()
        assert ledger.verify(conn).ok
        item = review.item_for_review(conn, projects.get_project(conn, "p"), "item-2")
        overview = {r["name"]: r for r in review.overview(conn)}["p"]
    assert row.reviewer_id == reviewer and row.final_answer == T and row.reason == reason
    assert row.id == decision.review_id
    assert final == T
    assert event.actor == f"user:{reviewer}" and event.project_id == project(store).id
    assert event.body["item"] == decision.item_id and event.body["reviewer"] == reviewer
    assert event.body["review"] == decision.review_id
    assert event.body["reason_chars"] == len(reason)
    assert len(event.body["final_answer_sha256"]) == 64
    assert "toxic" not in str(event.body) and "insults" not in str(event.body)
    assert item["decision"]["reason"] == reason and item["final_answer"] == T
    assert overview == {**overview, "waiting": 1, "decided": 1}


def test_the_final_answer_may_be_none_of_the_given_answers(store: Store) -> None:
    _, reviewer = setup(store)
    decide(store, reviewer, "item-3", {"label": "toxic"})
    with store.read() as conn:
        final = conn.execute(select(items.c.final_answer)
                             .where(items.c.external_id == "item-3")).scalar_one()
    assert final == T


@pytest.mark.parametrize(("answer", "field"), [
    ({"label": "nope"}, "final_answer.label"),
    ({"label": "toxic", "extra": 1}, "final_answer.extra"),
    ({}, "final_answer.label"),
    ("toxic", "final_answer"),
    (None, "final_answer"),
])
def test_invalid_final_answers_are_refused_naming_the_field(store: Store, answer: Any,
                                                           field: str) -> None:
    _, reviewer = setup(store)
    with pytest.raises(Invalid) as err:
        decide(store, reviewer, "item-2", answer)
    assert err.value.field == field and field in err.value.message
    assert_nothing_decided(store)


@pytest.mark.parametrize("reason", ["", "   \n", "x" * (review.MAX_REASON_CHARS + 1)])
def test_a_reason_is_required(store: Store, reason: str) -> None:
    _, reviewer = setup(store)
    with pytest.raises(Invalid) as err:
        decide(store, reviewer, "item-2", T, reason)
    assert err.value.field == "reason"
    assert_nothing_decided(store)


def test_a_decided_item_cannot_be_decided_again(store: Store) -> None:
    _, reviewer = setup(store)
    decide(store, reviewer, "item-2", T)
    with pytest.raises(Conflict):
        decide(store, reviewer, "item-2", N)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 1
        final = conn.execute(select(items.c.final_answer)
                             .where(items.c.external_id == "item-2")).scalar_one()
    assert final == T


def test_unknown_and_unanswered_items(store: Store) -> None:
    _, reviewer = setup(store)
    import_rows(store, "p", text_items(1, prefix="fresh"), source="fresh.jsonl")
    with pytest.raises(NotFound):
        decide(store, reviewer, "no-such-item", T)
    with pytest.raises(Conflict):
        decide(store, reviewer, "fresh-1", T)
    with store.read() as conn, pytest.raises(NotFound):
        review.item_for_review(conn, projects.get_project(conn, "p"), "no-such-item")
    assert_nothing_decided(store)


def test_agreement_uses_the_kinds_answer_key(store: Store) -> None:
    """Pairwise rationales differ between workers; only the choice decides agreement."""
    with store.write() as conn:
        make_project(conn, "pw", "pairwise", overlap=2)
        workers = add_workers(conn, 2)
    import_rows(store, "pw", [{"id": f"q-{i}", "a": "one", "b": "two"} for i in (1, 2)])
    answer_all(store, "pw", workers, {
        "q-1": [{"choice": "A", "rationale": "clearer"}, {"choice": "A"}],
        "q-2": [{"choice": "A"}, {"choice": "tie", "rationale": "both fine"}],
    })
    with store.read() as conn:
        queue = review.disagreement_queue(conn, projects.get_project(conn, "pw"))
    assert [e["id"] for e in queue] == ["q-2"]
    assert [r["summary"] for r in queue[0]["readings"]] == ["A", "tie: both fine"]


def assert_nothing_decided(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(ledger_events).where(
            ledger_events.c.event == "review.decided")).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(items).where(
            items.c.final_answer.is_not(None))).scalar_one() == 0
