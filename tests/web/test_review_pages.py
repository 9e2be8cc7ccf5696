"""The review pages: a reviewer signs in, opens the queue and decides an item through the form.

The pages run in the real app under uvicorn (``live_server``) over both engines; a browser is
stood in for by an httpx client that keeps the session cookie and sends the form's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select
from web_helpers import csrf_of, signed_in_client

from factories import add_workers, answer_all, import_rows, make_project, text_items
from handloom import ledger
from handloom.store.db import Store
from handloom.store.schema import items, reviews
from handloom.work import accounts

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
ODD_ID = 'odd/id "#1"'
T, N, U = {"label": "toxic"}, {"label": "not_toxic"}, {"label": "unsure"}


@pytest.fixture
def seeded(store: Store) -> Store:
    """Project p: item-1 unanimous, item-2 and item-3 disputed, a hostile item disputed too;
    plus a reviewer, an auditor and a worker account with passwords."""
    with store.write() as conn:
        make_project(conn, title="Toxic comments")
        workers = add_workers(conn, 3)
        accounts.create_user(conn, "rita", "reviewer", password=PASSWORD, actor="test")
        accounts.create_user(conn, "aldo", "auditor", password=PASSWORD, actor="test")
        accounts.add_worker(conn, "wes", password=PASSWORD, actor="test")
    import_rows(store, "p", [*text_items(3), {"id": ODD_ID, "text": f"hi {HOSTILE} there"}])
    answer_all(store, "p", workers, {"item-1": [T, T, T], "item-2": [T, N, T],
                                     "item-3": [N, U, N], ODD_ID: [T, N, N]})
    return store


@contextmanager
def sign_in(base: str, username: str) -> Iterator[httpx.Client]:
    """A client signed in as *username* through the login form."""
    with signed_in_client(base, username, PASSWORD, "/review") as client:
        yield client


@pytest.fixture
def reviewer(seeded: Store, live_server: str) -> Iterator[httpx.Client]:
    with sign_in(live_server, "rita") as client:
        yield client


def final_answer(store: Store, external_id: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(items.c.final_answer)
                            .where(items.c.external_id == external_id)).scalar_one()


def href(external_id: str) -> str:
    return "/review/p/" + quote(external_id, safe="")


def test_a_reviewer_decides_a_disagreement_and_it_leaves_the_queue(
        seeded: Store, reviewer: httpx.Client) -> None:
    home = reviewer.get("/review")
    assert home.status_code == 200
    assert "Toxic comments" in home.text and 'href="/review/p"' in home.text
    assert re.search(r'class="count waiting">3<', home.text)

    queue = reviewer.get("/review/p")
    assert queue.status_code == 200
    assert 'href="/review/p/item-2"' in queue.text and 'href="/review/p/item-3"' in queue.text
    assert 'href="/review/p/item-1"' not in queue.text  # unanimous

    page = reviewer.get("/review/p/item-2")
    assert page.status_code == 200
    assert page.text.count('type="radio" name="choice"') == 4  # three answers and "write"
    assert re.findall(r'<code>(w_[0-9a-f]{16})</code>', page.text)
    assert "worker-1" not in page.text  # workers appear under pseudonyms only
    assert "&#34;label&#34;: &#34;toxic&#34;" in page.text  # the suggestion prefills the JSON
    reply = reviewer.post("/review/p/item-2", data={
        "csrf": csrf_of(page.text), "choice": "1", "final_answer": "",
        "reason": "Criticises an idea, not a person."})
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/review/p/item-3?decided=item-2"
    assert final_answer(seeded, "item-2") == N

    following = reviewer.get(reply.headers["location"])
    assert "Decision recorded for item item-2" in following.text
    queue = reviewer.get("/review/p")
    assert 'href="/review/p/item-2"' not in queue.text
    assert 'href="/review/p/item-3"' in queue.text
    decided = reviewer.get("/review/p/item-2")
    assert "Criticises an idea, not a person." in decided.text
    assert 'name="choice"' not in decided.text  # a decided item has no form
    with seeded.read() as conn:
        assert ledger.verify(conn).ok


def test_the_reviewer_may_write_the_final_answer(seeded: Store,
                                                 reviewer: httpx.Client) -> None:
    page = reviewer.get("/review/p/item-3")
    reply = reviewer.post("/review/p/item-3", data={
        "csrf": csrf_of(page.text), "choice": "custom",
        "final_answer": '{"label": "unsure"}', "reason": "Depends on context we lack."})
    assert reply.status_code == 303, reply.text
    assert final_answer(seeded, "item-3") == U


@pytest.mark.parametrize(("form", "message"), [
    ({"choice": "0", "reason": "  "}, "Give a reason"),
    ({"reason": "because"}, "Choose one of the answers"),
    ({"choice": "custom", "final_answer": "{oops", "reason": "because"}, "not valid JSON"),
    ({"choice": "custom", "final_answer": '{"label": "spam"}', "reason": "because"},
     "final_answer.label"),
])
def test_errors_re_render_the_form_with_the_message(seeded: Store, reviewer: httpx.Client,
                                                    form: dict[str, str], message: str) -> None:
    page = reviewer.get("/review/p/item-2")
    reply = reviewer.post("/review/p/item-2", data={"csrf": csrf_of(page.text), **form})
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in reply.text and message in reply.text
    if form.get("final_answer"):
        assert quote_html(form["final_answer"]) in reply.text  # what was typed is kept
    assert final_answer(seeded, "item-2") is None


def test_a_decided_item_is_not_decided_twice(seeded: Store, reviewer: httpx.Client) -> None:
    page = reviewer.get("/review/p/item-2")
    data = {"csrf": csrf_of(page.text), "choice": "0", "reason": "majority"}
    assert reviewer.post("/review/p/item-2", data=data).status_code == 303
    again = reviewer.post("/review/p/item-2", data={**data, "choice": "1"})
    assert again.status_code == 409 and "already decided" in again.text
    assert final_answer(seeded, "item-2") == T


def test_a_post_without_the_csrf_token_is_refused(seeded: Store, reviewer: httpx.Client) -> None:
    reply = reviewer.post("/review/p/item-2", data={"choice": "0", "reason": "majority"})
    assert reply.status_code == 403
    assert final_answer(seeded, "item-2") is None


def test_a_worker_gets_403(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "wes") as worker:
        for path in ("/review", "/review/p", "/review/p/item-2"):
            reply = worker.get(path)
            assert reply.status_code == 403, path
            assert "annotations.read" in reply.text
        csrf = csrf_of(worker.get("/login").text)
        reply = worker.post("/review/p/item-2", data={"csrf": csrf, "choice": "0",
                                                      "reason": "mine now"})
        assert reply.status_code == 403
    assert final_answer(seeded, "item-2") is None


def test_an_auditor_reads_the_queue_but_cannot_decide(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "aldo") as auditor:
        assert auditor.get("/review/p").status_code == 200
        page = auditor.get("/review/p/item-2")
        assert page.status_code == 200 and 'name="choice"' not in page.text
        reply = auditor.post("/review/p/item-2", data={"csrf": csrf_of(page.text),
                                                       "choice": "0", "reason": "audit"})
        assert reply.status_code == 403 and "may read the review queue but not decide" in \
            reply.text
    with seeded.read() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 0


def test_signed_out_visitors_are_sent_to_sign_in(seeded: Store, live_server: str) -> None:
    with httpx.Client(base_url=live_server) as anonymous:
        reply = anonymous.get("/review/p")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=")


def test_hostile_item_text_is_shown_escaped(seeded: Store, reviewer: httpx.Client) -> None:
    queue = reviewer.get("/review/p")
    assert f'href="{href(ODD_ID)}"' in queue.text
    page = reviewer.get(href(ODD_ID))
    assert page.status_code == 200
    for html in (queue.text, page.text):
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "odd/id &#34;#1&#34;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    reply = reviewer.post(href(ODD_ID), data={"csrf": csrf_of(page.text), "choice": "0",
                                              "reason": "Greeting with markup; not an attack."})
    assert reply.status_code == 303, reply.text
    assert final_answer(seeded, ODD_ID) == T


def test_an_unknown_project_or_item_is_a_404_page(seeded: Store, reviewer: httpx.Client) -> None:
    for path in ("/review/nope", "/review/p/no-such-item"):
        reply = reviewer.get(path)
        assert reply.status_code == 404 and reply.headers["content-type"].startswith("text/html")
    csrf = csrf_of(reviewer.get("/review/p/item-2").text)
    reply = reviewer.post("/review/p/no-such-item", data={"csrf": csrf, "choice": "custom",
                                                          "final_answer": '{"label": "toxic"}',
                                                          "reason": "x"})
    assert reply.status_code == 404


def quote_html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))
