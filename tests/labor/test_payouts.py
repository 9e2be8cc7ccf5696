"""Payouts (SQLite and PostgreSQL): marking earned pay as paid out, by cut-off and by worker,
on the ledger; statements and the payroll show what is paid and what is still owed, from the
same pay events."""

from __future__ import annotations

import csv
import io
import json
import time as clock
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import add_workers, answer_next, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Invalid
from handloom.labor import pay, payouts
from handloom.store.db import Store, utcnow
from handloom.store.schema import ledger_events, pay_events
from handloom.work import projects


def seed(store: Store, workers: int = 2, items: int = 6) -> list[int]:
    """Project p at USD 0.10 a piece, *items* items, overlap 2; the workers' ids."""
    with store.write() as conn:
        make_project(conn, overlap=2, pay={"piece_rate": "0.10"})
        ids = add_workers(conn, workers)
    import_rows(store, "p", text_items(items))
    return ids


def answer(store: Store, worker: int, n: int) -> None:
    for _ in range(n):
        assert answer_next(store, "p", worker) is not None


def mark(store: Store, **kwargs: Any) -> dict[str, Any]:
    with store.write() as conn:
        return payouts.mark_paid(conn, projects.get_project(conn, "p"), actor="test", **kwargs)


def paid_out_events(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "pay.paid_out").order_by(ledger_events.c.seq))
        return [json.loads(b) if isinstance(b, str) else b for (b,) in rows]


def unpaid(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(pay_events).where(
            pay_events.c.paid_at.is_(None))).scalar_one())


def entry(store: Store, worker: int) -> dict[str, Any]:
    with store.read() as conn:
        (found,) = pay.statement(conn, worker)["projects"]
    return found


def test_marking_everything_paid(store: Store) -> None:
    kofi, ama = seed(store)
    answer(store, kofi, 3)
    answer(store, ama, 2)
    before = entry(store, kofi)
    assert (before["paid_minor"], before["owed_minor"], before["owed"]) == (0, 30, "0.30")
    assert before["last_paid_at"] is None

    result = mark(store)
    assert (result["count"], result["workers"], result["total_minor"], result["total"],
            result["currency"]) == (5, 2, 50, "0.50", "USD")
    assert unpaid(store) == 0
    (event,) = paid_out_events(store)
    assert event == {"project": event["project"], "count": 5, "workers": 2, "total_minor": 50,
                     "currency": "USD", "through": result["through"], "worker": None}
    after = entry(store, kofi)
    assert (after["paid_minor"], after["paid"], after["owed_minor"]) == (30, "0.30", 0)
    assert after["last_paid_at"] == result["paid_at"]
    with store.read() as conn:
        statement = pay.statement(conn, ama)
        assert statement["totals"][0]["paid"] == "0.20"
        assert statement["totals"][0]["owed"] == "0.00"
        assert ledger.verify(conn).ok

    # Nothing is left to mark: no second event.
    again = mark(store)
    assert again["count"] == 0 and again["total_minor"] == 0 and again["paid_at"] is None
    assert len(paid_out_events(store)) == 1


def test_only_pay_earned_before_the_cut_off(store: Store) -> None:
    kofi, _ = seed(store)
    answer(store, kofi, 2)
    clock.sleep(0.01)
    cutoff = utcnow()
    clock.sleep(0.01)
    answer(store, kofi, 1)
    result = mark(store, through=cutoff)
    assert (result["count"], result["total_minor"]) == (2, 20)
    assert result["through"] == cutoff.isoformat()
    found = entry(store, kofi)
    assert (found["paid_minor"], found["owed_minor"]) == (20, 10)
    # A cut-off given in another zone means the same instant.
    later = mark(store, through=utcnow().astimezone(timezone(timedelta(hours=-5))))
    assert later["count"] == 1


def test_one_worker_at_a_time(store: Store) -> None:
    kofi, ama = seed(store)
    answer(store, kofi, 2)
    answer(store, ama, 3)
    result = mark(store, worker_id=ama)
    assert (result["count"], result["workers"], result["total_minor"]) == (3, 1, 30)
    assert paid_out_events(store)[0]["worker"] == ama
    assert entry(store, kofi)["owed_minor"] == 20 and entry(store, ama)["owed_minor"] == 0


def test_a_cut_off_in_the_future_counts_as_now(store: Store) -> None:
    kofi, _ = seed(store)
    answer(store, kofi, 1)
    before = utcnow()
    result = mark(store, through=before + timedelta(days=30))
    assert result["count"] == 1
    assert before <= datetime.fromisoformat(result["through"]) <= utcnow()


def test_a_clawback_after_a_payout_is_owed_back(store: Store) -> None:
    kofi, _ = seed(store)
    answer(store, kofi, 2)
    mark(store)
    with store.write() as conn:
        project = projects.get_project(conn, "p")
        annotation = conn.execute(select(pay_events.c.annotation_id).where(
            pay_events.c.worker_id == kofi).limit(1)).scalar_one()
        assert pay.clawback_annotation(conn, project, annotation, reason="fraud",
                                       actor="test") == 10
    found = entry(store, kofi)
    assert (found["total_minor"], found["paid_minor"], found["owed_minor"]) == (10, 20, -10)
    # The next payout deducts it.
    assert mark(store)["total_minor"] == -10
    assert entry(store, kofi)["owed_minor"] == 0


def test_the_payroll_and_the_manager_figures_agree(store: Store) -> None:
    kofi, ama = seed(store)
    answer(store, kofi, 3)
    answer(store, ama, 1)
    mark(store, worker_id=kofi)
    answer(store, ama, 1)
    with store.read() as conn:
        project = projects.get_project(conn, "p")
        report = pay.payroll(conn, project)
        summary = payouts.project_payouts(conn, project)
    assert (report["paid_minor"], report["owed_minor"]) == (30, 20)
    assert sum(r["paid_minor"] for r in report["rows"]) == 30
    assert sum(r["owed_minor"] for r in report["rows"]) == 20
    assert report["last_paid_at"] is not None
    rows = list(csv.DictReader(io.StringIO(pay.payroll_csv(report))))
    assert sorted(r["owed_minor"] for r in rows) == ["0", "20"]
    assert (summary["paid"], summary["owed"], summary["unpaid_events"],
            summary["unpaid_workers"]) == ("0.30", "0.20", 2, 1)
    assert summary["oldest_unpaid"] is not None and summary["last_paid_at"] is not None


def test_the_period_of_a_statement_bounds_paid_and_owed(store: Store) -> None:
    kofi, _ = seed(store)
    answer(store, kofi, 2)
    mark(store)
    tomorrow = utcnow() + timedelta(days=1)
    with store.read() as conn:
        empty = pay.statement(conn, kofi, since=tomorrow)
    assert empty["projects"] == [] and empty["totals"] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-01-31", datetime(2025, 2, 1, tzinfo=UTC)),
    ("2025-01-31T12:30", datetime(2025, 1, 31, 12, 30, tzinfo=UTC)),
    ("2025-01-31T12:30:00+02:00", datetime(2025, 1, 31, 10, 30, tzinfo=UTC)),
    (" 2024-12-31T23:59:59Z ", datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
def test_parse_through(text: str, expected: datetime) -> None:
    parsed = payouts.parse_through(text)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01", "31/01/2025"])
def test_parse_through_names_the_field(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        payouts.parse_through(text)
    assert caught.value.field == "through"


@given(st.dates(min_value=date(1970, 1, 2), max_value=date(9998, 12, 30)))
def test_a_date_means_the_end_of_that_day(day: date) -> None:
    cutoff = payouts.parse_through(day.isoformat())
    assert (cutoff - timedelta(microseconds=1)).date() == day
    assert cutoff.time() == time(0) and cutoff.tzinfo == UTC


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                               timezone(timedelta(hours=-8))])))
def test_a_date_time_is_the_same_instant_in_utc(moment: datetime) -> None:
    parsed = payouts.parse_through(moment.isoformat())
    assert parsed == moment and parsed.tzinfo == UTC


def test_reports_read_payment_timeliness_from_the_payouts(store: Store) -> None:
    from handloom.disclose.facts import gather

    ids = seed(store, workers=5, items=10)
    for worker in ids:
        answer(store, worker, 1)
    with store.read() as conn:
        before = gather(conn, projects.get_project(conn, "p")).pay
    assert before.paid_share.value == 0
    mark(store)
    with store.read() as conn:
        after = gather(conn, projects.get_project(conn, "p")).pay
    assert after.paid_share.value == 1 and after.paid_share.workers == 5
    assert after.days_to_payment.value["median"] < 0.01
