"""The transparency report over HTTP (SQLite and PostgreSQL): the API gives the facts, the
scorecards and the anchor as JSON, or the documents as downloads; the page shows the same
report to owners, managers and auditors, one click from the project page, with downloads;
reading either writes nothing to the ledger; others are refused."""

from __future__ import annotations

import re

import httpx
import pytest
from web_helpers import People, json_error, signed_in_client

from factories import add_workers, answer_next, import_rows, make_project, text_items
from handloom import ledger
from handloom.disclose.report import SECTION_IDS
from handloom.store.db import Store
from handloom.work import accounts

PASSWORD = "correct horse battery"


@pytest.fixture
def seeded(store: Store) -> Store:
    """Project p: six workers (refs that must never show) answered six items twice."""
    with store.write() as conn:
        make_project(conn, "p", title="Toxic <b>replies</b>", overlap=2, status="open",
                     purpose="Flag <script>toxic</script> replies.")
        ids = add_workers(conn, 6, prefix="hidden-ref")
        for name, role in (("olga", "owner"), ("mona", "manager"), ("aldo", "auditor"),
                           ("rita", "reviewer")):
            accounts.create_user(conn, name, role, password=PASSWORD, actor="test")
    import_rows(store, "p", text_items(6))
    for _round in range(2):  # round robin: each worker answers two items
        for wid in ids:
            assert answer_next(store, "p", wid) is not None
    return store


def ledger_size(store: Store) -> int:
    with store.read() as conn:
        return ledger.head(conn)[0]


def test_the_report_as_json(seeded: Store, api: httpx.Client, people: People) -> None:
    auditor, owner = people.role("auditor"), people.role("owner")
    before = ledger_size(seeded)
    reply = api.get("/api/v1/projects/p/report", headers=auditor.headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"facts", "scorecards", "anchor"}
    assert body["facts"]["project"]["name"] == "p"
    assert body["facts"]["workforce"]["workers"] == {"value": 6, "workers": 6,
                                                    "suppressed": False}
    assert body["anchor"]["seq"] == before  # the report covers the ledger as it stood
    assert {c["id"] for c in body["scorecards"]} == {"pai", "crowdworksheets", "fairwork",
                                                     "nist"}
    assert "hidden-ref" not in reply.text
    raised = api.get("/api/v1/projects/p/report", params={"k": 7},
                     headers=owner.headers).json()
    assert raised["facts"]["k"] == 7
    assert raised["facts"]["workforce"]["workers"]["suppressed"] is True
    assert ledger_size(seeded) == before  # reading writes nothing


@pytest.mark.parametrize(("fmt", "media"), [("html", "text/html"), ("md", "text/markdown")])
def test_the_documents_download(seeded: Store, api: httpx.Client, people: People, fmt: str,
                                media: str) -> None:
    reply = api.get("/api/v1/projects/p/report", params={"format": fmt},
                    headers=people.role("manager").headers)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith(media)
    assert reply.headers["content-disposition"] == f'attachment; filename="p-report.{fmt}"'
    assert "Transparency report" in reply.text and "hidden-ref" not in reply.text
    assert "<script>" not in reply.text


def test_errors_say_what_is_wrong(seeded: Store, api: httpx.Client, people: People) -> None:
    owner = people.role("owner").headers
    missing = json_error(api.get("/api/v1/projects/nope/report", headers=owner), 404)
    assert "nope" in missing["message"]
    json_error(api.get("/api/v1/projects/p/report", params={"k": 4}, headers=owner), 422)
    json_error(api.get("/api/v1/projects/p/report", params={"format": "pdf"}, headers=owner),
               422)
    for role in ("reviewer", "worker"):
        refused = json_error(api.get("/api/v1/projects/p/report",
                                     headers=people.role(role).headers), 403)
        assert "report.read" in refused["message"]


def test_the_report_page_and_its_downloads(seeded: Store, live_server: str) -> None:
    before = ledger_size(seeded)
    with signed_in_client(live_server, "aldo", PASSWORD) as browser:
        project_page = browser.get("/manage/p").text
        assert 'href="/manage/p/report" id="link-report"' in project_page
        page = browser.get("/manage/p/report")
        assert page.status_code == 200
        text = page.text
        for section in SECTION_IDS:
            assert f'id="{section}"' in text
        assert '<link rel="stylesheet" href="/reports/report.css">' in text
        assert "<style>" not in text  # the page's CSP forbids inline styles
        assert "Toxic &lt;b&gt;replies&lt;/b&gt;" in text and "<script>toxic" not in text
        assert "hidden-ref" not in text
        css = browser.get("/reports/report.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert ".hl-report" in css.text
        html_file = browser.get("/manage/p/report.html")
        assert html_file.headers["content-disposition"] == 'attachment; filename="p-report.html"'
        assert html_file.text.startswith("<!doctype html>") and "<style>" in html_file.text
        md_file = browser.get("/manage/p/report.md")
        assert md_file.text.startswith("# Transparency report")
        assert browser.get("/manage/p/report.pdf").status_code == 404
    assert ledger_size(seeded) == before
    with signed_in_client(live_server, "rita", PASSWORD) as reviewer:
        assert 'id="link-report"' not in reviewer.get("/manage/p").text
        assert reviewer.get("/manage/p/report").status_code == 403
        assert reviewer.get("/manage/p/report.html").status_code == 403


def test_owners_and_managers_see_the_link(seeded: Store, live_server: str) -> None:
    for name in ("olga", "mona"):
        with signed_in_client(live_server, name, PASSWORD) as browser:
            page = browser.get("/manage/p").text
            assert re.search(r'<a class="button" href="/manage/p/report" id="link-report">'
                             r"Transparency report</a>", page)
            assert browser.get("/manage/p/report").status_code == 200


def test_the_sdk_reads_the_report(seeded: Store, live_server: str, people: People) -> None:
    from handloom.sdk import Client, HandloomAPIError

    with Client(live_server, people.role("auditor").token) as client:
        data = client.report("p")
        assert data["anchor"]["seq"] == data["facts"]["anchor"]["seq"]
        anchor = f"{data['anchor']['seq']}:{data['anchor']['hash']}"
        assert client.verify_ledger(anchor=anchor)["ok"] is True  # the auditor's check
        assert client.report("p", k=8)["facts"]["k"] == 8
        assert client.report_document("p", "md").startswith("# Transparency report")
        assert "<!doctype html>" in client.report_document("p")
        with pytest.raises(HandloomAPIError) as refused:
            client.report("p", k=2)
        assert refused.value.status == 422
