"""Pay in the browser: the time a worker spends on an item before skipping it reaches the
server with the skip (as unpaid ``skipped`` time), and the manager's pay page shows it under
unpaid time by reason.

The test runs on a small workspace of its own (one project, "paid"), served like the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_helpers import browser_sign_in, start_live_server, stop_live_server

from factories import import_rows, make_project, text_items
from handloom.labor import timekeeping
from handloom.store.schema import assignments, time_entries
from handloom.web.app import create_app
from handloom.work import accounts
from handloom.workspace import init_workspace, open_store

pytestmark = pytest.mark.browser

PASSWORD = "paid-password-1"


@pytest.fixture
def site(browser: Any, tmp_path: Path) -> Iterator[tuple[str, Any, int]]:
    workspace, _token = init_workspace(tmp_path / "ws")
    store = open_store(workspace)
    with store.write() as conn:
        make_project(conn, "paid", title="Paid by the piece", overlap=1,
                     labels=["toxic", "not_toxic"], pay={"piece_rate": "0.10"},
                     instructions="Label each post.")
        worker = accounts.add_worker(conn, "pia", password=PASSWORD, actor="test")
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
    import_rows(store, "paid", text_items(3))
    live = start_live_server(create_app(store))
    try:
        yield live.url, store, worker
    finally:
        stop_live_server(live)
        store.dispose()


def sign_in(page: Any, base: str, username: str) -> None:
    browser_sign_in(page, base, username, PASSWORD)


def test_skip_sends_the_time_spent_on_the_item(browser: Any,
                                               site: tuple[str, Any, int]) -> None:
    base, store, worker = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, base, "pia")
        page.goto(base + "/work/paid")
        page.wait_for_function(
            "() => /\\bid item-/.test(document.getElementById('task-status').textContent)")
        for _ in range(3):  # stay active on the item for about three seconds
            page.mouse.move(200, 300)
            page.wait_for_timeout(1000)
        page.keyboard.press("Shift+S")
        page.locator("#skip-reason").wait_for()
        page.keyboard.type("not sure")
        page.keyboard.press("Enter")
        page.wait_for_function("() => !/Skipping/.test("
                               "document.getElementById('task-status').textContent)")
        with store.read() as conn:
            skipped = conn.execute(select(assignments.c.id).where(
                assignments.c.status == "skipped")).scalar_one()
            entry = conn.execute(select(time_entries).where(
                time_entries.c.reason == "skipped")).one()
            summary = timekeeping.summary(conn, worker)
        assert entry.ref_id == skipped and 1.5 <= entry.seconds <= 30
        assert summary["unpaid_by_reason"]["skipped"] == round(entry.seconds, 3)

        staff = browser.new_context()
        try:
            manager = staff.new_page()
            sign_in(manager, base, "mona")
            manager.goto(base + "/manage/paid/pay")
            assert "skipped items" in manager.locator("table.pay-unpaid").inner_text()
        finally:
            staff.close()
    finally:
        context.close()
    assert errors == []
