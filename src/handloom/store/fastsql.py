"""Hand-written SQL for the hot path (routing, submissions, ledger appends).

SQLAlchemy Core costs 50-120 µs per statement in Python; the raw DB-API cursor costs 2-5 µs.
The routing loop runs about twenty statements per cycle, so it speaks SQL directly, inside the
transaction of the SQLAlchemy connection it is given. Values are written exactly as the
SQLAlchemy schema writes them (JSON text and 'YYYY-MM-DD HH:MM:SS.ffffff' UTC datetimes on
SQLite; json and timestamptz on PostgreSQL), so both layers read each other's rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class Sql:
    """A cursor bound to one SQLAlchemy connection, with dialect-neutral value handling."""

    __slots__ = ("pg", "_cur", "_json")

    def __init__(self, conn: Connection):
        self.pg = conn.dialect.name == "postgresql"
        raw = conn.connection.dbapi_connection
        assert raw is not None
        self._cur = raw.cursor()
        self._json: Any = None
        if self.pg:
            from psycopg.types.json import Json

            self._json = Json

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Execute *sql* written with ``?`` parameter markers; returns the cursor."""
        self._cur.execute(_pg_sql(sql) if self.pg else sql, params)
        return self._cur

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Execute *sql* once per parameter tuple in *rows* (``executemany``)."""
        if rows:
            self._cur.executemany(_pg_sql(sql) if self.pg else sql, rows)

    def first(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.run(sql, params).fetchone()

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(self.run(sql, params).fetchall())

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        row = self.first(sql, params)
        return None if row is None else row[0]

    def insert(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run an INSERT and return the new row's id (``RETURNING id`` on both engines)."""
        return int(self.first(sql + " RETURNING id", params)[0])

    # -------------------------------------------------------------- values
    def json(self, value: Any) -> Any:
        if value is None:
            return None
        if self._json is not None:
            return self._json(value)
        return json.dumps(value)

    @staticmethod
    def load(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def ts(self, value: datetime) -> Any:
        if self.pg:
            return value
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # SQLAlchemy's SQLite format; isoformat is ten times faster than strftime.
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    @staticmethod
    def read_ts(value: Any) -> datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
