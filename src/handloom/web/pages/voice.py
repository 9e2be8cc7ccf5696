"""The workers' recourse and voice in the browser: a project's terms and consent, appeals
(the worker's form and list; the deciders' queue and decide page), rejecting an answer from
the review page, the managers' reviews of workers, and guideline flags (+1 for workers,
answers for managers).

``me_section`` and ``manage_section`` feed the partials ``me_voice.html`` and
``manage_voice.html`` that the worker's own page and the manager's fair-work page include.
Appeal statements are shown to their author and to the people who decide them only.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select

from handloom.errors import HandloomError, Invalid, NotFound
from handloom.labor import appeals, guidelines, standing, terms
from handloom.store.schema import consents
from handloom.store.schema import projects as project_table
from handloom.web import work_loop
from handloom.web.deps import StoreDep
from handloom.web.pages.render import page
from handloom.web.pages.review import item_href
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.web.policies import allowed, authorize
from handloom.work import review, views
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)

# An appeal form's time counts as work, up to this long (the form records when it was shown).
MAX_APPEAL_SECONDS = 3600
APPEALABLE_SHOWN = 20


# ------------------------------------------------------------------ helpers
def _project(conn: Connection, name: str) -> Any:
    row = conn.execute(select(project_table).where(project_table.c.name == name)).first()
    if row is None:
        raise NotFound(f"No project {name!r}.")
    return row


def _error(request: Request, me: Principal | None, exc: HandloomError,
           back: str | None = None) -> Response:
    titles = {403: "Not allowed", 404: "Not found", 409: "Not now", 422: "That did not work"}
    message = exc.message + (f" Go back: {back}" if back else "")
    return page("pages/error.html", template_context(
        request, me, title=titles.get(exc.status, "Something went wrong"), message=message),
        status_code=exc.status)


def hourly_at_estimate(t: dict[str, Any]) -> str | None:
    """Pay per hour at the expected pace, for a piece rate (display only; rounded half up
    to the currency's minor unit)."""
    rate = t["pay"]["piece_rate"]
    seconds = t["expected_seconds_per_item"]
    if t["pay"]["model"] != "piece" or not rate or not seconds:
        return None
    exponent = Decimal(rate).as_tuple().exponent
    places = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return str((Decimal(rate) * 3600 / Decimal(seconds)).quantize(places, ROUND_HALF_UP))


def _worker_may_see(conn: Connection, worker_id: int, project: Any) -> bool:
    """A worker sees the terms of a project open to them, or of one they consented to."""
    try:
        views.open_project_card(conn, worker_id, project.name)
        return True
    except NotFound:
        return conn.execute(select(consents.c.id).where(
            consents.c.project_id == project.id, consents.c.worker_id == worker_id)
        ).first() is not None


# ------------------------------------------------------------------ terms
@router.get("/work/{name}/terms")
def terms_page(name: str, request: Request, me: UserDep, store: StoreDep,
               withdrawn: int | None = None) -> Response:
    """The terms of a project, with "I agree" (and "Withdraw consent" once given)."""
    authorize(me, "terms.read")
    with store.read() as conn:
        project = _project(conn, name)
        if me.role == "worker":
            worker_id = work_loop.worker_of(me, "terms.consent")
            if not _worker_may_see(conn, worker_id, project):
                raise NotFound(f"No project {name!r} is open to you.")
            state = terms.status(conn, project, worker_id)
        else:
            shown = terms.terms_for(project)
            state = {"project": project.name, "title": project.title,
                     "required": bool(project.terms_required), "terms": shown,
                     "terms_hash": terms.terms_hash(shown), "consent": None, "changed": False,
                     "withdrawn_at": None, "needs_consent": False}
        open_now = project.status == "open"
    return page("pages/terms.html", template_context(
        request, me, state=state, t=state["terms"], hourly=hourly_at_estimate(state["terms"]),
        is_worker=me.role == "worker", open_now=open_now, just_withdrawn=bool(withdrawn)))


@router.post("/work/{name}/terms")
def terms_agree(name: str, request: Request, me: UserDep, store: StoreDep,
                _csrf: CsrfDep) -> Response:
    try:
        worker_id = work_loop.worker_of(me, "terms.consent")
        with store.write() as conn:
            views.open_project_card(conn, worker_id, name)
            terms.consent(conn, _project(conn, name), worker_id)
    except HandloomError as exc:
        return _error(request, me, exc, f"/work/{name}/terms")
    return RedirectResponse(f"/work/{name}", status_code=303)


@router.post("/work/{name}/terms/withdraw")
def terms_withdraw(name: str, request: Request, me: UserDep, store: StoreDep,
                   _csrf: CsrfDep) -> Response:
    try:
        worker_id = work_loop.worker_of(me, "terms.consent")
        with store.write() as conn:
            terms.withdraw(conn, _project(conn, name), worker_id)
    except HandloomError as exc:
        return _error(request, me, exc, f"/work/{name}/terms")
    return RedirectResponse(f"/work/{name}/terms?withdrawn=1", status_code=303)


def needs_terms(conn: Connection, project: Any, worker_id: int) -> bool:
    """Whether the task screen must send this worker to the terms page first."""
    return bool(project.terms_required) and bool(
        terms.status(conn, project, worker_id)["needs_consent"])


# ------------------------------------------------------------------ flags (workers)
@router.get("/work/{name}/flags")
def flags_page(name: str, request: Request, me: UserDep, store: StoreDep,
               supported: int | None = None) -> Response:
    """The project's guideline flags for a worker: open ones to +1, and the answers."""
    worker_id = work_loop.worker_of(me, "flags.support")
    with store.read() as conn:
        card = views.open_project_card(conn, worker_id, name)
        flags = guidelines.flags_for_worker_in(conn, _project(conn, name), worker_id)
    return page("pages/worker_flags.html", template_context(
        request, me, card=card, flags=flags, supported=supported))


@router.post("/work/{name}/flags/{issue_id}/support")
def flag_support(name: str, issue_id: int, request: Request, me: UserDep, store: StoreDep,
                 _csrf: CsrfDep) -> Response:
    try:
        worker_id = work_loop.worker_of(me, "flags.support")
        with store.write() as conn:
            views.open_project_card(conn, worker_id, name)
            guidelines.support(conn, _project(conn, name), issue_id, worker_id)
    except HandloomError as exc:
        return _error(request, me, exc, f"/work/{name}/flags")
    return RedirectResponse(f"/work/{name}/flags?supported={issue_id}#flag-{issue_id}",
                            status_code=303)


# ------------------------------------------------------------------ appeals (workers)
@router.get("/me/appeals")
def my_appeals_page(request: Request, me: UserDep, store: StoreDep,
                    filed: int | None = None) -> Response:
    """The worker's appeals, the decisions they can still appeal, reviews, flags and
    consents (the same partial as on their own page)."""
    worker_id = work_loop.worker_of(me, "appeal.own")
    with store.read() as conn:
        section = me_section(conn, worker_id)
    return page("pages/my_appeals.html", template_context(
        request, me, section=section, filed=filed))


def _pick(options: list[dict[str, Any]], subject_type: str,
          subject_id: int | None) -> dict[str, Any]:
    for option in options:
        if option["subject_type"] == subject_type and option["subject_id"] == subject_id:
            return option
    raise NotFound("There is no such decision of yours to appeal; pick one from your "
                   "appeals page.")


def _appeal_form(request: Request, me: Principal, option: dict[str, Any],
                 project: Any, *, statement: str = "", error: str | None = None,
                 status_code: int = 200) -> Response:
    return page("pages/appeal_new.html", template_context(
        request, me, option=option, project={"name": project.name, "title": project.title,
                                             "days": project.appeal_deadline_days},
        statement=statement, error=error, opened_at=int(time.time())),
        status_code=status_code)


def _subject_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@router.get("/me/appeals/new")
def appeal_form(request: Request, me: UserDep, store: StoreDep, project: str,
                type: str, subject: str | None = None) -> Response:
    worker_id = work_loop.worker_of(me, "appeal.file")
    with store.read() as conn:
        row = _project(conn, project)
        option = _pick(appeals.appealable(conn, worker_id, project=row, limit=100000), type,
                       _subject_id(subject))
    return _appeal_form(request, me, option, row)


@router.post("/me/appeals")
def appeal_file(request: Request, me: UserDep, store: StoreDep, _csrf: CsrfDep,
                project: Annotated[str, Form()], subject_type: Annotated[str, Form()],
                subject_id: Annotated[str, Form()] = "",
                statement: Annotated[str, Form()] = "",
                opened_at: Annotated[str, Form()] = "") -> Response:
    try:
        worker_id = work_loop.worker_of(me, "appeal.file")
        with store.read() as conn:
            row = _project(conn, project)
            option = _pick(appeals.appealable(conn, worker_id, project=row, limit=100000),
                           subject_type, _subject_id(subject_id))
    except HandloomError as exc:
        return _error(request, me, exc, "/me/appeals")
    seconds = None
    if opened_at.isdigit():
        seconds = float(min(max(time.time() - int(opened_at), 0), MAX_APPEAL_SECONDS))
    try:
        with store.write() as conn:
            appeal_id = appeals.file(conn, row, worker_id, subject_type,
                                     _subject_id(subject_id), statement,
                                     active_seconds=seconds)
    except HandloomError as exc:
        return _appeal_form(request, me, option, row, statement=statement, error=exc.message,
                            status_code=exc.status)
    return RedirectResponse(f"/me/appeals?filed={appeal_id}#appeal-{appeal_id}",
                            status_code=303)


# ------------------------------------------------------------------ appeals (deciders)
@router.get("/review/appeals")
def appeals_queue(request: Request, me: UserDep, store: StoreDep, status: str = "open",
                  project: str | None = None, decided: int | None = None) -> Response:
    """Appeals waiting for a decision, overdue first (and decided ones on request)."""
    authorize(me, "appeal.list")
    with store.read() as conn:
        row = _project(conn, project) if project else None
        entries = appeals.queue(conn, project=row, status=status, decider_user_id=me.user_id)
        counts = appeals.open_counts(conn)
    return page("pages/appeals_queue.html", template_context(
        request, me, entries=entries, counts=counts, status=status, project=project,
        decided=decided, statuses=appeals.STATUS_FILTERS))


def _decide_page(request: Request, me: Principal, store: Any, appeal_id: int, *,
                 form: dict[str, str] | None = None, error: str | None = None,
                 status_code: int = 200) -> Response:
    with store.read() as conn:
        entry = appeals.get(conn, appeal_id, decider_user_id=me.user_id)
    return page("pages/appeal_decide.html", template_context(
        request, me, a=entry, form=form or {"decision": "", "reason": ""}, error=error,
        may_decide=allowed(me, "appeal.decide") and entry["may_decide"]),
        status_code=status_code)


@router.get("/review/appeals/{appeal_id}")
def appeal_page(appeal_id: int, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "appeal.list")
    return _decide_page(request, me, store, appeal_id)


@router.post("/review/appeals/{appeal_id}")
def appeal_decide(appeal_id: int, request: Request, me: UserDep, store: StoreDep,
                  _csrf: CsrfDep, decision: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "") -> Response:
    form = {"decision": decision, "reason": reason}
    try:
        authorize(me, "appeal.decide")
        with store.read() as conn:
            entry = appeals.get(conn, appeal_id)
    except HandloomError as exc:
        return _error(request, me, exc, "/review/appeals")
    if decision not in ("uphold", "deny"):
        return _decide_page(request, me, store, appeal_id, form=form, status_code=422,
                            error="Choose: uphold the appeal, or deny it.")
    try:
        with store.write() as conn:
            appeals.decide(conn, _project(conn, entry["project"]), appeal_id, me.user_id,
                           uphold=decision == "uphold", reason=reason, actor=me.actor)
    except HandloomError as exc:
        return _decide_page(request, me, store, appeal_id, form=form, error=exc.message,
                            status_code=exc.status)
    return RedirectResponse(f"/review/appeals?decided={appeal_id}", status_code=303)


# ------------------------------------------------------------------ rejecting an answer
@router.post("/review/{name}/answers/{annotation_id}/reject")
def reject_answer(name: str, annotation_id: int, request: Request, me: UserDep,
                  store: StoreDep, _csrf: CsrfDep, reason: Annotated[str, Form()] = "",
                  fraud: Annotated[str, Form()] = "",
                  item: Annotated[str, Form()] = "") -> Response:
    back = item_href(name, item) if item else f"/review/{name}"
    try:
        authorize(me, "annotation.reject")
        with store.write() as conn:
            review.reject_answer(conn, _project(conn, name), annotation_id, me.user_id, reason,
                                 fraud=fraud == "1", actor=me.actor)
    except HandloomError as exc:
        return _error(request, me, exc, back)
    return RedirectResponse(f"{back}?rejected={annotation_id}#answer-{annotation_id}",
                            status_code=303)


# ------------------------------------------------------------------ reviews of workers
@router.get("/manage/{name}/worker-reviews")
def worker_reviews_page(name: str, request: Request, me: UserDep, store: StoreDep,
                        done: str | None = None) -> Response:
    """The project's reviews of workers: open ones to decide, a form to open one by hand,
    and the decisions made."""
    authorize(me, "worker_review.read")
    with store.read() as conn:
        project = _project(conn, name)
        reviews = standing.list_reviews(conn, project)
        candidates = standing.project_workers(conn, project)
        section = manage_section(conn, project)
    return page("pages/worker_reviews.html", template_context(
        request, me, p={"name": project.name, "title": project.title,
                        "threshold": project.score_review_below,
                        "min_gold": project.score_review_min_gold},
        reviews=reviews, candidates=candidates, section=section, done=done,
        may_decide=allowed(me, "worker_review.decide")))


@router.post("/manage/{name}/worker-reviews")
def worker_review_open(name: str, request: Request, me: UserDep, store: StoreDep,
                       _csrf: CsrfDep, worker: Annotated[str, Form()] = "") -> Response:
    try:
        authorize(me, "worker_review.open")
        with store.write() as conn:
            project = _project(conn, name)
            review_id = standing.open_review(
                conn, project, standing.find_worker(conn, project, worker.strip()),
                trigger="manual", opened_by=me.user_id, actor=me.actor)
    except HandloomError as exc:
        return _error(request, me, exc, f"/manage/{name}/worker-reviews")
    return RedirectResponse(f"/manage/{name}/worker-reviews?done=opened#review-{review_id}",
                            status_code=303)


@router.post("/manage/{name}/worker-reviews/{review_id}")
def worker_review_decide(name: str, review_id: int, request: Request, me: UserDep,
                         store: StoreDep, _csrf: CsrfDep,
                         decision: Annotated[str, Form()] = "",
                         reason: Annotated[str, Form()] = "") -> Response:
    back = f"/manage/{name}/worker-reviews"
    try:
        authorize(me, "worker_review.decide")
        if decision not in ("keep", "remove"):
            raise Invalid("Choose: keep the worker, or remove them from the project.",
                          field="decision")
        with store.write() as conn:
            outcome = standing.decide(conn, _project(conn, name), review_id,
                                      remove=decision == "remove", reason=reason,
                                      decider_user_id=me.user_id, actor=me.actor)
    except HandloomError as exc:
        return _error(request, me, exc, back)
    return RedirectResponse(f"{back}?done={outcome['status']}#review-{review_id}",
                            status_code=303)


# ------------------------------------------------------------------ answering flags
@router.get("/manage/{name}/flags/{issue_id}/answer")
def flag_answer_form(name: str, issue_id: int, request: Request, me: UserDep,
                     store: StoreDep) -> Response:
    authorize(me, "flags.answer")
    with store.read() as conn:
        project = _project(conn, name)
        found = guidelines.list_flags(conn, project.id, issue_id=issue_id)
    if not found:
        raise NotFound(f"No flag #{issue_id} in project {name!r}.")
    flag = found[0]
    return page("pages/flag_answer.html", template_context(
        request, me, p={"name": project.name, "title": project.title}, flag=flag,
        answer=flag["answer"] or "", error=None))


@router.post("/manage/{name}/flags/{issue_id}/answer")
def flag_answer(name: str, issue_id: int, request: Request, me: UserDep, store: StoreDep,
                _csrf: CsrfDep, answer: Annotated[str, Form()] = "") -> Response:
    try:
        authorize(me, "flags.answer")
        with store.write() as conn:
            guidelines.answer(conn, _project(conn, name), issue_id, answer, me.user_id,
                              me.actor)
    except HandloomError as exc:
        return _error(request, me, exc, f"/manage/{name}/flags/{issue_id}/answer")
    return RedirectResponse(f"/manage/{name}#h-flags", status_code=303)


# ------------------------------------------------------------------ sections
def me_section(conn: Connection, worker_id: int) -> dict[str, Any]:
    """The worker's appeals (status, due dates, decisions and reasons), what they may still
    appeal, reviews of their work, their flags with answers, and their consents."""
    options = appeals.appealable(conn, worker_id)
    return {
        "appeals": appeals.for_worker(conn, worker_id),
        "appealable": [o for o in options if o["can_appeal"]][:APPEALABLE_SHOWN],
        "appealable_more": max(len([o for o in options if o["can_appeal"]])
                               - APPEALABLE_SHOWN, 0),
        "reviews": standing.for_worker(conn, worker_id),
        "flags": guidelines.for_worker(conn, worker_id),
        "consents": terms.consents_for_worker(conn, worker_id),
    }


def manage_section(conn: Connection, project: Any) -> dict[str, Any]:
    """A project's appeals (open, overdue, decided), reviews of workers, flags and
    consents, as counts and pseudonymous lists (no statements)."""
    open_reviews = standing.list_reviews(conn, project, status="open")
    return {
        "name": project.name,
        "appeals": appeals.project_counts(conn, project),
        "appeal_deadline_days": int(project.appeal_deadline_days),
        "reviews": standing.project_counts(conn, project),
        "open_reviews": open_reviews,
        "score_review_below": project.score_review_below,
        "score_review_min_gold": int(project.score_review_min_gold),
        "flags": guidelines.project_counts(conn, project),
        "consents": terms.project_consents(conn, project),
        "terms_required": bool(project.terms_required),
    }

