"""Quality in the browser: a worker takes a two-question qualification test and sees the
feedback after each answer (one right, one wrong) and the result; then the manager's quality
panel, after "Recompute aggregate", lists the workers by pseudonym with their scores.

The test adds its own project ("vetting") to the shared demo workspace, with a few demo-like
workers who answer it beforehand so that the panel has numbers to show. With
``HANDLOOM_SCREENSHOTS=1`` it also refreshes docs/screenshots/qualification.png and
docs/screenshots/quality.png.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest
from sqlalchemy import select

from factories import answer_next, import_rows, make_project
from handloom.demo import DEMO_PASSWORD
from handloom.errors import Forbidden
from handloom.store.schema import ledger_events, qualification_results, workers
from handloom.store.schema import projects as project_table
from handloom.work import accounts

pytestmark = pytest.mark.browser

NAME = "vetting"
LABELS = ["spam", "not_spam"]
GOLD = {"q-1": "spam", "q-2": "not_spam"}
DOCS_SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "screenshots")
ITEM_ID = re.compile(r"\bid (\S+?)(?: ·|\.$)")
# item -> the label each helper worker gives (their qualification answers come from GOLD,
# except the last helper's, who gets both wrong and fails)
HELPER_ANSWERS = {
    "m-1": ["spam", "spam", "spam"], "m-2": ["spam", "not_spam", "spam"],
    "m-3": ["not_spam", "not_spam", "not_spam"], "m-4": ["spam", "not_spam", "not_spam"],
    "m-5": ["not_spam", "not_spam", "spam"], "m-6": ["spam", "spam", "spam"],
}


def build_project(store: Any) -> None:
    """The vetting project, its test and items, and four helpers who answered already."""
    with store.write() as conn:
        make_project(conn, name=NAME, title="Spam vetting", labels=LABELS, overlap=3,
                     instructions="Is the message **spam**? Press 1 or 2, then Enter.",
                     quality={"qualification_size": 2, "qualification_pass": 0.5,
                              "review_below": 0.9})
        helpers = [accounts.add_worker(conn, f"vet-helper-{i}", actor="test")
                   for i in range(1, 5)]
        accounts.add_worker(conn, "vet-quinn", password=DEMO_PASSWORD, actor="test")
    rows: list[dict[str, Any]] = [
        {"id": item, "text": f"Test message {item}: WIN A PRIZE, click now!"
         if label == "spam" else f"Test message {item}: see you at lunch tomorrow.",
         "gold": label, "qualification": True} for item, label in GOLD.items()]
    rows += [{"id": f"m-{i}", "text": f"Message number {i} from the inbox."}
             for i in range(1, 9)]
    import_rows(store, NAME, rows)
    wrong = {item: {"label": "not_spam" if g == "spam" else "spam"} for item, g in GOLD.items()}
    for k, worker_id in enumerate(helpers):
        choose = {item: {"label": g} for item, g in GOLD.items()} if k < 3 else wrong
        choose.update({item: {"label": given[k]} for item, given in HELPER_ANSWERS.items()
                       if k < len(given)})
        while True:
            try:
                if answer_next(store, NAME, worker_id, choose, {"label": "not_spam"}) is None:
                    break
            except Forbidden:  # failed the test: no more work
                break
    # Fresh items for the worker who takes the test in the browser.
    import_rows(store, NAME, [{"id": f"m-{i}", "text": f"Message number {i} from the inbox."}
                              for i in range(9, 12)], source="more.jsonl")


def status(tab: Any) -> str:
    return str(tab.page.inner_text("#task-status"))


def wait_question(tab: Any) -> str:
    """Wait for a test question on the task screen; its external id."""
    tab.page.locator("#qual-banner:not([hidden])").wait_for()
    tab.page.wait_for_function(
        """() => /\\bid \\S+/.test(document.getElementById('task-status').textContent)""")
    found = ITEM_ID.search(status(tab))
    assert found, status(tab)
    return found.group(1)


def answer(tab: Any, label: str) -> None:
    tab.page.keyboard.press(str(LABELS.index(label) + 1))
    tab.page.keyboard.press("Enter")
    tab.page.locator(".qual-feedback").wait_for()


def save_doc_shot(path: Any, name: str) -> None:
    if os.environ.get("HANDLOOM_SCREENSHOTS") == "1":
        shutil.copyfile(path, os.path.join(DOCS_SHOTS, name))


def test_qualification_test_with_feedback_then_the_quality_panel(tab: Any,
                                                                 demo_site: Any) -> None:
    build_project(demo_site.store)
    page = tab.page
    tab.sign_in("vet-quinn")

    # The card says how the worker is judged, the test included.
    judged = page.locator(".project-card").filter(
        has=page.locator(f'a[href="/work/{NAME}"]')).locator("details.judged")
    judged.locator("summary").click()
    text = judged.inner_text()
    assert "0 of 2 questions answered" in text
    assert "50% correct passes" in text

    tab.go(f"/work/{NAME}")
    first = wait_question(tab)
    assert page.inner_text("#qual-banner") == "Qualification test — question 1 of 2"
    tab.shot("question-1")
    answer(tab, GOLD[first])  # right
    feedback = str(page.locator(".qual-feedback").text_content())
    assert "Correct" in feedback and "expected answer" not in feedback
    assert "Test progress: 1 of 2 questions answered, 1 correct." in feedback
    assert "passed" not in feedback
    # Feedback stays until the worker moves on, and Enter moves on.
    page.wait_for_timeout(300)
    assert page.locator(".qual-feedback").count() == 1
    assert page.evaluate("() => document.activeElement.id") == "btn-continue"
    page.keyboard.press("Enter")

    second = wait_question(tab)
    assert second != first
    assert page.inner_text("#qual-banner") == "Qualification test — question 2 of 2"
    wrong = "not_spam" if GOLD[second] == "spam" else "spam"
    answer(tab, wrong)
    feedback = str(page.locator(".qual-feedback").text_content())
    assert "Not the expected answer" in feedback
    assert f"The expected answer was {GOLD[second]}." in feedback
    assert "Test progress: 2 of 2 questions answered, 1 correct." in feedback
    assert "You passed the qualification test: 1 of 2 correct (the pass mark is 50%)" \
        in feedback
    tab.shot("feedback-passed")
    feedback_shot = tab.out / "qualification.png"
    page.locator(".task-main").screenshot(path=str(feedback_shot))
    save_doc_shot(feedback_shot, "qualification.png")
    with demo_site.store.read() as conn:
        passed = conn.execute(
            select(qualification_results.c.passed, qualification_results.c.correct)
            .join(workers, workers.c.id == qualification_results.c.worker_id)
            .where(workers.c.ref == "vet-quinn")).one()
    assert (bool(passed.passed), passed.correct) == (True, 1)

    # Continue: real work now, with no test banner.
    page.get_by_role("button", name=re.compile("Continue")).click()
    page.wait_for_function(
        """() => /\\bid m-\\d/.test(document.getElementById('task-status').textContent)""")
    assert page.locator("#qual-banner").is_hidden()

    # The manager's quality panel, before and after recomputing the aggregate.
    tab.sign_in("manager")
    tab.go(f"/manage/{NAME}")
    quality = page.locator("#quality")
    text = quality.inner_text()
    assert "Dawid–Skene" in text and "Krippendorff" in text
    assert "failed (0 of 2)" in text and "passed (1 of 2)" in text
    assert "vet-helper" not in text and "vet-quinn" not in text
    with page.expect_navigation():
        page.get_by_role("button", name="Recompute aggregate").click()
    assert "newly queued for review" in page.locator(".manage-flash").inner_text()
    text = page.locator("#quality").inner_text()
    assert re.search(r"\d+% of \d+", text), text  # agreement with the aggregate
    with demo_site.store.read() as conn:
        runs = conn.execute(
            select(ledger_events.c.actor).join(
                project_table, project_table.c.id == ledger_events.c.project_id)
            .where(project_table.c.name == NAME,
                   ledger_events.c.event == "quality.aggregated")).scalars().all()
    assert len(runs) == 1 and runs[0].startswith("user:")
    tab.shot("quality-panel")
    panel_shot = tab.out / "quality.png"
    page.locator("#quality").screenshot(path=str(panel_shot))
    save_doc_shot(panel_shot, "quality.png")
