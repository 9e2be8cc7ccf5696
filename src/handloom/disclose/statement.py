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

# Every field a person states, in the order the statement is shown and edited.
FIELDS = (
    "purpose", "downstream_use", "data_source", "assumptions", "data_collection",
    "collection_type", "collection_timeframe", "preprocessing", "missing_data", "biases",
    "bias_measures", "data_gaps", "known_limitations", "use_cases", "social_impact",
    "personal_information", "data_retention", "maintenance_plan", "license", "citation", "k",
)
assert set(FIELDS) == set(COLUMN_FIELDS) | set(DisclosureSpec.model_fields)

# What each column-backed field asks for (the others carry theirs in DisclosureSpec).
_COLUMN_HELP = {
    "purpose": "What the labels are for, in plain words; workers read it before they start "
               "(EU AI Act Art. 10(2)(a): the design choices).",
    "downstream_use": "What the labels will be used for: training, evaluation, "
                      "safety_classifier, moderation, research or other.",
    "data_source": "Where the items come from and, for personal data, the purpose they were "
                   "first collected for (Art. 10(2)(b); rai:dataCollectionRawData).",
    "known_limitations": "What the labels cannot be trusted for "
                         "(rai:dataLimitations).",
    "data_retention": "How long the items and the answers are kept, and when they are "
                      "deleted; workers read it in the terms.",
}

# Where each stated field is published: the EU AI Act Article 10(2) point it answers in the
# report's checklist, and the Croissant (RAI vocabulary or schema.org) property it fills.
FEEDS: dict[str, tuple[str, ...]] = {
    "purpose": ("Art. 10(2)(a)", "rai:dataUseCases"),
    "downstream_use": ("Art. 10(2)(a)", "rai:dataUseCases"),
    "data_source": ("Art. 10(2)(b)", "rai:dataCollectionRawData"),
    "assumptions": ("Art. 10(2)(d)",),
    "data_collection": ("Art. 10(2)(b)", "rai:dataCollection"),
    "collection_type": ("Art. 10(2)(b)", "rai:dataCollectionType"),
    "collection_timeframe": ("Art. 10(2)(b)", "rai:dataCollectionTimeframe"),
    "preprocessing": ("Art. 10(2)(c)", "rai:dataPreprocessingProtocol"),
    "missing_data": ("Art. 10(2)(e)", "rai:dataCollectionMissingData"),
    "biases": ("Art. 10(2)(f)", "rai:dataBiases"),
    "bias_measures": ("Art. 10(2)(g)", "rai:dataBiases"),
    "data_gaps": ("Art. 10(2)(h)", "rai:dataLimitations"),
    "known_limitations": ("Art. 10(2)(h)", "rai:dataLimitations"),
    "use_cases": ("rai:dataUseCases",),
    "social_impact": ("rai:dataSocialImpact",),
    "personal_information": ("rai:personalSensitiveInformation",),
    "data_retention": ("rai:dataReleaseMaintenancePlan",),
    "maintenance_plan": ("rai:dataReleaseMaintenancePlan",),
    "license": ("sc:license",),
    "citation": ("cr:citeAs",),
    "k": ("every published figure (k-suppression)",),
}
assert set(FEEDS) == set(FIELDS)

# How each field is named on a page.
LABELS = {
    "purpose": "Purpose", "downstream_use": "Downstream use", "data_source": "Data source",
    "assumptions": "Assumptions", "data_collection": "Data collection",
    "collection_type": "Collection type", "collection_timeframe": "Collection timeframe",
    "preprocessing": "Preprocessing", "missing_data": "Missing data",
    "biases": "Known biases", "bias_measures": "Bias measures", "data_gaps": "Data gaps",
    "known_limitations": "Known limitations", "use_cases": "Use cases",
    "social_impact": "Social impact",
    "personal_information": "Personal and sensitive information",
    "data_retention": "Data retention", "maintenance_plan": "Maintenance plan",
    "license": "Licence", "citation": "Citation", "k": "k (smallest group in reports)",
}
assert set(LABELS) == set(FIELDS)


def help_for(name: str) -> str:
    """What a stated field asks for, as the forms and ``--help`` show it."""
    if name in _COLUMN_HELP:
        return _COLUMN_HELP[name]
    description = DisclosureSpec.model_fields[name].description
    return description or ""


def max_length(name: str) -> int:
    """The most characters a stated text field takes."""
    if name in COLUMN_FIELDS:
        return TEXT_LIMIT
    for rule in DisclosureSpec.model_fields[name].metadata:
        limit = getattr(rule, "max_length", None)
        if limit is not None:
            return int(limit)
    return TEXT_LIMIT


def disclosure_of(project: Any) -> DisclosureSpec:
    """The project's stored disclosure statement (defaults where never stated)."""
    raw = getattr(project, "disclosure", None) or {}
    return DisclosureSpec.model_validate(raw)


def stated(project: Any) -> dict[str, Any]:
    """Every stated field of a project, column-backed ones included, as one mapping."""
    out: dict[str, Any] = {f: getattr(project, f) or "" for f in COLUMN_FIELDS}
    out.update(disclosure_of(project).model_dump())
    return {name: out[name] for name in FIELDS}


def report_k(project: Any, requested: int | None = None, *, floor: int = K_MIN) -> int:
    """The k a report or export uses: the larger of the project's k and the workspace's
    *floor* (its ``k_anonymity`` setting), raised by *requested* if that is higher; asking
    for a lower k is an error (k can only go up)."""
    base = max(disclosure_of(project).k, floor)
    if requested is None:
        return base
    if requested < base:
        raise Invalid(f"k={requested} is below this project's k ({base}); k can be raised, "
                      f"never lowered.", field="k")
    return requested


def k_for(conn: Connection, project: Any, requested: int | None = None) -> int:
    """:func:`report_k` with the workspace's floor, which the connection carries (see
    ``Store.k_floor``)."""
    floor = int(conn.get_execution_options().get("handloom_k_floor", K_MIN))
    return report_k(project, requested, floor=floor)


def _check_k(value: Any, current: int) -> int:
    """A new k: a whole number (or its digits, as the CLI gives them), never below the
    project's current k."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(f"k must be a whole number of workers, at least {current}.", field="k")
    try:
        k = int(value)
    except ValueError:
        raise Invalid(f"k must be a whole number of workers, not {value!r}.",
                      field="k") from None
    if k < current:
        raise Invalid(f"k can be raised, never lowered (it is {current}).", field="k")
    return k


def update_statement(conn: Connection, project: Any, changes: dict[str, Any], *,
                     actor: str) -> dict[str, Any]:
    """Change stated fields (either kind) and record which changed, with the SHA-256 of
    each new text, on the ledger (``project.described``). Returns the whole statement.

    Only fields whose value really changes are written and recorded; a change that alters
    nothing writes nothing (no ledger event)."""
    from handloom.work.projects import DOWNSTREAM_USES, get_project

    unknown = set(changes) - set(FIELDS)
    if unknown:
        first = sorted(unknown)[0]
        raise Invalid(f"Unknown disclosure field {first!r}; the fields are "
                      f"{', '.join(FIELDS)}.", field=first)
    before = stated(project)
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
    spec_changes = {k: v for k, v in changes.items() if k in DisclosureSpec.model_fields}
    if "k" in spec_changes:
        spec_changes["k"] = _check_k(spec_changes["k"], current["k"])
    for name, value in spec_changes.items():
        if name != "k" and not isinstance(value, str):
            raise Invalid(f"{name} must be text.", field=name)
    for name, value in {**columns, **spec_changes}.items():
        # PostgreSQL cannot store a NUL character in text.
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(f"{name} contains a NUL character (\\x00); remove it.", field=name)
    try:
        spec = DisclosureSpec.model_validate({**current, **spec_changes})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"{loc}: {err['msg']}", field=loc) from exc
    after = {**before, **columns, **spec.model_dump()}
    changed = {name: after[name] for name in FIELDS if after[name] != before[name]}
    if not changed:
        return before
    values = {**columns, "disclosure": spec.model_dump()}
    conn.execute(update(projects).where(projects.c.id == project.id).values(**values))
    recorded = {name: (int(value) if name == "k"
                       else hashlib.sha256(str(value).encode()).hexdigest())
                for name, value in changed.items()}
    ledger.append(conn, "project.described", actor=actor, project_id=project.id,
                  body={"project": project.id, "changed": recorded})
    return stated(get_project(conn, project.id))
