"""The manager's pay page (SQLite and PostgreSQL): the alert when a worker earns below the
floor, the floor check with its numbers, effective pay per worker and unpaid time by reason
as charts, top-ups proposed, approved and dismissed through the forms, the payroll CSV; and
the pay section of a worker's own page."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from web_helpers import csrf_of, signed_in_client

from factories import add_workers, import_rows, make_project, text_items
from handloom.labor import floors, timekeeping
from handloom.store.db import Store
from handloom.web.pages import pay as pay_pages
from handloom.web.pages.render import templates
from handloom.work import accounts, projects
from handloom.work.routing import close_lease, next_item
from handloom.work.submissions import submit_answer

PASSWORD = "correct horse battery"
KE = {"jurisdiction": "KE", "currency": "USD", "hourly": "2.00", "source": "Test floor",
      "effective_date": "2024-01-01"}


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def answer(store: Store, worker: int, seconds: float) -> None:
    with store.write() as conn:
        row = projects.get_project(conn, "p")
        lease = next_item(conn, row, worker)
        assert lease is not None
        submit_answer(conn, row, projects.kind_of(row), worker, lease.assignment_id,
                      {"label": "toxic"}, idempotency_key=f"{worker}-{lease.assignment_id}",
                      active_seconds=seconds)


@pytest.fixture
def seeded(store: Store) -> tuple[Store, list[int]]:
    """Project p at USD 0.02 a piece (est. 30 s) recruiting in KE (floor USD 2.00); the slow
    worker answers in 30, 45, 60 and 75 s, reads the instructions for 60 s and skips an item
    after 15 s; the quick one answers in 20 s."""
    with store.write() as conn:
        floors.import_rows(conn, [KE], source="test", actor="test")
        make_project(conn, title="Toxic <b>comments</b>", overlap=2,
                     pay={"piece_rate": "0.02", "est_seconds_per_item": 30,
                          "jurisdictions": ["KE"]})
        slow, quick = (accounts.add_worker(conn, ref, jurisdiction="KE", password=PASSWORD)
                       for ref in ("kofi-secret", "ama-secret"))
        for name, role in (("mona", "manager"), ("aldo", "auditor"), ("rita", "reviewer")):
            accounts.create_user(conn, name, role, password=PASSWORD, actor="test")
    import_rows(store, "p", text_items(8))
    for seconds in (30.0, 45.0, 60.0, 75.0):
        answer(store, slow, seconds)
    answer(store, quick, 20.0)
    with store.write() as conn:
        project = projects.get_project(conn, "p")
        timekeeping.read_instructions(conn, project, slow, 1, 60.0)
        lease = next_item(conn, project, slow)
        assert lease is not None
        close_lease(conn, project, slow, lease.assignment_id, status="skipped",
                    active_seconds=15.0)
    return store, [slow, quick]


@pytest.fixture
def manager(seeded: tuple[Store, list[int]], live_server: str) -> Iterator[httpx.Client]:
    with signed_in_client(live_server, "mona", PASSWORD, "/manage") as client:
        yield client


def test_the_pay_page_alerts_and_shows_the_numbers(manager: httpx.Client) -> None:
    page = manager.get("/manage/p/pay")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    # 8 cents over 30 + 45 + 60 + 75 + 60 + 15 = 285 s: 8 × 3600 / 285 = 101.05 → USD 1.01
    # an hour; due ceil(200 × 285 / 3600) = ceil(15.83) = 16 cents: short by 8.
    assert 'role="alert"' in page.text and "Pay below the floor." in text
    assert "1 worker(s) earn less than their floor an hour" in text
    assert "top-ups of USD 0.08 in all" in text
    # fewer than ten answers: the check still rests on the estimate of 30 s (USD 2.40 an hour)
    assert "Project p meets the pay floor" in text and "USD 2.40 an hour" in text
    assert "Measured median: 45 s per item over 5 accepted answers" in text
    assert "the project opened with 30 s" in text
    assert page.text.count('role="img"') == 2
    assert "reading instructions 0.02" in text and "skipped items 0.00" in text
    assert "1.01" in text and "0.08" in text
    assert "kofi-secret" not in page.text and "ama-secret" not in page.text
    assert "Toxic &lt;b&gt;comments&lt;/b&gt;" in page.text  # escaped, never markup
    assert 'href="/manage/p/pay/report.csv"' in page.text
    assert 'id="btn-pay-check"' in page.text
    assert "No top-up waits for a decision." in text


def test_top_ups_are_proposed_approved_and_dismissed_through_the_forms(
        manager: httpx.Client, seeded: tuple[Store, list[int]]) -> None:
    store, (slow, _) = seeded
    csrf = csrf_of(manager.get("/manage/p/pay").text)
    reply = manager.post("/manage/p/pay/check", data={"csrf": csrf})
    assert reply.status_code == 303 and reply.headers["location"] == "/manage/p/pay#top-ups"
    page = manager.get("/manage/p/pay")
    text = text_of(page.text)
    assert "1 top-up(s) wait for a decision" in text
    found = re.search(r'action="/manage/p/pay/top-ups/(\d+)/approve"', page.text)
    assert found, "no Approve form"
    adjustment = int(found.group(1))
    assert "USD 0.08" in text and "below the KE floor of USD 2.00" in text

    empty = manager.post(f"/manage/p/pay/top-ups/{adjustment}/dismiss",
                         data={"csrf": csrf, "reason": " "})
    assert empty.status_code == 303
    assert "Say why the top-up is dismissed" in text_of(manager.get("/manage/p/pay").text)

    assert manager.post(f"/manage/p/pay/top-ups/{adjustment}/approve",
                        data={"csrf": csrf}).status_code == 303
    after = text_of(manager.get("/manage/p/pay").text)
    assert f"Top-up {adjustment} approved" in after
    assert "1 top-up(s) approved so far, USD 0.08 in all." in after
    assert "Pay below the floor." not in after
    again = manager.post(f"/manage/p/pay/top-ups/{adjustment}/approve", data={"csrf": csrf})
    assert again.status_code == 303
    assert "cannot be approved again" in text_of(manager.get("/manage/p/pay").text)
    assert manager.post(f"/manage/p/pay/top-ups/{adjustment}/approve",
                        data={}).status_code == 403  # no CSRF token

    with store.read() as conn:
        mine = pay_pages.me_section(conn, slow)
    assert mine["projects"][0]["amounts_minor"]["top_up"] == 8


def test_the_payroll_csv_uses_pseudonyms(manager: httpx.Client) -> None:
    reply = manager.get("/manage/p/pay/report.csv")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert sorted(int(r["total_minor"]) for r in rows) == [2, 8]
    assert "secret" not in reply.text


@pytest.mark.parametrize(("who", "status"), [("aldo", 200), ("rita", 403), ("kofi-secret", 403)])
def test_who_may_see_the_pay_page(seeded: tuple[Store, list[int]], live_server: str, who: str,
                                  status: int) -> None:
    with signed_in_client(live_server, who, PASSWORD) as client:
        page = client.get("/manage/p/pay")
        assert page.status_code == status
        if status == 200:  # an auditor reads, but has no forms to decide with
            assert "btn-pay-check" not in page.text and "/approve" not in page.text


def test_the_workers_own_pay_section(seeded: tuple[Store, list[int]]) -> None:
    store, (slow, quick) = seeded
    with store.read() as conn:
        section = pay_pages.me_section(conn, slow)
        empty = pay_pages.me_section(conn, add_workers(conn, 1, prefix="new")[0])
    rendered = templates.get_template("partials/me_pay.html").render(
        section=section, csrf="token", me=None)
    text = text_of(rendered)
    assert "USD 0.08 for 4 of your 4 answers" in text
    assert "Effective pay per hour USD 1.01" in text
    assert "is below the floor of USD 2.00 (KE)" in text and "you are below it" in text
    assert "reading instructions: 0.02 h" in text and "skipped items: 0.00 h" in text
    assert "Toxic &lt;b&gt;comments&lt;/b&gt;" in rendered
    assert "No pay or work time recorded yet." in text_of(
        templates.get_template("partials/me_pay.html").render(section=empty, csrf="t", me=None))
    with store.read() as conn:
        manage = pay_pages.manage_section(conn, projects.get_project(conn, "p"))
    partial = templates.get_template("partials/manage_pay.html").render(
        section=manage, csrf="token", me=None)
    assert "Pay below the floor." in text_of(partial) and "/approve" not in partial
    assert quick
