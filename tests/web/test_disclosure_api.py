"""The disclosure statement, self-reported demographics and payouts over HTTP (SQLite and
PostgreSQL): the REST API and the SDK, and the pages (the statement page, the demographics
form on /me, the payout button on the pay page, paid and owed on the worker's page)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from web_helpers import People, csrf_of, json_error, signed_in_client

from factories import answer_next, import_rows, make_project, text_items
from handloom.disclose import statement
from handloom.labor import demographics
from handloom.sdk import Client, HandloomAPIError
from handloom.store.db import Store
from handloom.store.schema import ledger_events, pay_events, workers
from handloom.work import accounts, projects

PASSWORD = "correct horse battery"


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def ledger_of(store: Store, event: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(ledger_events.c.body).where(ledger_events.c.event == event))
        return [json.loads(b) if isinstance(b, str) else b for (b,) in rows]


@pytest.fixture
def project_p(store: Store) -> Store:
    with store.write() as conn:
        make_project(conn, title="Toxic comments", overlap=1, purpose="Train a filter.",
                     pay={"piece_rate": "0.10"})
    import_rows(store, "p", text_items(6))
    return store


# ------------------------------------------------------------------ the statement
def test_statement_read_and_changed_over_the_api(project_p: Store, api: httpx.Client,
                                                 people: People, live_server: str) -> None:
    owner, manager, worker = people.owner, people.manager, people.worker
    got = api.get("/api/v1/projects/p/disclosure", headers=owner.headers)
    assert got.status_code == 200 and list(got.json()) == list(statement.FIELDS)
    assert got.json()["purpose"] == "Train a filter." and got.json()["k"] == 5

    changed = api.patch("/api/v1/projects/p/disclosure", headers=manager.headers,
                        json={"assumptions": "Toxic = harmful to a reader.", "k": 6,
                              "license": "CC-BY-4.0", "purpose": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["assumptions"] == "Toxic = harmful to a reader."
    assert changed.json()["purpose"] == "Train a filter."  # null leaves it as it is
    (event,) = ledger_of(project_p, "project.described")
    assert sorted(event["changed"]) == ["assumptions", "k", "license"]

    lower = api.patch("/api/v1/projects/p/disclosure", headers=owner.headers, json={"k": 5})
    assert json_error(lower, 422)["field"] == "k"
    unknown = api.patch("/api/v1/projects/p/disclosure", headers=owner.headers,
                        json={"licence": "MIT"})
    json_error(unknown, 422)
    long = api.patch("/api/v1/projects/p/disclosure", headers=owner.headers,
                     json={"license": "x" * 501})
    json_error(long, 422)
    use = api.patch("/api/v1/projects/p/disclosure", headers=owner.headers,
                    json={"downstream_use": "marketing"})
    assert json_error(use, 422)["field"] == "downstream_use"
    assert json_error(api.get("/api/v1/projects/nope/disclosure", headers=owner.headers),
                      404)
    # Workers read the statement of a project open to them, and may not change it.
    assert api.get("/api/v1/projects/p/disclosure", headers=worker.headers).status_code == 200
    json_error(api.patch("/api/v1/projects/p/disclosure", headers=worker.headers,
                         json={"biases": "none"}), 403)

    with Client(live_server, owner.token) as hl:
        assert hl.describe("p", biases="Mostly English posts.")["biases"] == (
            "Mostly English posts.")
        assert hl.disclosure("p")["k"] == 6
        with pytest.raises(HandloomAPIError) as caught:
            hl.describe("p", k=5)
        assert caught.value.status == 422


# ------------------------------------------------------------------ demographics
def test_a_worker_gives_changes_and_erases_demographics(project_p: Store, api: httpx.Client,
                                                        people: People,
                                                        live_server: str) -> None:
    worker = people.new("worker", "dana-secret")
    mine = api.get("/api/v1/me/demographics", headers=worker.headers)
    assert mine.status_code == 200
    assert mine.json()["given"] == {} and mine.json()["fields"]["first_language"] is None
    assert mine.json()["fields"]["age_band"] == list(demographics.AGE_BANDS)
    assert "at least 5 workers" in mine.json()["how_used"]

    put = api.put("/api/v1/me/demographics", headers=worker.headers,
                  json={"age_band": "25-34", "first_language": "SW", "gender": None})
    assert put.status_code == 200, put.text
    assert put.json()["given"] == {"age_band": "25-34", "first_language": "sw"}
    bad = api.put("/api/v1/me/demographics", headers=worker.headers,
                  json={"first_language": "qq"})
    assert json_error(bad, 422)["field"] == "first_language"
    json_error(api.put("/api/v1/me/demographics", headers=worker.headers,
                       json={"age_band": "30-39"}), 422)
    json_error(api.put("/api/v1/me/demographics", headers=worker.headers,
                       json={"religion": "x"}), 422)
    with project_p.read() as conn:
        raw = conn.execute(select(workers.c.demographics).where(
            workers.c.id == worker.worker_id)).scalar()
    assert raw == {"age_band": "25-34", "first_language": "sw"}

    # Staff never see a worker's answers: not in the worker list, not in a statement.
    for path in ("/api/v1/workers", f"/api/v1/workers/{worker.username}/pay"):
        body = api.get(path, headers=people.owner.headers)
        assert body.status_code == 200 and "25-34" not in body.text, path
        assert "demographics" not in body.text, path
    json_error(api.get("/api/v1/me/demographics", headers=people.owner.headers), 403)

    with Client(live_server, worker.token) as hl:
        assert hl.set_demographics(education="bachelors")["given"] == {
            "education": "bachelors"}
        assert hl.my_demographics()["given"] == {"education": "bachelors"}
        erased = hl.erase_demographics()
    assert erased["given"] == {} and erased["erased"] == ["education"]
    assert [e["fields"] for e in ledger_of(project_p, "worker.demographics_set")] == [
        ["age_band", "first_language"], ["education"]]
    assert len(ledger_of(project_p, "worker.demographics_erased")) == 1


# ------------------------------------------------------------------ payouts
def test_mark_paid_over_the_api(project_p: Store, api: httpx.Client, people: People,
                                live_server: str) -> None:
    kofi, ama = people.workers(2)
    for w, n in ((kofi, 2), (ama, 1)):
        for _ in range(n):
            assert answer_next(project_p, "p", w.worker_id or 0) is not None
    one = api.post("/api/v1/projects/p/pay/mark-paid", headers=people.manager.headers,
                   json={"worker": kofi.username})
    assert one.status_code == 200, one.text
    assert (one.json()["count"], one.json()["total"]) == (2, "0.20")
    assert json_error(api.post("/api/v1/projects/p/pay/mark-paid",
                               headers=people.owner.headers, json={"worker": "nobody"}),
                      404)["field"] == "worker"
    assert json_error(api.post("/api/v1/projects/p/pay/mark-paid",
                               headers=people.owner.headers, json={"through": "soon"}),
                      422)["field"] == "through"
    old = api.post("/api/v1/projects/p/pay/mark-paid", headers=people.owner.headers,
                   json={"through": "2000-01-01"})
    assert old.json()["count"] == 0 and old.json()["through"].startswith("2000-01-02")
    json_error(api.post("/api/v1/projects/p/pay/mark-paid", headers=people.auditor.headers,
                        json={}), 403)
    statement_of_ama = api.get("/api/v1/me/pay", headers=ama.headers).json()
    assert statement_of_ama["projects"][0]["owed"] == "0.10"
    with Client(live_server, people.owner.token) as hl:
        assert hl.mark_paid("p")["count"] == 1
    assert api.get("/api/v1/me/pay", headers=ama.headers).json()["projects"][0][
        "owed"] == "0.00"
    with project_p.read() as conn:
        assert conn.execute(select(pay_events.c.id).where(
            pay_events.c.paid_at.is_(None))).first() is None
    assert [e["count"] for e in ledger_of(project_p, "pay.paid_out")] == [2, 1]


# ------------------------------------------------------------------ pages
@pytest.fixture
def staff(project_p: Store) -> Store:
    with project_p.write() as conn:
        accounts.create_user(conn, "mona", "manager", password=PASSWORD, actor="test")
        accounts.create_user(conn, "aldo", "auditor", password=PASSWORD, actor="test")
        accounts.add_worker(conn, "fay-secret", password=PASSWORD, actor="test")
    return project_p


def test_the_statement_page(staff: Store, live_server: str) -> None:
    with signed_in_client(live_server, "mona", PASSWORD) as mona:
        project_page = mona.get("/manage/p")
        assert 'href="/manage/p/disclosure"' in project_page.text
        page = mona.get("/manage/p/disclosure")
        assert page.status_code == 200
        text = text_of(page.text)
        for name in statement.FIELDS:
            assert f'name="{name}"' in page.text, name
            assert html.unescape(statement.help_for(name)) in text or name == "k", name
        assert "rai:dataBiases" in text and "Art. 10(2)(d)" in text
        assert "2 of 20 fields stated" in text  # purpose, downstream_use
        form = {name: "" for name in statement.FIELDS}
        form.update({"csrf": csrf_of(page.text), "purpose": "Train a filter.",
                     "downstream_use": "training", "k": "5",
                     "assumptions": "Toxic means\r\nharmful.", "license": "MIT"})
        saved = mona.post("/manage/p/disclosure", data=form)
        assert saved.status_code == 303
        again = mona.get("/manage/p/disclosure")
        assert "Saved: Assumptions, Licence." in text_of(again.text)
        assert "4 of 20 fields stated" in text_of(again.text)
        with staff.read() as conn:
            stated = statement.stated(projects.get_project(conn, "p"))
        assert stated["assumptions"] == "Toxic means\nharmful." and stated["license"] == "MIT"

        form.update({"csrf": csrf_of(again.text), "license": "x" * 501})
        refused = mona.post("/manage/p/disclosure", data=form)
        assert refused.status_code == 422
        assert "was not saved" in refused.text and 'aria-invalid="true"' in refused.text
        form.update({"license": "MIT", "k": "4"})
        lower = mona.post("/manage/p/disclosure", data=form)
        assert lower.status_code == 422 and "never lowered" in text_of(lower.text)
    with signed_in_client(live_server, "aldo", PASSWORD) as aldo:
        page = aldo.get("/manage/p/disclosure")
        assert page.status_code == 200 and "btn-disclosure-save" not in page.text
        assert "Toxic means" in page.text
        refused = aldo.post("/manage/p/disclosure",
                            data={"csrf": csrf_of(page.text), "biases": "x"})
        assert refused.status_code == 403


def test_new_projects_ask_for_the_statement_up_front(staff: Store, live_server: str) -> None:
    with signed_in_client(live_server, "mona", PASSWORD) as mona:
        form_page = mona.get("/manage/new")
        for field in ("purpose", "data_source", "disclosure.assumptions", "known_limitations",
                      "disclosure.license"):
            assert f'name="{field}"' in form_page.text, field
        created = mona.post("/manage/new", data={
            "csrf": csrf_of(form_page.text), "name": "stated", "kind": "classification",
            "purpose": "Evaluate a model.", "data_source": "Our own posts.",
            "disclosure.assumptions": "Labels reflect one reading.",
            "known_limitations": "English only.", "disclosure.license": "CC0-1.0",
            "kind_config": 'labels = ["a", "b"]\n[disclosure]\nbiases = "Young annotators."',
            "overlap": "1", "status": "draft", "pay.model": "piece", "pay.currency": "USD"})
        assert created.status_code == 303, text_of(created.text)[:500]
        clash = mona.post("/manage/new", data={
            "csrf": csrf_of(form_page.text), "name": "clash", "kind": "classification",
            "disclosure.license": "MIT", "status": "draft",
            "kind_config": 'labels = ["a"]\n[disclosure]\nlicense = "CC0-1.0"'})
        assert clash.status_code == 422 and "disclosure.license" in text_of(clash.text)
    with staff.read() as conn:
        stated = statement.stated(projects.get_project(conn, "stated"))
    assert (stated["purpose"], stated["data_source"], stated["assumptions"],
            stated["known_limitations"], stated["license"], stated["biases"]) == (
        "Evaluate a model.", "Our own posts.", "Labels reflect one reading.", "English only.",
        "CC0-1.0", "Young annotators.")


def test_demographics_on_my_page(staff: Store, live_server: str) -> None:
    with signed_in_client(live_server, "fay-secret", PASSWORD) as fay:
        me = fay.get("/me")
        assert me.status_code == 200
        assert 'id="about-form"' in me.text and "Prefer not to say" in me.text
        assert "at least 5 workers" in text_of(me.text)
        assert '<option value="sw">Swahili</option>' in me.text
        saved = fay.post("/me/demographics", data={
            "csrf": csrf_of(me.text), "age_band": "45-54", "gender": "", "education": "",
            "first_language": "sw"})
        assert saved.status_code == 303 and saved.headers["location"] == "/me#about"
        after = text_of(fay.get("/me").text)
        assert "You gave 2 of 4 answers." in after
        assert "You have given: age 45–54 , first language Swahili ." in after
        bad = fay.post("/me/demographics", data={"csrf": csrf_of(me.text),
                                                 "first_language": "zz"})
        assert bad.status_code == 422 and "ISO 639-1" in text_of(bad.text)
        erased = fay.post("/me/demographics/erase", data={"csrf": csrf_of(me.text)})
        assert erased.status_code == 303
        assert "Erased: nothing about you is stored any more." in text_of(fay.get("/me").text)
    with staff.read() as conn:
        assert conn.execute(select(workers.c.demographics).where(
            workers.c.ref == "fay-secret")).scalar() is None
    with signed_in_client(live_server, "mona", PASSWORD) as mona:
        refused = mona.post("/me/demographics", data={"csrf": csrf_of(mona.get("/manage").text),
                                                      "gender": "man"})
        assert refused.status_code == 403


def test_the_payout_button_and_paid_and_owed_on_my_page(staff: Store,
                                                        live_server: str) -> None:
    with staff.read() as conn:
        fay = conn.execute(select(workers.c.id).where(workers.c.ref == "fay-secret")
                           ).scalar_one()
    for _ in range(3):
        assert answer_next(staff, "p", fay) is not None
    with signed_in_client(live_server, "fay-secret", PASSWORD) as worker:
        mine = text_of(worker.get("/me").text)
        assert "USD 0.00 paid to you; USD 0.30 still owed" in mine, mine
    with signed_in_client(live_server, "mona", PASSWORD) as mona:
        page = mona.get("/manage/p/pay")
        text = text_of(page.text)
        assert "Still owed USD 0.30" in text and "3 pay event(s) of 1 worker(s)" in text
        done = mona.post("/manage/p/pay/mark-paid", data={"csrf": csrf_of(page.text),
                                                          "through": ""})
        assert done.status_code == 303 and done.headers["location"].endswith("#payouts")
        after = text_of(mona.get("/manage/p/pay").text)
        assert "Marked 3 pay event(s) as paid: USD 0.30 to 1 worker(s)." in after
        assert "Paid out USD 0.30" in after and "Everything earned so far is marked paid" in after
        assert 'id="btn-mark-paid"' not in mona.get("/manage/p/pay").text
    with signed_in_client(live_server, "aldo", PASSWORD) as aldo:
        assert aldo.post("/manage/p/pay/mark-paid",
                         data={"csrf": csrf_of(aldo.get("/manage/p/pay").text)}
                         ).status_code == 403
    with signed_in_client(live_server, "fay-secret", PASSWORD) as worker:
        mine = text_of(worker.get("/me").text)
        assert "USD 0.30 paid to you (last payment recorded" in mine and "nothing owed" in mine
