"""Self-reported demographics (SQLite and PostgreSQL): every field optional, only the given
keys stored, changeable and erasable at any time, and the ledger names fields, never values.
Staff-facing lists never carry them."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from handloom import ledger
from handloom.errors import Invalid
from handloom.labor import demographics
from handloom.store.db import Store
from handloom.store.schema import ledger_events, workers
from handloom.web.api import labor_routes
from handloom.work import accounts


def add_worker(store: Store, ref: str = "w-1") -> int:
    with store.write() as conn:
        return accounts.add_worker(conn, ref, actor="test")


def stored(store: Store, worker_id: int) -> Any:
    with store.read() as conn:
        return conn.execute(select(workers.c.demographics).where(
            workers.c.id == worker_id)).scalar()


def events(store: Store, name: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == name).order_by(ledger_events.c.seq))
        return [json.loads(b) if isinstance(b, str) else b for (b,) in rows]


def test_the_fields_and_their_values_are_exported_as_constants() -> None:
    assert list(demographics.FIELDS) == ["age_band", "gender", "education", "first_language"]
    assert demographics.FIELDS["age_band"] == ("18-24", "25-34", "35-44", "45-54", "55-64",
                                               "65+")
    assert demographics.FIELDS["gender"] == ("woman", "man", "non_binary", "another_gender")
    assert len(demographics.FIELDS["education"] or ()) == 4
    assert demographics.FIELDS["first_language"] is None
    assert len(demographics.LANGUAGES) == 183
    assert all(len(c) == 2 and c.isalpha() and c.islower() for c in demographics.LANGUAGES)
    for name in demographics.FIELDS:
        assert set(demographics.VALUE_NAMES[name]) == set(demographics.allowed_values(name))
        assert name in demographics.FIELD_NAMES
    # The API's request schema offers exactly these values.
    assert get_args(labor_routes.AgeBand) == demographics.AGE_BANDS
    assert get_args(labor_routes.Gender) == demographics.GENDERS
    assert get_args(labor_routes.Education) == demographics.EDUCATION


@pytest.mark.parametrize(("values", "expected"), [
    ({}, {}),
    ({"age_band": "25-34"}, {"age_band": "25-34"}),
    ({"age_band": None, "gender": "", "education": "  "}, {}),
    ({"first_language": " SW "}, {"first_language": "sw"}),
    ({"gender": "non_binary", "education": "postgraduate"},
     {"gender": "non_binary", "education": "postgraduate"}),
])
def test_validate_drops_prefer_not_to_say(values: dict[str, Any],
                                          expected: dict[str, str]) -> None:
    assert demographics.validate(values) == expected


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"age": "25-34"}, "age", "Unknown demographic field"),
    ({"age_band": "30"}, "age_band", "18-24"),
    ({"gender": "Woman"}, "gender", "woman"),
    ({"first_language": "xx"}, "first_language", "ISO 639-1"),
    ({"first_language": "eng"}, "first_language", "ISO 639-1"),
    ({"education": 3}, "education", "must be text"),
])
def test_validate_names_the_field(values: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        demographics.validate(values)
    assert caught.value.field == field and words in caught.value.message


@given(st.fixed_dictionaries({}, optional={
    name: st.sampled_from(demographics.allowed_values(name)) for name in demographics.FIELDS}))
def test_any_choice_of_allowed_values_is_kept_as_given(values: dict[str, str]) -> None:
    assert demographics.validate(values) == values
    assert demographics.clean(values) == values
    assert demographics.clean(json.dumps(values)) == values


@given(st.text(max_size=5))
def test_a_language_outside_iso_639_1_is_refused(text: str) -> None:
    code = text.strip().lower()
    if not code:
        assert demographics.validate({"first_language": text}) == {}
    elif code in demographics.LANGUAGES:
        assert demographics.validate({"first_language": text}) == {"first_language": code}
    else:
        with pytest.raises(Invalid):
            demographics.validate({"first_language": text})


def test_clean_ignores_what_it_does_not_know() -> None:
    assert demographics.clean(None) == {}
    assert demographics.clean([1, 2]) == {}
    assert demographics.clean({"age_band": "30", "gender": "man", "shoe": "42",
                               "first_language": 5}) == {"gender": "man"}


def test_set_change_and_erase(store: Store) -> None:
    worker = add_worker(store)
    assert stored(store, worker) is None
    with store.write() as conn:
        assert demographics.demographics_of(conn, worker) == {}
        chosen = demographics.set_demographics(
            conn, worker, {"age_band": "35-44", "first_language": "yo", "gender": None},
            actor=f"worker:{worker}")
    assert chosen == {"age_band": "35-44", "first_language": "yo"}
    assert stored(store, worker) == chosen  # only the keys given
    # Changing the set replaces it: a field left out is no longer given.
    with store.write() as conn:
        demographics.set_demographics(conn, worker, {"education": "bachelors",
                                                     "first_language": "yo"},
                                      actor=f"worker:{worker}")
        assert demographics.demographics_of(conn, worker) == {"education": "bachelors",
                                                              "first_language": "yo"}
    # The same answers again change nothing and write nothing.
    with store.write() as conn:
        demographics.set_demographics(conn, worker, {"education": "bachelors",
                                                     "first_language": "yo"},
                                      actor=f"worker:{worker}")
    assert events(store, "worker.demographics_set") == [
        {"worker": worker, "fields": ["age_band", "first_language"], "cleared": []},
        {"worker": worker, "fields": ["education", "first_language"],
         "cleared": ["age_band"]}]
    with store.write() as conn:
        assert demographics.forget_demographics(conn, worker, actor="cli") == [
            "education", "first_language"]
    assert stored(store, worker) is None
    with store.write() as conn:  # an erasure request with nothing left is still recorded
        assert demographics.forget_demographics(conn, worker, actor="cli") == []
    assert events(store, "worker.demographics_erased") == [
        {"worker": worker, "fields": ["education", "first_language"]},
        {"worker": worker, "fields": []}]
    with store.read() as conn:
        assert ledger.verify(conn).ok
        bodies = " ".join(json.dumps(b) for b in events(store, "worker.demographics_set"))
    for value in ("35-44", "yo", "bachelors"):
        assert value not in bodies


def test_an_invalid_answer_stores_nothing(store: Store) -> None:
    worker = add_worker(store)
    with store.write() as conn:
        demographics.set_demographics(conn, worker, {"gender": "woman"}, actor="w")
    with pytest.raises(Invalid), store.write() as conn:
        demographics.set_demographics(conn, worker, {"gender": "man", "age_band": "old"},
                                      actor="w")
    assert stored(store, worker) == {"gender": "woman"}


def test_staff_lists_of_workers_never_carry_them(store: Store) -> None:
    worker = add_worker(store, "secret-ref")
    with store.write() as conn:
        demographics.set_demographics(conn, worker, {"age_band": "65+", "gender": "man"},
                                      actor="w")
        listed = accounts.list_workers(conn)
    text = json.dumps(listed, default=str)
    assert "demographics" not in text and "65+" not in text


def test_an_unknown_worker_is_not_found(store: Store) -> None:
    from handloom.errors import NotFound

    with pytest.raises(NotFound), store.write() as conn:
        demographics.set_demographics(conn, 999, {"gender": "man"}, actor="w")
    with pytest.raises(NotFound), store.write() as conn:
        demographics.forget_demographics(conn, 999, actor="w")


def test_reports_count_what_workers_gave_in_groups_of_at_least_k(store: Store) -> None:
    from factories import add_workers, answer_next, import_rows, make_project, text_items
    from handloom.disclose.facts import gather
    from handloom.work import projects

    with store.write() as conn:
        make_project(conn, overlap=11)
        ids = add_workers(conn, 11)
    import_rows(store, "p", text_items(1))

    def age_groups() -> dict[str, Any]:
        with store.read() as conn:
            workforce = gather(conn, projects.get_project(conn, "p")).workforce
        (age,) = [f for f in workforce.demographics if f.name == "age_band"]
        return {g.name: g.workers for g in age.values}

    for n, worker in enumerate(ids[:10]):  # five give 25-34, five 35-44
        assert answer_next(store, "p", worker) is not None
        with store.write() as conn:
            demographics.set_demographics(
                conn, worker, {"age_band": "25-34" if n < 5 else "35-44"}, actor="w")
    shown = age_groups()
    assert (shown["25-34"].value, shown["35-44"].value) == (5, 5)
    # One more worker, alone in their band, is never shown as a group of one.
    assert answer_next(store, "p", ids[10]) is not None
    with store.write() as conn:
        demographics.set_demographics(conn, ids[10], {"age_band": "65+"}, actor="w")
    shown = age_groups()
    assert "65+" not in shown
    assert all(c.suppressed or (c.value or 0) >= 5 for c in shown.values()), shown
