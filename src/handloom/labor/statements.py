"""Statements and payroll: one worker's pay and time per project, and a project's payroll,
both read from the same figures (:func:`handloom.labor.earnings.collect`) so that the
statements of a project's workers always sum to its payroll.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid, NotFound
from handloom.labor.earnings import (
    KINDS,
    TIME_REASONS,
    Figures,
    collect,
    floor_dict,
    per_hour,
    time_dict,
    worker_floor,
)
from handloom.labor.floors import Floor
from handloom.labor.payouts import Paid, paid_figures, payout_dict
from handloom.store.db import as_utc, utcnow
from handloom.store.schema import projects, workers
from handloom.work.projects import from_minor_units


def _entry(f: Figures, project: Any, floor: Floor | None,
           paid: Paid | None = None) -> dict[str, Any]:
    """One worker's figures in one project, as statements and the payroll show them (with
    what of it has been paid out, and what is still owed)."""
    currency = project.currency
    total = f.total
    hourly = per_hour(total, f.active_seconds)
    notes = []
    if project.pay_model == "hourly" and f.answers_without_time:
        notes.append(f"{f.answers_without_time} answer(s) came without a measured time and "
                     "earned nothing by the hour.")
    if floor is not None and floor.is_example:
        notes.append(f"The floor for {floor.jurisdiction} is an example value shipped with "
                     "Handloom, not one the operator has confirmed.")
    at_or_above = None if floor is None or hourly is None else hourly >= floor.hourly_minor
    return {
        "project": project.name, "title": project.title, "currency": currency,
        "pay_model": project.pay_model,
        "answers": f.answers, "answers_paid": f.answers_paid,
        "answers_without_time": f.answers_without_time,
        "amounts_minor": {k: f.amounts.get(k, 0) for k in KINDS},
        "amounts": {k: from_minor_units(f.amounts.get(k, 0), currency) for k in KINDS},
        "total_minor": total, "total": from_minor_units(total, currency),
        "time": time_dict(f),
        "effective_hourly_minor": hourly,
        "effective_hourly": None if hourly is None else from_minor_units(hourly, currency),
        "floor": floor_dict(floor), "at_or_above_floor": at_or_above, "notes": notes,
        **payout_dict(total, paid, currency),
    }


def _paid_and_owed(total_minor: int, paid_minor: int, currency: str) -> dict[str, Any]:
    figures = payout_dict(total_minor, Paid(paid_minor), currency)
    del figures["last_paid_at"]
    return figures


def _projects_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {int(r.id): r for r in conn.execute(select(projects).where(projects.c.id.in_(wanted)))}


def period(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole days as a period: from the start of *since* to the end of *until* (UTC), both
    days included."""
    if since is not None and until is not None and since > until:
        raise Invalid(f"The period starts ({since}) after it ends ({until}).", field="since")
    start = None if since is None else datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = None
    if until is not None and until < date.max:
        end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return start, end


def _floor_day(until: datetime | None) -> date:
    return (as_utc(until) - timedelta(microseconds=1)).date() if until else utcnow().date()


# ------------------------------------------------------------------ statement
def statement(conn: Connection, worker_id: int, *, project_id: int | None = None,
              since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """What one worker earned and worked, per project, over a period (``since`` inclusive,
    ``until`` exclusive): amounts by kind, total, time (active, paid, unpaid by reason),
    effective hourly pay and the floor it is held to."""
    worker = conn.execute(select(workers.c.id, workers.c.ref, workers.c.jurisdiction)
                          .where(workers.c.id == worker_id)).first()
    if worker is None:
        raise NotFound(f"No worker with id {worker_id}.")
    figures = collect(conn, worker_id=worker_id, project_id=project_id, since=since,
                      until=until)
    paid = paid_figures(conn, worker_id=worker_id, project_id=project_id, since=since,
                        until=until)
    rows = _projects_by_id(conn, (pid for pid, _ in figures))
    day = _floor_day(until)
    entries = []
    totals: dict[str, int] = defaultdict(int)
    paid_totals: dict[str, int] = defaultdict(int)
    time_total = Figures(0, worker_id)
    for (pid, _wid), f in sorted(figures.items()):
        project = rows[pid]
        entries.append(_entry(f, project, worker_floor(conn, project, worker.jurisdiction, day),
                              paid.get((pid, worker_id))))
        totals[project.currency] += f.total
        paid_totals[project.currency] += entries[-1]["paid_minor"]
        for reason, seconds in f.paid.items():
            time_total.add_time(True, reason, seconds)
        for reason, seconds in f.unpaid.items():
            time_total.add_time(False, reason, seconds)
    return {
        "worker_ref": worker.ref, "jurisdiction": worker.jurisdiction,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "projects": entries,
        "totals": [{"currency": c, "total_minor": m, "total": from_minor_units(m, c),
                    **_paid_and_owed(m, paid_totals[c], c)}
                   for c, m in sorted(totals.items())],
        "time": time_dict(time_total),
    }


def worker_pay(conn: Connection, worker_id: int, *, project_id: int | None = None,
               since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """The worker's own pay page: their statement (earnings per project with effective
    hourly pay against the floor) and their time over all projects."""
    return statement(conn, worker_id, project_id=project_id, since=since, until=until)


# ------------------------------------------------------------------ payroll
REPORT_COLUMNS = (
    "project", "worker", "currency", "pay_model", "answers", "answers_paid",
    "answers_without_time", *(f"{k}_minor" for k in KINDS), "total_minor", "total",
    "active_seconds", "paid_seconds", "unpaid_seconds",
    *(f"unpaid_{r}_seconds" for r in TIME_REASONS),
    "effective_hourly_minor", "floor_jurisdiction", "floor_minor", "floor_is_example",
    "at_or_above_floor", "paid_minor", "owed_minor", "last_paid_at",
)


def _flat(entry: dict[str, Any], who: str) -> dict[str, Any]:
    time = entry["time"]
    floor = entry["floor"] or {}
    row: dict[str, Any] = {
        "project": entry["project"], "worker": who, "currency": entry["currency"],
        "pay_model": entry["pay_model"], "answers": entry["answers"],
        "answers_paid": entry["answers_paid"],
        "answers_without_time": entry["answers_without_time"],
        **{f"{k}_minor": entry["amounts_minor"][k] for k in KINDS},
        "total_minor": entry["total_minor"], "total": entry["total"],
        "active_seconds": time["active_seconds"], "paid_seconds": time["paid_seconds"],
        "unpaid_seconds": time["unpaid_seconds"],
        **{f"unpaid_{r}_seconds": time["unpaid_by_reason"].get(r, 0.0) for r in TIME_REASONS},
        "effective_hourly_minor": entry["effective_hourly_minor"],
        "floor_jurisdiction": floor.get("jurisdiction"), "floor_minor": floor.get("hourly_minor"),
        "floor_is_example": floor.get("is_example"),
        "at_or_above_floor": entry["at_or_above_floor"],
        "paid_minor": entry["paid_minor"], "owed_minor": entry["owed_minor"],
        "last_paid_at": entry["last_paid_at"],
    }
    return row


def payroll(conn: Connection, project: Any, *, since: datetime | None = None,
            until: datetime | None = None, reveal_refs: bool = False,
            actor: str = "system") -> dict[str, Any]:
    """The payroll of a project: one row per worker (the same figures as each worker's
    statement) and the totals. Workers appear by their pseudonym in this project; with
    *reveal_refs* by the operator's own reference, and a ``pay.refs_revealed`` ledger event
    records who asked (so *conn* must then be a write connection)."""
    figures = collect(conn, project_id=project.id, since=since, until=until)
    paid = paid_figures(conn, project_id=project.id, since=since, until=until)
    ids = [wid for _pid, wid in figures]
    people = {int(r.id): r for r in conn.execute(
        select(workers.c.id, workers.c.ref, workers.c.jurisdiction)
        .where(workers.c.id.in_(ids)))} if ids else {}
    day = _floor_day(until)
    rows = []
    for (_pid, wid), f in figures.items():
        person = people[wid]
        who = person.ref if reveal_refs else pseudonym(project.pseudonym_secret, wid)
        entry = _entry(f, project, worker_floor(conn, project, person.jurisdiction, day),
                       paid.get((project.id, wid)))
        rows.append(_flat(entry, who))
    rows.sort(key=lambda r: str(r["worker"]))
    total = sum(int(r["total_minor"]) for r in rows)
    paid_total = sum(int(r["paid_minor"]) for r in rows)
    by_kind = {k: sum(int(r[f"{k}_minor"]) for r in rows) for k in KINDS}
    if reveal_refs:
        ledger.append(conn, "pay.refs_revealed", actor=actor, project_id=project.id,
                      body={"project": project.id, "workers": len(rows),
                            "since": since.isoformat() if since else None,
                            "until": until.isoformat() if until else None})
    return {"project": project.name, "currency": project.currency,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "workers_shown_as": "ref" if reveal_refs else "pseudonym",
            "rows": rows, "total_minor": total,
            "total": from_minor_units(total, project.currency),
            **payout_dict(total, Paid(paid_total, last_paid_at=max(
                (p.last_paid_at for p in paid.values() if p.last_paid_at), default=None)),
                project.currency),
            "by_kind_minor": by_kind}


def payroll_csv(report: dict[str, Any]) -> str:
    """The payroll rows as CSV with a header (amounts in minor units, and the total also in
    major units)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in report["rows"]:
        cells = {k: "" if row[k] is None else row[k] for k in REPORT_COLUMNS}
        # A revealed ref is the operator's own text: keep a spreadsheet from reading a
        # formula into it.
        if str(cells["worker"])[:1] in ("=", "+", "-", "@"):
            cells["worker"] = "'" + str(cells["worker"])
        writer.writerow(cells)
    return out.getvalue()
