"""Many workers at once against a real server: the routing guarantees hold under load.

50 workers, each a thread with its own SDK client, work a classification project of 2,000
items with overlap 3 through uvicorn until the router has nothing left for any of them. Some
submissions are retried with the same idempotency key. Afterwards the database must show
exactly 3 answers per item, nobody answering an item twice, every acknowledged annotation
stored, item counters equal to the real counts, no lease left, and an intact ledger.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from web_helpers import Person, create_workers

from factories import TOXICITY_LABELS, import_rows, make_project, text_items
from handloom import ledger
from handloom.sdk import Client
from handloom.store.db import Store
from handloom.store.schema import annotations, assignments, items, ledger_events

PROJECT = "load"
N_WORKERS = 50
N_ITEMS = 2000
OVERLAP = 3
RETRY_EVERY = 7  # every 7th submission of each worker is sent twice with the same key


@dataclass
class WorkerLog:
    worker: Person
    acks: dict[int, tuple[str, int]] = field(default_factory=dict)  # annotation -> item, asg
    replays: int = 0
    leases: int = 0


def work(base_url: str, person: Person, start: threading.Barrier) -> WorkerLog:
    log = WorkerLog(person)
    with Client(base_url, person.token, timeout=60.0) as hl:
        start.wait()
        n = 0
        while True:
            lease = hl.next(PROJECT)
            if lease is None:
                return log
            log.leases += 1
            assert lease["resumed"] is False, lease  # every lease was answered before asking
            assignment_id = lease["assignment_id"]
            item_id = lease["item"]["id"]
            key = f"{person.username}/{assignment_id}"
            answer = {"label": TOXICITY_LABELS[(assignment_id + person.user_id) % 3]}
            first = hl.submit(PROJECT, assignment_id, answer, idempotency_key=key,
                              active_seconds=1.5)
            assert first["replayed"] is False, first
            assert (first["assignment_id"], first["item_id"]) == (assignment_id, item_id)
            n += 1
            if n % RETRY_EVERY == 1:
                again = hl.submit(PROJECT, assignment_id, answer, idempotency_key=key,
                                  active_seconds=1.5)
                assert again["replayed"] is True, again
                assert again["annotation_id"] == first["annotation_id"], (first, again)
                assert again["submitted_at"] == first["submitted_at"], (first, again)
                log.replays += 1
            assert first["annotation_id"] not in log.acks
            log.acks[first["annotation_id"]] = (item_id, assignment_id)


def rows(store: Store, query: Any) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(query).all())


@pytest.mark.slow
def test_fifty_workers_two_thousand_items_overlap_three(store: Store, live_server: str) -> None:
    with store.write() as conn:
        project_id = make_project(conn, PROJECT, overlap=OVERLAP).id
    import_rows(store, PROJECT, text_items(N_ITEMS))
    crowd = create_workers(store, N_WORKERS)

    start = threading.Barrier(N_WORKERS)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=N_WORKERS) as pool:
        futures = [pool.submit(work, live_server, person, start) for person in crowd]
        logs = [f.result() for f in futures]  # re-raises any worker's failure
    elapsed = time.perf_counter() - began
    answered = sum(len(log.acks) for log in logs)
    # (timing is reported, not asserted: it depends on the machine and what else runs on it)
    print(f"\n{store.dialect}: {answered} answers by {N_WORKERS} workers in {elapsed:.1f} s "
          f"({2 * answered / elapsed:.0f} next+submit requests/s)")

    total = N_ITEMS * OVERLAP
    acked = {aid: (log.worker.worker_id, *info) for log in logs for aid, info in log.acks.items()}
    assert sum(len(log.acks) for log in logs) == len(acked)  # no id acknowledged twice
    assert sum(log.leases for log in logs) == len(acked)
    assert sum(log.replays for log in logs) >= len(acked) // RETRY_EVERY

    # never more than OVERLAP answers to an item; no worker answered an item twice
    per_item = rows(store, select(items.c.external_id, func.count(annotations.c.id),
                                  func.count(func.distinct(annotations.c.worker_id)))
                    .select_from(items.outerjoin(annotations,
                                                 annotations.c.item_id == items.c.id))
                    .where(items.c.project_id == project_id)
                    .group_by(items.c.external_id))
    assert len(per_item) == N_ITEMS
    assert max(n for _ext, n, _distinct in per_item) <= OVERLAP
    assert all(n == distinct for _ext, n, distinct in per_item)
    twice = rows(store, select(annotations.c.item_id, annotations.c.worker_id)
                 .group_by(annotations.c.item_id, annotations.c.worker_id)
                 .having(func.count() > 1))
    assert twice == []

    # every acknowledged annotation is stored, as acknowledged, and nothing else is
    stored = {r.id: r for r in rows(store, select(
        annotations.c.id, annotations.c.worker_id, annotations.c.assignment_id,
        items.c.external_id).join(items, items.c.id == annotations.c.item_id)
        .where(annotations.c.project_id == project_id))}
    assert set(stored) == set(acked)
    for annotation_id, (worker_id, external_id, assignment_id) in acked.items():
        row = stored[annotation_id]
        assert (row.worker_id, row.external_id, row.assignment_id) == (
            worker_id, external_id, assignment_id)

    # item counters match the real counts; nothing is leased, nothing left open
    counters = rows(store, select(items.c.id, items.c.answers, items.c.leased)
                    .where(items.c.project_id == project_id))
    real = Counter(r.item_id for r in rows(store, select(annotations.c.item_id)
                                           .where(annotations.c.project_id == project_id)))
    assert {r.id: r.answers for r in counters} == {r.id: real[r.id] for r in counters}
    assert [r.id for r in counters if r.leased != 0] == []
    statuses = rows(store, select(assignments.c.status, func.count())
                    .where(assignments.c.project_id == project_id)
                    .group_by(assignments.c.status))
    assert {s: int(n) for s, n in statuses} == {"submitted": len(acked)}

    # an intact ledger: one lease event and one submission event per answer, none for replays
    with store.read() as conn:
        verdict = ledger.verify(conn)
        kinds = dict(conn.execute(select(ledger_events.c.event, func.count())
                                  .group_by(ledger_events.c.event)).all())
    assert verdict.ok, verdict
    assert kinds["assignment.leased"] == kinds["annotation.submitted"] == len(acked)

    # and the work is complete: every item has exactly OVERLAP answers
    short = sorted((ext, n) for ext, n, _distinct in per_item if n != OVERLAP)
    assert short == [], (
        f"{len(short)} item(s) have fewer than {OVERLAP} answers although each of the "
        f"{N_WORKERS} workers was told there was no more work for them "
        f"(first: {short[:10]})")
    assert len(acked) == total
