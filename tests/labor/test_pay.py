"""Pay (SQLite and PostgreSQL): the floor check at open, pay events as work happens,
clawbacks and restorations, statements and the payroll hand-checked, top-ups when the
measured time rises, and the floor table's import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from factories import EXAMPLES, add_workers, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, ImportFailed, Invalid
from handloom.labor import floors, pay, timekeeping
from handloom.store.db import Store
from handloom.store.schema import (
    annotations,
    ledger_events,
    pay_adjustments,
    pay_events,
    projects,
)
from handloom.work import projects as project_svc
from handloom.work.routing import close_lease, next_item
from handloom.work.submissions import submit_answer

KE = {"jurisdiction": "KE", "currency": "USD", "hourly": "2.00",
      "source": "Test floor, Kenya", "effective_date": "2024-01-01"}


def add_floors(store: Store, *rows: dict[str, Any]) -> None:
    with store.write() as conn:
        floors.import_rows(conn, [dict(r) for r in rows], source="test", actor="test")


def answer(store: Store, name: str, worker: int, seconds: float | None,
           label: str = "not_toxic") -> int:
    """Lease the worker's next item in *name* and answer it in *seconds*; the annotation id."""
    with store.write() as conn:
        row = project_svc.get_project(conn, name)
        lease = next_item(conn, row, worker)
        assert lease is not None, "no item left for the worker"
        return submit_answer(conn, row, project_svc.kind_of(row), worker, lease.assignment_id,
                             {"label": label}, idempotency_key=f"{worker}-{lease.assignment_id}",
                             active_seconds=seconds).annotation_id


def events(store: Store, name: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [r.body for r in conn.execute(
            select(ledger_events.c.body).where(ledger_events.c.event == name)
            .order_by(ledger_events.c.seq))]


def pay_rows(store: Store) -> list[tuple[str, int]]:
    with store.read() as conn:
        return [(r.kind, int(r.amount_minor)) for r in conn.execute(
            select(pay_events.c.kind, pay_events.c.amount_minor).order_by(pay_events.c.id))]


def project_row(store: Store, name: str = "p") -> Any:
    with store.read() as conn:
        return project_svc.get_project(conn, name)


def piece_spec(rate: str, seconds: int | None = 30, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"piece_rate": rate, "jurisdictions": ["KE"], **extra}
    if seconds is not None:
        spec["est_seconds_per_item"] = seconds
    return spec


# ------------------------------------------------------------------ the floor check at open
def test_a_project_priced_below_the_floor_is_refused_with_the_rate_that_would_meet_it(
        store: Store) -> None:
    add_floors(store, KE)
    with store.write() as conn:
        make_project(conn, status="draft", pay=piece_spec("0.01"))
    with pytest.raises(Conflict) as refused, store.write() as conn:
        project_svc.set_status(conn, project_row(store).id, "open", actor="test")
    message = refused.value.message
    # USD 0.01 × 3600 / 30 s = USD 1.20 an hour against a floor of USD 2.00;
    # ceil(200 × 30 / 3600) = ceil(1.67) = 2 cents a piece meets it.
    for part in ("cannot open", "below the floor of KE", "USD 1.20 an hour", "USD 0.01 per item",
                 "30 s per item", "pay.est_seconds_per_item", "floor USD 2.00 an hour",
                 "from 2024-01-01", "source: Test floor, Kenya", "short by USD 0.80",
                 "A piece rate of USD 0.02 per item would meet every floor"):
        assert part in message, (part, message)
    assert refused.value.field == "pay.piece_rate"
    assert project_row(store).status == "draft"
    assert events(store, "project.status_changed") == []


def test_a_project_created_open_below_the_floor_is_not_created(store: Store) -> None:
    add_floors(store, KE)
    with pytest.raises(Conflict, match="USD 0.02 per item"), store.write() as conn:
        make_project(conn, "cheap", pay=piece_spec("0.01"))
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 0


def test_a_project_exactly_at_the_floor_opens_and_the_check_is_on_the_ledger(
        store: Store) -> None:
    add_floors(store, KE)
    with store.write() as conn:
        # USD 0.05 × 3600 / 90 s = USD 2.00 an hour: exactly the floor.
        make_project(conn, status="draft", pay=piece_spec("0.05", 90))
        project_svc.set_status(conn, project_svc.get_project(conn, "p").id, "open", actor="t")
    assert project_row(store).status == "open"
    body = events(store, "project.status_changed")[-1]
    check = body["floor_check"]
    assert check["allowed"] is True and check["estimated_hourly_minor"] == 200
    assert check["seconds_per_item"] == "90" and check["basis"] == "estimate"
    assert check["jurisdictions"][0]["floor"]["hourly_minor"] == 200
    assert check["jurisdictions"][0]["meets"] is True


def test_created_open_records_its_floor_check(store: Store) -> None:
    add_floors(store, KE)
    with store.write() as conn:
        make_project(conn, pay=piece_spec("0.10"))
    created = events(store, "project.created")[-1]
    assert created["floor_check"]["estimated_hourly_minor"] == 1200
    assert created["floor_check"]["allowed"] is True


def test_a_missing_floor_refuses_and_says_how_to_import_one(store: Store) -> None:
    add_floors(store, KE)
    with pytest.raises(Conflict) as refused, store.write() as conn:
        make_project(conn, pay=piece_spec("1.00", jurisdictions=["KE", "PH"]))
    assert "no pay floor in USD for PH" in refused.value.message
    assert "handloom pay floors import FILE" in refused.value.message
    assert refused.value.field == "pay.jurisdictions"


def test_a_floor_in_another_currency_does_not_count(store: Store) -> None:
    add_floors(store, {**KE, "currency": "KES", "hourly": "67.47"})
    with pytest.raises(Conflict, match="no pay floor in USD for KE"), store.write() as conn:
        make_project(conn, pay=piece_spec("1.00"))


def test_a_piece_project_without_a_time_basis_is_refused(store: Store) -> None:
    add_floors(store, KE)
    with pytest.raises(Conflict) as refused, store.write() as conn:
        make_project(conn, pay=piece_spec("1.00", seconds=None))
    assert "set pay.est_seconds_per_item or run a pilot" in refused.value.message.lower()
    assert refused.value.field == "pay.est_seconds_per_item"


def test_no_recruit_jurisdictions_means_no_floor_to_check(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn, status="draft", pay={"piece_rate": "0.01"})
        check = pay.check_open(conn, project)
        project_svc.set_status(conn, project.id, "open", actor="t")
    assert check.allowed and "no floor to check" in check.message
    assert project_row(store).status == "open"


def test_an_hourly_project_is_checked_by_its_rate(store: Store) -> None:
    add_floors(store, KE)
    with pytest.raises(Conflict) as refused, store.write() as conn:
        make_project(conn, pay={"model": "hourly", "hourly_rate": "1.50", "jurisdictions": ["KE"]})
    assert "It pays USD 1.50 an hour" in refused.value.message
    assert "An hourly rate of USD 2.00 would meet every floor" in refused.value.message
    with store.write() as conn:
        make_project(conn, pay={"model": "hourly", "hourly_rate": "2.00", "jurisdictions": ["KE"]})


def test_the_pilot_median_replaces_the_estimate(store: Store) -> None:
    """Once ten accepted answers are measured, their median time per item (70 s here)
    replaces the estimate (30 s) in the check."""
    add_floors(store, KE)
    with store.write() as conn:
        make_project(conn, pay=piece_spec("0.03", 30), overlap=1)  # 3.60 an hour estimated
        workers = add_workers(conn, 2, jurisdiction="KE")
    import_rows(store, "p", text_items(12))
    for i in range(10):
        answer(store, "p", workers[i % 2], 60.0 if i % 2 else 80.0)
    with store.write() as conn:
        check = pay.check_open(conn, project_svc.get_project(conn, "p"))
    # median of five 80 s and five 60 s answers: (60 + 80) / 2 = 70 s;
    # 3 cents × 3600 / 70 = 1.54 (round half up of 1.542…); ceil(200 × 70 / 3600) = 4 cents.
    assert check.basis == "pilot" and check.pilot_answers == 10
    assert pay.seconds_text(check.seconds_per_item) == "70"
    assert check.estimated_hourly_minor == 154 and not check.allowed
    assert check.suggested_rate_minor == 4
    assert "the median of 10 accepted answers measured so far" in check.message
    with pytest.raises(Conflict, match="USD 0.04 per item"), store.write() as conn:
        project_svc.set_status(conn, project_svc.get_project(conn, "p").id, "open", actor="t")


def test_the_lowest_difficulty_rate_in_use_sets_the_estimate(store: Store) -> None:
    add_floors(store, KE)
    with store.write() as conn:
        make_project(conn, status="draft",
                     pay=piece_spec("0.10", 30, piece_rates={"easy": "0.01", "hard": "0.20"}))
    with store.read() as conn:  # no item is easy yet: the base rate is the lowest in use
        assert pay.check_open(conn, project_svc.get_project(conn, "p")).allowed
    import_rows(store, "p", [{"id": "a", "text": "x", "difficulty": "easy"}])
    with store.read() as conn:
        check = pay.check_open(conn, project_svc.get_project(conn, "p"))
    assert check.rate_minor == 1 and not check.allowed
    assert "pay.piece_rate and pay.piece_rates" in check.message


@pytest.mark.parametrize(("value", "reason"), [("x" * 41, "at most 40"), (True, "short name"),
                                               ([1], "short name")])
def test_a_bad_difficulty_is_refused_at_import(store: Store, value: Any, reason: str) -> None:
    with store.write() as conn:
        make_project(conn, pay={"piece_rate": "0.10"})
    with pytest.raises(ImportFailed) as failed:
        import_rows(store, "p", [{"id": "a", "text": "x"}, {"id": "b", "text": "y",
                                                          "difficulty": value}])
    assert failed.value.line == 2 and failed.value.field == "difficulty"
    assert reason in failed.value.message


def test_example_floors_are_flagged_when_used(store: Store) -> None:
    with store.write() as conn:
        floors.import_file(conn, EXAMPLES / "pay_floors.example.csv", actor="test")
        project = make_project(conn, pay=piece_spec("0.12", 20, jurisdictions=["US", "KE"]))
        check = pay.check_open(conn, project)
    assert check.allowed and check.examples_used == ("US", "KE")
    assert "(an example value, not confirmed by the operator)" in check.message


def test_the_floor_in_force_is_the_latest_effective_on_or_before_the_day(store: Store) -> None:
    add_floors(store, KE, {**KE, "hourly": "3.00", "effective_date": "2025-06-01"},
               {**KE, "hourly": "9.00", "effective_date": "2999-01-01"})
    from datetime import date

    with store.read() as conn:
        assert floors.floor_for(conn, "ke", "usd", date(2025, 5, 31)).hourly_minor == 200  # type: ignore[union-attr]
        assert floors.floor_for(conn, "KE", "USD", date(2025, 6, 1)).hourly_minor == 300  # type: ignore[union-attr]
        assert floors.floor_for(conn, "KE", "USD").hourly_minor == 300  # type: ignore[union-attr]
        assert floors.floor_for(conn, "KE", "USD", date(2023, 1, 1)) is None
        listed = floors.list_floors(conn)
    assert [r["in_force"] for r in listed] == [False, True, False]


# ------------------------------------------------------------------ pay as work happens
def test_piece_pay_per_answer_by_difficulty_with_gold_and_qualification(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, gold_rate=0.0,
                     pay={"piece_rate": "0.10", "piece_rates": {"hard": "0.25"}},
                     quality={"qualification_size": 1, "qualification_pass": 0.0})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", [
        {"id": "q", "text": "test", "gold": "toxic", "qualification": True},
        {"id": "easy", "text": "x", "priority": 2},
        {"id": "hard", "text": "y", "difficulty": "hard", "priority": 1},
        {"id": "other", "text": "z", "difficulty": "unlisted"},
    ])
    for _ in range(4):
        answer(store, "p", worker, 10.0)
    # test answer, easy, hard, an unlisted difficulty (the base rate)
    assert pay_rows(store) == [("piece", 10), ("piece", 10), ("piece", 25), ("piece", 10)]
    recorded = events(store, "pay.recorded")
    assert [e["amount_minor"] for e in recorded] == [10, 10, 25, 10]
    assert all(e["currency"] == "USD" and e["annotation"] for e in recorded)
    with store.read() as conn:
        assert ledger.verify(conn).ok


def test_hidden_gold_answers_are_paid_like_any_other(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, gold_rate=0.5, pay={"piece_rate": "0.07"})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", [{"id": "g", "text": "gold", "gold": "toxic"}, *text_items(1)])
    answer(store, "p", worker, 5.0)
    answer(store, "p", worker, 5.0)
    with store.read() as conn:
        gold_answers = conn.execute(select(func.count()).select_from(pay_events).where(
            pay_events.c.annotation_id.in_(select(annotations.c.id).where(
                annotations.c.is_gold.is_(True))))).scalar_one()
    assert pay_rows(store) == [("piece", 7), ("piece", 7)] and gold_answers == 1


def test_unpaid_qualification_time_is_unpaid_time_with_its_reason(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, pay={"piece_rate": "0.10", "pay_qualification_time": False},
                     quality={"qualification_size": 1, "qualification_pass": 0.0})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", [{"id": "q", "text": "t", "gold": "toxic", "qualification": True},
                             *text_items(1)])
    answer(store, "p", worker, 40.0)
    answer(store, "p", worker, 20.0)
    assert pay_rows(store) == [("piece", 10)]
    with store.read() as conn:
        summary = timekeeping.summary(conn, worker)
    assert summary["unpaid_by_reason"] == {"qualification": 40.0}
    assert summary["paid_by_reason"] == {"answers": 20.0}


def test_a_project_without_a_rate_records_no_pay(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
        worker, = add_workers(conn, 1)
    import_rows(store, "p", text_items(2))
    answer(store, "p", worker, 12.0)
    assert pay_rows(store) == [] and events(store, "pay.recorded") == []
    with store.read() as conn:
        assert timekeeping.summary(conn, worker)["unpaid_by_reason"] == {"answers": 12.0}


def test_hourly_pay_per_answer_is_rounded_half_up_and_needs_a_measured_time(
        store: Store) -> None:
    with store.write() as conn:
        make_project(conn, pay={"model": "hourly", "hourly_rate": "10.00"})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", text_items(4))
    answer(store, "p", worker, 1.8)  # 1000 × 1.8 / 3600 = 0.5 → 1 (half up)
    answer(store, "p", worker, 0.3)  # 0.0833… → 0: nothing recorded
    answer(store, "p", worker, 45.0)  # 12.5 → 13
    answer(store, "p", worker, None)  # no measured time: nothing by the hour
    assert pay_rows(store) == [("hourly", 1), ("hourly", 13)]
    with store.read() as conn:
        result = pay.statement(conn, worker)
    entry, = result["projects"]
    assert entry["answers"] == 4 and entry["answers_paid"] == 2
    assert entry["answers_without_time"] == 1
    assert "1 answer(s) came without a measured time and earned nothing by the hour." in (
        entry["notes"])


def test_hourly_projects_pay_time_entries_with_a_paid_reason(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn, pay={"model": "hourly", "hourly_rate": "12.00"})
        worker, = add_workers(conn, 1)
        timekeeping.record(conn, project.id, worker, "instructions", 90)  # 30 cents
        timekeeping.record(conn, project.id, worker, "wellbeing", 60)  # 20 cents
        timekeeping.record(conn, project.id, worker, "rejected", 60)  # never paid
        summary = timekeeping.summary(conn, worker)
    assert pay_rows(store) == [("hourly", 30), ("hourly", 20)]
    assert [e["time_entry"] for e in events(store, "pay.recorded")] == [1, 2]
    assert summary["paid_by_reason"] == {"instructions": 90.0, "wellbeing": 60.0}
    assert summary["unpaid_by_reason"] == {"rejected": 60.0}


# ------------------------------------------------------------------ rejection and appeal
def test_clawback_takes_back_the_net_and_restore_gives_back_what_was_taken(
        store: Store) -> None:
    with store.write() as conn:
        make_project(conn, pay={"piece_rate": "0.15"})
        worker, = add_workers(conn, 1)
    import_rows(store, "p", text_items(2))
    first = answer(store, "p", worker, 30.0)
    project = project_row(store)
    assert pay.pay_for_rejection(project, fraud=False) is True
    assert pay.pay_for_rejection(project, fraud=True) is False
    with store.write() as conn:
        assert pay.clawback_annotation(conn, project, first, reason="copied", actor="user:1") == 15
        assert pay.clawback_annotation(conn, project, first, reason="again", actor="user:1") == 0
    with store.read() as conn:
        summary = timekeeping.summary(conn, worker)
    assert summary["paid_seconds"] == 0.0 and summary["unpaid_by_reason"] == {"answers": 30.0}
    with store.write() as conn:
        assert pay.restore_annotation(conn, project, first, appeal_id=None, actor="user:2") == 15
        assert pay.restore_annotation(conn, project, first, appeal_id=None, actor="user:2") == 0
    assert pay_rows(store) == [("piece", 15), ("clawback", -15), ("restored", 15)]
    assert [e["amount_minor"] for e in events(store, "pay.clawed_back")] == [-15]
    assert [e["amount_minor"] for e in events(store, "pay.restored")] == [15]


def test_a_project_that_does_not_pay_rejected_work(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn, pay={"piece_rate": "0.15", "pay_rejected_work": False})
    assert pay.pay_for_rejection(project, fraud=False) is False


# ------------------------------------------------------------------ statement and payroll
def scenario(store: Store) -> tuple[Any, list[int]]:
    """Two KE workers in a piece project at USD 0.10 (est. 30 s) with a KE floor of USD 2.00.

    Kofi: three answers (20 s, 40 s, 60 s), 120 s reading instructions, 30 s on a skipped
    item; his second answer is rejected as fraud (its 10 cents clawed back).
    Ama: one answer of 45 s.
    """
    add_floors(store, KE)
    with store.write() as conn:
        make_project(conn, overlap=2, pay=piece_spec("0.10"))
        kofi, ama = add_workers(conn, 2, jurisdiction="KE")
    import_rows(store, "p", text_items(5))
    answer(store, "p", kofi, 20.0)
    second = answer(store, "p", kofi, 40.0)
    answer(store, "p", kofi, 60.0)
    answer(store, "p", ama, 45.0)
    project = project_row(store)
    with store.write() as conn:
        timekeeping.read_instructions(conn, project, kofi, 1, 120.0)
        lease = next_item(conn, project, kofi)
        assert lease is not None
        close_lease(conn, project, kofi, lease.assignment_id, status="skipped", reason="",
                    active_seconds=30.0)
        conn.execute(annotations.update().where(annotations.c.id == second)
                     .values(review_status="rejected", fraud=True))
        pay.clawback_annotation(conn, project, second, reason="fraud", actor="user:1")
    return project, [kofi, ama]


def test_statement_and_payroll_hand_checked(store: Store) -> None:
    project, (kofi, ama) = scenario(store)
    with store.read() as conn:
        mine = pay.statement(conn, kofi)
        report = pay.payroll(conn, project)
    entry, = mine["projects"]
    assert entry["amounts_minor"] == {"piece": 30, "hourly": 0, "top_up": 0, "restored": 0,
                                      "clawback": -10}
    assert (entry["total_minor"], entry["total"]) == (20, "0.20")
    assert (entry["answers"], entry["answers_paid"]) == (3, 2)
    # 20 + 40 + 60 s of answers, 120 s of instructions, 30 s skipped: 270 s, 80 s paid.
    assert entry["time"] == {
        "active_seconds": 270.0, "paid_seconds": 80.0, "unpaid_seconds": 190.0,
        "paid_by_reason": {"answers": 80.0},
        "unpaid_by_reason": {"instructions": 120.0, "skipped": 30.0, "rejected": 40.0}}
    # 20 cents over 270 s: 20 × 3600 / 270 = 266.67 → 267 a cent-hour; floor 200: met.
    assert entry["effective_hourly_minor"] == 267 and entry["effective_hourly"] == "2.67"
    assert entry["floor"]["jurisdiction"] == "KE" and entry["at_or_above_floor"] is True
    assert mine["totals"] == [{"currency": "USD", "total_minor": 20, "total": "0.20",
                               "paid_minor": 0, "paid": "0.00", "owed_minor": 20,
                               "owed": "0.20"}]

    rows = {r["worker"]: r for r in report["rows"]}
    from handloom.disclose.privacy import pseudonym

    k = rows[pseudonym(project.pseudonym_secret, kofi)]
    a = rows[pseudonym(project.pseudonym_secret, ama)]
    assert (k["total_minor"], a["total_minor"], report["total_minor"]) == (20, 10, 30)
    assert k["unpaid_skipped_seconds"] == 30.0 and k["unpaid_rejected_seconds"] == 40.0
    assert a["effective_hourly_minor"] == 800  # 10 cents in 45 s
    assert report["by_kind_minor"]["clawback"] == -10
    assert report["workers_shown_as"] == "pseudonym"
    csv_text = pay.payroll_csv(report)
    header, *lines = csv_text.splitlines()
    assert header.split(",")[:3] == ["project", "worker", "currency"] and len(lines) == 2
    assert "worker-1" not in csv_text  # the operator's refs stay out by default
    with store.read() as conn:
        assert pay.effective_hourly_pay(conn, worker_id=kofi, project_id=project.id) == 267
        # 30 cents over 315 s: 30 × 3600 / 315 = 342.86 → 343
        assert pay.effective_hourly_pay(conn, project_id=project.id) == 343
        assert pay.effective_hourly_pay(conn, worker_id=ama + 100) is None


def test_revealing_refs_in_the_payroll_is_on_the_ledger(store: Store) -> None:
    project, _ = scenario(store)
    with store.write() as conn:
        from handloom.work.accounts import add_worker

        sly = add_worker(conn, "=HYPERLINK(1)", jurisdiction="KE")
    answer(store, "p", sly, 10.0)
    with store.write() as conn:
        report = pay.payroll(conn, project, reveal_refs=True, actor="user:7")
    assert sorted(r["worker"] for r in report["rows"]) == ["=HYPERLINK(1)", "worker-1",
                                                           "worker-2"]
    revealed, = events(store, "pay.refs_revealed")
    assert revealed["workers"] == 3
    assert "\np,'=HYPERLINK(1)," in pay.payroll_csv(report)  # never a formula in a sheet


def test_a_statement_covers_a_period(store: Store) -> None:
    from datetime import timedelta

    from handloom.store.db import utcnow

    _, (kofi, _) = scenario(store)
    later = utcnow() + timedelta(minutes=5)
    with store.read() as conn:
        assert pay.statement(conn, kofi, since=later)["projects"] == []
        assert pay.statement(conn, kofi, until=later)["projects"][0]["total_minor"] == 20
    start, end = pay.period(later.date(), later.date())
    assert end is not None and start is not None and end - start == timedelta(days=1)
    with pytest.raises(Invalid, match="starts"):
        pay.period(later.date(), (later - timedelta(days=2)).date())


# ------------------------------------------------------------------ top-ups
def topup_project(store: Store) -> list[int]:
    add_floors(store, KE)
    with store.write() as conn:
        # USD 0.02 a piece at the estimated 30 s: USD 2.40 an hour, above the KE floor of 2.00.
        make_project(conn, overlap=2, pay=piece_spec("0.02", 30))
        slow, quick = add_workers(conn, 2, jurisdiction="KE")
    import_rows(store, "p", text_items(6))
    return [slow, quick]


def test_a_top_up_is_computed_when_the_measured_median_rises(store: Store) -> None:
    slow, quick = topup_project(store)
    for seconds in (30.0, 45.0, 60.0, 75.0):  # the slow worker gets slower
        answer(store, "p", slow, seconds)
    answer(store, "p", quick, 20.0)
    project = project_row(store)
    with store.read() as conn:
        breach = pay.check_floor_breach(conn, project)
    # 8 cents over 210 s: 8 × 3600 / 210 = 137.1 → 137 < 200. Due ceil(200 × 210 / 3600)
    # = ceil(11.67) = 12 cents: a top-up of 4 cents.
    below, = breach.below
    assert below.worker_id == slow and below.effective_hourly_minor == 137
    assert (below.due_minor, below.earned_minor, below.shortfall_minor) == (12, 8, 4)
    assert pay.seconds_text(breach.median_seconds) == "45" and breach.median_rose
    assert breach.estimate_seconds == 30 and breach.estimate_basis == "estimate"
    assert breach.to_dict()["alert"] is True
    with store.read() as conn:
        assert pay.floor_alert(conn, project) == breach.message()
        assert "top-ups of USD 0.04 in all" in breach.message()

    with store.write() as conn:
        proposal, = pay.propose_top_ups(conn, project, actor="user:1")
        again = pay.propose_top_ups(conn, project, actor="user:1")  # same figure: kept
    assert proposal["amount_minor"] == 4 and proposal["status"] == "proposed"
    assert proposal["basis"]["due_minor"] == 12 and proposal["basis"]["floor_minor"] == 200
    assert "below the KE floor of USD 2.00" in proposal["reason"]
    assert [p["id"] for p in again] == [proposal["id"]]
    assert len(events(store, "pay.top_up_proposed")) == 1

    with store.write() as conn:
        approved = pay.approve_top_up(conn, project, proposal["id"], None, "user:1")
    assert approved["status"] == "approved" and approved["pay_event"]
    assert pay_rows(store)[-1] == ("top_up", 4)
    body, = events(store, "pay.top_up_approved")
    assert body["amount_minor"] == 4 and body["pay_event"] == approved["pay_event"]
    with pytest.raises(Conflict, match="already approved"), store.write() as conn:
        pay.approve_top_up(conn, project, proposal["id"], None, "user:1")
    with store.read() as conn:
        assert pay.check_floor_breach(conn, project).below == []  # 12 cents over 210 s
        assert pay.floor_alert(conn, project) is None
        mine = pay.statement(conn, slow)["projects"][0]
        assert mine["amounts_minor"]["top_up"] == 4 and mine["at_or_above_floor"] is True
        assert ledger.verify(conn).ok


def test_a_newer_top_up_supersedes_a_waiting_one_and_a_dismissal_needs_a_reason(
        store: Store) -> None:
    slow, _ = topup_project(store)
    for seconds in (30.0, 45.0, 60.0, 75.0):
        answer(store, "p", slow, seconds)
    project = project_row(store)
    with store.write() as conn:
        first, = pay.propose_top_ups(conn, project, actor="user:1")
        timekeeping.record(conn, project.id, slow, "instructions", 180)  # more unpaid time
        second, = pay.propose_top_ups(conn, project, actor="user:1")
    # 390 s due ceil(200 × 390 / 3600) = ceil(21.67) = 22 cents, 8 earned: 14.
    assert second["amount_minor"] == 14 and second["id"] != first["id"]
    with store.read() as conn:
        statuses = {r.id: r.status for r in conn.execute(
            select(pay_adjustments.c.id, pay_adjustments.c.status))}
    assert statuses == {first["id"]: "dismissed", second["id"]: "proposed"}
    superseded, = events(store, "pay.top_up_dismissed")
    assert superseded["reason"] == f"superseded by top-up {second['id']}"
    with pytest.raises(Invalid, match="Say why"), store.write() as conn:
        pay.dismiss_top_up(conn, project, second["id"], None, "  ", "user:1")
    with store.write() as conn:
        done = pay.dismiss_top_up(conn, project, second["id"], None, "paid by the vendor",
                                  "user:1")
    assert done["status"] == "dismissed"
    assert done["basis"]["dismissal_reason"] == "paid by the vendor"
    with pytest.raises(Conflict), store.write() as conn:
        pay.approve_top_up(conn, project, second["id"], None, "user:1")


def test_a_worker_outside_the_recruited_jurisdictions_is_held_to_the_highest_floor(
        store: Store) -> None:
    add_floors(store, KE, {**KE, "jurisdiction": "PH", "hourly": "1.50"})
    with store.write() as conn:
        project = make_project(conn, pay=piece_spec("0.10", 30, jurisdictions=["KE", "PH"]))
        ph, unknown, elsewhere = (add_workers(conn, 1, prefix="ph", jurisdiction="PH")
                                  + add_workers(conn, 1, prefix="anon")
                                  + add_workers(conn, 1, prefix="de", jurisdiction="DE"))
        assert pay.worker_floor(conn, project, "PH").hourly_minor == 150  # type: ignore[union-attr]
        assert pay.worker_floor(conn, project, None).hourly_minor == 200  # type: ignore[union-attr]
        assert pay.worker_floor(conn, project, "DE").hourly_minor == 200  # type: ignore[union-attr]
    assert ph and unknown and elsewhere


# ------------------------------------------------------------------ the floor table
def test_floor_import_replaces_same_day_rows_and_is_on_the_ledger(store: Store,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "floors.toml"
    path.write_text('[[floor]]\njurisdiction = "ke"\ncurrency = "usd"\nhourly = 2.5\n'
                    'source = "A test"\neffective_date = 2024-01-01\n\n'
                    '[[floor]]\njurisdiction = "PH"\ncurrency = "USD"\nhourly = "1.50"\n'
                    'source = "B"\neffective_date = "2024-01-01"\nis_example = true\n',
                    encoding="utf-8")
    add_floors(store, KE)
    with store.write() as conn:
        result = floors.import_file(conn, path, actor="cli")
        listed = floors.list_floors(conn)
    assert (result.rows, result.inserted, result.replaced, result.examples) == (2, 1, 1, 1)
    assert [(r["jurisdiction"], r["hourly_minor"]) for r in listed] == [("KE", 250), ("PH", 150)]
    imported = events(store, "pay.floors_imported")[-1]
    import hashlib

    assert imported["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert imported["rows"] == 2 and imported["jurisdictions"] == ["KE", "PH"]


@pytest.mark.parametrize(("line", "field", "reason"), [
    ("KE,USD,-1,src,2024-01-01", "hourly", "cannot be negative"),
    ("KE,USD,0,src,2024-01-01", "hourly", "more than zero"),
    ("KE,USD,1.001,src,2024-01-01", "hourly", "more decimals"),
    ("KE,USD,lots,src,2024-01-01", "hourly", "not a number"),
    ("KE,US,1.00,src,2024-01-01", "currency", "three-letter"),
    ("K E,USD,1.00,src,2024-01-01", "jurisdiction", "jurisdiction code"),
    ("KE,USD,1.00,,2024-01-01", "source", "is missing"),
    ("KE,USD,1.00,src,2024-02-30", "effective_date", "not a real date"),
    ("KE,USD,1.00,src,1/2/2024", "effective_date", "YYYY-MM-DD"),
    ("KE,USD,1.00,src,2024-01-01,extra", None, "6 cells where the header has 5"),
    ("PH,USD,2.00,src,2023-01-01", "effective_date", "already given by line 3"),
])
def test_a_bad_floor_file_is_refused_whole_with_line_and_field(
        store: Store, tmp_path: Path, line: str, field: str | None, reason: str) -> None:
    path = tmp_path / "floors.csv"
    path.write_text("# a comment line\njurisdiction,currency,hourly,source,effective_date\n"
                    f"PH,USD,1.00,src,2023-01-01\n{line}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed, store.write() as conn:
        floors.import_file(conn, path, actor="test")
    assert failed.value.line == 4 and failed.value.field == field
    assert reason in failed.value.message and "Nothing was imported" in failed.value.message
    with store.read() as conn:
        assert floors.list_floors(conn) == []


def test_the_shipped_example_floors_import_and_are_all_examples(store: Store) -> None:
    with store.write() as conn:
        result = floors.import_file(conn, EXAMPLES / "pay_floors.example.csv", actor="test")
        listed = floors.list_floors(conn)
    assert result.rows == result.examples == len(listed) >= 7
    assert {"US", "US-CA", "GB", "DE", "FR", "PH", "KE"} <= {r["jurisdiction"] for r in listed}
    for row in listed:
        assert row["is_example"] and row["source"] and row["note"]
        assert "not a living wage" in row["note"]
    text = (EXAMPLES / "pay_floors.example.csv").read_text(encoding="utf-8")
    assert "2026-11-23" in text and "EXAMPLE" in text
