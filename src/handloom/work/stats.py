"""Read-side statistics for the manager's pages: throughput, answers per worker, agreement.

Nothing here writes. Counting and bucketing run in SQL (one grouped query each); only the
pairwise agreement walks answers in Python, because comparing two answers is the task kind's
business (:meth:`handloom.kinds.base.TaskKind.agreement`). Gold answers are left out of every
figure here: they measure workers against a key, not the work itself.

Workers appear only under their per-project pseudonym, never by id or reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations, groupby
from typing import Any, Literal

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from handloom.disclose.privacy import pseudonym
from handloom.store import schema
from handloom.store.db import as_utc, utcnow
from handloom.work.projects import kind_of

ann = schema.annotations  # ("annotations" itself is a name __future__ takes)

Unit = Literal["hour", "day"]

HOURLY_WINDOW = 48  # hours shown while a project is young
MAX_DAYS = 366  # daily buckets shown at most (the most recent ones)

_FORMATS: dict[Unit, tuple[str, str, str]] = {
    # unit: (SQLite strftime, PostgreSQL to_char, Python strptime) of a bucket's start
    "hour": ("%Y-%m-%d %H", "YYYY-MM-DD HH24", "%Y-%m-%d %H"),
    "day": ("%Y-%m-%d", "YYYY-MM-DD", "%Y-%m-%d"),
}


@dataclass(frozen=True)
class Throughput:
    """Answers submitted per hour (young projects) or per day, oldest bucket first.

    ``buckets`` holds every bucket of the window, empty ones too, as (start in UTC, count).
    """

    unit: Unit
    buckets: list[tuple[datetime, int]]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.buckets)

    @property
    def peak(self) -> tuple[datetime, int] | None:
        """The first bucket with the most answers, or None when there are none."""
        if not self.buckets or self.total == 0:
            return None
        return max(self.buckets, key=lambda b: b[1])


def _floor(moment: datetime, unit: Unit) -> datetime:
    moment = moment.astimezone(UTC)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _bucket_key(conn: Connection, column: Any, unit: Unit) -> ColumnElement[Any]:
    """SQL for the text form of the UTC bucket a timestamp falls in (same text on both
    engines: SQLite keeps UTC timestamps as text, PostgreSQL as ``timestamptz``)."""
    lite, pg, _ = _FORMATS[unit]
    if conn.dialect.name == "sqlite":
        return func.strftime(lite, column)
    return func.to_char(func.timezone("UTC", column), pg)


def _window(project: Any, now: datetime, hours: int, max_days: int
            ) -> tuple[Unit, datetime, datetime]:
    """(unit, start of the first bucket, start of the bucket after the last)."""
    created = as_utc(project.created_at)
    if now - created <= timedelta(hours=hours):
        end = _floor(now, "hour") + timedelta(hours=1)
        return "hour", end - timedelta(hours=hours), end
    end = _floor(now, "day") + timedelta(days=1)
    first = max(_floor(created, "day"), end - timedelta(days=max_days))
    return "day", first, end


def throughput(conn: Connection, project: Any, *, now: datetime | None = None,
               hours: int = HOURLY_WINDOW, max_days: int = MAX_DAYS) -> Throughput:
    """Answers per hour over the last *hours* hours while the project is no older than that,
    else answers per day from the day it was created (at most the last *max_days* days)."""
    now = as_utc(now or utcnow())
    unit, start, end = _window(project, now, hours, max_days)
    column = ann.c.submitted_at
    key = _bucket_key(conn, column, unit).label("bucket")
    rows = conn.execute(
        select(key, func.count().label("n"))
        .where(ann.c.project_id == project.id, ann.c.is_gold.is_(False),
               column >= start, column < end)
        .group_by(key)
    ).all()
    fmt = _FORMATS[unit][2]
    counts = {datetime.strptime(r.bucket, fmt).replace(tzinfo=UTC): int(r.n) for r in rows}
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    buckets = []
    moment = start
    while moment < end:
        buckets.append((moment, counts.get(moment, 0)))
        moment += step
    return Throughput(unit, buckets)


def answers_per_worker(conn: Connection, project: Any) -> list[tuple[str, int]]:
    """(pseudonym, answers) of every worker who answered, most answers first (ties by
    pseudonym, so the order repeats)."""
    n = func.count().label("n")
    rows = conn.execute(
        select(ann.c.worker_id, n)
        .where(ann.c.project_id == project.id, ann.c.is_gold.is_(False))
        .group_by(ann.c.worker_id)
    ).all()
    out = [(pseudonym(project.pseudonym_secret, int(r.worker_id)), int(r.n)) for r in rows]
    out.sort(key=lambda pair: (-pair[1], pair[0]))
    return out


@dataclass(frozen=True)
class AgreementSummary:
    """Agreement over the items that have at least two (non-gold) answers.

    ``mean_pairwise`` is the mean over those items of each item's mean agreement between
    every pair of its answers (the kind's ``agreement``, 0 to 1); ``unanimous`` counts the
    items whose answers are all identical (the kind's ``answer_key``). Both are None / 0
    when no item has two answers yet.
    """

    items: int
    pairs: int
    mean_pairwise: float | None
    unanimous: int

    @property
    def unanimous_share(self) -> float | None:
        return self.unanimous / self.items if self.items else None


def _answers_by_item(conn: Connection, project: Any) -> Iterator[list[dict[str, Any]]]:
    """The answers of each item with two or more (non-gold) answers, one list per item."""
    base = (ann.c.project_id == project.id, ann.c.is_gold.is_(False))
    shared = (select(ann.c.item_id).where(*base)
              .group_by(ann.c.item_id).having(func.count() >= 2))
    rows = conn.execute(
        select(ann.c.item_id, ann.c.answer)
        .where(*base, ann.c.item_id.in_(shared))
        .order_by(ann.c.item_id, ann.c.id)
    )
    for _item, group in groupby(rows, key=lambda r: r.item_id):
        yield [r.answer for r in group]


def agreement_summary(conn: Connection, project: Any) -> AgreementSummary:
    """Mean pairwise agreement and the count of unanimous items (see AgreementSummary)."""
    kind = kind_of(project)
    n_items = n_pairs = unanimous = 0
    total = 0.0
    for answers in _answers_by_item(conn, project):
        scores = [kind.agreement(a, b) for a, b in combinations(answers, 2)]
        n_items += 1
        n_pairs += len(scores)
        total += sum(scores) / len(scores)
        keys = {kind.answer_key(a) for a in answers}
        unanimous += len(keys) == 1
    return AgreementSummary(items=n_items, pairs=n_pairs,
                            mean_pairwise=total / n_items if n_items else None,
                            unanimous=unanimous)
