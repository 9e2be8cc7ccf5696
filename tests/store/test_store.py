"""The store: transactions owned at the edge, one writer on SQLite, WAL and foreign keys."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from handloom.store.db import Store, as_utc, normalize_url, utcnow
from handloom.store.schema import workspace_meta


def count_meta(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(workspace_meta)).scalar_one())


def test_write_commits_and_rolls_back(store: Store) -> None:
    with store.write() as conn:
        conn.execute(workspace_meta.insert().values(key="a", value="1"))
    assert count_meta(store) == 1
    with pytest.raises(RuntimeError), store.write() as conn:
        conn.execute(workspace_meta.insert().values(key="b", value="2"))
        raise RuntimeError("abort")
    assert count_meta(store) == 1


def test_foreign_keys_are_enforced(store: Store) -> None:
    from handloom.store.schema import api_tokens

    with pytest.raises(IntegrityError), store.write() as conn:
        conn.execute(api_tokens.insert().values(user_id=999, token_hash="x" * 64, name="",
                                                created_at=utcnow()))


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert store.dialect == "sqlite" and store.is_sqlite


def test_datetimes_come_back_as_utc(store: Store) -> None:
    from handloom.store.schema import users
    from handloom.work import accounts

    before = utcnow()
    with store.write() as conn:
        accounts.create_user(conn, "u", "owner")
    with store.read() as conn:
        created = conn.execute(select(users.c.created_at)).scalar_one()
    assert abs((as_utc(created) - before).total_seconds()) < 60


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected
