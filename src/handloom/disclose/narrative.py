"""The sentences a dataset card and a Croissant file say about a project, written from a
:class:`~handloom.disclose.facts.Facts`.

The Hugging Face card (:mod:`.hf`) and the Croissant RAI properties (:mod:`.croissant`) tell
the same story (how the labels were made, who made them, what is sensitive), so it is
written once, here. Every figure that describes workers comes from a
:class:`~handloom.disclose.facts.Cell`: a suppressed cell reads "fewer than k workers" (with
the k), never a guess. What the project stated rather than Handloom measured is introduced
as "…, as stated by the project:", and an empty statement reads "…: not stated by the
project."
Nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handloom import __version__
from handloom.disclose.facts import Cell, Facts, Group, Histogram

NOT_STATED = "Not stated by the project."
NOT_STATED_LC = "not stated by the project."
NOT_RECORDED = "not recorded"
PLATFORM = (f"Handloom {__version__}, an open-source platform for human data enrichment: "
            f"workers answered in its web workbench or through its REST API, and every "
            f"assignment, answer, review, pay and exposure event was recorded on its "
            f"hash-chained audit ledger.")

KIND_TASKS = {
    "classification": "choose one label per item",
    "moderation": "decide whether an item breaks a content policy, and which categories",
    "rating": "rate each item on a scale",
    "spans": "mark and label spans of text",
    "pairwise": "compare two responses and choose the better one (or a tie)",
    "ranking": "rank a set of responses",
    "freetext": "write a free-text answer (e.g. a rewrite or a reference answer)",
    "redteam": "write adversarial prompts and record how a model responded",
}


def suppressed(k: int) -> str:
    return f"fewer than {k} workers"


def show(c: Cell, k: int, fmt: Callable[[Any], str] = str) -> str:
    """A published figure as text: "fewer than k workers" when suppressed, "not recorded"
    when there is nothing to show."""
    if c.suppressed:
        return f"not shown ({suppressed(k)})"
    if c.value is None:
        return NOT_RECORDED
    return fmt(c.value)


def count(c: Cell, k: int) -> str:
    return show(c, k, lambda v: f"{int(v):,}")


def share(c: Cell, k: int) -> str:
    return show(c, k, percent)


def percent(value: float) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def money(c: Cell, k: int, currency: str) -> str:
    return show(c, k, lambda v: f"{v} {currency}")


def workers_phrase(c: Cell, k: int) -> str:
    """"12 workers", "1 worker", or "fewer than 5 workers"."""
    if c.suppressed:
        return suppressed(k)
    if c.value is None:
        return f"workers: {NOT_RECORDED}"
    n = int(c.value)
    return f"{n:,} worker" + ("" if n == 1 else "s")


def group_list(groups: list[Group], k: int) -> str:
    """"crowd: 12 workers; vendor: 7 workers; other: fewer than 5 workers"."""
    if not groups:
        return "none recorded"
    return "; ".join(f"{g.name}: {workers_phrase(g.workers, k)}" for g in groups)


def stated_text(facts: Facts, field: str) -> str:
    value = facts.stated.get(field)
    return str(value).strip() if value else ""


def stated(facts: Facts, field: str, what: str) -> str:
    """A stated field introduced by *what* and labelled as stated ("Known biases, as stated
    by the project: …"), or "Known biases: not stated by the project."."""
    text = stated_text(facts, field)
    return f"{what}, as stated by the project: {text}" if text else f"{what}: {NOT_STATED_LC}"


def histogram_text(h: Histogram, k: int, unit_fmt: Callable[[float], str] = str) -> str:
    """Quartiles of a per-worker distribution, or why they are not shown."""
    if h.quartiles.suppressed or h.n.suppressed:
        return f"not shown ({suppressed(k)})"
    if not h.quartiles.value:
        return NOT_RECORDED
    p25, p50, p75 = h.quartiles.value
    return (f"median {unit_fmt(p50)} (middle half {unit_fmt(p25)} to {unit_fmt(p75)}) over "
            f"{count(h.n, k)} workers")


def _date(iso: str | None) -> str:
    return iso[:10] if iso else NOT_RECORDED


# ---------------------------------------------------------------------- sections
def annotation_process(facts: Facts, *, answers_published: bool) -> list[str]:
    """How the labels were made: task, instructions, overlap, gold, qualification, review,
    aggregation. (Card: "Annotation process"; Croissant: rai:dataAnnotationProtocol.)"""
    p, d, q, ins, k = facts.project, facts.dataset, facts.quality, facts.instructions, facts.k
    out = []
    task = KIND_TASKS.get(p.kind, f"answer a {p.kind} task")
    labels = f" The labels are: {', '.join(p.labels)}." if p.labels else ""
    out.append(f"Task: workers were asked to {task} ({p.kind}).{labels}")
    overlap = f"Each item was to receive {p.overlap} answers from different workers"
    if p.max_overlap and p.max_overlap > p.overlap:
        overlap += f", up to {p.max_overlap} where the first answers disagreed"
    out.append(overlap + ".")
    if ins.versions:
        latest = ins.versions[-1]
        out.append(
            f"Instructions: {len(ins.versions)} version(s), the first published "
            f"{_date(ins.versions[0].created_at)} and the latest (version {latest.version}, "
            f"{latest.words:,} words, SHA-256 {latest.text_sha256[:16]}…) "
            f"{_date(latest.created_at)}. Every answer records the version it was given "
            f"under. Workers raised {count(ins.flags_raised, k)} guideline flag(s); "
            f"{count(ins.flags_answered, k)} were answered.")
    else:
        out.append("Instructions: no instruction version was published.")
    if d.gold_items:
        rate = f" (target rate {percent(p.gold_rate)})" if p.gold_rate else ""
        out.append(f"Gold: {d.gold_items:,} item(s) with a known answer were mixed in{rate} "
                   f"to score workers; a wrong gold answer sends the item to a reviewer, "
                   f"since the gold answer itself may be wrong.")
    wf = facts.workforce
    if wf.qualification_size:
        out.append(f"Qualification: workers first took a test of {wf.qualification_size} "
                   f"gold items (pass mark {percent(wf.qualification_pass)}); "
                   f"{count(wf.qualification_taken, k)} took it and "
                   f"{count(wf.qualification_passed, k)} passed. Test items are not part of "
                   f"this dataset.")
    if p.required_qualifications:
        out.append(f"Required qualifications: {', '.join(p.required_qualifications)}.")
    out.append(
        f"Answers: {d.answers:,} counted answer(s) on {d.answered_items:,} of {d.items:,} "
        f"item(s), given between {_date(d.first_answer_at)} and {_date(d.last_answer_at)}; "
        f"{d.rejected_answers:,} answer(s) were rejected in review and are not counted.")
    out.append(
        f"Review: {q.items_sent_to_review:,} time(s) an item was sent to a reviewer (low "
        f"posterior confidence or a failed gold answer); {q.adjudicated_items:,} item(s) "
        f"carry a reviewer's decision, which is published as their label.")
    method_text = (f"the {q.method} aggregation method" if q.method
                   else "the project's aggregation method")
    out.append(
        f"Aggregation: labels combine the counted answers with {method_text}, each with its "
        f"posterior confidence; "
        + ("every individual answer is published next to the label, with its pseudonymous "
           "worker and provenance, and a soft label gives the share of answers behind each "
           "distinct answer." if answers_published else
           "a soft label gives the share of answers behind each distinct answer (individual "
           "answers were left out of this export)."))
    out.append(f"Role classes of the annotators: {group_list(wf.role_classes, k)}.")
    return out


def annotators(facts: Facts) -> list[str]:
    """Who made the labels, in role terms, and how they were paid and protected. (Card:
    "Who are the annotators?")"""
    wf, pay, w, k = facts.workforce, facts.pay, facts.wellbeing, facts.k
    out = [
        f"{workers_phrase(wf.workers, k).capitalize()} answered at least one item. In the "
        f"data each appears only under a per-project pseudonym, with their role class and "
        f"vendor name.",
        f"Role classes: {group_list(wf.role_classes, k)}.",
    ]
    if wf.vendors:
        parts = []
        for v in wf.vendors:
            chain = (f" (supplied through {' → '.join(v.chain[1:])})"
                     if len(v.chain) > 1 else "")
            parts.append(f"{v.name}{chain}: {workers_phrase(v.workers, k)}")
        out.append(f"Vendors (deepest subcontracting chain: {wf.max_vendor_layers} "
                   f"layer(s)): {'; '.join(parts)}.")
    out.append(f"Jurisdictions: {group_list(wf.jurisdictions, k)}. Groups of fewer than "
               f"{k} workers are folded into \"other\".")
    out.extend(demographics(facts))
    rate = {"piece": f"a piece rate of {pay.piece_rate} {pay.currency} per item"
            if pay.piece_rate else "a piece rate",
            "hourly": f"an hourly rate of {pay.hourly_rate} {pay.currency}"
            if pay.hourly_rate else "an hourly rate"}.get(pay.pay_model, pay.pay_model)
    out.append(
        f"Pay: {rate}; time on instructions and the qualification test is "
        f"{'paid' if pay.pay_qualification_time else 'not paid'}, and rejected work is "
        f"{'paid (except confirmed fraud)' if pay.pay_rejected_work else 'not paid'}. "
        f"Effective hourly pay, from measured active time: "
        f"{histogram_text(pay.effective_hourly, k, lambda v: f'{v:g} {pay.currency}/h')}. "
        f"Share of workers with a local pay floor who earned at or above it: "
        f"{share(pay.at_or_above_floor, k)}.")
    protections = []
    if w.categories:
        protections.append(f"content categories {', '.join(w.categories)}")
        if w.blur:
            protections.append("sensitive items blurred until the worker chose to look")
        if w.limits:
            protections.append("daily exposure limits per category")
        if w.break_after_sensitive:
            protections.append(f"a {w.break_minutes}-minute break after "
                               f"{w.break_after_sensitive} sensitive items")
        protections.append("opting out of a category without penalty")
        out.append(f"Protection from harmful content: {'; '.join(protections)}. Sensitive "
                   f"items seen per worker: {histogram_text(w.exposure_items, k)}.")
    return out


def demographics(facts: Facts) -> list[str]:
    """Self-reported demographics, aggregated and k-suppressed. (Croissant:
    rai:annotatorDemographics.)"""
    wf, k = facts.workforce, facts.k
    if wf.demographics_given.suppressed:
        return [f"Demographics: workers may describe themselves, if they choose; not shown "
                f"here because {suppressed(k)} did so (or declined)."]
    if not wf.demographics or not wf.demographics_given.value:
        return ["Demographics: no worker chose to give self-reported demographics; "
                "Handloom never infers them."]
    out = [f"Demographics (self-reported by the {count(wf.demographics_given, k)} workers "
           f"who chose to; groups of fewer than {k} are folded into \"other or not "
           f"given\"):"]
    for f in wf.demographics:
        out.append(f"{f.name}: given by {count(f.given, k)}; {group_list(f.values, k)}.")
    return out


def personal_information(facts: Facts) -> list[str]:
    """Personal and sensitive information: what the items hold (stated), how they are
    tagged (measured) and how workers are protected in the data. (Card: "Personal and
    Sensitive Information"; Croissant: rai:personalSensitiveInformation.)"""
    d, k = facts.dataset, facts.k
    out = [stated(facts, "personal_information", "Personal information in the items")]
    if d.sensitivity:
        tags = "; ".join(f"{tag}: {n:,} item(s)" for tag, n in d.sensitivity.items())
        out.append(f"Items tagged with sensitive content categories: {tags}.")
    else:
        out.append("No item is tagged with a sensitive content category.")
    out.append(
        f"About the workers: the data holds no worker id, account name or e-mail address; "
        f"each answer names its worker by a per-project pseudonym (HMAC-SHA256 under a "
        f"secret kept by the project, unlinkable across projects), their role class and "
        f"vendor name. Self-reported demographics are never in the data files and are "
        f"published only aggregated over at least {k} workers. Text workers wrote outside "
        f"their answers (appeals, well-being check-ins, skip reasons) is never exported.")
    return out


def annotation_analysis(facts: Facts, *, answers_published: bool) -> list[str]:
    """How raw answers became labels, and how much they disagreed. (Croissant:
    rai:dataAnnotationAnalysis.)"""
    q, d, k = facts.quality, facts.dataset, facts.k
    out = []
    if q.agreement is not None:
        a = q.agreement
        interval = (f" (95% bootstrap interval {show(a.low, k)} to {show(a.high, k)})"
                    if not a.low.suppressed else "")
        out.append(f"Inter-annotator agreement: Krippendorff's {a.metric} = "
                   f"{show(a.value, k)}{interval} over {a.items:,} items.")
    else:
        out.append("Inter-annotator agreement: not computed (too few items with two or more "
                   "answers).")
    methods = ", ".join(f"{m}: {n:,}" for m, n in d.label_methods.items()) or "none"
    conf = (f"; mean posterior confidence {q.mean_confidence:.3f}"
            if q.mean_confidence is not None else "")
    out.append(f"Labels by method: {methods}{conf}.")
    out.append(f"Disagreement: {q.unanimous_items:,} answered item(s) were unanimous and "
               f"{q.contested_items:,} had at least two distinct answers. Share of individual "
               f"answers equal to the published label: {share(q.match_share, k)}.")
    rows = [r for r in q.by_category if r.dimension == "sensitivity"]
    if rows:
        out.append("By content category, share of answers equal to the label: " + "; ".join(
            f"{r.name}: {share(r.match_share, k)} ({r.items:,} items)" for r in rows) + ".")
    if q.by_group:
        out.append("By self-reported group, share of answers equal to the label: " + "; ".join(
            f"{r.dimension} {r.name}: {share(r.match_share, k)}" for r in q.by_group) + ".")
    out.append("The published label relates to individual answers as follows: a reviewer's "
               "decision replaces the aggregate where there is one; otherwise it is the "
               "aggregate. "
               + ("Individual answers and soft labels are published, so disagreement can "
                  "be used as signal." if answers_published else
                  "Soft labels are published; individual answers were left out of this "
                  "export."))
    return out


def annotations_per_item(facts: Facts) -> str:
    d, p = facts.dataset, facts.project
    target = f"target {p.overlap} per item" + (
        f" (up to {p.max_overlap} with dynamic overlap)" if p.max_overlap else "")
    if not d.answers_per_item:
        return f"No counted human answers yet; {target}."
    a = d.answers_per_item
    return (f"Counted human answers per answered item: median {a['median']:g}, mean "
            f"{a['mean']:g}, min {a['min']:g}, max {a['max']:g}; {target}.")


def machine_tools(facts: Facts) -> str:
    a, q, k = facts.assist, facts.quality, facts.k
    parts = [f"Handloom {__version__} computed the aggregate labels ({q.method}) from the "
             f"human answers."]
    if a.models:
        parts.append(f"Model suggestions shown to workers came from: {', '.join(a.models)}.")
    parts.append(f"Share of counted answers given with a model suggestion shown: "
                 f"{share(a.with_suggestion, k)}; of those, share where the worker's answer "
                 f"differed from the suggestion: {share(a.override_rate, k)}.")
    parts.append(f"Labels with no human answer behind them: {a.model_only_labels:,} "
                 f"({a.model_only_audited:,} confirmed by a reviewer).")
    return " ".join(parts)


def operations(facts: Facts) -> str:
    ops = facts.dataset.operations
    if not ops:
        return "No preparation operation is recorded."
    return "Recorded on the ledger: " + "; ".join(
        f"{o.name} ({o.event}): {o.count:,} between {_date(o.first_at)} and {_date(o.last_at)}"
        for o in ops) + "."


def imports(facts: Facts) -> str:
    d = facts.dataset
    if not d.imports:
        return "No import is recorded."
    shown = d.imports[:20]
    text = "; ".join(f"{i.source} ({i.items:,} items, {i.gold:,} gold, imported "
                     f"{_date(i.at)}, SHA-256 {i.sha256[:16]}…)" for i in shown)
    more = f"; and {len(d.imports) - len(shown)} more" if len(d.imports) > len(shown) else ""
    return f"Items were imported into Handloom from: {text}{more}."


def ledger_anchor(facts: Facts) -> str:
    a = facts.anchor
    return (f"Generated {facts.generated_at[:19]}Z from the records up to ledger event "
            f"{a.seq} (hash {a.hash}); check it with `handloom ledger verify`.")


def limitations(facts: Facts, *, unlabeled: int) -> list[str]:
    """Known limitations (stated), gaps (stated) and what the export itself shows
    (*unlabeled*: exported items without a label)."""
    q = facts.quality
    out = [stated(facts, "known_limitations", "Known limitations")]
    gaps = stated_text(facts, "data_gaps")
    if gaps:
        out.append(f"Gaps in meeting the purpose, as stated by the project: {gaps}")
    out.append(f"Measured: {unlabeled:,} exported item(s) have no label yet; "
               f"{q.contested_items:,} item(s) had disagreeing answers.")
    return out


def biases(facts: Facts) -> list[str]:
    return [stated(facts, "biases", "Known biases"),
            stated(facts, "bias_measures", "Measures against bias")]


def use_cases(facts: Facts) -> list[str]:
    return [stated(facts, "purpose", "Purpose"),
            stated(facts, "downstream_use", "Downstream use"),
            stated(facts, "use_cases", "Recommended and not-recommended uses")]
