"""Scorecards: a project's records judged against published guidelines for data enrichment.

Four frameworks, each a list of points, each point judged by one written rule over figures
of a :class:`~handloom.disclose.facts.Facts` (pure functions: no database, no clock):

- Partnership on AI, *Data Enrichment Sourcing Guidelines* (2022): living wage, pilot,
  worker selection, instructions, communication;
- CrowdWorkSheets (Díaz et al., FAccT 2022, doi:10.1145/3531146.3534647): a choice of its
  questions on task design, annotator population, payment, well-being, quality and
  dataset use, each answered from the records;
- Fairwork cloudwork principles (Fairwork Foundation): fair pay, conditions, contracts,
  management, representation, each with its two thresholds;
- NIST AI 600-1 (Generative AI Profile, 2024) actions MS-2.8-002 (document the
  instructions given to data annotators or AI red-teamers) and MS-2.6-001 (assess adverse
  impacts, including health and wellbeing impacts, for AI actors exposed to sexually
  explicit, offensive or violent information).

Every point ends in one of four statuses: ``met``, ``partly``, ``not_met`` or
``not_recorded``, with the evidence (the figures it was judged on, as text) and the rule.
A figure suppressed because it describes fewer than k workers is never judged on: the point
becomes ``not_recorded`` rather than let its status reveal what the suppression hides.
Handloom records work, not employment: points about contracts, collective bargaining or
wages outside the project can only be ``not_recorded`` here, and say so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from handloom.disclose.facts import Cell, Facts
from handloom.disclose.figures import (
    days_text,
    figure_text,
    hours_text,
    published,
    share_text,
    suppressed_text,
)

Status = Literal["met", "partly", "not_met", "not_recorded"]
STATUSES: tuple[Status, ...] = ("met", "partly", "not_met", "not_recorded")
STATUS_TEXT: dict[str, str] = {"met": "met", "partly": "partly met", "not_met": "not met",
                               "not_recorded": "not recorded"}

# The thresholds the rules use, in one place (docs/report.md lists them).
FLOOR_VAST_MAJORITY = 0.90  # Fairwork 1.2 for piece work: "the vast majority" at the floor
FLOOR_PARTLY = 0.50  # below this share at or above the floor a pay point is not met
PAY_DAYS_MEDIAN = 14.0  # days from earning to being marked paid, median
PAY_DAYS_P90 = 30.0  # … and for nine in ten payments
PAID_SHARE_MIN = 0.95  # share of earned pay (by amount) marked paid
FLAG_ANSWER_DAYS = 7.0  # median days to answer a worker's guideline flag
EQUITY_GAP = 0.10  # largest gap in agreement-with-label between groups of one field
EQUITY_GAP_PARTLY = 0.20
OVERDUE_PARTLY = 0.10  # share of appeals past their deadline still open


@dataclass(frozen=True)
class Point:
    """One guideline, question or threshold, and how the records measure up to it."""

    id: str  # e.g. "PAI-1", "CWS-DA3", "FW-1.2", "MS-2.8-002"
    title: str  # the guideline's words (shortened where long)
    status: Status
    answer: str  # one sentence: what the records say
    evidence: list[str]  # the figures judged on
    rule: str  # how the status is decided


@dataclass(frozen=True)
class Scorecard:
    id: str
    title: str
    source: str  # a citation, never a URL (the report is self-contained)
    points: list[Point] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for p in self.points:
            out[p.status] += 1
        return out


def to_dict(cards: list[Scorecard]) -> list[dict[str, Any]]:
    return [{**dataclasses.asdict(c), "counts": c.counts()} for c in cards]


# ------------------------------------------------------------------ shared readings
def _share(c: Cell) -> float | None:
    return float(c.value) if published(c) else None


def _count(c: Cell) -> int | None:
    return int(c.value) if published(c) else None


def _cell(c: Cell, k: int, fmt: Callable[[Any], str] = str) -> str:
    return figure_text(c, k, fmt)


def _pay_share_point(f: Facts, pid: str, title: str, *, full_share: float,
                     rule: str, living: bool) -> Point:
    """Whether workers earned at least the floor of their jurisdiction over all their
    measured time (unpaid time included)."""
    pay, k = f.pay, f.k
    ev = [f"workers at or above their floor: {_cell(pay.at_or_above_floor, k, share_text)}",
          f"workers with no floor on record: {_cell(pay.workers_without_floor, k)}"]
    ev += [f"floor {r.jurisdiction}: {r.currency} {r.hourly} an hour ({r.source}, from "
           f"{r.effective_date}{', an example value' if r.is_example else ''})"
           for r in pay.floors]
    if living:
        ev.append("the floors are the operator's table; whether each is a living wage is "
                  "in its source")
    share = _share(pay.at_or_above_floor)
    if not pay.floors or pay.at_or_above_floor.suppressed or share is None:
        why = (suppressed_text(k) + " have a floor on record" if pay.at_or_above_floor.suppressed
               else "no floor is on record for the jurisdictions the project recruits from"
               if not pay.floors else "no worker's pay has been measured against a floor yet")
        return Point(pid, title, "not_recorded", f"Not judged: {why}.", ev, rule)
    without = _count(pay.workers_without_floor)
    examples = any(r.is_example for r in pay.floors)
    status: Status
    if share >= full_share and not without and not examples:
        status = "met"
    elif share >= FLOOR_PARTLY:
        status = "partly"
    else:
        status = "not_met"
    if status == "met":
        answer = f"{share_text(share)} of the workers earned at least their floor."
    else:
        reasons = [f"{share_text(share)} of the workers earned at least their floor"]
        if without:
            reasons.append(f"{without} worked where no floor is on record")
        if examples:
            reasons.append("some floors are example values, not checked ones")
        answer = "; ".join(reasons).capitalize() + "."
    return Point(pid, title, status, answer, ev, rule)


def _flags(f: Facts) -> tuple[int | None, int | None, int | None]:
    ins = f.instructions
    return _count(ins.flags_raised), _count(ins.flags_answered), _count(ins.flags_open)


def _flag_evidence(f: Facts) -> list[str]:
    ins, k = f.instructions, f.k
    return [f"guideline flags raised: {_cell(ins.flags_raised, k)}",
            f"answered: {_cell(ins.flags_answered, k)}",
            f"open: {_cell(ins.flags_open, k)}",
            "median days to answer a flag: "
            f"{_cell(f.voice.flags_median_days_to_answer, k, days_text)}"]


def _version_answers(row: Any, k: int) -> str:
    return suppressed_text(k) if row.answers is None else str(row.answers)


def _revised_after_answers(f: Facts) -> bool:
    v = f.instructions.versions
    return len(v) > 1 and v[0].answers != 0  # None: some answers, by fewer than k workers


def _exposure_protections(f: Facts) -> list[str]:
    w = f.wellbeing
    found = []
    if w.blur:
        found.append("sensitive items blurred until revealed")
    if w.limits:
        found.append("daily limits for " + ", ".join(sorted(w.limits)))
    if w.break_after_sensitive:
        found.append(f"a {w.break_minutes}-minute break after {w.break_after_sensitive} "
                     "sensitive items")
    if w.interleave_after:
        found.append(f"non-sensitive items interleaved after {w.interleave_after}")
    if w.support_resources.strip():
        found.append("support resources offered")
    return found


def _sensitive(f: Facts) -> bool:
    return bool(f.wellbeing.categories) or any(f.wellbeing.tagged_items.values())


def _gap(rows: list[Any]) -> tuple[str, float] | None:
    """The largest gap in match share between two groups of one demographic field."""
    by_dim: dict[str, list[float]] = {}
    for r in rows:
        if published(r.match_share):
            by_dim.setdefault(r.dimension, []).append(float(r.match_share.value))
    # Rounded so that 0.80 - 0.70 is the 0.10 it reads as, not 0.1000…09.
    gaps = [(d, round(max(v) - min(v), 9)) for d, v in by_dim.items() if len(v) >= 2]
    return max(gaps, key=lambda g: g[1]) if gaps else None


# ------------------------------------------------------------------ Partnership on AI
PAI_SOURCE = ("Partnership on AI, Data Enrichment Sourcing Guidelines (2022), from "
              "Responsible Sourcing of Data Enrichment Services (2021)")


def partnership_on_ai(f: Facts) -> Scorecard:
    k = f.k
    points = [_pay_share_point(
        f, "PAI-1", "Ensure all data enrichment workers are paid above the local living wage",
        full_share=1.0, living=True,
        rule="met: every worker with a floor earned at least it over all measured time, "
             "every worker has a floor and no floor is an example value; partly: at least "
             f"{share_text(FLOOR_PARTLY)} did; not met: fewer did; not recorded: no floor, or "
             "the share is suppressed.")]

    v = f.instructions.versions
    ev = [f"instruction versions: {len(v)}",
          f"answers under version 1: {_version_answers(v[0], k) if v else 0}",
          f"effective hourly pay measured for: {_cell(f.pay.effective_hourly.n, k)}"]
    rule = ("met: the instructions were revised after answers came in under their first "
            "version (a trial run changed the task); partly: revised before any answer; "
            "not recorded: one version only (Handloom records no separate pilot phase).")
    if _revised_after_answers(f):
        status: Status = "met"
        answer = (f"Version 1 was tried on {_version_answers(v[0], k)} answers, then the "
                  f"instructions were revised {len(v) - 1} time(s).")
    elif len(v) > 1:
        status, answer = "partly", "The instructions were revised, but before any answer."
    else:
        status, answer = "not_recorded", "No revision after a trial run is on record."
    points.append(Point("PAI-2", "Run a pilot before launching a data enrichment project",
                        status, answer, ev, rule))

    p, wf = f.project, f.workforce
    checks = []
    if wf.qualification_size:
        checks.append(f"a qualification test of {wf.qualification_size} items, pass mark "
                      f"{share_text(wf.qualification_pass)}")
    if p.required_qualifications:
        checks.append("required qualifications: " + ", ".join(p.required_qualifications))
    gold = p.gold_rate > 0
    ev = checks + [f"gold items mixed in at {share_text(p.gold_rate)}",
                   f"workers who took the test: {_cell(wf.qualification_taken, k)}",
                   f"passed: {_cell(wf.qualification_passed, k)}"]
    rule = ("met: a qualification test or required qualifications select workers, and gold "
            "items check them while they work; partly: one of the two; not met: neither.")
    if checks and gold:
        status, answer = "met", "Workers are selected by qualification and checked with gold."
    elif checks or gold:
        status = "partly"
        answer = ("Workers are selected by qualification, but no gold items check them."
                  if checks else "Gold items check workers, but no qualification selects them.")
    else:
        status, answer = "not_met", "Anyone given access may work; no test or gold is set."
    points.append(Point("PAI-3", "Identify appropriate workers for the desired task",
                        status, answer, ev, rule))

    raised, answered, open_ = _flags(f)
    ev = [f"instruction versions: {len(v)}",
          f"words in the current version: {v[-1].words if v else 0}", *_flag_evidence(f)]
    rule = ("met: instructions are on record and every worker flag about them is answered; "
            "partly: at most half the flags are open; not met: no instructions, or more than "
            "half the flags open; not recorded: the flag counts are suppressed.")
    if not v or v[-1].words == 0:
        status, answer = "not_met", "No instruction text is on record."
    elif raised is None or open_ is None:
        status = "not_recorded"
        answer = f"The flag counts describe {suppressed_text(k)} and are not published."
    elif open_ == 0:
        status = "met"
        answer = (f"All {raised} flags about the instructions were answered." if raised
                  else "Instructions are on record; no worker flagged them as unclear.")
    elif open_ <= raised / 2:
        status, answer = "partly", f"{open_} of {raised} flags about the instructions are open."
    else:
        status, answer = "not_met", f"{open_} of {raised} flags about the instructions are open."
    points.append(Point("PAI-4", "Provide verified and clear instructions", status, answer, ev,
                        rule))

    days = _share(f.voice.flags_median_days_to_answer)
    overdue = _count(f.voice.appeals_overdue)
    ev = _flag_evidence(f) + [
        f"appeals filed: {_cell(f.voice.appeals_total, k)}",
        f"appeals past their deadline: {_cell(f.voice.appeals_overdue, k)}",
        f"well-being check-ins: {_cell(f.wellbeing.checkins, k)}"]
    rule = (f"met: flags are answered in a median of at most {number_text(FLAG_ANSWER_DAYS)} "
            "days (or none waits) and no appeal is past its deadline; partly: one of the two; "
            "not met: neither; not recorded: the figures are suppressed.")
    flags_ok = (days is not None and days <= FLAG_ANSWER_DAYS) or (
        days is None and open_ == 0)
    if overdue is None or (days is None and open_ is None):
        status, answer = "not_recorded", f"The figures describe {suppressed_text(k)}."
    else:
        appeals_ok = overdue == 0
        status = "met" if flags_ok and appeals_ok else "partly" if flags_ok or appeals_ok \
            else "not_met"
        answer = ("Workers can flag instructions, appeal decisions and check in; "
                  + ("flags are answered promptly" if flags_ok else "flags wait too long")
                  + " and "
                  + ("no appeal is overdue." if appeals_ok else f"{overdue} appeal(s) are "
                     "overdue."))
    points.append(Point("PAI-5", "Establish clear and regular communication channels with "
                        "workers", status, answer, ev, rule))
    return Scorecard("pai", "Partnership on AI: data enrichment sourcing guidelines",
                     PAI_SOURCE, points)


def number_text(value: float) -> str:
    return f"{value:g}"


# ------------------------------------------------------------------ CrowdWorkSheets
CWS_SOURCE = ("Díaz, Kivlichan, Rosen, Baker, Amironesei, Prabhakaran, Denton. "
              "CrowdWorkSheets: Accounting for Individual and Collective Identities Underlying "
              "Crowdsourced Dataset Annotation. FAccT 2022, doi:10.1145/3531146.3534647")


def crowdworksheets(f: Facts) -> Scorecard:
    k, p, wf, q = f.k, f.project, f.workforce, f.quality
    points: list[Point] = []
    v = f.instructions.versions

    # Task formulation
    _raised, _answered, open_ = _flags(f)
    noted = [r for r in v[1:] if r.change_note.strip()]
    ev = [f"instruction versions: {len(v)}", f"revisions with a change note: {len(noted)} of "
          f"{max(len(v) - 1, 0)}", *_flag_evidence(f)]
    rule = ("met: the instructions are on record, every revision says what changed and no "
            "flag is open; partly: on record, but a revision lacks a note or flags are open; "
            "not recorded: no instructions.")
    if not v:
        status: Status = "not_recorded"
        answer = "No instructions are on record."
    elif len(noted) == len(v) - 1 and open_ == 0:
        status = "met"
        answer = (f"{len(v)} version(s) on record with what changed in each; workers' flags "
                  "about them are all answered.")
    else:
        status = "partly"
        answer = (f"{len(v)} version(s) on record; "
                  + ("a revision lacks a change note" if len(noted) < len(v) - 1
                     else "some flags are not answered yet") + ".")
    points.append(Point("CWS-TF3", "How was the wording of the task instructions chosen, and "
                        "how was its clarity verified?", status, answer, ev, rule))

    protections = _exposure_protections(f)
    ev = [f"content categories declared: {', '.join(p.content_categories) or 'none'}",
          "items tagged sensitive: " + (", ".join(f"{c} {n}" for c, n in
                                                  f.wellbeing.tagged_items.items()) or "none"),
          *protections,
          f"workers who agreed to the terms: {_cell(wf.consented, k)} of "
          f"{_cell(wf.workers, k)}"]
    rule = ("met: no sensitive content is declared or tagged, or the categories are declared "
            "up front (workers see them before they work) and at least two protections apply "
            "(blur, limits, breaks, interleaving, support); partly: declared with one "
            "protection; not met: sensitive items without declared categories or protection.")
    if not _sensitive(f):
        status, answer = "met", "No sensitive content was declared or tagged."
    elif p.content_categories and len(protections) >= 2:
        status = "met"
        answer = (f"Workers see the categories ({', '.join(p.content_categories)}) before they "
                  f"work; protections: {'; '.join(protections)}.")
    elif p.content_categories and protections:
        status, answer = "partly", "Categories are declared, with one protection."
    else:
        status, answer = "not_met", "Sensitive items exist without declared protections."
    points.append(Point("CWS-TF4", "What risks did the task pose for annotators, and were they "
                        "informed of them before they worked?", status, answer, ev, rule))

    # Selecting annotators
    ev = [f"qualification test: {wf.qualification_size} items"
          + (f", pass mark {share_text(wf.qualification_pass)}" if wf.qualification_size
             else ""),
          "required qualifications: " + (", ".join(p.required_qualifications) or "none"),
          f"took the test: {_cell(wf.qualification_taken, k)}",
          f"passed: {_cell(wf.qualification_passed, k)}",
          "role classes: " + ", ".join(f"{g.name} {_cell(g.workers, k)}"
                                       for g in wf.role_classes)]
    rule = ("met: the selection criteria are on record (a test or required qualifications) "
            "with how many took and passed the test; partly: criteria without published "
            "counts; not met: no criteria.")
    criteria = bool(wf.qualification_size or p.required_qualifications)
    if not criteria:
        status, answer = "not_met", "No selection criteria are on record."
    elif not wf.qualification_size or published(wf.qualification_taken):
        status, answer = "met", "The selection criteria and their results are on record."
    else:
        status = "partly"
        answer = f"Criteria are on record; test counts describe {suppressed_text(k)}."
    points.append(Point("CWS-SA1", "Were annotator selection criteria imposed, and which?",
                        status, answer, ev, rule))

    given = wf.demographics_given
    fields_shown = [d for d in wf.demographics if any(
        g.name != "other" and published(g.workers) for g in d.values)]
    ev = [f"workers who chose to give demographics: {_cell(given, k)} of "
          f"{_cell(wf.workers, k)}"]
    ev += [f"{d.name}: " + ", ".join(f"{g.name} {_cell(g.workers, k)}" for g in d.values)
           for d in wf.demographics]
    rule = ("met: self-reported demographics are published for at least one field with a "
            "group of k or more workers; partly: some workers gave them but every group is "
            "below k; not recorded: no worker gave any.")
    if fields_shown:
        status = "met"
        answer = ("Aggregated self-reported demographics are published for "
                  + ", ".join(d.name for d in fields_shown) + ".")
    elif given.suppressed or (published(given) and int(given.value) > 0):
        status = "partly"
        answer = f"Some workers gave demographics; every group has {suppressed_text(k)}."
    else:
        status, answer = "not_recorded", "No worker chose to give demographics."
    points.append(Point("CWS-SA5", "What are the aggregated socio-demographic characteristics "
                        "of the annotator pool?", status, answer, ev, rule))

    # Platform and infrastructure
    pay = f.pay
    rate = (f"{pay.currency} {pay.piece_rate} per item" if pay.pay_model == "piece"
            and pay.piece_rate else f"{pay.currency} {pay.hourly_rate} an hour"
            if pay.hourly_rate else "no rate on record")
    q3 = pay.effective_hourly.quartiles
    ev = [f"pay model: {pay.pay_model}, {rate}",
          f"paid in all: {_cell(pay.total_paid, k, lambda x: f'{pay.currency} {x}')}",
          "effective hourly pay, quartiles: "
          + _cell(q3, k, lambda x: " / ".join(f"{pay.currency} {y:.2f}" for y in x)),
          "floors considered: " + (", ".join(f"{r.jurisdiction} {r.currency} {r.hourly}"
                                              for r in pay.floors) or "none")]
    rule = ("met: the effective hourly pay distribution is published and held against a "
            "pay standard (a floor per jurisdiction); partly: one of the two; not recorded: "
            "neither.")
    measured = published(q3)
    if measured and pay.floors:
        status, answer = "met", "Measured pay is published and held against the floors."
    elif measured or pay.floors:
        status = "partly"
        answer = ("Measured pay is published, but no floor was considered." if measured
                  else f"Floors are set; the pay figures describe {suppressed_text(k)}.")
    else:
        status, answer = "not_recorded", "No measured pay or pay standard is on record."
    points.append(Point("CWS-PI3", "How much were annotators compensated, and against which "
                        "pay standard?", status, answer, ev, rule))

    ev = _flag_evidence(f) + [f"appeals filed: {_cell(f.voice.appeals_total, k)}",
                              f"well-being check-ins: {_cell(f.wellbeing.checkins, k)}"]
    rule = ("met: workers used a channel to the project (a flag or an appeal) and it was "
            "answered; partly: channels exist but were not used; not recorded: the counts "
            "are suppressed.")
    raised, answered, _ = _flags(f)
    appeals = _count(f.voice.appeals_total)
    if raised is None or appeals is None:
        status, answer = "not_recorded", f"The counts describe {suppressed_text(k)}."
    elif (answered or 0) > 0 or appeals > 0:
        status = "met"
        answer = (f"Workers raised {raised} flag(s), {answered} answered, and filed "
                  f"{appeals} appeal(s).")
    else:
        status, answer = "partly", "Flags, appeals and check-ins were open; none was used."
    points.append(Point("CWS-PI2", "What communication channels did annotators have, and how "
                        "were they used?", status, answer, ev, rule))

    # Dataset analysis and evaluation
    ag = q.agreement
    ev = [f"aggregation method: {q.method}",
          "agreement: " + (f"{ag.metric} {_cell(ag.value, k)} (interval {_cell(ag.low, k)} "
                           f"to {_cell(ag.high, k)}) over {ag.items} items" if ag
                           else "not computed"),
          f"gold answers: {_cell(q.gold_answers, k)}",
          f"items adjudicated by a reviewer: {q.adjudicated_items}"]
    rule = ("met: agreement with its interval is published and gold answers score workers; "
            "partly: one of the two; not recorded: neither.")
    has_ag = ag is not None and published(ag.value)
    has_gold = bool(_count(q.gold_answers))
    status = "met" if has_ag and has_gold else "partly" if has_ag or has_gold \
        else "not_recorded"
    answer = {"met": "Quality is agreement (with an interval) and accuracy on gold items.",
              "partly": "Quality is measured one way: " + ("agreement." if has_ag
                                                            else "gold accuracy."),
              "not_recorded": "No agreement or gold figure is published."}[status]
    points.append(Point("CWS-DA1", "How is annotation quality defined and assessed?", status,
                        answer, ev, rule))

    ev = [f"contested items (two or more distinct answers): {q.contested_items}",
          f"unanimous items: {q.unanimous_items}",
          f"slices by category: {len(q.by_category)}",
          f"slices by demographic group: {len(q.by_group)}"]
    rule = ("met: disagreement is broken down by item category and by demographic group; "
            "partly: by category only; not recorded: no breakdown.")
    status = ("met" if q.by_category and q.by_group else "partly" if q.by_category
              else "not_recorded")
    answer = {"met": "Disagreement is reported by item category and by demographic group.",
              "partly": "Disagreement is reported by item category; no demographic group "
                        "reaches k workers.",
              "not_recorded": "No disagreement breakdown is published."}[status]
    points.append(Point("CWS-DA2", "Was any analysis of disagreement patterns done?", status,
                        answer, ev, rule))

    ev = [f"answers equal to the published label: {_cell(q.match_share, k, share_text)}",
          "label methods: " + (", ".join(f"{m} {n}" for m, n in
                                         f.dataset.label_methods.items()) or "none"),
          f"individual answers published: {'yes' if q.individual_answers_published else 'no'}",
          f"soft labels published: {'yes' if q.soft_labels_published else 'no'}"]
    rule = ("met: the share of individual answers equal to the final label is published and "
            "the individual answers (or soft labels) are released with the labels; partly: "
            "one of the two; not recorded: neither, or the share is suppressed.")
    match = _share(q.match_share)
    released = q.individual_answers_published or q.soft_labels_published
    if match is not None and released:
        status = "met"
        answer = (f"{share_text(match)} of individual answers equal the final label; the "
                  "answers are released with it.")
    elif match is not None or released:
        status = "partly"
        answer = ("The match share is published; individual answers are not released."
                  if match is not None else
                  f"Answers are released; the match share describes {suppressed_text(k)}.")
    else:
        status, answer = "not_recorded", "Neither is published."
    points.append(Point("CWS-DA3", "How do the individual annotator responses relate to the "
                        "final labels released in the dataset?", status, answer, ev, rule))

    # Dataset release and maintenance
    s = f.stated
    uses = str(s.get("use_cases") or "").strip()
    down = str(s.get("downstream_use") or "").strip()
    plan = str(s.get("maintenance_plan") or "").strip()
    lic = str(s.get("license") or "").strip()
    ev = [f"downstream use (stated): {down or 'not stated'}",
          f"use cases (stated): {'stated' if uses else 'not stated'}",
          f"licence (stated): {lic or 'not stated'}",
          f"maintenance plan (stated): {'stated' if plan else 'not stated'}"]
    rule = ("met: the project states its use cases, a licence and a maintenance plan; "
            "partly: one or two of them; not recorded: none (these are stated by the project, "
            "not measured).")
    n_stated = sum(bool(x) for x in (uses, lic, plan))
    status = "met" if n_stated == 3 else "partly" if n_stated else "not_recorded"
    answer = {"met": "Use cases, licence and maintenance plan are stated by the project.",
              "partly": f"{n_stated} of use cases, licence and maintenance plan are stated.",
              "not_recorded": "The project states no limits on use."}[status]
    points.append(Point("CWS-DR3", "Will you track, limit or otherwise influence how the "
                        "dataset is used?", status, answer, ev, rule))
    return Scorecard("crowdworksheets", "CrowdWorkSheets questions", CWS_SOURCE, points)


# ------------------------------------------------------------------ Fairwork
FAIRWORK_SOURCE = "Fairwork Foundation, Cloudwork Principles and scoring thresholds (2023)"


def fairwork(f: Facts) -> Scorecard:
    k, pay, voice = f.k, f.pay, f.voice
    points: list[Point] = []

    timing = pay.days_to_payment
    paid = _share(pay.paid_share)
    rejected = pay.unpaid_hours.get("rejected")
    ev = [f"earned pay marked paid (by amount): {_cell(pay.paid_share, k, share_text)}",
          "days from earning to payment: " + _cell(
              timing, k, lambda d: f"median {days_text(d['median'])}, "
                                   f"nine in ten within {days_text(d['p90'])}"),
          f"rejected work paid: {'yes' if pay.pay_rejected_work else 'no (unless appealed)'}",
          "unpaid time on rejected answers: "
          + (_cell(rejected, k, hours_text) if rejected else "none")]
    rule = (f"met: at least {share_text(PAID_SHARE_MIN)} of earned pay is marked paid, the "
            f"median payment within {number_text(PAY_DAYS_MEDIAN)} days and nine in ten "
            f"within {number_text(PAY_DAYS_P90)}, and no rejected work went unpaid; partly: "
            f"payment within {number_text(PAY_DAYS_P90)} days at the median; not met: slower; "
            "not recorded: no payment is marked, or the figures are suppressed.")
    if not published(timing) or paid is None:
        status: Status = "not_recorded"
        answer = ("Payment dates describe " + suppressed_text(k) + "."
                  if timing.suppressed or pay.paid_share.suppressed
                  else "No payment has been marked as paid out.")
    else:
        med, p90 = float(timing.value["median"]), float(timing.value["p90"])
        unpaid_rejected = bool(rejected and published(rejected) and float(rejected.value) > 0
                               and not pay.pay_rejected_work)
        if (paid >= PAID_SHARE_MIN and med <= PAY_DAYS_MEDIAN and p90 <= PAY_DAYS_P90
                and not unpaid_rejected):
            status = "met"
        elif med <= PAY_DAYS_P90:
            status = "partly"
        else:
            status = "not_met"
        answer = (f"{share_text(paid)} of earned pay is marked paid, a median of "
                  f"{days_text(med)} after it was earned"
                  + ("; rejected work was not paid." if unpaid_rejected else "."))
    points.append(Point("FW-1.1", "Fair pay: workers are paid on time and for all completed "
                        "work", status, answer, ev, rule))

    hourly = pay.pay_model == "hourly"
    points.append(_pay_share_point(
        f, "FW-1.2", "Fair pay: workers are paid at least the local minimum wage",
        full_share=1.0 if hourly else FLOOR_VAST_MAJORITY, living=False,
        rule=("met: for hourly work every worker, for piece work at least "
              f"{share_text(FLOOR_VAST_MAJORITY)} of workers, earned at least their floor, "
              "every worker has a floor and none is an example value; partly: at least "
              f"{share_text(FLOOR_PARTLY)}; not met: fewer; not recorded: no floor, or the "
              "share is suppressed.")))

    w = f.wellbeing
    protections = _exposure_protections(f)
    ev = ["content categories: " + (", ".join(w.categories) or "none"), *protections,
          f"well-being check-ins: {_cell(w.checkins, k)}",
          "opt-outs: " + (", ".join(f"{g.name} {_cell(g.workers, k)}" for g in w.opt_outs)
                          or "none")]
    needed = 4
    rule = ("met: no sensitive content is declared or tagged, or at least "
            f"{needed} of blur, daily limits, breaks, interleaving and support resources "
            "apply; partly: one to three; not met: none.")
    if not _sensitive(f):
        status, answer = "met", "No sensitive content was declared or tagged."
    elif len(protections) >= needed:
        status, answer = "met", "Exposure is mitigated: " + "; ".join(protections) + "."
    elif protections:
        status, answer = "partly", "Some mitigation: " + "; ".join(protections) + "."
    else:
        status, answer = "not_met", "Sensitive content with no mitigation on record."
    points.append(Point("FW-2.1", "Fair conditions: health and safety risks are mitigated",
                        status, answer, ev, rule))

    ev = [f"worker-days on which a daily exposure limit was reached: "
          f"{_cell(w.limit_days, k)}",
          "daily limits: " + (", ".join(f"{c} " + ", ".join(f"{n} {u.replace('_', ' ')}"
                                                             for u, n in lim.items())
                                        for c, lim in w.limits.items()) or "none")]
    rule = ("partly: daily limits cap exposure to sensitive content (Handloom records no "
            "hours across projects or employers, nor income stability); not recorded: no "
            "limit is set.")
    if w.limits:
        status = "partly"
        answer = "Daily limits cap exposure; overall hours and income are not recorded."
    else:
        status, answer = "not_recorded", "Handloom records no working-hour limits here."
    points.append(Point("FW-2.2", "Fair conditions: precarity and overwork are mitigated",
                        status, answer, ev, rule))

    consented, workers = _count(f.workforce.consented), _count(f.workforce.workers)
    ev = [f"workers who agreed to the project's terms: {_cell(f.workforce.consented, k)}",
          f"workers who answered: {_cell(f.workforce.workers, k)}"]
    rule = ("met: every worker agreed to the project's published terms before working; "
            "partly: some did; not met: none did; not recorded: the counts are suppressed.")
    if consented is None or workers is None:
        status, answer = "not_recorded", f"The counts describe {suppressed_text(k)}."
    elif workers and consented >= workers:
        status, answer = "met", "Every worker agreed to the published terms."
    elif consented:
        status, answer = "partly", f"{consented} of {workers} workers agreed to the terms."
    else:
        status, answer = "not_met", "No worker agreed to published terms."
    points.append(Point("FW-3.1", "Fair contracts: clear terms and conditions are available",
                        status, answer, ev, rule))
    points.append(Point(
        "FW-3.2", "Fair contracts: contracts are consistent with the terms of engagement",
        "not_recorded", "Contracts between workers, vendors and the operator are not in "
        "Handloom's records.", ["vendor layers: " + str(f.workforce.max_vendor_layers)],
        "not recorded: Handloom holds the project's terms, not the workers' contracts."))

    total, overdue = _count(voice.appeals_total), _count(voice.appeals_overdue)
    ev = [f"appeals filed: {_cell(voice.appeals_total, k)}",
          f"upheld: {_cell(voice.appeals_upheld_share, k, share_text)}",
          f"past their deadline: {_cell(voice.appeals_overdue, k)}",
          f"reviews of workers opened: {_cell(voice.reviews_opened, k)}, removed: "
          f"{_cell(voice.reviews_removed, k)}, reinstated: "
          f"{_cell(voice.reviews_reinstated, k)}"]
    ev += [f"{a.subject_type}: median {_cell(a.median_days_to_decision, k, days_text)} "
           "to a decision" for a in voice.appeals]
    rule = ("met: every decision affecting pay or standing can be appealed (always so in "
            "Handloom) and no appeal is past its deadline; partly: at most "
            f"{share_text(OVERDUE_PARTLY)} are; not met: more; not recorded: suppressed.")
    if total is None or overdue is None:
        status, answer = "not_recorded", f"The appeal counts describe {suppressed_text(k)}."
    elif overdue == 0:
        status = "met"
        answer = (f"{total} appeal(s) filed, none past its deadline." if total
                  else "Appeals are open to every worker; none was filed.")
    elif overdue <= OVERDUE_PARTLY * total:
        status, answer = "partly", f"{overdue} of {total} appeals are past their deadline."
    else:
        status, answer = "not_met", f"{overdue} of {total} appeals are past their deadline."
    points.append(Point("FW-4.1", "Fair management: there is due process for decisions "
                        "affecting workers", status, answer, ev, rule))

    gap = _gap(f.quality.by_group)
    ev = [f"{r.dimension} = {r.name}: answers equal to the label "
          f"{_cell(r.match_share, k, share_text)} ({r.answers} answers)"
          for r in f.quality.by_group] or ["no demographic group reaches k workers"]
    rule = ("met: within every self-reported demographic field, the share of answers "
            "judged equal to the final label differs by at most "
            f"{share_text(EQUITY_GAP)} between groups; partly: at most "
            f"{share_text(EQUITY_GAP_PARTLY)}; not met: more; not recorded: no field with two "
            "published groups.")
    if gap is None:
        status, answer = "not_recorded", "No field has two groups of k or more workers."
    else:
        dim, size = gap
        status = ("met" if size <= EQUITY_GAP else "partly" if size <= EQUITY_GAP_PARTLY
                  else "not_met")
        answer = f"The largest gap between groups is {share_text(size)} ({dim})."
    points.append(Point("FW-4.2", "Fair management: there is equity in the management process",
                        status, answer, ev, rule))

    raised, answered, _ = _flags(f)
    ev = _flag_evidence(f)
    rule = ("partly: workers raise and jointly support (+1) flags that staff must answer, a "
            "collective voice on the work; Handloom records no union or association; not "
            "recorded: no flag was answered.")
    if answered:
        status = "partly"
        answer = f"{answered} flag(s) raised by workers were answered."
    else:
        status = "not_recorded"
        answer = "No worker voice is on record beyond the channels themselves."
    points.append(Point("FW-5.1", "Fair representation: workers have access to representation "
                        "and freedom of association", status, answer, ev, rule))
    points.append(Point(
        "FW-5.2", "Fair representation: there is collective governance or bargaining",
        "not_recorded", "Collective governance and bargaining are outside Handloom's records.",
        [], "not recorded: Handloom does not record collective agreements."))
    return Scorecard("fairwork", "Fairwork cloudwork principles", FAIRWORK_SOURCE, points)


# ------------------------------------------------------------------ NIST AI 600-1
NIST_SOURCE = ("NIST AI 600-1, Artificial Intelligence Risk Management Framework: Generative "
               "Artificial Intelligence Profile (July 2024)")


def nist_ai_600_1(f: Facts) -> Scorecard:
    k = f.k
    v = f.instructions.versions
    # Versions whose answer count is suppressed hold answers too: together they are what
    # the published counts leave of the dataset's total.
    shown = sum(r.answers for r in v if r.answers is not None)
    total = f.dataset.answers + f.dataset.rejected_answers
    under = total if any(r.answers is None for r in v) else shown
    noted = [r for r in v[1:] if r.change_note.strip()]
    ev = [f"instruction versions: {len(v)}",
          f"answers given under a recorded version: {under}",
          f"answers in the dataset: {f.dataset.answers + f.dataset.rejected_answers}",
          f"revisions with a change note: {len(noted)} of {max(len(v) - 1, 0)}"]
    ev += [f"version {r.version}: {r.created_at[:10]}, {r.words} words, sha256 "
           f"{r.text_sha256[:16]}…" for r in v]
    rule = ("met: every answer was given under a recorded instruction version, every version "
            "is kept (text hash, date) and every revision has a change note; partly: "
            "versions are kept but a revision lacks a note or some answers lack a version; "
            "not met: no instruction text; not recorded: no version.")
    if not v:
        status: Status = "not_recorded"
        answer = "No instruction version is on record."
    elif v[-1].words == 0:
        status, answer = "not_met", "The instructions are empty."
    elif (under >= f.dataset.answers + f.dataset.rejected_answers
          and len(noted) == len(v) - 1):
        status = "met"
        answer = (f"All {len(v)} version(s) are kept with their dates and hashes; every answer "
                  "records the version it was given under.")
    else:
        status = "partly"
        answer = "The versions are kept, but a revision lacks a change note."
    points = [Point("MS-2.8-002", "Document the instructions given to data annotators or AI "
                    "red-teamers", status, answer, ev, rule)]

    w = f.wellbeing
    ev = ["items tagged sensitive: " + (", ".join(f"{c} {n}" for c, n in
                                                  w.tagged_items.items()) or "none"),
          f"workers whose exposure is measured: {_cell(w.exposure_items.n, k)}",
          "sensitive items per worker, quartiles: "
          + _cell(w.exposure_items.quartiles, k, lambda x: " / ".join(f"{y:g}" for y in x)),
          f"well-being check-ins: {_cell(w.checkins, k)}",
          f"worker-days at a daily limit: {_cell(w.limit_days, k)}"]
    rule = ("met: sensitive items are tagged, each worker's exposure is measured and "
            "published, and workers were asked how they are (check-ins); partly: exposure is "
            "measured but no check-in happened; not met: sensitive categories are declared "
            "but no item is tagged, so exposure is not measured; not recorded: no sensitive "
            "content declared, or the figures are suppressed.")
    tagged = any(w.tagged_items.values())
    checkins = _count(w.checkins)
    if not tagged and w.categories:
        status, answer = "not_met", "Categories are declared but no item is tagged."
    elif not tagged:
        status = "not_recorded"
        answer = "No item was tagged sensitive, so no exposure was assessed."
    elif not published(w.exposure_items.n) or checkins is None:
        status, answer = "not_recorded", f"The exposure figures describe {suppressed_text(k)}."
    elif checkins > 0:
        status = "met"
        answer = (f"Exposure is measured per worker and {checkins} well-being check-in(s) "
                  "were recorded (their answers stay private).")
    else:
        status, answer = "partly", "Exposure is measured; no well-being check-in happened."
    points.append(Point("MS-2.6-001", "Assess adverse impacts, including health and wellbeing "
                        "impacts, for value chain or other AI actors exposed to sexually "
                        "explicit, offensive or violent information", status, answer, ev, rule))
    return Scorecard("nist", "NIST AI 600-1 actions on annotators", NIST_SOURCE, points)


def all_scorecards(f: Facts) -> list[Scorecard]:
    return [partnership_on_ai(f), crowdworksheets(f), fairwork(f), nist_ai_600_1(f)]
