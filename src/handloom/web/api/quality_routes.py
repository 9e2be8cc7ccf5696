"""REST API v1 for quality: aggregate a project, read its agreement, its workers' scores,
and (for a worker) how they are judged."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Query

from handloom.disclose.privacy import pseudonym
from handloom.quality.agreement import Level, Metric
from handloom.web.api import schemas as s
from handloom.web.api.routes import ERRORS, _worker_id, action
from handloom.web.deps import PrincipalDep, StoreDep
from handloom.web.policies import authorize
from handloom.work import projects, quality

router = APIRouter(prefix="/api/v1", tags=["quality"])


@router.post("/projects/{name}/aggregate", response_model=s.AggregationOut, responses=ERRORS,
             openapi_extra=action("quality.aggregate"))
def aggregate(name: str, body: s.AggregateRequest, principal: PrincipalDep,
              store: StoreDep) -> dict[str, Any]:
    """Run the project's truth inference (or *method*) over every counted answer: store each
    item's aggregate and confidence, update the review queue and the workers' scores, and
    record a ``quality.aggregated`` ledger event (nothing is stored with ``dry_run``)."""
    authorize(principal, "quality.aggregate")
    with store.write() as conn:
        run = quality.aggregate_project(conn, projects.get_project(conn, name),
                                        method=body.method, apply=not body.dry_run,
                                        actor=principal.actor)
    return {**run.to_dict(), "stored": not body.dry_run}


@router.get("/projects/{name}/agreement", response_model=s.AgreementOut, responses=ERRORS,
            openapi_extra=action("quality.read"))
def project_agreement(name: str, principal: PrincipalDep, store: StoreDep,
                      metric: Metric = "alpha", level: Level = "nominal",
                      ci: bool = False,
                      n_boot: int = Query(1000, ge=100, le=10000)) -> dict[str, Any]:
    """Agreement between the project's workers over its non-gold items, optionally with a
    95% bootstrap interval (items resampled)."""
    authorize(principal, "quality.read")
    with store.read() as conn:
        result = quality.project_agreement(conn, projects.get_project(conn, name),
                                           metric=metric, level=level, ci=ci, n_boot=n_boot)
    value = None if math.isnan(result.value) else result.value
    return {"metric": metric, "level": level if metric == "alpha" else "nominal",
            "value": value, "low": result.low, "high": result.high,
            "n_items": result.n_items, "n_workers": result.n_workers,
            "n_values": result.n_values}


@router.get("/projects/{name}/quality", response_model=s.QualityOut, responses=ERRORS,
            openapi_extra=action("quality.read"))
def project_quality(name: str, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """The project's quality settings, aggregate confidence, review backlog and every
    worker's scores (by per-project pseudonym)."""
    authorize(principal, "quality.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        state = quality.aggregate_state(conn, project)
        scores = quality.worker_scores(conn, project)
    workers = [{**{k: v for k, v in row.items() if k != "worker_id"},
                "worker": pseudonym(project.pseudonym_secret, row["worker_id"])}
               for row in scores]
    return {"method": project.aggregation_method, "review_below": project.review_threshold,
            "max_overlap": project.max_overlap,
            "qualification_size": project.qualification_size,
            "qualification_pass": project.qualification_pass,
            "aggregated_items": state.aggregated, "mean_confidence": state.mean_confidence,
            "waiting_for_review": state.waiting, "workers": workers}


@router.get("/projects/{name}/my-score", response_model=s.MyScore, responses=ERRORS,
            openapi_extra=action("work.own"))
def my_score(name: str, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """How the calling worker is judged in this project: gold accuracy, agreement with the
    aggregate, estimated skill, and the qualification test."""
    authorize(principal, "work.own")
    with store.read() as conn:
        return quality.worker_score(conn, projects.get_project(conn, name),
                                    _worker_id(principal))
