"""Properties of the pay arithmetic: money in integer minor units round-trips, hourly pay is
rounded half up exactly (no float ever decides a cent), a floor is never undercut by
rounding, and for random scenarios of work the workers' statements sum to the payroll
report, kind by kind (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import add_workers, import_rows, make_project, text_items
from handloom.labor import pay, timekeeping
from handloom.store.db import Store
from handloom.store.schema import annotations, pay_events
from handloom.work import projects
from handloom.work.projects import MAX_MINOR_UNITS, from_minor_units, to_minor_units
from handloom.work.routing import close_lease, next_item
from handloom.work.submissions import submit_answer

CURRENCIES = st.sampled_from(["USD", "EUR", "KES", "JPY", "PHP"])
# Seconds as a client sends them: decimals with up to three places (read back as floats).
SECONDS = st.decimals(min_value=0, max_value=14400, places=3, allow_nan=False,
                      allow_infinity=False)
RATES = st.integers(min_value=1, max_value=10**7)


@given(minor=st.integers(min_value=0, max_value=MAX_MINOR_UNITS), currency=CURRENCIES)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    text = from_minor_units(minor, currency)
    assert to_minor_units(text, currency) == minor
    assert isinstance(to_minor_units(text, currency), int)


@given(amount=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False,
                          allow_infinity=False))
def test_major_units_round_trip(amount: Decimal) -> None:
    minor = to_minor_units(str(amount), "USD")
    assert Decimal(from_minor_units(minor, "USD")) == amount


def half_up_by_decimal(rate: int, seconds: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 80
        exact = Decimal(rate) * seconds / Decimal(3600)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(rate=RATES, seconds=SECONDS)
def test_hourly_pay_is_the_exact_half_up_rounding(rate: int, seconds: Decimal) -> None:
    as_float = float(seconds)
    amount = pay.hourly_amount(rate, as_float)
    assert isinstance(amount, int)
    # the float the database hands back gives the same cent as the decimal the client sent
    assert amount == pay.hourly_amount(rate, str(seconds)) == half_up_by_decimal(rate, seconds)
    exact = Fraction(rate) * Fraction(str(seconds)) / 3600
    assert -Fraction(1, 2) < amount - exact <= Fraction(1, 2)


@given(rate=st.integers(min_value=1, max_value=10**6), k=st.integers(min_value=0, max_value=10**4))
def test_exact_halves_round_up(rate: int, k: int) -> None:
    # seconds chosen so that rate × seconds / 3600 is exactly k + 1/2
    seconds = Fraction(3600 * (2 * k + 1), 2 * rate)
    assert pay.hourly_amount(rate, seconds) == k + 1
    assert pay.round_half_up(Fraction(2 * k + 1, 2)) == k + 1
    assert pay.round_half_up(Fraction(-(2 * k + 1), 2)) == -k


@given(floor=RATES, seconds=SECONDS.filter(lambda s: s > 0))
def test_what_time_is_due_never_undercuts_the_floor(floor: int, seconds: Decimal) -> None:
    due = pay.due_for_time(floor, float(seconds))
    exact = Fraction(floor) * Fraction(str(seconds)) / 3600
    assert due >= exact and due - exact < 1
    hourly = pay.per_hour(due, float(seconds))
    assert hourly is not None and hourly >= floor


@given(amount=st.integers(min_value=-10**9, max_value=10**9), seconds=SECONDS)
def test_per_hour_is_half_up_or_none(amount: int, seconds: Decimal) -> None:
    got = pay.per_hour(amount, float(seconds))
    if seconds == 0:
        assert got is None
        return
    exact = Fraction(amount) * 3600 / Fraction(str(seconds))
    assert got == math.floor(exact + Fraction(1, 2))


# ------------------------------------------------------------------ statements sum to payroll
ACTION = st.one_of(
    st.tuples(st.just("answer"), st.one_of(st.none(), SECONDS.map(float))),
    st.tuples(st.just("skip"), SECONDS.map(float)),
    st.tuples(st.just("instructions"), SECONDS.map(float)),
    st.tuples(st.just("reject"), st.booleans()),
    st.tuples(st.just("restore"), st.just(0)),
)
SCENARIO = st.fixed_dictionaries({
    "model": st.sampled_from(["piece", "hourly"]),
    "rate": st.integers(min_value=0, max_value=5000),
    "pay_rejected_work": st.booleans(),
    "workers": st.lists(st.lists(ACTION, max_size=8), min_size=1, max_size=3),
})
_serial = itertools.count()


def play(store: Store, scenario: dict[str, Any]) -> tuple[Any, list[int]]:
    """Create a fresh project and let each worker act out their list of actions."""
    n = next(_serial)
    name = f"prop-{n}"
    rate = from_minor_units(scenario["rate"], "USD")
    spec = {"model": scenario["model"], "pay_rejected_work": scenario["pay_rejected_work"],
            ("piece_rate" if scenario["model"] == "piece" else "hourly_rate"): rate}
    if scenario["rate"] == 0:
        spec.pop("piece_rate", None)
        spec.pop("hourly_rate", None)
    lists = scenario["workers"]
    with store.write() as conn:
        make_project(conn, name, overlap=len(lists), pay=spec)
        workers = add_workers(conn, len(lists), prefix=f"{name}-w")
    import_rows(store, name, text_items(max(len(a) for a in lists) + 1, prefix=name))
    for worker, actions in zip(workers, lists, strict=True):
        answered: list[int] = []
        for kind, value in actions:
            with store.write() as conn:
                row = projects.get_project(conn, name)
                if kind in ("answer", "skip"):
                    lease = next_item(conn, row, worker)
                    assert lease is not None
                    if kind == "answer":
                        answered.append(submit_answer(
                            conn, row, projects.kind_of(row), worker, lease.assignment_id,
                            {"label": "toxic"}, idempotency_key=f"{name}-{lease.assignment_id}",
                            active_seconds=value).annotation_id)
                    else:
                        close_lease(conn, row, worker, lease.assignment_id, status="skipped",
                                    active_seconds=value)
                elif kind == "instructions":
                    timekeeping.record(conn, row.id, worker, "instructions", value, ref_id=1)
                elif kind == "reject" and answered:
                    conn.execute(annotations.update().where(annotations.c.id == answered[-1])
                                 .values(review_status="rejected", fraud=bool(value)))
                    if not pay.pay_for_rejection(row, bool(value)):
                        pay.clawback_annotation(conn, row, answered[-1], reason="test",
                                                actor="test")
                elif kind == "restore" and answered:
                    pay.restore_annotation(conn, row, answered[-1], appeal_id=None,
                                           actor="test")
    with store.read() as conn:
        return projects.get_project(conn, name), workers


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=SCENARIO)
def test_statements_sum_to_the_payroll_report(store: Store, scenario: dict[str, Any]) -> None:
    project, workers = play(store, scenario)
    with store.read() as conn:
        report = pay.payroll(conn, project)
        statements = [pay.statement(conn, w, project_id=project.id) for w in workers]
        in_db = {k: int(v) for k, v in conn.execute(
            select(pay_events.c.kind, func.sum(pay_events.c.amount_minor))
            .where(pay_events.c.project_id == project.id).group_by(pay_events.c.kind))}
    entries = [e for s in statements for e in s["projects"]]
    assert len(entries) == len(report["rows"])
    assert sum(e["total_minor"] for e in entries) == report["total_minor"]
    assert report["total_minor"] == sum(in_db.values())
    for kind in pay.KINDS:
        assert sum(e["amounts_minor"][kind] for e in entries) == report["by_kind_minor"][kind]
        assert report["by_kind_minor"][kind] == in_db.get(kind, 0)
    by_total = sorted(r["total_minor"] for r in report["rows"])
    assert by_total == sorted(e["total_minor"] for e in entries)
    for entry in entries:
        time = entry["time"]
        assert abs(time["paid_seconds"] + time["unpaid_seconds"] - time["active_seconds"]) < 0.01
        assert entry["total_minor"] == sum(entry["amounts_minor"].values())
        assert all(isinstance(v, int) for v in entry["amounts_minor"].values())
