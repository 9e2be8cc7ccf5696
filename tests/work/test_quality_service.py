"""Quality in running projects: the qualification test, gold scores, automatic review
entries, dynamic overlap, and full aggregation runs (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from factories import add_workers, answer_all, answer_next, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Forbidden, Invalid
from handloom.store.db import Store
from handloom.store.schema import items, ledger_events, qualification_results
from handloom.work import projects, quality, review
from handloom.work.routing import next_item
from handloom.work.submissions import submit_answer

T, N, U = {"label": "toxic"}, {"label": "not_toxic"}, {"label": "unsure"}


def events(store: Store, name: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [r.body for r in conn.execute(
            select(ledger_events.c.body).where(ledger_events.c.event == name)
            .order_by(ledger_events.c.seq))]


def item_row(store: Store, external_id: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(items).where(items.c.external_id == external_id)).one()


def answer_one(store: Store, worker: int, answer: dict[str, Any], project: str = "p") -> Any:
    """Lease the worker's next item and answer it; returns (lease, submission)."""
    with store.write() as conn:
        row = projects.get_project(conn, project)
        lease = next_item(conn, row, worker)
        assert lease is not None
        sub = submit_answer(conn, row, projects.kind_of(row), worker, lease.assignment_id,
                            answer, idempotency_key=f"k-{worker}-{lease.assignment_id}")
        return lease, sub


# ------------------------------------------------------------------ qualification
def qualification_project(store: Store, *, size: int = 2, pass_mark: float = 0.5) -> list[int]:
    with store.write() as conn:
        make_project(conn, quality={"qualification_size": size, "qualification_pass": pass_mark})
        workers = add_workers(conn, 2)
    import_rows(store, "p", [
        {"id": "q-1", "text": "test one", "gold": "toxic", "qualification": True},
        {"id": "q-2", "text": "test two", "gold": "not_toxic", "qualification": "yes"},
        *text_items(3),
    ])
    return workers


def test_qualification_test_comes_first_with_feedback_then_real_work(store: Store) -> None:
    worker, _ = qualification_project(store)
    lease, sub = answer_one(store, worker, T)
    assert lease.external_id == "q-1" and lease.qualification == {"question": 1, "of": 2}
    assert sub.feedback is not None and sub.feedback["correct"] is True
    assert sub.feedback["qualification"]["passed"] is None  # under way
    lease, sub = answer_one(store, worker, T)  # wrong: q-2 is not_toxic
    assert lease.external_id == "q-2" and lease.qualification == {"question": 2, "of": 2}
    assert sub.feedback["correct"] is False
    assert sub.feedback["expected"] == N and sub.feedback["expected_summary"] == "not_toxic"
    assert sub.feedback["qualification"] == {"required": True, "size": 2, "answered": 2,
                                             "correct": 1, "pass_mark": 0.5, "passed": True}
    assert events(store, "qualification.completed") == [
        {"worker": worker, "answered": 2, "correct": 1, "pass_mark": 0.5, "passed": True}]
    lease, sub = answer_one(store, worker, N)
    assert lease.external_id == "item-1" and lease.qualification is None
    assert sub.feedback is None  # ordinary items (and hidden gold) give no feedback


def test_a_failed_qualification_test_refuses_work_with_the_numbers(store: Store) -> None:
    _, worker = qualification_project(store, pass_mark=1.0)
    answer_one(store, worker, T)
    answer_one(store, worker, U)
    with store.write() as conn, pytest.raises(Forbidden) as err:
        next_item(conn, projects.get_project(conn, "p"), worker)
    assert "1 of 2 correct" in err.value.message and "100%" in err.value.message
    with store.read() as conn:
        row = conn.execute(select(qualification_results)).one()
    assert (row.answered, row.correct, row.passed) == (2, 1, False)


def test_a_skipped_test_question_comes_back(store: Store) -> None:
    worker, _ = qualification_project(store)
    with store.write() as conn:
        row = projects.get_project(conn, "p")
        lease = next_item(conn, row, worker)
        assert lease is not None and lease.external_id == "q-1"
        from handloom.work.routing import close_lease
        close_lease(conn, row, worker, lease.assignment_id, status="skipped", reason="later")
    lease, _ = answer_one(store, worker, N)
    assert lease.external_id == "q-2"
    lease, sub = answer_one(store, worker, T)
    assert lease.external_id == "q-1" and sub.feedback["qualification"]["passed"] is True


def test_qualification_items_need_a_gold_answer(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
    from handloom.errors import ImportFailed
    with pytest.raises(ImportFailed) as err:
        import_rows(store, "p", [{"id": "q", "text": "x", "qualification": True}])
    assert err.value.field == "qualification"


# ------------------------------------------------------------------ gold and review queue
def test_a_missed_gold_answer_counts_in_the_score_and_queues_the_gold_item(
        store: Store) -> None:
    with store.write() as conn:
        make_project(conn, gold_rate=0.5)
        workers = add_workers(conn, 2)
    import_rows(store, "p", [*text_items(2), {"id": "g-1", "text": "gold", "gold": "toxic"}])
    answer_all(store, "p", workers, {"g-1": [T, N]})
    with store.read() as conn:
        p = projects.get_project(conn, "p")
        good = quality.worker_score(conn, p, workers[0])
        bad = quality.worker_score(conn, p, workers[1])
        queue = review.disagreement_queue(conn, p)
    assert (good["gold_answered"], good["gold_correct"], good["gold_accuracy"]) == (1, 1, 1.0)
    assert (bad["gold_answered"], bad["gold_correct"], bad["gold_accuracy"]) == (1, 0, 0.0)
    assert [(e["id"], e["reason"], e["is_gold"]) for e in queue] == [("g-1", "gold_failed",
                                                                      True)]
    assert events(store, "review.queued")[0]["reason"] == "gold_failed"


def test_low_confidence_items_are_queued_and_confident_ones_are_not(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=3)
        workers = add_workers(conn, 3)
    import_rows(store, "p", text_items(2))
    answer_all(store, "p", workers, {"item-1": [T, T, T], "item-2": [T, N, T]})
    first, second = item_row(store, "item-1"), item_row(store, "item-2")
    assert first.review_reason is None and first.agg_confidence > 0.9
    assert second.review_reason == "low_confidence" and second.agg_confidence < 0.9
    assert second.agg_method == "online" and second.agg_answer == T
    body = events(store, "review.queued")[0]
    assert body["item"] == second.id and body["reason"] == "low_confidence"


def test_dynamic_overlap_asks_for_more_answers_until_confident_or_capped(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2, quality={"max_overlap": 4})
        workers = add_workers(conn, 4)
    import_rows(store, "p", text_items(2))
    # item-1: agreement at once (2 answers); item-2: a split, then two more toxic answers.
    answer_all(store, "p", workers, {"item-1": [T, T], "item-2": [T, N, T, T]})
    easy, hard = item_row(store, "item-1"), item_row(store, "item-2")
    assert (easy.answers, easy.extra_answers) == (2, 0)
    assert hard.answers == 4 and hard.extra_answers == 2
    assert hard.review_reason is None and hard.agg_answer == T
    extended = events(store, "item.overlap_extended")
    assert [e["overlap"] for e in extended] == [3, 4]


def test_dynamic_overlap_stops_at_the_cap_and_queues_for_review(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2, quality={"max_overlap": 3})
        workers = add_workers(conn, 4)
    import_rows(store, "p", text_items(1))
    answer_all(store, "p", workers, {"item-1": [T, N, U, T]})
    row = item_row(store, "item-1")
    assert row.answers == 3 and row.extra_answers == 1  # the fourth worker got nothing
    assert row.review_reason == "low_confidence"


def test_max_overlap_below_overlap_is_refused(store: Store) -> None:
    with store.write() as conn, pytest.raises(Invalid) as err:
        make_project(conn, overlap=3, quality={"max_overlap": 2})
    assert err.value.field == "quality.max_overlap"


# ------------------------------------------------------------------ aggregation runs
def test_aggregation_run_stores_results_scores_and_a_ledger_event(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=3)
        workers = add_workers(conn, 3)
    import_rows(store, "p", text_items(4))
    answer_all(store, "p", workers, {"item-1": [T, T, T], "item-2": [T, N, T],
                                     "item-3": [N, N, U], "item-4": [U, U, U]})
    with store.write() as conn:
        run = quality.aggregate_project(conn, projects.get_project(conn, "p"), actor="test")
    assert run.method == "ds" and run.items == 4 and run.answers == 12 and run.workers == 3
    labels = {item_row(store, f"item-{i}").agg_answer["label"] for i in (1, 2)}
    assert labels == {"toxic"}
    assert item_row(store, "item-3").agg_answer == N
    assert {item_row(store, f"item-{i}").agg_method for i in range(1, 5)} == {"ds"}
    body = events(store, "quality.aggregated")[-1]
    assert body["method"] == "ds" and body["items"] == 4 and len(body["results_sha256"]) == 64
    with store.read() as conn:
        p = projects.get_project(conn, "p")
        scores = {s["worker_id"]: s for s in quality.worker_scores(conn, p)}
        assert ledger.verify(conn).ok
    # Worker 2 disagreed with the aggregate on item-2 (and item-3 is N N U: worker 3 differs).
    assert scores[workers[0]]["agreement"] == 1.0
    assert scores[workers[1]]["agreement"] == 0.75
    assert all(s["skill"] is not None for s in scores.values())


def test_aggregation_dry_run_writes_nothing(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2)
        workers = add_workers(conn, 2)
    import_rows(store, "p", text_items(2))
    answer_all(store, "p", workers, {})
    before = len(events(store, "quality.aggregated"))
    with store.write() as conn:
        run = quality.aggregate_project(conn, projects.get_project(conn, "p"), method="mace",
                                        apply=False)
    assert run.method == "mace" and run.items == 2
    assert len(events(store, "quality.aggregated")) == before
    assert item_row(store, "item-1").agg_method == "online"


def test_unknown_method_is_refused_with_the_choices(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
        with pytest.raises(Invalid) as err:
            quality.aggregate_project(conn, projects.get_project(conn, "p"), method="magic")
    assert "ds" in err.value.message and err.value.field == "method"


def test_project_agreement_alpha_and_its_interval(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=3)
        workers = add_workers(conn, 3)
    import_rows(store, "p", text_items(6))
    answer_all(store, "p", workers, {f"item-{i}": [T, T, T] if i % 2 else [N, N, N]
                                     for i in range(1, 7)})
    with store.read() as conn:
        p = projects.get_project(conn, "p")
        result = quality.project_agreement(conn, p, ci=True, n_boot=200)
        percent = quality.project_agreement(conn, p, metric="percent")
        with pytest.raises(Invalid):
            quality.project_agreement(conn, p, level="interval")
    assert result.value == pytest.approx(1.0)
    assert result.low is not None and result.low <= 1.0 and result.n_items == 6
    assert percent.value == pytest.approx(1.0)


def test_answer_next_still_answers_plain_projects(store: Store) -> None:
    """No qualification test configured: the first lease is ordinary work."""
    with store.write() as conn:
        make_project(conn)
        worker = add_workers(conn, 1)[0]
    import_rows(store, "p", text_items(1))
    sub = answer_next(store, "p", worker, default=T)
    assert sub is not None and sub.feedback is None


def test_a_reviewer_who_overrules_a_gold_answer_rescores_everyone(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, gold_rate=0.5)
        workers = add_workers(conn, 3)
        from handloom.work import accounts
        reviewer = accounts.create_user(conn, "rev", "reviewer", actor="test")
    import_rows(store, "p", [*text_items(2), {"id": "g-1", "text": "gold", "gold": "toxic"}])
    # The gold answer says toxic; two of three workers say not_toxic, and they are right.
    answer_all(store, "p", workers, {"g-1": [T, N, N]})
    with store.write() as conn:
        p = projects.get_project(conn, "p")
        assert [e["id"] for e in review.disagreement_queue(conn, p)] == ["g-1"]
        review.resolve(conn, p, "g-1", reviewer, N, "The comment is a quotation, not abuse.",
                       actor=f"user:{reviewer}")
    with store.read() as conn:
        p = projects.get_project(conn, "p")
        scores = [quality.worker_score(conn, p, w) for w in workers]
        assert ledger.verify(conn).ok
    assert [(s["gold_correct"], s["gold_answered"]) for s in scores] == [(0, 1), (1, 1), (1, 1)]
    assert item_row(store, "g-1").gold_answer == N
    body = events(store, "gold.corrected")[0]
    assert body["item"] == item_row(store, "g-1").id and len(body["rescored"]) == 3
