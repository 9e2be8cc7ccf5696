"""Engines and transactions: one store, two engines (SQLite in WAL mode, or PostgreSQL).

Transactions are owned at the edge (a request, a CLI command) through :meth:`Store.write` and
:meth:`Store.read`. On SQLite every write goes through one in-process lock and ``BEGIN
IMMEDIATE``, so writers queue in Python instead of spinning on SQLite's busy handler, and
readers never wait for them (WAL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from handloom.config import Workspace

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every stored datetime is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def inserted_id(result: Any) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and select psycopg 3 for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("handloom_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """The database of one workspace."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", echo: bool = False,
                 k_floor: int = 5):
        self.url = normalize_url(url)
        # The workspace's k_anonymity: the smallest group a report or export may describe.
        # Connections carry it (execution option ``handloom_k_floor``) when it is raised, so
        # disclosure code reads it from the connection it is given.
        self.k_floor = k_floor
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=64,
                max_overflow=64,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            _configure_sqlite(self.engine, sqlite_synchronous)
        else:
            self.engine = create_engine(
                self.url, echo=echo, pool_size=20, max_overflow=40, pool_pre_ping=True
            )

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> Store:
        return cls(workspace.database_url, sqlite_synchronous=workspace.settings.sqlite_synchronous,
                   k_floor=workspace.settings.k_anonymity)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception."""
        if self.is_sqlite:
            with self._write_lock, self.engine.connect() as conn:
                conn.execution_options(handloom_write=True)
                self._mark(conn)
                with conn.begin():
                    yield conn
        else:
            with self.engine.begin() as conn:
                self._mark(conn)
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot; never blocks on writers."""
        with self.engine.connect() as conn, conn.begin():
            self._mark(conn)
            yield conn

    def _mark(self, conn: Connection) -> None:
        if self.k_floor != 5:
            conn.execution_options(handloom_k_floor=self.k_floor)

    def dispose(self) -> None:
        self.engine.dispose()


def migrate(store: Store, revision: str = "head") -> None:
    """Bring the schema to *revision* with the project's Alembic migrations."""
    from alembic import command

    command.upgrade(alembic_config(store), revision)


def alembic_config(store: Store) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    cfg.attributes["engine"] = store.engine
    return cfg
