"""The reviewer's pages: projects with items waiting, the queue of one project, and one item
with every answer side by side and the form that decides it.

Reading the queue needs ``annotations.read`` (owners, managers, reviewers, auditors);
deciding an item is for owners, managers and reviewers only. Item text is hostile by nature
(moderation and red-team data): the templates rely on Jinja's autoescaping alone and every
string below reaches them as plain text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from handloom.errors import Forbidden, HandloomError, Invalid
from handloom.store.db import Store
from handloom.store.schema import items as items_table
from handloom.web.deps import StoreDep
from handloom.web.pages.manage import method_name
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.web.policies import authorize
from handloom.work import projects, quality, review
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)

DECIDERS = frozenset({"owner", "manager", "reviewer"})
QUEUE_PAGE = 200
CUSTOM = "custom"
# How payload keys are labelled on the item page; other keys are shown under their own name.
FIELD_LABELS = {"text": "Text", "prompt": "Prompt", "a": "Response A", "b": "Response B",
                "candidates": "Candidates", "goal": "Objective", "target": "Target",
                "context": "In reply to", "board": "Board"}


def may_decide(me: Principal) -> bool:
    return me.role in DECIDERS


def check_may_decide(me: Principal) -> None:
    authorize(me, "annotations.read")
    if not may_decide(me):
        raise Forbidden(f"Your role ({me.role}) may read the review queue but not decide items; "
                        "a reviewer, manager or owner decides them.")


def item_href(name: str, external_id: str) -> str:
    return f"/review/{name}/{quote(external_id, safe='')}"


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def payload_fields(payload: Any) -> list[dict[str, Any]]:
    """The payload as labelled fields: text, a numbered list (0-based, as answers refer to
    candidates) or JSON for anything else."""
    if not isinstance(payload, dict):
        return [{"key": "payload", "label": "Payload", "type": "json",
                 "value": pretty_json(payload)}]
    fields = []
    for key, value in payload.items():
        label = FIELD_LABELS.get(key, key)
        if isinstance(value, str):
            fields.append({"key": key, "label": label, "type": "text", "value": value})
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields.append({"key": key, "label": label, "type": "list", "value": value})
        else:
            fields.append({"key": key, "label": label, "type": "json", "value": pretty_json(value)})
    return fields


def span_excerpts(answer: Any, payload: Any) -> list[str]:
    """For span answers: each span as ``LABEL "covered text"``, so a reviewer need not count
    characters."""
    text = payload.get("text") if isinstance(payload, dict) else None
    spans = answer.get("spans") if isinstance(answer, dict) else None
    if not isinstance(text, str) or not isinstance(spans, list):
        return []
    out = []
    for span in spans:
        try:
            start, end = int(span["start"]), int(span["end"])
        except (KeyError, TypeError, ValueError):
            continue
        out.append(f'{span.get("label")} “{text[start:end]}”')
    return out


def why_queued(reason: str | None, confidence: float | None,
               gold_summary: str | None) -> str | None:
    """One line saying why an item waits for review (None when it is not queued)."""
    if reason == quality.LOW_CONFIDENCE:
        shown = f" ({confidence:.2f})" if confidence is not None else ""
        return f"Low confidence{shown}: the answers do not settle the item."
    if reason == quality.GOLD_FAILED:
        expected = f" {gold_summary}" if gold_summary else ""
        return (f"Gold answer missed: a worker's answer differed from the gold answer"
                f"{expected}. Check the worker's answer, or the gold answer itself.")
    if reason:
        return f"Queued: {reason}."
    return None


def _gold_summaries(conn: Any, project: Any, external_ids: list[str]) -> dict[str, str]:
    """The summary of the gold answer of each of these items that has one."""
    if not external_ids:
        return {}
    kind = projects.kind_of(project)
    rows = conn.execute(select(items_table.c.external_id, items_table.c.gold_answer).where(
        items_table.c.project_id == project.id, items_table.c.external_id.in_(external_ids),
        items_table.c.gold_answer.is_not(None))).all()
    return {r.external_id: kind.summarize(r.gold_answer) for r in rows}


def _item_context(conn: Any, project: Any, external_id: str) -> dict[str, Any]:
    item = review.item_for_review(conn, project, external_id)
    for i, answer in enumerate(item["answers"]):
        answer["index"] = i
        answer["json"] = pretty_json(answer["answer"])
        answer["when"] = _when(answer["submitted_at"])
        answer["excerpts"] = (span_excerpts(answer["answer"], item["payload"])
                              if project.kind == "spans" else [])
    suggestion = item["suggestion"]
    suggestion["json"] = pretty_json(suggestion["answer"] if suggestion["answer"] else {})
    if item["decision"]:
        item["decision"]["json"] = pretty_json(item["decision"]["final_answer"])
        item["decision"]["when"] = _when(item["decision"]["decided_at"])
    kind = projects.kind_of(project)
    gold_summary = (kind.summarize(item["gold_answer"]) if item["gold_answer"] is not None
                    else None)
    aggregate = item["aggregate"]
    item["why"] = (why_queued(item["review_reason"],
                              aggregate["confidence"] if aggregate else None, gold_summary)
                   if item["final_answer"] is None else None)
    item["gold_summary"] = gold_summary
    if aggregate:
        aggregate["json"] = pretty_json(aggregate["answer"])
        aggregate["method_name"] = method_name(aggregate["method"])
    upcoming = review.disagreement_queue(conn, project, 2, after=external_id)
    following = [e for e in upcoming if e["id"] != external_id]
    return {
        "project": {"name": project.name, "title": project.title, "kind": project.kind,
                    "overlap": project.overlap, "blur_sensitive": project.blur_sensitive,
                    "content_categories": project.content_categories or []},
        "item": item,
        "fields": payload_fields(item["payload"]),
        "next_href": item_href(project.name, following[0]["id"]) if following else None,
        "queue_href": f"/review/{project.name}",
    }


def _render_item(request: Request, me: Principal, store: Store, name: str, external_id: str,
                 *, form: dict[str, str] | None = None, error: HandloomError | None = None,
                 decided: str | None = None) -> Response:
    with store.read() as conn:
        project = projects.get_project(conn, name)
        context = _item_context(conn, project, external_id)
        just_decided = decided if decided and review.is_decided(conn, project, decided) else None
    context["form"] = form or {"choice": "", "final_answer": context["item"]["suggestion"]["json"],
                               "reason": ""}
    context["textarea_rows"] = min(16, max(4, context["form"]["final_answer"].count("\n") + 2))
    status = 200
    if error is not None:
        status = error.status
    return page("pages/review_item.html", template_context(
        request, me, may_decide=may_decide(me), error=error.message if error else None,
        error_field=error.field if error else None, just_decided=just_decided, **context),
        status_code=status)


@router.get("/review")
def review_home(request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "annotations.read")
    with store.read() as conn:
        rows = review.overview(conn)
    for row in rows:
        row["href"] = f"/review/{row['name']}"
    return page("pages/review_home.html", template_context(
        request, me, projects=rows, total=sum(r["waiting"] for r in rows),
        may_decide=may_decide(me)))


@router.get("/review/{name}")
def review_queue(name: str, request: Request, me: UserDep, store: StoreDep,
                 decided: str | None = None) -> Response:
    authorize(me, "annotations.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        queue = review.disagreement_queue(conn, project, QUEUE_PAGE)
        waiting = (len(queue) if len(queue) < QUEUE_PAGE
                   else review.waiting_count(conn, project))
        just_decided = decided if decided and review.is_decided(conn, project, decided) else None
        golds = _gold_summaries(conn, project, [e["id"] for e in queue
                                                if e["reason"] == quality.GOLD_FAILED])
    for entry in queue:
        entry["href"] = item_href(project.name, entry["id"])
        entry["why"] = why_queued(entry["reason"], entry["confidence"], golds.get(entry["id"]))
    return page("pages/review_queue.html", template_context(
        request, me, project={"name": project.name, "title": project.title,
                              "kind": project.kind, "overlap": project.overlap,
                              "blur_sensitive": project.blur_sensitive},
        queue=queue, waiting=waiting, just_decided=just_decided, may_decide=may_decide(me)))


@router.get("/review/{name}/{item_id:path}")
def review_item(name: str, item_id: str, request: Request, me: UserDep, store: StoreDep,
                decided: str | None = None) -> Response:
    authorize(me, "annotations.read")
    return _render_item(request, me, store, name, item_id, decided=decided)


def _chosen_answer(store: Store, name: str, item_id: str, choice: str,
                   final_answer: str) -> Any:
    """The final answer the form asks for: one of the given answers, or the written JSON."""
    if choice == CUSTOM:
        try:
            return json.loads(final_answer)
        except json.JSONDecodeError as exc:
            raise Invalid(f"final_answer: not valid JSON ({exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}).", field="final_answer") from None
    if not choice.isdigit():
        raise Invalid("Choose one of the answers, or write the final answer yourself.",
                      field="choice")
    with store.read() as conn:
        item = review.item_for_review(conn, projects.get_project(conn, name), item_id)
    index = int(choice)
    if index >= len(item["answers"]):
        raise Invalid("That answer is no longer there; reload the page.", field="choice")
    return item["answers"][index]["answer"]


@router.post("/review/{name}/{item_id:path}")
def review_decide(name: str, item_id: str, request: Request, me: UserDep, store: StoreDep,
                  _csrf: CsrfDep, choice: Annotated[str, Form()] = "",
                  final_answer: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "") -> Response:
    form = {"choice": choice, "final_answer": final_answer, "reason": reason}
    try:
        check_may_decide(me)
        with store.read() as conn:
            projects.get_project(conn, name)  # an unknown project is a 404 page, not a form
    except HandloomError as exc:
        return page("pages/error.html", template_context(
            request, me, title="Not allowed" if exc.status == 403 else "Not found",
            message=exc.message), status_code=exc.status)
    try:
        answer = _chosen_answer(store, name, item_id, choice, final_answer)
        with store.write() as conn:
            project = projects.get_project(conn, name)
            review.resolve(conn, project, item_id, me.user_id, answer, reason, actor=me.actor)
    except HandloomError as exc:
        if exc.status == 404:
            return page("pages/error.html", template_context(
                request, me, title="Not found", message=exc.message), status_code=404)
        return _render_item(request, me, store, name, item_id, form=form, error=exc)
    with store.read() as conn:
        following = review.disagreement_queue(conn, projects.get_project(conn, name), 1,
                                              after=item_id)
    done = quote(item_id, safe="")
    target = (f"{item_href(name, following[0]['id'])}?decided={done}" if following
              else f"/review/{name}?decided={done}")
    return RedirectResponse(target, status_code=303)
