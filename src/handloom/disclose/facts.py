"""The figures behind a transparency report and a Croissant file, read from the records.

``gather(conn, project, k=...)`` reads a project's raw tables (items, answers, pay events,
time entries, exposure events, appeals, flags, check-ins, reviews, consents, workers,
vendors, instruction versions, the ledger) inside one read transaction and returns a
:class:`Facts`: plain dataclasses, JSON-ready through :func:`to_dict`, which the report
(``report.py``), the scorecards (``scorecards.py``), the Hugging Face card (``hf.py``) and the
Croissant file (``croissant.py``) render. Nothing here is typed in by a person except
``Facts.stated``, which the renderers label as stated, not measured.

Privacy is enforced here, once, so no renderer can get it wrong:

- every figure that describes workers is a :class:`Cell` carrying how many distinct workers
  it describes; a cell describing fewer than ``k`` workers is published *suppressed* (its
  value and its worker count are both ``None``);
- groups (jurisdictions, vendors, role classes, demographic values) with fewer than ``k``
  workers are folded into "other", and "other" itself is suppressed if still below ``k``;
- distributions are :class:`Histogram` s whose bins each hold at least ``k`` workers (nice
  edges, adjacent bins merged), so no bar describes fewer than ``k`` people;
- no worker id, ref, username, e-mail or free text (appeal statements, check-in answers,
  flag notes, skip reasons, review notes) is ever read into a Facts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

Number = int | float


@dataclass(frozen=True)
class Cell:
    """One published figure and the number of distinct workers it describes.

    ``workers`` is None for figures that describe no worker (item counts, versions). A
    suppressed cell has ``value=None, workers=None, suppressed=True``.
    """

    value: Any
    workers: int | None = None
    suppressed: bool = False


@dataclass(frozen=True)
class Bin:
    lo: float  # inclusive
    hi: float  # exclusive, except the last bin's
    count: int  # workers in the bin, always >= k


@dataclass(frozen=True)
class Histogram:
    """A per-worker distribution whose every bin holds at least k workers."""

    unit: str  # e.g. "USD/h", "share", "items", "minutes"
    bins: list[Bin]
    n: Cell  # the workers it covers (suppressed when fewer than k: then bins == [])
    quartiles: Cell  # value: [p25, p50, p75] (suppressed below k)
    # Reference lines drawn over the distribution, e.g. floors: (label, value).
    marks: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Group:
    """A named group of workers (role class, vendor, jurisdiction, demographic value)."""

    name: str
    workers: Cell


@dataclass(frozen=True)
class Anchor:
    """The last ledger event the report covers: verify it with ``handloom ledger verify``."""

    seq: int
    hash: str
    at: str
    project_events: int  # ledger events of this project up to seq


@dataclass
class ProjectInfo:
    name: str
    title: str
    kind: str
    status: str
    created_at: str
    opened_at: str | None
    aggregation_method: str
    overlap: int
    max_overlap: int | None
    gold_rate: float
    labels: list[str]  # the kind's label set where it has one, else []
    content_categories: list[str]
    required_qualifications: list[str]


@dataclass
class Operation:
    """A preparation operation Handloom performed and recorded (import, annotation, review,
    aggregation, tagging, gold correction …), counted from the ledger."""

    name: str  # annotation | cleaning | enrichment | aggregation | review | import | tagging
    event: str  # the ledger event it is counted from
    count: int
    first_at: str | None
    last_at: str | None


@dataclass
class ImportRecord:
    at: str
    source: str  # file name only
    items: int
    gold: int
    sha256: str


@dataclass
class DatasetFacts:
    items: int
    gold_items: int
    qualification_items: int
    answered_items: int  # non-qualification items with at least one counted answer
    labeled_items: int  # items whose published label is not None
    answers: int  # counted (not rejected) answers on non-qualification items
    rejected_answers: int
    answers_per_item: dict[str, float]  # min, median, mean, max over answered items
    label_methods: dict[str, int]  # method -> items ("adjudicated", "ds", "majority" …)
    label_distribution: list[tuple[str, int]]  # published label summary -> items
    sensitivity: dict[str, int]  # content category -> items tagged
    first_import_at: str | None
    last_import_at: str | None
    first_answer_at: str | None
    last_answer_at: str | None
    imports: list[ImportRecord]
    operations: list[Operation]


@dataclass
class VendorRow:
    name: str  # vendor name, "direct" for workers hired without a vendor, or "other"
    chain: list[str]  # the vendor and its parents, nearest first (subcontracting layers)
    workers: Cell


@dataclass
class DemographicField:
    name: str  # the self-reported field, e.g. "age_band"
    given: Cell  # workers who chose to answer it
    values: list[Group]  # values with >= k workers, then "other"


@dataclass
class WorkforceFacts:
    workers: Cell  # distinct workers who answered at least one item
    consented: Cell  # workers with a live consent to the terms
    role_classes: list[Group]
    vendors: list[VendorRow]
    max_vendor_layers: int  # deepest subcontracting chain among published vendors
    jurisdictions: list[Group]  # >= k each, then "other"
    qualification_size: int
    qualification_pass: float
    qualification_taken: Cell
    qualification_passed: Cell
    demographics: list[DemographicField]
    demographics_given: Cell  # workers who gave at least one demographic field


@dataclass
class FloorRow:
    jurisdiction: str
    currency: str
    hourly: str  # money text, e.g. "7.25"
    hourly_minor: int
    source: str
    effective_date: str
    is_example: bool


@dataclass
class PayGroup:
    jurisdiction: str  # or "other"
    floor: str | None  # money text of the floor their pay is held to
    workers: Cell
    at_or_above: Cell  # share (0..1) of the group's workers at or above their floor
    median_hourly: Cell  # money text


@dataclass
class PayFacts:
    currency: str
    pay_model: str
    piece_rate: str | None
    hourly_rate: str | None
    pay_qualification_time: bool
    pay_rejected_work: bool
    floors: list[FloorRow]
    effective_hourly: Histogram  # per worker, in currency units per hour; marks = floors
    by_jurisdiction: list[PayGroup]
    at_or_above_floor: Cell  # share of all workers with a floor who are at or above it
    workers_without_floor: Cell
    total_paid: Cell  # money text of all pay events
    amounts: dict[str, Cell]  # pay event kind -> money text
    paid_hours: dict[str, Cell]  # reason -> hours, time that earned pay
    unpaid_hours: dict[str, Cell]  # reason -> hours, time that earned nothing
    top_ups_approved: Cell  # count
    top_ups_amount: Cell  # money text
    top_ups_pending: Cell  # count
    paid_share: Cell  # share of pay events (by amount) marked paid
    days_to_payment: Cell  # value: {"median": d, "p90": d} over paid events


@dataclass
class FlagRef:
    id: int
    kind: str  # unclear | out_of_scope
    raised_at: str
    supporters: Cell  # workers who raised or +1'd it


@dataclass
class VersionRow:
    version: int
    created_at: str
    change_note: str  # written by staff, not workers
    text_sha256: str
    words: int
    answers: int  # answers given under this version
    flags_answered: list[FlagRef]


@dataclass
class InstructionFacts:
    versions: list[VersionRow]
    flags_raised: Cell
    flags_answered: Cell
    flags_open: Cell


@dataclass
class AgreementRow:
    metric: str  # alpha | kappa
    value: Cell
    low: Cell  # bootstrap interval
    high: Cell
    items: int


@dataclass
class SliceRow:
    """Agreement of individual answers with the published label within a slice of items
    (a category) or of workers (a demographic group)."""

    dimension: str  # "label", "sensitivity", or a demographic field
    name: str
    items: int
    answers: int
    match_share: Cell  # share of answers equal to the published label


@dataclass
class QualityFacts:
    method: str
    agreement: AgreementRow | None
    gold_answers: Cell
    gold_accuracy: Histogram  # per worker, share correct (workers with gold answers)
    adjudicated_items: int
    review_decisions: int
    items_sent_to_review: int
    match_share: Cell  # DA3: share of counted answers equal to the item's published label
    unanimous_items: int  # answered items where every counted answer agrees
    contested_items: int  # answered items with at least two distinct answers
    mean_confidence: float | None
    by_category: list[SliceRow]
    by_group: list[SliceRow]
    soft_labels_published: bool  # exports carry the share of answers per distinct answer
    individual_answers_published: bool


@dataclass
class WellbeingFacts:
    categories: list[str]
    tagged_items: dict[str, int]
    blur: bool
    limits: dict[str, dict[str, int]]  # category -> {"items_per_day": n, "minutes_per_day": n}
    break_after_sensitive: int | None
    break_minutes: int
    interleave_after: int | None
    exposure_items: Histogram  # sensitive items seen per worker
    exposure_minutes: Histogram  # minutes on sensitive items per worker
    limit_days: Cell  # worker-days on which a daily limit was reached
    opt_outs: list[Group]  # category -> workers opted out (now)
    checkins: Cell  # count of check-ins
    checkins_by_trigger: dict[str, Cell]
    checkins_shared: Cell
    support_resources: str  # the project's own text


@dataclass
class AppealRow:
    subject_type: str
    filed: Cell
    upheld_share: Cell
    open: Cell
    median_days_to_decision: Cell


@dataclass
class VoiceFacts:
    appeals: list[AppealRow]
    appeals_total: Cell
    appeals_upheld_share: Cell
    appeals_overdue: Cell
    reviews_opened: Cell
    reviews_kept: Cell
    reviews_removed: Cell
    reviews_reinstated: Cell
    flags_median_days_to_answer: Cell


@dataclass
class AssistFacts:
    answers: int
    with_suggestion: Cell  # share of counted answers where a suggestion was shown
    override_rate: Cell  # share of those where the answer differs from the suggestion
    models: list[str]  # suggestion sources named by clients (suggestion["model"])
    model_only_labels: int  # published labels with no human answer behind them
    model_only_audited: int  # of those, confirmed by a person (adjudication)


@dataclass
class Facts:
    project: ProjectInfo
    k: int
    generated_at: str
    anchor: Anchor
    stated: dict[str, Any]  # disclose.statement.stated(project): shown as stated
    dataset: DatasetFacts
    workforce: WorkforceFacts
    pay: PayFacts
    instructions: InstructionFacts
    quality: QualityFacts
    wellbeing: WellbeingFacts
    voice: VoiceFacts
    assist: AssistFacts


def to_dict(facts: Facts) -> dict[str, Any]:
    """The facts as plain JSON-ready data (the API's report body)."""
    return dataclasses.asdict(facts)


def iter_cells(value: Any) -> list[Cell]:
    """Every Cell inside a Facts (or part of one), Histograms' hidden counts included as
    cells of their bins; used by the privacy tests."""
    found: list[Cell] = []
    if isinstance(value, Cell):
        found.append(value)
    elif isinstance(value, Bin):
        found.append(Cell(value.count, value.count))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found.extend(iter_cells(getattr(value, f.name)))
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(iter_cells(v))
    elif isinstance(value, list | tuple):
        for v in value:
            found.extend(iter_cells(v))
    return found
