"""The worker's pages: the projects open to them, and the task screen with its JSON calls.

The task screen is one page; its script (static/js/task.js) leases items, mounts the task
kind's widget and submits answers through the ``/ui`` endpoints below, which take the
session cookie and a CSRF header instead of an API token and call the same work-loop
functions as the REST API.
"""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from handloom.labor import guidelines, terms, timekeeping
from handloom.store.schema import instruction_versions
from handloom.web import work_loop
from handloom.web.api import schemas as s
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages.manage import method_name
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.work import projects, quality, routing, submissions, views
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)


class FlagBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = "unclear"
    note: str = Field(max_length=5000)
    item_id: str | None = Field(None, max_length=300)


class AmendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: dict[str, Any]


class ReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    seconds: float = Field(ge=0, le=14400)


def _open_card(store: Any, principal: Principal, name: str) -> dict[str, Any]:
    worker_id = work_loop.worker_of(principal, "work.next")
    with store.read() as conn:
        return views.open_project_card(conn, worker_id, name)


@router.get("/")
def home(request: Request, me: UserDep, store: StoreDep) -> Response:
    if me.role == "reviewer":
        return RedirectResponse("/review", status_code=303)
    if me.role != "worker":
        return RedirectResponse("/manage", status_code=303)
    worker_id = work_loop.worker_of(me, "work.next")
    with store.read() as conn:
        cards = views.worker_project_cards(conn, worker_id)
        for card in cards:
            project = projects.get_project(conn, card["name"])
            card["score"] = judged(quality.worker_score(conn, project, worker_id),
                                   project.aggregation_method)
    return page("pages/home.html", template_context(request, me, cards=cards))


def judged(score: dict[str, Any], project_method: str) -> dict[str, Any]:
    """A worker's own scores with the readable method name, for "How you are judged"."""
    return {**score, "method_name": method_name(score["method"] or project_method),
            "pass_percent": round(100 * float(score["qualification"]["pass_mark"]))}


def instruction_changes(old: str, new: str) -> list[dict[str, Any]]:
    """The new text as lines, each marked whether it is new since *old* was read."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    marked = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        for line in new.splitlines()[j1:j2]:
            marked.append({"text": line, "changed": tag in ("replace", "insert")})
    return marked


@router.get("/work/{name}")
def task_screen(name: str, request: Request, me: UserDep, store: StoreDep) -> Response:
    card = _open_card(store, me, name)
    worker_id = work_loop.worker_of(me, "work.next")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        if project.terms_required and terms.status(conn, project, worker_id)["needs_consent"]:
            # Terms first: pay, time, content warnings, data use, retention, appeals.
            return RedirectResponse(f"/work/{name}/terms", status_code=303)
        current = projects.current_instructions(conn, project.id)
        last_read = timekeeping.last_read_instructions(conn, project.id, worker_id)
        previous = ""
        if 0 < last_read < current["version"]:
            previous = conn.execute(select(instruction_versions.c.text).where(
                instruction_versions.c.project_id == project.id,
                instruction_versions.c.version == last_read)).scalar() or ""
        kind = projects.kind_of(project)
    config = {
        "project": {"name": project.name, "title": project.title, "kind": project.kind,
                    "widget": kind.widget, "config": kind.config.model_dump(),
                    "blur_sensitive": project.blur_sensitive,
                    "content_categories": project.content_categories},
        "instructions": {"version": current["version"], "last_read": last_read},
        "endpoints": {
            "next": f"/ui/projects/{name}/next",
            "submit": f"/ui/projects/{name}/assignments/{{id}}/submit",
            "skip": f"/ui/projects/{name}/assignments/{{id}}/skip",
            "release": f"/ui/projects/{name}/assignments/{{id}}/release",
            "amend": f"/ui/projects/{name}/assignments/{{id}}/amend",
            "flag": f"/ui/projects/{name}/flags",
            "read": f"/ui/projects/{name}/instructions/read",
        },
    }
    changes = instruction_changes(previous, current["text"]) if previous else []
    return page("pages/task.html", template_context(
        request, me, card=card, task_config=config, instructions=current,
        changed_lines=changes, unread=last_read < current["version"]))


# ------------------------------------------------------------------ JSON for task.js
@router.post("/ui/projects/{name}/next")
async def ui_next(name: str, me: UserDep, _csrf: CsrfDep, writes: WritesDep) -> dict[str, Any]:
    return await work_loop.lease_next(writes, name, me)


@router.post("/ui/projects/{name}/assignments/{assignment_id}/submit")
async def ui_submit(name: str, assignment_id: int, body: s.SubmitRequest, me: UserDep,
                    _csrf: CsrfDep, writes: WritesDep) -> dict[str, Any]:
    return await work_loop.submit(writes, name, assignment_id, body, me)


@router.post("/ui/projects/{name}/assignments/{assignment_id}/skip")
async def ui_skip(name: str, assignment_id: int, body: s.SkipRequest, me: UserDep,
                  _csrf: CsrfDep, writes: WritesDep) -> dict[str, Any]:
    return await work_loop.close(writes, name, assignment_id, me, "skipped", body.reason,
                                 body.active_seconds)


@router.post("/ui/projects/{name}/assignments/{assignment_id}/release")
async def ui_release(name: str, assignment_id: int, me: UserDep, _csrf: CsrfDep,
                     writes: WritesDep) -> dict[str, Any]:
    return await work_loop.close(writes, name, assignment_id, me, "released", None)


@router.post("/ui/projects/{name}/assignments/{assignment_id}/amend")
async def ui_amend(name: str, assignment_id: int, body: AmendBody, me: UserDep,
                   _csrf: CsrfDep, writes: WritesDep) -> dict[str, Any]:
    worker_id = work_loop.worker_of(me, "work.submit")

    def work(conn: Any) -> submissions.Submission:
        project = routing.load_project(conn, name)
        return submissions.amend_answer(conn, project, projects.kind_of(project), worker_id,
                                        assignment_id, body.answer)

    return (await writes.run(work)).to_dict()


@router.post("/ui/projects/{name}/flags", status_code=201)
async def ui_flag(name: str, body: FlagBody, me: UserDep, _csrf: CsrfDep,
                  writes: WritesDep) -> dict[str, Any]:
    worker_id = work_loop.worker_of(me, "work.submit")

    def work(conn: Any) -> int:
        return guidelines.flag(conn, routing.load_project(conn, name), worker_id,
                               kind=body.kind, note=body.note, item_external_id=body.item_id)

    return {"issue": await writes.run(work)}


@router.post("/ui/projects/{name}/instructions/read", status_code=201)
async def ui_read(name: str, body: ReadBody, me: UserDep, _csrf: CsrfDep,
                  writes: WritesDep) -> dict[str, Any]:
    worker_id = work_loop.worker_of(me, "work.next")

    def work(conn: Any) -> int:
        return timekeeping.read_instructions(conn, routing.load_project(conn, name), worker_id,
                                             body.version, body.seconds)

    return {"entry": await writes.run(work)}
