"""The voice pages in the real app (uvicorn, both engines), driven by httpx clients signed in
through the login form: terms before work, a rejection appealed and decided, the managers'
reviews of workers, and flags (+1 by workers, answers by managers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from web_helpers import csrf_of, signed_in_client

from factories import answer_next, import_rows, make_project, text_items
from handloom import ledger
from handloom.labor import guidelines, terms
from handloom.store.db import Store
from handloom.store.schema import annotations, appeals, worker_reviews
from handloom.web.pages.render import templates
from handloom.web.pages.voice import manage_section, me_section
from handloom.work import accounts, projects

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def seeded(store: Store) -> Store:
    """Project t (terms required, 0.12 USD, violence warnings, hostile purpose text), a
    worker wes with a password, staff rita and sam (reviewers), mona (manager), aldo
    (auditor), and three more workers who answered."""
    with store.write() as conn:
        make_project(conn, "t", title="Toxic comments", overlap=2, terms_required=True,
                     purpose=f"Filter a forum {HOSTILE}", content_categories=["violence"],
                     data_retention="Kept for two years.", appeal_deadline_days=6,
                     pay={"model": "piece", "currency": "USD", "piece_rate": "0.12",
                          "est_seconds_per_item": 30},
                     exposure={"support_resources": "Call 555-0100 any time",
                               "limits": {"violence": {"daily_items": 25}}})
        accounts.add_worker(conn, "wes", password=PASSWORD, actor="test")
        for name, role in (("rita", "reviewer"), ("sam", "reviewer"), ("mona", "manager"),
                           ("aldo", "auditor")):
            accounts.create_user(conn, name, role, password=PASSWORD, actor="test")
        helpers = [accounts.add_worker(conn, f"helper-{i}", actor="test") for i in (1, 2)]
        for h in helpers:
            terms.consent(conn, projects.get_project(conn, "t"), h)
    import_rows(store, "t", text_items(6))
    for h in helpers:
        answer_next(store, "t", h)
    return store


@contextmanager
def sign_in(base: str, username: str, start: str = "/") -> Iterator[httpx.Client]:
    with signed_in_client(base, username, PASSWORD, start) as client:
        yield client


def worker_id(store: Store, ref: str) -> int:
    with store.read() as conn:
        return int(next(w["id"] for w in accounts.list_workers(conn) if w["ref"] == ref))


def test_the_terms_come_before_the_work(seeded: Store, live_server: str) -> None:
    with sign_in(live_server, "wes") as wes:
        first = wes.get("/work/t", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/work/t/terms"
        page = wes.get("/work/t/terms")
        assert page.status_code == 200
        text = page.text
        assert "USD 0.12 per item" in text and "About 30 seconds per item" in text
        assert "USD 14.40 per hour" in text  # 0.12 × 3600 / 30
        assert "violence" in text and "at most 25 items a day" in text
        assert "Kept for two years." in text and "within 6 days" in text
        assert "Call 555-0100 any time" in text
        assert HOSTILE not in text and "&lt;script&gt;" in text
        assert 'id="btn-agree"' in text and 'id="btn-withdraw"' not in text
        refused = wes.post("/ui/projects/t/next", headers={"X-CSRF-Token": csrf_of(text)})
        assert refused.status_code == 403 and "/work/t/terms" in refused.json()["message"]
        agreed = wes.post("/work/t/terms", data={"csrf": csrf_of(text)})
        assert agreed.status_code == 303 and agreed.headers["location"] == "/work/t"
        assert wes.get("/work/t").status_code == 200
        leased = wes.post("/ui/projects/t/next", headers={"X-CSRF-Token": csrf_of(text)})
        assert leased.status_code == 200 and leased.json()["assignment"] is not None
        again = wes.get("/work/t/terms").text
        assert "You agreed to these terms" in again and 'id="btn-withdraw"' in again
        out = wes.post("/work/t/terms/withdraw", data={"csrf": csrf_of(again)})
        assert out.status_code == 303
        after = wes.get(out.headers["location"]).text
        assert "You withdrew your consent" in after and 'id="btn-agree"' in after
        assert wes.get("/work/t", follow_redirects=False).status_code == 303
        mine = wes.get("/me/appeals").text
        assert "withdrawn" in mine


def test_a_rejection_is_appealed_and_decided_by_someone_else(seeded: Store,
                                                              live_server: str) -> None:
    wes_id = worker_id(seeded, "wes")
    with seeded.write() as conn:
        terms.consent(conn, projects.get_project(conn, "t"), wes_id)
    submitted = answer_next(seeded, "t", wes_id)
    assert submitted is not None
    annotation_id, item = submitted.annotation_id, submitted.external_id
    with sign_in(live_server, "rita", "/review") as rita:
        page = rita.get(f"/review/t/{item}")
        assert f'action="/review/t/answers/{annotation_id}/reject"' in page.text
        empty = rita.post(f"/review/t/answers/{annotation_id}/reject",
                          data={"csrf": csrf_of(page.text), "reason": " ", "item": item})
        assert empty.status_code == 422 and "Give a reason" in empty.text
        done = rita.post(f"/review/t/answers/{annotation_id}/reject",
                         data={"csrf": csrf_of(page.text), "reason": "Ignores rule 2",
                               "item": item})
        assert done.status_code == 303
        shown = rita.get(done.headers["location"]).text
        assert "was rejected; the worker sees your reason" in shown
        assert "Ignores rule 2" in shown
    with sign_in(live_server, "wes") as wes:
        mine = wes.get("/me/appeals").text
        link = re.search(r'href="(/me/appeals/new\?[^"]+)"', mine)
        assert link and "Ignores rule 2" in mine
        form = wes.get(link.group(1).replace("&amp;", "&"))
        assert form.status_code == 200 and "Ignores rule 2" in form.text
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.text))
        blank = wes.post("/me/appeals", data={**fields, "statement": "  "})
        assert blank.status_code == 422 and "own words" in blank.text
        filed = wes.post("/me/appeals", data={**fields, "statement": f"Rule 2 allows it {HOSTILE}"})
        assert filed.status_code == 303
        listed = wes.get(filed.headers["location"]).text
        assert "was filed" in listed and "decision due" in listed
        assert HOSTILE not in listed
    with seeded.read() as conn:
        appeal_id = conn.execute(select(appeals.c.id)).scalar_one()
    with sign_in(live_server, "rita", "/review") as rita:
        queue = rita.get("/review/appeals").text
        assert f"#{appeal_id}" in queue and "you made the contested decision" in queue
        page = rita.get(f"/review/appeals/{appeal_id}").text
        assert "another reviewer, a manager or an owner decides it" in page
        assert 'id="decide-appeal"' not in page
        refused = rita.post(f"/review/appeals/{appeal_id}",
                            data={"csrf": csrf_of(page), "decision": "uphold", "reason": "x"})
        assert refused.status_code == 403 and "someone else" in refused.text
    with sign_in(live_server, "sam", "/review") as sam:
        page = sam.get(f"/review/appeals/{appeal_id}").text
        assert "Rule 2 allows it &lt;script&gt;" in page  # the decider reads the statement
        decided = sam.post(f"/review/appeals/{appeal_id}",
                           data={"csrf": csrf_of(page), "decision": "uphold",
                                 "reason": "Rule 2 does allow it."})
        assert decided.status_code == 303
        assert f"Appeal #{appeal_id} was decided" in sam.get(decided.headers["location"]).text
    with sign_in(live_server, "aldo", "/review") as aldo:  # auditors do not read statements
        assert aldo.get(f"/review/appeals/{appeal_id}").status_code == 403
    with sign_in(live_server, "wes") as wes:
        mine = wes.get("/me/appeals").text
        assert "upheld" in mine and "Rule 2 does allow it." in mine
        assert "counts as accepted again" in mine
    with seeded.read() as conn:
        assert conn.execute(select(annotations.c.review_status).where(
            annotations.c.id == annotation_id)).scalar() == "accepted"
        assert ledger.verify(conn).ok


def test_managers_review_workers_and_removal_stops_the_work(seeded: Store,
                                                            live_server: str) -> None:
    with sign_in(live_server, "mona", "/manage") as mona:
        page = mona.get("/manage/t/worker-reviews")
        assert page.status_code == 200
        assert "No worker in this project has been reviewed" in page.text
        choices = re.findall(r'<option value="(w_[0-9a-f]{16})">', page.text)
        assert len(choices) == 2
        opened = mona.post("/manage/t/worker-reviews",
                           data={"csrf": csrf_of(page.text), "worker": choices[0]})
        assert opened.status_code == 303
        page = mona.get(opened.headers["location"])
        assert "Review opened" in page.text and "opened by hand" in page.text
        with seeded.read() as conn:
            review_id = conn.execute(select(worker_reviews.c.id)).scalar_one()
        removed = mona.post(f"/manage/t/worker-reviews/{review_id}",
                            data={"csrf": csrf_of(page.text), "decision": "remove",
                                  "reason": "Copied answers from a bot"})
        assert removed.status_code == 303
        after = mona.get(removed.headers["location"]).text
        assert "was removed" in after and "Copied answers from a bot" in after
        assert 'id="v-reviews-removed">1<' in after
    with sign_in(live_server, "rita", "/review") as rita:  # reviewers do not decide removals
        assert rita.get("/manage/t/worker-reviews").status_code == 403


def test_workers_support_flags_and_managers_answer_them(seeded: Store,
                                                        live_server: str) -> None:
    with seeded.write() as conn:
        project = projects.get_project(conn, "t")
        other = accounts.add_worker(conn, "flagger", actor="test")
        issue = guidelines.flag(conn, project, other, kind="unclear",
                                note=f"Is sarcasm toxic? {HOSTILE}")
        terms.consent(conn, project, worker_id(seeded, "wes"))
    with sign_in(live_server, "wes") as wes:
        page = wes.get("/work/t/flags")
        assert page.status_code == 200 and "Is sarcasm toxic? &lt;script&gt;" in page.text
        assert "flagger" not in page.text
        done = wes.post(f"/work/t/flags/{issue}/support", data={"csrf": csrf_of(page.text)})
        assert done.status_code == 303
        after = wes.get(done.headers["location"]).text
        assert "Your +1 was added" in after and "2 workers" in after
        assert "+1, I ran into this too" not in after
    with sign_in(live_server, "aldo", "/manage") as aldo:
        partial = aldo.get("/manage/t/flags").text
        assert "Is sarcasm toxic?" in partial and f"/flags/{issue}/answer" not in partial
    with sign_in(live_server, "mona", "/manage") as mona:
        partial = mona.get("/manage/t/flags").text
        assert f'href="/manage/t/flags/{issue}/answer"' in partial
        form = mona.get(f"/manage/t/flags/{issue}/answer")
        assert form.status_code == 200
        answered = mona.post(f"/manage/t/flags/{issue}/answer",
                             data={"csrf": csrf_of(form.text),
                                   "answer": "Sarcasm is toxic when it targets a person."})
        assert answered.status_code == 303
    with sign_in(live_server, "wes") as wes:
        page = wes.get("/work/t/flags").text
        assert "Sarcasm is toxic when it targets a person." in page
        mine = wes.get("/me/appeals").text
        assert "you support it" in mine and "Sarcasm is toxic" in mine


def test_the_sections_render_for_the_worker_and_the_manager(seeded: Store) -> None:
    wes = worker_id(seeded, "wes")
    with seeded.write() as conn:
        terms.consent(conn, projects.get_project(conn, "t"), wes)
    with seeded.read() as conn:
        mine = me_section(conn, wes)
        theirs = manage_section(conn, projects.get_project(conn, "t"))
    assert mine["consents"][0]["current"] and mine["appeals"] == []
    assert theirs["consents"] == {"current": 3, "older_terms": 0, "withdrawn": 0}
    context: dict[str, Any] = {"section": mine, "csrf": "token"}
    html = templates.env.get_template("partials/me_voice.html").render(context)
    assert "Your appeals" in html and "Withdraw consent" in html and 'value="token"' in html
    html = templates.env.get_template("partials/manage_voice.html").render(
        {"section": theirs, "csrf": "token"})
    assert 'id="v-appeals-open">0<' in html and "3 workers agreed to the current terms" in html
