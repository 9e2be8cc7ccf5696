"""Exposure in the browser: a tagged item stays covered (its text is not on the page) until
the worker reveals it, by click or by keyboard, and the next tagged item is covered again;
reaching the daily limit opens a well-being check-in showing the project's support resources,
which the worker sends; and when nothing else is left the task screen says which limit held
the items back.

The test runs on a small workspace of its own (one project, "shield"), served like the demo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_helpers import LiveServer, start_live_server, stop_live_server

from factories import import_rows, make_project
from handloom.store.schema import wellbeing_checkins, workers
from handloom.web.app import create_app
from handloom.work import accounts
from handloom.workspace import init_workspace, open_store

pytestmark = pytest.mark.browser

NAME = "shield"
SUPPORT = "Wellbeing line: +1 555 0199, any hour, free and confidential."
TEXTS = {"s-1": "Graphic threat number one against the neighbour.",
         "s-2": "Graphic threat number two against the landlord.",
         "s-3": "Graphic threat number three against the mayor.",
         "p-1": "A calm post about tomatoes."}
ITEM_ID = re.compile(r"\bid (\S+?)(?: ·|\.$)")
PASSWORD = "shield-password-1"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@dataclass
class Site:
    url: str
    live: LiveServer
    store: Any


@dataclass
class Tab:
    """One browser page with its console errors and its screenshot folder."""

    page: Any
    base: str
    out: Path
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.shots += 1
        self.page.screenshot(path=str(self.out / f"{self.shots:02d}-{name}.png"),
                             full_page=True)

    def sign_in(self, username: str, password: str) -> None:
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url, f"signing in as {username} failed"


def build(store: Any) -> None:
    with store.write() as conn:
        make_project(conn, NAME, title="Shielded moderation", overlap=1,
                     labels=["toxic", "not_toxic"], content_categories=["violence"],
                     exposure={"limits": {"violence": {"daily_items": 2}},
                               "support_resources": SUPPORT},
                     instructions="Label each post. Press 1 or 2, then Enter.")
        accounts.add_worker(conn, "shield-sky", password=PASSWORD, actor="test")
    import_rows(store, NAME, [
        {"id": key, "text": text, "priority": 5 if key.startswith("s-") else 0,
         "sensitivity": ["violence"] if key.startswith("s-") else []}
        for key, text in TEXTS.items()])


@pytest.fixture
def shield_site(browser: Any, tmp_path: Path) -> Iterator[Site]:
    """A fresh workspace with the shield project, served on 127.0.0.1 (after the session's
    browser fixture, which skips when there is no Chromium)."""
    workspace, _token = init_workspace(tmp_path / "ws")
    store = open_store(workspace)
    build(store)
    live = start_live_server(create_app(store))
    try:
        yield Site(live.url, live, store)
    finally:
        stop_live_server(live)
        store.dispose()


@pytest.fixture
def shield_tab(browser: Any, shield_site: Site, request: pytest.FixtureRequest) -> Iterator[Tab]:
    out = OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    t = Tab(page, shield_site.url, out)
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: t.errors.append(str(e)))
    try:
        yield t
    finally:
        context.close()
    assert t.shots > 0
    assert not t.errors, f"the page logged errors: {t.errors}"


def current_item(tab: Any, not_id: str | None = None) -> str:
    tab.page.wait_for_function(
        """(notId) => {
            const text = document.getElementById('task-status').textContent;
            const m = /\\bid (\\S+?)(?: ·|\\.$)/.exec(text);
            return m && m[1] !== notId && !/Submitting|Loading|Skipping/.test(text);
        }""", arg=not_id)
    found = ITEM_ID.search(str(tab.page.inner_text("#task-status")))
    assert found
    return found.group(1)


def assert_covered(tab: Any, item: str) -> None:
    page = tab.page
    area = page.locator("#item-area")
    reveal = page.locator("#btn-reveal")
    assert reveal.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "btn-reveal"
    assert "possibly containing: violence." in area.inner_text()
    # The item's text is nowhere on the page, visible or not, and no widget is mounted.
    assert TEXTS[item] not in page.content()
    assert area.locator(".hw").count() == 0
    assert page.locator("#btn-submit").is_disabled()


def test_blur_reveal_per_item_check_in_and_the_reason(shield_tab: Tab,
                                                       shield_site: Site) -> None:
    tab = shield_tab
    page = tab.page
    tab.sign_in("shield-sky", PASSWORD)
    tab.go(f"/work/{NAME}")

    first = current_item(tab)
    assert first == "s-1"
    assert_covered(tab, first)
    tab.shot("covered")
    page.keyboard.press("1")  # answer keys do nothing on the cover
    assert TEXTS[first] not in page.content()
    page.locator("#btn-reveal").click()
    page.locator("#item-area .hw").wait_for()
    text = page.get_by_text(TEXTS[first], exact=True)
    assert text.is_visible()
    assert page.evaluate(
        "(t) => getComputedStyle([...document.querySelectorAll('#item-area *')]"
        ".find(e => e.textContent === t)).visibility", TEXTS[first]) == "visible"
    tab.shot("revealed")
    page.keyboard.press("1")
    page.keyboard.press("Enter")

    # The next tagged item is covered again: a reveal is for one item only.
    second = current_item(tab, not_id=first)
    assert second == "s-2"
    assert_covered(tab, second)
    page.keyboard.press("r")  # keyboard users reveal with R (or Enter on the focused button)
    page.locator("#item-area .hw").wait_for()
    assert page.get_by_text(TEXTS[second], exact=True).is_visible()
    page.keyboard.press("2")
    page.keyboard.press("Enter")

    # That was the second violence item today, the project's daily limit: a check-in opens
    # with the support resources, and a plain item comes next.
    card = page.locator("#checkin")
    card.wait_for(state="visible")
    assert "limit for violence" in page.inner_text("#checkin-why")
    assert page.inner_text("#checkin-support-text") == SUPPORT
    assert page.locator("#checkin-support").is_visible()
    assert page.locator("#checkin-close").is_hidden()
    assert current_item(tab, not_id=second) == "p-1"
    assert page.get_by_text(TEXTS["p-1"], exact=True).is_visible()  # plain: never covered
    tab.shot("check-in")
    card.get_by_label("4 · good").check()
    card.get_by_label("I would like the support contact").check()
    page.fill("#checkin-note", "A heavy morning.")
    card.get_by_role("button", name="Send check-in").click()
    page.locator("#checkin-done").wait_for(state="visible")
    assert page.locator("#checkin-support").is_visible()
    page.locator("#checkin-close").click()
    assert card.is_hidden()
    with shield_site.store.read() as conn:
        row = conn.execute(select(wellbeing_checkins).join(
            workers, workers.c.id == wellbeing_checkins.c.worker_id)
            .where(workers.c.ref == "shield-sky")).one()
    assert row.trigger == "limit" and row.shared is False
    assert row.answers == {"feeling": 4, "wants_support": True, "note": "A heavy morning."}

    # Check in again at will, once a sensitive item was seen today.
    assert page.locator("#btn-checkin").is_visible()

    # Answer the plain item; s-3 is held back by the limit, and the screen says so.
    page.locator("#item-area .hw").click()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    empty = page.locator("#item-area .hw-empty")
    empty.wait_for()
    reason = empty.inner_text()
    assert "You reached today's limit of 2 items of violence in this project" in reason
    assert "midnight (00:00 UTC)" in reason
    assert TEXTS["s-3"] not in page.content()
    tab.shot("limit-reason")
