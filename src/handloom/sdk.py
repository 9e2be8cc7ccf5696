"""Python client for the Handloom REST API (httpx), synchronous and asynchronous.

    from handloom.sdk import Client
    hl = Client("http://127.0.0.1:8642", token="hl_…")
    lease = hl.next("toxicity")
    if lease:
        hl.submit("toxicity", lease["assignment_id"], {"label": "toxic"})

Every error response becomes :class:`HandloomAPIError` carrying the server's message.
Submissions carry an idempotency key (a fresh UUID unless given), and ``submit`` retries a
request that failed in transport with the same key, so an answer is stored exactly once.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1"


class HandloomAPIError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        self.status = status
        self.body = body
        self.message = str(body.get("message", body))
        super().__init__(f"{status}: {self.message}")


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        raise HandloomAPIError(response.status_code, body if isinstance(body, dict) else
                               {"message": body})
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.content


def _submit_body(answer: dict[str, Any], key: str | None, active_seconds: float | None,
                 suggestion: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"answer": answer, "idempotency_key": key or uuid.uuid4().hex}
    if active_seconds is not None:
        body["active_seconds"] = active_seconds
    if suggestion is not None:
        body["suggestion"] = suggestion
    return body


class Client:
    """Synchronous client."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, retries: int = 3):
        self.retries = retries
        self._http = httpx.Client(base_url=base_url.rstrip("/") + API, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"},
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, **params: Any) -> Any:
        return _check(self._http.get(path, params={k: v for k, v in params.items()
                                                    if v is not None}))

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return _check(self._http.post(path, json=body or {}))

    # meta
    def me(self) -> dict[str, Any]:
        return self._get("/me")  # type: ignore[no-any-return]

    def kinds(self) -> list[dict[str, str]]:
        return self._get("/kinds")  # type: ignore[no-any-return]

    # projects
    def projects(self) -> list[dict[str, Any]]:
        return self._get("/projects")  # type: ignore[no-any-return]

    def create_project(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._post("/projects", spec)  # type: ignore[no-any-return]

    def project(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{name}")  # type: ignore[no-any-return]

    def set_status(self, name: str, status: str) -> dict[str, Any]:
        return self._post(f"/projects/{name}/status", {"status": status})  # type: ignore[no-any-return]

    def instructions(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{name}/instructions")  # type: ignore[no-any-return]

    def publish_instructions(self, name: str, text: str, change_note: str = "") -> dict[str, Any]:
        return self._post(f"/projects/{name}/instructions",  # type: ignore[no-any-return]
                          {"text": text, "change_note": change_note})

    def summary(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{name}/summary")  # type: ignore[no-any-return]

    # items
    def import_items(self, name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self._post(f"/projects/{name}/items", {"items": items})  # type: ignore[no-any-return]

    def upload_items(self, name: str, path: str | Path) -> dict[str, Any]:
        path = Path(path)
        with path.open("rb") as fh:
            return _check(self._http.post(  # type: ignore[no-any-return]
                f"/projects/{name}/items/file", files={"file": (path.name, fh)}))

    def items(self, name: str, *, after: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
        return self._get(f"/projects/{name}/items", after=after, limit=limit)  # type: ignore[no-any-return]

    def annotations(self, name: str, *, after_id: int = 0,
                    limit: int = 100) -> list[dict[str, Any]]:
        return self._get(f"/projects/{name}/annotations",  # type: ignore[no-any-return]
                         after_id=after_id, limit=limit)

    def export(self, name: str, fmt: str = "jsonl") -> bytes:
        return self._get(f"/projects/{name}/export", format=fmt)  # type: ignore[no-any-return]

    # work
    def next(self, name: str) -> dict[str, Any] | None:
        """The next lease, or None when no item is waiting for this worker."""
        return self._post(f"/projects/{name}/next")["assignment"]  # type: ignore[no-any-return]

    def submit(self, name: str, assignment_id: int, answer: dict[str, Any], *,
               idempotency_key: str | None = None, active_seconds: float | None = None,
               suggestion: dict[str, Any] | None = None) -> dict[str, Any]:
        body = _submit_body(answer, idempotency_key, active_seconds, suggestion)
        path = f"/projects/{name}/assignments/{assignment_id}/submit"
        for attempt in range(self.retries + 1):
            try:
                return _check(self._http.post(path, json=body))  # type: ignore[no-any-return]
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")

    def skip(self, name: str, assignment_id: int, reason: str = "") -> dict[str, Any]:
        return self._post(f"/projects/{name}/assignments/{assignment_id}/skip",  # type: ignore[no-any-return]
                          {"reason": reason})

    def release(self, name: str, assignment_id: int) -> dict[str, Any]:
        return self._post(f"/projects/{name}/assignments/{assignment_id}/release")  # type: ignore[no-any-return]

    def my_assignments(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._get("/me/assignments", limit=limit)  # type: ignore[no-any-return]

    # people
    # quality
    def aggregate(self, name: str, *, method: str | None = None,
                  dry_run: bool = False) -> dict[str, Any]:
        """Run truth inference on a project (stores aggregates unless *dry_run*)."""
        return self._post(f"/projects/{name}/aggregate",  # type: ignore[no-any-return]
                          {"method": method, "dry_run": dry_run})

    def agreement(self, name: str, *, metric: str = "alpha", level: str = "nominal",
                  ci: bool = False) -> dict[str, Any]:
        return self._get(f"/projects/{name}/agreement",  # type: ignore[no-any-return]
                         metric=metric, level=level, ci=str(ci).lower())

    def quality(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{name}/quality")  # type: ignore[no-any-return]

    def my_score(self, name: str) -> dict[str, Any]:
        return self._get(f"/projects/{name}/my-score")  # type: ignore[no-any-return]

    def workers(self) -> list[dict[str, Any]]:
        return self._get("/workers")  # type: ignore[no-any-return]

    def add_worker(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self._post("/workers", {"ref": ref, **fields})  # type: ignore[no-any-return]

    def create_token(self, username: str, name: str = "") -> str:
        return self._post("/tokens", {"username": username, "name": name})["token"]  # type: ignore[no-any-return]

    def verify_ledger(self) -> dict[str, Any]:
        return self._get("/ledger/verify")  # type: ignore[no-any-return]

    # -- fair work: pay and time --

    # -- fair work: exposure and well-being --

    # -- fair work: appeals, reviews of workers, voice and terms --

    # -- fair work: the worker's own page and managers' aggregates --


class AsyncClient:
    """Asynchronous client for the work loop (next, submit, skip), used by load tests."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0,
                 http: httpx.AsyncClient | None = None):
        self._headers = {"Authorization": f"Bearer {token}"}
        self._base = base_url.rstrip("/") + API
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return _check(await self._http.post(self._base + path, json=body or {},
                                            headers=self._headers))

    async def next(self, name: str) -> dict[str, Any] | None:
        return (await self._post(f"/projects/{name}/next"))["assignment"]  # type: ignore[no-any-return]

    async def submit(self, name: str, assignment_id: int, answer: dict[str, Any], *,
                     idempotency_key: str | None = None, active_seconds: float | None = None
                     ) -> dict[str, Any]:
        return await self._post(  # type: ignore[no-any-return]
            f"/projects/{name}/assignments/{assignment_id}/submit",
            _submit_body(answer, idempotency_key, active_seconds, None))

    async def skip(self, name: str, assignment_id: int, reason: str = "") -> dict[str, Any]:
        return await self._post(  # type: ignore[no-any-return]
            f"/projects/{name}/assignments/{assignment_id}/skip", {"reason": reason})

    async def release(self, name: str, assignment_id: int) -> dict[str, Any]:
        return await self._post(  # type: ignore[no-any-return]
            f"/projects/{name}/assignments/{assignment_id}/release")
