"""Terms and appeals in the browser.

A new worker opens a project that asks for consent: the task screen sends her to the terms
page first, which shows the pay, the expected time and the content warnings; she agrees and
works. A reviewer rejects her answer from the review page; she appeals it from her appeals
page; the reviewer who rejected it cannot decide it, a manager upholds it with a reason, and
she sees the decision, the reason and what was restored.

The test adds its own project ("consent-check") and worker ("tess") to the shared demo
workspace.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from factories import import_rows, make_project
from handloom.demo import DEMO_PASSWORD
from handloom.store.schema import annotations, appeals, workers
from handloom.work import accounts

pytestmark = pytest.mark.browser

NAME = "consent-check"
ITEM_ID = re.compile(r"\bid (\S+?)(?: ·|\.$)")


def build(store: Any) -> None:
    with store.write() as conn:
        make_project(conn, name=NAME, title="Consent check", labels=["spam", "not_spam"],
                     overlap=1, terms_required=True, content_categories=["harassment"],
                     purpose="Train the inbox spam filter.", data_retention="Kept 18 months.",
                     appeal_deadline_days=5,
                     pay={"model": "piece", "currency": "USD", "piece_rate": "0.15",
                          "est_seconds_per_item": 10},
                     exposure={"support_resources": "Wellbeing line 555-0199",
                               "limits": {"harassment": {"daily_items": 30}}},
                     instructions="Is the message **spam**? Press 1 or 2, then Enter.")
        accounts.add_worker(conn, "tess", password=DEMO_PASSWORD, actor="test")
    import_rows(store, NAME, [{"id": f"c-{i}", "text": f"Message {i}: WIN A PRIZE now!"}
                              for i in range(1, 4)])


def wait_item(tab: Any) -> str:
    tab.page.wait_for_function(
        """() => {
            const text = document.getElementById('task-status').textContent;
            return /\\bid (\\S+?)(?: ·|\\.$)/.test(text)
                && !/Submitting|Loading|Skipping/.test(text);
        }""")
    found = ITEM_ID.search(tab.page.inner_text("#task-status"))
    assert found
    return found.group(1)


def test_terms_first_then_work_then_an_appeal_is_decided(tab: Any, demo_site: Any) -> None:
    build(demo_site.store)
    page = tab.page
    tab.sign_in("tess")
    tab.go(f"/work/{NAME}")
    page.wait_for_url(f"**/work/{NAME}/terms")
    assert "USD 0.15 per item" in page.inner_text("#terms-pay")
    assert "About 10 seconds per item" in page.inner_text("#terms-time")
    warnings = page.inner_text("#terms-warnings")
    assert "harassment" in warnings and "at most 30 items a day" in warnings
    body = page.inner_text("main")
    assert "Kept 18 months." in body and "within 5 days" in body
    assert "Wellbeing line 555-0199" in body
    tab.shot("terms")
    with page.expect_navigation():
        page.click("#btn-agree")
    assert page.url.endswith(f"/work/{NAME}")
    item = wait_item(tab)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(id) => !document.getElementById('task-status').textContent.includes('id ' + id)",
        arg=item)
    tab.shot("worked")
    with demo_site.store.read() as conn:
        annotation_id = conn.execute(
            select(annotations.c.id).join(workers, workers.c.id == annotations.c.worker_id)
            .where(workers.c.ref == "tess")).scalar_one()

    tab.sign_in("reviewer")
    tab.go(f"/review/{NAME}/{item}")
    page.click("text=Reject answer 1")
    page.fill(f"#reject-reason-{annotation_id}", "A prize offer is spam; see rule 1.")
    with page.expect_navigation():
        page.click(f"#reject-{annotation_id}")
    page.get_by_text("was rejected; the worker sees your reason").wait_for()
    tab.shot("rejected")

    tab.sign_in("tess")
    tab.go("/me/appeals")
    assert "A prize offer is spam; see rule 1." in page.inner_text("#h-appealable + ul")
    with page.expect_navigation():
        page.click("#h-appealable + ul a.button")
    page.fill("#statement", "I pressed 1, which is spam: the answer matches rule 1.")
    tab.shot("appeal-form")
    with page.expect_navigation():
        page.click("#btn-file-appeal")
    page.locator("#filed").wait_for()
    with demo_site.store.read() as conn:
        appeal_id = conn.execute(select(appeals.c.id).where(
            appeals.c.project_id.in_(select(annotations.c.project_id).where(
                annotations.c.id == annotation_id)))).scalar_one()
    assert "decision due" in page.inner_text(f"#appeal-{appeal_id}")

    tab.sign_in("reviewer")
    tab.go(f"/review/appeals/{appeal_id}")
    assert "another reviewer, a manager or an owner decides it" in page.inner_text("main")
    assert page.locator("#decide-appeal").count() == 0

    tab.sign_in("manager")
    tab.go("/review/appeals")
    page.click(f"#appeal-row-{appeal_id} a.button")
    assert "the answer matches rule 1" in page.inner_text("#statement")
    page.check("#d-uphold")
    page.fill("#reason", "Option 1 is spam; the rejection misread the answer.")
    tab.shot("decide")
    with page.expect_navigation():
        page.click("#btn-decide")
    page.locator("#decided").wait_for()

    tab.sign_in("tess")
    tab.go("/me/appeals")
    card = page.inner_text(f"#appeal-{appeal_id}")
    assert "upheld" in card
    assert "Option 1 is spam; the rejection misread the answer." in card
    assert "counts as accepted again" in card
    tab.shot("appeal-upheld")
    with demo_site.store.read() as conn:
        assert conn.execute(select(annotations.c.review_status).where(
            annotations.c.id == annotation_id)).scalar_one() == "accepted"
