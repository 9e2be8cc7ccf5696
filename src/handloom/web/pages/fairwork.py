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
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select

from handloom.errors import HandloomError
from handloom.labor import demographics
from handloom.store.schema import assignments, consents
from handloom.store.schema import projects as project_table
from handloom.web import work_loop
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages import exposure as exposure_pages
from handloom.web.pages import pay as pay_pages
from handloom.web.pages import voice as voice_pages
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
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
        context: dict[str, Any] = {
            "pay": pay_pages.me_section(conn, worker_id),
            "exposure": exposure_pages.me_section(conn, worker_id),
            "voice": voice_pages.me_section(conn, worker_id),
            "scores": scores_for_worker(conn, worker_id),
            "about": demographics_section(conn, worker_id),
        }
    flash = request.session.pop(ABOUT_FLASH, None)
    context["about"]["flash"] = flash if isinstance(flash, str) else None
    return page("pages/me.html", template_context(request, me, **context))


# -- disclosure: self-reported demographics (always optional) --
ABOUT_FLASH = "about_flash"
ABOUT_ANCHOR = "/me#about"


def demographics_section(conn: Connection, worker_id: int) -> dict[str, Any]:
    """The worker's own answers about themselves, with every question and its choices
    (languages by name), and how the answers are used."""
    given = demographics.demographics_of(conn, worker_id)
    questions = []
    for name in demographics.FIELDS:
        names = demographics.VALUE_NAMES[name]
        choices = [(value, names.get(value, value))
                   for value in demographics.allowed_values(name)]
        if demographics.FIELDS[name] is None:
            choices.sort(key=lambda c: c[1])
        questions.append({"name": name, "label": demographics.FIELD_NAMES[name],
                          "choices": choices, "given": given.get(name, ""),
                          "shown": names.get(given[name], given[name]) if name in given
                          else None})
    return {"questions": questions, "given": given, "how_used": demographics.HOW_USED}


@router.post("/me/demographics")
async def save_demographics(request: Request, me: UserDep, _csrf: CsrfDep,
                            writes: WritesDep) -> Response:
    """Save the worker's answers (an empty choice is "prefer not to say")."""
    form = await request.form()
    values = {name: form.get(name) for name in demographics.FIELDS}
    given = {k: v for k, v in values.items() if isinstance(v, str)}
    try:
        worker_id = work_loop.worker_of(me, "demographics.own")

        def work(conn: Connection) -> dict[str, str]:
            return demographics.set_demographics(conn, worker_id, given,
                                                 actor=f"worker:{worker_id}")

        chosen = await writes.run(work)
    except HandloomError as exc:
        return page("pages/error.html", template_context(
            request, me, title="Your answers were not saved", message=exc.message),
            status_code=exc.status)
    request.session[ABOUT_FLASH] = ("Saved. " + (f"You gave {len(chosen)} of "
                                                 f"{len(demographics.FIELDS)} answers."
                                                 if chosen else "You gave no answers."))
    return RedirectResponse(ABOUT_ANCHOR, status_code=303)


@router.post("/me/demographics/erase")
def erase_demographics(request: Request, me: UserDep, _csrf: CsrfDep,
                       store: StoreDep) -> Response:
    """Erase everything the worker gave about themselves."""
    worker_id = work_loop.worker_of(me, "demographics.own")
    with store.write() as conn:
        erased = demographics.forget_demographics(conn, worker_id,
                                                  actor=f"worker:{worker_id}")
    request.session[ABOUT_FLASH] = ("Erased: nothing about you is stored any more."
                                    if erased else "There was nothing to erase.")
    return RedirectResponse(ABOUT_ANCHOR, status_code=303)


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
