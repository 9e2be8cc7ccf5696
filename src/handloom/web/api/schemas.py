"""Request and response bodies of the REST API (only the web layer imports these)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    hint: str | None = None


class Me(BaseModel):
    user_id: int
    username: str
    role: str
    worker_id: int | None


class ProjectSummary(BaseModel):
    name: str
    title: str
    kind: str
    status: str
    overlap: int
    items: int
    gold_items: int
    done: int
    in_progress: int
    waiting: int
    answers: int
    leased: int
    workers: int


class WorkerProjectCard(BaseModel):
    """What a worker sees of a project before starting: never other workers or totals."""

    name: str
    title: str
    kind: str
    purpose: str
    pay: dict[str, Any]
    content_categories: list[str]
    instructions_version: int


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["draft", "open", "paused", "closed"]


class InstructionsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200_000)
    change_note: str = Field("", max_length=5000)
    # Guideline flags of the project this version answers (marked answered in it).
    answers_issues: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field([], max_length=1000)


class Instructions(BaseModel):
    version: int
    text: str
    change_note: str = ""


class ItemsUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(min_length=1, max_length=100_000)
    source: str = Field("api upload", max_length=300)


class ImportOutcome(BaseModel):
    project: str
    imported: int
    gold: int
    sha256: str


class NextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LeaseItem(BaseModel):
    id: str
    payload: dict[str, Any]
    sensitivity: list[str]


class LeaseBody(BaseModel):
    assignment_id: int
    item: LeaseItem
    instruction_version: int
    leased_at: str
    expires_at: str
    resumed: bool
    # Set for a question of the project's qualification test.
    qualification: dict[str, int] | None = None


class NextResponse(BaseModel):
    assignment: LeaseBody | None
    reason: str | None = None


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: dict[str, Any]
    idempotency_key: str = Field(min_length=1, max_length=200)
    active_seconds: float | None = Field(None, ge=0, le=86400)
    suggestion: dict[str, Any] | None = None
    client_meta: dict[str, Any] = {}


class SubmitResponse(BaseModel):
    annotation_id: int
    assignment_id: int
    item_id: str
    replayed: bool
    submitted_at: str
    # Only for a qualification question: right or wrong, the expected answer, progress.
    feedback: dict[str, Any] | None = None


class AggregateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(None, description="Truth-inference method; default: the "
                                                 "project's own.")
    dry_run: bool = Field(False, description="Compute and report, store nothing.")


class AggregationOut(BaseModel):
    method: str
    params: dict[str, Any]
    items: int
    answers: int
    workers: int
    mean_confidence: float | None
    below_threshold: int
    queued: int
    unqueued: int
    stored: bool


class AgreementOut(BaseModel):
    metric: str
    level: str
    value: float | None
    low: float | None
    high: float | None
    n_items: int
    n_workers: int
    n_values: int


class WorkerQuality(BaseModel):
    worker: str  # per-project pseudonym
    gold_answered: int
    gold_correct: int
    gold_accuracy: float | None
    agreement: float | None
    agreement_answers: int
    skill: float | None


class QualityOut(BaseModel):
    method: str
    review_below: float
    max_overlap: int | None
    qualification_size: int
    qualification_pass: float
    aggregated_items: int
    mean_confidence: float | None
    waiting_for_review: int
    workers: list[WorkerQuality]


class MyScore(BaseModel):
    gold_answered: int
    gold_correct: int
    gold_accuracy: float | None
    agreement: float | None
    agreement_answers: int
    skill: float | None
    method: str | None
    updated_at: str | None
    qualification: dict[str, Any]


class SkipRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=2000)
    # Time spent on the item before skipping it: recorded as skipped (unpaid) work time.
    active_seconds: float | None = Field(None, ge=0, le=86400)


class Closed(BaseModel):
    assignment_id: int
    status: str


class WorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=200)
    role_class: str = "crowd"
    jurisdiction: str | None = Field(None, max_length=16)
    vendor: str | None = Field(None, max_length=200)
    qualifications: list[str] = []
    password: str | None = Field(None, min_length=8, max_length=200)


class WorkerOut(BaseModel):
    id: int
    ref: str
    role_class: str
    jurisdiction: str | None
    vendor: str | None
    qualifications: list[str]
    active: bool


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=120)
    name: str = Field("", max_length=120)


class TokenOut(BaseModel):
    username: str
    token: str


class LedgerStatus(BaseModel):
    ok: bool
    events: int
    head: str
    broken_at: int | None
    problem: str


class AnnotationOut(BaseModel):
    id: int
    item_id: str
    worker: str
    answer: dict[str, Any]
    instruction_version: int
    submitted_at: str
    active_seconds: float | None
    review_status: str


class OwnAssignment(BaseModel):
    assignment_id: int
    project: str
    item_id: str
    status: str
    leased_at: str
    expires_at: str
