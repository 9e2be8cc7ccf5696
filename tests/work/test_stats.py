"""Read-side statistics: throughput buckets, answers per worker, agreement — each checked
against numbers worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from factories import add_workers, import_rows, make_project, project, text_items
from handloom.disclose.privacy import pseudonym
from handloom.store.db import Store, as_utc
from handloom.work import projects, stats
from handloom.work.routing import next_item
from handloom.work.submissions import submit_answer


def answer(store: Store, worker_id: int, label: str, at: datetime | None = None,
           name: str = "p") -> str:
    """The worker leases its next item and answers *label* at time *at*; the item's id."""
    with store.write() as conn:
        row = projects.get_project(conn, name)
        lease = next_item(conn, row, worker_id, now=at)
        assert lease is not None, "no item left for the worker"
        submit_answer(conn, row, projects.kind_of(row), worker_id, lease.assignment_id,
                      {"label": label}, idempotency_key=f"{worker_id}-{lease.assignment_id}",
                      active_seconds=5.0, now=at)
        return lease.external_id


def setup(store: Store, n_items: int = 3, n_workers: int = 3, **spec: Any) -> list[int]:
    with store.write() as conn:
        make_project(conn, "p", **spec)
        workers = add_workers(conn, n_workers)
    import_rows(store, "p", text_items(n_items))
    return workers


def created(store: Store) -> datetime:
    with store.read() as conn:
        return as_utc(project(conn).created_at)


def hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


# ------------------------------------------------------------------ answers per worker
def test_answers_per_worker_counts_by_pseudonym_most_first(store: Store) -> None:
    a, b, c = setup(store)
    for who, n in ((c, 1), (a, 3), (b, 2)):
        for _ in range(n):
            answer(store, who, "toxic")
    with store.read() as conn:
        row = project(conn)
        got = stats.answers_per_worker(conn, row)
    secret = row.pseudonym_secret
    assert got == [(pseudonym(secret, a), 3), (pseudonym(secret, b), 2), (pseudonym(secret, c), 1)]
    assert all(name.startswith("w_") for name, _ in got)


def test_answers_per_worker_ties_are_ordered_by_pseudonym(store: Store) -> None:
    workers = setup(store, n_items=2)
    for who in workers:
        answer(store, who, "toxic")
    with store.read() as conn:
        row = project(conn)
        got = stats.answers_per_worker(conn, row)
    assert got == sorted((pseudonym(row.pseudonym_secret, w), 1) for w in workers)


def test_answers_per_worker_is_empty_without_answers(store: Store) -> None:
    setup(store)
    with store.read() as conn:
        assert stats.answers_per_worker(conn, project(conn)) == []


# ------------------------------------------------------------------ agreement
def test_agreement_by_hand(store: Store) -> None:
    # item-1: toxic ×3 (3 pairs, all agree: 1.0) · item-2: toxic / not_toxic (1 pair: 0.0)
    # item-3: one answer, left out. Mean over items (1.0 + 0.0) / 2 = 0.5; 1 of 2 unanimous.
    a, b, c = setup(store)
    for who, labels in ((a, ["toxic", "toxic", "not_toxic"]), (b, ["toxic", "not_toxic"]),
                        (c, ["toxic"])):
        got = [answer(store, who, label) for label in labels]
        assert got == [f"item-{i}" for i in range(1, len(labels) + 1)]
    with store.read() as conn:
        summary = stats.agreement_summary(conn, project(conn))
    assert summary.items == 2
    assert summary.pairs == 4
    assert summary.mean_pairwise == pytest.approx(0.5)
    assert summary.unanimous == 1
    assert summary.unanimous_share == pytest.approx(0.5)


def test_agreement_averages_items_not_pairs(store: Store) -> None:
    # item-1: toxic, toxic, not_toxic → pairs 1, 0, 0 → 1/3 · item-2: unsure ×2 → 1.
    # Mean over items (1/3 + 1) / 2 = 2/3 (a mean over all 4 pairs would be 1/2).
    a, b, c = setup(store, n_items=2)
    answer(store, a, "toxic")
    answer(store, a, "unsure")
    answer(store, b, "toxic")
    answer(store, b, "unsure")
    answer(store, c, "not_toxic")
    with store.read() as conn:
        summary = stats.agreement_summary(conn, project(conn))
    assert (summary.items, summary.pairs, summary.unanimous) == (2, 4, 1)
    assert summary.mean_pairwise == pytest.approx(2 / 3)


def test_agreement_uses_the_kinds_comparison(store: Store) -> None:
    # Multi-label classification compares label sets (Jaccard): {a, b} vs {a} → 1/2.
    with store.write() as conn:
        make_project(conn, "p", labels=["a", "b", "c"], multi_label=True)
        a, b = add_workers(conn, 2)
    import_rows(store, "p", text_items(1))
    for who, labels in ((a, ["a", "b"]), (b, ["a"])):
        with store.write() as conn:
            row = projects.get_project(conn, "p")
            lease = next_item(conn, row, who)
            assert lease is not None
            submit_answer(conn, row, projects.kind_of(row), who, lease.assignment_id,
                          {"labels": labels}, idempotency_key=f"k{who}")
    with store.read() as conn:
        row = project(conn)
        expected = projects.kind_of(row).agreement({"labels": ["a", "b"]}, {"labels": ["a"]})
        summary = stats.agreement_summary(conn, row)
    assert expected == pytest.approx(0.5)
    assert summary.mean_pairwise == pytest.approx(expected)
    assert (summary.items, summary.pairs, summary.unanimous) == (1, 1, 0)


def test_agreement_without_shared_items(store: Store) -> None:
    a, _b, _c = setup(store)
    answer(store, a, "toxic")
    with store.read() as conn:
        summary = stats.agreement_summary(conn, project(conn))
    assert summary == stats.AgreementSummary(items=0, pairs=0, mean_pairwise=None, unanimous=0)
    assert summary.unanimous_share is None


# ------------------------------------------------------------------ throughput
def test_throughput_per_hour_while_young(store: Store) -> None:
    a, b, _c = setup(store, n_items=4)
    base = hour(created(store))
    answer(store, a, "toxic", base - timedelta(hours=47))  # before the window: left out
    answer(store, a, "toxic", base + timedelta(minutes=10))
    answer(store, b, "toxic", base + timedelta(minutes=50))
    answer(store, b, "toxic", base + timedelta(minutes=70))
    now = base + timedelta(minutes=90)
    with store.read() as conn:
        flow = stats.throughput(conn, project(conn), now=now)
    assert flow.unit == "hour"
    assert len(flow.buckets) == 48
    assert flow.buckets[0][0] == base + timedelta(hours=2) - timedelta(hours=48)
    assert flow.buckets[-2:] == [(base, 2), (base + timedelta(hours=1), 1)]
    assert sum(n for _, n in flow.buckets[:-2]) == 0
    assert flow.total == 3
    assert flow.peak == (base, 2)
    assert all(moment.tzinfo is not None for moment, _ in flow.buckets)


def test_throughput_per_day_for_older_projects(store: Store) -> None:
    a, b, _c = setup(store, n_items=3)
    first = day(created(store))
    answer(store, a, "toxic", first + timedelta(minutes=1))
    answer(store, a, "toxic", first + timedelta(days=1, hours=5))
    answer(store, b, "toxic", first + timedelta(days=1, hours=23, minutes=59))
    now = created(store) + timedelta(days=3)
    with store.read() as conn:
        flow = stats.throughput(conn, project(conn), now=now)
    assert flow.unit == "day"
    assert flow.buckets == [(first, 1), (first + timedelta(days=1), 2),
                            (first + timedelta(days=2), 0), (first + timedelta(days=3), 0)]
    assert flow.total == 3


def test_throughput_keeps_only_the_most_recent_days(store: Store) -> None:
    setup(store)
    now = created(store) + timedelta(days=10)
    with store.read() as conn:
        flow = stats.throughput(conn, project(conn), now=now, max_days=3)
    assert [moment for moment, _ in flow.buckets] == [day(now) - timedelta(days=2),
                                                       day(now) - timedelta(days=1), day(now)]
    assert flow.total == 0
    assert flow.peak is None


def test_throughput_counts_only_this_project(store: Store) -> None:
    a, _b, _c = setup(store)
    with store.write() as conn:
        make_project(conn, "other")
    import_rows(store, "other", text_items(2))
    answer(store, a, "toxic", name="other")
    answer(store, a, "toxic")
    with store.read() as conn:
        flow = stats.throughput(conn, project(conn))
    assert flow.unit == "hour" and flow.total == 1


def test_throughput_buckets_in_utc_whatever_the_offset_given() -> None:
    moment = datetime(2024, 5, 1, 13, 45, tzinfo=UTC)
    later = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert stats._floor(later, "hour") == datetime(2024, 5, 1, 13, tzinfo=UTC)
    assert stats._floor(later, "day") == datetime(2024, 5, 1, tzinfo=UTC)
