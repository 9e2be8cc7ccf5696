"""Pay as work happens: the exact money arithmetic, a project's pay policy, the pay events
an answer or a paid stretch of time earns, clawbacks and restorations, and the figures
(money and time, paid and unpaid) that statements, payroll and floor checks are read from.

Money is integer minor units. Where pay must be rounded (an hourly rate times measured
seconds, an effective hourly figure) it is computed exactly with fractions and rounded half
up to a whole minor unit; floats never enter the arithmetic (measured seconds are taken at
their shortest decimal text, the value the client sent). The public names are re-exported
by :mod:`handloom.labor.pay`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, case, func, select

from handloom import ledger
from handloom.errors import Invalid, NotFound
from handloom.labor import floors as floor_table
from handloom.labor.floors import Floor
from handloom.store.db import inserted_id, utcnow
from handloom.store.fastsql import Sql
from handloom.store.schema import annotations as answers
from handloom.store.schema import items, pay_events, projects, time_entries
from handloom.work.projects import from_minor_units

KINDS = ("piece", "hourly", "top_up", "restored", "clawback")
# Time entries whose reason earns the hourly rate in an hourly project ("qualification" only
# when the project pays qualification time).
PAID_TIME_REASONS = ("instructions", "skipped", "wellbeing", "appeal")
# The reasons time is broken down by: answers, then the time entries' reasons.
TIME_REASONS = ("answers", "instructions", "qualification", "skipped", "rejected", "appeal",
                "wellbeing")
# A pilot: at least this many accepted answers with a measured time before their median
# replaces the project's estimated seconds per item.
PILOT_MIN_ANSWERS = 10
SECONDS_PER_HOUR = 3600


# ------------------------------------------------------------------ exact arithmetic
def exact_seconds(seconds: float | int | str | Decimal | Fraction) -> Fraction:
    """Seconds as an exact fraction; a float is taken at its shortest decimal text (what
    the client sent), never at its binary expansion."""
    if isinstance(seconds, Fraction):
        return seconds
    if isinstance(seconds, float):
        if not math.isfinite(seconds):
            raise ValueError(f"{seconds!r} is not a number of seconds")
        return Fraction(repr(seconds))
    return Fraction(seconds)


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves rounded up (towards positive infinity)."""
    return math.floor(value + Fraction(1, 2))


def hourly_amount(rate_minor: int, seconds: float | int | str | Decimal | Fraction) -> int:
    """Pay for *seconds* at *rate_minor* an hour: ``rate × seconds / 3600``, rounded half up
    to a whole minor unit."""
    return round_half_up(Fraction(rate_minor) * exact_seconds(seconds) / SECONDS_PER_HOUR)


def per_hour(amount_minor: int, seconds: float | int | str | Decimal | Fraction) -> int | None:
    """Minor units an hour for *amount_minor* earned over *seconds* (rounded half up);
    None when there is no time."""
    span = exact_seconds(seconds)
    if span <= 0:
        return None
    return round_half_up(Fraction(amount_minor) * SECONDS_PER_HOUR / span)


def due_for_time(floor_minor: int, seconds: float | int | str | Decimal | Fraction) -> int:
    """What *seconds* of work must earn at *floor_minor* an hour, rounded up to a whole minor
    unit (a floor is never undercut by rounding)."""
    return math.ceil(Fraction(floor_minor) * exact_seconds(seconds) / SECONDS_PER_HOUR)


def seconds_text(seconds: Fraction | None) -> str | None:
    """Seconds as decimal text with at most three decimals (for ledger bodies and pages)."""
    if seconds is None:
        return None
    rounded = Decimal(round_half_up(seconds * 1000)) / 1000
    return format(rounded.normalize(), "f")


def money(amount_minor: int | None, currency: str) -> str | None:
    """``USD 7.25`` for 725 (None stays None)."""
    if amount_minor is None:
        return None
    return f"{currency} {from_minor_units(amount_minor, currency)}"


# ------------------------------------------------------------------ the project's policy
@dataclass(frozen=True)
class PayPolicy:
    project_id: int
    model: str
    currency: str
    piece_rate_minor: int | None
    hourly_rate_minor: int | None
    piece_rates: dict[str, int]
    pay_qualification_time: bool
    pay_rejected_work: bool

    def piece_rate_for(self, difficulty: str | None) -> int | None:
        if difficulty is not None and difficulty in self.piece_rates:
            return self.piece_rates[difficulty]
        return self.piece_rate_minor


_POLICY_COLUMNS = ("id", "pay_model", "currency", "piece_rate_minor", "hourly_rate_minor",
                   "piece_rates", "pay_qualification_time", "pay_rejected_work")


def _policy(values: tuple[Any, ...]) -> PayPolicy:
    pid, model, currency, piece, hourly, rates, pay_qual, pay_rejected = values
    return PayPolicy(int(pid), model, currency, None if piece is None else int(piece),
                     None if hourly is None else int(hourly),
                     {str(k): int(v) for k, v in (Sql.load(rates) or {}).items()},
                     bool(pay_qual), bool(pay_rejected))


def pay_policy(conn: Connection, project: Any) -> PayPolicy:
    """The pay policy of *project* (a project row, or anything with its ``id``)."""
    if all(hasattr(project, c) for c in _POLICY_COLUMNS):
        return _policy(tuple(getattr(project, c) for c in _POLICY_COLUMNS))
    sql = Sql(conn)
    row = sql.first(f"SELECT {', '.join(_POLICY_COLUMNS)} FROM projects WHERE id = ?",
                    (int(project.id),))
    if row is None:
        raise NotFound(f"No project with id {project.id}.")
    return _policy(tuple(row))


# ------------------------------------------------------------------ pay as work happens
LedgerEvent = tuple[str, str, int | None, dict[str, Any]]


def answer_pay(policy: PayPolicy, *, difficulty: str | None, is_qualification: bool,
               active_seconds: float | None) -> tuple[str, int] | None:
    """(kind, amount) an answer earns when it is submitted, or None when it earns nothing.

    Piece: the rate of the item's difficulty if the project lists one, else the base rate.
    Hourly: the hourly rate for the answer's measured active seconds (none measured: none
    earned). A qualification-test answer earns only when the project pays that time.
    """
    if is_qualification and not policy.pay_qualification_time:
        return None
    if policy.model == "hourly":
        if policy.hourly_rate_minor is None or active_seconds is None:
            return None
        kind, amount = "hourly", hourly_amount(policy.hourly_rate_minor, active_seconds)
    else:
        rate = policy.piece_rate_for(difficulty)
        if rate is None:
            return None
        kind, amount = "piece", rate
    return (kind, amount) if amount > 0 else None


def record_answer_pay(conn: Connection, policy: PayPolicy, worker_id: int, annotation_id: int,
                      *, difficulty: str | None, is_qualification: bool,
                      active_seconds: float | None, now: datetime) -> LedgerEvent | None:
    """Write the pay event of a submitted answer; returns its ledger event for the caller
    to append (with the submission's own, in one round trip), or None when nothing is due."""
    due = answer_pay(policy, difficulty=difficulty, is_qualification=is_qualification,
                     active_seconds=active_seconds)
    if due is None:
        return None
    kind, amount = due
    sql = Sql(conn)
    event_id = sql.insert(
        "INSERT INTO pay_events (project_id, worker_id, kind, amount_minor, currency, "
        "annotation_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (policy.project_id, worker_id, kind, amount, policy.currency, annotation_id,
         "qualification answer" if is_qualification else "answer", sql.ts(now)))
    return ("pay.recorded", f"worker:{worker_id}", policy.project_id,
            {"pay_event": event_id, "worker": worker_id, "kind": kind, "amount_minor": amount,
             "currency": policy.currency, "annotation": annotation_id})


def record_time_pay(conn: Connection, project_id: int, worker_id: int, entry_id: int,
                    reason: str, seconds: float) -> int:
    """In an hourly project, pay a time entry whose reason is paid; returns the amount
    (0: nothing written)."""
    policy = pay_policy(conn, _Ref(project_id))
    paid = reason in PAID_TIME_REASONS or (reason == "qualification"
                                           and policy.pay_qualification_time)
    if policy.model != "hourly" or policy.hourly_rate_minor is None or not paid:
        return 0
    amount = hourly_amount(policy.hourly_rate_minor, seconds)
    if amount <= 0:
        return 0
    event_id = inserted_id(conn.execute(pay_events.insert().values(
        project_id=project_id, worker_id=worker_id, kind="hourly", amount_minor=amount,
        currency=policy.currency, time_entry_id=entry_id, reason=reason,
        created_at=utcnow())))
    ledger.append(conn, "pay.recorded", actor=f"worker:{worker_id}", project_id=project_id,
                  body={"pay_event": event_id, "worker": worker_id, "kind": "hourly",
                        "amount_minor": amount, "currency": policy.currency,
                        "time_entry": entry_id, "reason": reason})
    return amount


@dataclass(frozen=True)
class _Ref:
    id: int


# ------------------------------------------------------------------ rejection and appeal
def pay_for_rejection(project: Any, fraud: bool) -> bool:
    """Whether rejected work stays paid: yes, unless the reviewer confirmed fraud or the
    project does not pay rejected work."""
    return not fraud and bool(project.pay_rejected_work)


def _annotation_owner(conn: Connection, project: Any, annotation_id: int) -> int:
    worker_id = conn.execute(select(answers.c.worker_id).where(
        answers.c.id == annotation_id, answers.c.project_id == project.id)).scalar()
    if worker_id is None:
        raise NotFound(f"No annotation {annotation_id} in project {project.name!r}.")
    return int(worker_id)


def _sum_for_annotation(conn: Connection, annotation_id: int, kind: str | None = None) -> int:
    cond = [pay_events.c.annotation_id == annotation_id]
    if kind is not None:
        cond.append(pay_events.c.kind == kind)
    total = conn.execute(select(func.coalesce(func.sum(pay_events.c.amount_minor), 0))
                         .where(*cond)).scalar_one()
    return int(total)


def clawback_annotation(conn: Connection, project: Any, annotation_id: int, *, reason: str,
                        actor: str) -> int:
    """Take back what an annotation has earned net so far (a negative ``clawback`` event);
    returns the amount clawed back (0: nothing had been earned, nothing written)."""
    worker_id = _annotation_owner(conn, project, annotation_id)
    net = _sum_for_annotation(conn, annotation_id)
    if net <= 0:
        return 0
    event_id = inserted_id(conn.execute(pay_events.insert().values(
        project_id=project.id, worker_id=worker_id, kind="clawback", amount_minor=-net,
        currency=project.currency, annotation_id=annotation_id, reason=reason[:2000],
        created_at=utcnow())))
    ledger.append(conn, "pay.clawed_back", actor=actor, project_id=project.id,
                  body={"pay_event": event_id, "annotation": annotation_id, "worker": worker_id,
                        "amount_minor": -net, "currency": project.currency})
    return net


def restore_annotation(conn: Connection, project: Any, annotation_id: int, *,
                       appeal_id: int | None, actor: str) -> int:
    """Give back the clawbacks of an annotation not yet restored (a positive ``restored``
    event); returns the amount (0: nothing to restore, nothing written)."""
    worker_id = _annotation_owner(conn, project, annotation_id)
    clawed = -_sum_for_annotation(conn, annotation_id, "clawback")
    restored = _sum_for_annotation(conn, annotation_id, "restored")
    amount = clawed - restored
    if amount <= 0:
        return 0
    event_id = inserted_id(conn.execute(pay_events.insert().values(
        project_id=project.id, worker_id=worker_id, kind="restored", amount_minor=amount,
        currency=project.currency, annotation_id=annotation_id, appeal_id=appeal_id,
        reason=f"restored by appeal #{appeal_id}" if appeal_id else "restored",
        created_at=utcnow())))
    ledger.append(conn, "pay.restored", actor=actor, project_id=project.id,
                  body={"pay_event": event_id, "annotation": annotation_id, "worker": worker_id,
                        "amount_minor": amount, "currency": project.currency,
                        "appeal": appeal_id})
    return amount


# ------------------------------------------------------------------ figures per worker
@dataclass
class Figures:
    """Money and time of one worker in one project over a period."""

    project_id: int
    worker_id: int
    amounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    answers: int = 0
    answers_paid: int = 0
    answers_without_time: int = 0
    paid: dict[str, Fraction] = field(default_factory=dict)
    unpaid: dict[str, Fraction] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    @property
    def paid_seconds(self) -> Fraction:
        return sum(self.paid.values(), Fraction(0))

    @property
    def unpaid_seconds(self) -> Fraction:
        return sum(self.unpaid.values(), Fraction(0))

    @property
    def active_seconds(self) -> Fraction:
        return self.paid_seconds + self.unpaid_seconds

    def add_time(self, paid: bool, reason: str, seconds: Fraction) -> None:
        bucket = self.paid if paid else self.unpaid
        bucket[reason] = bucket.get(reason, Fraction(0)) + seconds


def _period(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    cond = []
    if since is not None:
        cond.append(column >= since)
    if until is not None:
        cond.append(column < until)
    return cond


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def collect(conn: Connection, *, worker_id: int | None = None, project_id: int | None = None,
            since: datetime | None = None, until: datetime | None = None
            ) -> dict[tuple[int, int], Figures]:
    """Money and time per (project, worker), from pay events, answers and time entries in
    the period (``since`` inclusive, ``until`` exclusive), in three grouped queries.

    An answer's time is paid when the answer has earned something net (so a rejected answer
    whose pay was clawed back, or one in a project without a rate, is unpaid time); a time
    entry's time is paid when it earned an hourly amount.
    """
    out: dict[tuple[int, int], Figures] = {}

    def row_for(pid: int, wid: int) -> Figures:
        key = (int(pid), int(wid))
        if key not in out:
            out[key] = Figures(*key)
        return out[key]

    def scope(table: Any) -> list[Any]:
        cond = []
        if worker_id is not None:
            cond.append(table.c.worker_id == worker_id)
        if project_id is not None:
            cond.append(table.c.project_id == project_id)
        return cond

    pe = pay_events.c
    for r in conn.execute(
            select(pe.project_id, pe.worker_id, pe.kind, func.sum(pe.amount_minor))
            .where(*scope(pay_events), *_period(pe.created_at, since, until))
            .group_by(pe.project_id, pe.worker_id, pe.kind)):
        figures = row_for(r[0], r[1])
        figures.amounts[r[2]] = figures.amounts.get(r[2], 0) + int(r[3])

    net = (select(pe.annotation_id, func.sum(pe.amount_minor).label("net"))
           .where(pe.annotation_id.isnot(None), *scope(pay_events))
           .group_by(pe.annotation_id).subquery())
    a = answers.c
    # Flags are computed per row in a subquery and grouped outside it: PostgreSQL does not
    # see two CASE expressions with separately bound parameters as the same grouping.
    per_answer = (
        select(a.project_id, a.worker_id, a.active_seconds,
               _flag(items.c.is_qualification.is_(True)).label("test"),
               _flag(a.review_status == "rejected").label("rejected"),
               _flag(func.coalesce(net.c.net, 0) > 0).label("paid"))
        .select_from(answers.join(items, items.c.id == a.item_id)
                     .outerjoin(net, net.c.annotation_id == a.id))
        .where(*scope(answers), *_period(a.submitted_at, since, until)).subquery())
    q = per_answer.c
    for ar in conn.execute(
            select(q.project_id, q.worker_id, q.test, q.rejected, q.paid, func.count(),
                   func.sum(func.coalesce(q.active_seconds, 0.0)),
                   func.sum(_flag(q.active_seconds.is_(None))))
            .group_by(q.project_id, q.worker_id, q.test, q.rejected, q.paid)):
        figures = row_for(ar[0], ar[1])
        test, rejected, paid, count = bool(ar[2]), bool(ar[3]), bool(ar[4]), int(ar[5])
        figures.answers += count
        figures.answers_paid += count if paid else 0
        figures.answers_without_time += int(ar[7] or 0)
        reason = ("qualification" if test else "answers") if paid else (
            "qualification" if test else "rejected" if rejected else "answers")
        figures.add_time(paid, reason, exact_seconds(float(ar[6] or 0.0)))

    earned = (select(pe.time_entry_id, func.sum(pe.amount_minor).label("amount"))
              .where(pe.time_entry_id.isnot(None), *scope(pay_events))
              .group_by(pe.time_entry_id).subquery())
    t = time_entries.c
    per_entry = (
        select(t.project_id, t.worker_id, t.reason, t.seconds,
               _flag(func.coalesce(earned.c.amount, 0) > 0).label("paid"))
        .select_from(time_entries.outerjoin(earned, earned.c.time_entry_id == t.id))
        .where(*scope(time_entries), *_period(t.recorded_at, since, until)).subquery())
    e = per_entry.c
    for tr in conn.execute(
            select(e.project_id, e.worker_id, e.reason, e.paid, func.sum(e.seconds))
            .group_by(e.project_id, e.worker_id, e.reason, e.paid)):
        row_for(tr[0], tr[1]).add_time(bool(tr[3]), tr[2], exact_seconds(float(tr[4] or 0.0)))
    return out


def effective_hourly_pay(conn: Connection, *, worker_id: int | None = None,
                         project_id: int | None = None, since: datetime | None = None,
                         until: datetime | None = None) -> int | None:
    """Minor units earned per hour of work (rounded half up): the pay events in the period
    over all the work time in it, the unpaid kinds included. None when there is no time.

    Per worker, per project or both; across projects the projects must share a currency.
    """
    figures = collect(conn, worker_id=worker_id, project_id=project_id, since=since,
                      until=until)
    if not figures:
        return None
    currencies = set(conn.execute(select(projects.c.currency).where(
        projects.c.id.in_({pid for pid, _ in figures}))).scalars())
    if len(currencies) > 1:
        raise Invalid("These projects pay in different currencies "
                      f"({', '.join(sorted(currencies))}); ask per project.", field="project")
    total = sum(f.total for f in figures.values())
    seconds = sum((f.active_seconds for f in figures.values()), Fraction(0))
    return per_hour(total, seconds)


# ------------------------------------------------------------------ floors for people
def worker_floor(conn: Connection, project: Any, jurisdiction: str | None,
                 on: date | None = None) -> Floor | None:
    """The floor a worker's pay in *project* is held to: their own jurisdiction's when the
    project recruits there; else the highest floor among the jurisdictions it recruits from;
    for a project that names none, the worker's own jurisdiction's (if it has one)."""
    recruits = [j.upper() for j in (project.recruit_jurisdictions or [])]
    own = (jurisdiction or "").upper()
    if own and own in recruits:
        return floor_table.floor_for(conn, own, project.currency, on)
    found = [f for f in floor_table.floors_for(conn, recruits, project.currency, on).values()
             if f is not None]
    if found:
        return max(found, key=lambda f: f.hourly_minor)
    if own and not recruits:
        return floor_table.floor_for(conn, own, project.currency, on)
    return None


def floor_dict(floor: Floor | None) -> dict[str, Any] | None:
    return None if floor is None else floor.to_dict()


def time_dict(f: Figures) -> dict[str, Any]:
    def seconds(x: Fraction) -> float:
        return float(round(x, 3))

    return {"active_seconds": seconds(f.active_seconds),
            "paid_seconds": seconds(f.paid_seconds),
            "unpaid_seconds": seconds(f.unpaid_seconds),
            "paid_by_reason": {r: seconds(f.paid[r]) for r in TIME_REASONS if r in f.paid},
            "unpaid_by_reason": {r: seconds(f.unpaid[r]) for r in TIME_REASONS
                                 if r in f.unpaid}}
