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
from urllib.parse import quote

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

    def publish_instructions(self, name: str, text: str, change_note: str = "", *,
                             answers_issues: list[int] | None = None) -> dict[str, Any]:
        """Publish a new instruction version; *answers_issues* are the project's guideline
        flags it answers (they are marked answered in it)."""
        return self._post(f"/projects/{name}/instructions",  # type: ignore[no-any-return]
                          {"text": text, "change_note": change_note,
                           "answers_issues": answers_issues or []})

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

    def skip(self, name: str, assignment_id: int, reason: str = "", *,
             active_seconds: float | None = None) -> dict[str, Any]:
        """Skip an item; *active_seconds* spent on it are recorded as skipped work time."""
        body: dict[str, Any] = {"reason": reason}
        if active_seconds is not None:
            body["active_seconds"] = active_seconds
        return self._post(f"/projects/{name}/assignments/{assignment_id}/skip",  # type: ignore[no-any-return]
                          body)

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

    def verify_ledger(self, anchor: str | None = None) -> dict[str, Any]:
        """Recompute the chain; with *anchor* ("SEQ:HASH" from a transparency report), also
        check that event SEQ still has HASH."""
        return self._get("/ledger/verify", anchor=anchor)  # type: ignore[no-any-return]

    # -- fair work: pay and time --
    def my_pay(self, *, project: str | None = None, since: str | None = None,
               until: str | None = None) -> dict[str, Any]:
        """Your own statement (a worker's token): earnings per project, time paid and unpaid
        by reason, effective hourly pay against the floor. Dates are YYYY-MM-DD, included."""
        return self._get("/me/pay", project=project, since=since,  # type: ignore[no-any-return]
                         until=until)

    def worker_pay(self, ref: str, *, project: str | None = None, since: str | None = None,
                   until: str | None = None) -> dict[str, Any]:
        """A worker's statement, by the operator's reference for them (staff)."""
        return self._get(f"/workers/{ref}/pay", project=project,  # type: ignore[no-any-return]
                         since=since, until=until)

    def project_pay(self, name: str) -> dict[str, Any]:
        """A project's pay in aggregate, the floor check now and who is below their floor."""
        return self._get(f"/projects/{name}/pay")  # type: ignore[no-any-return]

    def payroll(self, name: str, *, fmt: str = "json", reveal_refs: bool = False,
                since: str | None = None, until: str | None = None) -> Any:
        """The payroll report: a dict for ``json``, CSV bytes for ``csv``."""
        return self._get(f"/projects/{name}/pay/report", format=fmt,
                         reveal_refs=str(reveal_refs).lower(), since=since, until=until)

    def floor_check(self, name: str) -> dict[str, Any]:
        """What opening the project would find now (nothing changes)."""
        return self._get(f"/projects/{name}/pay/floor-check")  # type: ignore[no-any-return]

    def check_pay(self, name: str) -> dict[str, Any]:
        """Check workers' pay against their floors and propose top-ups where it falls short."""
        return self._post(f"/projects/{name}/pay/check")  # type: ignore[no-any-return]

    def top_ups(self, name: str, *, status: str | None = None) -> list[dict[str, Any]]:
        return self._get(f"/projects/{name}/top-ups", status=status)  # type: ignore[no-any-return]

    def approve_top_up(self, name: str, adjustment_id: int) -> dict[str, Any]:
        return self._post(  # type: ignore[no-any-return]
            f"/projects/{name}/top-ups/{adjustment_id}/approve")

    def dismiss_top_up(self, name: str, adjustment_id: int, reason: str) -> dict[str, Any]:
        return self._post(  # type: ignore[no-any-return]
            f"/projects/{name}/top-ups/{adjustment_id}/dismiss", {"reason": reason})

    def pay_floors(self, *, on: str | None = None) -> list[dict[str, Any]]:
        return self._get("/pay/floors", on=on)  # type: ignore[no-any-return]

    def import_pay_floors(self, floors: list[dict[str, Any]],
                          source: str = "api") -> dict[str, Any]:
        """Import floors (jurisdiction, currency, hourly, source, effective_date …), all or
        nothing."""
        return self._post("/pay/floors",  # type: ignore[no-any-return]
                          {"floors": floors, "source": source})


    # -- fair work: exposure and well-being --
    def next_or_reason(self, name: str) -> dict[str, Any]:
        """The whole answer of ``next``: ``{"assignment": … or None, "reason": …}``; the reason
        says which exposure rule held items back (a daily limit, a break) when one did."""
        return self._post(f"/projects/{name}/next")  # type: ignore[no-any-return]

    def my_exposure(self) -> dict[str, Any]:
        """Your exposure today and this week per category, against the projects' limits."""
        return self._get("/me/exposure")  # type: ignore[no-any-return]

    def set_opt_outs(self, categories: list[str]) -> list[str]:
        """Set the content categories you refuse (the whole list); never affects score or
        access."""
        return _check(self._http.put(  # type: ignore[no-any-return]
            "/me/opt-outs", json={"opt_outs": list(categories)}))["opt_outs"]

    def set_timezone(self, timezone: str) -> str:
        """Set the IANA time zone your day (and the daily limits) is counted in."""
        return _check(self._http.put(  # type: ignore[no-any-return]
            "/me/timezone", json={"timezone": timezone}))["timezone"]

    def check_in(self, name: str, feeling: int, *, wants_support: bool = False,
                 note: str = "", shared: bool = False, trigger: str = "self",
                 seconds: float | None = None) -> dict[str, Any]:
        """A well-being check-in (private unless *shared*); returns its id and the project's
        support resources."""
        body: dict[str, Any] = {"feeling": feeling, "wants_support": wants_support,
                                "note": note, "shared": shared, "trigger": trigger}
        if seconds is not None:
            body["seconds"] = seconds
        return self._post(f"/projects/{name}/checkins", body)  # type: ignore[no-any-return]

    def my_checkins(self) -> list[dict[str, Any]]:
        return self._get("/me/checkins")  # type: ignore[no-any-return]

    def tag_item(self, name: str, item_id: str, tags: list[str], *,
                 replace: bool = True) -> dict[str, Any]:
        """Set (or, with ``replace=False``, add to) an item's content tags."""
        return self._post(f"/projects/{name}/items/{quote(item_id, safe='')}/tags",  # type: ignore[no-any-return]
                          {"tags": list(tags), "replace": replace})

    def exposure(self, name: str) -> dict[str, Any]:
        """A project's exposure policy and per-category figures (staff)."""
        return self._get(f"/projects/{name}/exposure")  # type: ignore[no-any-return]


    # -- fair work: appeals, reviews of workers, voice and terms --
    def reject_answer(self, name: str, annotation_id: int, reason: str, *,
                      fraud: bool = False) -> dict[str, Any]:
        """Reject an answer with a reason the worker sees (unpaid only with *fraud*)."""
        return self._post(f"/projects/{name}/annotations/{annotation_id}/reject",  # type: ignore[no-any-return]
                          {"reason": reason, "fraud": fraud})

    def file_appeal(self, name: str, subject_type: str, subject_id: int | None,
                    statement: str, *, active_seconds: float | None = None) -> dict[str, Any]:
        """Appeal a ``rejection``, a ``gold_failure``, your ``score`` or a ``removal``."""
        body: dict[str, Any] = {"subject_type": subject_type, "subject_id": subject_id,
                                "statement": statement}
        if active_seconds is not None:
            body["active_seconds"] = active_seconds
        return self._post(f"/projects/{name}/appeals", body)  # type: ignore[no-any-return]

    def appealable(self, name: str) -> list[dict[str, Any]]:
        """The decisions about your work in a project that you may appeal."""
        return self._get(f"/projects/{name}/appealable")  # type: ignore[no-any-return]

    def my_appeals(self) -> list[dict[str, Any]]:
        return self._get("/me/appeals")  # type: ignore[no-any-return]

    def appeals(self, *, project: str | None = None, status: str = "open") -> list[dict[str, Any]]:
        """Appeals to decide (overdue first); *status*: open, overdue, upheld, denied,
        decided or all."""
        return self._get("/appeals", project=project, status=status)  # type: ignore[no-any-return]

    def appeal(self, appeal_id: int) -> dict[str, Any]:
        return self._get(f"/appeals/{appeal_id}")  # type: ignore[no-any-return]

    def decide_appeal(self, appeal_id: int, *, uphold: bool, reason: str) -> dict[str, Any]:
        return self._post(f"/appeals/{appeal_id}/decide",  # type: ignore[no-any-return]
                          {"uphold": uphold, "reason": reason})

    def worker_reviews(self, name: str, *, status: str | None = None) -> list[dict[str, Any]]:
        return self._get(f"/projects/{name}/worker-reviews", status=status)  # type: ignore[no-any-return]

    def open_worker_review(self, name: str, *, worker: str | None = None,
                           worker_id: int | None = None) -> dict[str, Any]:
        """Open a review of a worker (by pseudonym or ref, or by id) by hand."""
        return self._post(f"/projects/{name}/worker-reviews",  # type: ignore[no-any-return]
                          {k: v for k, v in (("worker", worker), ("worker_id", worker_id))
                           if v is not None})

    def decide_worker_review(self, name: str, review_id: int, *, remove: bool,
                             reason: str) -> dict[str, Any]:
        return self._post(f"/projects/{name}/worker-reviews/{review_id}/decide",  # type: ignore[no-any-return]
                          {"remove": remove, "reason": reason})

    def flags(self, name: str) -> list[dict[str, Any]]:
        return self._get(f"/projects/{name}/flags")  # type: ignore[no-any-return]

    def raise_flag(self, name: str, note: str, *, kind: str = "unclear",
                   item_id: str | None = None) -> dict[str, Any]:
        return self._post(f"/projects/{name}/flags",  # type: ignore[no-any-return]
                          {"kind": kind, "note": note, "item_id": item_id})

    def support_flag(self, name: str, issue_id: int) -> dict[str, Any]:
        return self._post(f"/projects/{name}/flags/{issue_id}/support")  # type: ignore[no-any-return]

    def answer_flag(self, name: str, issue_id: int, answer: str) -> dict[str, Any]:
        return self._post(f"/projects/{name}/flags/{issue_id}/answer",  # type: ignore[no-any-return]
                          {"answer": answer})

    def terms(self, name: str) -> dict[str, Any]:
        """The project's terms; for a worker, with their consent (``needs_consent``)."""
        return self._get(f"/projects/{name}/terms")  # type: ignore[no-any-return]

    def consent(self, name: str) -> dict[str, Any]:
        return self._post(f"/projects/{name}/terms/consent")  # type: ignore[no-any-return]

    def withdraw_consent(self, name: str) -> dict[str, Any]:
        return self._post(f"/projects/{name}/terms/withdraw")  # type: ignore[no-any-return]

    def my_consents(self) -> list[dict[str, Any]]:
        return self._get("/me/consents")  # type: ignore[no-any-return]


    # -- fair work: the worker's own page and managers' aggregates --

    # -- disclosure: transparency report and exports --
    def export_to(self, name: str, out: str | Path, fmt: str = "jsonl", *,
                  answers: bool = True, k: int | None = None) -> Path:
        """Export a project's dataset to *out*: a file for ``jsonl``/``parquet``, a folder
        (unpacked from the server's zip) for ``hf``/``croissant``. Returns *out*."""
        import io
        import zipfile

        data = self._get(f"/projects/{name}/export", format=fmt,
                         answers=str(answers).lower(), k=k)
        target = Path(out)
        if fmt in ("hf", "croissant"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.extractall(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return target


    def report(self, name: str, *, k: int | None = None) -> dict[str, Any]:
        """The project's transparency report as data: ``facts`` (k-suppressed figures),
        ``scorecards`` (each point's status, evidence and rule) and the ledger ``anchor``."""
        return self._get(f"/projects/{name}/report", k=k)  # type: ignore[no-any-return]

    def report_document(self, name: str, fmt: str = "html", *, k: int | None = None) -> str:
        """The report as the self-contained HTML document (``fmt="html"``) or Markdown
        (``fmt="md"``), the same text ``handloom report`` writes."""
        response = self._http.get(f"/projects/{name}/report",
                                  params={"format": fmt, **({"k": k} if k else {})})
        _check(response)
        return response.text

    # -- disclosure: statement, demographics, payouts --
    def disclosure(self, name: str) -> dict[str, Any]:
        """The project's disclosure statement: every stated field (empty: not stated)
        and the k of its reports."""
        return self._get(f"/projects/{name}/disclosure")  # type: ignore[no-any-return]

    def describe(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change stated fields, e.g. ``describe("tox", assumptions="…", k=7)``; returns
        the whole statement. k can only go up."""
        return _check(self._http.patch(  # type: ignore[no-any-return]
            f"/projects/{name}/disclosure", json=changes))

    def my_demographics(self) -> dict[str, Any]:
        """What you chose to say about yourself (``given``), the fields you may give and
        how the answers are used."""
        return self._get("/me/demographics")  # type: ignore[no-any-return]

    def set_demographics(self, **given: str | None) -> dict[str, Any]:
        """Give your answers (age_band, gender, education, first_language), all optional;
        the whole set is replaced, so a field left out is no longer given."""
        return _check(self._http.put(  # type: ignore[no-any-return]
            "/me/demographics", json=given))

    def erase_demographics(self) -> dict[str, Any]:
        """Erase everything you gave about yourself."""
        return _check(self._http.delete("/me/demographics"))  # type: ignore[no-any-return]

    def mark_paid(self, name: str, *, through: str | None = None,
                  worker: str | None = None) -> dict[str, Any]:
        """Mark the project's unpaid pay events created before *through* (ISO date-time,
        or a date meaning its end; default now) as paid out, for one *worker* (ref) or all."""
        body = {k: v for k, v in (("through", through), ("worker", worker)) if v is not None}
        return self._post(f"/projects/{name}/pay/mark-paid", body)  # type: ignore[no-any-return]


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
