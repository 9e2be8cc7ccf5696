"""The floor check when a project opens: its estimated effective hourly pay (from the
measured median of a pilot, or the estimate) against the floor of every jurisdiction it
recruits from, with the numbers and the rate that would meet the floors when it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, and_, func, select

from handloom.errors import Conflict
from handloom.labor import floors as floor_table
from handloom.labor.earnings import (
    PILOT_MIN_ANSWERS,
    SECONDS_PER_HOUR,
    due_for_time,
    exact_seconds,
    floor_dict,
    money,
    round_half_up,
    seconds_text,
)
from handloom.labor.floors import Floor
from handloom.store.schema import annotations as answers
from handloom.store.schema import items
from handloom.work.projects import from_minor_units


# ------------------------------------------------------------------ measured time
def measured_median(conn: Connection, project_id: int) -> tuple[Fraction | None, int]:
    """The median active seconds of the project's accepted answers to ordinary items
    (qualification tests left out) that have a measured time, and how many there are."""
    a = answers.c
    cond = and_(a.project_id == project_id, a.review_status == "accepted",
                a.active_seconds.isnot(None), items.c.is_qualification.is_(False))
    joined = answers.join(items, items.c.id == a.item_id)
    n = int(conn.execute(select(func.count()).select_from(joined).where(cond)).scalar_one())
    if n == 0:
        return None, 0
    middle = [exact_seconds(float(v)) for v in conn.execute(
        select(a.active_seconds).select_from(joined).where(cond)
        .order_by(a.active_seconds).limit(2 - n % 2).offset((n - 1) // 2)).scalars()]
    return sum(middle, Fraction(0)) / len(middle), n


def _rates_in_use(conn: Connection, project: Any) -> list[int]:
    """The piece rates the project pays: the base rate, and the rate of every difficulty
    its items carry (before any item is imported: every difficulty rate it lists)."""
    listed = {str(k): int(v) for k, v in (project.piece_rates or {}).items()}
    present = set(conn.execute(select(items.c.difficulty).distinct().where(
        items.c.project_id == project.id, items.c.difficulty.isnot(None))).scalars())
    rates = [] if project.piece_rate_minor is None else [int(project.piece_rate_minor)]
    rates += [rate for name, rate in listed.items() if name in present]
    if not rates and listed and not present:
        rates = list(listed.values())
    return rates


@dataclass(frozen=True)
class JurisdictionCheck:
    jurisdiction: str
    floor: Floor | None
    meets: bool | None  # None: no floor to meet

    def to_dict(self) -> dict[str, Any]:
        return {"jurisdiction": self.jurisdiction, "floor": floor_dict(self.floor),
                "meets": self.meets}


@dataclass(frozen=True)
class FloorCheck:
    """Whether a project may open: its estimated effective hourly pay against the floor of
    every jurisdiction it recruits from."""

    project: str
    currency: str
    pay_model: str
    allowed: bool
    message: str
    rate_minor: int | None = None  # lowest piece rate in use, or the hourly rate
    seconds_per_item: Fraction | None = None
    basis: str | None = None  # pilot | estimate | hourly
    pilot_answers: int = 0
    estimated_hourly_minor: int | None = None
    jurisdictions: tuple[JurisdictionCheck, ...] = ()
    suggested_rate_minor: int | None = None
    examples_used: tuple[str, ...] = ()
    field: str | None = None  # the spec key to change when refused

    def to_dict(self) -> dict[str, Any]:
        c = self.currency
        return {
            "project": self.project, "currency": c, "pay_model": self.pay_model,
            "allowed": self.allowed, "message": self.message,
            "rate_minor": self.rate_minor,
            "seconds_per_item": seconds_text(self.seconds_per_item),
            "basis": self.basis, "pilot_answers": self.pilot_answers,
            "estimated_hourly_minor": self.estimated_hourly_minor,
            "estimated_hourly": (None if self.estimated_hourly_minor is None
                                 else from_minor_units(self.estimated_hourly_minor, c)),
            "jurisdictions": [j.to_dict() for j in self.jurisdictions],
            "suggested_rate_minor": self.suggested_rate_minor,
            "suggested_rate": (None if self.suggested_rate_minor is None
                               else from_minor_units(self.suggested_rate_minor, c)),
            "examples_used": list(self.examples_used),
        }


def _time_basis(conn: Connection, project: Any) -> tuple[Fraction | None, str | None, int]:
    median, n = measured_median(conn, project.id)
    if median is not None and n >= PILOT_MIN_ANSWERS and median > 0:
        return median, "pilot", n
    if project.est_seconds_per_item:
        return Fraction(int(project.est_seconds_per_item)), "estimate", n
    return None, None, n


def _basis_words(check: FloorCheck) -> str:
    seconds = seconds_text(check.seconds_per_item)
    if check.basis == "pilot":
        return (f"{seconds} s per item, the median of {check.pilot_answers} accepted answers "
                "measured so far")
    return f"{seconds} s per item, the project's estimate (pay.est_seconds_per_item)"


IMPORT_HINT = ("Import the floor table with `handloom pay floors import FILE` (CSV or TOML; "
               "see examples/pay_floors.example.csv) or POST /api/v1/pay/floors.")


def check_open(conn: Connection, project: Any) -> FloorCheck:
    """Whether *project* may open: read-only. Its estimated effective hourly pay (the lowest
    piece rate in use × 3600 / seconds per item, rounded half up, with seconds per item the
    pilot's measured median once there are enough answers, else the estimate; or the hourly
    rate) must meet the floor in force, in the project's currency, of every jurisdiction it
    recruits from. A refusal's message says why, with the numbers and the rate that would
    meet every floor."""
    c = project.currency
    name = project.name
    recruits = list(dict.fromkeys(j.upper() for j in (project.recruit_jurisdictions or [])))
    if not recruits:
        return FloorCheck(name, c, project.pay_model, True,
                          f"Project {name} names no jurisdictions it recruits from "
                          "(pay.jurisdictions), so there is no floor to check.")
    found = floor_table.floors_for(conn, recruits, c)
    missing = [j for j in recruits if found[j] is None]
    if missing:
        return FloorCheck(
            name, c, project.pay_model, False,
            f"Project {name} cannot open: there is no pay floor in {c} for "
            f"{', '.join(missing)} in force today, so its pay cannot be checked. {IMPORT_HINT}",
            jurisdictions=tuple(JurisdictionCheck(j, found[j], None) for j in recruits),
            field="pay.jurisdictions")
    floor_list = [f for f in found.values() if f is not None]
    top = max(floor_list, key=lambda f: f.hourly_minor)
    examples = tuple(f.jurisdiction for f in floor_list if f.is_example)
    seconds: Fraction | None = None
    basis: str | None
    pilot = 0
    if project.pay_model == "hourly":
        rate = int(project.hourly_rate_minor or 0)
        estimate = rate
        basis = "hourly"
    else:
        seconds, basis, pilot = _time_basis(conn, project)
        rates = _rates_in_use(conn, project)
        rate = min(rates) if rates else 0
        if seconds is None:
            return FloorCheck(
                name, c, project.pay_model, False,
                f"Project {name} cannot open: it pays by the piece and there is no time per "
                f"item to check its pay against the floors of {', '.join(recruits)} with. Set "
                f"pay.est_seconds_per_item or run a pilot (at least {PILOT_MIN_ANSWERS} "
                "accepted answers with measured time, e.g. with the project paused).",
                rate_minor=rate, basis=None, pilot_answers=pilot,
                jurisdictions=tuple(JurisdictionCheck(j, found[j], None) for j in recruits),
                examples_used=examples, field="pay.est_seconds_per_item")
        estimate = round_half_up(Fraction(rate) * SECONDS_PER_HOUR / seconds)
    checks = tuple(JurisdictionCheck(j, found[j], estimate >= found[j].hourly_minor)  # type: ignore[union-attr]
                   for j in recruits)
    if project.pay_model == "hourly":
        suggested = top.hourly_minor
    else:
        assert seconds is not None
        suggested = due_for_time(top.hourly_minor, seconds)
    allowed = all(j.meets for j in checks)
    partial = FloorCheck(name, c, project.pay_model, allowed, "", rate, seconds, basis, pilot,
                         estimate, checks, None if allowed else suggested, examples,
                         None if allowed else ("pay.hourly_rate" if project.pay_model == "hourly"
                                               else "pay.piece_rate"))
    return FloorCheck(**{**partial.__dict__, "message": _check_message(partial, project)})


def _check_message(check: FloorCheck, project: Any) -> str:
    c = check.currency
    if check.pay_model == "hourly":
        estimate = f"It pays {money(check.rate_minor, c)} an hour."
    else:
        estimate = (f"Its estimated pay is {money(check.estimated_hourly_minor, c)} an hour: "
                    f"{money(check.rate_minor, c)} per item (the lowest piece rate in use) at "
                    f"{_basis_words(check)}.")
    lines = []
    for j in check.jurisdictions:
        floor = j.floor
        assert floor is not None
        example = " (an example value, not confirmed by the operator)" if floor.is_example else ""
        verdict = "met" if j.meets else (
            f"short by {money(floor.hourly_minor - (check.estimated_hourly_minor or 0), c)}")
        lines.append(f"{j.jurisdiction}: floor {money(floor.hourly_minor, c)} an hour from "
                     f"{floor.effective_date}, source: {floor.source}{example}; {verdict}.")
    if check.allowed:
        head = (f"Project {check.project} meets the pay floor of every jurisdiction it "
                "recruits from.")
        return " ".join([head, estimate, *lines])
    below = [j.jurisdiction for j in check.jurisdictions if not j.meets]
    head = (f"Project {check.project} cannot open: its pay is below the floor of "
            f"{', '.join(below)}.")
    if check.pay_model == "hourly":
        fix = (f"An hourly rate of {money(check.suggested_rate_minor, c)} would meet every "
               "floor; set pay.hourly_rate.")
    else:
        fix = (f"A piece rate of {money(check.suggested_rate_minor, c)} per item would meet "
               f"every floor at {seconds_text(check.seconds_per_item)} s per item; set "
               "pay.piece_rate" + (" and pay.piece_rates" if project.piece_rates else "") + ".")
    return " ".join([head, estimate, *lines, fix])


def require_open_allowed(conn: Connection, project: Any) -> FloorCheck:
    """:func:`check_open`, raising Conflict (with the check's message) when refused."""
    check = check_open(conn, project)
    if not check.allowed:
        raise Conflict(check.message, field=check.field)
    return check


def check_record(check: FloorCheck) -> dict[str, Any]:
    """The figures of a check for a ledger body (no free text)."""
    out = check.to_dict()
    out.pop("message")
    for j in out["jurisdictions"]:
        if j["floor"]:
            j["floor"].pop("note", None)
    return out
