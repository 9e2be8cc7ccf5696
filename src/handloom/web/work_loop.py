"""The worker's loop — next, submit, skip, release — served on a lean ASGI path.

These four endpoints carry almost all traffic (every worker, every few seconds). FastAPI's
dependency injection and response validation cost several hundred microseconds per request
on a small machine, more than the database work, so the loop is answered here before the
request reaches FastAPI. The routes are still declared in FastAPI (:mod:`.api.routes`) for
the OpenAPI schema, and both paths call the same functions below, so they cannot drift:
the authorization policy, request models, service calls and error bodies are shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from handloom.errors import HandloomError, Invalid
from handloom.store.writer import WriteQueue
from handloom.web.api import schemas as s
from handloom.web.deps import TokenCache, principal_from_header
from handloom.web.policies import authorize
from handloom.work import projects, routing, submissions
from handloom.work.accounts import Principal

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NO_WORK = "No item is waiting for you in this project right now."
_ROUTE = re.compile(
    r"^/api/v1/projects/(?P<name>[a-z0-9][a-z0-9_-]{0,119})/"
    r"(?:(?P<next>next)|assignments/(?P<aid>[0-9]{1,18})/(?P<action>submit|skip|release))$"
)


def worker_of(principal: Principal, action: str) -> int:
    authorize(principal, action)
    if principal.worker_id is None:
        raise Invalid("This account is not linked to a worker record.")
    return principal.worker_id


async def lease_next(writes: WriteQueue, name: str, principal: Principal) -> dict[str, Any]:
    worker_id = worker_of(principal, "work.next")

    def work(conn: Connection) -> routing.Routed:
        return routing.route_next(conn, routing.load_project(conn, name), worker_id)

    routed = await writes.run(work)
    if routed.lease is None:
        # The reason names the exposure rule that held items back, when one did.
        return {"assignment": None, "reason": routed.reason or NO_WORK}
    return {"assignment": routed.lease.to_dict(), "reason": None}


async def submit(writes: WriteQueue, name: str, assignment_id: int, body: s.SubmitRequest,
                 principal: Principal) -> dict[str, Any]:
    worker_id = worker_of(principal, "work.submit")

    def work(conn: Connection) -> submissions.Submission:
        project = routing.load_project(conn, name)
        return submissions.submit_answer(
            conn, project, projects.kind_of(project), worker_id, assignment_id, body.answer,
            idempotency_key=body.idempotency_key, active_seconds=body.active_seconds,
            suggestion=body.suggestion, client_meta=body.client_meta)

    return (await writes.run(work)).to_dict()


async def close(writes: WriteQueue, name: str, assignment_id: int, principal: Principal,
                status: str, reason: str | None,
                active_seconds: float | None = None) -> dict[str, Any]:
    worker_id = worker_of(principal, "work.submit")

    def work(conn: Connection) -> None:
        project = routing.load_project(conn, name)
        routing.close_lease(conn, project, worker_id, assignment_id,
                            status=status, reason=reason, active_seconds=active_seconds)

    await writes.run(work)
    return {"assignment_id": assignment_id, "status": status}


def validation_error_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The JSON error for a request that failed validation, naming the first bad field
    (without FastAPI's "body"/"query"/"path" prefix)."""
    err = errors[0]
    field = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return {"error": "invalid", "message": f"{field or 'request'}: {err.get('msg', 'invalid')}",
            "field": field or None}


class WorkLoopApp:
    """ASGI middleware answering the work loop; everything else goes to *app*."""

    def __init__(self, app: ASGIApp, writes: WriteQueue, tokens: TokenCache, store: Any):
        self.app = app
        self.writes = writes
        self.tokens = tokens
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = _ROUTE.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        status, body = await self._handle(scope, receive, match)
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(payload)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _handle(self, scope: Scope, receive: Receive,
                      match: re.Match[str]) -> tuple[int, dict[str, Any]]:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            principal = await principal_from_header(_header(scope, b"authorization"),
                                                    self.tokens, self.store)
            name = match["name"]
            if match["next"]:
                return 200, await lease_next(self.writes, name, principal)
            assignment_id = int(match["aid"])
            action = match["action"]
            if action == "submit":
                request = s.SubmitRequest.model_validate_json(raw or b"{}")
                return 200, await submit(self.writes, name, assignment_id, request, principal)
            if action == "skip":
                skip = s.SkipRequest.model_validate_json(raw or b"{}")
                return 200, await close(self.writes, name, assignment_id, principal,
                                        "skipped", skip.reason, skip.active_seconds)
            return 200, await close(self.writes, name, assignment_id, principal, "released", None)
        except HandloomError as exc:
            return exc.status, exc.to_dict()
        except ValidationError as exc:
            return 422, validation_error_body(exc.errors())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None

