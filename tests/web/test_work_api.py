"""The worker's loop over HTTP: next, submit, skip, release, expiry, and the error bodies.

Every test runs against uvicorn serving the real app, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from web_helpers import People, Person, json_error

from factories import import_rows, make_project, text_items
from handloom import ledger
from handloom.store.db import Store, utcnow
from handloom.store.schema import annotations, assignments, items, ledger_events
from handloom.web.work_loop import NO_WORK
from handloom.work import routing

P = "/api/v1/projects/p"


def setup_project(store: Store, n_items: int = 3, **spec: Any) -> None:
    with store.write() as conn:
        make_project(conn, "p", **spec)
    import_rows(store, "p", text_items(n_items))


def next_lease(api: httpx.Client, who: Person, project: str = "p") -> dict[str, Any] | None:
    response = api.post(f"/api/v1/projects/{project}/next", headers=who.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    if body["assignment"] is None:
        assert body["reason"] == NO_WORK
    return body["assignment"]  # type: ignore[no-any-return]


def submit(api: httpx.Client, who: Person, assignment_id: int, answer: Any = None,
           key: str = "k1", **extra: Any) -> httpx.Response:
    body = {"answer": {"label": "toxic"} if answer is None else answer,
            "idempotency_key": key, **extra}
    return api.post(f"{P}/assignments/{assignment_id}/submit", headers=who.headers, json=body)


def item_row(store: Store, external_id: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(items).where(items.c.external_id == external_id)).one()


def assignment_status(store: Store, assignment_id: int) -> str:
    with store.read() as conn:
        return str(conn.execute(select(assignments.c.status)
                                .where(assignments.c.id == assignment_id)).scalar_one())


def count(store: Store, table: Any, *where: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where))
                   .scalar_one())


def event_count(store: Store, event: str) -> int:
    return count(store, ledger_events, ledger_events.c.event == event)


def assert_ledger_ok(store: Store) -> None:
    with store.read() as conn:
        verdict = ledger.verify(conn)
    assert verdict.ok, verdict


# ------------------------------------------------------------------ leases
def test_next_leases_and_resumes_the_same_item(store: Store, api: httpx.Client,
                                               people: People) -> None:
    setup_project(store, lease_seconds=5)
    worker = people.worker
    lease = next_lease(api, worker)
    assert lease is not None and lease["resumed"] is False
    assert lease["item"] == {"id": "item-1", "payload": {"text": "text number 1"},
                             "sensitivity": []}
    leased_at = datetime.fromisoformat(lease["leased_at"])
    expires_at = datetime.fromisoformat(lease["expires_at"])
    assert expires_at - leased_at == timedelta(seconds=5)
    again = next_lease(api, worker)
    assert again is not None and again["resumed"] is True
    assert again["assignment_id"] == lease["assignment_id"]
    assert item_row(store, "item-1").leased == 1


def test_an_expired_lease_returns_the_item_to_the_pool(store: Store, api: httpx.Client,
                                                       people: People) -> None:
    setup_project(store, n_items=1, overlap=1, lease_seconds=5)
    alice, bob = people.new("worker", "alice"), people.new("worker", "bob")
    lease = next_lease(api, alice)
    assert lease is not None
    assert next_lease(api, bob) is None  # the only item is full while alice holds it

    # the expiry sweep, as the next request after the lease ran out would run it
    later = utcnow() + timedelta(seconds=6)
    with store.write() as conn:
        assert routing.expire_leases(conn, routing.load_project(conn, "p"), later) == 1
    assert assignment_status(store, lease["assignment_id"]) == "expired"
    assert item_row(store, "item-1").leased == 0
    assert event_count(store, "assignment.expired") == 1

    mine = api.get("/api/v1/me/assignments", headers=alice.headers).json()
    assert [(a["assignment_id"], a["status"]) for a in mine] == [(lease["assignment_id"],
                                                                  "expired")]
    taken = next_lease(api, bob)
    assert taken is not None and taken["item"]["id"] == "item-1"
    # alice's late answer is refused: the item went to bob meanwhile
    body = json_error(submit(api, alice, lease["assignment_id"]), 409)
    assert "expired" in body["message"]
    assert next_lease(api, alice) is None  # never the same item twice to one worker
    assert submit(api, bob, taken["assignment_id"]).status_code == 200
    assert count(store, annotations) == 1
    assert_ledger_ok(store)


def test_a_late_answer_is_kept_while_the_item_has_room(store: Store, api: httpx.Client,
                                                       people: People) -> None:
    setup_project(store, n_items=1, overlap=2, lease_seconds=5)
    worker = people.worker
    lease = next_lease(api, worker)
    assert lease is not None
    # the sweep runs inside another worker's next, with a clock 6 s ahead
    other = people.new("worker")
    with store.write() as conn:
        routing.next_item(conn, routing.load_project(conn, "p"), other.worker_id,
                          now=utcnow() + timedelta(seconds=6))
    assert assignment_status(store, lease["assignment_id"]) == "expired"
    response = submit(api, worker, lease["assignment_id"])
    assert response.status_code == 200, response.text
    row = item_row(store, "item-1")
    assert (row.answers, row.leased) == (1, 1)  # the other worker's lease is still live
    assert_ledger_ok(store)


# ------------------------------------------------------------------ submissions
def test_a_retried_submission_is_replayed_not_stored_twice(store: Store, api: httpx.Client,
                                                           people: People) -> None:
    setup_project(store, n_items=2)
    worker = people.worker
    lease = next_lease(api, worker)
    assert lease is not None
    first = submit(api, worker, lease["assignment_id"], key="answer-1", active_seconds=4.0)
    assert first.status_code == 200, first.text
    again = submit(api, worker, lease["assignment_id"], key="answer-1", active_seconds=4.0)
    assert again.status_code == 200, again.text
    a, b = first.json(), again.json()
    assert a["replayed"] is False and b["replayed"] is True
    assert {k: v for k, v in a.items() if k != "replayed"} == {
        k: v for k, v in b.items() if k != "replayed"}
    assert count(store, annotations) == 1
    assert event_count(store, "annotation.submitted") == 1
    assert item_row(store, "item-1").answers == 1

    # the same answer under a fresh key is a second answer to the same assignment: refused
    json_error(submit(api, worker, lease["assignment_id"], key="answer-1b"), 409)
    # the key of an earlier answer cannot be reused for another assignment
    second = next_lease(api, worker)
    assert second is not None and second["item"]["id"] == "item-2"
    body = json_error(submit(api, worker, second["assignment_id"], key="answer-1"), 409)
    assert body.get("field") == "idempotency_key"
    assert count(store, annotations) == 1
    assert_ledger_ok(store)


def post_at_once(base_url: str, start: threading.Barrier, who: Person, assignment_id: int,
                 key: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30.0) as c:
        start.wait()
        return submit(c, who, assignment_id, key=key)


def test_concurrent_retries_with_one_key_store_one_answer(store: Store, live_server: str,
                                                          people: People) -> None:
    """A client that times out and retries while the first request is still in flight
    sends the same key twice at once: one answer is stored, every reply names it."""
    setup_project(store, n_items=3, overlap=1)
    worker = people.worker
    n = 8
    for attempt in range(3):  # several rounds make the race likely to be hit
        with store.write() as conn:
            lease = routing.next_item(conn, routing.load_project(conn, "p"), worker.worker_id)
        assert lease is not None
        start = threading.Barrier(n)
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(post_at_once, live_server, start, worker,
                                   lease.assignment_id, f"same-{attempt}") for _ in range(n)]
            replies = [f.result() for f in futures]
        assert [r.status_code for r in replies] == [200] * n, [r.text for r in replies]
        bodies = [r.json() for r in replies]
        assert len({b["annotation_id"] for b in bodies}) == 1, bodies
        assert sorted(b["replayed"] for b in bodies) == [False] + [True] * (n - 1)
    assert count(store, annotations) == 3
    assert_ledger_ok(store)


def test_an_invalid_answer_is_a_422_naming_the_field(store: Store, api: httpx.Client,
                                                     people: People) -> None:
    setup_project(store)
    worker = people.worker
    lease = next_lease(api, worker)
    assert lease is not None
    aid = lease["assignment_id"]

    body = json_error(submit(api, worker, aid, {"label": "bogus"}), 422)
    assert body["error"] == "invalid" and body["field"] == "answer.label"
    assert "answer.label" in body["message"] and "bogus" in body["message"]

    body = json_error(submit(api, worker, aid, {}), 422)
    assert body["field"] == "answer.label"

    cases: list[tuple[dict[str, Any], str]] = [
        ({"idempotency_key": "k"}, "answer"),
        ({"answer": {"label": "toxic"}}, "idempotency_key"),
        ({"answer": {"label": "toxic"}, "idempotency_key": ""}, "idempotency_key"),
        ({"answer": {"label": "toxic"}, "idempotency_key": "k", "active_seconds": -1},
         "active_seconds"),
        ({"answer": {"label": "toxic"}, "idempotency_key": "k", "colour": "red"}, "colour"),
        ({"answer": "toxic", "idempotency_key": "k"}, "answer"),
    ]
    for payload, field in cases:
        response = api.post(f"{P}/assignments/{aid}/submit", headers=worker.headers,
                            json=payload)
        body = json_error(response, 422)
        assert body["field"] == field, (payload, body)
        assert body["message"].startswith(field), (payload, body)

    response = api.post(f"{P}/assignments/{aid}/submit", headers=worker.headers,
                        content=b"{not json", )
    assert json_error(response, 422)["error"] == "invalid"

    # nothing was stored and the lease is still held
    assert count(store, annotations) == 0
    assert assignment_status(store, aid) == "leased"
    assert submit(api, worker, aid).status_code == 200


def test_another_workers_assignment_is_404(store: Store, api: httpx.Client,
                                           people: People) -> None:
    setup_project(store)
    alice, bob = people.new("worker", "alice"), people.new("worker", "bob")
    lease = next_lease(api, alice)
    assert lease is not None
    aid = lease["assignment_id"]
    for action in ("submit", "skip", "release"):
        payload = ({"answer": {"label": "toxic"}, "idempotency_key": "k"}
                   if action == "submit" else {})
        response = api.post(f"{P}/assignments/{aid}/{action}", headers=bob.headers,
                            json=payload)
        body = json_error(response, 404)
        assert body["error"] == "not_found", body
        assert "alice" not in body["message"]
        # an id that does not exist reads exactly the same
        missing = api.post(f"{P}/assignments/{aid + 1000}/{action}", headers=bob.headers,
                           json=payload)
        assert json_error(missing, 404)["error"] == "not_found"
    assert assignment_status(store, aid) == "leased"
    assert count(store, annotations) == 0
    # an unknown project is a 404 too
    body = json_error(api.post("/api/v1/projects/nope/next", headers=alice.headers), 404)
    assert "nope" in body["message"]


def test_a_skipped_item_is_never_offered_to_that_worker_again(store: Store, api: httpx.Client,
                                                              people: People) -> None:
    setup_project(store, n_items=2, overlap=3)
    alice, bob = people.new("worker", "alice"), people.new("worker", "bob")
    lease = next_lease(api, alice)
    assert lease is not None and lease["item"]["id"] == "item-1"
    response = api.post(f"{P}/assignments/{lease['assignment_id']}/skip",
                        headers=alice.headers, json={"reason": "not English"})
    assert response.status_code == 200, response.text
    assert response.json() == {"assignment_id": lease["assignment_id"], "status": "skipped"}
    assert item_row(store, "item-1").leased == 0
    # a retried skip changes nothing
    again = api.post(f"{P}/assignments/{lease['assignment_id']}/skip", headers=alice.headers,
                     json={"reason": "not English"})
    assert again.status_code == 200 and again.json()["status"] == "skipped"
    assert event_count(store, "assignment.skipped") == 1

    seen = []
    while (lease2 := next_lease(api, alice)) is not None:
        seen.append(lease2["item"]["id"])
        assert submit(api, alice, lease2["assignment_id"], key=lease2["item"]["id"]
                      ).status_code == 200
    assert seen == ["item-2"]
    # the item went back to the pool for everyone else
    other = next_lease(api, bob)
    assert other is not None and other["item"]["id"] == "item-1"
    # a skipped assignment cannot be answered afterwards
    json_error(submit(api, alice, lease["assignment_id"], key="late"), 409)
    with store.read() as conn:
        reason = conn.execute(select(assignments.c.skip_reason)
                              .where(assignments.c.id == lease["assignment_id"])).scalar_one()
    assert reason == "not English"
    assert_ledger_ok(store)


def test_release_hands_the_item_back(store: Store, api: httpx.Client, people: People) -> None:
    setup_project(store, n_items=1, overlap=1)
    alice, bob = people.new("worker", "alice"), people.new("worker", "bob")
    lease = next_lease(api, alice)
    assert lease is not None
    assert next_lease(api, bob) is None
    url = f"{P}/assignments/{lease['assignment_id']}/release"
    response = api.post(url, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"assignment_id": lease["assignment_id"], "status": "released"}
    assert assignment_status(store, lease["assignment_id"]) == "released"
    assert item_row(store, "item-1").leased == 0
    assert api.post(url, headers=alice.headers).status_code == 200  # a retry changes nothing
    assert event_count(store, "assignment.released") == 1
    json_error(submit(api, alice, lease["assignment_id"]), 409)

    taken = next_lease(api, bob)
    assert taken is not None and taken["item"]["id"] == "item-1"
    assert submit(api, bob, taken["assignment_id"]).status_code == 200
    # an answered assignment cannot be released or skipped
    done = f"{P}/assignments/{taken['assignment_id']}"
    json_error(api.post(f"{done}/release", headers=bob.headers), 409)
    json_error(api.post(f"{done}/skip", headers=bob.headers, json={}), 409)
    row = item_row(store, "item-1")
    assert (row.answers, row.leased) == (1, 0)
    assert_ledger_ok(store)


def test_a_paused_project_answers_409(store: Store, api: httpx.Client, people: People) -> None:
    setup_project(store)
    worker, manager = people.worker, people.manager
    response = api.post(f"{P}/status", headers=manager.headers, json={"status": "paused"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "paused"
    body = json_error(api.post(f"{P}/next", headers=worker.headers), 409)
    assert body["error"] == "conflict" and "paused" in body["message"]
    assert count(store, assignments) == 0
    # a worker cannot reopen it; a manager can
    json_error(api.post(f"{P}/status", headers=worker.headers, json={"status": "open"}), 403)
    assert api.post(f"{P}/status", headers=manager.headers,
                    json={"status": "open"}).status_code == 200
    assert next_lease(api, worker) is not None


# ------------------------------------------------------------------ error bodies
def test_errors_are_json_with_error_and_message(store: Store, api: httpx.Client,
                                                people: People) -> None:
    setup_project(store)
    worker = people.worker
    # unknown routes, inside and outside the API
    for path in ("/api/v1/nope", "/nope", "/api/v2/projects", "/api/v1/projects/p/nope"):
        body = json_error(api.get(path, headers=worker.headers), 404)
        assert "/api/v1" in body["message"]
    json_error(api.post("/api/v1/projects/p/assignments/1/frobnicate",
                        headers=worker.headers, json={}), 404)
    json_error(api.delete("/api/v1/projects", headers=worker.headers), 405)

    # no token, a malformed header, an unknown token: 401 on FastAPI routes and on the loop
    bad_headers: list[dict[str, str]] = [
        {}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer hl_not-a-real-token"}, {"Authorization": worker.token},
    ]
    for headers in bad_headers:
        for method, path, payload in (
            ("GET", "/api/v1/projects", None),
            ("GET", "/api/v1/me", None),
            ("POST", f"{P}/next", None),
            ("POST", f"{P}/assignments/1/submit", {"answer": {}, "idempotency_key": "k"}),
            ("POST", f"{P}/assignments/1/skip", {}),
            ("POST", f"{P}/assignments/1/release", None),
        ):
            response = api.request(method, path, headers=headers, json=payload)
            body = json_error(response, 401)
            assert body["error"] == "unauthorized", (headers, path, body)
            assert response.headers.get("www-authenticate", "").lower() == "bearer", (
                headers, path)
    # the health check needs no token
    health = api.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": store.dialect}


def test_out_of_range_integers_are_a_422_not_a_server_error(
        store: Store, api: httpx.Client, people: People) -> None:
    """Integer query parameters beyond 64 bits must be refused as invalid, not reach the
    database driver (SQLite raises OverflowError, PostgreSQL an out-of-range error)."""
    setup_project(store)
    owner = people.owner
    for params in ({"after_id": 2**63}, {"after_id": 10**30}):
        response = api.get(f"{P}/annotations", headers=owner.headers, params=params)
        assert response.status_code == 422, (params, response.status_code, response.text)
        assert json_error(response, 422)["field"] == "after_id"


# ------------------------------------------------------------------ PostgreSQL routing
def test_next_does_not_report_no_work_while_an_item_is_only_locked(
        store: Store, api: httpx.Client, people: People) -> None:
    """On PostgreSQL, ``next`` skips items locked by a concurrent transaction (SKIP LOCKED).
    An item with room that is locked only for the moment (another worker's submission in
    flight) must not make ``next`` answer "no item is waiting for you": a worker takes that
    answer as the end of the queue."""
    if store.is_sqlite:
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite one writer serialises routing")
    setup_project(store, n_items=1, overlap=2)
    alice, bob = people.new("worker", "alice"), people.new("worker", "bob")
    lease = next_lease(api, alice)
    assert lease is not None  # the item has room for one more answer

    locked = threading.Event()
    release = threading.Event()

    def in_flight_submission() -> None:
        # what submit_answer does while it stores an answer: the item's row lock
        with store.write() as conn:
            conn.exec_driver_sql("SELECT id FROM items WHERE external_id = 'item-1' FOR UPDATE")
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=in_flight_submission)
    holder.start()
    try:
        assert locked.wait(10)
        threading.Timer(1.0, release.set).start()
        began = time.monotonic()
        got = next_lease(api, bob)
    finally:
        release.set()
        holder.join(10)
    assert got is not None, (
        f"next said no work after {time.monotonic() - began:.2f} s although item-1 had room "
        "(it was only locked by a concurrent transaction)")
    assert got["item"]["id"] == "item-1"


def wait_for_lock_waiters(store: Store, n: int, timeout: float = 10.0) -> None:
    """Wait until *n* PostgreSQL sessions on the test database wait for a lock."""
    deadline = time.monotonic() + timeout
    while True:
        with store.read() as conn:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'").scalar_one()
        if waiting >= n:
            return
        assert time.monotonic() < deadline, f"{waiting} of {n} lock waiters after {timeout} s"
        time.sleep(0.02)


@pytest.mark.parametrize("action", ["submit", "skip", "release"])
def test_a_late_action_racing_the_expiry_sweep_keeps_counters_right(
        store: Store, api: httpx.Client, people: People, action: str) -> None:
    """A worker submits (or skips, or releases) just as its lease runs out and another
    request's sweep expires it. Whatever the outcome (the late answer kept or refused), the
    item's counters must still equal the real numbers of answers and live leases: the lease
    must not be handed back twice."""
    if store.is_sqlite:
        pytest.skip("on SQLite one writer serialises the sweep and the submission")
    setup_project(store, n_items=1, overlap=2, lease_seconds=5)
    worker = people.worker
    lease = next_lease(api, worker)
    assert lease is not None

    ledger_lock = store.engine.connect()  # holds the ledger's append lock, like a busy writer
    ledger_lock.begin()
    ledger_lock.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ledger._PG_LEDGER_LOCK})")
    outcome: dict[str, Any] = {}

    def sweep() -> None:
        with store.write() as conn:
            outcome["expired"] = routing.expire_leases(
                conn, routing.load_project(conn, "p"), utcnow() + timedelta(seconds=6))

    def late_submit() -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=30.0) as c:
            if action == "submit":
                outcome["submit"] = submit(c, worker, lease["assignment_id"], key="late")
            else:
                outcome["submit"] = c.post(f"{P}/assignments/{lease['assignment_id']}/{action}",
                                           headers=worker.headers, json={})

    sweeper = threading.Thread(target=sweep)
    submitter = threading.Thread(target=late_submit)
    try:
        sweeper.start()
        wait_for_lock_waiters(store, 1)   # the sweep expired the lease, waits for the ledger
        submitter.start()
        wait_for_lock_waiters(store, 2)   # the late request read the lease, waits for a lock
    finally:
        ledger_lock.commit()
        ledger_lock.close()
        sweeper.join(20)
        submitter.join(20)
    assert outcome.get("expired") == 1
    response = outcome["submit"]
    assert response.status_code in (200, 409), response.text

    row = item_row(store, "item-1")
    real_answers = count(store, annotations)
    live = count(store, assignments, assignments.c.status == "leased")
    assert (row.answers, row.leased) == (real_answers, live), (
        f"after the {action} ({response.status_code}) item-1 counts answers={row.answers} "
        f"leased={row.leased}; really {real_answers} answer(s) and {live} live lease(s)")
    assert_ledger_ok(store)


def test_ledger_verify_checks_a_report_anchor(store: Store, api: httpx.Client,
                                              people: People) -> None:
    setup_project(store)
    auditor = people.auditor
    status = api.get("/api/v1/ledger/verify", headers=auditor.headers).json()
    anchor = f"{status['events']}:{status['head']}"
    held = api.get("/api/v1/ledger/verify", params={"anchor": anchor}, headers=auditor.headers)
    assert held.status_code == 200 and held.json()["ok"] is True
    moved = api.get("/api/v1/ledger/verify",
                    params={"anchor": f"{status['events']}:{'b' * 64}"},
                    headers=auditor.headers).json()
    assert moved["ok"] is False and moved["broken_at"] == status["events"]
    bad = api.get("/api/v1/ledger/verify", params={"anchor": "nonsense"},
                  headers=auditor.headers)
    assert "SEQ:HASH" in json_error(bad, 422)["message"]
