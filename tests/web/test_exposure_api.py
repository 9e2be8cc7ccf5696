"""Exposure and well-being through the SDK, against a real server on SQLite and PostgreSQL.

Scenarios: a worker who reaches the daily limit of a category gets only other items, and then
no assignment with the reason naming the limit; an opted-out category is never routed; a
forced break holds sensitive items back and lifts (the lifting is checked with the routing
service's ``now=``, not by sleeping); interleaving; the worker's time zone moves the day
boundary; opting out changes neither score nor access; check-ins stay private unless shared;
reviewers tag items.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from web_helpers import People, Person

from factories import import_rows, make_project
from handloom import ledger
from handloom.labor import exposure
from handloom.sdk import Client, HandloomAPIError
from handloom.store.db import Store, utcnow
from handloom.store.schema import ledger_events
from handloom.work import projects, routing

CATEGORIES = ["violence", "hate"]


def rows(prefix: str, n: int, tags: list[str], **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}-{i}", "text": f"{prefix} text {i}", "sensitivity": tags, **extra}
            for i in range(1, n + 1)]


def work_through(hl: Client, name: str, limit: int = 200) -> list[str]:
    """Lease and answer until nothing is left; the item ids in the order served."""
    served = []
    for _ in range(limit):
        lease = hl.next(name)
        if lease is None:
            return served
        served.append(lease["item"]["id"])
        hl.submit(name, lease["assignment_id"], {"label": "toxic"}, active_seconds=20.0)
    raise AssertionError(f"still leasing after {limit} items")


def later(store: Store, person: Person, name: str, minutes: float) -> str | None:
    """The item the routing service would lease to *person* that many minutes from now."""
    assert person.worker_id is not None
    with store.write() as conn:
        lease = routing.next_item(conn, projects.get_project(conn, name), person.worker_id,
                                  now=utcnow() + timedelta(minutes=minutes))
    return lease.external_id if lease else None


def lease_at(store: Store, person: Person, name: str, when: datetime) -> str | None:
    """The item the routing service would lease to *person* at the instant *when*."""
    assert person.worker_id is not None
    with store.write() as conn:
        lease = routing.next_item(conn, projects.get_project(conn, name), person.worker_id,
                                  now=when)
    return lease.external_id if lease else None


def ledger_of(store: Store, event: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [r.body for r in conn.execute(select(ledger_events.c.body)
                                             .where(ledger_events.c.event == event)
                                             .order_by(ledger_events.c.seq))]


def test_at_the_daily_limit_only_other_items_come_then_the_reason(
        store: Store, live_server: str, people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=2, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 3}}})
    import_rows(store, "mod", rows("v", 5, ["violence"], priority=5) + rows("plain", 2, []))
    worker, fresh = people.workers(2)
    with Client(live_server, worker.token) as hl:
        assert work_through(hl, "mod") == ["v-1", "v-2", "v-3", "plain-1", "plain-2"]
        empty = hl.next_or_reason("mod")
        assert empty["assignment"] is None
        assert "You reached today's limit of 3 items of violence in this project" in empty["reason"]
        assert "midnight (00:00 UTC)" in empty["reason"]
        mine = {c["category"]: c for c in hl.my_exposure()["categories"]}
        assert mine["violence"]["today"]["items"] == 3
        assert mine["violence"]["limits"][0]["reached"] is True
        assert mine["hate"]["today"]["items"] == 0
    # The limit is this worker's own; the next day it lifts.
    with Client(live_server, fresh.token) as hl:
        assert hl.next("mod")["item"]["id"] == "v-1"  # type: ignore[index]
    assert later(store, worker, "mod", 24 * 60) == "v-4"


def test_an_opted_out_category_is_never_routed(store: Store, live_server: str,
                                               people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=3, content_categories=CATEGORIES, gold_rate=0.1)
    mixed = [{"id": f"m-{i:02d}", "text": f"text {i}",
              "sensitivity": [["hate"], ["violence"], [], ["hate", "violence"]][i % 4]}
             for i in range(60)]
    gold = [{"id": f"g-{i}", "text": f"gold {i}", "gold": "toxic",
             "sensitivity": ["hate"] if i % 2 else []} for i in range(6)]
    import_rows(store, "mod", mixed + gold)
    tags = {r["id"]: r["sensitivity"] for r in mixed + gold}
    worker, other = people.workers(2)
    with Client(live_server, worker.token) as hl:
        assert hl.set_opt_outs(["hate"]) == ["hate"]
        served = work_through(hl, "mod")
        assert len([s for s in served if s.startswith("m-")]) == 30  # every item without hate
        assert not [s for s in served if "hate" in tags[s]]
        reason = hl.next_or_reason("mod")["reason"]
        assert "opted out of (hate)" in reason and "never affects your score" in reason
    with Client(live_server, other.token) as hl:
        assert any("hate" in tags[s] for s in work_through(hl, "mod", limit=200))
    assert ledger_of(store, "worker.opted_out") == [
        {"worker": worker.worker_id, "category": "hate"}]


def test_a_forced_break_then_its_lifting(store: Store, live_server: str,
                                         people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=1, content_categories=CATEGORIES,
                     exposure={"break_after_sensitive": 3, "break_minutes": 15,
                               "support_resources": "Call Alex, 9-17 h, +1 555 0100"})
    import_rows(store, "mod", rows("v", 5, ["violence"], priority=5) + rows("plain", 1, []))
    (worker,) = people.workers(1)
    with Client(live_server, worker.token) as hl:
        assert work_through(hl, "mod") == ["v-1", "v-2", "v-3", "plain-1"]
        reason = hl.next_or_reason("mod")["reason"]
        assert reason.startswith("Time for a break: you have seen 3 sensitive items in a row. "
                                 "Sensitive items come back at ")
        breaks = hl.my_exposure()["breaks"]
        assert breaks[0]["in_a_row"] == 3 and breaks[0]["until"] is not None
    assert later(store, worker, "mod", 5) is None
    assert later(store, worker, "mod", 16) == "v-4"


def test_interleaving_prefers_a_non_sensitive_item(store: Store, live_server: str,
                                                   people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=1, content_categories=CATEGORIES,
                     exposure={"interleave_after": 2})
    import_rows(store, "mod", rows("v", 4, ["hate"], priority=9) + rows("plain", 3, []))
    (worker,) = people.workers(1)
    with Client(live_server, worker.token) as hl:
        assert work_through(hl, "mod") == ["v-1", "v-2", "plain-1", "v-3", "v-4", "plain-2",
                                           "plain-3"]


def test_the_workers_time_zone_moves_the_day_boundary(store: Store, live_server: str,
                                                      people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=2, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 1}}})
    import_rows(store, "mod", rows("v", 3, ["violence"]))
    tokyo, london = people.workers(2)
    with Client(live_server, tokyo.token) as hl:
        with pytest.raises(HandloomAPIError) as bad:
            hl.set_timezone("Atlantis/Capital")
        assert bad.value.status == 422 and "IANA" in bad.value.message
        assert hl.set_timezone("Asia/Tokyo") == "Asia/Tokyo"
        assert work_through(hl, "mod") == ["v-1"]
        assert "(00:00 Asia/Tokyo)" in hl.next_or_reason("mod")["reason"]
        assert hl.my_exposure()["timezone"] == "Asia/Tokyo"
    with Client(live_server, london.token) as hl:
        assert work_through(hl, "mod") == ["v-1"]
        assert "(00:00 UTC)" in hl.next_or_reason("mod")["reason"]
    seen = utcnow()
    ends = {"tokyo": exposure.day_bounds(seen, exposure.zone_of("Asia/Tokyo"))[1],
            "utc": exposure.day_bounds(seen, exposure.zone_of("UTC"))[1]}
    first = min(ends, key=lambda k: ends[k])
    people_by = {"tokyo": tokyo, "utc": london}
    minute = timedelta(minutes=1)
    # Before either midnight, neither gets violence; just after the earlier one, only the
    # worker whose day it ended does.
    for who in people_by.values():
        assert lease_at(store, who, "mod", ends[first] - minute) is None
    assert lease_at(store, people_by[first], "mod", ends[first] + minute) == "v-2"
    other = "utc" if first == "tokyo" else "tokyo"
    assert lease_at(store, people_by[other], "mod", ends[first] + minute) is None
    assert ledger_of(store, "worker.timezone_set")[-1]["timezone"] == "Asia/Tokyo"


def test_opting_out_changes_neither_score_nor_access(store: Store, live_server: str,
                                                     people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=1, content_categories=CATEGORIES, gold_rate=0.5)
    import_rows(store, "mod", rows("x", 12, []) + rows("h", 6, ["hate"])
                + [{"id": f"g-{i}", "text": f"gold {i}", "gold": "toxic"} for i in range(8)])
    (worker,) = people.workers(1)
    with Client(live_server, worker.token) as hl:
        for _ in range(4):
            lease = hl.next("mod")
            assert lease is not None
            hl.submit("mod", lease["assignment_id"], {"label": "toxic"})
        before_score = hl.my_score("mod")
        before_projects = [p["name"] for p in hl.projects()]
        hl.set_opt_outs(["hate", "violence"])
        assert hl.my_score("mod") == before_score
        assert [p["name"] for p in hl.projects()] == before_projects == ["mod"]
        assert hl.next("mod") is not None  # still routed work
        hl.set_opt_outs([])
        assert hl.my_score("mod") == before_score
    assert [b["category"] for b in ledger_of(store, "worker.opted_in")] == ["hate", "violence"]
    with store.read() as conn:
        assert ledger.verify(conn).ok


def test_check_ins_stay_private_unless_shared(store: Store, live_server: str,
                                              people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", content_categories=CATEGORIES,
                     exposure={"support_resources": "Counsellor: +1 555 0100 (24 h)"})
    a, b = people.workers(2)
    with Client(live_server, a.token) as hl:
        made = hl.check_in("mod", 2, note="hard day, private", trigger="limit", seconds=30)
        assert made["support_resources"] == "Counsellor: +1 555 0100 (24 h)"
        with pytest.raises(HandloomAPIError) as bad:
            hl.check_in("mod", 9)
        assert bad.value.status == 422
    with Client(live_server, b.token) as hl:
        hl.check_in("mod", 4, note="fine, sharing", shared=True, wants_support=True)
        assert [c["answers"]["note"] for c in hl.my_checkins()] == ["fine, sharing"]
    with Client(live_server, people.manager.token) as hl:
        figures = hl.exposure("mod")
    assert figures["checkins"]["total"] == 2 and figures["checkins"]["shared"] == 1
    assert [c["note"] for c in figures["shared_checkins"]] == ["fine, sharing"]
    assert "hard day" not in json.dumps(figures)
    with Client(live_server, people.reviewer.token) as hl:
        assert hl.exposure("mod")["shared_checkins"] is None
    assert "hard day" not in json.dumps(ledger_of(store, "wellbeing.checked_in"))


def test_reviewers_tag_items_and_workers_may_not(store: Store, live_server: str,
                                                 people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", overlap=1, content_categories=CATEGORIES)
    import_rows(store, "mod", [{"id": "a/1", "text": "one"}, {"id": "b", "text": "two"}])
    (worker,) = people.workers(1)
    with Client(live_server, worker.token) as hl:
        hl.set_opt_outs(["hate"])
        with pytest.raises(HandloomAPIError) as refused:
            hl.tag_item("mod", "a/1", ["hate"])
        assert refused.value.status == 403
    with Client(live_server, people.reviewer.token) as hl:
        assert hl.tag_item("mod", "a/1", ["hate"]) == {"item_id": "a/1", "tags": ["hate"]}
        assert hl.tag_item("mod", "a/1", ["violence"], replace=False)["tags"] == [
            "hate", "violence"]
        with pytest.raises(HandloomAPIError) as unknown:
            hl.tag_item("mod", "b", ["gore"])
        assert unknown.value.status == 422 and "gore" in unknown.value.message
    with Client(live_server, worker.token) as hl:
        assert work_through(hl, "mod") == ["b"]
    assert ledger_of(store, "item.tagged")[0]["new"] == ["hate"]


def test_the_api_refuses_unknown_categories_and_zones(store: Store, api: httpx.Client,
                                                      people: People) -> None:
    with store.write() as conn:
        make_project(conn, "mod", content_categories=CATEGORIES)
    worker = people.worker
    bad = api.put("/api/v1/me/opt-outs", headers=worker.headers, json={"opt_outs": ["gore"]})
    assert bad.status_code == 422 and "violence" in bad.json()["message"]
    assert api.put("/api/v1/me/timezone", headers=worker.headers,
                   json={"timezone": ""}).status_code == 422
    assert api.get("/api/v1/me/exposure", headers=people.manager.headers).status_code == 403
