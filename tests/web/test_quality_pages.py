"""The quality engine in the pages: the manager's quality panel and its "Recompute aggregate"
button, the worker's "How you are judged", and why an item waits in the review queue.

The scene (over both engines): project p with two labels, one of them hostile HTML, overlap
3, every other item a gold item and review below 0.85. Three workers answer four items and
two gold items; worker 2 misses one gold item and disagrees on two items. The answer-by-answer
posterior puts item-2 and item-4 at 0.80 (queued for low confidence), Dawid–Skene puts them
at 0.87 (so recomputing takes them off the queue); the missed gold item g-1 is queued too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select
from web_helpers import csrf_of, signed_in_client

from factories import answer_all, import_rows, make_project
from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.store.db import Store
from handloom.store.schema import ledger_events, users, workers
from handloom.work import accounts, projects, quality, review

PASSWORD = "correct horse battery"
HOSTILE = '<script>alert("label")</script>'
H, N = {"label": HOSTILE}, {"label": "not_toxic"}
REFS = ("wes", "wanda", "walt")


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.write() as conn:
        make_project(conn, title="Toxic comments", labels=[HOSTILE, "not_toxic"],
                     gold_rate=0.5, quality={"review_below": 0.85})
        workers = [accounts.add_worker(conn, ref, password=PASSWORD, actor="test")
                   for ref in REFS]
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
        accounts.create_user(conn, "aldo", "auditor", password=PASSWORD, actor="test")
        accounts.create_user(conn, "rita", "reviewer", password=PASSWORD, actor="test")
    rows = [{"id": f"item-{i}", "text": f"text number {i}"} for i in range(1, 5)]
    rows += [{"id": "g-1", "text": "gold one", "gold": HOSTILE},
             {"id": "g-2", "text": "gold two", "gold": "not_toxic"}]
    import_rows(store, "p", rows)
    answer_all(store, "p", workers, {
        "item-1": [H, H, H], "item-2": [H, N, H], "item-3": [N, N, N], "item-4": [H, N, N],
        "g-1": [H, N, H], "g-2": [N, N, N]})
    return store


@contextmanager
def sign_in(base: str, username: str, next_path: str = "/") -> Iterator[httpx.Client]:
    with signed_in_client(base, username, PASSWORD, next_path) as client:
        yield client


@pytest.fixture
def manager(seeded: Store, live_server: str) -> Iterator[httpx.Client]:
    with sign_in(live_server, "mona", "/manage") as client:
        yield client


def text_of(page: str) -> str:
    """The page's text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def panel(page: str) -> str:
    """The text of the quality panel alone."""
    found = re.search(r'<section class="card quality-panel".*?</section>', page, re.S)
    assert found, "no quality panel on the page"
    return text_of(found.group(0))


def worker_id(store: Store, ref: str) -> int:
    with store.read() as conn:
        return int(conn.execute(select(workers.c.id).where(workers.c.ref == ref)).scalar_one())


def who(store: Store, ref: str) -> str:
    with store.read() as conn:
        project = projects.get_project(conn, "p")
    return pseudonym(project.pseudonym_secret, worker_id(store, ref))


def waiting(store: Store) -> list[tuple[str, str | None]]:
    with store.read() as conn:
        queue = review.disagreement_queue(conn, projects.get_project(conn, "p"), 50)
    return [(e["id"], e["reason"]) for e in queue]


def recompute(client: httpx.Client) -> httpx.Response:
    csrf = csrf_of(client.get("/manage/p").text)
    return client.post("/manage/p/aggregate", data={"csrf": csrf})


# ------------------------------------------------------------------ the manager's panel
def test_the_quality_panel_shows_the_numbers(seeded: Store, manager: httpx.Client) -> None:
    page = manager.get("/manage/p")
    assert page.status_code == 200
    text = panel(page.text)
    assert "Aggregation Dawid–Skene" in text
    # online posteriors 0.98, 0.80, 0.98, 0.80: mean 0.89, two below 0.85
    assert "Mean confidence 0.89" in text and "Below 0.85 2" in text
    assert "Waiting for review 3" in text
    assert "2 for low confidence, 1 because a gold answer was missed" in text
    with seeded.read() as conn:
        alpha = quality.project_agreement(conn, projects.get_project(conn, "p"))
    assert f"Krippendorff's α {alpha.value:.2f}" in text
    assert f"over {alpha.n_items} items and {alpha.n_workers} workers" in text
    # workers by pseudonym only, with their gold accuracy
    assert f"{who(seeded, 'wanda')} 1 of 2 (50%) – – –" in text
    assert f"{who(seeded, 'wes')} 2 of 2 (100%)" in text
    for ref in REFS:
        assert ref not in text
    assert 'action="/manage/p/aggregate"' in page.text
    assert "style=" not in page.text and "<script>" not in page.text


def test_recompute_runs_the_aggregation_and_updates_the_queue(
        seeded: Store, manager: httpx.Client) -> None:
    assert waiting(seeded) == [("item-2", "low_confidence"), ("item-4", "low_confidence"),
                               ("g-1", "gold_failed")]
    reply = recompute(manager)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/manage/p#h-quality"
    # Dawid–Skene is surer of item-2 and item-4 (0.87): they leave the queue; g-1 stays
    assert waiting(seeded) == [("g-1", "gold_failed")]
    with seeded.read() as conn:
        events = conn.execute(select(ledger_events.c.actor, ledger_events.c.body)
                              .where(ledger_events.c.event == "quality.aggregated")).all()
        mona = int(conn.execute(select(users.c.id).where(users.c.username == "mona"))
                   .scalar_one())
        assert ledger.verify(conn).ok
    assert len(events) == 1
    actor, body = events[0]
    assert actor == f"user:{mona}"
    assert (body["method"], body["items"], body["queued"], body["unqueued"]) == ("ds", 4, 0, 2)
    page = manager.get("/manage/p")
    assert "0 items newly queued for review, 2 taken off the queue" in text_of(page.text)
    text = panel(page.text)
    assert "Waiting for review 1" in text and "Below 0.85 0" in text
    assert f"{who(seeded, 'wanda')} 1 of 2 (50%) 75% of 4" in text
    assert f"{who(seeded, 'walt')} 2 of 2 (100%) 100% of 4" in text


def test_recompute_needs_the_form_token_and_a_manager(seeded: Store, live_server: str,
                                                      manager: httpx.Client) -> None:
    assert manager.post("/manage/p/aggregate", data={}).status_code == 403
    with sign_in(live_server, "aldo", "/manage") as auditor:
        page = auditor.get("/manage/p")
        assert page.status_code == 200
        assert "Quality" in panel(page.text)
        assert 'action="/manage/p/aggregate"' not in page.text  # no button for a reader
        reply = auditor.post("/manage/p/aggregate", data={"csrf": csrf_of(page.text)})
        assert reply.status_code == 403
    with seeded.read() as conn:
        assert conn.execute(select(ledger_events.c.seq).where(
            ledger_events.c.event == "quality.aggregated")).first() is None


def test_an_empty_project_says_there_are_not_enough_answers(seeded: Store,
                                                            manager: httpx.Client) -> None:
    with seeded.write() as conn:
        make_project(conn, name="fresh", title="Nothing yet")
    text = panel(manager.get("/manage/fresh").text)
    assert "Krippendorff's alpha is not defined yet: no item has two answers" in text
    assert "No worker has a score yet" in text
    reply = recompute_named(manager, "fresh")
    assert reply.status_code == 303
    assert "Nothing to aggregate yet" in text_of(manager.get("/manage/fresh").text)


def recompute_named(client: httpx.Client, name: str) -> httpx.Response:
    csrf = csrf_of(client.get(f"/manage/{name}").text)
    return client.post(f"/manage/{name}/aggregate", data={"csrf": csrf})


# ------------------------------------------------------------------ the worker's side
def test_a_worker_sees_how_they_are_judged(seeded: Store, live_server: str,
                                           manager: httpx.Client) -> None:
    with sign_in(live_server, "wanda") as wanda:
        text = text_of(wanda.get("/").text)
        assert "How you are judged" in text
        assert "Gold accuracy 1 of 2 correct (50%)" in text
        assert "Agreement not computed yet" in text
        assert "no test in this project" in text
        assert recompute(manager).status_code == 303
        text = text_of(wanda.get("/").text)
        assert "Agreement 75% over 4 answers" in text
        assert "The share of your answers that equal the final label" in text
        assert re.search(r"Estimated skill 0\.\d\d \(Dawid–Skene\)", text)


# ------------------------------------------------------------------ the review pages
def test_the_queue_says_why_each_item_waits(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "rita", "/review") as reviewer:
        page = reviewer.get("/review/p")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Low confidence (0.80)" in text
        assert f"Gold answer missed: a worker's answer differed from the gold answer {HOSTILE}" \
            in text
        assert HOSTILE not in page.text and str(escape(HOSTILE)) in page.text
        item = reviewer.get("/review/p/g-1")
        text = text_of(item.text)
        assert "Why this item is here" in text and f"Gold answer {HOSTILE}" in text
        assert HOSTILE not in item.text
        item = reviewer.get("/review/p/item-2")
        text = text_of(item.text)
        assert "Low confidence (0.80)" in text
        assert f"Stored aggregate {HOSTILE} — one-coin model, item by item, confidence 0.80" \
            in text
        assert HOSTILE not in item.text and "<script>" not in item.text
