"""The transparency report in the browser: an auditor opens the demo's finished project, goes
one click to its report and sees every section with its charts drawn; the report.html that
``handloom report`` writes opens from disk (file://) and draws the same charts with no server
and no script. With ``HANDLOOM_SCREENSHOTS=1`` it refreshes docs/screenshots/report.png and
report-file.png."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from handloom.demo_finished import NAME
from handloom.disclose.report import SECTION_IDS, write_report

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHARTS = ("chart-labels", "chart-roles", "chart-pay", "chart-unpaid")


def assert_charts_render(page: Any) -> None:
    """Each named chart is an SVG with a real size on screen and bars in it."""
    for chart in CHARTS:
        svg = page.locator(f'svg[aria-labelledby^="{chart}-title"]')
        assert svg.count() == 1, chart
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 20, (chart, box)
        bars = svg.locator("rect.series-1")
        assert bars.count() > 0, chart
        first = bars.first.bounding_box()
        assert first and first["width"] > 0 and first["height"] > 0, (chart, first)
    floors = page.locator('svg[aria-labelledby^="chart-pay-title"] line.mark-line')
    assert floors.count() >= 1  # each jurisdiction's floor is drawn over the pay


def assert_sections(page: Any) -> None:
    for section in SECTION_IDS:
        assert page.locator(f"section#{section} h2").is_visible(), section


def test_the_report_page_and_the_written_file(tab: Any, demo_site: Any,
                                              tmp_path: Path) -> None:
    page = tab.page
    tab.sign_in("auditor")
    tab.go(f"/manage/{NAME}")
    page.get_by_role("link", name="Transparency report").click()
    page.wait_for_url(re.compile(rf"/manage/{NAME}/report$"))
    page.get_by_role("heading", name=re.compile("Transparency report")).first.wait_for()
    assert_sections(page)
    assert_charts_render(page)
    # Scorecards show a status on every point; stated text is labelled as such.
    assert page.locator("#scorecards .point-row").count() >= 20
    assert page.locator("#scorecards .point-row .status").count() == \
        page.locator("#scorecards .point-row").count()
    assert page.locator(".badge-stated").count() >= 12
    assert page.locator("#download-html").get_attribute("href") == f"/manage/{NAME}/report.html"
    tab.shot("report-page")
    if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / "report.png"), full_page=False)

    written = write_report(demo_site.store, NAME, tmp_path / "report", actor="e2e")
    file_url = (tmp_path / "report" / "report.html").as_uri()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(file_url)
    page.get_by_role("heading", name=re.compile("Transparency report")).first.wait_for()
    assert_sections(page)
    assert_charts_render(page)
    assert page.locator("script").count() == 0
    assert requests == [file_url], requests  # nothing else is fetched
    anchor = page.locator('meta[name="handloom-anchor"]').get_attribute("content")
    assert anchor == f"{written.anchor.seq} {written.anchor.hash}"
    tab.shot("report-file")
    page.locator("#pay h2").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('pay').scrollIntoView()")
    if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / "report-file.png"), full_page=False)
