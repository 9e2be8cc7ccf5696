"""Guideline flags: the author counts once, every other worker can add one +1, managers
answer in words or with an instruction version that records the flags it answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from factories import make_project
from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound
from handloom.labor import guidelines
from handloom.store.db import Store
from handloom.store.schema import guideline_issues, guideline_supports, ledger_events
from handloom.work import accounts, projects


def test_one_plus_one_per_worker_and_the_author_counts_first(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "f")
        ann, bob, cy = (accounts.add_worker(conn, n) for n in ("ann", "bob", "cy"))
        issue = guidelines.flag(conn, row, ann, kind="unclear", note="Is sarcasm toxic?")
        assert guidelines.support(conn, row, issue, ann) == {
            "issue": issue, "supporters": 1, "added": False}
        assert guidelines.support(conn, row, issue, bob)["supporters"] == 2
        assert guidelines.support(conn, row, issue, bob) == {
            "issue": issue, "supporters": 2, "added": False}
        assert guidelines.support(conn, row, issue, cy)["supporters"] == 3
    with store.read() as conn:
        supporters = conn.execute(select(guideline_supports.c.worker_id).where(
            guideline_supports.c.issue_id == issue).order_by(
            guideline_supports.c.worker_id)).scalars().all()
        events = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "guideline.supported")).scalars().all()
        seen_by_bob = guidelines.flags_for_worker_in(conn, projects.get_project(conn, "f"), bob)
        assert ledger.verify(conn).ok
    assert supporters == sorted([ann, bob, cy])
    assert [e["supporters"] for e in events] == [2, 3]
    assert "Is sarcasm" not in str(events)
    assert seen_by_bob[0]["supported"] and not seen_by_bob[0]["mine"]
    assert "worker_id" not in seen_by_bob[0]


def test_answers_in_words_and_in_an_instruction_version(store: Store) -> None:
    with store.write() as conn:
        row = make_project(conn, "f")
        other = make_project(conn, "other")
        ann = accounts.add_worker(conn, "ann")
        boss = accounts.create_user(conn, "mona", "manager")
        first = guidelines.flag(conn, row, ann, kind="unclear", note="Sarcasm?")
        second = guidelines.flag(conn, row, ann, kind="out_of_scope", note="Not English")
        third = guidelines.flag(conn, row, ann, kind="unclear", note="Emoji?")
        elsewhere = guidelines.flag(conn, other, ann, kind="unclear", note="Other project")
        guidelines.answer(conn, row, first, "Sarcasm counts when it insults.", boss,
                          f"user:{boss}")
        with pytest.raises(Invalid, match="answer"):
            guidelines.answer(conn, row, second, " ", boss, "test")
        with pytest.raises(NotFound):
            guidelines.answer(conn, row, elsewhere, "x", boss, "test")
        with pytest.raises(Conflict, match="already answered"):
            guidelines.support(conn, row, first, accounts.add_worker(conn, "bob"))
        with pytest.raises(Invalid, match=f"#{elsewhere}"):
            projects.add_instruction_version(conn, row.id, "v2", answers_issues=[second,
                                                                                 elsewhere])
        version = projects.add_instruction_version(conn, row.id, "v2 with emoji rules",
                                                   answers_issues=[second, third, third])
    with store.read() as conn:
        rows = {r.id: r for r in conn.execute(select(guideline_issues))}
        logged = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "instructions.versioned")).scalars().all()
        answered = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "guideline.answered")).scalar_one()
        mine = guidelines.for_worker(conn, ann)
        counts = guidelines.project_counts(conn, projects.get_project(conn, "f"))
    assert version == 2
    assert (rows[first].status, rows[first].answer) == ("answered",
                                                        "Sarcasm counts when it insults.")
    assert [(rows[i].status, rows[i].resolved_in_version) for i in (second, third)] == [
        ("answered", 2), ("answered", 2)]
    assert rows[elsewhere].status == "open"
    assert logged[-1]["answers_issues"] == [second, third]
    assert answered == {"issue": first, "answer_chars": 31, "by": boss}
    assert {f["id"] for f in mine} == {first, second, third, elsewhere}
    assert all(f["mine"] for f in mine)
    assert counts["open"] == 0 and counts["answered"] == 3
