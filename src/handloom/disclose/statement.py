"""What only a person can know about a project, stated up front for its disclosure records.

Everything else in a report or a Croissant file is measured from Handloom's own records.
These fields are the exceptions: the project's purpose and intended uses, the assumptions
its labels rest on, how the raw items were collected, the biases and gaps it knows of. The
report shows them as *stated*, never as measured, and says "not stated" where a field is
empty.

Stored on ``projects`` (``purpose``, ``downstream_use``, ``data_source``,
``known_limitations``, ``data_retention`` as columns from the first migration; the rest in
the ``disclosure`` JSON column, migration 0004). ``k`` is the smallest number of workers
any published figure may describe; it can be raised, never lowered below 5.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, update

from handloom import ledger
from handloom.errors import Invalid
from handloom.store.schema import projects

K_MIN = 5
TEXT_LIMIT = 20_000

# Column-backed statements (present since the first migration).
COLUMN_FIELDS = ("purpose", "downstream_use", "data_source", "known_limitations",
                 "data_retention")


class DisclosureSpec(BaseModel):
    """The ``[disclosure]`` table of a project spec: stated, not measured."""

    model_config = ConfigDict(extra="forbid")

    assumptions: str = Field(
        "", max_length=TEXT_LIMIT,
        description="What the labels are assumed to measure and represent "
                    "(EU AI Act Art. 10(2)(d)).")
    data_collection: str = Field(
        "", max_length=TEXT_LIMIT,
        description="How the raw items were collected, by whom, when, and with what consent "
                    "(Art. 10(2)(b); rai:dataCollection).")
    collection_type: str = Field(
        "", max_length=200,
        description="The kind of collection, in the RAI vocabulary's words: Web Scraping, "
                    "Web API, User-generated content data, Manual Human Curator, Surveys …")
    collection_timeframe: str = Field(
        "", max_length=100,
        description="When the raw items were collected, as an ISO 8601 interval "
                    "(e.g. 2024-01/2024-06); the annotation period is measured.")
    preprocessing: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Cleaning, filtering or other preparation before import "
                    "(Art. 10(2)(c); rai:dataPreprocessingProtocol).")
    missing_data: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Data known to be missing from the items (rai:dataCollectionMissingData).")
    biases: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Biases known or suspected in the items or the labels "
                    "(Art. 10(2)(f); rai:dataBiases).")
    bias_measures: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Measures taken to detect, prevent and mitigate those biases "
                    "(Art. 10(2)(g)).")
    data_gaps: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Gaps or shortcomings that keep the data from meeting its purpose, and "
                    "how they can be addressed (Art. 10(2)(h)).")
    use_cases: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Recommended and not-recommended uses (rai:dataUseCases).")
    social_impact: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Who the data and its models may affect, and how (rai:dataSocialImpact).")
    personal_information: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Personal or sensitive information the items contain, and how it was "
                    "handled (rai:personalSensitiveInformation).")
    maintenance_plan: str = Field(
        "", max_length=TEXT_LIMIT,
        description="Who maintains the dataset, how it is versioned and when it is "
                    "deprecated (rai:dataReleaseMaintenancePlan).")
    license: str = Field(
        "", max_length=500,
        description="The dataset's licence: an SPDX identifier or a URL.")
    citation: str = Field("", max_length=TEXT_LIMIT,
                          description="How to cite the dataset.")
    k: int = Field(K_MIN, ge=K_MIN, le=1000,
                   description="No published figure may describe fewer than k workers "
                               "(at least 5).")


STATED_FIELDS = tuple(f for f in DisclosureSpec.model_fields if f != "k")


def disclosure_of(project: Any) -> DisclosureSpec:
    """The project's stored disclosure statement (defaults where never stated)."""
    raw = getattr(project, "disclosure", None) or {}
    return DisclosureSpec.model_validate(raw)


def stated(project: Any) -> dict[str, Any]:
    """Every stated field of a project, column-backed ones included, as one mapping."""
    out: dict[str, Any] = {f: getattr(project, f) or "" for f in COLUMN_FIELDS}
    out.update(disclosure_of(project).model_dump())
    return out


def report_k(project: Any, requested: int | None = None) -> int:
    """The k a report or export uses: the project's k, raised by *requested* if that is
    higher; asking for a lower k is an error (k can only go up)."""
    base = disclosure_of(project).k
    if requested is None:
        return base
    if requested < base:
        raise Invalid(f"k={requested} is below this project's k ({base}); k can be raised, "
                      f"never lowered.", field="k")
    return requested


def update_statement(conn: Connection, project: Any, changes: dict[str, Any], *,
                     actor: str) -> dict[str, Any]:
    """Change stated fields (either kind) and record which changed, with the SHA-256 of
    each new text, on the ledger (``project.described``). Returns the whole statement."""
    from handloom.work.projects import DOWNSTREAM_USES

    unknown = set(changes) - set(COLUMN_FIELDS) - set(DisclosureSpec.model_fields)
    if unknown:
        raise Invalid(f"Unknown disclosure field {sorted(unknown)[0]!r}; the fields are "
                      f"{', '.join(COLUMN_FIELDS + tuple(DisclosureSpec.model_fields))}.",
                      field=sorted(unknown)[0])
    columns: dict[str, Any] = {}
    for name in COLUMN_FIELDS:
        if name in changes:
            value = changes[name]
            if not isinstance(value, str) or len(value) > TEXT_LIMIT:
                raise Invalid(f"{name} must be text of at most {TEXT_LIMIT} characters.",
                              field=name)
            if name == "downstream_use" and value not in DOWNSTREAM_USES:
                raise Invalid(f"downstream_use must be one of {', '.join(DOWNSTREAM_USES)}.",
                              field=name)
            columns[name] = value
    current = disclosure_of(project).model_dump()
    merged = {**current, **{k: v for k, v in changes.items() if k in DisclosureSpec.model_fields}}
    if "k" in changes and int(changes["k"]) < current["k"]:
        raise Invalid(f"k can be raised, never lowered (it is {current['k']}).", field="k")
    try:
        spec = DisclosureSpec.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"{loc}: {err['msg']}", field=loc) from exc
    values = {**columns, "disclosure": spec.model_dump()}
    conn.execute(update(projects).where(projects.c.id == project.id).values(**values))
    changed = {}
    for name, value in changes.items():
        text = str(value)
        changed[name] = (int(value) if name == "k"
                         else hashlib.sha256(text.encode()).hexdigest())
    ledger.append(conn, "project.described", actor=actor, project_id=project.id,
                  body={"project": project.id, "changed": changed})
    from handloom.work.projects import get_project

    return stated(get_project(conn, project.id))
