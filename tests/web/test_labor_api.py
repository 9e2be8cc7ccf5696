"""Scenarios through the SDK against a real server, on SQLite and PostgreSQL: appeals that
restore pay and score, reviews of workers instead of automatic removal, consent before work
(and withdrawn), new terms asking again, and the workers' flags."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from web_helpers import People, Person

from handloom.sdk import Client, HandloomAPIError
from handloom.store.db import Store
from handloom.store.schema import (
    annotations,
    assignments,
    ledger_events,
    pay_events,
    worker_scores,
)
from handloom.store.schema import projects as project_table

SPEC: dict[str, Any] = {
    "name": "fair", "kind": "classification", "labels": ["toxic", "not_toxic"],
    "overlap": 2, "appeal_deadline_days": 4,
    "purpose": "Train a forum's toxicity filter.", "data_retention": "Two years.",
    "content_categories": ["hate"],
    "pay": {"model": "piece", "currency": "USD", "piece_rate": "0.20",
            "est_seconds_per_item": 15},
}
ITEMS = [{"id": f"i{n}", "text": f"comment {n}"} for n in range(1, 9)]
GOLD = [{"id": f"g{n}", "text": f"gold {n}", "gold": "toxic"} for n in range(1, 7)]


def client(base: str, person: Person) -> Client:
    return Client(base, person.token)


def setup_project(base: str, people: People, **spec: Any) -> None:
    with client(base, people.manager) as hl:
        hl.create_project({**SPEC, **spec})
        hl.import_items("fair", ITEMS + (GOLD if spec.get("gold_rate") else []))


def work_one(hl: Client, label: str = "toxic") -> dict[str, Any]:
    lease = hl.next("fair")
    assert lease is not None
    return hl.submit("fair", lease["assignment_id"], {"label": label}, active_seconds=12)


def earned(store: Store, annotation_id: int) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(pay_events.c.amount_minor), 0))
                                .where(pay_events.c.annotation_id == annotation_id))
                   .scalar_one())


def test_an_upheld_appeal_restores_pay_and_score_and_is_on_the_ledger(
        store: Store, live_server: str, people: People) -> None:
    setup_project(live_server, people, gold_rate=0.5)
    rita, sam = people.reviewer, people.new("reviewer", "sam")
    with client(live_server, people.worker) as hl:
        hl.consent("fair")
        done = [work_one(hl, "not_toxic") for _ in range(4)]
    with store.read() as conn:
        gold_wrong = conn.execute(select(annotations.c.id).where(
            annotations.c.is_gold.is_(True), annotations.c.gold_correct.is_(False))
            .order_by(annotations.c.id)).scalars().first()
    plain = next(d["annotation_id"] for d in done if d["annotation_id"] != gold_wrong
                 and earned(store, d["annotation_id"]) == 20)
    with client(live_server, rita) as hl:
        out = hl.reject_answer("fair", plain, "Labelled without reading the text", fraud=True)
    assert out["clawed_back_minor"] == 20 and earned(store, plain) == 0

    with client(live_server, people.worker) as hl:
        options = {(o["subject_type"], o["subject_id"]) for o in hl.appealable("fair")}
        assert ("rejection", plain) in options and ("gold_failure", gold_wrong) in options
        appeal = hl.file_appeal("fair", "rejection", plain,
                                "I read it; the insult is in the last line.",
                                active_seconds=60)
        gold_appeal = hl.file_appeal("fair", "gold_failure", gold_wrong,
                                     "The gold answer ignores the quoted context.")
        score_before = hl.my_score("fair")
    assert appeal["status"] == "open" and appeal["due_at"] > appeal["created_at"]

    with client(live_server, rita) as hl:
        listed = hl.appeals(project="fair")
        assert {a["id"]: a["may_decide"] for a in listed} == {appeal["id"]: False,
                                                              gold_appeal["id"]: True}
        with pytest.raises(HandloomAPIError) as refused:
            hl.decide_appeal(appeal["id"], uphold=True, reason="I was wrong")
        assert refused.value.status == 403 and "someone else" in refused.value.message
    with client(live_server, sam) as hl:
        decided = hl.decide_appeal(appeal["id"], uphold=True,
                                   reason="The last line is an insult; the label is right.")
        hl.decide_appeal(gold_appeal["id"], uphold=True, reason="The gold answer was wrong.")
    assert decided["status"] == "upheld"
    assert decided["restored"]["pay_restored_minor"] == 20
    assert earned(store, plain) == 20

    with client(live_server, people.worker) as hl:
        mine = {a["id"]: a for a in hl.my_appeals()}
        score_after = hl.my_score("fair")
    assert mine[appeal["id"]]["decision_reason"].startswith("The last line")
    assert score_after["gold_correct"] == score_before["gold_correct"] + 1
    assert score_after["gold_answered"] == score_before["gold_answered"]
    with client(live_server, people.owner) as hl:
        assert hl.verify_ledger()["ok"] is True
        statuses = {a["id"]: a["review_status"] for a in hl.annotations("fair")}
    assert statuses[plain] == "accepted"
    with store.read() as conn:
        events = [e for e, in conn.execute(select(ledger_events.c.event).where(
            ledger_events.c.event.in_(["annotation.rejected", "pay.clawed_back",
                                       "appeal.filed", "pay.restored", "annotation.restored",
                                       "appeal.decided"])).order_by(ledger_events.c.seq))]
    assert events == ["pay.clawed_back", "annotation.rejected", "appeal.filed", "appeal.filed",
                      "pay.restored", "annotation.restored", "appeal.decided", "appeal.decided"]


def test_a_low_score_opens_a_review_and_a_person_decides(store: Store, live_server: str,
                                                         people: People) -> None:
    setup_project(live_server, people, gold_rate=0.5, score_review_below=0.6,
                  score_review_min_gold=2, terms_required=False)
    with client(live_server, people.worker) as hl:
        for _ in range(4):
            work_one(hl, "not_toxic")  # every gold answer wrong
        assert hl.next("fair") is not None  # a low score removes no one
    with client(live_server, people.manager) as hl:
        reviews = hl.worker_reviews("fair", status="open")
        assert len(reviews) == 1 and reviews[0]["trigger"] == "low_score"
        assert reviews[0]["worker"].startswith("w_")
        out = hl.decide_worker_review("fair", reviews[0]["id"], remove=True,
                                      reason="Gold answers wrong after the briefing")
    assert out["status"] == "removed" and out["released"] == 1
    with client(live_server, people.worker) as hl:
        with pytest.raises(HandloomAPIError) as refused:
            hl.next("fair")
        assert refused.value.status == 403
        assert "Gold answers wrong after the briefing" in refused.value.message
        appeal = hl.file_appeal("fair", "removal", reviews[0]["id"],
                                "The gold items contradict the briefing.")
    with client(live_server, people.reviewer) as hl:
        hl.decide_appeal(appeal["id"], uphold=True, reason="The briefing was misleading.")
    with client(live_server, people.worker) as hl:
        assert hl.next("fair") is not None  # access is back
    with client(live_server, people.manager) as hl:
        assert hl.worker_reviews("fair")[0]["status"] == "reinstated"
        opened = hl.open_worker_review("fair", worker=reviews[0]["worker"])
        assert opened["trigger"] == "manual" and opened["status"] == "open"
        with pytest.raises(HandloomAPIError) as twice:
            hl.open_worker_review("fair", worker=reviews[0]["worker"])
        assert twice.value.status == 409


def test_consent_required_then_given_then_withdrawn(store: Store, live_server: str,
                                                    people: People) -> None:
    setup_project(live_server, people)
    with client(live_server, people.worker) as hl:
        with pytest.raises(HandloomAPIError) as refused:
            hl.next("fair")
        assert refused.value.status == 403 and "/work/fair/terms" in refused.value.message
        shown = hl.terms("fair")
        assert shown["needs_consent"] is True
        assert shown["terms"]["pay"]["piece_rate"] == "0.20"
        assert shown["terms"]["expected_seconds_per_item"] == 15
        assert shown["terms"]["content_warnings"]["categories"][0]["category"] == "hate"
        assert shown["terms"]["retention"] == "Two years."
        given = hl.consent("fair")
        assert given["needs_consent"] is False and given["consent"] is not None
        paid = work_one(hl)
        held = hl.next("fair")
        assert held is not None
        out = hl.withdraw_consent("fair")
        assert out["released"] == 1
        with pytest.raises(HandloomAPIError) as again:
            hl.next("fair")
        assert again.value.status == 403
        assert [c["withdrawn_at"] is not None for c in hl.my_consents()] == [True]
    assert earned(store, paid["annotation_id"]) == 20  # paid work stays paid
    with store.read() as conn:
        status = conn.execute(select(assignments.c.status).where(
            assignments.c.id == held["assignment_id"])).scalar()
        score_rows = conn.execute(select(func.count()).select_from(worker_scores)).scalar()
    assert status == "released" and score_rows == 0
    with client(live_server, people.manager) as hl:
        counts = hl.terms("fair")["consents"]
    assert counts == {"current": 0, "older_terms": 0, "withdrawn": 1}


def test_new_terms_require_a_new_consent(store: Store, live_server: str,
                                         people: People) -> None:
    setup_project(live_server, people)
    with client(live_server, people.worker) as hl:
        first_hash = hl.consent("fair")["terms_hash"]
        work_one(hl)
    with store.write() as conn:  # the operator lowers the rate
        conn.execute(update(project_table).where(project_table.c.name == "fair")
                     .values(piece_rate_minor=15))
    with client(live_server, people.worker) as hl:
        with pytest.raises(HandloomAPIError) as refused:
            hl.next("fair")
        assert "changed since you accepted them" in refused.value.message
        shown = hl.terms("fair")
        assert shown["changed"] and shown["terms_hash"] != first_hash
        assert shown["terms"]["pay"]["piece_rate"] == "0.15"
        hl.consent("fair")
        assert hl.next("fair") is not None


def test_flags_take_one_plus_one_per_worker_and_versions_answer_them(
        store: Store, live_server: str, people: People) -> None:
    setup_project(live_server, people, terms_required=False)
    ann, bob = people.workers(2)
    with client(live_server, ann) as hl:
        flag = hl.raise_flag("fair", "Do quoted insults count as toxic?", item_id="i1")
        other = hl.raise_flag("fair", "Is 'meh' toxic?")
        assert flag["supporters"] == 1 and flag["mine"] is True
    with client(live_server, bob) as hl:
        assert hl.support_flag("fair", flag["id"])["supporters"] == 2
        again = hl.support_flag("fair", flag["id"])
        assert again == {"issue": flag["id"], "supporters": 2, "added": False}
        seen = {f["id"]: f for f in hl.flags("fair")}
        assert seen[flag["id"]]["supported"] and not seen[flag["id"]]["mine"]
        assert seen[flag["id"]]["note"] == "Do quoted insults count as toxic?"
    with client(live_server, ann) as hl:
        assert hl.support_flag("fair", flag["id"])["added"] is False  # the author counts once
    with client(live_server, people.manager) as hl:
        published = hl.publish_instructions("fair", "Quoted insults are toxic.",
                                            "answers the quoting question",
                                            answers_issues=[flag["id"]])
        assert published["version"] == 2
        answered = hl.answer_flag("fair", other["id"], "No: 'meh' is not toxic.")
        assert answered["status"] == "answered"
        with pytest.raises(HandloomAPIError) as bad:
            hl.publish_instructions("fair", "v3", answers_issues=[999])
        assert bad.value.status == 422 and "#999" in bad.value.message
    with client(live_server, bob) as hl:
        seen = {f["id"]: f for f in hl.flags("fair")}
        with pytest.raises(HandloomAPIError) as closed:
            hl.support_flag("fair", other["id"])
        assert closed.value.status == 409
    assert (seen[flag["id"]]["status"], seen[flag["id"]]["resolved_in_version"]) == (
        "answered", 2)
    assert seen[other["id"]]["answer"] == "No: 'meh' is not toxic."
    with store.read() as conn:
        notes = [b for b, in conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event.like("guideline.%")))]
    assert "quoted insults" not in str(notes).lower()
