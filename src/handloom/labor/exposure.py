"""Exposure to harmful content: what each worker has seen, per category, day and week, and the
rules routing enforces with it (daily limits, forced breaks, interleaving and opt-outs).

Exposure is to the person, so it is counted across all projects; the limits come from the
project being routed. A worker's day starts at local midnight in their own time zone
(``workers.timezone``, UTC when unset) and their week on Monday. Routing asks
:func:`gate_for` once per lease request; it costs nothing when the project has no exposure
policy and the worker has no opt-outs, and one or two indexed queries otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from handloom import ledger
from handloom.errors import Invalid, NotFound
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql

DEFAULT_ZONE = "UTC"
# Interleaving looks this far down the queue (in priority order) for a non-sensitive item,
# so that a project without any costs a bounded scan, not a pass over every item.
INTERLEAVE_LOOKAHEAD = 500
# How many held-back items are read to say which rule held them back.
HELD_BACK_SAMPLE = 50
MAX_CATEGORY_LENGTH = 40


# ------------------------------------------------------------------ the worker's day
@lru_cache(maxsize=256)
def zone_of(name: str | None) -> ZoneInfo:
    """The worker's time zone (UTC when unset or no longer known to this system)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def check_zone(name: str) -> str:
    """*name* if it is an IANA time zone (``Europe/Berlin``), else Invalid."""
    name = (name or "").strip()
    try:
        if not name or len(name) > 64:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{name!r} is not a time zone name; use an IANA name such as "
                      "'Europe/Berlin', 'Africa/Nairobi', 'America/Sao_Paulo' or 'UTC'.",
                      field="timezone") from None
    return name


def day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end (next local midnight) of the worker's day containing *now*."""
    local = now.astimezone(zone).date()
    start = datetime.combine(local, time(0), tzinfo=zone)
    end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 local time of the worker's week containing *now*."""
    local = now.astimezone(zone).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(0), tzinfo=zone)


# ------------------------------------------------------------------ the routing gate
@dataclass(frozen=True)
class LimitHit:
    """A daily limit this worker has reached today in one category."""

    category: str
    unit: str  # items | minutes
    limit: int
    used: float


@dataclass(frozen=True)
class Gate:
    """What exposure rules allow for one lease request.

    ``blocked`` categories are never routed (opt-outs and limits reached); while a break is
    due (``break_until``) no sensitive item is; ``prefer_plain`` asks for a non-sensitive item
    first (interleaving)."""

    opted_out: frozenset[str]
    limit_hits: tuple[LimitHit, ...]
    break_until: datetime | None
    run: int  # sensitive items seen in a row (since the last break)
    prefer_plain: bool
    zone: str
    day_end: datetime
    blocked: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocked", self.opted_out.union(
            h.category for h in self.limit_hits))

    @property
    def holds_rules(self) -> bool:
        """Whether rules other than the worker's own opt-outs hold items back."""
        return bool(self.limit_hits) or self.break_until is not None

    def allows(self, tags: list[str]) -> bool:
        if not tags:
            return True
        if self.break_until is not None:
            return False
        return not self.blocked.intersection(tags)

    def screen(self, pg: bool) -> tuple[str, tuple[Any, ...]]:
        """An SQL condition on ``items i`` keeping only items this gate allows."""
        if self.break_until is not None:
            return " AND json_array_length(i.sensitivity) = 0", ()
        blocked = sorted(self.blocked)
        if not blocked:
            return "", ()
        if pg:
            return (" AND NOT EXISTS (SELECT 1 FROM json_array_elements_text(i.sensitivity) t(v)"
                    " WHERE t.v = ANY(?))", (blocked,))
        marks = ", ".join("?" * len(blocked))
        return (f" AND NOT EXISTS (SELECT 1 FROM json_each(i.sensitivity) e "
                f"WHERE e.value IN ({marks}))", tuple(blocked))


def has_policy(project: Any) -> bool:
    return bool(project.exposure_limits or project.break_after_sensitive
                or project.interleave_after)


def _limits(project: Any) -> dict[str, dict[str, int]]:
    return {c: lim for c, lim in (project.exposure_limits or {}).items()
            if lim.get("daily_items") is not None or lim.get("daily_minutes") is not None}


def _recent(sql: Sql, worker_id: int, categories: list[str], since: datetime) -> list[Any]:
    marks = ", ".join("?" * len(categories))
    return sql.all(
        "SELECT item_id, category, seconds, at FROM exposure_events WHERE worker_id = ? "
        f"AND category IN ({marks}) AND at >= ?", (worker_id, *categories, sql.ts(since)))


def _run_of_sensitive(times: list[datetime], now: datetime,
                      gap: timedelta) -> int:
    """Sensitive items seen in a row: back from the latest exposure until a gap of *gap*
    (a break); 0 when the latest was *gap* or longer ago (a break was taken)."""
    ordered = sorted(times, reverse=True)
    if not ordered or now - ordered[0] >= gap:
        return 0
    run = 1
    for later, earlier in zip(ordered, ordered[1:], strict=False):
        if later - earlier >= gap:
            break
        run += 1
    return run


def gate_for(sql: Sql, project: Any, worker_id: int, opt_outs: list[str],
             timezone: str | None, now: datetime) -> Gate | None:
    """The exposure rules for one lease request; None when there is nothing to enforce (no
    exposure policy, no opt-outs, or a project without content categories)."""
    categories = sorted(project.content_categories or [])
    if not categories or not (opt_outs or has_policy(project)):
        return None
    zone = zone_of(timezone)
    day_start, day_end = day_bounds(now, zone)
    limits = _limits(project)
    after = project.break_after_sensitive
    gap = timedelta(minutes=project.break_minutes or 15)
    hits: list[LimitHit] = []
    break_until = None
    run = 0
    if limits or after:
        since = day_start if limits else now
        if after:
            since = min(since, now - gap * (after + 1))
        rows = _recent(sql, worker_id, categories, since)
        if limits:
            items: dict[str, int] = defaultdict(int)
            seconds: dict[str, float] = defaultdict(float)
            for _item, category, secs, at in rows:
                if sql.read_ts(at) >= day_start:
                    items[category] += 1
                    seconds[category] += float(secs or 0.0)
            for category, lim in sorted(limits.items()):
                if lim.get("daily_items") is not None and items[category] >= lim["daily_items"]:
                    hits.append(LimitHit(category, "items", int(lim["daily_items"]),
                                         items[category]))
                elif (lim.get("daily_minutes") is not None
                      and seconds[category] >= 60 * lim["daily_minutes"]):
                    hits.append(LimitHit(category, "minutes", int(lim["daily_minutes"]),
                                         round(seconds[category] / 60, 1)))
        if after:
            latest: dict[int, datetime] = {}
            for item, _category, _secs, at in rows:
                when = sql.read_ts(at)
                if when > latest.get(int(item), datetime.min.replace(tzinfo=when.tzinfo)):
                    latest[int(item)] = when
            run = _run_of_sensitive(list(latest.values()), now, gap)
            if run >= after:
                break_until = max(latest.values()) + gap
    prefer_plain = False
    if project.interleave_after and break_until is None:
        recent = sql.all(
            "SELECT i.sensitivity FROM assignments a JOIN items i ON i.id = a.item_id "
            "WHERE a.worker_id = ? AND a.project_id = ? AND a.status IN ('submitted', 'skipped') "
            "ORDER BY a.closed_at DESC, a.id DESC LIMIT ?",
            (worker_id, project.id, project.interleave_after))
        prefer_plain = (len(recent) == project.interleave_after
                        and all(sql.load(r[0]) for r in recent))
    opted = frozenset(opt_outs).intersection(categories)
    return Gate(opted, tuple(hits), break_until, run, prefer_plain, zone.key, day_end)


def held_back_reason(sql: Sql, project: Any, worker_id: int, gate: Gate) -> str | None:
    """Why no item was leased, when exposure rules (or the worker's opt-outs) held items
    back: which rule, for which category, and when it lifts. None when nothing was held back
    (the project simply has no item for the worker)."""
    rows = sql.all(
        "SELECT i.sensitivity FROM items i WHERE i.project_id = ? "
        'AND (i.is_gold = ? OR i."full" = ?) AND json_array_length(i.sensitivity) > 0 '
        "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id "
        "AND a.worker_id = ?) LIMIT ?", (project.id, True, False, worker_id, HELD_BACK_SAMPLE))
    limited = {h.category: h for h in gate.limit_hits}
    by_limit: set[str] = set()
    by_opt_out: set[str] = set()
    by_break = False
    for (raw,) in rows:
        tags = set(sql.load(raw) or [])
        if tags & gate.opted_out:
            by_opt_out |= tags & gate.opted_out
        elif tags & limited.keys():
            by_limit |= tags & limited.keys()
        elif gate.break_until is not None:
            by_break = True
    parts = []
    zone = zone_of(gate.zone)
    for category in sorted(by_limit):
        hit = limited[category]
        parts.append(f"You reached today's limit of {hit.limit} {hit.unit} of {category} in "
                     f"this project; more come after midnight (00:00 {gate.zone}).")
    if by_break and gate.break_until is not None:
        back = gate.break_until.astimezone(zone).strftime("%H:%M")
        parts.append(f"Time for a break: you have seen {gate.run} sensitive items in a row. "
                     f"Sensitive items come back at {back} {gate.zone}.")
    if by_opt_out:
        parts.append(f"The items left here are of categories you opted out of "
                     f"({', '.join(sorted(by_opt_out))}); opting out never affects your score "
                     "or access, and you can opt back in at any time.")
    if not parts:
        return None
    if by_limit or by_break:
        parts.append("Other items continue when there are any.")
    return " ".join(parts)


# ------------------------------------------------------------------ recording exposure
def record_exposure(conn: Connection, project_id: int, worker_id: int, item_id: int,
                    tags: list[str], seconds: float | None, *, now: datetime, source: str,
                    assignment_id: int) -> None:
    """One ``exposure_events`` row per tag of an item the worker saw (answered or skipped),
    with the active seconds spent on it, and one ledger event, in the caller's transaction."""
    if not tags:
        return
    sql = Sql(conn)
    secs = float(seconds or 0.0)
    sql.many("INSERT INTO exposure_events (project_id, worker_id, item_id, category, seconds, "
             "at) VALUES (?, ?, ?, ?, ?, ?)",
             [(project_id, worker_id, item_id, tag, secs, sql.ts(now)) for tag in tags])
    ledger.append(conn, "exposure.recorded", actor=f"worker:{worker_id}", project_id=project_id,
                  body={"worker": worker_id, "item": item_id, "assignment": assignment_id,
                        "categories": sorted(tags), "seconds": round(secs, 3),
                        "source": source})


def record_skip(conn: Connection, project: Any, worker_id: int, assignment_id: int, *,
                seconds: float | None = None, now: datetime | None = None) -> bool:
    """Record the exposure of a skipped tagged item (the worker saw it). Safe to call again
    for the same skip: a retried skip records nothing twice. True when something was
    recorded."""
    now = now or utcnow()
    sql = Sql(conn)
    row = sql.first(
        "SELECT a.item_id, a.status, a.leased_at, i.sensitivity FROM assignments a "
        "JOIN items i ON i.id = a.item_id WHERE a.id = ? AND a.worker_id = ? "
        "AND a.project_id = ?", (assignment_id, worker_id, project.id))
    if row is None or row[1] != "skipped":
        return False
    tags = sql.load(row[3]) or []
    if not tags:
        return False
    seen = sql.first("SELECT 1 FROM exposure_events WHERE worker_id = ? AND category = ? "
                     "AND at >= ? AND item_id = ? LIMIT 1",
                     (worker_id, tags[0], sql.ts(sql.read_ts(row[2])), int(row[0])))
    if seen is not None:
        return False
    record_exposure(conn, project.id, worker_id, int(row[0]), tags, seconds, now=now,
                    source="skip", assignment_id=assignment_id)
    return True


# ------------------------------------------------------------------ opt-outs and time zone
def known_categories(conn: Connection) -> list[str]:
    """Every content category some project declares."""
    sql = Sql(conn)
    found: set[str] = set()
    for (raw,) in sql.all("SELECT content_categories FROM projects"):
        found.update(sql.load(raw) or [])
    return sorted(found)


def _worker_row(sql: Sql, worker_id: int) -> Any:
    row = sql.first("SELECT id, ref, opt_outs, timezone FROM workers WHERE id = ?"
                    + (" FOR UPDATE" if sql.pg else ""), (worker_id,))
    if row is None:
        raise NotFound(f"No worker with id {worker_id}.")
    return row


def worker_id_for(conn: Connection, ref: str) -> int:
    """The id of the worker known to the operator as *ref*."""
    found = Sql(conn).scalar("SELECT id FROM workers WHERE ref = ?", (ref,))
    if found is None:
        raise NotFound(f"No worker {ref!r}. `handloom worker list` shows the workers.")
    return int(found)


def set_opt_outs(conn: Connection, worker_id: int, categories: list[str], *,
                 actor: str) -> list[str]:
    """Set the categories the worker refuses (the whole list), with one ledger event per
    category opted out of or back into. Opting out never changes scores, gold rate,
    qualification or access: routing simply stops offering those items."""
    sql = Sql(conn)
    row = _worker_row(sql, worker_id)
    wanted = sorted({c.strip() for c in categories if c and c.strip()})
    known = known_categories(conn)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        listed = ", ".join(known) if known else "none yet"
        noun = "category" if len(unknown) == 1 else "categories"
        raise Invalid(f"No project declares the content {noun} {', '.join(unknown)}; the "
                      f"categories in use are: {listed}.", field="opt_outs")
    before = set(sql.load(row[2]) or [])
    if set(wanted) == before:
        return wanted
    sql.run("UPDATE workers SET opt_outs = ? WHERE id = ?", (sql.json(wanted), worker_id))
    events: list[tuple[str, str, int | None, dict[str, Any]]] = []
    for category in sorted(set(wanted) - before):
        events.append(("worker.opted_out", actor, None,
                       {"worker": worker_id, "category": category}))
    for category in sorted(before - set(wanted)):
        events.append(("worker.opted_in", actor, None,
                       {"worker": worker_id, "category": category}))
    ledger.append_many(conn, events)
    return wanted


def opt_outs_of(conn: Connection, worker_id: int) -> list[str]:
    """The categories the worker has opted out of."""
    sql = Sql(conn)
    return sorted(sql.load(_worker_row(sql, worker_id)[2]) or [])


def opt_out(conn: Connection, worker_id: int, category: str, *, actor: str) -> list[str]:
    """Opt the worker out of one more category (see :func:`set_opt_outs`)."""
    return set_opt_outs(conn, worker_id, [*opt_outs_of(conn, worker_id), category],
                        actor=actor)


def opt_in(conn: Connection, worker_id: int, category: str, *, actor: str) -> list[str]:
    """Take one category off the worker's opt-outs."""
    current = opt_outs_of(conn, worker_id)
    if category not in current:
        raise Invalid(f"The worker has not opted out of {category!r} (opted out of: "
                      f"{', '.join(current) or 'nothing'}).", field="category")
    return set_opt_outs(conn, worker_id, [c for c in current if c != category], actor=actor)


def set_timezone(conn: Connection, worker_id: int, timezone: str, *, actor: str) -> str:
    """Set the zone the worker's day is counted in (exposure limits reset at its midnight)."""
    zone = check_zone(timezone)
    sql = Sql(conn)
    row = _worker_row(sql, worker_id)
    if row[3] == zone:
        return zone
    sql.run("UPDATE workers SET timezone = ? WHERE id = ?", (zone, worker_id))
    ledger.append(conn, "worker.timezone_set", actor=actor,
                  body={"worker": worker_id, "timezone": zone, "previous": row[3]})
    return zone


# ------------------------------------------------------------------ item tags
def tag_item(conn: Connection, project: Any, external_id: str, tags: list[str], actor: str,
             *, replace: bool = True) -> list[str]:
    """Set an item's content tags (or add to them, with ``replace=False``); every tag must
    be one of the project's content categories. Returns the new tags."""
    sql = Sql(conn)
    row = sql.first("SELECT id, sensitivity FROM items WHERE project_id = ? AND external_id = ?"
                    + (" FOR UPDATE" if sql.pg else ""), (project.id, external_id))
    if row is None:
        raise NotFound(f"No item {external_id!r} in project {project.name!r}.")
    categories = list(project.content_categories or [])
    cleaned = {t.strip() for t in tags if t and t.strip()}
    unknown = sorted(cleaned - set(categories))
    if unknown:
        listed = ", ".join(categories) if categories else "none (declare content_categories)"
        raise Invalid(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a "
                      f"content category of project {project.name!r}; its categories are: "
                      f"{listed}.", field="tags")
    old = sorted(sql.load(row[1]) or [])
    new = sorted(cleaned if replace else cleaned | set(old))
    if new != old:
        sql.run("UPDATE items SET sensitivity = ? WHERE id = ?", (sql.json(new), int(row[0])))
        ledger.append(conn, "item.tagged", actor=actor, project_id=project.id,
                      body={"item": int(row[0]), "old": old, "new": new})
    return new


# ------------------------------------------------------------------ what pages show
def _bucket(rows: list[Any], sql: Sql, since: datetime) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"items": 0, "minutes": 0.0})
    for _item, category, secs, at in rows:
        if sql.read_ts(at) >= since:
            out[category]["items"] += 1
            out[category]["minutes"] += float(secs or 0.0) / 60
    return out


def worker_exposure(conn: Connection, worker_id: int, now: datetime | None = None
                    ) -> dict[str, Any]:
    """A worker's exposure today and this week per category, against each project's limits,
    with their opt-outs, time zone and any break now due."""
    now = now or utcnow()
    sql = Sql(conn)
    worker = sql.first("SELECT id, opt_outs, timezone FROM workers WHERE id = ?", (worker_id,))
    if worker is None:
        raise NotFound(f"No worker with id {worker_id}.")
    opt_outs = sorted(sql.load(worker[1]) or [])
    zone = zone_of(worker[2])
    day_start, day_end = day_bounds(now, zone)
    week = week_start(now, zone)
    # Naming the categories lets the (worker, category, at) index serve the read.
    known = known_categories(conn)
    rows = _recent(sql, worker_id, known, week) if known else []
    today = _bucket(rows, sql, day_start)
    this_week = _bucket(rows, sql, week)
    worked = {int(r[0]) for r in sql.all(
        "SELECT DISTINCT project_id FROM assignments WHERE worker_id = ?", (worker_id,))}
    projects = []
    for p in sql.all("SELECT id, name, title, status, content_categories, exposure_limits, "
                     "break_after_sensitive, break_minutes, interleave_after, support_resources "
                     "FROM projects ORDER BY name"):
        if p[3] == "open" or int(p[0]) in worked:
            projects.append(_ProjectView(int(p[0]), p[1], p[2] or p[1], p[3],
                                         sql.load(p[4]) or [], sql.load(p[5]) or {}, p[6],
                                         int(p[7] or 15), p[8], p[9] or ""))
    categories = sorted({c for p in projects for c in p.content_categories}
                        | set(opt_outs) | set(this_week))
    out_categories = []
    for category in categories:
        limits = []
        for p in projects:
            lim = p.exposure_limits.get(category)
            if not lim:
                continue
            used = today.get(category, {"items": 0, "minutes": 0.0})
            items_limit, minutes_limit = lim.get("daily_items"), lim.get("daily_minutes")
            reached = ((items_limit is not None and used["items"] >= items_limit)
                       or (minutes_limit is not None and used["minutes"] >= minutes_limit))
            limits.append({"project": p.name, "title": p.title, "daily_items": items_limit,
                           "daily_minutes": minutes_limit, "reached": reached,
                           "items_left": (None if items_limit is None
                                          else max(0, int(items_limit - used["items"]))),
                           "minutes_left": (None if minutes_limit is None else
                                            round(max(0.0, minutes_limit - used["minutes"]), 1))})
        t = today.get(category, {"items": 0, "minutes": 0.0})
        w = this_week.get(category, {"items": 0, "minutes": 0.0})
        out_categories.append({
            "category": category, "opted_out": category in opt_outs,
            "today": {"items": int(t["items"]), "minutes": round(t["minutes"], 1)},
            "week": {"items": int(w["items"]), "minutes": round(w["minutes"], 1)},
            "limits": limits})
    breaks = []
    for p in projects:
        if not p.break_after_sensitive:
            continue
        gate = gate_for(sql, p, worker_id, opt_outs, worker[2], now)
        breaks.append({"project": p.name, "title": p.title, "after": p.break_after_sensitive,
                       "minutes": p.break_minutes, "in_a_row": gate.run if gate else 0,
                       "until": (gate.break_until.isoformat()
                                 if gate and gate.break_until else None)})
    sensitive_today = len({(r[0], str(r[3])) for r in rows if sql.read_ts(r[3]) >= day_start})
    return {"worker_id": worker_id, "timezone": zone.key, "day_start": day_start.isoformat(),
            "resets_at": day_end.isoformat(), "week_start": week.isoformat(),
            "opt_outs": opt_outs, "sensitive_today": sensitive_today,
            "categories": out_categories, "breaks": breaks}


@dataclass(frozen=True)
class _ProjectView:
    id: int
    name: str
    title: str
    status: str
    content_categories: list[str]
    exposure_limits: dict[str, dict[str, int]]
    break_after_sensitive: int | None
    break_minutes: int
    interleave_after: int | None
    support_resources: str


def worker_state(conn: Connection, project: Any, worker_id: int,
                 now: datetime | None = None) -> dict[str, Any]:
    """What the workbench needs about exposure in one project: sensitive items seen today,
    any break or limit in force, and the support resources to show with a check-in."""
    now = now or utcnow()
    sql = Sql(conn)
    worker = sql.first("SELECT opt_outs, timezone FROM workers WHERE id = ?", (worker_id,))
    if worker is None:
        raise NotFound(f"No worker with id {worker_id}.")
    zone = zone_of(worker[1])
    day_start, day_end = day_bounds(now, zone)
    known = known_categories(conn)
    sensitive_today = len({int(r[0]) for r in _recent(sql, worker_id, known, day_start)}
                          ) if known else 0
    gate = gate_for(sql, project, worker_id, sql.load(worker[0]) or [], worker[1], now)
    return {
        "sensitive_today": sensitive_today,
        "timezone": zone.key,
        "resets_at": day_end.isoformat(),
        "break_until": gate.break_until.isoformat() if gate and gate.break_until else None,
        "in_a_row": gate.run if gate else 0,
        "limits_reached": [{"category": h.category, "unit": h.unit, "limit": h.limit}
                           for h in (gate.limit_hits if gate else ())],
        "opt_outs": sorted(sql.load(worker[0]) or []),
        "support_resources": project.support_resources or "",
    }


def project_exposure(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's exposure policy and, per category, what its workers have seen in it:
    counts only (tagged items, exposures, minutes, workers, opt-outs), never who."""
    sql = Sql(conn)
    categories = list(project.content_categories or [])
    tagged: dict[str, int] = defaultdict(int)
    for (raw,) in sql.all("SELECT sensitivity FROM items WHERE project_id = ? "
                          "AND json_array_length(sensitivity) > 0", (project.id,)):
        for tag in sql.load(raw) or []:
            tagged[tag] += 1
    seen = {r[0]: (int(r[1]), float(r[2] or 0.0), int(r[3])) for r in sql.all(
        "SELECT category, count(*), sum(seconds), count(DISTINCT worker_id) "
        "FROM exposure_events WHERE project_id = ? GROUP BY category", (project.id,))}
    opted: dict[str, int] = defaultdict(int)
    for (raw,) in sql.all("SELECT opt_outs FROM workers WHERE id IN (SELECT DISTINCT worker_id "
                          "FROM assignments WHERE project_id = ?)", (project.id,)):
        for category in sql.load(raw) or []:
            opted[category] += 1
    limits = project.exposure_limits or {}
    rows = []
    for category in sorted(set(categories) | set(seen)):
        n, secs, workers = seen.get(category, (0, 0.0, 0))
        lim = limits.get(category) or {}
        rows.append({"category": category, "tagged_items": tagged.get(category, 0),
                     "exposures": n, "minutes": round(secs / 60, 1), "workers": workers,
                     "opted_out_workers": opted.get(category, 0),
                     "daily_items": lim.get("daily_items"),
                     "daily_minutes": lim.get("daily_minutes")})
    return {"project": project.name,
            "policy": {"blur_sensitive": bool(project.blur_sensitive),
                       "break_after_sensitive": project.break_after_sensitive,
                       "break_minutes": project.break_minutes,
                       "interleave_after": project.interleave_after,
                       "limits": limits,
                       "support_resources": project.support_resources or ""},
            "categories": rows}
