"""The manager in the browser: create a project from the form, upload an item file with a bad
line (refused whole, the line shown), then a good one, and see the project's charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from handloom.store.schema import items
from handloom.work import projects

pytestmark = pytest.mark.browser

NAME = "e2e-yes-no"


def item_count(store: Any, name: str) -> int:
    with store.read() as conn:
        project = projects.get_project(conn, name)
        return int(conn.execute(select(func.count()).select_from(items)
                                .where(items.c.project_id == project.id)).scalar_one())


def test_manager_creates_project_and_uploads_items(tab: Any, demo_site: Any,
                                                   tmp_path: Path) -> None:
    tab.sign_in("manager")
    page = tab.page
    tab.go("/manage/new")
    page.get_by_role("heading", name="New project").wait_for()
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Title", exact=True).fill("Is the answer yes?")
    page.get_by_label("Task kind").select_option("classification")
    page.get_by_label("Purpose").fill("Checks the browser tests' project form.")
    page.get_by_label("Data source").fill("Sentences written for the test.")
    page.get_by_label("Overlap").fill("2")
    page.get_by_label("Instructions").fill("## Task\n\nAnswer **yes** or **no**.")
    page.get_by_label("Piece rate").fill("0.10")
    page.get_by_label("Estimated seconds per item").fill("15")
    page.get_by_label("Configuration (TOML)").fill('labels = ["yes", "no"]')
    tab.shot("new-project-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Create project").click()
    assert page.url.endswith(f"/manage/{NAME}"), page.url
    assert "Project e2e-yes-no created" in page.locator(".manage-flash").inner_text()
    assert page.get_by_role("heading", name="Is the answer yes?", level=1).is_visible()
    assert item_count(demo_site.store, NAME) == 0

    # A file whose third line lacks the text: refused whole, the line named and marked.
    bad = tmp_path / "bad-items.jsonl"
    bad.write_text("\n".join([
        json.dumps({"id": "q1", "text": "Is water wet?"}),
        json.dumps({"id": "q2", "text": "Is the sky green?"}),
        json.dumps({"id": "q3", "txet": "Is this line broken?"}),
        json.dumps({"id": "q4", "text": "Is four more than three?"}),
    ]) + "\n")
    page.locator("#upload-file").set_input_files(str(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    tab.errors[:] = [e for e in tab.errors if "422" not in e]  # the refusal is a 422 page
    error = page.locator("#upload-error")
    assert error.is_visible()
    where = error.locator(".upload-where").inner_text()
    assert "bad-items.jsonl, line 3" in where, where
    assert "field text" in where, where
    failing = error.locator("tr.failing")
    assert failing.count() == 1
    assert failing.locator("th.line-no").inner_text() == "3"
    assert "Is this line broken?" in failing.locator("td.line-text").inner_text()
    # The failing row stands out from its neighbours.
    colours = error.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => getComputedStyle(r).backgroundColor)")
    assert len(colours) == 4, colours
    assert colours[2] not in ("rgba(0, 0, 0, 0)", "transparent"), colours
    assert colours[2] not in colours[:2] + colours[3:], colours
    assert "nothing was imported" in error.inner_text()
    tab.shot("upload-refused")
    assert item_count(demo_site.store, NAME) == 0
    stat = page.locator(".stat-row > div").filter(has=page.get_by_text("Items", exact=True))
    assert stat.locator("dd").inner_text() == "0"

    good = tmp_path / "good-items.jsonl"
    good.write_text("".join(json.dumps({"id": f"q{i}", "text": f"Question number {i}?"}) + "\n"
                            for i in range(1, 6)))
    page.locator("#upload-file").set_input_files(str(good))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    assert page.url.endswith(f"/manage/{NAME}"), page.url
    assert "Imported 5 items from good-items.jsonl" in page.locator(".manage-flash").inner_text()
    assert page.locator("#upload-error").count() == 0
    assert item_count(demo_site.store, NAME) == 5
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 1
    assert charts.first.get_attribute("aria-label") or charts.first.locator("title").count()
    tab.shot("uploaded")

    # A demo project with answers has its throughput and per-worker charts drawn.
    tab.go("/manage/toxicity")
    assert page.locator("svg[role=img]").count() >= 2
    assert page.locator("svg[role=img] rect").count() > 0
    tab.shot("charts")
