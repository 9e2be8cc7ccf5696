"""The transparency report: every section present in both documents; the HTML loads nothing
from anywhere and runs no script; stated text is labelled stated and measured figures
measured; suppressed figures read "fewer than k workers"; every string is escaped (HTML and
Markdown); on a scripted project (SQLite and PostgreSQL) the rendered figures match the raw
tables and no worker id, ref, e-mail, pseudonym or free text reaches the files; the files are
recorded on the ledger and the anchor checks out (and fails when the file is changed)."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from export_scenario import assert_no_secrets, build
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from report_facts import SUPPRESSED, K, c, sample_facts, with_part
from sqlalchemy import func, select

from handloom import ledger
from handloom.disclose import report
from handloom.disclose.facts import Group
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid, NotFound
from handloom.store.db import Store
from handloom.store.schema import annotations, items, ledger_events, workers
from handloom.work.projects import get_project

EVIL = '<script>alert("x")</script> [click](http://evil.example) **bold** | pipe'


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(document: str) -> Tags:
    t = Tags()
    t.feed(document)
    return t


def text_of(document: str) -> str:
    return " ".join(" ".join(parse(document).text).split())


def assert_self_contained(document: str) -> None:
    """Nothing is loaded from anywhere, nothing runs, and every link stays in the page."""
    tags = parse(document).tags
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base", "image",
                        "use", "foreignobject"}, names
    for tag, attrs in tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcset", "xlink:href", "action", "formaction"), tag
            if name == "href":
                assert value and value.startswith("#"), (tag, value)
            if name == "style":
                raise AssertionError(f"inline style attribute on {tag}")
    assert "url(" not in document and "@import" not in document
    # The only address-like text: none at all in this fixture (no xmlns either).
    assert "http://" not in document and "https://" not in document


def sample_report(**stated: str) -> report.Report:
    f = sample_facts()
    if stated:
        f = dataclasses.replace(f, stated={**f.stated, **stated})
    return report.from_facts(f)


# ------------------------------------------------------------------ documents from facts
def test_every_section_is_in_both_documents() -> None:
    r = sample_report()
    page, md = report.render_html(r), report.render_markdown(r)
    doc = report.document(r)
    assert tuple(s.id for s in doc.sections) == report.SECTION_IDS
    for n, s in enumerate(doc.sections, start=1):
        assert f'<section class="report-section" id="{s.id}"' in page
        assert f"\n## {n}. {s.title}\n" in md.replace("\\", "")
    for heading in ("Purpose, data source and preparation", "Workforce", "Pay", "Instructions",
                    "Quality", "Well-being and exposure", "Appeals and voice", "Model assistance",
                    "Scorecards", "Ledger anchor"):
        assert heading in text_of(page)


def test_the_html_is_self_contained() -> None:
    page = report.render_html(sample_report())
    assert page.startswith("<!doctype html>")
    assert "<style>" in page and page.count("<svg") >= 5
    assert_self_contained(page)


def test_the_article_10_checklist_shows_recorded_and_stated_for_each_point() -> None:
    r = sample_report(data_gaps="")
    page = report.render_html(r)
    for point in "abcdefgh":
        row = re.search(rf'<tr id="art10-{point}">(.*?)</tr>', page, re.S)
        assert row, point
        cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
        assert len(cells) == 2 and "<li>" in cells[0], point  # recorded: measured figures
    gaps = re.search(r'<tr id="art10-h">(.*?)</tr>', page, re.S)
    assert gaps and "not stated" in gaps.group(1)
    assumptions = re.search(r'<tr id="art10-d">(.*?)</tr>', page, re.S)
    assert assumptions and "Toxic means likely to make someone leave" in assumptions.group(1)
    md = report.render_markdown(r)
    assert "| Point | Recorded by Handloom (measured) | Stated by the project |" in md


def test_stated_text_is_labelled_stated() -> None:
    page = report.render_html(sample_report())
    stated = re.findall(r'<div class="stated"><dt>(.*?)</dt>\s*<dd>(.*?)</dd>', page, re.S)
    assert len(stated) >= 12
    assert all("stated by the project" in dt for dt, _ in stated)
    purpose = [dd for dt, dd in stated if dt.startswith("Purpose")]
    assert purpose == ["Train a classifier that flags toxic replies."]
    assert "stated by the project" in report.render_markdown(sample_report())
    # measured figures are labelled as measured
    assert "Measured: the items and what was done to them" in page
    assert 'class="figures measured"' in page


def test_suppressed_figures_read_fewer_than_k_workers() -> None:
    f = with_part(sample_facts(), "pay", at_or_above_floor=SUPPRESSED, total_paid=SUPPRESSED,
                  effective_hourly=dataclasses.replace(sample_facts().pay.effective_hourly,
                                                       bins=[], n=SUPPRESSED,
                                                       quartiles=SUPPRESSED))
    f = with_part(f, "workforce", jurisdictions=[Group("US", c(7, 7)),
                                                 Group("other", SUPPRESSED)])
    r = report.from_facts(f)
    page, md = report.render_html(r), report.render_markdown(r)
    hidden = re.findall(r'<span class="suppressed">(.*?)</span>', page)
    assert len(hidden) >= 4 and set(hidden) == {f"fewer than {K} workers"}
    assert re.search(r"<dt>Workers at or above their floor</dt><dd><span class=\"suppressed\">"
                     rf"fewer than {K} workers</span></dd>", page)
    assert re.search(r"<td>other</td><td class=\"num\"><span class=\"suppressed\">fewer than "
                     rf"{K} workers</span></td>", page)
    assert "Effective hourly pay per worker (USD an hour): not shown, it would describe fewer " \
           f"than {K} workers." in text_of(page)
    assert "chart-pay" not in page  # no chart, no bars, no hidden numbers
    assert f"| other | fewer than {K} workers |" in md
    assert "30.40" not in page and "30.40" not in md


def test_flags_appear_by_number_kind_and_supporters_never_by_text() -> None:
    page = report.render_html(sample_report())
    assert "#3 unclear (6 supporting)" in text_of(page)
    assert "Defined sarcasm." in text_of(page)  # the staff's change note


def test_charts_carry_their_numbers() -> None:
    page = report.render_html(sample_report())
    pay = re.search(r'<svg class="chart histogram"[^>]*aria-labelledby="chart-pay-title '
                    r'chart-pay-desc">(.*?)</svg>', page, re.S)
    assert pay
    svg = pay.group(1)
    assert svg.count('class="series-1 bar"') == 2
    assert svg.count('class="mark-line"') == 2
    assert "floor US 7.25" in svg and "floor KE 1.20" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S)
    assert desc and "5.00 to 10.00 USD/h: 6 workers" in desc.group(1)
    heights = [float(h) for h in re.findall(r'class="series-1 bar"[^>]*height="([\d.]+)"', svg)]
    assert all(h > 0 for h in heights)


def test_every_string_is_escaped() -> None:
    r = sample_report(purpose=EVIL, biases=EVIL)
    f = dataclasses.replace(r.facts, project=dataclasses.replace(r.facts.project, title=EVIL))
    r = report.from_facts(f)
    page, md = report.render_html(r), report.render_markdown(r)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="http' not in page
    assert "<script>" not in md
    assert not re.search(r"(?<!\\)\]\(http", md)  # no live link syntax
    rendered = MarkdownIt("commonmark", {"html": True}).render(md)
    assert "<script>" not in rendered and "<a href" not in rendered
    assert "<strong>bold</strong>" not in rendered
    assert "\\| pipe" in md


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF,
                                      blacklist_categories=("Cs", "Cc")), max_size=80))
def test_markdown_escaping_renders_as_the_same_text(text: str) -> None:
    text = " ".join(text.split())
    rendered = MarkdownIt("commonmark", {"html": True}).render(report.md_escape(text))
    inner = re.sub(r"^<p>|</p>\n$", "", rendered)
    assert "<" not in inner.replace("&lt;", "")  # no element at all
    assert html.unescape(inner) == text


def test_anchor_section_says_how_to_verify() -> None:
    r = sample_report()
    page = report.render_html(r)
    assert '<meta name="handloom-anchor" content="412 ' + "ab" * 32 + '">' in page
    text = text_of(page)
    assert "handloom ledger verify" in text
    assert f"handloom ledger anchor 412 {'ab' * 32}" in text


# ------------------------------------------------------------------ a scripted project
@pytest.fixture
def scenario_store(store: Store) -> Store:
    build(store)
    return store


def test_the_report_of_a_scripted_project(scenario_store: Store, tmp_path: Path) -> None:
    store = scenario_store
    with store.read() as conn:
        project = get_project(conn, "tox")
        r = report.build(conn, project)
        n_items = conn.execute(select(func.count()).select_from(items).where(
            items.c.project_id == project.id)).scalar_one()
        answerers = conn.execute(select(func.count(func.distinct(annotations.c.worker_id)))
                                 .where(annotations.c.project_id == project.id)).scalar_one()
        worker_ids = [int(w) for w in conn.execute(select(workers.c.id)).scalars()]
        aliases = [pseudonym(project.pseudonym_secret, w) for w in worker_ids]
        events_before = conn.execute(select(func.count()).select_from(ledger_events)
                                     ).scalar_one()
    page, md = report.render_html(r), report.render_markdown(r)
    text = text_of(page)
    # figures match the raw tables
    assert f"Items {n_items}" in text
    assert f"Workers who answered {answerers}" in text
    assert r.facts.workforce.workers.value == answerers == 11
    # one worker's check-in is a figure about fewer than k workers: suppressed, never shown
    assert re.search(r"<dt>Well-being check-ins \(answers stay private\)</dt><dd><span "
                     rf"class=\"suppressed\">fewer than {K} workers</span></dd>", page)
    assert "Savanna Labeling" not in text  # a vendor of 2 workers is not named
    assert "GB" not in text.split() and "KE" not in text.split()  # 3 and 2 workers
    for section in report.SECTION_IDS:
        assert f'id="{section}"' in page
    assert_self_contained(page)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text(page, encoding="utf-8")
    (out / "report.md").write_text(md, encoding="utf-8")
    assert assert_no_secrets(store, out) == 2
    for alias in aliases:
        assert alias not in page and alias not in md
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
    assert not email.search(page) and not email.search(md)
    # reading and rendering wrote nothing
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_events)).scalar_one() == \
            events_before


def test_write_report_records_the_files_and_the_anchor(scenario_store: Store,
                                                       tmp_path: Path) -> None:
    store = scenario_store
    with store.read() as conn:
        head_seq, head_hash = ledger.head(conn)
    out = tmp_path / "out"
    written = report.write_report(store, "tox", out, actor="test")
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md"]
    for name, digest in written.files.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert (written.anchor.seq, written.anchor.hash) == (head_seq, head_hash)
    assert written.event_seq == head_seq + 1
    with store.read() as conn:
        event = conn.execute(select(ledger_events).where(
            ledger_events.c.seq == written.event_seq)).one()
        assert event.event == "report.generated"
        assert event.body["files"] == written.files
        assert event.body["anchor"] == {"seq": head_seq, "hash": head_hash}
        assert ledger.verify(conn).ok
        check = report.check_anchor(conn, head_seq, head_hash, written.files)
        assert check.ok and check.recorded_in == [written.event_seq], check
        # a changed file is not the one Handloom recorded
        changed = {"report.html": hashlib.sha256(
            (out / "report.html").read_bytes() + b" ").hexdigest()}
        assert not report.check_anchor(conn, head_seq, head_hash, changed).ok
        assert not report.check_anchor(conn, head_seq, "0" * 64).ok
        with pytest.raises(NotFound):
            report.check_anchor(conn, head_seq + 99, head_hash)


def test_k_only_goes_up_and_a_file_is_not_a_folder(scenario_store: Store,
                                                   tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="never lowered"):
        report.write_report(scenario_store, "tox", tmp_path / "low", k=3, actor="test")
    written = report.write_report(scenario_store, "tox", tmp_path / "high", k=6, actor="test")
    assert written.k == 6
    assert "fewer than 6 workers" in (tmp_path / "high" / "report.md").read_text()
    (tmp_path / "file").write_text("x")
    with pytest.raises(Invalid, match="needs a folder"):
        report.write_report(scenario_store, "tox", tmp_path / "file", actor="test")


def test_report_json_is_facts_scorecards_and_anchor(scenario_store: Store) -> None:
    with scenario_store.read() as conn:
        data: dict[str, Any] = report.report_json(report.build(conn, get_project(conn, "tox")))
    assert set(data) == {"facts", "scorecards", "anchor"}
    assert data["anchor"] == data["facts"]["anchor"]
    assert [c["id"] for c in data["scorecards"]] == ["pai", "crowdworksheets", "fairwork",
                                                     "nist"]
    assert all(p["status"] in ("met", "partly", "not_met", "not_recorded")
               for card in data["scorecards"] for p in card["points"])
