"""Submissions: idempotent, validated, durable, on the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from factories import add_workers, import_rows, make_project, text_items
from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound
from handloom.store.db import Store
from handloom.store.schema import annotations, ledger_events
from handloom.work import projects, routing
from handloom.work.submissions import submit_answer


def setup(store: Store, n_workers: int = 1, **spec: object) -> list[int]:
    with store.write() as conn:
        make_project(conn, **spec)
        ws = add_workers(conn, n_workers)
    import_rows(store, "p", text_items(3))
    return ws


def lease_id(store: Store, worker_id: int) -> int:
    with store.write() as conn:
        got = routing.next_item(conn, projects.get_project(conn, "p"), worker_id)
    assert got is not None
    return got.assignment_id


def submit(store: Store, worker_id: int, assignment_id: int, answer: dict[str, object],
           key: str = "key-1", **kw: object):  # type: ignore[no-untyped-def]
    with store.write() as conn:
        row = projects.get_project(conn, "p")
        return submit_answer(conn, row, projects.kind_of(row), worker_id, assignment_id,
                             answer, idempotency_key=key, **kw)


def count(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(annotations)).scalar_one())


def test_retry_with_the_same_key_returns_the_first_result(store: Store) -> None:
    (w,) = setup(store)
    aid = lease_id(store, w)
    first = submit(store, w, aid, {"label": "toxic"}, active_seconds=4.5)
    again = submit(store, w, aid, {"label": "toxic"})
    assert not first.replayed and again.replayed
    assert again.annotation_id == first.annotation_id
    assert count(store) == 1
    with store.read() as conn:
        row = conn.execute(select(annotations)).one()
        events = conn.execute(select(ledger_events.c.event, ledger_events.c.body)
                              .where(ledger_events.c.event == "annotation.submitted")).all()
        assert ledger.verify(conn).ok
    assert row.active_seconds == 4.5 and row.answer == {"label": "toxic"}
    assert len(events) == 1 and events[0].body["annotation"] == first.annotation_id
    assert "toxic" not in str(events[0].body)  # the ledger holds a digest, not the answer


def test_a_key_reused_for_another_assignment_is_refused(store: Store) -> None:
    (w,) = setup(store)
    first = lease_id(store, w)
    submit(store, w, first, {"label": "toxic"})
    second = lease_id(store, w)
    with pytest.raises(Conflict, match="already used"):
        submit(store, w, second, {"label": "toxic"})


def test_answering_twice_with_a_new_key_is_refused(store: Store) -> None:
    (w,) = setup(store)
    aid = lease_id(store, w)
    submit(store, w, aid, {"label": "toxic"})
    with pytest.raises(Conflict, match="already answered"):
        submit(store, w, aid, {"label": "not_toxic"}, key="key-2")
    assert count(store) == 1


def test_invalid_answer_names_the_field_and_stores_nothing(store: Store) -> None:
    (w,) = setup(store)
    aid = lease_id(store, w)
    with pytest.raises(Invalid) as caught:
        submit(store, w, aid, {"label": "rude"})
    assert caught.value.field == "answer.label"
    assert "'rude' is not one of" in caught.value.message
    assert count(store) == 0


def test_another_workers_assignment_is_not_found(store: Store) -> None:
    w1, w2 = setup(store, 2)
    aid = lease_id(store, w1)
    with pytest.raises(NotFound):
        submit(store, w2, aid, {"label": "toxic"})


def test_active_seconds_out_of_range_is_refused(store: Store) -> None:
    (w,) = setup(store)
    aid = lease_id(store, w)
    with pytest.raises(Invalid, match="active_seconds"):
        submit(store, w, aid, {"label": "toxic"}, active_seconds=-1.0)


def test_answer_records_instruction_version_and_suggestion(store: Store) -> None:
    (w,) = setup(store)
    with store.write() as conn:
        projects.add_instruction_version(conn, projects.get_project(conn, "p").id, "v2 text")
    aid = lease_id(store, w)
    submit(store, w, aid, {"label": "toxic"}, suggestion={"label": "toxic", "p": 0.9})
    with store.read() as conn:
        row = conn.execute(select(annotations)).one()
    assert row.instruction_version == 2
    assert row.suggestion == {"label": "toxic", "p": 0.9}
