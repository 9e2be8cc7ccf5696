"""Exposure rules in routing, on SQLite and PostgreSQL: daily limits in items and minutes,
forced breaks and their lifting, interleaving, opt-outs, the worker's day in their own time
zone, exposure events from answers and skips, and reviewers' item tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factories import add_workers, import_rows, make_project
from handloom.errors import Invalid, NotFound
from handloom.labor import exposure
from handloom.store.db import Store
from handloom.store.fastsql import Sql
from handloom.store.schema import exposure_events, items, ledger_events, workers
from handloom.work import projects, routing
from handloom.work.submissions import submit_answer

# A Monday morning, so that "today" and "this week" start at known instants.
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
CATEGORIES = ["violence", "hate"]


def rows(prefix: str, n: int, tags: list[str], **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}-{i}", "text": f"{prefix} text {i}", "sensitivity": tags, **extra}
            for i in range(1, n + 1)]


def step(store: Store, worker: int, now: datetime, *, seconds: float = 10.0,
         name: str = "p", skip: bool = False) -> routing.Routed:
    """Ask for the worker's next item at *now* and answer (or skip) it at once."""
    with store.write() as conn:
        project = projects.get_project(conn, name)
        routed = routing.route_next(conn, project, worker, now=now)
        lease = routed.lease
        if lease is not None and skip:
            # Skipping records the exposure itself: the worker saw the item.
            routing.close_lease(conn, project, worker, lease.assignment_id, status="skipped",
                                now=now)
        elif lease is not None:
            submit_answer(conn, project, projects.kind_of(project), worker, lease.assignment_id,
                          {"label": "toxic"}, idempotency_key=f"k-{lease.assignment_id}",
                          active_seconds=seconds, now=now)
    return routed


def run(store: Store, worker: int, now: datetime, n: int, *, every: timedelta = timedelta(0),
        **kw: Any) -> list[str | None]:
    """*n* steps, *every* apart; the external ids served (None for no item)."""
    out = []
    for k in range(n):
        routed = step(store, worker, now + every * k, **kw)
        out.append(routed.lease.external_id if routed.lease else None)
    return out


def ledger_bodies(store: Store, event: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [r.body for r in conn.execute(
            select(ledger_events.c.body).where(ledger_events.c.event == event)
            .order_by(ledger_events.c.seq))]


# ------------------------------------------------------------------ daily limits
def test_a_worker_at_the_daily_item_limit_gets_only_other_items_then_the_reason(
        store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 3}}})
        w, other = add_workers(conn, 2)
    import_rows(store, "p", rows("v", 5, ["violence"], priority=10) + rows("plain", 2, []))

    served = run(store, w, T0, 6, every=timedelta(minutes=1))
    assert served == ["v-1", "v-2", "v-3", "plain-1", "plain-2", None]
    reason = step(store, w, T0 + timedelta(minutes=7)).reason
    assert reason is not None
    assert "today's limit of 3 items of violence" in reason
    assert "00:00 UTC" in reason
    # Another worker's day is their own.
    assert run(store, other, T0, 1) == ["v-1"]
    # After midnight the category comes back.
    assert step(store, w, T0 + timedelta(days=1)).lease is not None


def test_the_minutes_limit_blocks_a_category_once_reached(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"limits": {"hate": {"daily_minutes": 1}}})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("h", 4, ["hate"], priority=5) + rows("plain", 1, []))
    # 40 s, then 80 s in total: the second item passes the 1-minute limit.
    assert run(store, w, T0, 4, seconds=40.0) == ["h-1", "h-2", "plain-1", None]
    reason = step(store, w, T0).reason
    assert reason is not None and "today's limit of 1 minutes of hate" in reason


def test_limits_count_exposure_across_projects(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, "a", overlap=1, content_categories=["violence"])
        make_project(conn, "b", overlap=1, content_categories=["violence"],
                     exposure={"limits": {"violence": {"daily_items": 2}}})
        (w,) = add_workers(conn, 1)
    import_rows(store, "a", rows("a", 2, ["violence"]))
    import_rows(store, "b", rows("b", 3, ["violence"]))
    assert run(store, w, T0, 2, name="a") == ["a-1", "a-2"]
    routed = step(store, w, T0, name="b")
    assert routed.lease is None
    assert routed.reason is not None and "limit of 2 items of violence" in routed.reason


def test_the_workers_own_time_zone_sets_the_day_boundary(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=2, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 1}}})
        tokyo, utc = add_workers(conn, 2)
        exposure.set_timezone(conn, tokyo, "Asia/Tokyo", actor="test")
    import_rows(store, "p", rows("v", 3, ["violence"]))
    late = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo, 14:00 in UTC
    assert run(store, tokyo, late, 2) == ["v-1", None]
    assert run(store, utc, late, 2) == ["v-1", None]
    reason = step(store, tokyo, late).reason
    assert reason is not None and "00:00 Asia/Tokyo" in reason
    later = late + timedelta(minutes=90)  # 00:30 the next day in Tokyo, still 15:30 in UTC
    assert run(store, tokyo, later, 1) == ["v-2"]
    assert run(store, utc, later, 1) == [None]
    assert ledger_bodies(store, "worker.timezone_set") == [
        {"worker": tokyo, "timezone": "Asia/Tokyo", "previous": None}]


def test_a_time_zone_must_be_a_real_one(store: Store) -> None:
    with store.write() as conn:
        (w,) = add_workers(conn, 1)
        with pytest.raises(Invalid, match="not a time zone name"):
            exposure.set_timezone(conn, w, "Mars/Olympus", actor="test")
        assert exposure.set_timezone(conn, w, " Europe/Berlin ", actor="test") == "Europe/Berlin"
        assert exposure.set_timezone(conn, w, "Europe/Berlin", actor="test") == "Europe/Berlin"
    assert len(ledger_bodies(store, "worker.timezone_set")) == 1  # no event for no change


# ------------------------------------------------------------------ forced breaks
def test_a_forced_break_holds_sensitive_items_back_and_lifts_after_break_minutes(
        store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"break_after_sensitive": 3, "break_minutes": 10})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 6, ["violence"], priority=10) + rows("plain", 2, []))
    minute = timedelta(minutes=1)
    assert run(store, w, T0, 3, every=minute) == ["v-1", "v-2", "v-3"]
    # The third sensitive item in a row (09:02) starts a break until 09:12: plain items only.
    assert run(store, w, T0 + 3 * minute, 3, every=minute) == ["plain-1", "plain-2", None]
    reason = step(store, w, T0 + 6 * minute).reason
    assert reason == ("Time for a break: you have seen 3 sensitive items in a row. Sensitive "
                      "items come back at 09:12 UTC. Other items continue when there are any.")
    assert step(store, w, T0 + 11 * minute).lease is None
    # 09:12: ten minutes without sensitive exposure is the break; they come back.
    assert run(store, w, T0 + 12 * minute, 3, every=minute) == ["v-4", "v-5", "v-6"]


def test_a_gap_of_break_minutes_resets_the_count(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"break_after_sensitive": 2, "break_minutes": 5})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 4, ["violence"]))
    assert run(store, w, T0, 1) == ["v-1"]
    # Six minutes later: the first item is behind a break of its own, so two more in a row.
    assert run(store, w, T0 + timedelta(minutes=6), 2) == ["v-2", "v-3"]
    assert run(store, w, T0 + timedelta(minutes=7), 1) == [None]


def test_skipped_tagged_items_count_as_seen(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 2}}})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 4, ["violence"]))
    assert run(store, w, T0, 2, skip=True) == ["v-1", "v-2"]
    assert run(store, w, T0, 1) == [None]
    with store.read() as conn:
        seen = conn.execute(select(exposure_events.c.seconds)).scalars().all()
    assert seen == [0.0, 0.0]
    bodies = ledger_bodies(store, "exposure.recorded")
    assert [b["source"] for b in bodies] == ["skip", "skip"]


def test_a_retried_skip_records_its_exposure_once(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES)
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 1, ["violence", "hate"]))
    with store.write() as conn:
        project = projects.get_project(conn, "p")
        lease = routing.next_item(conn, project, w, now=T0)
        assert lease is not None
        assert not exposure.record_skip(conn, project, w, lease.assignment_id, now=T0)
        # The skip records the exposure (with its seconds); a retried skip and a second
        # call record nothing more.
        routing.close_lease(conn, project, w, lease.assignment_id, status="skipped", now=T0,
                            active_seconds=4)
        routing.close_lease(conn, project, w, lease.assignment_id, status="skipped", now=T0,
                            active_seconds=4)
        assert not exposure.record_skip(conn, project, w, lease.assignment_id, now=T0)
        # Someone else's assignment records nothing.
        assert not exposure.record_skip(conn, project, w + 99, lease.assignment_id, now=T0)
    with store.read() as conn:
        got = conn.execute(select(exposure_events.c.category, exposure_events.c.seconds)
                           .order_by(exposure_events.c.category)).all()
    assert [tuple(r) for r in got] == [("hate", 4.0), ("violence", 4.0)]


# ------------------------------------------------------------------ interleaving
def test_interleaving_serves_a_non_sensitive_item_after_k_sensitive_ones(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"interleave_after": 2})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 5, ["violence"], priority=10) + rows("plain", 2, []))
    assert run(store, w, T0, 8) == ["v-1", "v-2", "plain-1", "v-3", "v-4", "plain-2", "v-5",
                                    None]


def test_without_non_sensitive_items_sensitive_work_continues(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"interleave_after": 1})
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 3, ["violence"]))
    assert run(store, w, T0, 4) == ["v-1", "v-2", "v-3", None]
    assert step(store, w, T0).reason is None  # nothing was held back: the project is done


# ------------------------------------------------------------------ opt-outs
def test_an_opted_out_category_is_never_routed(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=3, content_categories=CATEGORIES, gold_rate=0.2)
        w, *others = add_workers(conn, 3)
        assert exposure.opt_out(conn, w, "hate", actor="test") == ["hate"]
    mixed = [{"id": f"m-{i}", "text": f"text {i}",
              "sensitivity": ["hate"] if i % 2 else (["violence"] if i % 3 else [])}
             for i in range(1, 41)]
    gold = [{"id": f"g-{i}", "text": f"gold {i}", "gold": "toxic",
             "sensitivity": ["hate"] if i % 2 else []} for i in range(1, 7)]
    import_rows(store, "p", mixed + gold)
    served = run(store, w, T0, 60)
    got = [s for s in served if s is not None]
    assert len(got) == 20 + 3  # every item without hate, and the gold without it
    with store.read() as conn:
        tags = dict(conn.execute(select(items.c.external_id, items.c.sensitivity)).all())
    assert all("hate" not in tags[s] for s in got)
    reason = step(store, w, T0).reason
    assert reason is not None and "opted out of (hate)" in reason
    # The others get hate items as usual.
    assert any("hate" in tags[s] for s in run(store, others[0], T0, 5) if s)


def test_opting_out_and_in_is_on_the_ledger_and_checked(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, content_categories=CATEGORIES)
        (w,) = add_workers(conn, 1)
        with pytest.raises(Invalid, match="violnce"):
            exposure.opt_out(conn, w, "violnce", actor="test")
        exposure.set_opt_outs(conn, w, ["hate", "violence"], actor=f"worker:{w}")
        exposure.set_opt_outs(conn, w, ["hate", "violence"], actor=f"worker:{w}")
        assert exposure.opt_in(conn, w, "hate", actor="cli") == ["violence"]
        with pytest.raises(Invalid, match="has not opted out of 'hate'"):
            exposure.opt_in(conn, w, "hate", actor="cli")
        stored = conn.execute(select(workers.c.opt_outs).where(workers.c.id == w)).scalar()
    assert stored == ["violence"]
    assert ledger_bodies(store, "worker.opted_out") == [
        {"worker": w, "category": "hate"}, {"worker": w, "category": "violence"}]
    assert ledger_bodies(store, "worker.opted_in") == [{"worker": w, "category": "hate"}]


# ------------------------------------------------------------------ recording and reading
def test_answers_to_tagged_items_record_one_event_per_tag_gold_included(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES, gold_rate=0.5)
        (w,) = add_workers(conn, 1)
    import_rows(store, "p", rows("v", 1, ["violence", "hate"])
                + [{"id": "g-1", "text": "gold", "gold": "toxic", "sensitivity": ["hate"]}]
                + rows("plain", 1, []))
    assert sorted(filter(None, run(store, w, T0, 3, seconds=12.5))) == ["g-1", "plain-1", "v-1"]
    with store.read() as conn:
        got = conn.execute(select(items.c.external_id, exposure_events.c.category,
                                  exposure_events.c.seconds)
                           .join(items, items.c.id == exposure_events.c.item_id)
                           .order_by(items.c.external_id, exposure_events.c.category)).all()
    assert [tuple(r) for r in got] == [("g-1", "hate", 12.5), ("v-1", "hate", 12.5),
                                       ("v-1", "violence", 12.5)]
    bodies = ledger_bodies(store, "exposure.recorded")
    assert sorted(tuple(b["categories"]) for b in bodies) == [("hate",), ("hate", "violence")]
    assert all(b["source"] == "answer" and b["seconds"] == 12.5 for b in bodies)


def test_worker_exposure_counts_today_and_this_week_against_limits(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES,
                     exposure={"limits": {"violence": {"daily_items": 5, "daily_minutes": 10}}})
        (w,) = add_workers(conn, 1)
        exposure.opt_out(conn, w, "hate", actor="test")
    import_rows(store, "p", rows("v", 4, ["violence"]))
    sunday = T0 - timedelta(days=1)  # last week: counts neither today nor this week
    run(store, w, sunday, 1, seconds=60.0)
    run(store, w, T0 - timedelta(hours=2), 1, seconds=60.0)  # Monday 07:00: this week, today
    run(store, w, T0, 2, seconds=90.0)
    with store.read() as conn:
        seen = exposure.worker_exposure(conn, w, now=T0 + timedelta(hours=1))
    assert seen["timezone"] == "UTC" and seen["opt_outs"] == ["hate"]
    assert seen["sensitive_today"] == 3
    by = {c["category"]: c for c in seen["categories"]}
    assert by["violence"]["today"] == {"items": 3, "minutes": 4.0}
    assert by["violence"]["week"] == {"items": 3, "minutes": 4.0}
    assert by["hate"]["opted_out"] and by["hate"]["today"] == {"items": 0, "minutes": 0.0}
    (limit,) = by["violence"]["limits"]
    assert limit == {"project": "p", "title": "p", "daily_items": 5, "daily_minutes": 10,
                     "reached": False, "items_left": 2, "minutes_left": 6.0}
    assert seen["resets_at"] == "2030-03-05T00:00:00+00:00"


def test_without_policy_or_opt_outs_the_gate_costs_nothing(store: Store) -> None:
    with store.write() as conn:
        plain = make_project(conn, "plain", content_categories=CATEGORIES)
        bare = make_project(conn, "bare", exposure={"break_after_sensitive": 2})
        sql = Sql(conn)
        assert exposure.gate_for(sql, plain, 1, [], None, T0) is None
        assert exposure.gate_for(sql, bare, 1, ["hate"], None, T0) is None  # nothing taggable
        gate = exposure.gate_for(sql, plain, 1, ["hate"], None, T0)
        assert gate is not None and gate.blocked == {"hate"} and not gate.holds_rules


# ------------------------------------------------------------------ item tags
def test_a_reviewer_tags_an_item_and_routing_follows(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, overlap=1, content_categories=CATEGORIES)
        (w,) = add_workers(conn, 1)
        exposure.opt_out(conn, w, "violence", actor="test")
    import_rows(store, "p", rows("x", 2, []))
    with store.write() as conn:
        project = projects.get_project(conn, "p")
        assert exposure.tag_item(conn, project, "x-1", ["violence"], "user:7") == ["violence"]
        assert exposure.tag_item(conn, project, "x-1", ["hate"], "user:7",
                                 replace=False) == ["hate", "violence"]
        assert exposure.tag_item(conn, project, "x-1", ["hate", "violence"], "user:7") == [
            "hate", "violence"]
        with pytest.raises(Invalid, match="gore is not a content category"):
            exposure.tag_item(conn, project, "x-2", ["gore"], "user:7")
        with pytest.raises(NotFound):
            exposure.tag_item(conn, project, "nope", ["hate"], "user:7")
    assert ledger_bodies(store, "item.tagged")[0]["old"] == []
    assert [b["new"] for b in ledger_bodies(store, "item.tagged")] == [
        ["violence"], ["hate", "violence"]]
    assert run(store, w, T0, 2) == ["x-2", None]


# ------------------------------------------------------------------ the arithmetic of days and runs
ZONES = ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham",
         "America/St_Johns", "Australia/Lord_Howe"]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)), st.sampled_from(ZONES))
def test_the_day_holds_now_and_starts_at_local_midnight(now: datetime, name: str) -> None:
    zone = exposure.zone_of(name)
    start, end = exposure.day_bounds(now, zone)
    assert start <= now < end
    assert start.astimezone(zone).time() == end.astimezone(zone).time() == datetime.min.time()
    assert timedelta(hours=23) <= end - start <= timedelta(hours=25)  # DST days included
    week = exposure.week_start(now, zone)
    assert week <= start and week.astimezone(zone).weekday() == 0
    assert start - week < timedelta(days=7)


@given(st.lists(st.integers(0, 600), max_size=30), st.integers(0, 600), st.integers(1, 120))
def test_the_run_of_sensitive_items_matches_a_plain_count(offsets: list[int], now_at: int,
                                                          gap: int) -> None:
    times = [T0 + timedelta(minutes=m) for m in offsets if m <= now_at]
    now = T0 + timedelta(minutes=now_at)
    got = exposure._run_of_sensitive(times, now, timedelta(minutes=gap))
    # Plain count: walk back from now; a silence of `gap` minutes anywhere ends the run.
    expected, last = 0, now
    for t in sorted(times, reverse=True):
        if last - t >= timedelta(minutes=gap):
            break
        expected, last = expected + 1, t
    assert got == expected
