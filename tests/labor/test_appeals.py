"""Appeals: filing against one's own decisions only, deciding by someone other than the
contested decision's author, and automatic restoration (pay, gold score, access) when upheld."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from factories import import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Forbidden, Invalid, NotFound
from handloom.labor import appeals, standing
from handloom.store.db import Store, utcnow
from handloom.store.schema import (
    annotations,
    ledger_events,
    pay_events,
    qualification_results,
    time_entries,
    worker_reviews,
    worker_scores,
)
from handloom.work import accounts, projects, review, routing, submissions

STATEMENT = "My answer follows rule 3 of the instructions: quoted insults are toxic."


class World:
    """Project a (0.12 USD a piece, 3-day appeals, half gold), two workers, two reviewers
    and a manager."""

    def __init__(self, store: Store, **spec: Any):
        self.store = store
        with store.write() as conn:
            make_project(conn, "a", overlap=2, appeal_deadline_days=3,
                         pay={"model": "piece", "currency": "USD", "piece_rate": "0.12"},
                         **spec)
            self.ann = accounts.add_worker(conn, "ann")
            self.bob = accounts.add_worker(conn, "bob")
            self.rita = accounts.create_user(conn, "rita", "reviewer")
            self.sam = accounts.create_user(conn, "sam", "reviewer")
            self.mona = accounts.create_user(conn, "mona", "manager")

    def project(self, conn: Any) -> Any:
        return projects.get_project(conn, "a")

    def answer(self, worker: int, label: str = "toxic") -> int:
        with self.store.write() as conn:
            project = routing.load_project(conn, "a")
            got = routing.next_item(conn, project, worker)
            assert got is not None
            return submissions.submit_answer(
                conn, project, projects.kind_of(project), worker, got.assignment_id,
                {"label": label}, idempotency_key=f"{worker}-{got.assignment_id}",
                active_seconds=10).annotation_id

    def earned(self, annotation_id: int) -> int:
        with self.store.read() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(pay_events.c.amount_minor), 0))
                                    .where(pay_events.c.annotation_id == annotation_id))
                       .scalar_one())


@pytest.fixture
def world(store: Store) -> World:
    w = World(store)
    import_rows(store, "a", text_items(6))
    return w


def test_an_upheld_rejection_appeal_restores_pay_and_is_on_the_ledger(world: World) -> None:
    store = world.store
    ann_id = world.answer(world.ann)
    assert world.earned(ann_id) == 12
    with store.write() as conn:
        out = review.reject_answer(conn, world.project(conn), ann_id, world.rita,
                                   "Copied the label without reading", fraud=True,
                                   actor=f"user:{world.rita}")
    assert out["clawed_back_minor"] == 12 and world.earned(ann_id) == 0
    with store.write() as conn:
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "rejection", ann_id,
                                 STATEMENT, active_seconds=90)
        with pytest.raises(Conflict, match="still open"):
            appeals.file(conn, world.project(conn), world.ann, "rejection", ann_id, "again")
    with store.write() as conn, pytest.raises(Forbidden, match="someone else must decide"):
        appeals.decide(conn, world.project(conn), appeal_id, world.rita, uphold=True,
                       reason="I was wrong")
    with store.write() as conn:
        decided = appeals.decide(conn, world.project(conn), appeal_id, world.sam, uphold=True,
                                 reason="The answer follows rule 3; no sign of fraud.")
    assert decided["status"] == "upheld"
    assert decided["restored"] == {"annotation": ann_id, "review_status": "accepted",
                                   "pay_restored_minor": 12, "currency": "USD"}
    assert world.earned(ann_id) == 12
    with store.read() as conn:
        row = conn.execute(select(annotations).where(annotations.c.id == ann_id)).one()
        kinds = conn.execute(select(pay_events.c.kind, pay_events.c.amount_minor).where(
            pay_events.c.annotation_id == ann_id).order_by(pay_events.c.id)).all()
        events = {e.event: e for e in conn.execute(select(ledger_events))}
        appeal_time = conn.execute(select(time_entries.c.reason, time_entries.c.seconds,
                                          time_entries.c.ref_id)
                                   .where(time_entries.c.reason == "appeal")).one()
        mine = appeals.for_worker(conn, world.ann)
        assert ledger.verify(conn).ok
    assert (row.review_status, row.fraud, row.reviewed_by) == ("accepted", False, world.sam)
    assert [tuple(k) for k in kinds] == [("piece", 12), ("clawback", -12), ("restored", 12)]
    assert events["annotation.rejected"].body["fraud"] is True
    assert events["annotation.rejected"].body["clawed_back_minor"] == 12
    assert events["pay.restored"].body["appeal"] == appeal_id
    assert events["annotation.restored"].body["restored_minor"] == 12
    filed = events["appeal.filed"].body
    assert filed["statement_chars"] == len(STATEMENT) and filed["contested_by"] == world.rita
    assert STATEMENT not in str([e.body for e in events.values()])
    assert events["appeal.decided"].body["restored"]["pay_restored_minor"] == 12
    assert tuple(appeal_time) == ("appeal", 90.0, appeal_id)
    assert mine[0]["status"] == "upheld" and mine[0]["statement"] == STATEMENT
    assert mine[0]["decision_reason"] == "The answer follows rule 3; no sign of fraud."
    assert "USD 0.12 of pay was restored" in mine[0]["restored_text"]


def test_a_denied_appeal_restores_nothing(world: World) -> None:
    store = world.store
    ann_id = world.answer(world.ann)
    with store.write() as conn:
        review.reject_answer(conn, world.project(conn), ann_id, world.rita, "Off topic",
                             actor="test")
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "rejection", ann_id,
                                 STATEMENT)
        out = appeals.decide(conn, world.project(conn), appeal_id, world.mona, uphold=False,
                             reason="The item is about sport; the label does not fit.")
        with pytest.raises(Conflict, match="already decided"):
            appeals.decide(conn, world.project(conn), appeal_id, world.sam, uphold=True,
                           reason="x")
    assert out["restored"] is None
    assert world.earned(ann_id) == 12  # rejected without fraud: it stayed paid all along
    with store.read() as conn:
        status = conn.execute(select(annotations.c.review_status).where(
            annotations.c.id == ann_id)).scalar()
    assert status == "rejected"


def test_only_ones_own_contestable_decisions_can_be_appealed(world: World) -> None:
    store = world.store
    bobs = world.answer(world.bob)
    anns = world.answer(world.ann)
    with store.write() as conn:
        review.reject_answer(conn, world.project(conn), bobs, world.rita, "Off topic",
                             actor="test")
        p = world.project(conn)
        with pytest.raises(NotFound, match="of yours"):
            appeals.file(conn, p, world.ann, "rejection", bobs, STATEMENT)
        with pytest.raises(Conflict, match="not rejected"):
            appeals.file(conn, p, world.ann, "rejection", anns, STATEMENT)
        with pytest.raises(Conflict, match="not a gold answer"):
            appeals.file(conn, p, world.ann, "gold_failure", anns, STATEMENT)
        with pytest.raises(Conflict, match="no failures"):
            appeals.file(conn, p, world.ann, "score", None, STATEMENT)
        with pytest.raises(Invalid, match="leave subject_id empty"):
            appeals.file(conn, p, world.ann, "score", 3, STATEMENT)
        with pytest.raises(Invalid, match="own words"):
            appeals.file(conn, p, world.bob, "rejection", bobs, "   ")
        with pytest.raises(Invalid):
            appeals.file(conn, p, world.bob, "bribe", bobs, STATEMENT)
        with pytest.raises(NotFound):
            appeals.file(conn, p, world.bob, "removal", 99, STATEMENT)


def test_the_queue_lists_overdue_first_and_counts_them(world: World) -> None:
    store = world.store
    first, second = world.answer(world.ann), world.answer(world.ann)
    now = utcnow()
    with store.write() as conn:
        for ann_id in (first, second):
            review.reject_answer(conn, world.project(conn), ann_id, world.rita, "Off topic",
                                 actor="test")
        late = appeals.file(conn, world.project(conn), world.ann, "rejection", first,
                            STATEMENT, now=now - timedelta(days=5))
        fresh = appeals.file(conn, world.project(conn), world.ann, "rejection", second,
                             STATEMENT, now=now)
    with store.read() as conn:
        queue = appeals.queue(conn, decider_user_id=world.rita)
        overdue = appeals.queue(conn, status="overdue")
        counts = appeals.project_counts(conn, world.project(conn))
    assert [a["id"] for a in queue] == [late, fresh]
    assert queue[0]["overdue"] and not queue[1]["overdue"]
    assert queue[0]["may_decide"] is False  # rita rejected both answers
    assert queue[0]["worker"].startswith("w_") and queue[0]["statement"] == STATEMENT
    assert queue[0]["subject"]["rejection_reason"] == "Off topic"
    assert [a["id"] for a in overdue] == [late]
    assert counts == {"open": 2, "overdue": 1, "upheld": 0, "denied": 0}
    with store.write() as conn:
        decided = appeals.decide(conn, world.project(conn), late, world.sam, uphold=False,
                                 reason="Rule 3 does not apply here.")
        body = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "appeal.decided")).scalar_one()
    assert decided["status"] == "denied" and body["overdue"] is True


def gold_world(store: Store, **spec: Any) -> World:
    w = World(store, gold_rate=1.0, **spec)
    import_rows(store, "a", [{"id": f"g{i}", "text": f"gold {i}", "gold": "toxic"}
                             for i in range(1, 6)])
    return w


def test_an_upheld_gold_failure_appeal_recounts_the_score(store: Store) -> None:
    world = gold_world(store, score_review_below=0.5, score_review_min_gold=2)
    wrong = [world.answer(world.ann, "not_toxic") for _ in range(2)]
    world.answer(world.ann, "toxic")
    with store.read() as conn:
        score = conn.execute(select(worker_scores.c.gold_answered, worker_scores.c.gold_correct)
                             ).one()
        open_review = conn.execute(select(worker_reviews.c.id)).scalar_one()
    assert tuple(score) == (3, 1)
    with store.write() as conn:
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "gold_failure",
                                 wrong[0], "The text is sarcastic; 'not toxic' is right.")
        out = appeals.decide(conn, world.project(conn), appeal_id, world.rita, uphold=True,
                             reason="Sarcasm; the gold answer was too strict.")
    assert out["restored"]["gold_before"] == {"answered": 3, "correct": 1}
    assert out["restored"]["gold_after"] == {"answered": 3, "correct": 2}
    assert out["restored"]["closed_review"] == open_review  # 2 of 3 is above 0.5 now
    with store.read() as conn:
        assert conn.execute(select(annotations.c.gold_correct).where(
            annotations.c.id == wrong[0])).scalar() is True
        assert conn.execute(select(worker_reviews.c.status)).scalar_one() == "kept"
        assert ledger.verify(conn).ok


def test_an_upheld_score_appeal_strikes_failures_and_closes_the_review(store: Store) -> None:
    world = gold_world(store, score_review_below=0.7, score_review_min_gold=3)
    for label in ("not_toxic", "not_toxic", "toxic", "not_toxic"):
        world.answer(world.ann, label)
    with store.write() as conn:
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "score", None,
                                 "These gold items contradict the instructions' examples.")
        out = appeals.decide(conn, world.project(conn), appeal_id, world.mona, uphold=True,
                             reason="The gold set was built on an older version.")
    restored = out["restored"]
    assert len(restored["struck_gold_failures"]) == 3
    assert restored["gold_after"] == {"answered": 1, "correct": 1}
    assert restored["closed_review"] is not None
    with store.read() as conn:
        review_row = conn.execute(select(worker_reviews)).one()
        struck = conn.execute(select(func.count()).select_from(annotations).where(
            annotations.c.gold_correct.is_(None), annotations.c.is_gold.is_(True))).scalar()
    assert review_row.status == "kept" and review_row.decided_by == world.mona
    assert f"appeal #{appeal_id}" in review_row.reason
    assert struck == 3


def test_an_upheld_removal_appeal_restores_access(store: Store) -> None:
    world = World(store)
    import_rows(store, "a", text_items(6))
    world.answer(world.ann)
    with store.write() as conn:
        review_id = standing.open_review(conn, world.project(conn), world.ann,
                                         opened_by=world.mona)
        standing.decide(conn, world.project(conn), review_id, remove=True,
                        reason="Answers copied from another worker", decider_user_id=world.mona)
    with pytest.raises(Forbidden, match="Answers copied from another worker"):
        world.answer(world.ann)
    with store.write() as conn:
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "removal", review_id,
                                 "We sit in the same office but answered alone.")
    with pytest.raises(Forbidden, match=f"Your appeal \\(#{appeal_id}\\) is open"):
        world.answer(world.ann)
    with store.write() as conn:
        with pytest.raises(Forbidden):
            appeals.decide(conn, world.project(conn), appeal_id, world.mona, uphold=True,
                           reason="ok")
        out = appeals.decide(conn, world.project(conn), appeal_id, world.rita, uphold=True,
                             reason="The timings show independent work.")
    assert out["restored"] == {"review": review_id, "status": "reinstated"}
    assert world.answer(world.ann) > 0
    with store.read() as conn:
        mine = standing.for_worker(conn, world.ann)
    assert mine[0]["status"] == "reinstated" and mine[0]["appeal"]["status"] == "upheld"


def test_a_qualification_failure_upheld_can_pass_the_test(store: Store) -> None:
    world = World(store, quality={"qualification_size": 2, "qualification_pass": 1.0})
    import_rows(store, "a", [{"id": "q1", "text": "q1", "gold": "toxic", "qualification": True},
                             {"id": "q2", "text": "q2", "gold": "toxic", "qualification": True},
                             *text_items(3)])
    first = world.answer(world.ann, "not_toxic")
    world.answer(world.ann, "toxic")
    with pytest.raises(Forbidden, match="did not pass the qualification test"):
        world.answer(world.ann)
    with store.read() as conn:
        options = appeals.appealable(conn, world.ann)
    assert [(o["subject_type"], o["subject_id"], o["qualification"]) for o in options] == [
        ("gold_failure", first, True)]
    with store.write() as conn:
        appeal_id = appeals.file(conn, world.project(conn), world.ann, "gold_failure", first,
                                 "Both readings are allowed by the instructions.")
        out = appeals.decide(conn, world.project(conn), appeal_id, world.rita, uphold=True,
                             reason="Ambiguous test item.")
    assert out["restored"]["qualification_after"] == {"correct": 2, "passed": True}
    with store.read() as conn:
        assert conn.execute(select(qualification_results.c.passed)).scalar() is True
    assert world.answer(world.ann) > 0
