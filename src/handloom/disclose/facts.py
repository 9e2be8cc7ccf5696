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
import hashlib
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.dataset import published_label
from handloom.errors import Invalid
from handloom.labor import floors as floor_table
from handloom.labor.earnings import collect, per_hour, worker_floor
from handloom.labor.exposure import zone_of
from handloom.store.db import as_utc, utcnow
from handloom.store.schema import annotations as answers
from handloom.store.schema import (
    appeals,
    consents,
    exposure_events,
    guideline_issues,
    guideline_supports,
    instruction_versions,
    items,
    ledger_events,
    pay_adjustments,
    pay_events,
    qualification_results,
    reviews,
    vendors,
    wellbeing_checkins,
    worker_reviews,
    workers,
)
from handloom.work.projects import from_minor_units, kind_of
from handloom.work.quality import aggregate_project, project_agreement

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
    # answers given under this version; None (suppressed) when fewer than k workers gave
    # them (with protect()'s secondary suppression across versions)
    answers: int | None
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
    answers: int | None  # None when the slice is suppressed (it describes < k workers)
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
    limits: dict[str, dict[str, int]]  # category -> {"daily_items": n, "daily_minutes": n}
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


# ====================================================================== privacy primitives
def cell(value: Any, workers: int | None, k: int) -> Cell:
    """A figure describing *workers* distinct workers, suppressed below *k*. A figure that
    describes no worker (``workers=None``, or a count of nobody) is published as is."""
    if workers is not None and 0 < workers < k:
        return Cell(None, None, True)
    return Cell(value, workers)


def _nice_step(span: float, target: int = 10) -> float:
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return float(m * power)
    return float(10 * power)


def histogram(values: list[float], k: int, *, unit: str,
              marks: list[tuple[str, float]] | None = None, target_bins: int = 10,
              step: float | None = None) -> Histogram:
    """One value per worker binned on round edges, adjacent bins merged until each holds at
    least *k* workers (a leftover tail joins the last bin). Edges are round numbers, never a
    worker's own value; below *k* workers nothing but the suppression is published."""
    n = len(values)
    if n < k:
        return Histogram(unit, [], Cell(None, None, True), Cell(None, None, True),
                         list(marks or []))
    arr = np.asarray(values, dtype=np.float64)
    lo_v, hi_v = float(arr.min()), float(arr.max())
    width = step or _nice_step(hi_v - lo_v, target_bins)
    start = math.floor(lo_v / width) * width
    count = max(1, math.floor((hi_v - start) / width) + 1)
    edges = [start + i * width for i in range(count + 1)]
    idx = np.clip(np.floor((arr - start) / width).astype(np.int64), 0, count - 1)
    counts = np.bincount(idx, minlength=count)
    merged: list[Bin] = []
    acc, acc_lo = 0, edges[0]
    for i in range(count):
        acc += int(counts[i])
        if acc >= k:
            merged.append(Bin(_round(acc_lo), _round(edges[i + 1]), acc))
            acc, acc_lo = 0, edges[i + 1]
    if acc:  # a tail of fewer than k joins the last full bin
        last = merged.pop()
        merged.append(Bin(last.lo, _round(edges[count]), last.count + acc))
    q = np.percentile(arr, [25, 50, 75])
    return Histogram(unit, merged, Cell(n, n), Cell([_round(float(x)) for x in q], n),
                     list(marks or []))


def _round(x: float) -> float:
    return float(round(x, 4))


def protect(rows: dict[str, set[int]], k: int, *, never_shown: frozenset[str] = frozenset()
            ) -> set[str]:
    """The rows of a table to suppress so that no published figure describes fewer than *k*
    workers, not even by subtraction: every row below *k* (primary suppression), then, while
    the suppressed rows together describe fewer than *k* workers, the smallest remaining row
    too (secondary suppression), so that a total minus the published rows never recovers a
    small group. Rows in *never_shown* (e.g. "not given") take part but are never shown."""
    hidden = {name for name, ids in rows.items() if len(ids) < k or name in never_shown}

    def union() -> set[int]:
        out: set[int] = set()
        for name in hidden:
            out |= rows[name]
        return out

    covered = union()
    while covered and len(covered) < k:
        rest = sorted((n for n in rows if n not in hidden), key=lambda n: (len(rows[n]), n))
        if not rest:
            break
        hidden.add(rest[0])
        covered = union()
    return hidden


def partition(members: dict[str, set[int]], k: int, *, other: str = "other",
              never_shown: frozenset[str] = frozenset()) -> list[tuple[str, set[int]]]:
    """Disjoint named groups of workers with at least *k* each (largest first), the
    suppressed ones (see :func:`protect`) folded into *other* (listed last)."""
    hidden = protect(members, k, never_shown=never_shown | {other})
    shown = [(name, ids) for name, ids in members.items() if name not in hidden]
    shown.sort(key=lambda kv: (-len(kv[1]), kv[0]))
    rest: set[int] = set()
    for name in hidden:
        rest |= members[name]
    if rest:
        shown.append((other, rest))
    return shown


def groups(members: dict[str, set[int]], k: int, *, other: str = "other",
           never_shown: frozenset[str] = frozenset()) -> list[Group]:
    """:func:`partition` as published groups; *other* is suppressed when still below *k*."""
    return [Group(name, cell(len(ids), len(ids), k))
            for name, ids in partition(members, k, other=other, never_shown=never_shown)]


def table(rows: dict[str, tuple[Any, set[int]]], k: int) -> dict[str, Cell]:
    """A table of figures (not necessarily disjoint groups of workers): each row's cell,
    with :func:`protect`'s primary and secondary suppression."""
    hidden = protect({name: ids for name, (_, ids) in rows.items()}, k)
    return {name: (Cell(None, None, True) if name in hidden else Cell(value, len(ids)))
            for name, (value, ids) in rows.items()}


# ====================================================================== gathering
def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class _Ctx:
    conn: Connection
    project: Any
    kind: Any
    k: int
    now: datetime
    workforce: set[int]  # workers with at least one answer in the project
    worker_rows: dict[int, Any]
    # item id -> published label answer (None: no label yet), method, confidence, counted n
    labels: dict[int, tuple[Any, str, float | None, int]]
    counted: list[Any]  # counted answers on non-gold, non-qualification items
    items: list[Any]  # every item: id, is_gold, is_qualification, sensitivity
    flags: list[Any]  # the project's guideline flags (never their notes)
    backers: dict[int, set[int]]  # flag id -> workers who raised or +1'd it


def published_labels(conn: Connection, project: Any
                     ) -> dict[int, tuple[Any, str, float | None, int]]:
    """Each item's published label, by the exports' own rule (:func:`published_label`).
    Value: (answer or None, method, confidence, counted answers)."""
    kind = kind_of(project)
    run = aggregate_project(conn, project, apply=False)
    counted: dict[int, list[Any]] = {}
    for r in conn.execute(
            select(answers.c.item_id, answers.c.answer)
            .where(answers.c.project_id == project.id,
                   answers.c.review_status != "rejected")
            .order_by(answers.c.id)):
        counted.setdefault(int(r.item_id), []).append(r.answer)
    out: dict[int, tuple[Any, str, float | None, int]] = {}
    for item in conn.execute(select(items.c.id, items.c.final_answer)
                             .where(items.c.project_id == project.id)):
        label = published_label(kind, run, int(item.id), item.final_answer,
                                counted.get(int(item.id), []))
        out[int(item.id)] = (label["answer"], label["method"],
                             label["confidence"] if label["answer"] is not None else None,
                             label["n_answers"])
    return out


def gather(conn: Connection, project: Any, *, k: int | None = None,
           now: datetime | None = None) -> Facts:
    """Read every figure a report or a dataset card publishes about *project*."""
    from handloom.disclose.statement import k_for, stated

    k = k_for(conn, project, k)
    now = now or utcnow()
    kind = kind_of(project)
    n_events, _ = ledger.head(conn)
    last = conn.execute(select(ledger_events).order_by(ledger_events.c.seq.desc())
                        .limit(1)).first()
    project_events = conn.execute(select(func.count()).select_from(ledger_events).where(
        ledger_events.c.project_id == project.id)).scalar_one()
    anchor = Anchor(int(last.seq) if last else 0, last.hash if last else ledger.GENESIS,
                    last.at if last else "", int(project_events))
    workforce = {int(w) for w in conn.execute(
        select(answers.c.worker_id).where(answers.c.project_id == project.id)
        .distinct()).scalars()}
    worker_rows = {int(r.id): r for r in conn.execute(
        select(workers.c.id, workers.c.role_class, workers.c.jurisdiction,
               workers.c.vendor_id, workers.c.demographics, workers.c.opt_outs,
               workers.c.timezone)
        .where(workers.c.id.in_(workforce)))} if workforce else {}
    counted = conn.execute(
        select(answers.c.id, answers.c.item_id, answers.c.worker_id,
               answers.c.answer, answers.c.suggestion, answers.c.submitted_at)
        .select_from(answers.join(items, items.c.id == answers.c.item_id))
        .where(answers.c.project_id == project.id,
               answers.c.review_status != "rejected",
               items.c.is_gold.is_(False), items.c.is_qualification.is_(False))
        .order_by(answers.c.id)).all()
    item_rows = list(conn.execute(select(items.c.id, items.c.is_gold, items.c.is_qualification,
                                         items.c.sensitivity)
                                  .where(items.c.project_id == project.id)))
    flags = list(conn.execute(select(guideline_issues.c.id, guideline_issues.c.kind,
                                     guideline_issues.c.created_at, guideline_issues.c.status,
                                     guideline_issues.c.resolved_in_version,
                                     guideline_issues.c.worker_id)
                              .where(guideline_issues.c.project_id == project.id)))
    backers: dict[int, set[int]] = {}
    for s in conn.execute(select(guideline_supports.c.issue_id, guideline_supports.c.worker_id)
                          .where(guideline_supports.c.issue_id.in_([i.id for i in flags]))):
        backers.setdefault(int(s.issue_id), set()).add(int(s.worker_id))
    for i in flags:
        if i.worker_id is not None:
            backers.setdefault(int(i.id), set()).add(int(i.worker_id))
    ctx = _Ctx(conn, project, kind, k, now, workforce, worker_rows,
               published_labels(conn, project), list(counted), item_rows, flags, backers)
    return Facts(
        project=_project_info(ctx),
        k=k,
        generated_at=now.isoformat(),
        anchor=anchor,
        stated=stated(project),
        dataset=_dataset(ctx),
        workforce=_workforce(ctx),
        pay=_pay(ctx),
        instructions=_instructions(ctx),
        quality=_quality(ctx),
        wellbeing=_wellbeing(ctx),
        voice=_voice(ctx),
        assist=_assist(ctx),
    )


def _project_info(ctx: _Ctx) -> ProjectInfo:
    p = ctx.project
    labels = ctx.kind.config.model_dump().get("labels") or []
    return ProjectInfo(
        name=p.name, title=p.title, kind=p.kind, status=p.status,
        created_at=_iso(p.created_at) or "", opened_at=_iso(p.opened_at),
        aggregation_method=p.aggregation_method, overlap=p.overlap, max_overlap=p.max_overlap,
        gold_rate=p.gold_rate, labels=[str(x) for x in labels],
        content_categories=list(p.content_categories or []),
        required_qualifications=list(p.required_qualifications or []))


NOT_GIVEN = "not given"

OPERATIONS: tuple[tuple[str, str], ...] = (
    ("import", "items.imported"),
    ("enrichment", "item.tagged"),
    ("enrichment", "item.overlap_extended"),
    ("cleaning", "annotation.rejected"),
    ("cleaning", "annotation.restored"),
    ("cleaning", "gold.corrected"),
    ("review", "review.queued"),
    ("review", "review.decided"),
    ("aggregation", "quality.aggregated"),
)


def _dataset(ctx: _Ctx) -> DatasetFacts:
    conn, pid, rows = ctx.conn, ctx.project.id, ctx.items
    plain = {int(r.id) for r in rows if not r.is_gold and not r.is_qualification}
    per_item: dict[int, int] = {}
    for a in ctx.counted:
        per_item[int(a.item_id)] = per_item.get(int(a.item_id), 0) + 1
    n_per = sorted(per_item.values())
    rejected = conn.execute(select(func.count()).select_from(answers).where(
        answers.c.project_id == pid, answers.c.review_status == "rejected")
    ).scalar_one()
    methods: dict[str, int] = {}
    dist: dict[str, int] = {}
    labeled = 0
    for item_id, (answer, method, _conf, _n) in ctx.labels.items():
        if item_id not in plain or answer is None:
            continue
        labeled += 1
        methods[method] = methods.get(method, 0) + 1
        summary = ctx.kind.summarize(answer)
        dist[summary] = dist.get(summary, 0) + 1
    sensitivity: dict[str, int] = {}
    for r in rows:
        for tag in r.sensitivity or []:
            sensitivity[tag] = sensitivity.get(tag, 0) + 1
    imports = []
    for ev in conn.execute(select(ledger_events.c.at, ledger_events.c.body).where(
            ledger_events.c.project_id == pid, ledger_events.c.event == "items.imported")
            .order_by(ledger_events.c.seq)):
        body = ev.body or {}
        imports.append(ImportRecord(ev.at, str(body.get("source", "")),
                                    int(body.get("items", 0)), int(body.get("gold", 0)),
                                    str(body.get("sha256", ""))))
    span = conn.execute(select(func.min(answers.c.submitted_at),
                               func.max(answers.c.submitted_at), func.count())
                        .where(answers.c.project_id == pid)).first()
    operations = []
    if span is not None and span[2]:
        operations.append(Operation("annotation", "answers", int(span[2]), _iso(span[0]),
                                    _iso(span[1])))
    for name, event in OPERATIONS:
        got = conn.execute(select(func.count(), func.min(ledger_events.c.at),
                                  func.max(ledger_events.c.at))
                           .where(ledger_events.c.project_id == pid,
                                  ledger_events.c.event == event)).first()
        if got is not None and got[0]:
            operations.append(Operation(name, event, int(got[0]), got[1], got[2]))
    operations.sort(key=lambda o: (o.first_at or "", o.event))
    return DatasetFacts(
        items=len(rows), gold_items=sum(1 for r in rows if r.is_gold),
        qualification_items=sum(1 for r in rows if r.is_qualification),
        answered_items=len(per_item), labeled_items=labeled, answers=len(ctx.counted),
        rejected_answers=int(rejected),
        answers_per_item=({"min": float(n_per[0]), "median": float(statistics.median(n_per)),
                           "mean": round(sum(n_per) / len(n_per), 3), "max": float(n_per[-1])}
                          if n_per else {}),
        label_methods=dict(sorted(methods.items())),
        label_distribution=sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))[:30],
        sensitivity=dict(sorted(sensitivity.items())),
        first_import_at=imports[0].at if imports else None,
        last_import_at=imports[-1].at if imports else None,
        first_answer_at=_iso(span[0]) if span is not None else None,
        last_answer_at=_iso(span[1]) if span is not None else None,
        imports=imports, operations=operations)


def _workforce(ctx: _Ctx) -> WorkforceFacts:
    conn, k, wf = ctx.conn, ctx.k, ctx.workforce
    roles: dict[str, set[int]] = {}
    places: dict[str, set[int]] = {}
    by_vendor: dict[int | None, set[int]] = {}
    for wid, r in ctx.worker_rows.items():
        roles.setdefault(r.role_class, set()).add(wid)
        places.setdefault((r.jurisdiction or "not recorded").upper()
                          if r.jurisdiction else "not recorded", set()).add(wid)
        by_vendor.setdefault(r.vendor_id, set()).add(wid)
    vendor_rows = {int(v.id): v for v in conn.execute(select(vendors))}

    def chain(vid: int) -> list[str]:
        names, seen, cur = [], set(), vid
        while cur is not None and cur in vendor_rows and cur not in seen:
            seen.add(cur)
            names.append(vendor_rows[cur].name)
            cur = vendor_rows[cur].parent_id
        return names

    keyed = {f"v{vid}" if vid is not None else "direct": ids
             for vid, ids in by_vendor.items()}
    vrows: list[VendorRow] = []
    for key, ids in partition(keyed, k):
        if key == "other":
            vrows.append(VendorRow("other", [], cell(len(ids), len(ids), k)))
            continue
        names = chain(int(key[1:])) if key != "direct" else []
        vrows.append(VendorRow(names[0] if names else "direct", names,
                               Cell(len(ids), len(ids))))
    consented = {int(w) for w in conn.execute(
        select(consents.c.worker_id).where(consents.c.project_id == ctx.project.id,
                                           consents.c.withdrawn_at.is_(None))
        .distinct()).scalars()}
    quals = conn.execute(select(qualification_results.c.worker_id,
                                qualification_results.c.passed)
                         .where(qualification_results.c.project_id == ctx.project.id)).all()
    taken = {int(q.worker_id) for q in quals}
    passed = {int(q.worker_id) for q in quals if q.passed}
    fields: dict[str, dict[str, set[int]]] = {}
    given: dict[str, set[int]] = {}
    anyone: set[int] = set()
    for wid, r in ctx.worker_rows.items():
        for name, value in (r.demographics or {}).items():
            if value is None or value == "":
                continue
            anyone.add(wid)
            given.setdefault(name, set()).add(wid)
            fields.setdefault(name, {}).setdefault(str(value), set()).add(wid)
    demo = []
    for name, values in sorted(fields.items()):
        declined = set(wf) - given[name]
        rows = {**values, NOT_GIVEN: declined} if declined else dict(values)
        # Those who chose not to answer are a group too: it is never shown, and when it is
        # small, "given" would reveal its size, so "given" is withheld with it.
        shown = partition(rows, k, other="other or not given",
                          never_shown=frozenset({NOT_GIVEN}))
        given_ok = len(given[name]) >= k and (not declined or len(declined) >= k)
        demo.append(DemographicField(
            name, Cell(len(given[name]), len(given[name])) if given_ok else Cell(None, None, True),
            [Group(g, cell(len(ids), len(ids), k)) for g, ids in shown]))
    declined_any = set(wf) - anyone
    anyone_ok = len(anyone) >= k and (not declined_any or len(declined_any) >= k)
    return WorkforceFacts(
        workers=cell(len(wf), len(wf), k),
        consented=cell(len(consented), len(consented), k),
        role_classes=groups(roles, k), vendors=vrows,
        max_vendor_layers=max((len(v.chain) for v in vrows), default=0),
        jurisdictions=groups(places, k),
        qualification_size=int(ctx.project.qualification_size),
        qualification_pass=float(ctx.project.qualification_pass),
        qualification_taken=cell(len(taken), len(taken), k),
        qualification_passed=cell(len(passed), len(passed), k),
        demographics=demo,
        demographics_given=(Cell(len(anyone), len(anyone)) if anyone_ok
                            else Cell(None, None, True)))


def _units(minor: float, currency: str) -> float:
    return float(Decimal(from_minor_units(int(round(minor)), currency)))


def _pay(ctx: _Ctx) -> PayFacts:
    conn, k, p = ctx.conn, ctx.k, ctx.project
    cur = p.currency
    figures = collect(conn, project_id=p.id)
    jurisdiction_of = {int(r.id): r.jurisdiction for r in conn.execute(
        select(workers.c.id, workers.c.jurisdiction).where(
            workers.c.id.in_({w for _, w in figures})))} if figures else {}
    floors_used: dict[str, Any] = {}
    per_worker: list[tuple[int, float, int | None, str]] = []  # wid, hourly, floor, key
    for (_pid, wid), f in figures.items():
        hourly = per_hour(f.total, f.active_seconds)
        if hourly is None:
            continue
        floor = worker_floor(conn, p, jurisdiction_of.get(wid))
        key = floor.jurisdiction if floor is not None else "no floor"
        if floor is not None:
            floors_used[floor.jurisdiction] = floor
        per_worker.append((wid, hourly, floor.hourly_minor if floor else None, key))
    marks = sorted({(f"floor {j}", _units(fl.hourly_minor, cur))
                    for j, fl in floors_used.items()}, key=lambda m: m[1])
    dist = histogram([_units(h, cur) for _, h, _, _ in per_worker], k, unit=f"{cur}/h",
                     marks=marks)
    with_floor = [(w, h, fl) for w, h, fl, _ in per_worker if fl is not None]
    at_or_above = [w for w, h, fl in with_floor if fl is not None and h >= fl]
    members: dict[str, set[int]] = {}
    for w, _, _, key in per_worker:
        members.setdefault(key, set()).add(w)
    by_j: list[PayGroup] = []
    for key, ids in partition(members, k, never_shown=frozenset({"no floor"})):
        rows = [r for r in per_worker if r[0] in ids]
        floored = [r for r in rows if r[2] is not None]
        ok = sum(1 for r in floored if r[2] is not None and r[1] >= r[2])
        median = from_minor_units(int(round(statistics.median(r[1] for r in rows))), cur)
        by_j.append(PayGroup(
            key, from_minor_units(floors_used[key].hourly_minor, cur) if key != "other" else None,
            cell(len(ids), len(ids), k),
            cell(_share(ok, len(floored)), len(ids), k) if floored else cell(None, len(ids), k),
            cell(median, len(ids), k)))
    amounts: dict[str, int] = {}
    amount_workers: dict[str, set[int]] = {}
    paid_t: dict[str, tuple[Fraction, set[int]]] = {}
    unpaid_t: dict[str, tuple[Fraction, set[int]]] = {}
    for (_pid, wid), f in figures.items():
        for kind_name, amount in f.amounts.items():
            if amount:
                amounts[kind_name] = amounts.get(kind_name, 0) + amount
                amount_workers.setdefault(kind_name, set()).add(wid)
        for reason, secs in f.paid.items():
            if secs:
                s, ws = paid_t.get(reason, (Fraction(0), set()))
                paid_t[reason] = (s + secs, ws | {wid})
        for reason, secs in f.unpaid.items():
            if secs:
                s, ws = unpaid_t.get(reason, (Fraction(0), set()))
                unpaid_t[reason] = (s + secs, ws | {wid})
    payees = {w for _, w in figures}
    total = sum(f.total for f in figures.values())
    adj = conn.execute(select(pay_adjustments.c.status, pay_adjustments.c.worker_id,
                              pay_adjustments.c.amount_minor)
                       .where(pay_adjustments.c.project_id == p.id)).all()
    approved = [a for a in adj if a.status == "approved"]
    pending = [a for a in adj if a.status == "proposed"]
    approved_w = {int(a.worker_id) for a in approved}
    pending_w = {int(a.worker_id) for a in pending}
    events = conn.execute(select(pay_events.c.worker_id, pay_events.c.amount_minor,
                                 pay_events.c.created_at, pay_events.c.paid_at)
                          .where(pay_events.c.project_id == p.id)).all()
    positive = [e for e in events if e.amount_minor > 0]
    paid_events = [e for e in positive if e.paid_at is not None]
    paid_w = {int(e.worker_id) for e in paid_events}
    days = sorted((as_utc(e.paid_at) - as_utc(e.created_at)).total_seconds() / 86400
                  for e in paid_events)
    timing = ({"median": round(float(statistics.median(days)), 2),
               "p90": round(float(np.percentile(days, 90)), 2)} if days else None)
    positive_w = {int(e.worker_id) for e in positive}
    return PayFacts(
        currency=cur, pay_model=p.pay_model,
        piece_rate=(from_minor_units(p.piece_rate_minor, cur)
                    if p.piece_rate_minor is not None else None),
        hourly_rate=(from_minor_units(p.hourly_rate_minor, cur)
                     if p.hourly_rate_minor is not None else None),
        pay_qualification_time=bool(p.pay_qualification_time),
        pay_rejected_work=bool(p.pay_rejected_work),
        floors=[FloorRow(f.jurisdiction, f.currency, from_minor_units(f.hourly_minor, f.currency),
                         f.hourly_minor, f.source, str(f.effective_date), bool(f.is_example))
                for f in sorted(_project_floors(conn, p), key=lambda f: f.jurisdiction)],
        effective_hourly=dist, by_jurisdiction=by_j,
        at_or_above_floor=cell(_share(len(at_or_above), len(with_floor)), len(with_floor), k),
        workers_without_floor=cell(len(per_worker) - len(with_floor),
                                   len(per_worker) - len(with_floor), k)
        if len(per_worker) - len(with_floor) else Cell(0, 0),
        total_paid=cell(from_minor_units(total, cur), len(payees), k),
        amounts=table({kn: (from_minor_units(v, cur), amount_workers[kn])
                       for kn, v in sorted(amounts.items())}, k),
        paid_hours=table({r: (round(float(s) / 3600, 3), ws)
                          for r, (s, ws) in sorted(paid_t.items())}, k),
        unpaid_hours=table({r: (round(float(s) / 3600, 3), ws)
                            for r, (s, ws) in sorted(unpaid_t.items())}, k),
        top_ups_approved=cell(len(approved), len(approved_w), k) if approved else Cell(0, 0),
        top_ups_amount=(cell(from_minor_units(sum(a.amount_minor for a in approved), cur),
                             len(approved_w), k) if approved
                        else Cell(from_minor_units(0, cur), 0)),
        top_ups_pending=cell(len(pending), len(pending_w), k) if pending else Cell(0, 0),
        paid_share=cell(_share(sum(e.amount_minor for e in paid_events),
                               sum(e.amount_minor for e in positive)), len(positive_w), k)
        if positive else Cell(None, 0),
        days_to_payment=cell(timing, len(paid_w), k) if paid_events else Cell(None, 0))


def _project_floors(conn: Connection, project: Any) -> list[Any]:
    """The floors the project's pay is held to: its recruiting jurisdictions' and its
    workers' own, in the project's currency (latest in force)."""
    wanted = {j.upper() for j in (project.recruit_jurisdictions or [])}
    found = floor_table.floors_for(conn, sorted(wanted), project.currency)
    return [f for f in found.values() if f is not None]


def _instructions(ctx: _Ctx) -> InstructionFacts:
    conn, k, pid = ctx.conn, ctx.k, ctx.project.id
    per_version: dict[int, int] = dict(conn.execute(
        select(answers.c.instruction_version, func.count())
        .where(answers.c.project_id == pid)
        .group_by(answers.c.instruction_version)).all())
    version_workers: dict[str, set[int]] = {}
    for v_no, wid in conn.execute(
            select(answers.c.instruction_version, answers.c.worker_id)
            .where(answers.c.project_id == pid).distinct()):
        version_workers.setdefault(str(v_no), set()).add(int(wid))
    hidden_versions = protect(version_workers, k)
    issues, backers = ctx.flags, ctx.backers
    versions = []
    for v in conn.execute(select(instruction_versions).where(
            instruction_versions.c.project_id == pid).order_by(instruction_versions.c.version)):
        answered = [i for i in issues if i.resolved_in_version == v.version]
        refs = [FlagRef(int(i.id), i.kind, _iso(i.created_at) or "",
                        cell(len(backers.get(int(i.id), set())),
                             len(backers.get(int(i.id), set())), k))
                for i in sorted(answered, key=lambda i: i.id)]
        versions.append(VersionRow(
            int(v.version), _iso(v.created_at) or "", v.change_note or "",
            hashlib.sha256(v.text.encode()).hexdigest(), len(v.text.split()),
            None if str(v.version) in hidden_versions else int(per_version.get(v.version, 0)),
            refs))
    answered_i = [i for i in issues if i.status == "answered"]
    open_i = [i for i in issues if i.status != "answered"]

    def raised_by(rows: list[Any]) -> int:
        """The workers behind some flags: who raised them and who backed them (+1)."""
        ids: set[int] = set()
        for r in rows:
            ids |= backers.get(int(r.id), set())
        return len(ids)

    return InstructionFacts(
        versions=versions,
        flags_raised=cell(len(issues), raised_by(list(issues)), k) if issues else Cell(0, 0),
        flags_answered=(cell(len(answered_i), raised_by(answered_i), k) if answered_i
                        else Cell(0, 0)),
        flags_open=cell(len(open_i), raised_by(open_i), k) if open_i else Cell(0, 0))


def _same(kind: Any, a: Any, b: Any) -> bool:
    return bool(kind.answer_key(a) == kind.answer_key(b))


def _quality(ctx: _Ctx) -> QualityFacts:
    conn, k, p, kind = ctx.conn, ctx.k, ctx.project, ctx.kind
    agreement_row = None
    try:
        res = project_agreement(conn, p, metric="alpha", ci=True, n_boot=500)
    except Invalid:
        res = None
    if res is not None and res.n_items and not math.isnan(res.value):
        agreement_row = AgreementRow(
            "alpha", cell(round(res.value, 4), res.n_workers, k),
            cell(None if res.low is None else round(res.low, 4), res.n_workers, k),
            cell(None if res.high is None else round(res.high, 4), res.n_workers, k),
            res.n_items)
    gold: dict[int, list[bool]] = {}
    for r in conn.execute(select(answers.c.worker_id, answers.c.gold_correct)
                          .where(answers.c.project_id == p.id,
                                 answers.c.is_gold.is_(True),
                                 answers.c.gold_correct.isnot(None))):
        gold.setdefault(int(r.worker_id), []).append(bool(r.gold_correct))
    accuracy = [sum(v) / len(v) for v in gold.values()]
    n_gold = sum(len(v) for v in gold.values())
    adjudicated = conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == p.id, items.c.final_answer.isnot(None))).scalar_one()
    decisions = conn.execute(select(func.count()).select_from(reviews).where(
        reviews.c.project_id == p.id)).scalar_one()
    queued = conn.execute(select(func.count()).select_from(ledger_events).where(
        ledger_events.c.project_id == p.id, ledger_events.c.event == "review.queued")
    ).scalar_one()
    # DA3: individual answers against the published label
    match = 0
    compared = 0
    keys_by_item: dict[int, set[Any]] = {}
    workers_by_item: dict[int, set[int]] = {}
    slice_stats: dict[tuple[str, str], list[Any]] = {}  # (dim, name) -> [items, ans, match, ws]

    def bump(dim: str, name: str, item_id: int, wid: int, ok: bool) -> None:
        s = slice_stats.setdefault((dim, name), [set(), 0, 0, set()])
        s[0].add(item_id)
        s[1] += 1
        s[2] += int(ok)
        s[3].add(wid)

    sensitivity = {int(r.id): r.sensitivity for r in ctx.items}
    for a in ctx.counted:
        item_id, wid = int(a.item_id), int(a.worker_id)
        keys_by_item.setdefault(item_id, set()).add(kind.answer_key(a.answer))
        workers_by_item.setdefault(item_id, set()).add(wid)
        label = ctx.labels.get(item_id)
        if label is None or label[0] is None:
            continue
        ok = _same(kind, a.answer, label[0])
        compared += 1
        match += int(ok)
        bump("label", kind.summarize(label[0]), item_id, wid, ok)
        for tag in sensitivity.get(item_id) or []:
            bump("sensitivity", str(tag), item_id, wid, ok)
        demo = (ctx.worker_rows[wid].demographics or {}) if wid in ctx.worker_rows else {}
        for field_name, value in demo.items():
            if value not in (None, ""):
                bump(field_name, str(value), item_id, wid, ok)
    answered_workers = {int(a.worker_id) for a in ctx.counted}
    by_category: list[SliceRow] = []
    by_group: list[SliceRow] = []
    # Demographic groups are published only where the workforce's own partition of that
    # field (those who did not answer included) shows them; see protect().
    members: dict[str, dict[str, set[int]]] = {}
    for wid in ctx.workforce:
        demo = (ctx.worker_rows[wid].demographics or {}) if wid in ctx.worker_rows else {}
        for field_name in {f for r in ctx.worker_rows.values() for f in (r.demographics or {})}:
            value = demo.get(field_name)
            key = NOT_GIVEN if value in (None, "") else str(value)
            members.setdefault(field_name, {}).setdefault(key, set()).add(wid)
    hidden_groups = {name: protect(rows, k, never_shown=frozenset({NOT_GIVEN}))
                     for name, rows in members.items()}
    category_hidden = {
        dim: protect({n: st[3] for (d, n), st in slice_stats.items() if d == dim}, k)
        for dim in ("label", "sensitivity")}
    for (dim, name), (its, n_ans, n_match, ws) in sorted(slice_stats.items()):
        if dim in ("label", "sensitivity"):
            if name in category_hidden[dim]:
                by_category.append(SliceRow(dim, name, len(its), None, Cell(None, None, True)))
            else:
                by_category.append(SliceRow(dim, name, len(its), n_ans,
                                            Cell(_share(n_match, n_ans), len(ws))))
        elif len(ws) >= k and name not in hidden_groups.get(dim, set()):
            by_group.append(SliceRow(dim, name, len(its), n_ans,
                                     Cell(_share(n_match, n_ans), len(ws))))
    confidences = [c for item_id, (ans, _m, c, _n) in ctx.labels.items()
                   if ans is not None and c is not None and item_id in keys_by_item]
    return QualityFacts(
        method=p.aggregation_method, agreement=agreement_row,
        gold_answers=cell(n_gold, len(gold), k) if gold else Cell(0, 0),
        gold_accuracy=histogram(accuracy, k, unit="share", step=0.1),
        adjudicated_items=int(adjudicated), review_decisions=int(decisions),
        items_sent_to_review=int(queued),
        match_share=cell(_share(match, compared), len(answered_workers), k),
        unanimous_items=sum(1 for i, ks in keys_by_item.items()
                            if len(ks) == 1 and len(workers_by_item[i]) > 1),
        contested_items=sum(1 for ks in keys_by_item.values() if len(ks) > 1),
        mean_confidence=(round(sum(confidences) / len(confidences), 4)
                         if confidences else None),
        by_category=by_category, by_group=by_group,
        soft_labels_published=True, individual_answers_published=True)


def _wellbeing(ctx: _Ctx) -> WellbeingFacts:
    conn, k, p = ctx.conn, ctx.k, ctx.project
    tagged: dict[str, int] = {}
    for r in ctx.items:
        for tag in r.sensitivity or []:
            tagged[tag] = tagged.get(tag, 0) + 1
    events = conn.execute(select(exposure_events.c.worker_id, exposure_events.c.category,
                                 exposure_events.c.seconds, exposure_events.c.at)
                          .where(exposure_events.c.project_id == p.id)).all()
    seen: dict[int, int] = dict.fromkeys(ctx.workforce, 0)
    minutes: dict[int, float] = dict.fromkeys(ctx.workforce, 0.0)
    for e in events:
        seen[int(e.worker_id)] = seen.get(int(e.worker_id), 0) + 1
        minutes[int(e.worker_id)] = minutes.get(int(e.worker_id), 0.0) + float(e.seconds) / 60
    limits = {c: {kk: int(v) for kk, v in (lim or {}).items() if v is not None}
              for c, lim in (p.exposure_limits or {}).items()}
    zones = {wid: zone_of(r.timezone) for wid, r in ctx.worker_rows.items()}
    per_day: dict[tuple[int, str, str], list[float]] = {}
    for e in events:
        wid = int(e.worker_id)
        day = as_utc(e.at).astimezone(zones.get(wid) or zone_of(None)).date().isoformat()
        s = per_day.setdefault((wid, e.category, day), [0, 0.0])
        s[0] += 1
        s[1] += float(e.seconds) / 60
    hit_days = set()
    for (wid, category, day), (n_items, mins) in per_day.items():
        lim = limits.get(category) or {}
        if (("daily_items" in lim and n_items >= lim["daily_items"])
                or ("daily_minutes" in lim and mins >= lim["daily_minutes"])):
            hit_days.add((wid, day))
    hit_workers = {w for w, _ in hit_days}
    opted: dict[str, set[int]] = {}
    for wid, r in ctx.worker_rows.items():
        for c in r.opt_outs or []:
            if c in (p.content_categories or []):
                opted.setdefault(c, set()).add(wid)
    checks = conn.execute(select(wellbeing_checkins.c.worker_id, wellbeing_checkins.c.trigger,
                                 wellbeing_checkins.c.shared)
                          .where(wellbeing_checkins.c.project_id == p.id)).all()
    by_trigger: dict[str, tuple[int, set[int]]] = {}
    for c in checks:
        n, ws = by_trigger.get(c.trigger, (0, set()))
        by_trigger[c.trigger] = (n + 1, ws | {int(c.worker_id)})
    shared = [c for c in checks if c.shared]
    opt_cells = table({c: (len(ws), ws) for c, ws in sorted(opted.items())}, k)
    opt_groups = [Group(c, opt_cells[c]) for c in sorted(opted)]
    return WellbeingFacts(
        categories=list(p.content_categories or []), tagged_items=dict(sorted(tagged.items())),
        blur=bool(p.blur_sensitive), limits=limits,
        break_after_sensitive=p.break_after_sensitive, break_minutes=int(p.break_minutes),
        interleave_after=p.interleave_after,
        exposure_items=histogram([float(v) for v in seen.values()], k, unit="items"),
        exposure_minutes=histogram([round(v, 2) for v in minutes.values()], k, unit="minutes"),
        limit_days=cell(len(hit_days), len(hit_workers), k) if hit_days else Cell(0, 0),
        opt_outs=opt_groups,
        checkins=(cell(len(checks), len({int(c.worker_id) for c in checks}), k) if checks
                  else Cell(0, 0)),
        checkins_by_trigger=table({t: (n, ws) for t, (n, ws) in sorted(by_trigger.items())}, k),
        checkins_shared=(cell(len(shared), len({int(c.worker_id) for c in shared}), k)
                         if shared else Cell(0, 0)),
        support_resources=p.support_resources or "")


def _days(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (as_utc(b) - as_utc(a)).total_seconds() / 86400


def _voice(ctx: _Ctx) -> VoiceFacts:
    conn, k, p, now = ctx.conn, ctx.k, ctx.project, ctx.now
    rows = conn.execute(select(appeals.c.worker_id, appeals.c.subject_type, appeals.c.status,
                               appeals.c.created_at, appeals.c.due_at, appeals.c.decided_at)
                        .where(appeals.c.project_id == p.id)).all()
    by_type: dict[str, list[Any]] = {}
    for r in rows:
        by_type.setdefault(r.subject_type, []).append(r)

    def count_cell(rs: list[Any]) -> Cell:
        if not rs:
            return Cell(0, 0)
        return cell(len(rs), len({int(r.worker_id) for r in rs}), k)

    def upheld(rs: list[Any]) -> Cell:
        decided = [r for r in rs if r.status in ("upheld", "denied")]
        ws = len({int(r.worker_id) for r in decided})
        if not decided:
            return Cell(None, 0)
        return cell(_share(sum(1 for r in decided if r.status == "upheld"), len(decided)), ws, k)

    def median_days(rs: list[Any]) -> Cell:
        values = [d for d in (_days(r.created_at, r.decided_at) for r in rs) if d is not None]
        if not values:
            return Cell(None, 0)
        ws = len({int(r.worker_id) for r in rs if r.decided_at is not None})
        return cell(round(float(statistics.median(values)), 2), ws, k)

    hidden = protect({t: {int(r.worker_id) for r in rs} for t, rs in by_type.items()}, k)
    blank = Cell(None, None, True)
    appeal_rows = [AppealRow(t, blank, blank, blank, blank) if t in hidden else
                   AppealRow(t, count_cell(rs), upheld(rs),
                             count_cell([r for r in rs if r.status == "open"]), median_days(rs))
                   for t, rs in sorted(by_type.items())]
    overdue = [r for r in rows if r.status == "open" and as_utc(r.due_at) < now]
    revs = conn.execute(select(worker_reviews.c.worker_id, worker_reviews.c.status)
                        .where(worker_reviews.c.project_id == p.id)).all()

    def review_cell(statuses: tuple[str, ...] | None) -> Cell:
        rs = [r for r in revs if statuses is None or r.status in statuses]
        if not rs:
            return Cell(0, 0)
        return cell(len(rs), len({int(r.worker_id) for r in rs}), k)

    answered_at = {int((ev.body or {}).get("issue", 0)): ev.at for ev in conn.execute(
        select(ledger_events.c.at, ledger_events.c.body).where(
            ledger_events.c.project_id == p.id, ledger_events.c.event == "guideline.answered"))}
    waits = []
    wait_workers: set[int] = set()
    for f in ctx.flags:
        at = answered_at.get(int(f.id))
        if at is not None:
            waits.append(_days(f.created_at, datetime.fromisoformat(at)) or 0.0)
            wait_workers |= ctx.backers.get(int(f.id), set())
    return VoiceFacts(
        appeals=appeal_rows, appeals_total=count_cell(list(rows)), appeals_upheld_share=upheld(
            list(rows)),
        appeals_overdue=count_cell(overdue),
        reviews_opened=review_cell(None), reviews_kept=review_cell(("kept",)),
        reviews_removed=review_cell(("removed",)),
        reviews_reinstated=review_cell(("reinstated",)),
        flags_median_days_to_answer=(cell(round(float(statistics.median(waits)), 2),
                                          len(wait_workers), k) if waits else Cell(None, 0)))


def _assist(ctx: _Ctx) -> AssistFacts:
    k, kind = ctx.k, ctx.kind
    shown = [a for a in ctx.counted if a.suggestion is not None]
    overridden = []
    models: set[str] = set()
    for a in shown:
        s = a.suggestion if isinstance(a.suggestion, dict) else {}
        proposed = s.get("answer", s) if isinstance(s.get("answer", s), dict) else None
        if proposed is None or not _same(kind, a.answer, proposed):
            overridden.append(a)
        model = s.get("model")
        if isinstance(model, str) and model.strip():
            models.add(model.strip()[:120])
    shown_w = {int(a.worker_id) for a in shown}
    answered = {int(a.item_id) for a in ctx.counted}
    model_only = [i for i, (ans, _m, _c, n) in ctx.labels.items()
                  if ans is not None and n == 0 and i not in answered]
    adjudicated = ctx.conn.execute(select(items.c.id).where(
        items.c.project_id == ctx.project.id, items.c.final_answer.isnot(None))).scalars()
    audited = set(int(i) for i in adjudicated) & set(model_only)
    return AssistFacts(
        answers=len(ctx.counted),
        with_suggestion=(cell(_share(len(shown), len(ctx.counted)), len(shown_w), k)
                         if shown else Cell(0.0 if ctx.counted else None, 0)),
        override_rate=(cell(_share(len(overridden), len(shown)), len(shown_w), k) if shown
                       else Cell(None, 0)),
        models=sorted(models), model_only_labels=len(model_only),
        model_only_audited=len(audited))
