"""REST API v1 for exposure and well-being: a worker's own exposure, opt-outs, time zone and
check-ins; reviewers' item tags; and a project's exposure figures for its staff.

Check-in answers belong to the worker: staff see counts, plus the answers a worker chose to
share with the project's staff (owners and managers), by pseudonym.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from handloom.labor import exposure, wellbeing
from handloom.web.api.routes import ERRORS, _worker_id, action
from handloom.web.deps import PrincipalDep, StoreDep
from handloom.web.policies import STAFF, authorize
from handloom.work import projects

router = APIRouter(prefix="/api/v1")

ProjectName = Annotated[str, Path(max_length=120)]
Category = Annotated[str, Field(min_length=1, max_length=exposure.MAX_CATEGORY_LENGTH)]


# ------------------------------------------------------------------ bodies
class OptOutsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opt_outs: list[Category] = Field(max_length=100, description=(
        "Every content category you refuse (the whole list: one you leave out is opted back "
        "into). Opting out never affects your score or access."))


class TimezoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(min_length=1, max_length=64, description=(
        "IANA time zone name (Europe/Berlin); your day, and with it the daily exposure "
        "limits, starts at midnight there."))


class CheckinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeling: int = Field(ge=1, le=5, description="How you are feeling: 1 very bad … 5 very good.")
    wants_support: bool = Field(False, description="Whether you would like the support contact.")
    note: str = Field("", max_length=wellbeing.MAX_NOTE, description="Anything you want to add.")
    shared: bool = Field(False, description="Share these answers with the project's staff "
                                            "(otherwise only you see them).")
    trigger: Literal["break", "limit", "self"] = "self"
    seconds: float | None = Field(None, ge=0, le=14400,
                                  description="Time spent on the check-in (work time).")


class TagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Category] = Field(max_length=50,
                                 description="Content categories of the project.")
    replace: bool = Field(True, description="Replace the item's tags (false: add to them).")


# ------------------------------------------------------------------ responses
class Amount(BaseModel):
    items: int
    minutes: float


class LimitOut(BaseModel):
    project: str
    title: str
    daily_items: int | None
    daily_minutes: int | None
    reached: bool
    items_left: int | None
    minutes_left: float | None


class CategoryOut(BaseModel):
    category: str
    opted_out: bool
    today: Amount
    week: Amount
    limits: list[LimitOut]


class BreakOut(BaseModel):
    project: str
    title: str
    after: int
    minutes: int
    in_a_row: int
    until: str | None


class MyExposure(BaseModel):
    worker_id: int
    timezone: str
    day_start: str
    resets_at: str
    week_start: str
    opt_outs: list[str]
    sensitive_today: int
    categories: list[CategoryOut]
    breaks: list[BreakOut]


class OptOutsOut(BaseModel):
    opt_outs: list[str]


class TimezoneOut(BaseModel):
    timezone: str


class CheckinOut(BaseModel):
    id: int
    support_resources: str


class CheckinAnswers(BaseModel):
    feeling: int | None = None
    wants_support: bool = False
    note: str = ""


class MyCheckin(BaseModel):
    id: int
    project: str
    title: str
    created_at: str
    trigger: str
    shared: bool
    feeling_label: str
    answers: CheckinAnswers


class TagOut(BaseModel):
    item_id: str
    tags: list[str]


class CategoryTotals(BaseModel):
    category: str
    tagged_items: int
    exposures: int
    minutes: float
    workers: int
    opted_out_workers: int
    daily_items: int | None
    daily_minutes: int | None


class ExposurePolicy(BaseModel):
    blur_sensitive: bool
    break_after_sensitive: int | None
    break_minutes: int
    interleave_after: int | None
    limits: dict[str, dict[str, int]]
    support_resources: str


class CheckinCounts(BaseModel):
    total: int
    shared: int
    workers: int
    by_trigger: dict[str, int]


class SharedCheckin(BaseModel):
    id: int
    worker: str
    created_at: str
    trigger: str
    feeling: int | None
    feeling_label: str
    wants_support: bool
    note: str


class ProjectExposure(BaseModel):
    project: str
    policy: ExposurePolicy
    categories: list[CategoryTotals]
    checkins: CheckinCounts
    shared_checkins: list[SharedCheckin] | None = Field(
        description="Check-ins workers chose to share (owners and managers only; null for "
                    "other roles).")


# ------------------------------------------------------------------ the worker's own
@router.get("/me/exposure", response_model=MyExposure, responses=ERRORS,
            tags=["exposure", "work"], openapi_extra=action("exposure.own"))
def my_exposure(principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """Your exposure today and this week per content category, against each project's daily
    limits, with your opt-outs, your time zone and any forced break now running."""
    authorize(principal, "exposure.own")
    with store.read() as conn:
        return exposure.worker_exposure(conn, _worker_id(principal))


@router.put("/me/opt-outs", response_model=OptOutsOut, responses=ERRORS,
            tags=["exposure", "work"], openapi_extra=action("exposure.settings"))
def set_my_opt_outs(body: OptOutsRequest, principal: PrincipalDep,
                    store: StoreDep) -> dict[str, Any]:
    """Set the content categories you refuse. Routing never offers you their items; your
    scores, gold rate, qualification and access stay exactly as they are."""
    authorize(principal, "exposure.settings")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        chosen = exposure.set_opt_outs(conn, worker_id, body.opt_outs,
                                       actor=f"worker:{worker_id}")
    return {"opt_outs": chosen}


@router.put("/me/timezone", response_model=TimezoneOut, responses=ERRORS,
            tags=["exposure", "work"], openapi_extra=action("exposure.settings"))
def set_my_timezone(body: TimezoneRequest, principal: PrincipalDep,
                    store: StoreDep) -> dict[str, Any]:
    """Set the time zone your day is counted in (daily limits reset at your midnight)."""
    authorize(principal, "exposure.settings")
    worker_id = _worker_id(principal)
    with store.write() as conn:
        zone = exposure.set_timezone(conn, worker_id, body.timezone,
                                     actor=f"worker:{worker_id}")
    return {"timezone": zone}


@router.post("/projects/{name}/checkins", status_code=201, response_model=CheckinOut,
             responses=ERRORS, tags=["exposure", "work"],
             openapi_extra=action("wellbeing.checkin"))
def check_in(name: ProjectName, body: CheckinRequest, principal: PrincipalDep,
             store: StoreDep) -> dict[str, Any]:
    """A well-being check-in. The answers are yours: staff see only that a check-in
    happened, unless you share it. Returns the project's support resources."""
    authorize(principal, "wellbeing.checkin")
    with store.write() as conn:
        project = projects.get_project(conn, name)
        checkin_id = wellbeing.check_in(
            conn, project, _worker_id(principal), feeling=body.feeling,
            wants_support=body.wants_support, note=body.note, shared=body.shared,
            trigger=body.trigger, seconds=body.seconds)
    return {"id": checkin_id, "support_resources": project.support_resources or ""}


@router.get("/me/checkins", response_model=list[MyCheckin], responses=ERRORS,
            tags=["exposure", "work"], openapi_extra=action("wellbeing.own"))
def my_checkins(principal: PrincipalDep, store: StoreDep) -> list[dict[str, Any]]:
    """Your own check-ins, newest first, with your answers."""
    authorize(principal, "wellbeing.own")
    with store.read() as conn:
        return wellbeing.for_worker(conn, _worker_id(principal))


# ------------------------------------------------------------------ staff
@router.post("/projects/{name}/items/{item_id:path}/tags", response_model=TagOut,
             responses=ERRORS, tags=["exposure"], openapi_extra=action("items.tag"))
def tag_item(name: ProjectName, item_id: str, body: TagRequest, principal: PrincipalDep,
             store: StoreDep) -> dict[str, Any]:
    """Set (or add to) an item's content tags; each must be one of the project's content
    categories. Routing applies them from the next lease on."""
    authorize(principal, "items.tag")
    with store.write() as conn:
        tags = exposure.tag_item(conn, projects.get_project(conn, name), item_id, body.tags,
                                 principal.actor, replace=body.replace)
    return {"item_id": item_id, "tags": tags}


@router.get("/projects/{name}/exposure", response_model=ProjectExposure, responses=ERRORS,
            tags=["exposure"], openapi_extra=action("exposure.read"))
def project_exposure(name: ProjectName, principal: PrincipalDep,
                     store: StoreDep) -> dict[str, Any]:
    """The project's exposure policy and what its workers have seen, per category (counts
    only), with check-in counts; owners and managers also get the check-ins workers chose to
    share with them, by pseudonym."""
    authorize(principal, "exposure.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        out = exposure.project_exposure(conn, project)
        out["checkins"] = wellbeing.project_counts(conn, project)
        out["shared_checkins"] = (wellbeing.shared_with_staff(conn, project)
                                  if principal.role in STAFF else None)
    return out
