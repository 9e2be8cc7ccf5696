"""Well-being check-ins on SQLite and PostgreSQL: private answers, what the ledger keeps (that
a check-in happened, never what it said), time recorded, and the counts staff see."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factories import add_workers, make_project
from handloom.errors import Invalid
from handloom.labor import wellbeing
from handloom.store.db import Store
from handloom.store.schema import ledger_events, time_entries, wellbeing_checkins

NOTE = "Rough morning; the third item stayed with me."


def test_a_check_in_keeps_its_answers_private_and_its_fact_on_the_ledger(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn, content_categories=["violence"],
                               exposure={"support_resources": "Call 0800 123 (24 h)"})
        (w,) = add_workers(conn, 1)
        checkin = wellbeing.check_in(conn, project, w, feeling=2, wants_support=True,
                                     note=f"  {NOTE} ", trigger="break", seconds=45.5)
    with store.read() as conn:
        row = conn.execute(select(wellbeing_checkins)).one()
        events = conn.execute(select(ledger_events.c.event, ledger_events.c.body)
                              .where(ledger_events.c.event.in_(
                                  ["wellbeing.checked_in", "time.recorded"]))
                              .order_by(ledger_events.c.seq)).all()
        entry = conn.execute(select(time_entries)).one()
    assert row.id == checkin and row.trigger == "break" and row.shared is False
    assert row.answers == {"feeling": 2, "wants_support": True, "note": NOTE}
    assert [e.event for e in events] == ["wellbeing.checked_in", "time.recorded"]
    assert events[0].body == {"checkin": checkin, "worker": w, "trigger": "break",
                              "shared": False}
    ledger_text = json.dumps([e.body for e in events])
    assert "Rough" not in ledger_text and "feeling" not in ledger_text
    assert (entry.reason, entry.seconds, entry.ref_id) == ("wellbeing", 45.5, checkin)


def test_the_worker_reads_their_own_check_ins_and_staff_get_counts(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn)
        other_project = make_project(conn, "q")
        a, b = add_workers(conn, 2)
        wellbeing.check_in(conn, project, a, feeling=4, trigger="self")
        wellbeing.check_in(conn, project, a, feeling=1, note="please call", shared=True,
                           trigger="limit")
        wellbeing.check_in(conn, project, b, feeling=3, trigger="break")
        wellbeing.check_in(conn, other_project, b, feeling=5, shared=True)
    with store.read() as conn:
        own = wellbeing.for_worker(conn, a)
        counts = wellbeing.project_counts(conn, project)
        shared = wellbeing.shared_with_staff(conn, project)
    assert [c["answers"]["feeling"] for c in own] == [1, 4]  # newest first, only a's
    assert own[0]["feeling_label"] == "very bad" and own[0]["shared"] is True
    assert counts == {"total": 3, "shared": 1, "workers": 2,
                      "by_trigger": {"break": 1, "limit": 1, "self": 1}}
    assert len(shared) == 1
    assert shared[0]["note"] == "please call" and shared[0]["wants_support"] is False
    assert re.fullmatch(r"w_[0-9a-f]{16}", shared[0]["worker"])


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"feeling": 0}, "feeling"), ({"feeling": 6}, "feeling"), ({"feeling": True}, "feeling"),
    ({"feeling": 3, "trigger": "boredom"}, "trigger"),
    ({"feeling": 3, "note": "x" * 2001}, "note"),
])
def test_a_check_in_is_refused_with_the_field_named(store: Store, kwargs: dict[str, object],
                                                    field: str) -> None:
    with store.write() as conn:
        project = make_project(conn)
        (w,) = add_workers(conn, 1)
        with pytest.raises(Invalid) as refused:
            wellbeing.check_in(conn, project, w, **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_counts_add_up_for_any_mix_of_check_ins(store: Store) -> None:
    with store.write() as conn:
        project = make_project(conn)
        (w,) = add_workers(conn, 1)

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(wellbeing.TRIGGERS), st.booleans(),
                              st.integers(1, 5)), max_size=8))
    def check(batch: list[tuple[str, bool, int]]) -> None:
        with store.read() as conn:
            before = wellbeing.project_counts(conn, project)
        with store.write() as conn:
            for trigger, shared, feeling in batch:
                wellbeing.check_in(conn, project, w, feeling=feeling, shared=shared,
                                   trigger=trigger)
        with store.read() as conn:
            after = wellbeing.project_counts(conn, project)
        assert after["total"] - before["total"] == len(batch)
        assert after["shared"] - before["shared"] == sum(s for _t, s, _f in batch)
        assert sum(after["by_trigger"].values()) == after["total"]

    check()
