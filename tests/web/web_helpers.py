"""Helpers for the web tests: people with tokens, a uvicorn in a thread, error bodies."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from handloom.store.db import Store, migrate
from handloom.web.app import create_app
from handloom.work import accounts

ROLES = accounts.ROLES  # owner, manager, reviewer, worker, auditor
STARTUP_SECONDS = 20.0
SHUTDOWN_SECONDS = 20.0


# ------------------------------------------------------------------ people and tokens
@dataclass(frozen=True)
class Person:
    """A user (and, for role ``worker``, its worker record) with one API token."""

    username: str
    role: str
    token: str
    user_id: int
    worker_id: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_person(store: Store, role: str, username: str | None = None) -> Person:
    """Create a user of *role* (a worker record too when role is ``worker``) and a token."""
    username = username or f"{role}-user"
    with store.write() as conn:
        worker_id = None
        if role == "worker":
            worker_id = accounts.add_worker(conn, username, actor="test")
        else:
            accounts.create_user(conn, username, role, actor="test")
        token = accounts.create_token(conn, username, name="tests", actor="test")
        principal = accounts.principal_for_token(conn, token)
    return Person(username, role, token, principal.user_id, worker_id)


def create_workers(store: Store, n: int, *, prefix: str = "worker") -> list[Person]:
    """*n* workers ``{prefix}-1`` … each with a token, created in one transaction."""
    out = []
    with store.write() as conn:
        for i in range(1, n + 1):
            ref = f"{prefix}-{i}"
            worker_id = accounts.add_worker(conn, ref, actor="test")
            token = accounts.create_token(conn, ref, name="tests", actor="test")
            principal = accounts.principal_for_token(conn, token)
            out.append(Person(ref, "worker", token, principal.user_id, worker_id))
    return out


@dataclass
class People:
    """Creates people on demand; ``people.owner`` etc. are created once per test."""

    store: Store
    _by_role: dict[str, Person] = field(default_factory=dict)
    _count: int = 0

    def role(self, role: str) -> Person:
        """The (one, shared) user of *role* for this test."""
        if role not in self._by_role:
            self._by_role[role] = create_person(self.store, role)
        return self._by_role[role]

    def new(self, role: str, username: str | None = None) -> Person:
        """A fresh user of *role*."""
        self._count += 1
        return create_person(self.store, role, username or f"{role}-{self._count}")

    def workers(self, n: int, prefix: str = "crowd") -> list[Person]:
        return create_workers(self.store, n, prefix=prefix)

    @property
    def owner(self) -> Person:
        return self.role("owner")

    @property
    def manager(self) -> Person:
        return self.role("manager")

    @property
    def reviewer(self) -> Person:
        return self.role("reviewer")

    @property
    def worker(self) -> Person:
        return self.role("worker")

    @property
    def auditor(self) -> Person:
        return self.role("auditor")


# ------------------------------------------------------------------ stores and schema
def sqlite_store_copy(template: Path, folder: Path) -> Store:
    """A SQLite store in *folder* copied from the session's migrated template."""
    shutil.copyfile(template, folder / "handloom.db")
    return Store(f"sqlite:///{folder / 'handloom.db'}", sqlite_synchronous="OFF")


def openapi_schema() -> dict[str, Any]:
    """The app's OpenAPI schema, outside any fixture (for parametrizing at collection):
    the app is built over a throwaway, migrated SQLite store (it reads the database when
    built)."""
    with tempfile.TemporaryDirectory(prefix="handloom-openapi-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'handloom.db'}", sqlite_synchronous="OFF")
        try:
            migrate(store)
            schema: dict[str, Any] = create_app(store).openapi()
        finally:
            store.dispose()
    return schema


# ------------------------------------------------------------------ the live server
class CatchUnhandled:
    """ASGI wrapper keeping the app's unhandled exceptions instead of letting uvicorn log them.

    Starlette has already answered such a request with a plain 500 when the exception
    reaches here. Uvicorn would format its traceback in the server thread while pytest
    formats a failure report in the main thread; on Python 3.11 both parse source with
    ``ast`` (the ``^^^`` markers) and that is not thread-safe ("AST constructor recursion
    depth mismatch" INTERNALERRORs). The exceptions are reported when the server stops.
    """

    def __init__(self, app: Any):
        self.app = app
        self.unhandled: list[BaseException] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            self.unhandled.append(exc)


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    guard: CatchUnhandled
    errors: list[BaseException] = field(default_factory=list)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.set_inheritable(True)
    return sock


def start_live_server(app: FastAPI) -> LiveServer:
    """Serve *app* with uvicorn from a background thread; returns once /health answers."""
    sock = _free_socket()  # bound before the thread starts: no race for the port
    port = sock.getsockname()[1]
    guard = CatchUnhandled(app)
    config = uvicorn.Config(guard, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False, timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    live = LiveServer(f"http://127.0.0.1:{port}", app, server, threading.Thread(), guard)

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by the fixture, not lost in the thread
            live.errors.append(exc)
        finally:
            sock.close()

    live.thread = threading.Thread(target=serve, name=f"uvicorn-{port}", daemon=True)
    live.thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if live.errors or not live.thread.is_alive():
            raise RuntimeError(f"uvicorn did not start: {live.errors!r}")
        try:
            if server.started and httpx.get(live.url + "/api/v1/health",
                                            timeout=2.0).status_code == 200:
                return live
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_live_server(live)
            raise RuntimeError(f"uvicorn at {live.url} did not answer /api/v1/health in time")
        time.sleep(0.02)


def stop_live_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(SHUTDOWN_SECONDS)
    if live.thread.is_alive():
        live.server.force_exit = True
        live.thread.join(5)
    assert not live.thread.is_alive(), "uvicorn did not shut down"
    assert not live.errors, f"uvicorn failed: {live.errors!r}"
    if live.guard.unhandled:
        shown = "\n".join("".join(traceback.format_exception(exc))[-3000:]
                          for exc in live.guard.unhandled[:3])
        raise AssertionError(f"the server answered {len(live.guard.unhandled)} request(s) with "
                             "a 500 (unhandled exception); the first (tail of the traceback):"
                             f"\n{shown}")


def json_error(response: Any, status: int) -> dict[str, Any]:
    """Assert *response* is a JSON error body with *status*; return the body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def csrf_of(html: str) -> str:
    """The CSRF token of a page's form."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@contextmanager
def signed_in_client(base: str, username: str, password: str,
                     next_path: str = "/") -> Iterator[httpx.Client]:
    """An HTTP client signed in as *username* through the login form (a browser session)."""
    with httpx.Client(base_url=base, timeout=30.0) as client:
        form = client.get("/login")
        reply = client.post("/login", data={"username": username, "password": password,
                                            "csrf": csrf_of(form.text), "next": next_path})
        assert reply.status_code == 303, reply.text
        yield client


def browser_sign_in(page: Any, base: str, username: str, password: str) -> None:
    """Sign a Playwright page in through the login form and wait for the sign-in's own
    navigation (``networkidle`` alone can be met by the login page before the POST)."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"signing in as {username} failed"
