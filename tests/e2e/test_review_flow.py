"""The reviewer settles a disagreement in the browser: from /review to a project's queue, to
an item, choosing one of the answers and giving a reason; the item leaves the queue and its
final answer is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handloom.store.schema import items, reviews
from handloom.store.schema import projects as project_table
from handloom.work import accounts, projects, review, routing, submissions

pytestmark = pytest.mark.browser

# Projects whose items show without a content warning on the review page.
PLAIN = ("helpful-replies", "answer-quality", "doc-ranking", "entity-spans")
LOW = {"scores": {"correctness": 1, "clarity": 1, "tone": 1}}
HIGH = {"scores": {"correctness": 5, "clarity": 5, "tone": 5}}


def ensure_disagreement(store: Any) -> None:
    """Make sure a plain project has an item waiting for review: the demo usually leaves
    some; if it does not, two new workers rate one answer-quality item far apart."""
    with store.read() as conn:
        for name in PLAIN:
            if review.waiting_count(conn, projects.get_project(conn, name)):
                return
    with store.write() as conn:
        project = routing.load_project(conn, "answer-quality")  # no gold, two answers
        kind = projects.kind_of(project)
        first = accounts.add_worker(conn, "e2e-reviewed-1", actor="test")
        lease = routing.next_item(conn, project, first)
        assert lease is not None
        submissions.submit_answer(conn, project, kind, first, lease.assignment_id,
                                  LOW, idempotency_key="e2e-review-1")
        for n in range(2, project.overlap + 1):
            other = accounts.add_worker(conn, f"e2e-reviewed-{n}", actor="test")
            again = routing.next_item(conn, project, other)
            assert again is not None and again.item_id == lease.item_id
            submissions.submit_answer(conn, project, kind, other, again.assignment_id,
                                      HIGH, idempotency_key=f"e2e-review-{n}")
        assert review.waiting_count(conn, project)


def test_reviewer_decides_a_disagreement(tab: Any, demo_site: Any) -> None:
    ensure_disagreement(demo_site.store)
    tab.sign_in("reviewer")
    page = tab.page
    assert page.url.endswith("/review"), page.url  # a reviewer lands on the review page
    page.get_by_role("heading", name="Review", exact=True).wait_for()
    assert "waiting in all" in page.locator(".review-head").inner_text()
    tab.shot("review-home")

    # The first plain project with items waiting.
    row = None
    for name in PLAIN:
        candidate = page.locator("tr.has-waiting").filter(has_text=name)
        if candidate.count():
            row, project = candidate, name
            break
    assert row is not None, "no plain project has items waiting"
    waiting_before = int(row.locator(".count.waiting").inner_text())
    row.get_by_role("link", name="Open queue").click()
    page.wait_for_url(f"**/review/{project}")
    first_link = page.locator("table.queue tbody tr th a").first
    item = first_link.inner_text()
    tab.shot("queue")

    first_link.click()
    page.wait_for_url(f"**/review/{project}/{item}")
    assert page.locator(".item-id").inner_text() == item
    assert "waiting for review" in page.locator(".review-head").inner_text()
    cards = page.locator("article.answer-card")
    assert cards.count() >= 2
    chosen = page.locator("#choice-1")
    chosen.check()
    reason = "The second answer follows the instructions' rule on correctness first."
    page.fill("#reason", reason)
    tab.shot("deciding")
    with page.expect_navigation():
        page.get_by_role("button", name="Record decision").click()
    saved = page.locator("p.saved[role=status]")
    assert f"Decision recorded for item {item}" in saved.inner_text()
    tab.shot("decided")

    with demo_site.store.read() as conn:
        project_row = projects.get_project(conn, project)
        decided = review.item_for_review(conn, project_row, item)
        final = conn.execute(
            select(items.c.final_answer)
            .join(project_table, project_table.c.id == items.c.project_id)
            .where(project_table.c.name == project, items.c.external_id == item)).scalar_one()
        recorded = conn.execute(
            select(reviews.c.reason)
            .join(items, items.c.id == reviews.c.item_id)
            .where(items.c.project_id == project_row.id, items.c.external_id == item)
        ).scalars().all()
    assert final is not None
    assert final == decided["answers"][1]["answer"]
    assert recorded == [reason]

    tab.go(f"/review/{project}")
    queue_ids = page.locator("table.queue tbody tr th a").all_inner_texts()
    assert item not in queue_ids
    shown = page.locator(".review-head").inner_text()
    if waiting_before > 1:
        assert f"{waiting_before - 1} item" in shown, shown
    else:
        assert "nothing waiting" in shown, shown
    tab.go(f"/review/{project}/{item}")
    assert "decided" in page.locator(".review-head").inner_text()
    assert page.locator("section.decision").get_by_text(reason).is_visible()
    tab.shot("item-after")
