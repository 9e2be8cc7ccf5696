"""Shared fixtures: a real store on SQLite and PostgreSQL, a workspace on disk, shared data.

The ``store`` fixture runs every test that uses it twice, once on a SQLite file and once on
PostgreSQL. Both are migrated once per session: SQLite into a template file that each test
copies, PostgreSQL into the database named by ``HANDLOOM_TEST_PG_URL``, whose tables are
truncated before each test. Without that variable the PostgreSQL half is skipped, unless
``HANDLOOM_REQUIRE_PG=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from factories import REPO_ROOT, WorkspaceInfo
from handloom.config import ENV_PREFIX, SETTINGS
from handloom.store.db import Store, migrate, normalize_url
from handloom.store.schema import metadata
from handloom.work import accounts
from handloom.workspace import init_workspace

PG_URL_ENV = "HANDLOOM_TEST_PG_URL"
REQUIRE_PG_ENV = "HANDLOOM_REQUIRE_PG"
PG_SKIP_REASON = (
    "PostgreSQL tests need HANDLOOM_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test"
)
SESSION_LOCK = 0x484C5445  # "HLTE": one test session at a time per PostgreSQL database
SESSION_LOCK_WAIT = "600s"
# Tests write a lot of tiny transactions; durability against power loss is not under test here.
TEST_SYNCHRONOUS = "OFF"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("pg", id="pg", marks=pytest.mark.pg),
]


def pg_url_or_skip() -> str:
    """The PostgreSQL URL under test; skips (or fails, when PostgreSQL is required) without."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set. {PG_SKIP_REASON}",
                        pytrace=False)
        pytest.skip(PG_SKIP_REASON)
    return url


def truncate_all(store: Store) -> None:
    """Empty every table of the schema and restart its id sequences (PostgreSQL only)."""
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.write() as conn:
        # Fail instead of hanging when a connection left open elsewhere still holds a table.
        conn.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def reset_pg_schema(url: str) -> None:
    """Drop and recreate schema ``public`` so the session starts from an empty database."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _clean_handloom_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workspace settings from the developer's shell must not leak into tests."""
    for setting in SETTINGS:
        monkeypatch.delenv(ENV_PREFIX + setting.name.upper(), raising=False)
    monkeypatch.delenv("HANDLOOM_WORKSPACE", raising=False)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its smallest cost: still a real argon2 hash, but ~1 ms instead of ~200."""
    monkeypatch.setattr(accounts, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    try:
        migrate(store)
    finally:
        store.dispose()
    # Disposing the last connection checkpoints the WAL into the main file.
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The PostgreSQL URL, its schema dropped, recreated and migrated once per session.

    Test sessions sharing one database would truncate each other's tables, so a session holds
    an advisory lock for as long as it uses PostgreSQL; a second session waits for the first.
    """
    url = pg_url_or_skip()
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql(f"SET lock_timeout = '{SESSION_LOCK_WAIT}'")
            holder.exec_driver_sql(f"SELECT pg_advisory_lock({SESSION_LOCK})")
            holder.commit()
            try:
                reset_pg_schema(url)
                store = Store(url)
                try:
                    migrate(store)
                finally:
                    store.dispose()
                yield url
            finally:
                holder.exec_driver_sql(f"SELECT pg_advisory_unlock({SESSION_LOCK})")
                holder.commit()
    finally:
        engine.dispose()


def sqlite_store_from(template: Path, folder: Path) -> Store:
    path = folder / "handloom.db"
    shutil.copyfile(template, path)
    return Store(f"sqlite:///{path}", sqlite_synchronous=TEST_SYNCHRONOUS)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on SQLite (a file in tmp_path) or PostgreSQL.

    Every test using it runs once per engine; restrict one with
    ``@pytest.mark.parametrize("store", ["sqlite"], indirect=True)``.
    """
    if request.param == "sqlite":
        s = sqlite_store_from(request.getfixturevalue("sqlite_template"), tmp_path)
    elif request.param == "pg":
        s = Store(request.getfixturevalue("pg_database"))
        try:
            truncate_all(s)
        except BaseException:
            s.dispose()
            raise
    else:
        raise ValueError(f"unknown store backend {request.param!r}; use 'sqlite' or 'pg'")
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> WorkspaceInfo:
    """A real workspace on disk (SQLite by default).

    Parametrize indirectly with ``"pg"`` for one on PostgreSQL:
    ``@pytest.mark.parametrize("workspace", ["pg"], indirect=True)``.
    """
    database_url = ""
    if getattr(request, "param", "sqlite") == "pg":
        database_url = request.getfixturevalue("pg_database")
        pg = Store(database_url)
        try:
            truncate_all(pg)
        finally:
            pg.dispose()
    ws, token = init_workspace(tmp_path / "ws", database_url=database_url)
    return WorkspaceInfo(ws, token)


@pytest.fixture
def shared_data() -> Path:
    """The shared, public data sets (``../shared/data`` beside the repository)."""
    path = (REPO_ROOT / ".." / "shared" / "data").resolve()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent (it is present in CI)")
    return path
