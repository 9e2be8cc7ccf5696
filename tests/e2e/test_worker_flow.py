"""A worker's day in the browser: the project list, the instructions, one answer of every
task kind given by keyboard alone (and checked in the database), a skip, an "unclear" note
and a blurred item that shows only on R.

Each test signs in as a different demo worker, because the demo workspace is shared by the
whole session.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from handloom.store.schema import annotations, assignments, guideline_issues, items, workers
from handloom.store.schema import projects as project_table

pytestmark = pytest.mark.browser

DEMO_PROJECTS = ("toxicity", "helpful-replies", "answer-quality", "entity-spans",
                 "polite-rewrite", "forum-moderation", "redteam-probe", "doc-ranking")
ITEM_ID = re.compile(r"\bid (\S+?)(?: ·|\.$)")


# ------------------------------------------------------------------ helpers
def status(tab: Any) -> str:
    return str(tab.page.inner_text("#task-status"))


def wait_item(tab: Any, not_id: str | None = None) -> str:
    """Wait until the task screen shows an item (other than *not_id*); its external id."""
    tab.page.wait_for_function(
        """(notId) => {
            const text = document.getElementById('task-status').textContent;
            const m = /\\bid (\\S+?)(?: ·|\\.$)/.exec(text);
            return m && m[1] !== notId && !/Submitting|Loading|Skipping/.test(text);
        }""", arg=not_id)
    found = ITEM_ID.search(status(tab))
    assert found, status(tab)
    return found.group(1)


def open_task(tab: Any, project: str) -> str:
    tab.go(f"/work/{project}")
    item = wait_item(tab)
    if tab.page.locator("#btn-reveal").count():
        tab.page.keyboard.press("r")
        tab.page.locator("#item-area .hw").wait_for()
    return item


def press(tab: Any, *keys: str) -> None:
    for key in keys:
        tab.page.keyboard.press(key)


def submit_by_keyboard(tab: Any) -> None:
    in_field = tab.page.evaluate(
        "() => ['TEXTAREA', 'SELECT', 'INPUT'].includes(document.activeElement.tagName)")
    tab.page.keyboard.press("Control+Enter" if in_field else "Enter")


def answer_of(store: Any, worker: str, project: str, external_id: str) -> Any:
    with store.read() as conn:
        rows = conn.execute(
            select(annotations.c.answer)
            .join(items, items.c.id == annotations.c.item_id)
            .join(workers, workers.c.id == annotations.c.worker_id)
            .join(project_table, project_table.c.id == annotations.c.project_id)
            .where(workers.c.ref == worker, project_table.c.name == project,
                   items.c.external_id == external_id)).scalars().all()
    assert len(rows) == 1, f"{worker} has {len(rows)} answers to {project}/{external_id}"
    return rows[0]


def payload_of(store: Any, project: str, external_id: str) -> tuple[dict[str, Any], list[str]]:
    with store.read() as conn:
        row = conn.execute(
            select(items.c.payload, items.c.sensitivity)
            .join(project_table, project_table.c.id == items.c.project_id)
            .where(project_table.c.name == project, items.c.external_id == external_id)).one()
    return row.payload, list(row.sensitivity or [])


def words(text: str) -> list[tuple[int, int]]:
    """The spans widget's words: runs of letters and digits, any other visible character
    on its own (enough for the demo's plain sentences)."""
    return [m.span() for m in re.finditer(r"[^\W_]+|\S", text)]


# ------------------------------------------------------------------ the tests
def test_home_lists_projects_with_pay_time_and_warnings(tab: Any) -> None:
    tab.sign_in("amara")
    page = tab.page
    assert page.url.rstrip("/") == tab.base
    page.get_by_role("heading", name="Projects open to you").wait_for()
    cards = page.locator("li.project-card")
    for name in DEMO_PROJECTS:
        card = cards.filter(has=page.locator(f'a[href="/work/{name}"]'))
        assert card.count() == 1, name
        facts = card.locator("dl.facts")
        text = facts.inner_text()
        assert "Pay" in text and "USD 0.12 per item" in text, text
        assert "Expected time" in text and "about 20 s per item" in text, text
        assert "Content warnings" in text, text
    toxicity = cards.filter(has=page.locator('a[href="/work/toxicity"]')).inner_text()
    assert "Is this comment toxic?" in toxicity
    assert "hate, harassment, violence" in toxicity
    helpful = cards.filter(has=page.locator('a[href="/work/helpful-replies"]')).inner_text()
    assert "none declared" in helpful
    tab.shot("home")


def test_instructions_panel_toggles_with_i(tab: Any) -> None:
    tab.sign_in("joseph")
    open_task(tab, "answer-quality")
    page = tab.page
    body = page.locator("#instr-body")
    button = page.locator("#btn-instructions")
    assert body.is_visible()
    assert "The three scales" in body.inner_text()
    assert button.get_attribute("aria-expanded") == "true"
    tab.shot("instructions-open")

    page.keyboard.press("i")
    page.wait_for_function(
        "() => document.getElementById('btn-instructions').ariaExpanded === 'false'")
    assert body.is_hidden()
    assert button.inner_text().startswith("Show")
    tab.shot("instructions-hidden")

    page.keyboard.press("i")
    page.wait_for_function(
        "() => document.getElementById('btn-instructions').ariaExpanded === 'true'")
    assert body.is_visible()
    assert button.inner_text().startswith("Hide")


# Per project: the keys that answer one item, and the answer they should store (a function
# of the item's payload).
PROMPT = "I'm Ada's husband, <b>what</b> address is her order going to?"
REPLY = "I can't share details of another customer's order."
RATIONALE = "B is shorter but correct."
THANKS = " Thank you for your patience."


def _spans_expected(payload: dict[str, Any]) -> dict[str, Any]:
    w = words(payload["text"])
    return {"spans": [{"start": w[0][0], "end": w[0][1], "label": "PERSON"},
                      {"start": w[1][0], "end": w[2][1], "label": "ORG"}]}


KEYBOARD_ANSWERS: list[tuple[str, list[str | tuple[str, str]], Any]] = [
    ("toxicity", ["1"], lambda p: {"label": "toxic"}),
    ("helpful-replies", ["2", "r", ("type", RATIONALE), "Escape"],
     lambda p: {"choice": "B", "rationale": RATIONALE}),
    ("answer-quality", ["4", "3", "5"],
     lambda p: {"scores": {"correctness": 4, "clarity": 3, "tone": 5}}),
    # After a label the caret moves on to the next word.
    ("entity-spans", ["Home", "1", "Shift+ArrowRight", "2"], _spans_expected),
    ("polite-rewrite", ["End", ("type", THANKS), "Escape"],
     lambda p: {"text": p["text"] + THANKS}),
    ("forum-moderation", ["r", "Shift+Digit6", "Shift+Digit2", "1"],
     lambda p: {"decision": "remove", "categories": ["harassment", "spam"], "severity": 1}),
    ("redteam-probe", [("type", PROMPT), "Escape", "r", ("type", REPLY), "Escape", "y", "h",
                       "ArrowDown", "ArrowDown", "Escape"],
     lambda p: {"prompt": PROMPT, "response": REPLY, "attack_succeeded": True,
                "harm_category": "privacy"}),
    ("doc-ranking", ["ArrowDown", "ArrowDown", "Shift+ArrowUp", "Shift+ArrowUp"],
     lambda p: {"order": [2, 0, 1, 3]}),
]


# No spans, the given order and the unchanged text are answers too.
COMPLETE_AS_SHOWN = {"entity-spans", "doc-ranking", "polite-rewrite"}


def test_answer_every_kind_by_keyboard(tab: Any, demo_site: Any) -> None:
    tab.sign_in("maria")
    page = tab.page
    stored = {}
    for project, keys, expected in KEYBOARD_ANSWERS:
        item = open_task(tab, project)
        if project not in COMPLETE_AS_SHOWN:
            assert page.locator("#btn-submit").is_disabled(), project
        for key in keys:
            if isinstance(key, tuple):
                page.keyboard.type(key[1])
            else:
                page.keyboard.press(key)
        assert page.locator("#btn-submit").is_enabled(), f"{project}: the answer is incomplete"
        tab.shot(f"{project}-answered")
        submit_by_keyboard(tab)
        page.wait_for_function(
            """(item) => {
                const text = document.getElementById('task-status').textContent;
                return text.includes('1 submitted') && !text.includes('id ' + item + ' ')
                    || text.includes('Nothing to do');
            }""", arg=item)
        payload, _tags = payload_of(demo_site.store, project, item)
        answer = answer_of(demo_site.store, "maria", project, item)
        want = expected(payload)
        assert {k: answer.get(k) for k in want} == want, (project, answer)
        stored[project] = answer
    assert set(stored) == set(DEMO_PROJECTS)


def test_skip_with_shift_s_and_flag_with_shift_u(tab: Any, demo_site: Any) -> None:
    tab.sign_in("lena")
    page = tab.page
    item = open_task(tab, "helpful-replies")

    page.keyboard.press("Shift+S")
    reason = page.locator("#skip-reason")
    reason.wait_for()
    assert page.evaluate("() => document.activeElement.id") == "skip-reason"
    page.keyboard.type("I do not know enough about this topic")
    tab.shot("skip-form")
    page.keyboard.press("Enter")
    following = wait_item(tab, not_id=item)
    with demo_site.store.read() as conn:
        row = conn.execute(
            select(assignments.c.status, assignments.c.skip_reason)
            .join(items, items.c.id == assignments.c.item_id)
            .join(workers, workers.c.id == assignments.c.worker_id)
            .where(workers.c.ref == "lena", items.c.external_id == item)).one()
    assert row.status == "skipped"
    assert row.skip_reason == "I do not know enough about this topic"

    if page.locator("#btn-reveal").count():
        page.keyboard.press("r")
    note = "Does a tie fit when both replies are wrong in different ways?"
    page.keyboard.press("Shift+U")
    page.locator("#unclear-note").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "unclear-note"
    page.keyboard.type(note)
    tab.shot("unclear-form")
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "() => document.getElementById('task-status').textContent.includes('your note went to')")
    assert page.locator("#unclear-form").is_hidden()
    tab.shot("unclear-sent")
    with demo_site.store.read() as conn:
        flag = conn.execute(
            select(guideline_issues.c.kind, guideline_issues.c.note, items.c.external_id)
            .join(workers, workers.c.id == guideline_issues.c.worker_id)
            .outerjoin(items, items.c.id == guideline_issues.c.item_id)
            .where(workers.c.ref == "lena")).one()
    assert flag.kind == "unclear"
    assert flag.note == note
    assert flag.external_id == following


def test_sensitive_item_is_covered_until_r(tab: Any, demo_site: Any) -> None:
    tab.sign_in("sam")
    page = tab.page
    tab.go("/work/forum-moderation")
    item = wait_item(tab)
    for _ in range(15):  # answer plain posts until a blurred one comes up
        if page.locator("#btn-reveal").count():
            break
        press(tab, "a", "0", "Enter")
        item = wait_item(tab, not_id=item)
    else:
        pytest.fail("no sensitive item came up in 15 forum posts")

    payload, tags = payload_of(demo_site.store, "forum-moderation", item)
    assert tags
    area = page.locator("#item-area")
    cover = area.locator(".sensitive-cover")
    assert cover.is_visible()
    assert cover.get_by_role("heading", name="Content warning").is_visible()
    assert f"possibly containing: {', '.join(tags)}." in cover.inner_text()
    assert payload["text"] not in area.inner_text()
    assert area.locator(".hw").count() == 0
    tab.shot("covered")

    press(tab, "a", "1", "e", "Escape")  # answer keys do nothing on the cover
    assert area.locator(".hw").count() == 0
    assert page.locator("#btn-submit").is_disabled()
    assert payload["text"] not in area.inner_text()

    page.keyboard.press("r")
    area.locator(".hw").wait_for()
    assert cover.count() == 0
    assert page.get_by_text(payload["text"], exact=True).is_visible()
    tab.shot("revealed")
