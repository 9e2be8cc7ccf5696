"""Pay through the SDK against a live server (SQLite and PostgreSQL): a project priced below
a jurisdiction's floor is refused at open with the rate that would meet it; a top-up is
computed when the measured time rises, approved once, and lands on the ledger; statements
and the payroll agree; skipped time is the worker's unpaid time."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from web_helpers import People, Person

from factories import text_items
from handloom.sdk import Client, HandloomAPIError
from handloom.store.db import Store

KE = {"jurisdiction": "KE", "currency": "USD", "hourly": "2.00", "source": "Test floor",
      "effective_date": "2024-01-01"}


def spec(name: str, rate: str, *, status: str = "open", seconds: int = 30) -> dict[str, Any]:
    return {"name": name, "kind": "classification", "labels": ["toxic", "not_toxic"],
            "terms_required": False, "overlap": 2, "status": status,
            "pay": {"model": "piece", "currency": "USD", "piece_rate": rate,
                    "est_seconds_per_item": seconds, "jurisdictions": ["KE"]}}


def work(base: str, person: Person, name: str, seconds: list[float]) -> None:
    with Client(base, person.token) as hl:
        for s in seconds:
            lease = hl.next(name)
            assert lease is not None
            hl.submit(name, lease["assignment_id"], {"label": "toxic"}, active_seconds=s)


def test_a_project_below_the_floor_is_refused_at_open_with_the_suggested_rate(
        store: Store, live_server: str, people: People) -> None:
    with Client(live_server, people.manager.token) as hl:
        imported = hl.import_pay_floors([KE], source="test floors")
        assert imported["rows"] == 1 and imported["jurisdictions"] == ["KE"]
        assert [f["hourly_minor"] for f in hl.pay_floors()] == [200]

        hl.create_project(spec("cheap", "0.01", status="draft"))
        with pytest.raises(HandloomAPIError) as refused:
            hl.set_status("cheap", "open")
        assert refused.value.status == 409
        message = refused.value.message
        for part in ("below the floor of KE", "USD 1.20 an hour", "30 s per item",
                     "floor USD 2.00 an hour", "source: Test floor",
                     "A piece rate of USD 0.02 per item would meet every floor"):
            assert part in message, (part, message)
        assert refused.value.body["field"] == "pay.piece_rate"
        assert hl.project("cheap")["status"] == "draft"
        check = hl.floor_check("cheap")
        assert check["allowed"] is False and check["suggested_rate"] == "0.02"

        with pytest.raises(HandloomAPIError) as created_open:
            hl.create_project(spec("cheap-open", "0.01"))
        assert created_open.value.status == 409
        assert "cheap-open" not in {p["name"] for p in hl.projects()}

        # USD 0.02 a piece at 36 s: exactly USD 2.00 an hour, the floor
        hl.create_project(spec("fair", "0.02", status="draft", seconds=36))
        assert hl.set_status("fair", "open")["status"] == "open"
        assert hl.floor_check("fair")["estimated_hourly"] == "2.00"
    with Client(live_server, people.owner.token) as owner:
        assert owner.verify_ledger()["ok"] is True


def test_a_top_up_is_computed_when_the_median_time_rises_and_approved_once(
        store: Store, live_server: str, people: People) -> None:
    slow, quick = people.workers(2, prefix="payee")
    with Client(live_server, people.manager.token) as hl:
        hl.import_pay_floors([KE])
        hl.create_project(spec("paid", "0.02"))  # USD 2.40 an hour at the estimated 30 s
        hl.import_items("paid", text_items(6))
    work(live_server, slow, "paid", [30.0, 45.0, 60.0, 75.0])
    work(live_server, quick, "paid", [20.0])
    with Client(live_server, quick.token) as hl:
        lease = hl.next("paid")
        assert lease is not None
        hl.skip("paid", lease["assignment_id"], "not sure", active_seconds=12.0)
        mine = hl.my_pay()["projects"][0]
    assert mine["time"]["unpaid_by_reason"] == {"skipped": 12.0}
    assert mine["time"]["paid_by_reason"] == {"answers": 20.0}

    with Client(live_server, people.manager.token) as hl:
        before = hl.project_pay("paid")
        assert before["breach"]["alert"] is True
        assert before["breach"]["median_seconds"] == "45" and before["breach"]["median_rose"]
        below, = before["breach"]["below"]
        # 8 cents over 210 s: USD 1.37 an hour; ceil(200 × 210 / 3600) = 12 cents due.
        assert (below["effective_hourly"], below["due_minor"], below["shortfall_minor"]) == (
            "1.37", 12, 4)
        assert "payee" not in str(before)  # pseudonyms only

        result = hl.check_pay("paid")
        proposal, = result["proposed"]
        assert proposal["amount_minor"] == 4 and proposal["worker"] == below["worker"]
        assert hl.top_ups("paid", status="proposed") == [proposal]
        approved = hl.approve_top_up("paid", proposal["id"])
        assert approved["status"] == "approved" and approved["pay_event"]
        with pytest.raises(HandloomAPIError) as twice:
            hl.approve_top_up("paid", proposal["id"])
        assert twice.value.status == 409
        assert hl.project_pay("paid")["breach"]["alert"] is False

    with Client(live_server, slow.token) as hl:
        mine = hl.my_pay(project="paid")["projects"][0]
    assert mine["amounts_minor"]["top_up"] == 4 and mine["total_minor"] == 12
    assert mine["at_or_above_floor"] is True and mine["floor"]["jurisdiction"] == "KE"

    with Client(live_server, people.owner.token) as owner:
        assert owner.verify_ledger()["ok"] is True


def test_statements_and_the_payroll_agree_and_refs_are_revealed_only_on_request(
        store: Store, live_server: str, people: People) -> None:
    a, b = people.workers(2, prefix="payroll")
    with Client(live_server, people.manager.token) as hl:
        hl.import_pay_floors([KE])
        hl.create_project(spec("roll", "0.05"))
        hl.import_items("roll", text_items(4))
    work(live_server, a, "roll", [10.0, 20.0, 30.0])
    work(live_server, b, "roll", [25.0])
    with Client(live_server, people.manager.token) as hl:
        report = hl.payroll("roll")
        statements = [hl.worker_pay(p.username, project="roll")["projects"][0] for p in (a, b)]
        assert report["total_minor"] == sum(s["total_minor"] for s in statements) == 20
        assert sorted(r["total_minor"] for r in report["rows"]) == [5, 15]
        text = hl.payroll("roll", fmt="csv").decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted(int(r["total_minor"]) for r in rows) == [5, 15]
        assert "payroll-" not in text
        revealed = hl.payroll("roll", reveal_refs=True)
        assert sorted(r["worker"] for r in revealed["rows"]) == ["payroll-1", "payroll-2"]
    with Client(live_server, people.auditor.token) as auditor:
        assert auditor.payroll("roll")["total_minor"] == 20
        with pytest.raises(HandloomAPIError) as refused:
            auditor.payroll("roll", reveal_refs=True)
        assert refused.value.status == 403
    with Client(live_server, a.token) as worker:
        with pytest.raises(HandloomAPIError) as forbidden:
            worker.project_pay("roll")
        assert forbidden.value.status == 403
        assert worker.my_pay(project="no-such-project")["projects"] == []
        mine = worker.my_pay(since="2000-01-01", until="2999-12-31")
    assert mine["totals"] == [{"currency": "USD", "total_minor": 15, "total": "0.15",
                               "paid_minor": 0, "paid": "0.00", "owed_minor": 15,
                               "owed": "0.15"}]


def test_a_bad_floor_row_through_the_api_names_the_row_and_field(
        store: Store, live_server: str, people: People) -> None:
    with Client(live_server, people.owner.token) as hl:
        with pytest.raises(HandloomAPIError) as refused:
            hl.import_pay_floors([KE, {**KE, "effective_date": "2024-13-01"}])
        assert refused.value.status == 422
        assert refused.value.body["line"] == 2 and refused.value.body["field"] == "effective_date"
        assert hl.pay_floors() == []
