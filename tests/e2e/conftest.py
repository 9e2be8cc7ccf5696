"""Browser tests: a real Chromium (Debian's, never a downloaded one) driven by Playwright
against the real app served by uvicorn over a demo workspace.

Without /usr/bin/chromium the tests skip with a reason saying how to enable them; with
``HANDLOOM_REQUIRE_BROWSER=1`` (CI) a missing browser is a failure instead. Each test gets
an output folder ``test-output/<test name>/`` for its screenshots, and fails if the page
logged an error (a Content-Security-Policy violation shows up there too).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_helpers import LiveServer, start_live_server, stop_live_server  # noqa: E402

from handloom.config import load_workspace  # noqa: E402
from handloom.demo import DEMO_PASSWORD, build_demo  # noqa: E402
from handloom.web.app import create_app  # noqa: E402
from handloom.workspace import open_store  # noqa: E402

CHROMIUM = Path(os.environ.get("HANDLOOM_CHROMIUM", "/usr/bin/chromium"))
REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT = REPO_ROOT / "test-output"
SKIP_REASON = ("Browser tests need Debian's Chromium at /usr/bin/chromium "
               "(apt-get install chromium) or HANDLOOM_CHROMIUM=/path/to/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def _need_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("HANDLOOM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HANDLOOM_REQUIRE_BROWSER=1 but {CHROMIUM} is missing. {SKIP_REASON}",
                    pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Site:
    url: str
    root: Path
    live: LiveServer
    store: Any


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo workspace (every example project, some answers in) served on 127.0.0.1."""
    _need_browser()
    root = tmp_path_factory.mktemp("e2e") / "demo"
    build_demo(root, REPO_ROOT / "examples")
    store = open_store(load_workspace(root))
    live = start_live_server(create_app(store))
    try:
        yield Site(live.url, root, live, store)
    finally:
        stop_live_server(live)
        store.dispose()


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

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = self.out / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        # Wait for the sign-in's own navigation: "networkidle" alone can be met by the login
        # page before the POST starts, and a following go() then races the redirect.
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url, f"signing in as {username} failed"


@pytest.fixture
def tab(browser: Any, demo_site: Site, request: pytest.FixtureRequest) -> Iterator[Tab]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    out = OUTPUT / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    t = Tab(page, demo_site.url, out)
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: t.errors.append(str(e)))
    page.on("dialog", lambda d: (t.errors.append(f"a dialog opened: {d.message}"),
                                 d.dismiss()))
    try:
        yield t
    finally:
        context.close()
    assert t.shots > 0, "each browser test leaves at least one screenshot"
    assert not t.errors, f"the page logged errors: {t.errors}"
