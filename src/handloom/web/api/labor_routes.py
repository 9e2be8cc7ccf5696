"""REST API v1 for the workers' recourse and voice: rejecting answers, appeals, reviews of
workers, guideline flags, and terms with consent.

Workers act on their own records only; staff see workers by per-project pseudonym. An
appeal's statement reaches the people who decide it (owners, managers, reviewers), never
auditors or other workers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from handloom.errors import Invalid, NotFound
from handloom.labor import appeals, demographics, guidelines, standing, terms
from handloom.store.schema import projects
from handloom.web.api.routes import ERRORS, _worker_id, action
from handloom.web.deps import PrincipalDep, StoreDep
from handloom.web.policies import authorize
from handloom.work import review, views
from handloom.work.accounts import Principal

router = APIRouter(prefix="/api/v1")

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
ProjectName = Annotated[str, Path(max_length=120)]


# ------------------------------------------------------------------ bodies
class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=5000,
                        description="Why the answer is rejected; the worker sees it.")
    fraud: bool = Field(False, description="The reviewer confirms fraud: rejected work then "
                                           "goes unpaid (what it earned is clawed back).")


class AppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_type: Literal["rejection", "gold_failure", "score", "removal"]
    subject_id: int | None = Field(None, ge=1, le=2**63 - 1, description=(
        "The answer's id (rejection, gold_failure), the worker review's id (removal); "
        "empty for a score."))
    statement: str = Field(min_length=1, max_length=5000,
                           description="Why the decision is wrong, in your words.")
    active_seconds: float | None = Field(None, ge=0, le=14400,
                                         description="Time spent on the appeal (paid work).")


class DecideAppeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uphold: bool = Field(description="True restores what the decision took; false denies.")
    reason: str = Field(min_length=1, max_length=5000, description="Shown to the worker.")


class OpenReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker: str | None = Field(None, min_length=1, max_length=200,
                               description="The worker's pseudonym in this project, or ref.")
    worker_id: int | None = Field(None, ge=1, le=2**63 - 1)


class DecideReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remove: bool = Field(description="True removes the worker from the project; false keeps.")
    reason: str = Field(min_length=1, max_length=5000, description="Shown to the worker.")


class FlagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["unclear", "out_of_scope"] = "unclear"
    note: str = Field(min_length=1, max_length=5000)
    item_id: str | None = Field(None, max_length=300)


class FlagAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=20000)


# ------------------------------------------------------------------ helpers
def _project(conn: Connection, name: str) -> Any:
    """The project row; an unknown name is a plain 404 (naming no other project)."""
    row = conn.execute(select(projects).where(projects.c.name == name)).first()
    if row is None:
        raise NotFound(f"No project {name!r}.")
    return row


def _visible(conn: Connection, principal: Principal, name: str) -> Any:
    """The project, when the caller may see it: staff always, workers when it is open to
    them (a worker learns nothing about the others)."""
    if principal.role == "worker":
        views.open_project_card(conn, _worker_id(principal), name)
    return _project(conn, name)


# ------------------------------------------------------------------ rejecting answers
@router.post("/projects/{name}/annotations/{annotation_id}/reject", responses=ERRORS,
             tags=["appeals"], openapi_extra=action("annotation.reject"))
def reject_answer(name: ProjectName, annotation_id: Id, body: RejectRequest,
                  principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Reject one answer with a reason the worker sees. It stays paid unless ``fraud`` is
    confirmed (or the project does not pay rejected work); the worker may appeal."""
    authorize(principal, "annotation.reject")
    with store.write() as conn:
        return review.reject_answer(conn, _project(conn, name), annotation_id,
                                    principal.user_id, body.reason, fraud=body.fraud,
                                    actor=principal.actor)


# ------------------------------------------------------------------ appeals
@router.post("/projects/{name}/appeals", status_code=201, responses=ERRORS, tags=["appeals"],
             openapi_extra=action("appeal.file"))
def file_appeal(name: ProjectName, body: AppealRequest, principal: PrincipalDep,
                store: StoreDep) -> dict[str, Any]:
    """Appeal a rejected answer, a gold answer scored wrong, your score, or your removal.
    The decision is due within the project's appeal deadline."""
    authorize(principal, "appeal.file")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        appeal_id = appeals.file(conn, _project(conn, name), worker_id, body.subject_type,
                                 body.subject_id, body.statement,
                                 active_seconds=body.active_seconds)
        return next(a for a in appeals.for_worker(conn, worker_id) if a["id"] == appeal_id)


@router.get("/projects/{name}/appealable", responses=ERRORS, tags=["appeals"],
            openapi_extra=action("appeal.own"))
def appealable(name: ProjectName, principal: PrincipalDep,
               store: StoreDep) -> list[dict[str, Any]]:
    """The decisions about your work in this project that you may appeal."""
    authorize(principal, "appeal.own")
    with store.read() as conn:
        return appeals.appealable(conn, _worker_id(principal), project=_project(conn, name))


@router.get("/me/appeals", responses=ERRORS, tags=["appeals"],
            openapi_extra=action("appeal.own"))
def my_appeals(principal: PrincipalDep, store: StoreDep) -> list[dict[str, Any]]:
    """Your appeals: status, due date, and the decision with its reason."""
    authorize(principal, "appeal.own")
    with store.read() as conn:
        return appeals.for_worker(conn, _worker_id(principal))


@router.get("/appeals", responses=ERRORS, tags=["appeals"], openapi_extra=action("appeal.list"))
def list_appeals(principal: PrincipalDep, store: StoreDep,
                 project: Annotated[str | None, Query(max_length=120)] = None,
                 status: Literal["open", "overdue", "upheld", "denied", "decided",
                                 "all"] = "open") -> list[dict[str, Any]]:
    """Appeals for the people who decide them, overdue first; ``may_decide`` is false where
    you made the contested decision."""
    authorize(principal, "appeal.list")
    with store.read() as conn:
        row = _project(conn, project) if project else None
        return appeals.queue(conn, project=row, status=status,
                             decider_user_id=principal.user_id)


@router.get("/appeals/{appeal_id}", responses=ERRORS, tags=["appeals"],
            openapi_extra=action("appeal.list"))
def show_appeal(appeal_id: Id, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    authorize(principal, "appeal.list")
    with store.read() as conn:
        return appeals.get(conn, appeal_id, decider_user_id=principal.user_id)


@router.post("/appeals/{appeal_id}/decide", responses=ERRORS, tags=["appeals"],
             openapi_extra=action("appeal.decide"))
def decide_appeal(appeal_id: Id, body: DecideAppeal, principal: PrincipalDep,
                  store: StoreDep) -> dict[str, Any]:
    """Uphold (restoring pay, score or access) or deny, with a reason the worker sees. Not
    for the person who made the contested decision."""
    authorize(principal, "appeal.decide")
    with store.write() as conn:
        found = appeals.get(conn, appeal_id)
        project = _project(conn, found["project"])
        appeals.decide(conn, project, appeal_id, principal.user_id, uphold=body.uphold,
                       reason=body.reason, actor=principal.actor)
        return appeals.get(conn, appeal_id, decider_user_id=principal.user_id)


# ------------------------------------------------------------------ reviews of workers
@router.get("/projects/{name}/worker-reviews", responses=ERRORS, tags=["appeals"],
            openapi_extra=action("worker_review.read"))
def list_worker_reviews(name: ProjectName, principal: PrincipalDep, store: StoreDep,
                        status: Literal["open", "kept", "removed", "reinstated"] | None = None
                        ) -> list[dict[str, Any]]:
    """Reviews of the project's workers (by pseudonym), open ones first."""
    authorize(principal, "worker_review.read")
    with store.read() as conn:
        return standing.list_reviews(conn, _project(conn, name), status=status)


@router.post("/projects/{name}/worker-reviews", status_code=201, responses=ERRORS,
             tags=["appeals"], openapi_extra=action("worker_review.open"))
def open_worker_review(name: ProjectName, body: OpenReview, principal: PrincipalDep,
                       store: StoreDep) -> dict[str, Any]:
    """Open a review of a worker by hand (it changes nothing until a person decides)."""
    authorize(principal, "worker_review.open")
    if (body.worker is None) == (body.worker_id is None):
        raise Invalid("Give the worker (pseudonym or ref) or worker_id, one of the two.",
                      field="worker")
    with store.write() as conn:
        project = _project(conn, name)
        worker_id = (body.worker_id if body.worker_id is not None
                     else standing.find_worker(conn, project, str(body.worker)))
        review_id = standing.open_review(conn, project, worker_id, trigger="manual",
                                         opened_by=principal.user_id, actor=principal.actor)
        return next(r for r in standing.list_reviews(conn, project) if r["id"] == review_id)


@router.post("/projects/{name}/worker-reviews/{review_id}/decide", responses=ERRORS,
             tags=["appeals"], openapi_extra=action("worker_review.decide"))
def decide_worker_review(name: ProjectName, review_id: Id, body: DecideReview,
                         principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Keep the worker, or remove them from the project, with a reason they see."""
    authorize(principal, "worker_review.decide")
    with store.write() as conn:
        return standing.decide(conn, _project(conn, name), review_id, remove=body.remove,
                               reason=body.reason, decider_user_id=principal.user_id,
                               actor=principal.actor)


# ------------------------------------------------------------------ guideline flags
@router.get("/projects/{name}/flags", responses=ERRORS, tags=["voice"],
            openapi_extra=action("flags.read"))
def list_flags(name: ProjectName, principal: PrincipalDep,
               store: StoreDep) -> list[dict[str, Any]]:
    """The project's flags: for a worker, open ones first with whether they are yours or you
    support them; for staff, newest first. Never who raised them."""
    authorize(principal, "flags.read")
    with store.read() as conn:
        project = _visible(conn, principal, name)
        if principal.role == "worker":
            return guidelines.flags_for_worker_in(conn, project, _worker_id(principal))
        return guidelines.list_flags(conn, project.id, limit=500)


@router.post("/projects/{name}/flags", status_code=201, responses=ERRORS, tags=["voice"],
             openapi_extra=action("flags.raise"))
def raise_flag(name: ProjectName, body: FlagRequest, principal: PrincipalDep,
               store: StoreDep) -> dict[str, Any]:
    """Flag the instructions as unclear, or an item as out of scope. Other workers of the
    project see the note (not who wrote it) and can add their +1."""
    authorize(principal, "flags.raise")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        project = _visible(conn, principal, name)
        issue = guidelines.flag(conn, project, worker_id, kind=body.kind, note=body.note,
                                item_external_id=body.item_id)
        return next(f for f in guidelines.flags_for_worker_in(conn, project, worker_id)
                    if f["id"] == issue)


@router.post("/projects/{name}/flags/{issue_id}/support", responses=ERRORS, tags=["voice"],
             openapi_extra=action("flags.support"))
def support_flag(name: ProjectName, issue_id: Id, principal: PrincipalDep,
                 store: StoreDep) -> dict[str, Any]:
    """Add your +1 to an open flag (once; a second +1 changes nothing)."""
    authorize(principal, "flags.support")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        return guidelines.support(conn, _visible(conn, principal, name), issue_id, worker_id)


@router.post("/projects/{name}/flags/{issue_id}/answer", responses=ERRORS, tags=["voice"],
             openapi_extra=action("flags.answer"))
def answer_flag(name: ProjectName, issue_id: Id, body: FlagAnswer, principal: PrincipalDep,
                store: StoreDep) -> dict[str, Any]:
    """Answer a flag in words; the workers see the answer."""
    authorize(principal, "flags.answer")
    with store.write() as conn:
        project = _project(conn, name)
        guidelines.answer(conn, project, issue_id, body.answer, principal.user_id,
                          principal.actor)
        return guidelines.list_flags(conn, project.id, issue_id=issue_id)[0]


# ------------------------------------------------------------------ terms and consent
@router.get("/projects/{name}/terms", responses=ERRORS, tags=["voice"],
            openapi_extra=action("terms.read"))
def get_terms(name: ProjectName, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """The project's terms (pay, expected time, content warnings, data use, retention,
    appeals, support) and their hash; for a worker, also their consent."""
    authorize(principal, "terms.read")
    with store.read() as conn:
        project = _visible(conn, principal, name)
        if principal.role == "worker":
            return terms.status(conn, project, _worker_id(principal))
        shown = terms.terms_for(project)
        return {"project": project.name, "title": project.title,
                "required": bool(project.terms_required), "terms": shown,
                "terms_hash": terms.terms_hash(shown),
                "consents": terms.project_consents(conn, project)}


@router.post("/projects/{name}/terms/consent", responses=ERRORS, tags=["voice"],
             openapi_extra=action("terms.consent"))
def give_consent(name: ProjectName, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Consent to the project's current terms (again after they changed)."""
    authorize(principal, "terms.consent")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        project = _visible(conn, principal, name)
        terms.consent(conn, project, worker_id)
        return terms.status(conn, project, worker_id)


@router.post("/projects/{name}/terms/withdraw", responses=ERRORS, tags=["voice"],
             openapi_extra=action("terms.consent"))
def withdraw_consent(name: ProjectName, principal: PrincipalDep,
                     store: StoreDep) -> dict[str, Any]:
    """Withdraw your consent: your open leases go back, paid work stays paid, your score is
    untouched, and the project gives you no more work until you consent again."""
    authorize(principal, "terms.consent")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        outcome = terms.withdraw(conn, _project(conn, name), worker_id)
    return outcome


@router.get("/me/consents", responses=ERRORS, tags=["voice"],
            openapi_extra=action("work.own"))
def my_consents(principal: PrincipalDep, store: StoreDep) -> list[dict[str, Any]]:
    """Every consent you gave, whether it is current, and when you withdrew it."""
    authorize(principal, "work.own")
    with store.read() as conn:
        return terms.consents_for_worker(conn, _worker_id(principal))



# -- disclosure: a worker's own self-reported demographics (always optional) --
AgeBand = Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
Gender = Literal["woman", "man", "non_binary", "another_gender"]
Education = Literal["secondary_or_less", "some_tertiary", "bachelors", "postgraduate"]


class DemographicsIn(BaseModel):
    """What you choose to say about yourself; leave a field out (or null) for "prefer not
    to say". The whole set is replaced: a field you leave out is no longer given."""

    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand | None = None
    gender: Gender | None = None
    education: Education | None = None
    first_language: str | None = Field(None, min_length=2, max_length=2, description=(
        "Your first language as an ISO 639-1 code (two letters, e.g. en, sw, hi)."))


class MyDemographics(BaseModel):
    given: dict[str, str] = Field(description="The fields you gave, with your answers.")
    fields: dict[str, list[str] | None] = Field(description=(
        "Every field you may give and its values (null: an ISO 639-1 language code)."))
    how_used: str = Field(description="How the answers are used.")
    erased: list[str] = Field([], description="The fields just erased (DELETE only).")


def _mine(given: dict[str, str], erased: list[str] | None = None) -> MyDemographics:
    return MyDemographics(
        given=given, how_used=demographics.HOW_USED, erased=erased or [],
        fields={n: None if v is None else list(v) for n, v in demographics.FIELDS.items()})


@router.get("/me/demographics", response_model=MyDemographics, responses=ERRORS,
            tags=["people"], openapi_extra=action("demographics.own"))
def my_demographics(principal: PrincipalDep, store: StoreDep) -> MyDemographics:
    """What you have chosen to say about yourself (only the fields you gave). Nobody else
    sees it one worker at a time; reports count it in groups of at least k workers."""
    authorize(principal, "demographics.own")
    with store.read() as conn:
        return _mine(demographics.demographics_of(conn, _worker_id(principal)))


@router.put("/me/demographics", response_model=MyDemographics, responses=ERRORS,
            tags=["people"], openapi_extra=action("demographics.own"))
def set_my_demographics(body: DemographicsIn, principal: PrincipalDep,
                        store: StoreDep) -> MyDemographics:
    """Give, change or withdraw your answers (the whole set: a field left out is no longer
    given). The ledger records which fields you gave, never your answers."""
    authorize(principal, "demographics.own")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        given = demographics.set_demographics(conn, worker_id, body.model_dump(),
                                              actor=f"worker:{worker_id}")
    return _mine(given)


@router.delete("/me/demographics", response_model=MyDemographics, responses=ERRORS,
               tags=["people"], openapi_extra=action("demographics.own"))
def erase_my_demographics(principal: PrincipalDep, store: StoreDep) -> MyDemographics:
    """Erase everything you gave about yourself."""
    authorize(principal, "demographics.own")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        erased = demographics.forget_demographics(conn, worker_id,
                                                  actor=f"worker:{worker_id}")
    return _mine({}, erased)
