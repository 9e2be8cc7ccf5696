"""The manager's pages: all projects, a new project from the browser, one project's
progress, throughput, answers per worker, agreement, live guideline notes and item upload.

Owners and managers use them; reviewers and auditors may read them (``project.summary``)
but not create projects or upload items. Workers appear only under their per-project
pseudonym. Charts are SVG drawn on the server (:mod:`handloom.web.charts`); the only
script is htmx polling the guideline notes.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from handloom.disclose.privacy import pseudonym
from handloom.errors import HandloomError, ImportFailed, Invalid
from handloom.kinds.base import kind_catalog
from handloom.labor import guidelines, pay
from handloom.quality.aggregate import METHODS, PAIRWISE_METHODS
from handloom.store.db import Store
from handloom.store.schema import qualification_results
from handloom.web import charts
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages.render import page
from handloom.web.pages.session import (
    CsrfDep,
    LoginRequired,
    UserDep,
    signed_in,
    template_context,
)
from handloom.web.policies import allowed, authorize
from handloom.work import importing, projects, quality, stats
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)

FLASH_KEY = "manage_flash"
MAX_WORKER_BARS = 25
MAX_QUALITY_ROWS = 200  # workers listed in the quality panel's table
# Readable names of the aggregation methods, from the estimators themselves; "online" is the
# item-by-item posterior computed as each item completes.
METHOD_NAMES: dict[str, str] = {
    **{name: cls.title for name, cls in METHODS.items()},
    **{name: cls.title for name, cls in PAIRWISE_METHODS.items()},
    "online": "one-coin model, item by item",
}
CONTEXT_LINES = 3  # lines shown before and after a failing line of an upload
LINE_LIMIT = 400  # characters of one line shown in that context

# The form's fields, named by their dotted path in the project spec; errors on any other
# path come from the TOML box (the kind's own configuration and the rarer spec keys).
FORM_FIELDS = (
    "name", "title", "kind", "purpose", "downstream_use", "data_source", "overlap",
    "gold_rate", "lease_seconds", "status", "instructions", "content_categories",
    "pay.model", "pay.currency", "pay.piece_rate", "pay.hourly_rate",
    "pay.est_seconds_per_item", "pay.jurisdictions", "kind_config",
    # -- disclosure: what only a person can know, asked for up front --
    "known_limitations", "disclosure.assumptions", "disclosure.license",
)
TEXT_KEYS = ("title", "purpose", "data_source", "instructions", "known_limitations")
# The [disclosure] keys the form asks for; the rest may come from the TOML box, or later
# from the project's Disclosure page.
DISCLOSURE_KEYS = ("assumptions", "license")
NUMBER_KEYS = ("overlap", "gold_rate", "lease_seconds")
PAY_KEYS = ("piece_rate", "hourly_rate", "est_seconds_per_item")
TAKEN_BY_FORM = frozenset(f.split(".")[0] for f in FORM_FIELDS) - {"kind_config",
                                                                    "disclosure"}
DEFAULTS = {"overlap": "3", "gold_rate": "0", "downstream_use": "training",
            "kind": "classification", "status": "open", "pay.model": "piece",
            "pay.currency": "USD"}
# A starting point for the configuration box of each built-in kind.
KIND_EXAMPLES = {
    "classification": 'labels = ["toxic", "not_toxic", "unsure"]',
    "freetext": 'mode = "rewrite"\nmin_chars = 10',
    "moderation": 'categories = ["hate", "harassment", "spam"]',
    "pairwise": 'criteria = "Which answer is more helpful?"',
    "ranking": "min_candidates = 2",
    "rating": '[[criteria]]\nname = "quality"\nmin = 1\nmax = 5',
    "redteam": 'harm_categories = ["self_harm", "fraud"]',
    "spans": 'labels = ["PERSON", "ORG", "PLACE"]',
}
NAME_HINT = ("Use 1 to 120 lowercase letters, digits, '-' and '_', starting with a letter or "
             "a digit.")


# ------------------------------------------------------------------ helpers
def _flash(request: Request, message: str) -> None:
    request.session[FLASH_KEY] = message


def _take_flash(request: Request) -> str | None:
    message = request.session.pop(FLASH_KEY, None)
    return message if isinstance(message, str) else None


def progress_segments(summary: dict[str, Any]) -> list[charts.Segment]:
    return [charts.Segment("Done", summary["done"], "seg-done"),
            charts.Segment("In progress", summary["in_progress"], "seg-progress"),
            charts.Segment("Waiting", summary["waiting"], "seg-waiting")]


def _progress_chart(summary: dict[str, Any], chart_id: str) -> dict[str, Markup]:
    segments = progress_segments(summary)
    title = (f"Progress of {summary['title']}: {summary['done']} of {summary['items']} items "
             "done")
    return {"bar": charts.stacked_bar(segments, chart_id=chart_id, title=title),
            "legend": charts.legend(segments)}


def _bucket_label(moment: datetime, unit: str, *, short: bool) -> str:
    if unit == "hour":
        return moment.strftime("%a %H:00") if short else moment.strftime("%Y-%m-%d %H:00 UTC")
    return moment.strftime("%b %d") if short else moment.strftime("%Y-%m-%d")


def _throughput_chart(flow: stats.Throughput, name: str) -> Markup:
    points = [(_bucket_label(m, flow.unit, short=False), float(n)) for m, n in flow.buckets]
    n = len(flow.buckets)
    every = max(n // 6, 1)
    ticks = [(i, _bucket_label(flow.buckets[i][0], flow.unit, short=True))
             for i in range(0, n, every)]
    if flow.unit == "hour":
        title = f"Answers per hour over the last {n} hours (UTC)"
    else:
        title = f"Answers per day over the last {n} days (UTC)"
    return charts.line_chart(points, chart_id=f"throughput-{name}", title=title,
                             x_ticks=ticks, unit="answers")


def _hourly_pay(described: dict[str, Any]) -> str | None:
    """Pay per hour at the estimated pace, for a piece rate with an estimated time."""
    pay = described["pay"]
    if not pay["piece_rate"] or not pay["est_seconds_per_item"]:
        return None
    try:
        rate = Decimal(pay["piece_rate"]) * 3600 / Decimal(pay["est_seconds_per_item"])
    except (InvalidOperation, ZeroDivisionError):
        return None
    return f"{rate.quantize(Decimal('0.01'))}"


def method_name(method: str | None) -> str:
    """A readable name for an aggregation method code."""
    if not method:
        return "not run yet"
    return METHOD_NAMES.get(method, method)


def _share(n: int, of: int) -> str:
    return f"{n} of {of}" if of else "none yet"


def quality_summary(conn: Connection, project: Any) -> dict[str, Any]:
    """The quality panel: the stored aggregates, the review queue, Krippendorff's alpha and
    every scored worker under their per-project pseudonym."""
    state = quality.aggregate_state(conn, project)
    alpha: dict[str, Any] | None
    alpha_note: str | None
    try:
        result = quality.project_agreement(conn, project, metric="alpha", level="nominal")
        value = None if math.isnan(result.value) else float(result.value)
        alpha = {"value": value, "items": result.n_items, "workers": result.n_workers}
    except Invalid as exc:
        alpha = None
        alpha_note = exc.message
    else:
        alpha_note = None
    rows: dict[int, dict[str, Any]] = {}
    for score in quality.worker_scores(conn, project):
        rows[score["worker_id"]] = {**score, "test": None}
    for r in conn.execute(select(qualification_results.c.worker_id,
                                 qualification_results.c.answered,
                                 qualification_results.c.correct,
                                 qualification_results.c.passed)
                          .where(qualification_results.c.project_id == project.id)):
        row = rows.setdefault(int(r.worker_id), {
            "worker_id": int(r.worker_id), "gold_answered": 0, "gold_correct": 0,
            "gold_accuracy": None, "agreement": None, "agreement_answers": 0, "skill": None})
        row["test"] = {"answered": int(r.answered), "correct": int(r.correct),
                       "passed": bool(r.passed)}
    table = []
    for row in rows.values():
        row["who"] = pseudonym(project.pseudonym_secret, row.pop("worker_id"))
        row["gold"] = _share(row["gold_correct"], row["gold_answered"])
        table.append(row)
    table.sort(key=lambda r: r["who"])
    return {
        "method": project.aggregation_method,
        "method_name": method_name(project.aggregation_method),
        "threshold": float(project.review_threshold),
        "max_overlap": project.max_overlap,
        "qualification_size": int(project.qualification_size or 0),
        "qualification_pass": float(project.qualification_pass),
        "aggregated": state.aggregated,
        "mean_confidence": state.mean_confidence,
        "below": state.below_threshold,
        "waiting": state.waiting,
        "waiting_low": state.waiting_low_confidence,
        "waiting_gold": state.waiting_gold_failed,
        "alpha": alpha,
        "alpha_note": alpha_note,
        "workers": table[:MAX_QUALITY_ROWS],
        "workers_hidden": max(len(table) - MAX_QUALITY_ROWS, 0),
    }


def _project_context(conn: Connection, name: str, me: Principal) -> dict[str, Any]:
    project = projects.get_project(conn, name)
    described = projects.describe_project(conn, project)
    flow = stats.throughput(conn, project)
    per_worker = stats.answers_per_worker(conn, project)
    shown = per_worker[:MAX_WORKER_BARS]
    hidden = per_worker[MAX_WORKER_BARS:]
    agreement = stats.agreement_summary(conn, project)
    return {
        "p": described,
        "progress": _progress_chart(described, f"progress-{project.name}"),
        "throughput": flow,
        "throughput_chart": _throughput_chart(flow, project.name),
        "throughput_rows": [(_bucket_label(m, flow.unit, short=False), c)
                            for m, c in flow.buckets if c],
        "per_worker": shown,
        "per_worker_hidden": (len(hidden), sum(n for _, n in hidden)),
        "per_worker_chart": charts.bar_chart(
            shown, chart_id=f"workers-{project.name}", unit="answers",
            title=f"Answers per worker (pseudonyms), top {len(shown)} of {len(per_worker)}"),
        "agreement": agreement,
        "flags": guidelines.list_flags(conn, project.id),
        "hourly_pay": _hourly_pay(described),
        "can_upload": allowed(me, "items.import"),
        "quality": quality_summary(conn, project),
        "can_aggregate": allowed(me, "quality.aggregate"),
        # Measured time has pushed someone's pay below their floor: say so on the project
        # page itself, not only on the pay page (only to those who may read pay).
        "floor_alert": pay.floor_alert(conn, project) if allowed(me, "pay.read") else None,
    }


def _render_project(request: Request, store: Store, me: Principal, name: str,
                    status_code: int = 200, **extra: Any) -> Response:
    with store.read() as conn:
        context = _project_context(conn, name, me)
    return page("pages/manage_project.html",
                template_context(request, me, flash=_take_flash(request), **context, **extra),
                status_code=status_code)


# ------------------------------------------------------------------ all projects
@router.get("/manage")
def manage_home(request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "project.summary")
    with store.read() as conn:
        summaries = projects.list_projects(conn)
    for s in summaries:
        s["progress"] = _progress_chart(s, f"progress-{s['name']}")
    return page("pages/manage_list.html", template_context(
        request, me, summaries=summaries, can_create=allowed(me, "project.create"),
        can_report=allowed(me, "report.read"), flash=_take_flash(request)))


# ------------------------------------------------------------------ a new project
def _form_text(form: FormData, key: str) -> str:
    """A form value, trimmed, with the browser's CRLF line ends made plain newlines."""
    value = form.get(key)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def spec_from_form(values: dict[str, str]) -> dict[str, Any]:
    """The project spec (as a TOML file would give it) from the form's values; raises
    Invalid naming the form field for a configuration box that is not valid TOML."""
    raw: dict[str, Any] = {"name": values.get("name", ""), "kind": values.get("kind", "")}
    for key in TEXT_KEYS:
        raw[key] = values.get(key, "")
    for key in ("downstream_use", "status", *NUMBER_KEYS):
        if values.get(key):
            raw[key] = values[key]
    raw["content_categories"] = _split_list(values.get("content_categories", ""))
    pay: dict[str, Any] = {"model": values.get("pay.model") or "piece",
                           "currency": values.get("pay.currency") or "USD",
                           "jurisdictions": _split_list(values.get("pay.jurisdictions", ""))}
    for key in PAY_KEYS:
        if values.get(f"pay.{key}"):
            pay[key] = values[f"pay.{key}"]
    raw["pay"] = pay
    config_text = values.get("kind_config", "")
    try:
        config = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as exc:
        raise Invalid(f"Not valid TOML: {exc}.", field="kind_config") from None
    clash = sorted(set(config) & TAKEN_BY_FORM)
    stated = config.get("disclosure", {})
    if isinstance(stated, dict):
        clash += sorted(f"disclosure.{key}" for key in DISCLOSURE_KEYS
                        if key in stated and values.get(f"disclosure.{key}"))
    if clash:
        raise Invalid(f"Set {', '.join(clash)} in its own field above, not here.",
                      field="kind_config")
    raw.update(config)
    given = {key: values[f"disclosure.{key}"] for key in DISCLOSURE_KEYS
             if values.get(f"disclosure.{key}")}
    if given:
        raw["disclosure"] = {**(stated if isinstance(stated, dict) else {}), **given}
    return raw


def form_field(error_field: str | None) -> str | None:
    """The form field an error's dotted spec path belongs to (None: the form as a whole)."""
    if not error_field:
        return None
    for name in FORM_FIELDS:
        if error_field == name or error_field.startswith(name + "."):
            return name
    return "kind_config"


def _error_message(exc: HandloomError, source: str, field: str | None) -> str:
    message = exc.message.removeprefix(f"{source}: ")
    if field and field != "kind_config" and exc.field:
        message = message.removeprefix(f"{exc.field}: ")
    if field == "name" and "pattern" in message:
        message = NAME_HINT
    if field == "kind_config":  # names the key, as typed in the box
        return message
    return message[:1].upper() + message[1:]


@dataclass
class FormState:
    values: dict[str, str]
    errors: dict[str, str]
    general: str | None = None


def _new_form(request: Request, me: Principal, state: FormState,
              status_code: int = 200) -> Response:
    return page("pages/manage_new.html", template_context(
        request, me, values=state.values, errors=state.errors, general_error=state.general,
        kinds=kind_catalog(), downstream_uses=projects.DOWNSTREAM_USES,
        kind_examples=KIND_EXAMPLES), status_code=status_code)


@router.get("/manage/new")
def new_project_form(request: Request, me: UserDep) -> Response:
    authorize(me, "project.create")
    values = dict(DEFAULTS)
    values["kind_config"] = KIND_EXAMPLES["classification"]
    return _new_form(request, me, FormState(values, {}))


@router.post("/manage/new")
async def create_project(request: Request, me: UserDep, _csrf: CsrfDep,
                         writes: WritesDep) -> Response:
    authorize(me, "project.create")
    form = await request.form()
    values = {key: _form_text(form, key) for key in FORM_FIELDS}
    source = "the form"
    workspace = request.app.state.workspace
    lease = workspace.settings.default_lease_seconds if workspace is not None else 600
    try:
        spec = projects.parse_spec(spec_from_form(values), source=source)

        def work(conn: Connection) -> int:
            return projects.create_project(conn, spec, actor=me.actor, created_by=me.user_id,
                                           default_lease_seconds=lease)

        await writes.run(work)
    except HandloomError as exc:
        field = form_field(exc.field)
        message = _error_message(exc, source, field)
        errors = {field: message} if field else {}
        return _new_form(request, me, FormState(values, errors, None if field else message),
                         status_code=exc.status if exc.status in (409, 422) else 422)
    _flash(request, f"Project {spec.name} created. Upload items to start the work.")
    return RedirectResponse(f"/manage/{spec.name}", status_code=303)


# ------------------------------------------------------------------ one project
@router.get("/manage/{name}")
def project_page(name: str, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "project.summary")
    return _render_project(request, store, me, name)


@router.get("/manage/{name}/flags")
def project_flags(name: str, request: Request, store: StoreDep) -> Response:
    """The guideline notes, for htmx to poll. A session that ended answers 286, which tells
    htmx to stop polling (instead of following the sign-in redirect into the list)."""
    try:
        me = signed_in(request, store)
    except LoginRequired:
        return page("partials/manage_flags.html",
                    template_context(request, None, flags=None, session_ended=True),
                    status_code=286)
    authorize(me, "project.summary")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        flags = guidelines.list_flags(conn, project.id)
    return page("partials/manage_flags.html",
                template_context(request, me, flags=flags, session_ended=False))


def failure_context(data: bytes, line: int, around: int = CONTEXT_LINES,
                    limit: int = LINE_LIMIT) -> list[dict[str, Any]]:
    """The lines of an upload around the failing *line* (numbered from 1, as the importer
    counts them: split at newlines), each cut to *limit* characters."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    first, last = max(line - around, 1), min(line + around, len(lines))
    out = []
    for number in range(first, last + 1):
        text = lines[number - 1].removesuffix("\r")
        clipped = len(text) > limit
        out.append({"number": number, "text": text[:limit] + ("…" if clipped else ""),
                    "failing": number == line})
    return out


@router.post("/manage/{name}/upload")
async def upload(name: str, request: Request, me: UserDep, _csrf: CsrfDep,
                 store: StoreDep) -> Response:
    authorize(me, "items.import")
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await run_in_threadpool(
            _render_project, request, store, me, name, status_code=422,
            upload_error={"message": "Choose a JSONL, CSV or Parquet file to upload.",
                          "context": []})
    filename = Path(file.filename).name or "upload.jsonl"
    if filename.startswith("hf:"):  # an upload is a file, never a dataset hub name
        filename = "upload-" + filename[3:]
    data = await file.read()
    try:
        result = await run_in_threadpool(importing.import_items, store, name, filename,
                                         data=data, actor=me.actor)
    except ImportFailed as exc:
        binary = Path(filename).suffix.lower() in (".parquet", ".pq")
        context = (failure_context(data, exc.line)
                   if exc.line is not None and not binary else [])
        return await run_in_threadpool(
            _render_project, request, store, me, name, status_code=422, upload_error={
                "message": exc.message, "source": filename, "line": exc.line,
                "field": exc.field, "reason": exc.reason,
                "row_word": "row" if binary else "line", "context": context})
    except Invalid as exc:
        return await run_in_threadpool(
            _render_project, request, store, me, name, status_code=422,
            upload_error={"message": exc.message, "context": []})
    gold = f" ({result.gold} of them gold)" if result.gold else ""
    shown = filename if len(filename) <= 80 else filename[:79] + "…"  # the flash is a cookie
    _flash(request, f"Imported {result.imported} items{gold} from {shown}.")
    return RedirectResponse(f"/manage/{name}", status_code=303)


@router.post("/manage/{name}/aggregate")
async def recompute_aggregate(name: str, request: Request, me: UserDep, _csrf: CsrfDep,
                              writes: WritesDep) -> Response:
    """Run the project's aggregation over every answer and come back to the project page."""
    authorize(me, "quality.aggregate")

    def work(conn: Connection) -> quality.AggregationRun:
        project = projects.get_project(conn, name)
        return quality.aggregate_project(conn, project, actor=f"user:{me.user_id}")

    run = await writes.run(work)
    if not run.answers:
        _flash(request, "Nothing to aggregate yet: no answers have come in.")
    else:
        mean = (f", mean confidence {run.mean_confidence:.2f}"
                if run.mean_confidence is not None else "")
        _flash(request, f"Aggregated {run.items} items from {run.answers} answers with "
                        f"{method_name(run.method)}{mean}. {run.queued} items newly queued "
                        f"for review, {run.unqueued} taken off the queue.")
    return RedirectResponse(f"/manage/{name}#h-quality", status_code=303)
