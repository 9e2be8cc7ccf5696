"""Theme switching, accessible names and visible focus, in the browser.

Accessible names are checked twice: by Chromium's own accessibility tree (the ARIA snapshot
of the visible page, where an unnamed control shows as a bare role), and by walking every
form control in the page, hidden ones too (the skip and unclear forms of the task screen),
for a label, aria-label, aria-labelledby or, for buttons, text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CONTROL_ROLES = ("textbox", "searchbox", "combobox", "listbox", "button", "checkbox", "radio",
                 "spinbutton", "slider", "switch", "link", "option", "menuitem", "tab")
UNNAMED = re.compile(r"^\s*- (" + "|".join(CONTROL_ROLES) + r")(?: \[[^\]]*\])*:?\s*$")

UNNAMED_CONTROLS = """() => {
  const text = (node) => (node ? node.textContent.replace(/\\s+/g, ' ').trim() : '');
  const out = [];
  document.querySelectorAll('input, select, textarea, button').forEach((el) => {
    if (el.type === 'hidden') { return; }
    let name = '';
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      name = by.split(/\\s+/).map((id) => text(document.getElementById(id))).join(' ').trim();
    }
    if (!name) { name = (el.getAttribute('aria-label') || '').trim(); }
    if (!name && el.labels) { name = Array.from(el.labels).map(text).join(' ').trim(); }
    if (!name && el.tagName === 'BUTTON') { name = text(el); }
    if (!name && ['submit', 'button', 'reset'].includes(el.type)) {
      name = (el.value || '').trim();
    }
    if (!name) { name = (el.getAttribute('title') || '').trim(); }
    if (!name) { out.push(el.outerHTML.slice(0, 160)); }
  });
  return out;
}"""


def check_names(tab: Any) -> int:
    """Fail on any form control without an accessible name; the number of controls seen."""
    page = tab.page
    unnamed = page.evaluate(UNNAMED_CONTROLS)
    assert unnamed == [], f"controls without an accessible name on {page.url}: {unnamed}"
    snapshot = page.locator("body").aria_snapshot()
    bare = [line for line in snapshot.splitlines() if UNNAMED.match(line)]
    assert bare == [], f"the accessibility tree has unnamed controls on {page.url}: {bare}"
    return int(page.locator("input:not([type=hidden]), select, textarea, button").count())


def theme(tab: Any) -> str:
    return str(tab.page.locator("html").get_attribute("data-theme"))


def background(tab: Any) -> str:
    return str(tab.page.evaluate("() => getComputedStyle(document.body).backgroundColor"))


def test_theme_toggle_switches_and_persists(tab: Any) -> None:
    page = tab.page
    tab.go("/login")
    toggle = page.locator("#theme-toggle")
    assert theme(tab) == "auto"  # follows the system until chosen
    assert toggle.inner_text() == "Dark theme"  # the browser prefers light here
    light = background(tab)
    tab.shot("light")

    toggle.click()
    assert theme(tab) == "dark"
    assert toggle.inner_text() == "Light theme"
    dark = background(tab)
    assert dark != light
    page.reload()
    assert theme(tab) == "dark"
    assert background(tab) == dark
    assert page.locator("#theme-toggle").inner_text() == "Light theme"
    tab.shot("dark-after-reload")

    tab.sign_in("amara")  # the choice follows to other pages
    assert theme(tab) == "dark"
    assert background(tab) == dark
    tab.shot("dark-home")

    page.locator("#theme-toggle").click()
    assert theme(tab) == "light"
    page.reload()
    assert theme(tab) == "light"
    assert background(tab) == light
    assert page.locator("#theme-toggle").inner_text() == "Dark theme"


def test_login_controls_have_names(tab: Any) -> None:
    tab.go("/login")
    assert check_names(tab) >= 4  # username, password, sign in, theme
    assert tab.page.get_by_label("Username").is_visible()
    assert tab.page.get_by_label("Password").is_visible()
    tab.shot("login")


def test_task_screen_controls_have_names(tab: Any) -> None:
    tab.sign_in("joseph")
    page = tab.page
    tab.go("/work/forum-moderation")
    page.wait_for_function(
        "() => /\\bid \\S/.test(document.getElementById('task-status').textContent)")
    if page.locator("#btn-reveal").count():
        check_names(tab)  # the content warning's own buttons
        page.keyboard.press("r")
    page.locator("#item-area .hw").wait_for()
    seen = check_names(tab)
    assert page.locator("#item-area input[type=checkbox]").count() == 6
    assert page.get_by_role("checkbox", name="spam").is_visible()
    assert page.get_by_role("button", name="Severity 2").is_visible()
    assert seen >= 15
    page.keyboard.press("Shift+U")  # the unclear form, open
    page.locator("#unclear-note").wait_for()
    check_names(tab)
    assert page.get_by_role("radio", name="Item is out of scope").is_visible()
    tab.shot("task-unclear-open")
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+S")  # the skip form, open
    page.locator("#skip-reason").wait_for()
    check_names(tab)
    tab.shot("task-skip-open")
    page.keyboard.press("Escape")


def test_new_project_form_controls_have_names(tab: Any) -> None:
    tab.sign_in("manager")
    tab.go("/manage/new")
    assert check_names(tab) >= 20
    page = tab.page
    for label in ("Name", "Title", "Task kind", "Downstream use", "Start as", "Overlap",
                  "Gold rate", "Instructions", "Pay model", "Configuration (TOML)"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    tab.shot("manage-new")


def _outline(tab: Any) -> dict[str, str]:
    return dict(tab.page.evaluate("""() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return {id: el.id, text: el.textContent.trim(), style: s.outlineStyle,
              width: s.outlineWidth, color: s.outlineColor,
              visible: String(el.matches(':focus-visible'))};
    }"""))


def test_keyboard_focus_is_visible(tab: Any) -> None:
    page = tab.page
    tab.go("/login")
    # From the password field (focused explicitly: autofocus may land after the first key
    # press on a slow machine), Tab reaches the sign-in button.
    page.locator("#password").focus()
    page.keyboard.press("Tab")
    focused = _outline(tab)
    assert focused["text"] == "Sign in", focused
    assert focused["visible"] == "true", focused
    assert focused["style"] != "none" and focused["width"] not in ("0px", ""), focused
    tab.shot("focus-sign-in")

    tab.sign_in("amara")
    # From the top of the page: the skip link first, then the brand, the nav links and the
    # theme button; each shows its focus.
    page.locator("body").focus()
    for _ in range(2 + page.locator("header nav a").count() + 1):
        page.keyboard.press("Tab")
        state = _outline(tab)
        assert state["visible"] == "true", state
        assert state["style"] != "none" and state["width"] not in ("0px", ""), state
        if state["id"] == "theme-toggle":
            break
    else:
        pytest.fail(f"Tab did not reach the theme button: {state}")
    tab.shot("focus-theme-toggle")
