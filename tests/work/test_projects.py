"""Project specs, creation, money, instruction versions, status and progress counts."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from factories import (
    EXAMPLES,
    add_workers,
    answer_all,
    import_rows,
    make_project,
    text_items,
)
from handloom import ledger
from handloom.errors import Conflict, HandloomError, Invalid, NotFound
from handloom.labor import floors, guidelines
from handloom.store.db import Store
from handloom.store.schema import instruction_versions, ledger_events, projects
from handloom.work import accounts
from handloom.work import projects as svc
from handloom.work.projects import (
    MAX_MINOR_UNITS,
    from_minor_units,
    parse_spec,
    to_minor_units,
)
from handloom.work.routing import next_item

ISSUE_TOML = '''
name = "toxicity"
kind = "classification"
overlap = 3
labels = ["toxic", "not_toxic", "unsure"]
instructions = """
Mark a comment **toxic** when it attacks a person or a group.
"""
'''


def events(store: Store, name: str) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(ledger_events).where(ledger_events.c.event == name)
                                 .order_by(ledger_events.c.seq)))


def spec_error(store: Store, raw: dict[str, Any]) -> HandloomError:
    """The error a bad spec gives, whether parsing or creating the project refuses it."""
    with pytest.raises(HandloomError) as info, store.write() as conn:
        svc.create_project(conn, parse_spec(raw))
    with store.read() as conn:
        created = conn.execute(select(projects.c.id).where(projects.c.name == raw["name"]))
        assert created.first() is None, "the project was created all the same"
    return info.value


# ---------------------------------------------------------------- specs
def test_issue_spec_parses() -> None:
    spec = parse_spec(tomllib.loads(ISSUE_TOML))
    assert spec.name == "toxicity" and spec.kind == "classification" and spec.overlap == 3
    assert spec.kind_config() == {"labels": ["toxic", "not_toxic", "unsure"]}
    assert "**toxic**" in spec.instructions
    # Defaults a project owner did not have to write.
    assert spec.status == "open" and spec.gold_rate == 0.0 and spec.downstream_use == "training"
    assert spec.pay.model == "piece" and spec.pay.currency == "USD"


def test_issue_spec_creates_a_project(store: Store) -> None:
    spec = parse_spec(tomllib.loads(ISSUE_TOML))
    with store.write() as conn:
        project_id = svc.create_project(conn, spec, actor="cli", default_lease_seconds=900)
    with store.read() as conn:
        row = svc.get_project(conn, "toxicity")
        assert svc.get_project(conn, project_id).name == "toxicity"
        instr = svc.current_instructions(conn, project_id)
        described = svc.describe_project(conn, row)
    assert row.id == project_id and row.kind == "classification" and row.overlap == 3
    assert row.kind_config == {"labels": ["toxic", "not_toxic", "unsure"]}
    assert row.status == "open" and row.opened_at is not None
    assert row.lease_seconds == 900
    assert len(row.pseudonym_secret) == 64
    assert instr["version"] == 1 and "**toxic**" in instr["text"]
    assert "pseudonym_secret" not in described
    assert row.pseudonym_secret not in repr(described)
    (created,) = events(store, "project.created")
    assert created.project_id == project_id and created.actor == "cli"
    assert created.body["spec"]["name"] == "toxicity"


def test_example_spec_loads_with_pay_and_exposure(store: Store) -> None:
    spec = svc.load_spec(EXAMPLES / "toxicity" / "project.toml")
    with store.write() as conn:
        floors.import_file(conn, EXAMPLES / "pay_floors.example.csv", actor="test")
        project_id = svc.create_project(conn, spec)
        row = svc.get_project(conn, project_id)
    assert row.piece_rate_minor == 12 and row.currency == "USD"
    assert row.exposure_limits["hate"] == {"daily_items": 150, "daily_minutes": 60}
    assert set(row.content_categories) == {"hate", "harassment", "violence"}


def test_two_projects_get_different_pseudonym_secrets(store: Store) -> None:
    with store.write() as conn:
        a = make_project(conn, "a")
        b = make_project(conn, "b")
    assert a.pseudonym_secret != b.pseudonym_secret


def test_duplicate_project_name_conflicts(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, "same")
    with pytest.raises(Conflict) as info, store.write() as conn:
        make_project(conn, "same")
    assert info.value.field == "name"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Bad Name!"}, "name"),
        ({"name": ""}, "name"),
        ({"kind": "telepathy"}, "kind"),
        ({"labels": None}, "labels"),
        ({"labels": ["only-one"]}, "labels"),
        ({"overlap": 0}, "overlap"),
        ({"gold_rate": 1.5}, "gold_rate"),
        ({"downstream_use": "vibes"}, "downstream_use"),
        ({"status": "closed"}, "status"),
        ({"pay": {"model": "barter"}}, "pay.model"),
        ({"pay": {"wage": "1"}}, "pay.wage"),
        ({"exposure": {"limits": {"hate": {"daily_items": -1}}}, "content_categories": ["hate"]},
         "exposure.limits.hate.daily_items"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else None,
)
def test_bad_spec_names_the_key(change: dict[str, Any], field: str) -> None:
    raw: dict[str, Any] = {"name": "ok", "kind": "classification", "labels": ["a", "b"]}
    raw.update(change)
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(Invalid) as info:
        parse_spec(raw, source="spec.toml")
    assert info.value.field == field
    assert info.value.message.startswith(f"spec.toml: {field}")


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(Invalid) as info:
        parse_spec({"name": "x", "kind": "telepathy"})
    assert "'telepathy'" in info.value.message and "classification" in info.value.message


def test_exposure_limits_for_undeclared_category(store: Store) -> None:
    error = spec_error(store, {
        "name": "x", "kind": "classification", "labels": ["a", "b"],
        "content_categories": ["hate"],
        "exposure": {"limits": {"hate": {"daily_items": 10}, "gore": {"daily_items": 5}}},
    })
    assert isinstance(error, Invalid)
    assert error.field == "exposure.limits"
    assert "gore" in error.message and "content_categories" in error.message


def test_piece_rate_with_too_many_decimals_names_the_key(store: Store) -> None:
    error = spec_error(store, {"name": "x", "kind": "classification", "labels": ["a", "b"],
                               "pay": {"currency": "USD", "piece_rate": "0.123"}})
    assert isinstance(error, Invalid)
    assert "0.123" in error.message
    assert "pay.piece_rate" in f"{error.field} {error.message}"


@pytest.mark.parametrize("amount", ["-1", "abc", "inf", "NaN", "1e30"])
def test_impossible_piece_rate_is_refused_cleanly(store: Store, amount: str) -> None:
    error = spec_error(store, {"name": "x", "kind": "classification", "labels": ["a", "b"],
                               "pay": {"currency": "USD", "piece_rate": amount}})
    assert isinstance(error, Invalid)
    assert (error.field or "").startswith("pay")


def test_zero_decimal_currency(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "yen", pay={"currency": "jpy", "piece_rate": "15",
                                             "hourly_rate": 1200})
        described = svc.describe_project(conn, row)
    assert row.piece_rate_minor == 15 and row.hourly_rate_minor == 1200
    assert row.currency == "JPY"
    assert described["pay"]["piece_rate"] == "15"
    error = spec_error(store, {"name": "y", "kind": "classification", "labels": ["a", "b"],
                               "pay": {"currency": "JPY", "piece_rate": "1.5"}})
    assert isinstance(error, Invalid)


# ---------------------------------------------------------------- money
@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("0.12", "USD", 12), ("12", "USD", 1200), ("0.1", "EUR", 10), (3, "USD", 300),
     ("1.50", "usd", 150), ("0", "USD", 0), ("500", "JPY", 500), ("19.99", "GBP", 1999)],
)
def test_to_minor_units(amount: str | int, currency: str, minor: int) -> None:
    result = to_minor_units(amount, currency)
    assert result == minor and type(result) is int


@pytest.mark.parametrize(("amount", "currency"),
                         [("0.123", "USD"), ("0.5", "JPY"), ("-0.01", "USD"), ("twelve", "USD"),
                          ("inf", "USD"), ("-Infinity", "EUR"), ("NaN", "USD")])
def test_to_minor_units_refuses(amount: str, currency: str) -> None:
    with pytest.raises(ValueError):
        to_minor_units(amount, currency)


@pytest.mark.parametrize(("minor", "currency", "text"),
                         [(12, "USD", "0.12"), (1200, "USD", "12.00"), (5, "EUR", "0.05"),
                          (0, "USD", "0.00"), (1500, "JPY", "1500")])
def test_from_minor_units(minor: int, currency: str, text: str) -> None:
    assert from_minor_units(minor, currency) == text


@given(minor=st.integers(min_value=0, max_value=MAX_MINOR_UNITS),
       currency=st.sampled_from(["USD", "EUR", "KES", "PHP", "JPY", "KRW", "usd"]))
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    text = from_minor_units(minor, currency)
    assert isinstance(text, str)
    exponent = 0 if currency.upper() in {"JPY", "KRW"} else -2
    assert Decimal(text) == Decimal(minor).scaleb(exponent)
    back = to_minor_units(text, currency)
    assert back == minor and type(back) is int


def test_rates_beyond_the_storable_range_are_refused() -> None:
    with pytest.raises(ValueError, match="larger than any rate"):
        to_minor_units(str(MAX_MINOR_UNITS + 1), "JPY")


# ---------------------------------------------------------------- instructions
def test_instruction_versions_increment_and_are_on_the_ledger(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "instr", instructions="v1 text")
        worker = accounts.add_worker(conn, "flagger")
        issue = guidelines.flag(conn, row, worker, kind="unclear", note="Is sarcasm toxic?")
        assert svc.add_instruction_version(conn, row.id, "v2 text", change_note="sarcasm",
                                           answers_issues=[issue], actor="user:1") == 2
        assert svc.add_instruction_version(conn, row.id, "v3 text") == 3
        other = make_project(conn, "other", instructions="other v1")
    with store.read() as conn:
        instr = svc.current_instructions(conn, row.id)
        versions = conn.execute(select(instruction_versions.c.version, instruction_versions.c.text)
                                .where(instruction_versions.c.project_id == row.id)
                                .order_by(instruction_versions.c.version)).all()
        assert svc.current_instructions(conn, other.id)["version"] == 1
        assert ledger.verify(conn).ok
    assert instr["version"] == 3 and instr["text"] == "v3 text"
    assert [tuple(v) for v in versions] == [(1, "v1 text"), (2, "v2 text"), (3, "v3 text")]
    logged = [e for e in events(store, "instructions.versioned") if e.project_id == row.id]
    assert [e.body["version"] for e in logged] == [1, 2, 3]
    assert logged[1].body["change_note"] == "sarcasm"
    assert logged[1].body["answers_issues"] == [issue]
    assert logged[1].actor == "user:1"
    import hashlib

    assert logged[2].body["text_sha256"] == hashlib.sha256(b"v3 text").hexdigest()


def test_lease_records_the_current_instruction_version(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "iv", overlap=1)
        (worker,) = add_workers(conn, 1)
    import_rows(store, "iv", text_items(2))
    with store.write() as conn:
        svc.add_instruction_version(conn, row.id, "clarified")
        lease = next_item(conn, svc.get_project(conn, "iv"), worker)
    assert lease is not None and lease.instruction_version == 2


# ---------------------------------------------------------------- status and lookup
def test_set_status(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "st", status="draft")
    assert row.status == "draft" and row.opened_at is None
    for status in ("open", "paused", "closed"):
        with store.write() as conn:
            svc.set_status(conn, row.id, status, actor="user:1")
        with store.read() as conn:
            assert svc.get_project(conn, "st").status == status
    with store.read() as conn:
        assert svc.get_project(conn, "st").opened_at is not None
    changes = events(store, "project.status_changed")
    assert [e.body["status"] for e in changes] == ["open", "paused", "closed"]
    assert all(e.project_id == row.id and e.actor == "user:1" for e in changes)


def test_set_unknown_status(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "st")
    with pytest.raises(Invalid), store.write() as conn:
        svc.set_status(conn, row.id, "archived")
    assert events(store, "project.status_changed") == []


def test_set_status_of_missing_project_records_nothing(store: Store) -> None:
    """The ledger must not claim a status change that did not happen."""
    with pytest.raises(NotFound), store.write() as conn:
        svc.set_status(conn, 4242, "paused")
    assert events(store, "project.status_changed") == []


def test_get_missing_project_names_known_ones(store: Store) -> None:
    with pytest.raises(NotFound) as info, store.read() as conn:
        svc.get_project(conn, "nope")
    assert "no projects yet" in info.value.message
    with store.write() as conn:
        make_project(conn, "alpha")
    with pytest.raises(NotFound) as info, store.read() as conn:
        svc.get_project(conn, "nope")
    assert "'nope'" in info.value.message and "alpha" in info.value.message


# ---------------------------------------------------------------- summary
def test_project_summary_counts(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, "sum", overlap=2)
        workers = add_workers(conn, 3)
    import_rows(store, "sum", text_items(5) + [{"id": "g1", "text": "gold", "gold": "toxic"}])
    with store.read() as conn:
        fresh = svc.project_summary(conn, svc.get_project(conn, "sum"))
    assert fresh == {"name": "sum", "title": "sum", "kind": "classification", "status": "open",
                     "overlap": 2, "items": 5, "gold_items": 1, "done": 0, "in_progress": 0,
                     "waiting": 5, "answers": 0, "leased": 0, "workers": 0}

    # Two workers answer every item (overlap 2), then a third leases one of three new items.
    answer_all(store, "sum", workers[:2], {})
    with store.read() as conn:
        after_two = svc.project_summary(conn, svc.get_project(conn, "sum"))
    assert after_two["done"] == 5 and after_two["answers"] == 10 and after_two["workers"] == 2
    assert after_two["waiting"] == 0 and after_two["in_progress"] == 0

    import_rows(store, "sum", text_items(3, prefix="late"))
    with store.write() as conn:
        lease = next_item(conn, svc.get_project(conn, "sum"), workers[2])
    assert lease is not None and lease.external_id.startswith("late")
    with store.read() as conn:
        summary = svc.project_summary(conn, svc.get_project(conn, "sum"))
        listed = svc.list_projects(conn)
    assert summary["items"] == 8 and summary["gold_items"] == 1
    assert summary["done"] == 5 and summary["in_progress"] == 1 and summary["waiting"] == 2
    assert summary["leased"] == 1 and summary["answers"] == 10
    assert [p["name"] for p in listed] == ["sum"]
