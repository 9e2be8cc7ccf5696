"""Hostile item text in the browser: markup and script in items, labels, titles and notes
shows as the literal text it is, on the task screen, the reviewer's item page, the worker's
project list and the manager's list of notes, and nothing in it runs.

The projects are made through the services (as an import would make them); every page is
checked for: window.__pwned still undefined, no dialog (the tab fixture fails the test on
one), no script/img/iframe/object/embed/style element and no on* or javascript: attribute
where the item is shown, each payload visible word for word, and a Content-Security-Policy
with script-src 'self' on the response.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from handloom.store.schema import guideline_issues, workers
from handloom.work import projects
from handloom.work.importing import import_items

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    '<a href="javascript:window.__pwned=3">click</a>',
    '<svg onload="window.__pwned=4">',
    '"><iframe src=javascript:alert(5)>',
    "'><body onload=window.__pwned=6><style>*{display:none}</style>",
    "{{ 7*7 }} ${7*7} <%= 7*7 %> <object data=javascript:alert(8)></object>",
]
P = PAYLOADS
N = len(P)
HOSTILE_LABEL = "<img src=x onerror=window.__pwned=7>"
FLAG_NOTE = '<img src=x onerror="window.__pwned=9"> is this <b>unclear</b>?'
WORKER = "priya"
NOTES = "xss-notes"

FIND_HOSTILE = """(selector) => {
  const root = document.querySelector(selector);
  if (!root) { return {missing: true}; }
  const bad = [];
  const banned = ['script', 'img', 'iframe', 'object', 'embed', 'style', 'body', 'frame'];
  root.querySelectorAll('*').forEach((n) => {
    const tag = n.tagName.toLowerCase();
    // The task screen's own configuration is JSON (not run), written by the server.
    const config = tag === 'script' && n.id === 'task-config' && n.type === 'application/json';
    if (banned.includes(tag) && !config) { bad.push('<' + tag + '>'); }
    for (const a of n.attributes) {
      if (/^on/i.test(a.name)) { bad.push(tag + '[' + a.name + ']'); }
      if (/^\\s*javascript:/i.test(a.value)) { bad.push(tag + '[' + a.name + '=' + a.value + ']'); }
    }
  });
  return {bad: bad, pwned: window.__pwned === undefined ? null : String(window.__pwned)};
}"""


def _spec(name: str, kind: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "title": f"Hostile {kind} <em>{P[0]}</em>",
            "purpose": f"Tests escaping: {P[1]}", "instructions": f"Answer anything. {P[3]}",
            "overlap": 1, "pay": {"currency": "USD", "piece_rate": "0.10",
                                  "est_seconds_per_item": 10}, **config}


def _rows() -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    return {
        "xss-cls": (_spec("xss-cls", "classification", labels=["<b>fine</b>", HOSTILE_LABEL]),
                    [{"id": f"c{i}", "text": p, "source": P[(i + 1) % N]}
                     for i, p in enumerate(P)]),
        "xss-pair": (_spec("xss-pair", "pairwise"),
                     [{"id": f"p{i}", "prompt": P[i], "a": P[(i + 1) % N], "b": P[(i + 2) % N]}
                      for i in range(0, N, 3)]),
        "xss-mod": (_spec("xss-mod", "moderation", categories=["spam", "<i>hate</i>"]),
                    [{"id": f"m{i}", "context": P[i], "text": P[(i + 1) % N]}
                     for i in range(0, N, 2)]),
        "xss-spans": (_spec("xss-spans", "spans", labels=["TAG", "<u>X</u>"]),
                      [{"id": "s0", "text": P[1]}]),
        "xss-rate": (_spec("xss-rate", "rating", criteria=[
                         {"name": "<q>quality</q>", "min": 1, "max": 5}]),
                     [{"id": "r0", "prompt": P[2], "text": P[4]}]),
        "xss-rank": (_spec("xss-rank", "ranking"),
                     [{"id": "k0", "prompt": P[5], "candidates": P[:4]}]),
        "xss-rw": (_spec("xss-rw", "freetext", mode="rewrite"),
                   [{"id": "w0", "prompt": P[6], "text": P[0]}]),
        "xss-rt": (_spec("xss-rt", "redteam", harm_categories=["<s>fraud</s>", "privacy"]),
                   [{"id": "t0", "goal": P[3], "target": P[1], "prompt": P[2]}]),
    }


def _shown(row: dict[str, Any]) -> list[str]:
    """The payload strings an item puts on the screen."""
    out = []
    for key, value in row.items():
        if key == "id":
            continue
        out.extend(value if isinstance(value, list) else [value])
    return out


ROWS = _rows()
# Keys that answer one item of each project (focus is where the widget puts it).
ANSWER_KEYS: dict[str, list[str | tuple[str, str]]] = {
    "xss-cls": ["1", "Enter"], "xss-pair": ["1", "Enter"], "xss-mod": ["a", "0", "Enter"],
    "xss-spans": ["Enter"], "xss-rate": ["3", "Enter"], "xss-rank": ["Enter"],
    "xss-rw": ["Control+Enter"],
    "xss-rt": [("type", P[4]), "Escape", "r", ("type", P[1]), "Escape", "Enter"],
}


@pytest.fixture(scope="module")
def hostile(demo_site: Any) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    store = demo_site.store
    for name, (raw, rows) in ROWS.items():
        spec = projects.parse_spec(raw)
        with store.write() as conn:
            projects.create_project(conn, spec, actor="test")
        result = import_items(store, name, f"{name}.jsonl", rows=rows, actor="test")
        assert result.imported == len(rows)
    # A project of its own for the flag test, so its lease takes nothing from the others.
    with store.write() as conn:
        projects.create_project(conn, projects.parse_spec(_spec(
            NOTES, "classification", labels=["yes", "no"])), actor="test")
    import_items(store, NOTES, f"{NOTES}.jsonl", rows=[{"id": "n0", "text": P[0]}],
                 actor="test")
    return ROWS


def check_page(tab: Any, root: str, response: Any = None) -> None:
    found = tab.page.evaluate(FIND_HOSTILE, root)
    assert not found.get("missing"), f"{root} is not on {tab.page.url}"
    assert found["pwned"] is None, f"a payload ran: window.__pwned = {found['pwned']}"
    assert found["bad"] == [], f"live markup from item text in {root}: {found['bad']}"
    if response is not None:
        csp = response.headers.get("content-security-policy", "")
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src and script_src.group(1).split() == ["'self'"], csp


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect  # only where a browser runs

    return playwright_expect(locator)


def expect_literal(tab: Any, text: str) -> None:
    expect(tab.page.get_by_text(text, exact=True).first).to_be_visible()


def goto(tab: Any, path: str) -> Any:
    response = tab.page.goto(tab.base + path)
    assert response is not None and response.ok, path
    if tab.page.url.endswith("/terms") and not path.endswith("/terms"):
        # The project asks for consent first: its terms page (with the hostile purpose) must
        # show everything as text too; then the worker agrees and goes on.
        check_page(tab, "#main", response)
        with tab.page.expect_navigation() as navigation:
            tab.page.click("#btn-agree")
        response = navigation.value
        assert response is not None and response.ok, path
    return response


def press(tab: Any, keys: list[str | tuple[str, str]]) -> None:
    for key in keys:
        if isinstance(key, tuple):
            tab.page.keyboard.type(key[1])
        else:
            tab.page.keyboard.press(key)


def current_item(tab: Any, not_id: str | None = None) -> str | None:
    """Wait for the task screen to show an item other than *not_id* (None when it has no
    more); the item's id."""
    tab.page.wait_for_function(
        """(notId) => {
            const text = document.getElementById('task-status').textContent;
            if (text.includes('Nothing to do')) { return true; }
            const m = /\\bid (\\S+?)(?: ·|\\.$)/.exec(text);
            return m && m[1] !== notId && !/Submitting|Loading/.test(text);
        }""", arg=not_id)
    text = tab.page.inner_text("#task-status")
    found = re.search(r"\bid (\S+?)(?: ·|\.$)", text)
    return found.group(1) if found and "Nothing to do" not in text else None


@pytest.mark.parametrize("name", list(ROWS))
def test_task_screen_shows_hostile_items_as_text(tab: Any, hostile: Any, name: str) -> None:
    raw, rows = hostile[name]
    by_id = {r["id"]: r for r in rows}
    tab.sign_in(WORKER)
    response = goto(tab, f"/work/{name}")
    check_page(tab, "#main", response)
    assert tab.page.locator("h1#task-title").inner_text() == raw["title"]
    expect_literal(tab, f"Answer anything. {P[3]}")
    seen = []
    item = current_item(tab)
    while item is not None:
        seen.append(item)
        check_page(tab, "#item-area")
        for text in _shown(by_id[item]):
            expect_literal(tab, text)
        if name == "xss-cls":
            expect_literal(tab, HOSTILE_LABEL)
        if len(seen) == 1:
            tab.shot(f"{name}-{item}")
        press(tab, ANSWER_KEYS[name])
        item = current_item(tab, not_id=item)
        check_page(tab, "#main")
    assert sorted(seen) == sorted(by_id), "every hostile item was shown and answered"
    assert tab.page.evaluate("() => window.__pwned === undefined")


def test_flag_note_with_markup_reaches_the_manager_as_text(tab: Any, hostile: Any,
                                                           browser: Any, demo_site: Any) -> None:
    tab.sign_in("amara")
    goto(tab, f"/work/{NOTES}")
    item = current_item(tab)
    assert item is not None
    tab.page.keyboard.press("Shift+U")
    tab.page.locator("#unclear-note").wait_for()
    tab.page.keyboard.type(FLAG_NOTE)
    tab.page.keyboard.press("Control+Enter")
    tab.page.wait_for_function(
        "() => document.getElementById('task-status').textContent.includes('your note went to')")
    with demo_site.store.read() as conn:
        notes = conn.execute(
            select(guideline_issues.c.note)
            .join(workers, workers.c.id == guideline_issues.c.worker_id)
            .where(workers.c.ref == "amara")).scalars().all()
    assert FLAG_NOTE in notes
    check_page(tab, "#main")

    # The manager, in a browser context of their own.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        page.on("dialog", lambda d: (tab.errors.append(f"a dialog opened: {d.message}"),
                                     d.dismiss()))
        manager = type(tab)(page, tab.base, tab.out)
        manager.shots = tab.shots
        manager.sign_in("manager")
        response = goto(manager, f"/manage/{NOTES}")
        check_page(manager, "#flags", response)
        check_page(manager, "#main")
        expect(page.locator("#flags").get_by_text(FLAG_NOTE, exact=True)).to_be_visible()
        title = page.locator("h1").first.inner_text()
        assert title == f"Hostile classification <em>{P[0]}</em>", title
        manager.shot("manager-flags")
        tab.shots = manager.shots
        # The list as htmx polls it: escaped in the HTML, and swapped in as text.
        raw_html = page.request.get(f"{tab.base}/manage/{NOTES}/flags").text()
        assert "&lt;img src=x onerror=" in raw_html and "<img" not in raw_html
        page.evaluate("""(url) => {
            document.getElementById('flags').textContent = '';
            return htmx.ajax('GET', url, {target: '#flags', swap: 'innerHTML'});
        }""", f"/manage/{NOTES}/flags")
        check_page(manager, "#flags")
        expect(page.locator("#flags").get_by_text(FLAG_NOTE, exact=True)).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("name", ["xss-cls", "xss-pair", "xss-mod", "xss-rt"])
def test_review_item_page_shows_hostile_items_as_text(tab: Any, hostile: Any,
                                                      name: str) -> None:
    raw, rows = hostile[name]
    tab.sign_in("reviewer")
    for i, row in enumerate(rows):
        response = goto(tab, f"/review/{name}/{row['id']}")
        check_page(tab, "#main", response)
        assert tab.page.locator(".item-id").inner_text() == row["id"]
        for text in _shown(row):
            expect_literal(tab, text)
        if i == 0:
            tab.shot(f"review-{name}")
    response = goto(tab, "/review")
    check_page(tab, "#main", response)
    expect_literal(tab, raw["title"])


def test_project_list_shows_hostile_titles_as_text(tab: Any, hostile: Any) -> None:
    tab.sign_in("joseph")
    response = goto(tab, "/")
    check_page(tab, "#main", response)
    for raw, _rows in hostile.values():
        card = tab.page.locator("li.project-card").filter(
            has=tab.page.locator(f'a[href="/work/{raw["name"]}"]'))
        assert card.locator("h2").inner_text() == raw["title"]
        assert raw["purpose"] in card.inner_text()
    tab.shot("home")

