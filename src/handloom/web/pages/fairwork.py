"""The fair-work pages that gather the labor layer in one place.

``/me`` is the worker's own page: what they earned and their effective hourly pay against
the floor, their time (paid and unpaid, by reason), how they are judged in each project,
their exposure to sensitive content this day and this week, their appeals, reviews, flags
and consents. ``/manage/{name}/fair-work`` shows a project's managers the same figures in
aggregate. Each area renders its own partial from its page module (``pay``, ``exposure``,
``voice``); this module only decides who may see what and lays the sections out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from handloom.store.schema import assignments, consents
from handloom.store.schema import projects as project_table
from handloom.web import work_loop
from handloom.web.deps import StoreDep
from handloom.web.pages import exposure as exposure_pages
from handloom.web.pages import pay as pay_pages
from handloom.web.pages import voice as voice_pages
from handloom.web.pages.render import page
from handloom.web.pages.session import UserDep, template_context
from handloom.web.pages.worker import judged
from handloom.web.policies import allowed, authorize
from handloom.work import projects, quality

router = APIRouter(include_in_schema=False)


def worked_projects(conn: Connection, worker_id: int) -> list[Any]:
    """Projects the worker has taken an item from or agreed the terms of, newest first."""
    ids = set(conn.execute(select(assignments.c.project_id).distinct()
                           .where(assignments.c.worker_id == worker_id)).scalars())
    ids |= set(conn.execute(select(consents.c.project_id).distinct()
                            .where(consents.c.worker_id == worker_id)).scalars())
    if not ids:
        return []
    return list(conn.execute(select(project_table).where(project_table.c.id.in_(ids))
                             .order_by(project_table.c.id.desc())))


def scores_for_worker(conn: Connection, worker_id: int) -> list[dict[str, Any]]:
    """How the worker is judged in each project they worked in."""
    out = []
    for project in worked_projects(conn, worker_id):
        out.append({"name": project.name, "title": project.title, "status": project.status,
                    "score": judged(quality.worker_score(conn, project, worker_id),
                                    project.aggregation_method)})
    return out


@router.get("/me")
def my_page(request: Request, me: UserDep, store: StoreDep) -> Response:
    worker_id = work_loop.worker_of(me, "work.own")
    with store.read() as conn:
        context = {
            "pay": pay_pages.me_section(conn, worker_id),
            "exposure": exposure_pages.me_section(conn, worker_id),
            "voice": voice_pages.me_section(conn, worker_id),
            "scores": scores_for_worker(conn, worker_id),
        }
    return page("pages/me.html", template_context(request, me, **context))


@router.get("/manage/{name}/fair-work")
def project_fair_work(name: str, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "project.summary")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        context = {
            "p": projects.project_summary(conn, project),
            # Pay is for those who may read it (reviewers may not).
            "pay": pay_pages.manage_section(conn, project) if allowed(me, "pay.read") else None,
            "exposure": exposure_pages.manage_section(conn, project),
            "voice": voice_pages.manage_section(conn, project),
        }
    return page("pages/manage_fairwork.html", template_context(request, me, **context))
