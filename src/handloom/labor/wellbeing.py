"""Well-being check-ins: a short, private question after an exposure session (a forced break
or a daily limit) or whenever the worker chooses, shown with the project's support resources.

The answers belong to the worker: only they see them, unless they tick "share with the
project's staff". The ledger records that a check-in happened (id, trigger, shared), never
what it said, and staff figures are counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.labor import timekeeping
from handloom.store.db import utcnow
from handloom.store.fastsql import Sql

# break: a forced break started; limit: a daily limit was reached; self: the worker asked.
TRIGGERS = ("break", "limit", "self")
FEELINGS = {1: "very bad", 2: "bad", 3: "okay", 4: "good", 5: "very good"}
MAX_NOTE = 2000


def check_in(conn: Connection, project: Any, worker_id: int, *, feeling: int,
             wants_support: bool = False, note: str = "", shared: bool = False,
             trigger: str = "self", seconds: float | None = None,
             now: datetime | None = None) -> int:
    """Store a check-in and return its id. *seconds* spent on it are recorded as time of
    reason ``wellbeing`` (work time, like reading instructions)."""
    if trigger not in TRIGGERS:
        raise Invalid(f"A check-in trigger is one of {', '.join(TRIGGERS)}.", field="trigger")
    if not isinstance(feeling, int) or isinstance(feeling, bool) or feeling not in FEELINGS:
        raise Invalid("Say how you are feeling on the scale from 1 (very bad) to 5 (very good).",
                      field="feeling")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"A note may have at most {MAX_NOTE} characters (this one has "
                      f"{len(note)}).", field="note")
    now = now or utcnow()
    sql = Sql(conn)
    answers = {"feeling": feeling, "wants_support": bool(wants_support), "note": note}
    checkin_id = sql.insert(
        "INSERT INTO wellbeing_checkins (project_id, worker_id, answers, shared, trigger, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (project.id, worker_id, sql.json(answers), bool(shared), trigger, sql.ts(now)))
    # What the worker said stays out of the ledger: only that they checked in.
    ledger.append(conn, "wellbeing.checked_in", actor=f"worker:{worker_id}",
                  project_id=project.id,
                  body={"checkin": checkin_id, "worker": worker_id, "trigger": trigger,
                        "shared": bool(shared)})
    if seconds:
        timekeeping.record(conn, project.id, worker_id, "wellbeing",
                           min(float(seconds), timekeeping.MAX_ENTRY_SECONDS),
                           ref_id=checkin_id)
    return checkin_id


def feeling_label(value: Any) -> str:
    return FEELINGS.get(value, "") if isinstance(value, int) else ""


def _row(sql: Sql, r: Any) -> dict[str, Any]:
    answers = sql.load(r[4]) or {}
    return {"id": int(r[0]), "project": r[1], "title": r[2] or r[1],
            "created_at": sql.read_ts(r[3]).isoformat(), "answers": answers,
            "feeling_label": feeling_label(answers.get("feeling")),
            "shared": bool(r[5]), "trigger": r[6]}


def for_worker(conn: Connection, worker_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The worker's own check-ins, newest first, with their answers (for the worker only)."""
    sql = Sql(conn)
    rows = sql.all(
        "SELECT c.id, p.name, p.title, c.created_at, c.answers, c.shared, c.trigger "
        "FROM wellbeing_checkins c JOIN projects p ON p.id = c.project_id "
        "WHERE c.worker_id = ? ORDER BY c.id DESC LIMIT ?", (worker_id, limit))
    return [_row(sql, r) for r in rows]


def project_counts(conn: Connection, project: Any) -> dict[str, Any]:
    """How many check-ins a project's workers made, by trigger, and how many were shared:
    counts only, never answers."""
    sql = Sql(conn)
    by_trigger = dict.fromkeys(TRIGGERS, 0)
    total = shared = 0
    for trigger, n, n_shared in sql.all(
            "SELECT trigger, count(*), sum(CASE WHEN shared THEN 1 ELSE 0 END) "
            "FROM wellbeing_checkins WHERE project_id = ? GROUP BY trigger", (project.id,)):
        by_trigger[trigger] = by_trigger.get(trigger, 0) + int(n)
        total += int(n)
        shared += int(n_shared or 0)
    workers = int(sql.scalar("SELECT count(DISTINCT worker_id) FROM wellbeing_checkins "
                             "WHERE project_id = ?", (project.id,)) or 0)
    return {"total": total, "shared": shared, "workers": workers, "by_trigger": by_trigger}


def shared_with_staff(conn: Connection, project: Any, *, limit: int = 100
                      ) -> list[dict[str, Any]]:
    """The check-ins workers chose to share with this project's staff, by pseudonym."""
    sql = Sql(conn)
    rows = sql.all(
        "SELECT id, worker_id, created_at, answers, trigger FROM wellbeing_checkins "
        "WHERE project_id = ? AND shared = ? ORDER BY id DESC LIMIT ?",
        (project.id, True, limit))
    out = []
    for r in rows:
        answers = sql.load(r[3]) or {}
        out.append({"id": int(r[0]), "worker": pseudonym(project.pseudonym_secret, int(r[1])),
                    "created_at": sql.read_ts(r[2]).isoformat(), "trigger": r[4],
                    "feeling": answers.get("feeling"),
                    "feeling_label": feeling_label(answers.get("feeling")),
                    "wants_support": bool(answers.get("wants_support")),
                    "note": answers.get("note", "")})
    return out
