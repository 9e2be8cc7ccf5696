"""The transparency report laid out as sections of plain blocks: labelled figures, tables,
charts with their numbers, stated text, the EU AI Act Article 10(2) checklist and the
scorecards. Both renderers (HTML and Markdown, in :mod:`handloom.disclose.report`) write
these same blocks, so the two documents cannot drift apart. Every worker figure arrives
k-suppressed from ``gather``; a suppressed one becomes :class:`Suppressed` text ("fewer than
k workers") here, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from handloom.disclose import facts as facts_mod
from handloom.disclose import scorecards as sc
from handloom.disclose.facts import Cell, Facts, Histogram
from handloom.disclose.figures import (
    NOT_RECORDED,
    count_text,
    days_text,
    edge_text,
    figure_text,
    histogram_svg,
    hours_text,
    money_text,
    share_text,
    suppressed_text,
)
from handloom.web import charts

SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'

REASON_NAMES = {
    "answers": "answers", "instructions": "reading instructions",
    "qualification": "qualification test", "skipped": "skipped items",
    "rejected": "rejected answers", "appeal": "appeals", "wellbeing": "well-being breaks",
}
STATED_LABELS = {
    "purpose": "Purpose", "downstream_use": "Downstream use", "data_source": "Data source",
    "data_collection": "How the items were collected", "collection_type": "Collection type",
    "collection_timeframe": "Collection timeframe", "preprocessing": "Preparation before import",
    "personal_information": "Personal and sensitive information",
    "assumptions": "Assumptions", "missing_data": "Missing data",
    "known_limitations": "Known limitations", "biases": "Known or suspected biases",
    "bias_measures": "Measures against those biases", "data_gaps": "Gaps and shortcomings",
    "use_cases": "Recommended and not recommended uses", "social_impact": "Social impact",
    "maintenance_plan": "Maintenance plan", "data_retention": "Data retention",
    "license": "Licence", "citation": "Citation",
}


# ====================================================================== document blocks
class Suppressed(str):
    """A value withheld because it describes fewer than k workers (rendered distinctly)."""

    __slots__ = ()


@dataclass
class Figures:
    """Labelled measured figures (a definition list)."""

    rows: list[tuple[str, str]]
    kind: str = "figures"


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: tuple[int, ...] = ()  # right-aligned columns
    empty: str = "None on record."
    kind: str = "table"


@dataclass
class Chart:
    title: str
    svg: Markup
    table: Table
    note: str = ""
    kind: str = "chart"


@dataclass
class Stated:
    """Text only a person can know, shown as stated by the project."""

    rows: list[tuple[str, str]]
    kind: str = "stated"


@dataclass
class Note:
    text: str
    kind: str = "note"


@dataclass
class Heading:
    text: str
    kind: str = "heading"


@dataclass
class ChecklistRow:
    point: str
    title: str
    recorded: list[str]
    stated: list[tuple[str, str]]


@dataclass
class Checklist:
    caption: str
    rows: list[ChecklistRow]
    kind: str = "checklist"


@dataclass
class Cards:
    cards: list[sc.Scorecard]
    kind: str = "scorecards"


@dataclass
class Section:
    id: str
    title: str
    intro: str
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Document:
    title: str
    project: str
    subtitle: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    k: int
    anchor: facts_mod.Anchor
    generated: str


# ---------------------------------------------------------------------- cell helpers
class _Fmt:
    """Cell formatting for one report: knows k and the currency."""

    def __init__(self, f: Facts):
        self.k = f.k
        self.currency = f.pay.currency

    def fig(self, c: Cell, fmt: Any = count_text, empty: str = NOT_RECORDED) -> str:
        text = figure_text(c, self.k, fmt, empty)
        return Suppressed(text) if c.suppressed else text

    def money(self, c: Cell, empty: str = NOT_RECORDED) -> str:
        return self.fig(c, lambda v: money_text(v, self.currency), empty)

    def share(self, c: Cell, empty: str = NOT_RECORDED) -> str:
        return self.fig(c, share_text, empty)

    def hours(self, c: Cell) -> str:
        return self.fig(c, hours_text)

    def count(self, value: int | None) -> str:
        """A plain count that is None where it would describe fewer than k workers."""
        return Suppressed(suppressed_text(self.k)) if value is None else str(value)


def _short(digest: str, n: int = 16) -> str:
    return digest[:n] + "…" if len(digest) > n else digest


def _day(iso: str | None) -> str:
    return iso[:10] if iso else "–"


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") + " UTC" if iso else "–"


def _bar_svg(rows: list[tuple[str, float]], *, chart_id: str, title: str,
             unit: str = "") -> Markup:
    svg = charts.bar_chart(rows, chart_id=chart_id, title=title, unit=unit)
    # Inline SVG in HTML needs no namespace, and the report carries no address at all.
    return Markup(str(svg).replace(SVG_NS, ""))  # noqa: S704 - already escaped markup


def _hist_block(fm: _Fmt, h: Histogram, *, chart_id: str, title: str, value_name: str,
                unit_text: str, note: str = "") -> Any:
    if h.n.suppressed or not h.bins:
        return Note(f"{title}: not shown, it would describe {suppressed_text(fm.k)}."
                    if h.n.suppressed else f"{title}: no data yet.")

    def edge(v: float) -> str:
        return edge_text(v, h.unit)

    q = h.quartiles.value if not h.quartiles.suppressed else None
    quart = (f" Quartiles: {' / '.join(edge(x) for x in q)} {unit_text}.".replace(" .", ".")
             if q else "")
    marks = ("; ".join(f"{name}: {edge(v)} {unit_text}".rstrip() for name, v in h.marks))
    table = Table(f"{title} (the numbers)", [value_name, "workers"],
                  [[f"{edge(b.lo)} to {edge(b.hi)} {unit_text}".rstrip(), str(b.count)]
                   for b in h.bins], numeric=(1,))
    text = (f"{fm.fig(h.n)} workers, in groups of at least {fm.k}.{quart}"
            + (f" Lines: {marks}." if marks else "") + (f" {note}" if note else ""))
    return Chart(title, histogram_svg(h, chart_id=chart_id, title=title), table, text)


# ====================================================================== sections
def _overview(f: Facts) -> Section:
    s = f.stated
    d = f.dataset
    fm = _Fmt(f)
    stated_rows = [(STATED_LABELS[key], str(s.get(key) or "")) for key in (
        "purpose", "downstream_use", "data_source", "data_collection", "collection_type",
        "collection_timeframe", "preprocessing", "personal_information", "use_cases",
        "license", "citation", "data_retention")]
    per = d.answers_per_item
    figures = Figures([
        ("Items", str(d.items)), ("Gold items", str(d.gold_items)),
        ("Qualification items", str(d.qualification_items)),
        ("Items answered", str(d.answered_items)), ("Items with a label", str(d.labeled_items)),
        ("Answers counted", str(d.answers)), ("Answers rejected", str(d.rejected_answers)),
        ("Answers per item", (f"min {count_text(per['min'])}, median "
                              f"{count_text(per['median'])}, mean {count_text(per['mean'])}, "
                              f"max {count_text(per['max'])}") if per else "–"),
        ("Imported", f"{_day(d.first_import_at)} to {_day(d.last_import_at)}"),
        ("Annotated", f"{_day(d.first_answer_at)} to {_day(d.last_answer_at)}"),
    ])
    imports = Table("Imports of items (from the ledger)", ["when", "file", "items", "gold",
                                                          "sha256"],
                    [[_when(i.at), i.source, str(i.items), str(i.gold), _short(i.sha256)]
                     for i in d.imports], numeric=(2, 3))
    ops = Table("Preparation operations Handloom performed and recorded",
                ["operation", "recorded as", "count", "first", "last"],
                [[o.name, o.event, str(o.count), _day(o.first_at), _day(o.last_at)]
                 for o in d.operations], numeric=(2,))
    labels = [(name, float(n)) for name, n in d.label_distribution]
    label_chart = Chart(
        "Items by published label",
        _bar_svg(labels, chart_id="chart-labels", title="Items by published label",
                 unit="items"),
        Table("Items by published label", ["label", "items"],
              [[name, str(n)] for name, n in d.label_distribution], numeric=(1,)),
        "Published label of each labelled item (the reviewer's decision where there is one, "
        f"else the {f.project.aggregation_method} aggregate).")
    tags = Table("Items tagged with a sensitive content category", ["category", "items"],
                 [[c, str(n)] for c, n in d.sensitivity.items()], numeric=(1,),
                 empty="No item is tagged sensitive.")
    blocks: list[Any] = [
        Heading("Stated by the project"), Stated(stated_rows),
        Heading("Measured: the items and what was done to them"), figures, ops, imports,
        label_chart, tags,
        Heading("EU AI Act Article 10(2): data governance and management practices"),
        _article_10(f, fm)]
    return Section("purpose", "Purpose, data source and preparation",
                   "What the data is for and where it came from, as the project states it; "
                   "then what Handloom recorded doing to it.", blocks)


def _stated_pairs(f: Facts, *keys: str) -> list[tuple[str, str]]:
    return [(STATED_LABELS[key], str(f.stated.get(key) or "")) for key in keys]


def _article_10(f: Facts, fm: _Fmt) -> Checklist:
    p, d, q, ins = f.project, f.dataset, f.quality, f.instructions
    labels = ", ".join(p.labels) if p.labels else "the kind's own answer format"
    ag = q.agreement
    ops = ", ".join(f"{o.name} ({o.event}: {o.count})" for o in d.operations) or "none yet"
    rows = [
        ChecklistRow("(a)", "The relevant design choices", [
            f"task kind {p.kind}; labels: {labels}",
            f"{p.overlap} answers per item"
            + (f", up to {p.max_overlap} while they disagree" if p.max_overlap else ""),
            f"gold items at {share_text(p.gold_rate)}; aggregation by {p.aggregation_method}",
            f"qualification test of {f.workforce.qualification_size} items"
            if f.workforce.qualification_size else "no qualification test",
            f"{len(ins.versions)} instruction version(s)"],
            _stated_pairs(f, "purpose", "downstream_use")),
        ChecklistRow("(b)", "Data collection processes and the origin of the data (and, for "
                     "personal data, the original purpose of collection)", [
            f"{len(d.imports)} import(s) of {d.items} items, each with its file's sha256",
            f"first import {_day(d.first_import_at)}, last {_day(d.last_import_at)}"],
            _stated_pairs(f, "data_source", "data_collection", "collection_type",
                          "collection_timeframe", "personal_information")),
        ChecklistRow("(c)", "Data-preparation operations: annotation, labelling, cleaning, "
                     "updating, enrichment, aggregation", [ops],
                     _stated_pairs(f, "preprocessing")),
        ChecklistRow("(d)", "The assumptions, in particular about what the data measure and "
                     "represent", [
            f"the labels ({labels}) and their definitions in {len(ins.versions)} instruction "
            "version(s), each kept with its hash"],
            _stated_pairs(f, "assumptions")),
        ChecklistRow("(e)", "The availability, quantity and suitability of the data", [
            f"{d.items} items, {d.answered_items} answered, {d.labeled_items} labelled",
            f"{d.answers} answers counted, {d.rejected_answers} rejected",
            "sensitive items: " + (", ".join(f"{c} {n}" for c, n in d.sensitivity.items())
                                   or "none tagged")],
            _stated_pairs(f, "missing_data", "known_limitations")),
        ChecklistRow("(f)", "Examination for possible biases", [
            "agreement: " + (f"{ag.metric} {fm.fig(ag.value)}" if ag else "not computed"),
            f"answers equal to the label: {fm.share(q.match_share)}",
            f"disagreement broken down by {len(q.by_category)} item categories and "
            f"{len(q.by_group)} demographic groups"],
            _stated_pairs(f, "biases")),
        ChecklistRow("(g)", "Measures to detect, prevent and mitigate those biases", [
            f"{p.overlap} independent answers per item; individual answers published with "
            "each label",
            f"gold items at {share_text(p.gold_rate)}; {q.adjudicated_items} items adjudicated "
            f"by a reviewer; {q.items_sent_to_review} sent to review"],
            _stated_pairs(f, "bias_measures")),
        ChecklistRow("(h)", "Data gaps or shortcomings, and how they can be addressed", [
            f"{d.items - d.gold_items - d.qualification_items - d.labeled_items} items without "
            "a label yet" if d.items else "no items",
            f"{q.contested_items} contested items",
            f"{fm.fig(ins.flags_open)} guideline flags open"],
            _stated_pairs(f, "data_gaps")),
    ]
    return Checklist("For each point: what Handloom recorded (measured) and what the project "
                     "stated.", rows)


def _workforce(f: Facts) -> Section:
    fm, w = _Fmt(f), f.workforce
    figures = Figures([
        ("Workers who answered", fm.fig(w.workers)),
        ("Agreed to the project's terms", fm.fig(w.consented)),
        ("Qualification test", f"{w.qualification_size} items, pass mark "
                               f"{share_text(w.qualification_pass)}"
         if w.qualification_size else "none"),
        ("Took the test", fm.fig(w.qualification_taken)),
        ("Passed the test", fm.fig(w.qualification_passed)),
        ("Required qualifications", ", ".join(f.project.required_qualifications) or "none"),
        ("Deepest subcontracting chain", f"{w.max_vendor_layers} layer(s)"),
        ("Gave any self-reported demographics", fm.fig(w.demographics_given)),
    ])
    roles = [(g.name, float(g.workers.value)) for g in w.role_classes
             if not g.workers.suppressed and g.workers.value is not None]
    role_chart = Chart(
        "Workers by role class",
        _bar_svg(roles, chart_id="chart-roles", title="Workers by role class", unit="workers"),
        Table("Workers by role class", ["role class", "workers"],
              [[g.name, fm.fig(g.workers)] for g in w.role_classes], numeric=(1,)),
        f"Role classes with fewer than {f.k} workers are folded into \"other\".")
    vendors = Table("Vendors (subcontracting chain, nearest first)",
                    ["vendor", "chain", "workers"],
                    [[v.name, " ← ".join(v.chain) or "–", fm.fig(v.workers)]
                     for v in w.vendors], numeric=(2,))
    places = Table("Jurisdictions", ["jurisdiction", "workers"],
                   [[g.name, fm.fig(g.workers)] for g in w.jurisdictions], numeric=(1,))
    blocks: list[Any] = [figures, role_chart, vendors, places,
                         Heading("Self-reported demographics")]
    if not w.demographics:
        blocks.append(Note("No worker chose to give demographics. Giving them is optional."))
    for d in w.demographics:
        blocks.append(Table(f"{d.name.replace('_', ' ')} (given by {fm.fig(d.given)})",
                            ["value", "workers"],
                            [[g.name, fm.fig(g.workers)] for g in d.values], numeric=(1,),
                            empty=f"Every value describes {suppressed_text(f.k)}."))
    return Section("workforce", "Workforce",
                   "Who did the work, in role terms: counts by role class, vendor and "
                   f"jurisdiction (groups below {f.k} workers folded into \"other\"), the "
                   "qualification process and demographics workers chose to give.", blocks)


def _pay(f: Facts) -> Section:
    fm, p = _Fmt(f), f.pay
    rate = (f"{p.currency} {p.piece_rate} per item" if p.pay_model == "piece" and p.piece_rate
            else f"{p.currency} {p.hourly_rate} an hour" if p.hourly_rate else "not set")
    timing = fm.fig(p.days_to_payment, lambda d: f"median {days_text(d['median'])}, nine in "
                                                 f"ten within {days_text(d['p90'])}")
    figures = Figures([
        ("Pay model", f"{p.pay_model}, {rate}"),
        ("Time on the qualification test paid", "yes" if p.pay_qualification_time else "no"),
        ("Rejected work paid", "yes" if p.pay_rejected_work else "no (restored if appealed)"),
        ("Paid in all", fm.money(p.total_paid)),
        ("Workers at or above their floor", fm.share(p.at_or_above_floor)),
        ("Workers with no floor on record", fm.fig(p.workers_without_floor)),
        ("Top-ups approved", f"{fm.fig(p.top_ups_approved)} ({fm.money(p.top_ups_amount)})"),
        ("Top-ups waiting for a decision", fm.fig(p.top_ups_pending)),
        ("Earned pay marked paid (by amount)", fm.share(p.paid_share)),
        ("Days from earning to payment", timing),
    ])
    chart = _hist_block(
        fm, p.effective_hourly, chart_id="chart-pay", value_name="effective hourly pay",
        title=f"Effective hourly pay per worker ({p.currency} an hour)",
        unit_text=f"{p.currency}/h",
        note="Each worker's pay over all their measured time in the project, unpaid time "
             "included; each dashed line is a jurisdiction's floor.")
    floors = Table("Floors the project's pay is held to", ["jurisdiction", "an hour", "source",
                                                          "in force from"],
                   [[r.jurisdiction, f"{r.currency} {r.hourly}",
                     r.source + (" (example value)" if r.is_example else ""),
                     r.effective_date] for r in p.floors], numeric=(1,),
                   empty="No floor on record for the jurisdictions the project recruits from.")
    groups = Table("Pay by jurisdiction", ["jurisdiction", "floor", "workers",
                                          "at or above floor", "median an hour"],
                   [[g.jurisdiction, f"{p.currency} {g.floor}" if g.floor else "–",
                     fm.fig(g.workers), fm.share(g.at_or_above), fm.money(g.median_hourly)]
                    for g in p.by_jurisdiction], numeric=(2, 3, 4))
    unpaid_rows = [(REASON_NAMES.get(r, r), float(c.value)) for r, c in p.unpaid_hours.items()
                   if not c.suppressed and c.value]
    reasons = sorted(set(p.paid_hours) | set(p.unpaid_hours))
    time_table = Table("Work time by reason, in hours", ["reason", "paid", "unpaid"],
                       [[REASON_NAMES.get(r, r),
                         fm.hours(p.paid_hours[r]) if r in p.paid_hours else "0.00 h",
                         fm.hours(p.unpaid_hours[r]) if r in p.unpaid_hours else "0.00 h"]
                        for r in reasons], numeric=(1, 2))
    unpaid = Chart("Unpaid work time by reason", _bar_svg(unpaid_rows, chart_id="chart-unpaid",
                            title="Unpaid work time by reason, in hours", unit="hours"),
                   time_table, "Time that earned nothing, by reason (reasons describing "
                   f"fewer than {f.k} workers are left out of the chart).")
    amounts = Table("Pay events by kind", ["kind", "amount"],
                    [[kind.replace("_", " "), fm.money(c)] for kind, c in p.amounts.items()],
                    numeric=(1,))
    return Section("pay", "Pay",
                   "What workers earned for their measured time, against the floor of each "
                   "jurisdiction, and whether and when it was paid out.",
                   [figures, chart, floors, groups, unpaid, amounts])


def _instructions(f: Facts) -> Section:
    fm, ins = _Fmt(f), f.instructions

    def flags(refs: list[facts_mod.FlagRef]) -> str:
        return "; ".join(f"#{r.id} {r.kind.replace('_', ' ')} ({fm.fig(r.supporters)} "
                         "supporting)" for r in refs) or "–"

    versions = Table("Every version of the instructions",
                     ["version", "published", "words", "sha256", "answers under it",
                      "what changed", "flags it answered"],
                     [[str(v.version), _day(v.created_at), str(v.words), _short(v.text_sha256),
                       fm.count(v.answers), v.change_note or "–",
                       flags(v.flags_answered)]
                      for v in ins.versions], numeric=(0, 2, 4))
    figures = Figures([
        ("Guideline flags raised by workers", fm.fig(ins.flags_raised)),
        ("Answered", fm.fig(ins.flags_answered)), ("Open", fm.fig(ins.flags_open)),
        ("Median days to answer a flag", fm.fig(f.voice.flags_median_days_to_answer,
                                                 days_text)),
    ])
    return Section("instructions", "Instructions",
                   "Every version of the task instructions with its date and what changed, "
                   "and the worker flags (by number, kind and how many workers supported "
                   "them; never their text) that prompted each revision.",
                   [versions, figures])


def _quality(f: Facts) -> Section:
    fm, q = _Fmt(f), f.quality
    ag = q.agreement
    agreement = (f"{'Krippendorff' + chr(39) + 's alpha' if ag.metric == 'alpha' else ag.metric}"
                 f" {fm.fig(ag.value)} (95% interval {fm.fig(ag.low)} to {fm.fig(ag.high)}) "
                 f"over {ag.items} items" if ag else "not computed (too few answers)")
    figures = Figures([
        ("Aggregation method", q.method), ("Agreement", agreement),
        ("Mean confidence of the labels", f"{q.mean_confidence:.2f}"
         if q.mean_confidence is not None else "–"),
        ("Gold answers", fm.fig(q.gold_answers)),
        ("Items adjudicated by a reviewer", str(q.adjudicated_items)),
        ("Review decisions", str(q.review_decisions)),
        ("Items sent to review", str(q.items_sent_to_review)),
        ("Individual answers equal to the published label (DA3)", fm.share(q.match_share)),
        ("Unanimous items", str(q.unanimous_items)),
        ("Contested items (two or more distinct answers)", str(q.contested_items)),
        ("Individual answers published with the labels",
         "yes" if q.individual_answers_published else "no"),
        ("Soft labels (share of answers per value) published",
         "yes" if q.soft_labels_published else "no"),
    ])
    gold: Any = _hist_block(fm, q.gold_accuracy, chart_id="chart-gold",
                            value_name="share correct",
                            title="Accuracy on gold items per worker", unit_text="",
                            note="Share of each worker's gold answers equal to the known "
                                 "answer.")
    if q.gold_answers.value == 0 and not q.gold_answers.suppressed:
        gold = Note("Accuracy on gold items per worker: no gold item was answered.")
    methods = Table("How each label was reached", ["method", "items"],
                    [[m, str(n)] for m, n in f.dataset.label_methods.items()], numeric=(1,))
    cats = Table("Agreement with the published label by item category",
                 ["dimension", "category", "items", "answers", "equal to the label"],
                 [[r.dimension, r.name, str(r.items), fm.count(r.answers),
                   fm.share(r.match_share)] for r in q.by_category], numeric=(2, 3, 4))
    groups = Table("Agreement with the published label by self-reported group",
                   ["field", "group", "items", "answers", "equal to the label"],
                   [[r.dimension, r.name, str(r.items), str(r.answers),
                     fm.share(r.match_share)] for r in q.by_group], numeric=(2, 3, 4),
                   empty=f"No self-reported group reaches {f.k} workers.")
    return Section("quality", "Quality",
                   "How much workers agreed, how labels were combined and adjudicated, and "
                   "how individual answers relate to the published labels (CrowdWorkSheets "
                   "DA3), overall, by item category and by self-reported group.",
                   [figures, gold, methods, cats, groups])


def _wellbeing(f: Facts) -> Section:
    fm, w = _Fmt(f), f.wellbeing
    figures = Figures([
        ("Content categories declared", ", ".join(w.categories) or "none"),
        ("Blur until revealed", "yes" if w.blur else "no"),
        ("Break after sensitive items", f"{w.break_minutes} minutes after "
                                        f"{w.break_after_sensitive}"
         if w.break_after_sensitive else "none"),
        ("Non-sensitive items interleaved", f"after {w.interleave_after} sensitive items"
         if w.interleave_after else "no"),
        ("Worker-days on which a daily limit was reached", fm.fig(w.limit_days)),
        ("Well-being check-ins (answers stay private)", fm.fig(w.checkins)),
        ("Check-ins the worker chose to share", fm.fig(w.checkins_shared)),
    ])
    limits = Table("Daily limits per category", ["category", "items a day", "minutes a day"],
                   [[c, str(lim.get("daily_items", "–")), str(lim.get("daily_minutes", "–"))]
                    for c, lim in w.limits.items()], numeric=(1, 2),
                   empty="No daily limit is set.")
    tagged = Table("Items tagged per category", ["category", "items"],
                   [[c, str(n)] for c, n in w.tagged_items.items()], numeric=(1,),
                   empty="No item is tagged sensitive.")
    items = _hist_block(fm, w.exposure_items, chart_id="chart-exposure-items",
                        title="Sensitive items seen per worker", value_name="sensitive items",
                        unit_text="items")
    minutes = _hist_block(fm, w.exposure_minutes, chart_id="chart-exposure-minutes",
                          title="Minutes on sensitive items per worker",
                          value_name="minutes", unit_text="minutes")
    opt = Table("Workers opted out of a category (now)", ["category", "workers"],
                [[g.name, fm.fig(g.workers)] for g in w.opt_outs], numeric=(1,),
                empty="No worker has opted out.")
    triggers = Table("Check-ins by what prompted them", ["prompted by", "check-ins"],
                     [[t.replace("_", " "), fm.fig(c)] for t, c in
                      w.checkins_by_trigger.items()], numeric=(1,),
                     empty="No check-in yet.")
    return Section("wellbeing", "Well-being and exposure",
                   "The sensitive content in the project, how much of it each worker saw, "
                   "the limits and breaks enforced, opt-outs, check-ins (counted, never "
                   "their answers) and the support offered.",
                   [figures, Stated([("Support offered", w.support_resources)]), limits,
                    tagged, items, minutes, opt, triggers])


def _voice(f: Facts) -> Section:
    fm, v = _Fmt(f), f.voice
    appeals = Table("Appeals by what they contest", ["subject", "filed", "upheld", "open",
                                                     "median days to a decision"],
                    [[a.subject_type.replace("_", " "), fm.fig(a.filed),
                      fm.share(a.upheld_share, "–"), fm.fig(a.open),
                      fm.fig(a.median_days_to_decision, days_text, "–")] for a in v.appeals],
                    numeric=(1, 2, 3, 4), empty="No appeal was filed.")
    figures = Figures([
        ("Appeals filed", fm.fig(v.appeals_total)),
        ("Upheld (of those decided)", fm.share(v.appeals_upheld_share, "–")),
        ("Open past their deadline", fm.fig(v.appeals_overdue)),
        ("Reviews of a worker's standing opened", fm.fig(v.reviews_opened)),
        ("… kept", fm.fig(v.reviews_kept)), ("… removed", fm.fig(v.reviews_removed)),
        ("… reinstated on review", fm.fig(v.reviews_reinstated)),
        ("Guideline flags raised", fm.fig(f.instructions.flags_raised)),
        ("… answered", fm.fig(f.instructions.flags_answered)),
        ("Median days to answer a flag", fm.fig(v.flags_median_days_to_answer, days_text)),
    ])
    return Section("voice", "Appeals and voice",
                   "How workers contested decisions and how fast they were decided, the "
                   "reviews of workers' standing (removals) and their outcome, and the "
                   "guideline flags workers raised.", [appeals, figures])


def _assist(f: Facts) -> Section:
    fm, a = _Fmt(f), f.assist
    figures = Figures([
        ("Answers counted", str(a.answers)),
        ("Shown a model suggestion", fm.share(a.with_suggestion)),
        ("Of those, the worker answered differently", fm.share(a.override_rate, "–")),
        ("Suggestion sources named", ", ".join(a.models) or "none"),
        ("Labels with no human answer behind them", str(a.model_only_labels)),
        ("… of those confirmed by a person", str(a.model_only_audited)),
    ])
    return Section("assist", "Model assistance",
                   "How often workers saw a model's suggestion, how often they disagreed "
                   "with it, and whether labels that no person gave were checked by one.",
                   [figures])


def _scorecards(f: Facts, cards: list[sc.Scorecard]) -> Section:
    summary = Table("Summary", ["scorecard", "met", "partly", "not met", "not recorded"],
                    [[c.title, *(str(c.counts()[s]) for s in sc.STATUSES)]
                     for c in cards], numeric=(1, 2, 3, 4))
    return Section("scorecards", "Scorecards",
                   "The records judged against published guidelines. Each point is judged by "
                   "a written rule on the figures shown as its evidence; \"not recorded\" "
                   "means Handloom's records cannot tell (or the figure describes fewer than "
                   f"{f.k} workers), not that the practice is absent.",
                   [summary, Cards(cards)])


def _anchor(f: Facts) -> Section:
    a = f.anchor
    figures = Figures([("Last ledger event covered", f"#{a.seq}"),
                       ("Its hash (sha256)", a.hash), ("Recorded at", _when(a.at)),
                       ("Events of this project up to it", str(a.project_events))])
    how = Note(f"To verify: in the workspace, `handloom ledger verify` recomputes the whole "
               f"hash chain and must report it intact; `handloom ledger anchor {a.seq} "
               f"{a.hash}` checks that event #{a.seq} still carries this hash. Add "
               "`--file report.html` (or report.md) to check that the file is the one "
               "Handloom recorded in its `report.generated` event.")
    return Section("anchor", "Ledger anchor",
                   "Every figure above was read from the records as they stood at this "
                   "ledger event; the ledger is hash-chained, so editing or deleting any "
                   "earlier record would break the chain.", [figures, how])


def document(f: Facts, cards: list[sc.Scorecard]) -> Document:
    """The report laid out as sections of plain blocks, for either renderer."""
    p = f.project
    meta = [("Project", p.name), ("Task kind", p.kind), ("Status", p.status),
            ("Created", _day(p.created_at)), ("Opened", _day(p.opened_at)),
            ("Report generated", _when(f.generated_at)),
            ("Smallest group shown (k)", f"{f.k} workers"),
            ("Ledger anchor", f"#{f.anchor.seq} {_short(f.anchor.hash)}")]
    return Document(
        title=f"Transparency report: {p.title}", project=p.name,
        subtitle=("Written by Handloom from its own records. Figures marked measured come "
                  "from those records; text marked \"stated by the project\" is what only the "
                  f"project could say. No figure describes fewer than {f.k} workers: where it "
                  f"would, it reads \"{suppressed_text(f.k)}\"."),
        meta=meta,
        sections=[_overview(f), _workforce(f), _pay(f), _instructions(f), _quality(f),
                  _wellbeing(f), _voice(f), _assist(f), _scorecards(f, cards), _anchor(f)],
        k=f.k, anchor=f.anchor, generated=_when(f.generated_at))


SECTION_IDS = ("purpose", "workforce", "pay", "instructions", "quality", "wellbeing", "voice",
               "assist", "scorecards", "anchor")
