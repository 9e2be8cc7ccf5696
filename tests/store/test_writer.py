"""Group commit: a batch shares one transaction, yet each request succeeds or fails alone."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.errors import Conflict
from handloom.store.db import Store
from handloom.store.schema import ledger_events, vendors
from handloom.store.writer import WriteQueue
from handloom.work import accounts


def add_vendor(name: str):  # type: ignore[no-untyped-def]
    def work(conn: Connection) -> int:
        return accounts.ensure_vendor(conn, name)
    return work


def failing(conn: Connection) -> None:
    accounts.ensure_vendor(conn, "half-done")  # written, then rolled back with its event
    raise Conflict("refused on purpose")


def test_a_failure_rolls_back_only_its_own_request(store: Store) -> None:
    queue = WriteQueue(store)
    outcomes = queue._run_batch([add_vendor("a"), failing, add_vendor("b")])
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], Conflict)
    with store.read() as conn:
        names = sorted(conn.execute(select(vendors.c.name)).scalars())
        events = conn.execute(select(func.count()).select_from(ledger_events)).scalar_one()
        result = ledger.verify(conn)
    assert names == ["a", "b"]
    assert events == 2 and result.ok and result.events == 2


def test_async_callers_get_results_after_commit(store: Store) -> None:
    queue = WriteQueue(store)

    async def main() -> list[object]:
        calls = [queue.run(add_vendor(f"v{i}")) for i in range(20)]
        calls.append(queue.run(failing))
        return await asyncio.gather(*calls, return_exceptions=True)

    # A thread of its own: the browser tests' Playwright keeps an event loop running in the
    # main thread for the whole session, and asyncio.run refuses to start inside one.
    results: list[object] = []
    runner = threading.Thread(target=lambda: results.extend(asyncio.run(main())))
    try:
        runner.start()
        runner.join(60)
    finally:
        queue.close()
    assert len(results) == 21, "the async callers did not finish"
    assert isinstance(results[-1], Conflict)
    assert all(isinstance(r, int) for r in results[:-1])
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(vendors)).scalar_one() == 20
        assert ledger.verify(conn).ok
