"""Terms and consent: what the worker is shown, its fingerprint, consent before work, new
terms asking again, and withdrawal at no cost (leases released, paid work still paid)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from factories import import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Forbidden
from handloom.labor import terms
from handloom.store.db import Store
from handloom.store.schema import assignments, consents, items, ledger_events, pay_events
from handloom.store.schema import projects as project_table
from handloom.work import accounts, projects, quality, routing, submissions

SPEC: dict[str, Any] = {
    "terms_required": True,
    "purpose": "Train a toxicity filter for a forum.",
    "downstream_use": "safety_classifier",
    "data_retention": "Answers are kept for two years, then deleted.",
    "content_categories": ["violence", "hate"],
    "appeal_deadline_days": 5,
    "pay": {"model": "piece", "currency": "USD", "piece_rate": "0.12",
            "est_seconds_per_item": 20},
    "exposure": {"support_resources": "Counselling line +1 555 0100, 24/7",
                 "limits": {"violence": {"daily_items": 40, "daily_minutes": 30}}},
}


def setup(store: Store, **spec: Any) -> tuple[Any, int]:
    with store.write() as conn:
        row = make_project(conn, "t", overlap=2, **{**SPEC, **spec})
        worker = accounts.add_worker(conn, "wanda")
    import_rows(store, "t", text_items(6))
    return row, worker


def lease(store: Store, worker: int) -> routing.Lease | None:
    with store.write() as conn:
        return routing.next_item(conn, routing.load_project(conn, "t"), worker)


def test_terms_say_pay_time_warnings_use_retention_appeals_and_support(store: Store) -> None:
    row, _ = setup(store)
    shown = terms.terms_for(row)
    assert shown["pay"] == {"model": "piece", "currency": "USD", "piece_rate": "0.12",
                            "piece_rates": {}, "hourly_rate": None,
                            "qualification_time_paid": True, "rejected_work_paid": True}
    assert shown["expected_seconds_per_item"] == 20
    assert shown["content_warnings"]["categories"] == [
        {"category": "violence", "daily_items": 40, "daily_minutes": 30},
        {"category": "hate", "daily_items": None, "daily_minutes": None}]
    assert shown["content_warnings"]["blurred"] is True
    assert shown["data_use"]["purpose"] == "Train a toxicity filter for a forum."
    assert shown["data_use"]["downstream_use"] == "safety_classifier"
    assert shown["retention"] == "Answers are kept for two years, then deleted."
    assert shown["appeals"] == {"deadline_days": 5,
                                "appealable": ["rejection", "gold_failure", "score", "removal"]}
    assert shown["support_resources"] == "Counselling line +1 555 0100, 24/7"
    assert len(terms.terms_hash(shown)) == 64


def test_work_needs_consent_then_flows(store: Store) -> None:
    _, worker = setup(store)
    with pytest.raises(Forbidden) as refused:
        lease(store, worker)
    assert "/work/t/terms" in refused.value.message
    assert "terms/consent" in (refused.value.hint or "")
    with store.write() as conn:
        given = terms.consent(conn, projects.get_project(conn, "t"), worker)
        again = terms.consent(conn, projects.get_project(conn, "t"), worker)
    assert given["new"] and not again["new"] and again["consent"] == given["consent"]
    assert lease(store, worker) is not None
    with store.read() as conn:
        row = conn.execute(select(consents)).one()
        assert row.terms == terms.terms_for(projects.get_project(conn, "t"))
        assert row.terms_hash == terms.terms_hash(row.terms)
        events = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "consent.given")).scalars().all()
        assert events == [{"consent": given["consent"], "worker": worker,
                           "terms_sha256": row.terms_hash}]
        assert ledger.verify(conn).ok


def test_new_terms_ask_for_consent_again(store: Store) -> None:
    _, worker = setup(store)
    with store.write() as conn:
        terms.consent(conn, projects.get_project(conn, "t"), worker)
        # a new instruction version is not a change of terms
        projects.add_instruction_version(conn, projects.get_project(conn, "t").id, "v2")
    first = lease(store, worker)
    assert first is not None
    with store.write() as conn:
        conn.execute(update(project_table).where(project_table.c.name == "t")
                     .values(piece_rate_minor=10))
    with pytest.raises(Forbidden, match="terms of project 't' changed"):
        lease(store, worker)
    with store.read() as conn:
        state = terms.status(conn, projects.get_project(conn, "t"), worker)
    assert state["needs_consent"] and state["changed"] and state["consent"] is None
    assert state["terms"]["pay"]["piece_rate"] == "0.10"
    with store.write() as conn:
        assert terms.consent(conn, projects.get_project(conn, "t"), worker)["new"]
    again = lease(store, worker)
    assert again is not None and again.assignment_id == first.assignment_id  # resumed
    with store.read() as conn:
        listed = terms.consents_for_worker(conn, worker)
    assert [c["current"] for c in listed] == [True, False]


def test_withdrawing_releases_leases_keeps_pay_and_refuses_work(store: Store) -> None:
    _, worker = setup(store)
    with store.write() as conn:
        terms.consent(conn, projects.get_project(conn, "t"), worker)
    done = lease(store, worker)
    assert done is not None
    with store.write() as conn:
        project = routing.load_project(conn, "t")
        submissions.submit_answer(conn, project, projects.kind_of(project), worker,
                                  done.assignment_id, {"label": "toxic"}, idempotency_key="k1",
                                  active_seconds=15)
    held = lease(store, worker)
    assert held is not None
    with store.read() as conn:
        paid_before = conn.execute(select(func.sum(pay_events.c.amount_minor)).where(
            pay_events.c.worker_id == worker)).scalar()
        score_before = quality.worker_score(conn, projects.get_project(conn, "t"), worker)
    with store.write() as conn:
        out = terms.withdraw(conn, projects.get_project(conn, "t"), worker)
    assert out["released"] == 1
    with store.read() as conn:
        status = conn.execute(select(assignments.c.status).where(
            assignments.c.id == held.assignment_id)).scalar()
        leased = conn.execute(select(items.c.leased, items.c.full).where(
            items.c.id == held.item_id)).one()
        paid_after = conn.execute(select(func.sum(pay_events.c.amount_minor)).where(
            pay_events.c.worker_id == worker)).scalar()
        score_after = quality.worker_score(conn, projects.get_project(conn, "t"), worker)
        withdrawn = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "consent.withdrawn")).scalar_one()
        assert ledger.verify(conn).ok
    assert status == "released"
    assert (leased.leased, bool(leased.full)) == (0, False)
    assert paid_before == paid_after == 12  # the answered item stays paid
    assert score_before == score_after
    assert withdrawn["released"] == [held.assignment_id]
    with pytest.raises(Forbidden, match="read and accept its terms"):
        lease(store, worker)
    with store.write() as conn, pytest.raises(Conflict, match="no consent to withdraw"):
        terms.withdraw(conn, projects.get_project(conn, "t"), worker)


def test_projects_without_required_terms_route_without_consent(store: Store) -> None:
    _, worker = setup(store, terms_required=False)
    assert lease(store, worker) is not None


def test_manager_counts_consents(store: Store) -> None:
    setup(store)
    with store.write() as conn:
        row = projects.get_project(conn, "t")
        a, b, c = (accounts.add_worker(conn, f"w{i}") for i in range(3))
        for w in (a, b, c):
            terms.consent(conn, row, w)
        terms.withdraw(conn, row, c)
        conn.execute(update(project_table).where(project_table.c.id == row.id)
                     .values(data_retention="One year."))
        terms.consent(conn, projects.get_project(conn, "t"), a)
    with store.read() as conn:
        counts = terms.project_consents(conn, projects.get_project(conn, "t"))
    assert counts == {"current": 1, "older_terms": 1, "withdrawn": 1}
