"""Group commit for SQLite: many requests' writes in one transaction, one fsync.

SQLite has one writer at a time, and with ``synchronous=FULL`` every commit waits for the disk.
Under load, requests queue here; a dedicated thread takes every waiting request, runs each in
its own savepoint (so one failure rolls back only its own work), commits once, and only then
answers them all. An acknowledged write is therefore always on disk, and the cost of the
fsync is shared by the batch. On PostgreSQL each request runs its own transaction in a worker
thread instead: the server does its own group commit.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Connection

from handloom.ledger import HEAD_CACHE
from handloom.store.db import Store
from handloom.store.fastsql import Sql

T = TypeVar("T")
MAX_BATCH = 128
_STOP = object()


class WriteQueue:
    """Runs write functions ``fn(conn) -> result`` for async callers."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH):
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if not self.store.is_sqlite:
            return await anyio.to_thread.run_sync(self._run_alone, fn)
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, loop, future))
        return await future

    def _run_alone(self, fn: Callable[[Connection], T]) -> T:
        with self.store.write() as conn:
            return fn(conn)

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="handloom-writer",
                                                daemon=True)
                self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(more)
            outcomes = self._run_batch([fn for fn, _loop, _fut in batch])
            for (_fn, loop, future), (ok, value) in zip(batch, outcomes, strict=True):
                loop.call_soon_threadsafe(_settle, future, ok, value)

    def _run_batch(self, fns: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.store.write() as conn:
                conn.info[HEAD_CACHE] = None
                try:
                    self._run_each(conn, fns, outcomes)
                finally:
                    conn.info.pop(HEAD_CACHE, None)
        except Exception as exc:  # the commit itself failed: nobody's write is durable
            return [(False, exc)] * len(fns)
        return outcomes

    @staticmethod
    def _run_each(conn: Connection, fns: list[Callable[[Connection], Any]],
                  outcomes: list[tuple[bool, Any]]) -> None:
        cursor = Sql(conn)
        for fn in fns:
            cursor.run("SAVEPOINT handloom_request")
            try:
                result = fn(conn)
            except Exception as exc:  # reported to that request's caller alone
                cursor.run("ROLLBACK TO SAVEPOINT handloom_request")
                cursor.run("RELEASE SAVEPOINT handloom_request")
                conn.info[HEAD_CACHE] = None  # its ledger events were rolled back too
                outcomes.append((False, exc))
            else:
                cursor.run("RELEASE SAVEPOINT handloom_request")
                outcomes.append((True, result))


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
