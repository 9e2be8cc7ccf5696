"""Authorization: every API operation × every role, read from the OpenAPI schema itself.

Each operation declares the policy action it needs (``x-handloom-action``) and the roles
allowed to take it (``x-handloom-roles``). For every operation in the schema this calls it
with a valid request as owner, manager, reviewer, worker, auditor and without a token, and
checks: roles outside the declaration get a 403 JSON error (and change nothing), roles inside
never get a 403 (they get a 2xx: the requests are valid), no token gets a 401. An operation
added to the API without a request builder here fails the coverage test, and one without a
declaration fails the declaration test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from web_helpers import ROLES, People, Person, json_error, sqlite_store_copy

from factories import import_rows, make_project, text_items
from handloom.labor import appeals, guidelines, standing, terms
from handloom.store.db import Store
from handloom.store.schema import ledger_events, users
from handloom.web.app import create_app
from handloom.web.policies import POLICY
from handloom.work import accounts, projects, review, routing, submissions

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
NO_TOKEN = "anonymous"
CALLERS = (*ROLES, NO_TOKEN)
PUBLIC = {("GET", "/api/v1/health")}


@dataclass
class Ctx:
    """What request builders need: the store, the people, and a per-call counter."""

    store: Store
    people: People
    serial: int = 0
    notes: list[str] = field(default_factory=list)

    def unique(self, stem: str) -> str:
        self.serial += 1
        return f"{stem}-{self.serial}"

    def lease(self) -> int:
        """An assignment of the test's worker in project p (its current one, or a new one)."""
        worker = self.people.worker
        with self.store.write() as conn:
            lease = routing.next_item(conn, routing.load_project(conn, "p"), worker.worker_id)
        assert lease is not None, "project p ran out of items for the worker"
        return lease.assignment_id


# A builder returns the path parameters and the httpx request arguments for one call.
Request = tuple[dict[str, Any], dict[str, Any]]
Builder = Callable[[Ctx, str], Request]


def no_args(_ctx: Ctx, _caller: str) -> Request:
    return {}, {}


def project_p(_ctx: Ctx, _caller: str) -> Request:
    return {"name": "p"}, {}


def assignment(body: dict[str, Any] | None) -> Builder:
    def build(ctx: Ctx, caller: str) -> Request:
        # the worker acts on a fresh lease of its own; everyone else on that same worker's
        # current assignment (a real id, so only authorization stands in the way)
        aid = ctx.lease()
        kwargs: dict[str, Any] = {} if body is None else {"json": dict(body)}
        if body is not None and "idempotency_key" in body:
            kwargs["json"]["idempotency_key"] = ctx.unique(f"key-{caller}")
        return {"name": "p", "assignment_id": aid}, kwargs
    return build


BUILDERS: dict[tuple[str, str], Builder] = {
    ("GET", "/api/v1/health"): no_args,
    ("GET", "/api/v1/me"): no_args,
    ("GET", "/api/v1/kinds"): no_args,
    ("GET", "/api/v1/projects"): no_args,
    ("POST", "/api/v1/projects"): lambda ctx, caller: ({}, {"json": {
        "name": ctx.unique(f"new-{caller}"), "kind": "classification",
        "labels": ["yes", "no"]}}),
    ("GET", "/api/v1/projects/{name}"): project_p,
    ("POST", "/api/v1/projects/{name}/status"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"status": "open"}}),
    ("GET", "/api/v1/projects/{name}/instructions"): project_p,
    ("POST", "/api/v1/projects/{name}/instructions"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"text": f"Be precise ({caller}).", "change_note": caller}}),
    ("GET", "/api/v1/projects/{name}/summary"): project_p,
    ("POST", "/api/v1/projects/{name}/items"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"items": [{"id": ctx.unique(f"api-{caller}"),
                                            "text": "hello"}]}}),
    ("POST", "/api/v1/projects/{name}/items/file"): lambda ctx, caller: (
        {"name": "p"}, {"files": {"file": (
            f"{caller}.jsonl",
            json.dumps({"id": ctx.unique(f"file-{caller}"), "text": "hi"}).encode() + b"\n",
            "application/x-ndjson")}}),
    ("GET", "/api/v1/projects/{name}/items"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"limit": 5}}),
    ("GET", "/api/v1/projects/{name}/annotations"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"limit": 5}}),
    ("GET", "/api/v1/projects/{name}/export"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"format": "jsonl"}}),
    ("POST", "/api/v1/projects/{name}/next"): project_p,
    ("POST", "/api/v1/projects/{name}/assignments/{assignment_id}/submit"): assignment(
        {"answer": {"label": "toxic"}, "idempotency_key": ""}),
    ("POST", "/api/v1/projects/{name}/assignments/{assignment_id}/skip"): assignment(
        {"reason": "unclear"}),
    ("POST", "/api/v1/projects/{name}/assignments/{assignment_id}/release"): assignment(None),
    ("GET", "/api/v1/me/assignments"): no_args,
    ("GET", "/api/v1/workers"): no_args,
    ("POST", "/api/v1/workers"): lambda ctx, caller: ({}, {"json": {
        "ref": ctx.unique(f"ref-{caller}")}}),
    ("POST", "/api/v1/tokens"): lambda ctx, caller: ({}, {"json": {
        "username": "reviewer-user", "name": ctx.unique(caller)}}),
    ("GET", "/api/v1/ledger/verify"): no_args,
    ("POST", "/api/v1/projects/{name}/aggregate"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"method": "mv"}}),
    ("GET", "/api/v1/projects/{name}/agreement"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"metric": "alpha", "ci": "true", "n_boot": 100}}),
    ("GET", "/api/v1/projects/{name}/quality"): project_p,
    ("GET", "/api/v1/projects/{name}/my-score"): project_p,
    # -- fair work: pay and time --
    ("GET", "/api/v1/me/pay"): no_args,
    ("GET", "/api/v1/workers/{ref}/pay"): lambda ctx, caller: (
        {"ref": ctx.people.worker.username}, {}),
    ("GET", "/api/v1/projects/{name}/pay"): project_p,
    ("GET", "/api/v1/projects/{name}/pay/report"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"format": "csv"}}),
    ("GET", "/api/v1/projects/{name}/pay/floor-check"): project_p,
    ("POST", "/api/v1/projects/{name}/pay/check"): project_p,
    ("GET", "/api/v1/projects/{name}/top-ups"): project_p,
    ("POST", "/api/v1/projects/{name}/top-ups/{adjustment_id}/approve"): lambda ctx, caller: (
        {"name": "p", "adjustment_id": top_up(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/top-ups/{adjustment_id}/dismiss"): lambda ctx, caller: (
        {"name": "p", "adjustment_id": top_up(ctx)}, {"json": {"reason": f"no ({caller})"}}),
    ("GET", "/api/v1/pay/floors"): no_args,
    ("POST", "/api/v1/pay/floors"): lambda ctx, caller: ({}, {"json": {"floors": [{
        "jurisdiction": ctx.unique("J").upper(), "currency": "USD", "hourly": "1.00",
        "source": f"a test ({caller})", "effective_date": "2024-01-01"}]}}),
    # -- fair work: exposure and well-being --
    ("GET", "/api/v1/me/exposure"): no_args,
    ("PUT", "/api/v1/me/opt-outs"): lambda ctx, caller: ({}, {"json": {"opt_outs": []}}),
    ("PUT", "/api/v1/me/timezone"): lambda ctx, caller: (
        {}, {"json": {"timezone": "Europe/Berlin"}}),
    ("POST", "/api/v1/projects/{name}/checkins"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"feeling": 4, "note": caller}}),
    ("GET", "/api/v1/me/checkins"): no_args,
    ("POST", "/api/v1/projects/{name}/items/{item_id}/tags"): lambda ctx, caller: (
        {"name": "p", "item_id": "item-1"}, {"json": {"tags": []}}),
    ("GET", "/api/v1/projects/{name}/exposure"): project_p,
    # -- fair work: appeals, reviews of workers, voice and terms --
    ("POST", "/api/v1/projects/{name}/annotations/{annotation_id}/reject"): lambda ctx, caller: (
        {"name": VOICE, "annotation_id": voice_answer(ctx)},
        {"json": {"reason": f"off topic ({caller})"}}),
    ("POST", "/api/v1/projects/{name}/appeals"): lambda ctx, caller: (
        {"name": VOICE}, {"json": {"subject_type": "rejection", "subject_id": voice_rejected(ctx),
                                   "statement": "It follows the instructions."}}),
    ("GET", "/api/v1/projects/{name}/appealable"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {}),
    ("GET", "/api/v1/me/appeals"): no_args,
    ("GET", "/api/v1/appeals"): lambda ctx, caller: ({}, {"params": {"status": "all"}}),
    ("GET", "/api/v1/appeals/{appeal_id}"): lambda ctx, caller: (
        {"appeal_id": voice_appeal(ctx)}, {}),
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): lambda ctx, caller: (
        {"appeal_id": voice_appeal(ctx)}, {"json": {"uphold": True, "reason": caller}}),
    ("GET", "/api/v1/projects/{name}/worker-reviews"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/worker-reviews"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {"json": {"worker_id": voice_worker(ctx)}}),
    ("POST", "/api/v1/projects/{name}/worker-reviews/{review_id}/decide"): lambda ctx, caller: (
        {"name": VOICE, "review_id": voice_review(ctx)},
        {"json": {"remove": False, "reason": caller}}),
    ("GET", "/api/v1/projects/{name}/flags"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/flags"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {"json": {"note": f"unclear ({caller})"}}),
    ("POST", "/api/v1/projects/{name}/flags/{issue_id}/support"): lambda ctx, caller: (
        {"name": VOICE, "issue_id": voice_flag(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/flags/{issue_id}/answer"): lambda ctx, caller: (
        {"name": VOICE, "issue_id": voice_flag(ctx)}, {"json": {"answer": caller}}),
    ("GET", "/api/v1/projects/{name}/terms"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/terms/consent"): lambda ctx, caller: (
        {"name": voice_project(ctx)}, {}),
    ("POST", "/api/v1/projects/{name}/terms/withdraw"): lambda ctx, caller: (
        {"name": voice_consented(ctx)}, {}),
    ("GET", "/api/v1/me/consents"): no_args,
    # -- fair work: the worker's own page and managers' aggregates --
    # -- disclosure: transparency report --
    ("GET", "/api/v1/projects/{name}/report"): lambda ctx, caller: (
        {"name": "p"}, {"params": {"format": "md"}}),
    # -- disclosure: statement, demographics, payouts --
    ("GET", "/api/v1/projects/{name}/disclosure"): project_p,
    ("PATCH", "/api/v1/projects/{name}/disclosure"): lambda ctx, caller: (
        {"name": "p"}, {"json": {"assumptions": f"Stated by {caller}."}}),
    ("GET", "/api/v1/me/demographics"): no_args,
    ("PUT", "/api/v1/me/demographics"): lambda ctx, caller: (
        {}, {"json": {"age_band": "25-34", "first_language": "sw"}}),
    ("DELETE", "/api/v1/me/demographics"): no_args,
    ("POST", "/api/v1/projects/{name}/pay/mark-paid"): lambda ctx, caller: (
        {"name": "p"}, {"json": {}}),
}


# -- fair work: pay and time: the top-up proposals the builders act on --
def top_up(ctx: Ctx) -> int:
    """A fresh top-up proposal for the test's worker in project p."""
    from handloom.labor import pay

    with ctx.store.write() as conn:
        return pay.propose_top_up(conn, projects.get_project(conn, "p"),
                                  ctx.people.worker.worker_id or 0, 5, reason="authz test",
                                  basis={}, actor="test")


# -- fair work: appeals, reviews of workers, voice and terms: records the builders act on --
VOICE = "v"


def voice_project(ctx: Ctx) -> str:
    """Project v (no consent needed, many items) and a reviewer whose rejections the role
    users may then judge on appeal; created once per test."""
    if VOICE not in ctx.notes:
        with ctx.store.write() as conn:
            make_project(conn, VOICE, overlap=1)
            accounts.create_user(conn, "rejector", "reviewer", actor="test")
        import_rows(ctx.store, VOICE, text_items(200, prefix="v"))
        ctx.notes.append(VOICE)
    return VOICE


def voice_answer(ctx: Ctx) -> int:
    """A fresh answer by the test's worker in project v."""
    voice_project(ctx)
    worker = ctx.people.worker.worker_id
    with ctx.store.write() as conn:
        project = routing.load_project(conn, VOICE)
        lease = routing.next_item(conn, project, worker)
        assert lease is not None, "project v ran out of items"
        return submissions.submit_answer(
            conn, project, projects.kind_of(project), worker, lease.assignment_id,
            {"label": "toxic"}, idempotency_key=ctx.unique("voice")).annotation_id


def voice_rejected(ctx: Ctx) -> int:
    """A fresh answer of the test's worker, rejected by the reviewer 'rejector'."""
    annotation_id = voice_answer(ctx)
    with ctx.store.write() as conn:
        rejector = conn.execute(select(users.c.id).where(users.c.username == "rejector")
                                ).scalar_one()
        review.reject_answer(conn, projects.get_project(conn, VOICE), annotation_id, rejector,
                             "off topic", actor="test")
    return annotation_id


def voice_appeal(ctx: Ctx) -> int:
    """A fresh open appeal of the test's worker (against the rejector's decision)."""
    annotation_id = voice_rejected(ctx)
    with ctx.store.write() as conn:
        return appeals.file(conn, projects.get_project(conn, VOICE), ctx.people.worker.worker_id,
                            "rejection", annotation_id, "It follows the instructions.")


def voice_worker(ctx: Ctx) -> int:
    voice_project(ctx)
    with ctx.store.write() as conn:
        return accounts.add_worker(conn, ctx.unique("voice-worker"), actor="test")


def voice_review(ctx: Ctx) -> int:
    worker = voice_worker(ctx)
    with ctx.store.write() as conn:
        return standing.open_review(conn, projects.get_project(conn, VOICE), worker)


def voice_flag(ctx: Ctx) -> int:
    worker = voice_worker(ctx)
    with ctx.store.write() as conn:
        return guidelines.flag(conn, projects.get_project(conn, VOICE), worker, kind="unclear",
                               note="What counts as sarcasm?")


def voice_consented(ctx: Ctx) -> str:
    voice_project(ctx)
    with ctx.store.write() as conn:
        terms.consent(conn, projects.get_project(conn, VOICE), ctx.people.worker.worker_id)
    return VOICE


def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op
            for path, ops in app.openapi()["paths"].items()
            for method, op in ops.items() if method in HTTP_METHODS}


def ledger_size(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger_events)).scalar_one())


def seed(store: Store, people: People) -> None:
    with store.write() as conn:
        make_project(conn, "p", overlap=1)
    import_rows(store, "p", text_items(8))
    for role in ROLES:
        people.role(role)


# ------------------------------------------------------------------ the schema's declarations
@pytest.fixture
def schema_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """The app over an empty SQLite store, for its OpenAPI schema."""
    store = sqlite_store_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    try:
        yield create_app(store)
    finally:
        store.dispose()


def test_every_operation_declares_its_action_and_roles(schema_app: FastAPI) -> None:
    ops = operations(schema_app)
    assert ops, "the OpenAPI schema lists no operations"
    for key, op in ops.items():
        if key in PUBLIC:
            assert "x-handloom-action" not in op and "security" not in op, key
            continue
        action = op.get("x-handloom-action")
        roles = op.get("x-handloom-roles")
        assert action, f"{key} declares no x-handloom-action"
        assert roles and set(roles) <= set(ROLES), f"{key}: x-handloom-roles {roles!r}"
        expected = set(ROLES) if action == "authenticated" else set(POLICY[action])
        assert set(roles) == expected, (key, action, roles)
        assert op.get("security") == [{"HTTPBearer": []}], key


def test_the_matrix_covers_every_operation_in_the_schema(schema_app: FastAPI) -> None:
    in_schema = set(operations(schema_app))
    assert in_schema - set(BUILDERS) == set(), (
        "operations without a request builder in test_authz.BUILDERS (add one, so the new "
        "route is checked for every role)")
    assert set(BUILDERS) - in_schema == set(), "builders for operations no longer in the API"


# ------------------------------------------------------------------ the matrix
def test_every_operation_for_every_role(store: Store, live_app: FastAPI, live_server: str,
                                        people: People) -> None:
    seed(store, people)
    ctx = Ctx(store, people)
    problems: list[str] = []
    checked = 0
    with httpx.Client(base_url=live_server, timeout=30.0) as http:
        for (method, template), op in operations(live_app).items():
            allowed = set(op.get("x-handloom-roles", CALLERS))
            for caller in CALLERS:
                params, kwargs = BUILDERS[(method, template)](ctx, caller)
                path = template.format(**params)
                headers = {} if caller == NO_TOKEN else people.role(caller).headers
                before = ledger_size(store)
                response = http.request(method, path, headers=headers, **kwargs)
                checked += 1
                where = f"{method} {path} as {caller}: {response.status_code}"
                status = response.status_code
                if (method, template) in PUBLIC:
                    if status != 200:
                        problems.append(f"{where} (public; expected 200)")
                    continue
                if caller == NO_TOKEN:
                    expected, code = 401, "unauthorized"
                elif caller not in allowed:
                    expected, code = 403, "forbidden"
                else:
                    if not 200 <= status < 300:
                        problems.append(f"{where} (role is allowed) {response.text[:300]}")
                    continue
                if status != expected:
                    problems.append(f"{where} (expected {expected}) {response.text[:300]}")
                    continue
                try:
                    body = json_error(response, expected)
                    assert body["error"] == code, body
                    if expected == 403:
                        assert caller in body["message"], body
                        assert op["x-handloom-action"] in body["message"], body
                except AssertionError as exc:
                    problems.append(f"{where}: {exc}")
                if ledger_size(store) != before:
                    problems.append(f"{where}: a refused request wrote to the ledger")
    assert checked == len(BUILDERS) * len(CALLERS)
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------ what workers may see
WORKER_CARD_KEYS = {"name", "title", "kind", "purpose", "pay", "content_categories",
                    "instructions_version"}
COUNT_KEYS = {"items", "gold_items", "done", "in_progress", "waiting", "answers", "leased",
              "workers"}


def answer_some(store: Store, workers: list[Person], per_worker: int = 2) -> None:
    for person in workers:
        for _ in range(per_worker):
            with store.write() as conn:
                project = routing.load_project(conn, "p")
                lease = routing.next_item(conn, project, person.worker_id)
                assert lease is not None
                row = projects.get_project(conn, "p")
                submissions.submit_answer(conn, project, projects.kind_of(row),
                                          person.worker_id, lease.assignment_id,
                                          {"label": "toxic"},
                                          idempotency_key=f"{person.username}-{lease.item_id}")


def test_workers_see_no_counts_and_no_annotations(store: Store, api: httpx.Client,
                                                  people: People) -> None:
    seed(store, people)
    crowd = people.workers(2, prefix="secret-ref")
    answer_some(store, crowd)
    worker = people.worker

    cards = api.get("/api/v1/projects", headers=worker.headers)
    assert cards.status_code == 200, cards.text
    assert [c["name"] for c in cards.json()] == ["p"]
    for card in cards.json():
        assert set(card) == WORKER_CARD_KEYS, card
    staff = api.get("/api/v1/projects", headers=people.owner.headers).json()
    assert staff[0]["answers"] == 4  # the counts exist, and only staff see them

    shown = api.get("/api/v1/projects/p", headers=worker.headers)
    assert shown.status_code == 200
    assert not COUNT_KEYS & set(shown.json()), shown.json()
    assert "pseudonym_secret" not in shown.json()

    for path in ("/api/v1/projects/p/annotations", "/api/v1/projects/p/summary",
                 "/api/v1/projects/p/items", "/api/v1/projects/p/export", "/api/v1/workers"):
        json_error(api.get(path, headers=worker.headers), 403)

    # a worker's own assignments are its own only
    mine = api.get("/api/v1/me/assignments", headers=crowd[0].headers).json()
    assert len(mine) == 2 and all(a["project"] == "p" for a in mine)
    assert api.get("/api/v1/me/assignments", headers=worker.headers).json() == []


def test_annotations_show_pseudonyms_never_worker_refs(store: Store, api: httpx.Client,
                                                       people: People) -> None:
    seed(store, people)
    crowd = people.workers(3, prefix="secret-ref")
    answer_some(store, crowd)
    for reader in ("owner", "manager", "reviewer", "auditor"):
        response = api.get("/api/v1/projects/p/annotations",
                           headers=people.role(reader).headers)
        assert response.status_code == 200, response.text
        rows = response.json()
        assert len(rows) == 6
        names = {r["worker"] for r in rows}
        assert len(names) == 3
        assert all(re.fullmatch(r"w_[0-9a-f]{16}", n) for n in names), names
        assert "secret-ref" not in response.text
        for person in crowd:
            assert person.username not in response.text
        assert not {str(p.worker_id) for p in crowd} & names
        assert "worker_id" not in rows[0] and "user_id" not in rows[0]
    exported = api.get("/api/v1/projects/p/export", headers=people.auditor.headers,
                       params={"format": "jsonl"})
    assert exported.status_code == 200
    assert "secret-ref" not in exported.text


@pytest.mark.parametrize("caller", ["reviewer", "auditor", "worker"])
def test_a_refused_write_leaves_nothing_behind(store: Store, api: httpx.Client,
                                               people: People, caller: str) -> None:
    seed(store, people)
    headers = people.role(caller).headers
    json_error(api.post("/api/v1/projects", headers=headers,
                        json={"name": "sneaky", "kind": "classification",
                              "labels": ["a", "b"]}), 403)
    json_error(api.post("/api/v1/projects/p/status", headers=headers,
                        json={"status": "closed"}), 403)
    json_error(api.post("/api/v1/workers", headers=headers, json={"ref": "sneaky"}), 403)
    json_error(api.post("/api/v1/tokens", headers=headers,
                        json={"username": "owner-user"}), 403)
    owner = people.owner.headers
    assert [p["name"] for p in api.get("/api/v1/projects", headers=owner).json()] == ["p"]
    assert api.get("/api/v1/projects/p", headers=owner).json()["status"] == "open"
    assert "sneaky" not in {w["ref"] for w in api.get("/api/v1/workers", headers=owner).json()}
