"""The worker's own page in the browser, after a scripted session whose figures are known.

Project "fair" pays USD 0.10 per item and recruits in the US, whose floor (imported for the
test) is USD 7.25 an hour. The worker agrees to the terms, reads the instructions for 60 s,
answers three items in 30 + 45 + 45 s (one of them tagged violence) and skips one after 30 s.
So: earned 3 × 0.10 = USD 0.30; all work time 60 + 120 + 30 = 210 s; effective pay
0.30 / (210 / 3600) = USD 5.142… → 5.14 an hour, below the floor; unpaid time: instructions
60 s (0.02 h), skipped 30 s (0.01 h); exposure today: 1 violence item. The page must show
exactly these, and the manager's Fair work page must show the worker only by pseudonym.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import browser_sign_in, start_live_server, stop_live_server

from factories import import_rows, make_project
from handloom.disclose.privacy import pseudonym
from handloom.labor import floors, terms, timekeeping
from handloom.web.app import create_app
from handloom.work import accounts, projects, routing, submissions
from handloom.workspace import init_workspace, open_store

pytestmark = pytest.mark.browser

PASSWORD = "fair-password-1"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "my_work_page"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def script_session(store: Any) -> int:
    with store.write() as conn:
        floors.import_rows(conn, [{"jurisdiction": "US", "currency": "USD", "hourly": "7.25",
                                   "source": "test floor", "effective_date": "2020-01-01"}],
                           source="test", actor="test")
        make_project(conn, "fair", title="Fairly paid labels", overlap=1,
                     labels=["toxic", "not_toxic"], content_categories=["violence"],
                     terms_required=True, instructions="Label each post.",
                     pay={"piece_rate": "0.10", "est_seconds_per_item": 30,
                          "jurisdictions": ["US"]},
                     exposure={"limits": {"violence": {"daily_items": 10}}})
        worker_id = accounts.add_worker(conn, "fay", jurisdiction="US", password=PASSWORD,
                                        actor="test")
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
    import_rows(store, "fair", [
        {"id": "v-1", "text": "A violent threat.", "sensitivity": ["violence"], "priority": 9},
        {"id": "a-1", "text": "A calm post."}, {"id": "a-2", "text": "Another calm post."},
        {"id": "a-3", "text": "A third calm post."}])
    with store.write() as conn:
        project = projects.get_project(conn, "fair")
        terms.consent(conn, project, worker_id)
        timekeeping.read_instructions(conn, project, worker_id, 1, 60)
    for n, seconds in enumerate((30, 45, 45)):
        with store.write() as conn:
            rp = routing.load_project(conn, "fair")
            lease = routing.next_item(conn, rp, worker_id)
            assert lease is not None
            submissions.submit_answer(conn, rp, projects.kind_of(projects.get_project(
                conn, "fair")), worker_id, lease.assignment_id, {"label": "not_toxic"},
                idempotency_key=f"k{n}", active_seconds=seconds)
    with store.write() as conn:
        rp = routing.load_project(conn, "fair")
        lease = routing.next_item(conn, rp, worker_id)
        assert lease is not None
        routing.close_lease(conn, rp, worker_id, lease.assignment_id, status="skipped",
                            reason="unsure", active_seconds=30)
    return worker_id


@pytest.fixture
def site(browser: Any, tmp_path: Path) -> Iterator[tuple[str, Any, int]]:
    workspace, _token = init_workspace(tmp_path / "ws")
    store = open_store(workspace)
    worker_id = script_session(store)
    live = start_live_server(create_app(store))
    try:
        yield live.url, store, worker_id
    finally:
        stop_live_server(live)
        store.dispose()


def sign_in(page: Any, base: str, username: str) -> None:
    browser_sign_in(page, base, username, PASSWORD)


def test_the_worker_sees_their_own_figures(browser: Any, site: tuple[str, Any, int]) -> None:
    base, store, worker_id = site
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, base, "fay")
        page.click("text=My work")
        page.wait_for_url(re.compile(r"/me$"))
        pay = page.locator("#me-pay-fair")
        text = " ".join(pay.inner_text().split())
        assert "USD 0.30 for 3 of your 3 answers" in text, text
        assert "Effective pay per hour USD 5.14" in text, text
        assert "USD 7.25 an hour (US" in text and "you are below it" in text, text
        assert "reading instructions: 0.02 h" in text and "skipped items: 0.01 h" in text, text
        assert "0.06 h of work" in text, text  # 210 s
        exposure = " ".join(page.locator("#exposure-table tr[data-category=violence]")
                            .inner_text().split())
        assert exposure.startswith("violence 1 items"), exposure
        assert page.locator("#voice").inner_text().count("Fairly paid labels") >= 1
        page.screenshot(path=str(OUTPUT / "me.png"), full_page=True)
        if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
            page.screenshot(path=str(SHOTS / "my-work.png"), full_page=True)

        # The manager's aggregate page: the worker appears only by pseudonym.
        page.context.clear_cookies()
        sign_in(page, base, "mona")
        page.goto(base + "/manage/fair/fair-work")
        body = page.locator("main").inner_text()
        with store.read() as conn:
            alias = pseudonym(projects.get_project(conn, "fair").pseudonym_secret, worker_id)
        assert "fay" not in body.split()
        assert alias in body, body
        page.screenshot(path=str(OUTPUT / "manager-fair-work.png"), full_page=True)
        if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
            page.screenshot(path=str(SHOTS / "fair-work.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
