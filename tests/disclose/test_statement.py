"""The disclosure statement (SQLite and PostgreSQL): stated fields of both kinds change
together, only real changes reach the ledger (as SHA-256 fingerprints, never the text), k
only goes up, and every error names the field."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factories import make_project
from handloom import ledger
from handloom.disclose import statement
from handloom.errors import Invalid
from handloom.store.db import Store
from handloom.store.schema import ledger_events
from handloom.work import projects


def described_events(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "project.described").order_by(ledger_events.c.seq))
        return [json.loads(b) if isinstance(b, str) else b for (b,) in rows]


def update(store: Store, changes: dict[str, Any], name: str = "p") -> dict[str, Any]:
    with store.write() as conn:
        return statement.update_statement(conn, projects.get_project(conn, name), changes,
                                          actor="test")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_field_has_a_label_help_and_where_it_is_published() -> None:
    assert set(statement.FIELDS) == set(statement.COLUMN_FIELDS) | set(
        statement.DisclosureSpec.model_fields)
    for name in statement.FIELDS:
        assert statement.help_for(name), name
        assert statement.FEEDS[name], name
        assert statement.LABELS[name], name
    # Every Article 10(2) point has a stated field that answers it.
    points = {f for feeds in statement.FEEDS.values() for f in feeds if f.startswith("Art.")}
    assert points == {f"Art. 10(2)({p})" for p in "abcdefgh"}


def test_stated_and_changed_fields_of_both_kinds(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, purpose="Find toxic posts.", data_source="A forum dump.",
                     disclosure={"license": "CC-BY-4.0"})
    with store.read() as conn:
        first = statement.stated(projects.get_project(conn, "p"))
    assert list(first) == list(statement.FIELDS)
    assert first["purpose"] == "Find toxic posts." and first["license"] == "CC-BY-4.0"
    assert first["assumptions"] == "" and first["k"] == 5

    after = update(store, {"purpose": "Train a toxicity filter.", "assumptions": "Labels = harm.",
                           "k": "7"})
    assert after["purpose"] == "Train a toxicity filter."
    assert after["assumptions"] == "Labels = harm." and after["k"] == 7
    assert after["license"] == "CC-BY-4.0" and after["data_source"] == "A forum dump."
    with store.read() as conn:
        row = projects.get_project(conn, "p")
        assert row.purpose == "Train a toxicity filter."
        assert row.disclosure["assumptions"] == "Labels = harm." and row.disclosure["k"] == 7
        assert ledger.verify(conn).ok
    (event,) = described_events(store)
    assert event["changed"] == {"purpose": sha("Train a toxicity filter."),
                                "assumptions": sha("Labels = harm."), "k": 7}
    assert "harm" not in json.dumps(event)


def test_a_change_that_changes_nothing_writes_nothing(store: Store) -> None:
    with store.write() as conn:
        make_project(conn, purpose="Same.")
    update(store, {"purpose": "Same.", "k": 5, "license": ""})
    assert described_events(store) == []
    update(store, {"purpose": "Same.", "biases": "Few annotators from the region."})
    assert list(described_events(store)[0]["changed"]) == ["biases"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"licence": "MIT"}, "licence", "Unknown disclosure field"),
    ({"k": 4}, "k", "never lowered"),
    ({"k": "ten"}, "k", "whole number"),
    ({"k": True}, "k", "whole number"),
    ({"k": None}, "k", "whole number"),
    ({"k": 1001}, "k", "1000"),
    ({"license": "x" * 501}, "license", "500"),
    ({"assumptions": 5}, "assumptions", "must be text"),
    ({"purpose": None}, "purpose", "must be text"),
    ({"downstream_use": "marketing"}, "downstream_use", "must be one of"),
    ({"collection_timeframe": "y" * 101}, "collection_timeframe", "100"),
    ({"biases": "a\x00b"}, "biases", "NUL"),
    ({"data_source": "\x00"}, "data_source", "NUL"),
])
def test_errors_name_the_field_and_change_nothing(store: Store, changes: dict[str, Any],
                                                  field: str, words: str) -> None:
    with store.write() as conn:
        make_project(conn, disclosure={"k": 6})
    with pytest.raises(Invalid) as caught:
        update(store, {"purpose": "would change", **changes})
    assert caught.value.field == field, caught.value.message
    assert words in caught.value.message
    with store.read() as conn:
        assert statement.stated(projects.get_project(conn, "p"))["purpose"] == ""
    assert described_events(store) == []


def test_k_only_goes_up_and_reports_use_it(store: Store) -> None:
    with store.write() as conn:
        make_project(conn)
    update(store, {"k": 8})
    with store.read() as conn:
        project = projects.get_project(conn, "p")
    assert statement.report_k(project) == 8 and statement.report_k(project, 9) == 9
    with pytest.raises(Invalid):
        statement.report_k(project, 7)
    with pytest.raises(Invalid):
        update(store, {"k": 7})


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                             exclude_characters="\x00"), max_size=40)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from([f for f in statement.FIELDS
                                                if f not in ("k", "downstream_use")]),
                               TEXT, max_size=6))
def test_any_text_change_is_stored_exactly_and_recorded_once(
        store: Store, changes: dict[str, str]) -> None:
    with store.write() as conn:
        if not conn.execute(select(ledger_events.c.seq).limit(1)).first():
            make_project(conn)
        before = statement.stated(projects.get_project(conn, "p"))
    events = len(described_events(store))
    after = update(store, changes)
    assert after == {**before, **changes}
    really = {f for f, v in changes.items() if before[f] != v}
    found = described_events(store)
    if really:
        assert len(found) == events + 1
        assert found[-1]["changed"] == {f: sha(changes[f]) for f in really}
    else:
        assert len(found) == events
