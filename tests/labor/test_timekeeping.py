"""Work time (SQLite and PostgreSQL): answers' measured time plus the time entries, paid and
unpaid by reason; skipped and instruction time show up as unpaid time with their reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from factories import add_workers, import_rows, make_project, text_items
from handloom.errors import Invalid
from handloom.labor import pay, timekeeping
from handloom.store.db import Store, utcnow
from handloom.store.schema import ledger_events, time_entries
from handloom.work import projects
from handloom.work.routing import close_lease, load_project, next_item
from handloom.work.submissions import submit_answer


def setup(store: Store, **pay_spec: Any) -> tuple[Any, int]:
    with store.write() as conn:
        make_project(conn, pay=pay_spec or {"piece_rate": "0.10"})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", text_items(6))
    with store.read() as conn:
        return projects.get_project(conn, "p"), worker


def lease(store: Store, worker: int) -> int:
    with store.write() as conn:
        got = next_item(conn, load_project(conn, "p"), worker)
        assert got is not None
        return got.assignment_id


def answer(store: Store, worker: int, seconds: float) -> None:
    aid = lease(store, worker)
    with store.write() as conn:
        row = projects.get_project(conn, "p")
        submit_answer(conn, row, projects.kind_of(row), worker, aid, {"label": "toxic"},
                      idempotency_key=f"k{aid}", active_seconds=seconds)


def summary(store: Store, worker: int, **kw: Any) -> dict[str, Any]:
    with store.read() as conn:
        return timekeeping.summary(conn, worker, **kw)


def test_skipped_and_instruction_time_are_unpaid_time_by_reason(store: Store) -> None:
    project, worker = setup(store)
    with store.write() as conn:
        timekeeping.read_instructions(conn, project, worker, 1, 95.5)
    answer(store, worker, 30.0)
    skipped = lease(store, worker)
    with store.write() as conn:
        close_lease(conn, load_project(conn, "p"), worker, skipped, status="skipped",
                    reason="", active_seconds=41.5)
        # a retried skip changes nothing, and records no second entry
        close_lease(conn, load_project(conn, "p"), worker, skipped, status="skipped",
                    reason="", active_seconds=41.5)
    released = lease(store, worker)
    with store.write() as conn:
        close_lease(conn, load_project(conn, "p"), worker, released, status="released",
                    active_seconds=8.0)
    got = summary(store, worker)
    assert got == {"active_seconds": 175.0, "paid_seconds": 30.0, "unpaid_seconds": 145.0,
                   "paid_by_reason": {"answers": 30.0},
                   "unpaid_by_reason": {"instructions": 95.5, "skipped": 49.5}}
    with store.read() as conn:
        entries = conn.execute(select(time_entries.c.reason, time_entries.c.ref_id)
                               .order_by(time_entries.c.id)).all()
        recorded = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "time.recorded")).scalars().all()
    assert [(e.reason, e.ref_id) for e in entries] == [
        ("instructions", 1), ("skipped", skipped), ("skipped", released)]
    assert [b["reason"] for b in recorded] == ["instructions", "skipped", "skipped"]


def test_a_skip_without_time_records_no_entry(store: Store) -> None:
    _, worker = setup(store)
    aid = lease(store, worker)
    with store.write() as conn:
        close_lease(conn, load_project(conn, "p"), worker, aid, status="skipped", reason="")
    assert summary(store, worker)["active_seconds"] == 0.0


def test_skip_time_is_paid_in_an_hourly_project(store: Store) -> None:
    _, worker = setup(store, model="hourly", hourly_rate="36.00")
    aid = lease(store, worker)
    with store.write() as conn:
        close_lease(conn, load_project(conn, "p"), worker, aid, status="skipped", reason="",
                    active_seconds=50.0)  # 3600 cents an hour × 50 s = 50 cents
    got = summary(store, worker)
    assert got["paid_by_reason"] == {"skipped": 50.0} and got["unpaid_seconds"] == 0.0
    with store.read() as conn:
        assert pay.statement(conn, worker)["projects"][0]["amounts_minor"]["hourly"] == 50


def test_a_summary_covers_a_period_and_a_project(store: Store) -> None:
    project, worker = setup(store)
    answer(store, worker, 10.0)
    future = utcnow() + timedelta(minutes=1)
    assert summary(store, worker, since=future)["active_seconds"] == 0.0
    assert summary(store, worker, until=future)["active_seconds"] == 10.0
    assert summary(store, worker, project_id=project.id + 1)["active_seconds"] == 0.0


@pytest.mark.parametrize(("reason", "seconds", "field"), [
    ("nap", 10, "reason"), ("skipped", -1, "seconds"), ("skipped", 14401, "seconds")])
def test_a_bad_time_entry_is_refused(store: Store, reason: str, seconds: float,
                                     field: str) -> None:
    project, worker = setup(store)
    with pytest.raises(Invalid) as refused, store.write() as conn:
        timekeeping.record(conn, project.id, worker, reason, seconds)
    assert refused.value.field == field
