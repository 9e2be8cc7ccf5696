"""Disclosure in the browser: a worker gives their demographics on /me, sees what they gave,
and erases it; a manager fills in the project's disclosure statement, and an error names
the field. With ``HANDLOOM_SCREENSHOTS=1`` it also refreshes docs/screenshots/about-me.png
and docs/screenshots/disclosure.png.

The test runs on a small workspace of its own (one project, "stated"), served like the demo.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_helpers import browser_sign_in, start_live_server, stop_live_server

from factories import import_rows, make_project, text_items
from handloom.disclose import statement
from handloom.store.schema import workers
from handloom.web.app import create_app
from handloom.work import accounts, projects
from handloom.workspace import init_workspace, open_store

pytestmark = pytest.mark.browser

PASSWORD = "stated-password-1"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "demographics_flow"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def site(browser: Any, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    workspace, _token = init_workspace(tmp_path / "ws")
    store = open_store(workspace)
    with store.write() as conn:
        make_project(conn, "stated", title="Stated toxicity labels", overlap=1,
                     labels=["toxic", "not_toxic"], purpose="Train a toxicity filter.",
                     data_source="Public forum posts, 2024.", instructions="Label each post.")
        accounts.add_worker(conn, "fay", password=PASSWORD, actor="test")
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
    import_rows(store, "stated", text_items(3))
    live = start_live_server(create_app(store))
    try:
        yield live.url, store
    finally:
        stop_live_server(live)
        store.dispose()


def shoot(page: Any, name: str, locator: str | None = None) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
        target = page.locator(locator) if locator else page
        target.screenshot(path=str(SHOTS / f"{name}.png"))


def stored(store: Any) -> Any:
    with store.read() as conn:
        return conn.execute(select(workers.c.demographics).where(
            workers.c.ref == "fay")).scalar()


def test_a_worker_gives_and_erases_demographics_and_a_manager_states_the_project(
        browser: Any, site: tuple[str, Any]) -> None:
    base, store = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # (The refused save answers 422 on purpose, which the console reports; script errors
    # and CSP violations are what must not happen.)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "status of 422" not in m.text else None)
    try:
        browser_sign_in(page, base, "fay", PASSWORD)
        page.click("text=My work")
        page.wait_for_url(re.compile(r"/me$"))
        about = page.locator("#about")
        assert "at least 5 workers" in about.inner_text()
        assert page.locator("#about-age_band").input_value() == ""  # prefer not to say
        page.select_option("#about-age_band", "25-34")
        page.select_option("#about-first_language", label="Swahili")
        page.select_option("#about-education", "bachelors")
        with page.expect_navigation():
            page.click("#btn-about-save")
        assert page.url.endswith("/me#about")
        assert "You gave 3 of 4 answers." in page.locator("#about-flash").inner_text()
        given = " ".join(page.locator("#about-given").inner_text().split())
        assert given == ("You have given: age 25–34, education Bachelor's degree, first "
                         "language Swahili."), given
        assert page.locator("#about-gender").input_value() == ""
        assert stored(store) == {"age_band": "25-34", "education": "bachelors",
                                 "first_language": "sw"}
        shoot(page, "about-me", "#about")

        # Changing one answer back to "prefer not to say" drops it.
        page.select_option("#about-education", "")
        with page.expect_navigation():
            page.click("#btn-about-save")
        assert stored(store) == {"age_band": "25-34", "first_language": "sw"}

        with page.expect_navigation():
            page.click("#btn-about-erase")
        assert "Erased" in page.locator("#about-flash").inner_text()
        assert "You have not given any of these" in page.locator("#about-given").inner_text()
        assert page.locator("#btn-about-erase").count() == 0
        assert stored(store) is None

        # The manager states the project on its disclosure page.
        page.context.clear_cookies()
        browser_sign_in(page, base, "mona", PASSWORD)
        page.goto(base + "/manage/stated")
        with page.expect_navigation():
            page.click("#link-disclosure")
        assert page.url.endswith("/manage/stated/disclosure")
        assert "3 of 20 fields stated" in page.locator("#disclosure-count").inner_text()
        hint = page.locator("#d-biases-hint").inner_text()
        assert "Art. 10(2)(f)" in hint and "rai:dataBiases" in hint
        page.fill("#d-assumptions", "Toxic means harmful to the person it is aimed at.")
        page.fill("#d-biases", "Posts are mostly in English, from one forum.")
        page.fill("#d-license", "CC-BY-4.0")
        page.fill("#d-k", "7")
        with page.expect_navigation():
            page.click("#btn-disclosure-save")
        flash = page.locator("#disclosure-flash").inner_text()
        assert flash == "Saved: Assumptions, Known biases, Licence, k (smallest group in " \
                        "reports). The change is on the ledger.", flash
        assert "6 of 20 fields stated" in page.locator("#disclosure-count").inner_text()
        shoot(page, "disclosure")

        page.fill("#d-k", "5")
        with page.expect_navigation():
            page.click("#btn-disclosure-save")
        assert "never lowered" in page.locator(".error-summary").inner_text()
        assert page.locator("#d-k").get_attribute("aria-invalid") == "true"
        with store.read() as conn:
            stated = statement.stated(projects.get_project(conn, "stated"))
        assert stated["k"] == 7 and stated["license"] == "CC-BY-4.0"
        assert stated["biases"] == "Posts are mostly in English, from one forum."
    finally:
        context.close()
    assert not errors, errors
