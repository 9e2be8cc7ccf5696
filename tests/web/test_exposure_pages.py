"""Exposure and well-being in the pages, on SQLite and PostgreSQL: the worker's section (with
the no-penalty statement, counts against limits, opt-out buttons and their own check-ins),
the manager's section (counts only), the forms and JSON calls behind them, the reviewer's
tag editor, and the check-ins shared with a project's staff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select
from web_helpers import csrf_of, signed_in_client

from factories import answer_next, import_rows, make_project
from handloom.labor import wellbeing
from handloom.store.db import Store
from handloom.store.schema import items, workers
from handloom.web.pages import exposure as exposure_pages
from handloom.web.pages.render import templates
from handloom.work import accounts, projects

PASSWORD = "correct horse battery"
HOSTILE = '<img src=x onerror="alert(1)">'
SUPPORT = "Counsellor Sam: +1 555 0100, 24 h"


@pytest.fixture
def scene(store: Store) -> dict[str, int]:
    with store.write() as conn:
        make_project(conn, "mod", title="Moderation", overlap=1,
                     content_categories=["violence", "hate"],
                     exposure={"limits": {"violence": {"daily_items": 2}},
                               "break_after_sensitive": 5, "support_resources": SUPPORT})
        worker = accounts.add_worker(conn, "wren", password=PASSWORD, actor="test")
        other = accounts.add_worker(conn, "otto", password=PASSWORD, actor="test")
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
        accounts.create_user(conn, "rita", "reviewer", password=PASSWORD, actor="test")
    import_rows(store, "mod", [{"id": f"v-{i}", "text": f"violent {i}",
                                "sensitivity": ["violence"], "priority": 5} for i in range(3)]
                + [{"id": "plain", "text": "calm"}])
    assert answer_next(store, "mod", worker) is not None
    assert answer_next(store, "mod", worker) is not None  # the violence limit is reached
    with store.write() as conn:
        project = projects.get_project(conn, "mod")
        wellbeing.check_in(conn, project, worker, feeling=2, note=HOSTILE, trigger="limit")
        wellbeing.check_in(conn, project, other, feeling=4, note="shared words", shared=True)
    return {"worker": worker, "other": other}


@contextmanager
def sign_in(base: str, username: str, next_path: str = "/") -> Iterator[httpx.Client]:
    with signed_in_client(base, username, PASSWORD, next_path) as client:
        yield client


def test_the_workers_section_shows_counts_limits_opt_outs_and_own_check_ins(
        store: Store, scene: dict[str, int]) -> None:
    with store.read() as conn:
        section = exposure_pages.me_section(conn, scene["worker"])
    html = templates.env.get_template("partials/me_exposure.html").render(
        section=section, csrf="tok")
    assert "never affects your score, your pay or your access" in html
    row = re.search(r'<tr data-category="violence">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "2 items · 0.4 min" in row.group(1)
    assert "reached for today" in row.group(1)
    assert 'aria-label="Opt out of violence"' in row.group(1)
    assert str(escape(HOSTILE)) in html and HOSTILE not in html
    assert "shared words" not in html  # another worker's check-in
    assert SUPPORT in html
    assert 'name="csrf" value="tok"' in html


def test_the_managers_section_shows_counts_never_answers(store: Store,
                                                         scene: dict[str, int]) -> None:
    with store.read() as conn:
        section = exposure_pages.manage_section(conn, projects.get_project(conn, "mod"))
    html = templates.env.get_template("partials/manage_exposure.html").render(
        section=section, csrf="tok")
    assert "shared words" not in html and "onerror" not in html
    assert "15 min after 5 sensitive items" in html
    assert re.search(r"Well-being check-ins: 2 from 2 workers", html)
    assert '/manage/mod/checkins' in html and SUPPORT in html
    violence = next(c for c in section["categories"] if c["category"] == "violence")
    assert (violence["tagged_items"], violence["exposures"], violence["daily_items"]) == (3, 2, 2)


def test_the_worker_opts_out_and_sets_a_time_zone_through_the_forms(
        store: Store, scene: dict[str, int], live_server: str) -> None:
    with sign_in(live_server, "wren") as client:
        csrf = csrf_of(client.get("/").text)
        done = client.post("/me/exposure/opt-outs",
                           data={"csrf": csrf, "category": "hate", "choice": "out"})
        assert done.status_code == 303 and done.headers["location"] == "/me#exposure"
        bad = client.post("/me/exposure/timezone", data={"csrf": csrf, "timezone": "Mars"})
        assert bad.status_code == 422 and "IANA" in bad.text
        assert client.post("/me/exposure/timezone",
                           data={"csrf": csrf, "timezone": "Africa/Nairobi"}).status_code == 303
        forged = client.post("/me/exposure/opt-outs",
                             data={"csrf": "nope", "category": "violence", "choice": "out"})
        assert forged.status_code == 403
        state = client.get("/ui/projects/mod/exposure").json()
        assert state["limits_reached"] == [{"category": "violence", "unit": "items",
                                            "limit": 2}]
        assert state["sensitive_today"] == 2 and state["support_resources"] == SUPPORT
        assert state["opt_outs"] == ["hate"] and state["timezone"] == "Africa/Nairobi"
        made = client.post("/ui/projects/mod/checkins", headers={"X-CSRF-Token": csrf},
                           json={"feeling": 5, "trigger": "limit", "seconds": 12})
        assert made.status_code == 201 and made.json()["support_resources"] == SUPPORT
        assert client.post("/ui/projects/mod/checkins", json={"feeling": 5}).status_code == 403
        again = client.post("/ui/me/opt-outs", headers={"X-CSRF-Token": csrf},
                            json={"opt_outs": []})
        assert again.json()["opt_outs"] == []
    with store.read() as conn:
        row = conn.execute(select(workers.c.opt_outs, workers.c.timezone)
                           .where(workers.c.id == scene["worker"])).one()
        mine = wellbeing.for_worker(conn, scene["worker"])
    assert (row.opt_outs, row.timezone) == ([], "Africa/Nairobi")
    assert [c["answers"]["feeling"] for c in mine] == [5, 2]


def test_the_next_item_reason_reaches_the_workbench(store: Store, scene: dict[str, int],
                                                    live_server: str) -> None:
    with sign_in(live_server, "wren") as client:
        csrf = csrf_of(client.get("/").text)
        first = client.post("/ui/projects/mod/next", headers={"X-CSRF-Token": csrf}).json()
        assert first["assignment"]["item"]["id"] == "plain"
        aid = first["assignment"]["assignment_id"]
        client.post(f"/ui/projects/mod/assignments/{aid}/submit",
                    headers={"X-CSRF-Token": csrf},
                    json={"answer": {"label": "toxic"}, "idempotency_key": "k1"})
        empty = client.post("/ui/projects/mod/next", headers={"X-CSRF-Token": csrf}).json()
    assert empty["assignment"] is None
    assert "today's limit of 2 items of violence" in empty["reason"]


def test_a_reviewer_edits_tags_on_the_review_page(store: Store, scene: dict[str, int],
                                                   live_server: str) -> None:
    with sign_in(live_server, "rita", "/review") as client:
        page = client.get("/review/mod/plain")
        assert page.status_code == 200
        assert 'id="tag-editor"' in page.text
        assert 'name="tags" value="hate"' in page.text
        saved = client.post("/tag/mod/plain", data={"csrf": csrf_of(page.text),
                                                     "tags": ["hate", "violence"]})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/review/mod/plain?tagged=1"
        shown = client.get(saved.headers["location"]).text
        assert "Tags saved." in shown
        refused = client.post("/tag/mod/plain", data={"csrf": csrf_of(page.text),
                                                      "tags": ["gore"]})
        assert refused.status_code == 422 and "not a content category" in refused.text
    with sign_in(live_server, "wren") as client:
        csrf = csrf_of(client.get("/").text)
        assert client.post("/tag/mod/plain", data={"csrf": csrf, "tags": []}).status_code == 403
    with store.read() as conn:
        tags = conn.execute(select(items.c.sensitivity)
                            .where(items.c.external_id == "plain")).scalar()
    assert tags == ["hate", "violence"]


def test_shared_check_ins_are_for_owners_and_managers(store: Store, scene: dict[str, int],
                                                      live_server: str) -> None:
    with sign_in(live_server, "mona", "/manage") as client:
        page = client.get("/manage/mod/checkins")
        assert page.status_code == 200
        assert "shared words" in page.text and "onerror" not in page.text
        assert re.search(r"<code>w_[0-9a-f]{16}</code>", page.text)
        assert "otto" not in page.text
    with sign_in(live_server, "rita", "/review") as client:
        assert client.get("/manage/mod/checkins").status_code == 403
    with sign_in(live_server, "wren") as client:
        assert client.get("/manage/mod/checkins").status_code == 403


def test_the_workbench_carries_the_check_in_card(store: Store, scene: dict[str, int],
                                                 live_server: str) -> None:
    with sign_in(live_server, "wren") as client:
        page = client.get("/work/mod")
    assert page.status_code == 200
    for marker in ('id="checkin"', 'id="btn-checkin"', 'name="checkin-feeling"',
                   'id="checkin-shared"', 'id="checkin-support"'):
        assert marker in page.text
