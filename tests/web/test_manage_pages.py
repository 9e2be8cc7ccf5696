"""The manager's pages: the project list, a new project through the form (and its errors),
the project page with its charts, live guideline notes, item upload with the failing line
shown in context, and who may see what.

The pages run in the real app under uvicorn (``live_server``) over both engines; a browser is
stood in for by an httpx client that keeps the session cookie and sends the form's CSRF
token. The chart builders and the form helpers are checked directly at the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select
from web_helpers import csrf_of, signed_in_client

from factories import EXAMPLES, answer_all, import_rows, make_project, text_items
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.labor import floors, guidelines
from handloom.store.db import Store
from handloom.store.schema import items, projects, workers
from handloom.web import charts
from handloom.web.pages import manage
from handloom.work import accounts
from handloom.work import projects as project_svc

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
T, N = {"label": "toxic"}, {"label": "not_toxic"}
WORKER_REFS = ("amara-ref-1917", "joseph-ref-2204", "maria-ref-3310")

BAD_LINE_3 = (
    '{"id": "a1", "text": "one"}\n'
    '{"id": "a2", "text": "two"}\n'
    '{"id": "a3", "txt": "the field is misspelt"}\n'
    '{"id": "a4", "text": "four"}\n'
    '{"id": "a5", "text": "five"}\n'
    '{"id": "a6", "text": "six"}\n'
    '{"id": "a7", "text": "seven"}\n'
)


@pytest.fixture
def seeded(store: Store) -> Store:
    """Project p (toxicity labels, overlap 3) with three items answered by three workers,
    a hostile guideline note, and a manager, an auditor and a worker who sign in."""
    with store.write() as conn:
        floors.import_file(conn, EXAMPLES / "pay_floors.example.csv", actor="test")
        make_project(conn, title="Toxic comments", pay={"piece_rate": "0.10",
                                                        "est_seconds_per_item": 20})
        workers = [accounts.add_worker(conn, ref, actor="test") for ref in WORKER_REFS]
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
        accounts.create_user(conn, "aldo", "auditor", password=PASSWORD, actor="test")
        accounts.add_worker(conn, "wes", password=PASSWORD, actor="test")
    import_rows(store, "p", text_items(3))
    answer_all(store, "p", workers, {"item-1": [T, T, T], "item-2": [T, N, T],
                                     "item-3": [N, N, N]})
    with store.write() as conn:
        guidelines.flag(conn, project_svc.get_project(conn, "p"), workers[0], kind="unclear",
                        note=f"Is sarcasm toxic? {HOSTILE}", item_external_id="item-2")
    return store


@contextmanager
def sign_in(base: str, username: str) -> Iterator[httpx.Client]:
    """A client signed in as *username* through the login form."""
    with signed_in_client(base, username, PASSWORD, "/manage") as client:
        yield client


@pytest.fixture
def manager(seeded: Store, live_server: str) -> Iterator[httpx.Client]:
    with sign_in(live_server, "mona") as client:
        yield client


def text_of(page: str) -> str:
    """The page's text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


GOOD_FORM = {
    "name": "sentiment", "title": "Sentiment of reviews", "kind": "classification",
    "purpose": "Train a sentiment model.", "downstream_use": "training",
    "data_source": "Product reviews.", "overlap": "2", "gold_rate": "0.1",
    "lease_seconds": "300", "status": "open",
    "instructions": "Pick **one** label.\r\n\r\nThen submit.",
    "content_categories": "hate, harassment", "pay.model": "piece", "pay.currency": "EUR",
    "pay.piece_rate": "0.08", "pay.hourly_rate": "", "pay.est_seconds_per_item": "15",
    "pay.jurisdictions": "DE, FR", "kind_config": 'labels = ["positive", "negative"]',
}


def post_new(client: httpx.Client, **changes: str) -> httpx.Response:
    csrf = csrf_of(client.get("/manage/new").text)
    return client.post("/manage/new", data={**GOOD_FORM, **changes, "csrf": csrf})


def project_count(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def item_count(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(items)).scalar_one())


# ------------------------------------------------------------------ the project list
def test_the_list_shows_every_project_with_progress(manager: httpx.Client) -> None:
    page = manager.get("/manage")
    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/static/css/manage.css">' in page.text
    assert 'href="/manage/new"' in page.text  # the "New project" button
    assert 'href="/manage/p"' in page.text
    assert 'href="/manage/p/report"' in page.text  # each report is one click from the list
    text = text_of(page.text)
    assert "Toxic comments" in text and "classification" in text and "open" in text
    # 3 items, all done (overlap 3, three answers each); 9 answers by 3 workers
    assert "Done 3" in text and "In progress 0" in text and "Waiting 0" in text
    assert re.search(r'<svg class="chart stacked-bar"[^>]*role="img"', page.text)
    assert "style=" not in page.text and "<script>" not in page.text


def test_signing_in_from_the_list_redirects_back(seeded: Store, live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        reply = client.get("/manage")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/manage"


# ------------------------------------------------------------------ a new project
def test_a_manager_creates_a_project_through_the_form(manager: httpx.Client,
                                                      seeded: Store) -> None:
    form = manager.get("/manage/new")
    assert form.status_code == 200
    for kind in ("classification", "rating", "spans"):
        assert f'<option value="{kind}"' in form.text
    assert 'name="csrf"' in form.text
    reply = post_new(manager)
    assert reply.status_code == 303, text_of(reply.text)
    assert reply.headers["location"] == "/manage/sentiment"
    page = manager.get("/manage/sentiment")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Project sentiment created" in text
    assert "Sentiment of reviews" in text and "EUR 0.08 per item" in text
    assert "<strong>one</strong>" in page.text  # the instructions, as Markdown
    with store_read(seeded) as conn:
        row = project_svc.get_project(conn, "sentiment")
        described = project_svc.describe_project(conn, row)
    assert described["kind_config"] == {"labels": ["positive", "negative"]}
    assert (described["overlap"], described["gold_rate"], described["lease_seconds"]) == (
        2, 0.1, 300)
    assert described["content_categories"] == ["hate", "harassment"]
    assert described["pay"] == {"model": "piece", "currency": "EUR", "piece_rate": "0.08",
                                "piece_rates": {}, "hourly_rate": None,
                                "est_seconds_per_item": 15, "jurisdictions": ["DE", "FR"],
                                "pay_qualification_time": True, "pay_rejected_work": True}
    assert described["instructions"] == "Pick **one** label.\n\nThen submit."  # no CRLF


@contextmanager
def store_read(store: Store) -> Iterator[Any]:
    with store.read() as conn:
        yield conn


def field_error(page: str, field_id: str) -> str:
    """The role="alert" message shown beside the form field with id *field_id*."""
    found = re.search(rf'<p class="field-error" id="{field_id}-error" role="alert">([^<]*)</p>',
                      page)
    assert found, f"no error shown beside {field_id}"
    return html.unescape(found.group(1))


@pytest.mark.parametrize(("changes", "field_id", "expected"), [
    ({"name": "Bad Name!"}, "f-name", "lowercase letters"),
    ({"overlap": "0"}, "f-overlap", "greater than or equal to 1"),
    ({"gold_rate": "lots"}, "f-gold-rate", "valid number"),
    ({"pay.currency": "EUROS"}, "f-pay-currency", "at most 3 characters"),
    ({"pay.piece_rate": "0.001"}, "f-pay-piece-rate", "more decimals"),
    ({"kind_config": 'labels = ["only-one"]'}, "f-kind-config", "labels"),
    ({"kind_config": "labels = [unclosed"}, "f-kind-config", "Not valid TOML"),
    ({"kind_config": 'overlap = 9\nlabels = ["a", "b"]'}, "f-kind-config", "its own field"),
    ({"kind": "no-such-kind"}, "f-kind", "Unknown task kind"),
    ({"name": "p"}, "f-name", "already exists"),
])
def test_a_bad_spec_shows_the_error_beside_its_field(
        manager: httpx.Client, seeded: Store, changes: dict[str, str], field_id: str,
        expected: str) -> None:
    before = project_count(seeded)
    reply = post_new(manager, **changes)
    assert reply.status_code in (409, 422)
    assert expected in field_error(reply.text, field_id)
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', reply.text)
    assert "The project was not created" in reply.text
    # what was typed is kept
    assert 'value="Sentiment of reviews"' in reply.text
    assert "Pick **one** label.\n\nThen submit.</textarea>" in reply.text
    for value in changes.values():
        assert str(escape(value)) in reply.text
    assert project_count(seeded) == before


def test_creating_needs_the_csrf_token(manager: httpx.Client, seeded: Store) -> None:
    reply = manager.post("/manage/new", data=GOOD_FORM)
    assert reply.status_code == 403
    assert project_count(seeded) == 1


# ------------------------------------------------------------------ the project page
def test_the_project_page_shows_progress_charts_and_agreement(manager: httpx.Client) -> None:
    page = manager.get("/manage/p")
    assert page.status_code == 200
    text = text_of(page.text)
    for heading in ("Progress", "Throughput", "Answers per worker", "Agreement",
                    "Notes from workers", "Upload items", "Policies"):
        assert heading in text
    assert page.text.count('role="img"') == 3  # progress, throughput, answers per worker
    assert 'class="chart line-chart"' in page.text and 'class="chart bar-chart"' in page.text
    assert "9 in all" in text  # answers in the last 48 hours
    # item-1 and item-3 unanimous (1.0), item-2 T/N/T: pairs 1, 0, 0 → 1/3; mean 0.78
    assert "Mean pairwise agreement 0.78" in text
    assert "Unanimous items 67%" in text
    assert "USD 18.00 per hour at the estimated 20 s per item" in text
    assert "style=" not in page.text and "<script>" not in page.text


def test_workers_appear_by_pseudonym_only(manager: httpx.Client, seeded: Store) -> None:
    page = manager.get("/manage/p").text
    with seeded.read() as conn:
        secret = project_svc.get_project(conn, "p").pseudonym_secret
        ids = conn.execute(select(workers.c.id).where(workers.c.ref.in_(WORKER_REFS))).scalars()
        names = [pseudonym(secret, worker_id) for worker_id in ids]
    assert len(names) == 3
    for name in names:
        assert name in page
    flags = manager.get("/manage/p/flags").text
    for ref in WORKER_REFS:
        assert ref not in page and ref not in flags


def test_guideline_notes_are_polled_and_escaped(manager: httpx.Client) -> None:
    page = manager.get("/manage/p").text
    assert 'hx-get="/manage/p/flags"' in page and 'hx-trigger="every 10s"' in page
    partial = manager.get("/manage/p/flags")
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "Is sarcasm toxic? &lt;script&gt;alert(1)&lt;/script&gt;" in partial.text
    assert HOSTILE not in partial.text and HOSTILE not in page
    assert "item-2" in partial.text


def test_polling_after_the_session_ended_stops_politely(seeded: Store,
                                                        live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        reply = client.get("/manage/p/flags")
    assert reply.status_code == 286  # htmx stops polling on 286
    assert "Sign in again" in reply.text
    assert "sarcasm" not in reply.text


def test_an_unknown_project_is_a_404_page(manager: httpx.Client) -> None:
    reply = manager.get("/manage/nope")
    assert reply.status_code == 404
    assert "No project 'nope'" in html.unescape(reply.text)


# ------------------------------------------------------------------ upload
def upload(client: httpx.Client, filename: str, data: bytes,
           project: str = "p") -> httpx.Response:
    csrf = csrf_of(client.get(f"/manage/{project}").text)
    return client.post(f"/manage/{project}/upload", data={"csrf": csrf},
                       files={"file": (filename, data, "application/octet-stream")})


def context_rows(page: str) -> list[tuple[str, int, str]]:
    """(row class, line number, text) of the lines shown around a failing line."""
    rows = re.findall(r'<tr( class="failing")?>\s*<th scope="row" class="line-no">(\d+)</th>'
                      r'\s*<td class="line-text"><code>([^<]*)</code>', page)
    return [("failing" if cls else "", int(n), html.unescape(t)) for cls, n, t in rows]


def test_a_bad_line_is_shown_in_context_and_nothing_is_imported(manager: httpx.Client,
                                                                seeded: Store) -> None:
    before = item_count(seeded)
    reply = upload(manager, "batch.jsonl", BAD_LINE_3.encode())
    assert reply.status_code == 422
    text = text_of(reply.text)
    assert "nothing was imported" in text
    assert "batch.jsonl, line 3" in text
    assert "field text" in text and "Field required" in text
    rows = context_rows(reply.text)
    lines = BAD_LINE_3.splitlines()
    assert rows == [("failing" if n == 3 else "", n, lines[n - 1]) for n in range(1, 7)]
    failing = reply.text.split('<tr class="failing">', 1)[1].split("</tr>", 1)[0]
    assert 'class="line-reason"' in failing and "Field required" in failing
    assert item_count(seeded) == before


def test_a_bad_csv_row_is_numbered_as_its_line(manager: httpx.Client, seeded: Store) -> None:
    data = b"id,text\nc1,hello\n,no id here\nc3,bye\n"
    reply = upload(manager, "batch.csv", data)
    assert reply.status_code == 422
    assert "batch.csv, line 3" in text_of(reply.text)
    rows = context_rows(reply.text)
    assert [(c, n) for c, n, _ in rows] == [("", 1), ("", 2), ("failing", 3), ("", 4)]
    assert rows[2][2] == ",no id here"
    assert item_count(seeded) == 3


def test_long_and_undecodable_lines_are_shown_safely(manager: httpx.Client,
                                                     seeded: Store) -> None:
    long_text = "x" * 5000
    data = (b'{"id": "a1", "text": "' + long_text.encode() + b'"}\n'
            b'{"id": "a2", "text": "bad \xff byte", "gold": "nonsense-label"}\n')
    reply = upload(manager, "odd.jsonl", data)
    assert reply.status_code == 422
    rows = context_rows(reply.text)
    assert [(c, n) for c, n, _ in rows] == [("", 1), ("failing", 2)]
    assert len(rows[0][2]) == manage.LINE_LIMIT + 1 and rows[0][2].endswith("…")
    assert "\ufffd" in rows[1][2]
    assert item_count(seeded) == 3


def test_a_good_upload_says_how_many_items_came_in(manager: httpx.Client,
                                                   seeded: Store) -> None:
    good = BAD_LINE_3.replace('"txt"', '"text"').encode()
    reply = upload(manager, "batch.jsonl", good)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/manage/p"
    assert "Imported 7 items from batch.jsonl." in text_of(manager.get("/manage/p").text)
    assert item_count(seeded) == 10
    # the message is shown once
    assert "Imported 7 items" not in manager.get("/manage/p").text


def test_an_upload_without_a_file_says_so(manager: httpx.Client) -> None:
    csrf = csrf_of(manager.get("/manage/p").text)
    reply = manager.post("/manage/p/upload", data={"csrf": csrf},
                         files={"file": ("", b"", "application/octet-stream")})
    assert reply.status_code == 422
    assert "Choose a JSONL, CSV or Parquet file" in reply.text


def test_an_unknown_file_type_is_refused(manager: httpx.Client, seeded: Store) -> None:
    reply = upload(manager, "items.xlsx", b"PK\x03\x04")
    assert reply.status_code == 422
    assert "unknown file type .xlsx" in text_of(reply.text)
    assert item_count(seeded) == 3


# ------------------------------------------------------------------ who may see what
def test_a_worker_gets_403_on_every_manager_page(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "wes") as client:
        for path in ("/manage", "/manage/new", "/manage/p", "/manage/p/flags"):
            assert client.get(path).status_code == 403, path
        csrf = csrf_of(client.get("/").text)
        assert client.post("/manage/new", data={**GOOD_FORM, "csrf": csrf}).status_code == 403
        reply = client.post("/manage/p/upload", data={"csrf": csrf},
                            files={"file": ("b.jsonl", b'{"id": "z", "text": "z"}\n')})
        assert reply.status_code == 403
    assert project_count(seeded) == 1 and item_count(seeded) == 3


def test_an_auditor_reads_but_cannot_create_or_upload(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "aldo") as client:
        listing = client.get("/manage")
        assert listing.status_code == 200
        assert 'href="/manage/new"' not in listing.text
        page = client.get("/manage/p")
        assert page.status_code == 200
        assert "Upload items" not in page.text and "Mean pairwise agreement" in page.text
        assert client.get("/manage/p/flags").status_code == 200
        assert client.get("/manage/new").status_code == 403
        csrf = csrf_of(page.text)
        reply = client.post("/manage/p/upload", data={"csrf": csrf},
                            files={"file": ("b.jsonl", b'{"id": "z", "text": "z"}\n')})
        assert reply.status_code == 403
    assert item_count(seeded) == 3


# ------------------------------------------------------------------ charts
def test_charts_escape_every_label() -> None:
    evil = '"><script>alert(1)</script>'
    svg = str(charts.bar_chart([(evil, 3), ("w_abc", 1)], chart_id='c"1', title=evil,
                               unit="answers"))
    assert "<script>" not in svg and 'c"1' not in svg
    assert "&lt;script&gt;" in svg and "&#34;" in svg
    line = str(charts.line_chart([(evil, 1.0), ("b", 2.0)], chart_id="l", title="t",
                                 x_ticks=[(0, evil)]))
    assert "<script>" not in line
    bar = str(charts.stacked_bar([charts.Segment(evil, 1, 'x" onload="y')], chart_id="s",
                                 title="t"))
    assert "<script>" not in bar and 'onload="' not in bar
    legend = str(charts.legend([charts.Segment(evil, 2, "seg-done")]))
    assert "<script>" not in legend


def test_charts_are_accessible_images_with_their_numbers() -> None:
    svg = str(charts.bar_chart([("w_a", 3), ("w_b", 1)], chart_id="c", title="Per worker",
                               unit="answers"))
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Per worker</title>' in svg
    assert "w_a: 3 answers; w_b: 1 answers" in svg
    bar = str(charts.stacked_bar([charts.Segment("Done", 1, "seg-done"),
                                  charts.Segment("Waiting", 3, "seg-waiting")],
                                 chart_id="s", title="Progress"))
    assert "Done: 1 (25%); Waiting: 3 (75%); total 4." in bar
    line = str(charts.line_chart([("09:00", 0.0), ("10:00", 4.0), ("11:00", 1.0)],
                                 chart_id="l", title="Per hour", unit="answers"))
    assert "Total 5 answers; highest 4 at 10:00" in line
    assert "Non-zero values: 10:00: 4; 11:00: 1. All others 0." in line
    assert 'class="series-1 line"' in line
    assert "style" not in svg + bar + line


def test_charts_draw_nothing_wrong_when_empty() -> None:
    assert "No data yet" in str(charts.bar_chart([], chart_id="e", title="t"))
    assert "No data yet" in str(charts.line_chart([], chart_id="e", title="t"))
    empty = str(charts.stacked_bar([charts.Segment("Done", 0, "seg-done")], chart_id="e",
                                   title="t"))
    assert "total 0" in empty and 'class="seg-done"' not in empty


def test_line_chart_geometry() -> None:
    svg = str(charts.line_chart([("a", 0.0), ("b", 10.0)], chart_id="g", title="t",
                                width=200, height=130))
    # plot: x from 44 to 186, y from 12 (top, value 10) to 100 (bottom, value 0)
    assert 'points="44,100 186,12"' in svg


@pytest.mark.parametrize(("maximum", "ticks"), [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]),
    (10, [0, 5, 10]), (38, [0, 10, 20, 30, 40]), (1234, [0, 500, 1000, 1500]),
])
def test_axis_ticks_are_round(maximum: float, ticks: list[float]) -> None:
    assert charts.axis_ticks(maximum) == ticks


# ------------------------------------------------------------------ form helpers
def test_spec_from_form_builds_the_toml_shape() -> None:
    values = {**GOOD_FORM, "lease_seconds": "", "pay.piece_rate": "",
              "kind_config": 'labels = ["a", "b"]\n[exposure]\nblur_sensitive = false'}
    raw = manage.spec_from_form(values)
    assert raw["labels"] == ["a", "b"] and raw["exposure"] == {"blur_sensitive": False}
    assert "lease_seconds" not in raw and "piece_rate" not in raw["pay"]
    assert raw["content_categories"] == ["hate", "harassment"]
    assert raw["pay"]["jurisdictions"] == ["DE", "FR"]
    assert project_svc.parse_spec(raw).kind_config() == {"labels": ["a", "b"]}


@pytest.mark.parametrize("kind", sorted(manage.KIND_EXAMPLES))
def test_every_kind_example_is_a_valid_configuration(kind: str) -> None:
    values = {**GOOD_FORM, "kind": kind, "kind_config": manage.KIND_EXAMPLES[kind]}
    assert project_svc.parse_spec(manage.spec_from_form(values)).kind == kind


def test_spec_from_form_refuses_bad_toml() -> None:
    with pytest.raises(Invalid) as info:
        manage.spec_from_form({**GOOD_FORM, "kind_config": "= nope"})
    assert info.value.field == "kind_config"


@pytest.mark.parametrize(("error_field", "form_field"), [
    (None, None), ("name", "name"), ("pay.currency", "pay.currency"),
    ("content_categories.0", "content_categories"), ("labels", "kind_config"),
    ("criteria.0.max", "kind_config"), ("exposure.limits", "kind_config"),
])
def test_errors_land_on_their_form_field(error_field: str | None,
                                         form_field: str | None) -> None:
    assert manage.form_field(error_field) == form_field


def test_failure_context_numbers_lines_like_the_importer() -> None:
    data = b"l1\r\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n"
    got = manage.failure_context(data, 5)
    assert [(r["number"], r["text"], r["failing"]) for r in got] == [
        (2, "l2", False), (3, "l3", False), (4, "l4", False), (5, "l5", True),
        (6, "l6", False), (7, "l7", False), (8, "l8", False)]
    assert [r["number"] for r in manage.failure_context(data, 1)] == [1, 2, 3, 4]
