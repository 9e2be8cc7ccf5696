"""Exposure and well-being in the browser: the worker's section of ``/me`` (exposure today
and this week, opt-outs, time zone, check-ins), the manager's section of the fair-work page
(counts only), the workbench's JSON calls (exposure state, check-ins, opt-outs), a
reviewer's tag editor on the review item page, and the check-ins workers shared with a
project's staff.

Check-in answers are shown to the worker who gave them, and to a project's owners and
managers only when the worker shared them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from handloom.errors import Forbidden, HandloomError
from handloom.labor import exposure, wellbeing
from handloom.store.fastsql import Sql
from handloom.web import work_loop
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.web.policies import STAFF, authorize
from handloom.work import projects
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)

ME_ANCHOR = "/me#exposure"
NO_PENALTY = ("Opting out of a category never affects your score, your pay or your access to "
              "any project: routing simply stops offering you its items. You can opt back in "
              "at any time.")


# ------------------------------------------------------------------ sections for the lead's pages
def _local(iso: str | None, zone: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(exposure.zone_of(zone)).strftime(
        "%a %d %b %H:%M")


def _support(conn: Connection, worker_id: int) -> list[dict[str, str]]:
    """Support resources of the projects the worker has worked in (where one is set)."""
    sql = Sql(conn)
    rows = sql.all(
        "SELECT name, title, support_resources FROM projects WHERE id IN (SELECT DISTINCT "
        "project_id FROM assignments WHERE worker_id = ?) ORDER BY name", (worker_id,))
    return [{"project": r[0], "title": r[1] or r[0], "text": r[2]} for r in rows if r[2]]


def me_section(conn: Connection, worker_id: int) -> dict[str, Any]:
    """The worker's exposure today and this week against the limits, their opt-outs and
    time zone, breaks running now, their own check-ins and the support resources."""
    seen = exposure.worker_exposure(conn, worker_id)
    zone = seen["timezone"]
    for brk in seen["breaks"]:
        brk["until_local"] = _local(brk["until"], zone)
    checkins = wellbeing.for_worker(conn, worker_id, limit=20)
    for c in checkins:
        c["when"] = _local(c["created_at"], zone)
    return {"exposure": seen, "resets_local": _local(seen["resets_at"], zone),
            "checkins": checkins, "support": _support(conn, worker_id),
            "no_penalty": NO_PENALTY}


def manage_section(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's exposure policy and per-category counts, and its check-in counts (never
    answers: shared ones are on a separate page for owners and managers)."""
    figures = exposure.project_exposure(conn, project)
    return {**figures, "title": project.title, "checkins": wellbeing.project_counts(conn, project),
            "shared_href": f"/manage/{project.name}/checkins"}


# ------------------------------------------------------------------ forms on /me
def _form_error(request: Request, me: Principal, exc: HandloomError) -> Response:
    return page("pages/error.html", template_context(
        request, me, title="That did not work", message=exc.message), status_code=exc.status)


@router.post("/me/exposure/opt-outs")
def me_opt_out(request: Request, me: UserDep, store: StoreDep, _csrf: CsrfDep,
               category: Annotated[str, Form(max_length=40)],
               choice: Annotated[str, Form(pattern="^(out|in)$")]) -> Response:
    """Opt out of one category (choice=out) or back in (choice=in)."""
    try:
        worker_id = work_loop.worker_of(me, "exposure.settings")
        with store.write() as conn:
            if choice == "out":
                exposure.opt_out(conn, worker_id, category, actor=f"worker:{worker_id}")
            else:
                exposure.opt_in(conn, worker_id, category, actor=f"worker:{worker_id}")
    except HandloomError as exc:
        return _form_error(request, me, exc)
    return RedirectResponse(ME_ANCHOR, status_code=303)


@router.post("/me/exposure/timezone")
def me_timezone(request: Request, me: UserDep, store: StoreDep, _csrf: CsrfDep,
                timezone: Annotated[str, Form(max_length=64)]) -> Response:
    try:
        worker_id = work_loop.worker_of(me, "exposure.settings")
        with store.write() as conn:
            exposure.set_timezone(conn, worker_id, timezone, actor=f"worker:{worker_id}")
    except HandloomError as exc:
        return _form_error(request, me, exc)
    return RedirectResponse(ME_ANCHOR, status_code=303)


# ------------------------------------------------------------------ JSON for task.js
class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeling: int = Field(ge=1, le=5)
    wants_support: bool = False
    note: str = Field("", max_length=wellbeing.MAX_NOTE)
    shared: bool = False
    trigger: str = Field("self", pattern="^(break|limit|self)$")
    seconds: float | None = Field(None, ge=0, le=14400)


class OptOutsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opt_outs: list[Annotated[str, Field(max_length=40)]] = Field(max_length=100)


@router.get("/ui/projects/{name}/exposure")
def ui_state(name: str, me: UserDep, store: StoreDep) -> dict[str, Any]:
    """The worker's exposure state in this project: sensitive items seen today, a break or
    limits in force, and the support resources for the check-in card."""
    worker_id = work_loop.worker_of(me, "exposure.own")
    with store.read() as conn:
        return exposure.worker_state(conn, projects.get_project(conn, name), worker_id)


@router.post("/ui/projects/{name}/checkins", status_code=201)
async def ui_check_in(name: str, body: CheckinBody, me: UserDep, _csrf: CsrfDep,
                      writes: WritesDep) -> dict[str, Any]:
    worker_id = work_loop.worker_of(me, "wellbeing.checkin")

    def work(conn: Connection) -> dict[str, Any]:
        project = projects.get_project(conn, name)
        checkin_id = wellbeing.check_in(
            conn, project, worker_id, feeling=body.feeling, wants_support=body.wants_support,
            note=body.note, shared=body.shared, trigger=body.trigger, seconds=body.seconds)
        return {"id": checkin_id, "support_resources": project.support_resources or ""}

    return await writes.run(work)


@router.post("/ui/me/opt-outs")
async def ui_opt_outs(body: OptOutsBody, me: UserDep, _csrf: CsrfDep,
                      writes: WritesDep) -> dict[str, Any]:
    worker_id = work_loop.worker_of(me, "exposure.settings")

    def work(conn: Connection) -> list[str]:
        return exposure.set_opt_outs(conn, worker_id, body.opt_outs, actor=f"worker:{worker_id}")

    return {"opt_outs": await writes.run(work), "note": NO_PENALTY}


# ------------------------------------------------------------------ reviewers' tag editor
@router.post("/tag/{name}/{item_id:path}")
def tag_item_form(name: str, item_id: str, request: Request, me: UserDep, store: StoreDep,
                  _csrf: CsrfDep, tags: Annotated[list[str] | None, Form()] = None) -> Response:
    """The tag editor of the review item page: the checked categories become the item's
    tags."""
    try:
        authorize(me, "items.tag")
        with store.write() as conn:
            exposure.tag_item(conn, projects.get_project(conn, name), item_id, tags or [],
                              me.actor)
    except HandloomError as exc:
        return _form_error(request, me, exc)
    return RedirectResponse(f"/review/{name}/{quote(item_id, safe='')}?tagged=1",
                            status_code=303)


# ------------------------------------------------------------------ shared check-ins
@router.get("/manage/{name}/checkins")
def shared_checkins(name: str, request: Request, me: UserDep, store: StoreDep) -> Response:
    """Check-ins the project's workers chose to share with its staff (owners, managers)."""
    authorize(me, "exposure.read")
    if me.role not in STAFF:
        return _form_error(request, me, Forbidden(
            "Only the project's owners and managers see the check-ins workers shared with "
            "its staff."))
    with store.read() as conn:
        project = projects.get_project(conn, name)
        shared = wellbeing.shared_with_staff(conn, project)
        counts = wellbeing.project_counts(conn, project)
    for c in shared:
        c["when"] = _local(c["created_at"], "UTC")
    return page("pages/manage_checkins.html", template_context(
        request, me, p={"name": project.name, "title": project.title}, shared=shared,
        counts=counts))
