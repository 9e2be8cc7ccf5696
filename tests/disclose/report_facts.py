"""A hand-built :class:`Facts` for report and scorecard tests: a finished project whose every
rule lands on "met" (so a test flips one figure at a time), with helpers to change a part."""

from __future__ import annotations

import dataclasses
from typing import Any

from handloom.disclose.facts import (
    AgreementRow,
    Anchor,
    AppealRow,
    AssistFacts,
    Bin,
    Cell,
    DatasetFacts,
    DemographicField,
    Facts,
    FlagRef,
    FloorRow,
    Group,
    Histogram,
    ImportRecord,
    InstructionFacts,
    Operation,
    PayFacts,
    PayGroup,
    ProjectInfo,
    QualityFacts,
    SliceRow,
    VendorRow,
    VersionRow,
    VoiceFacts,
    WellbeingFacts,
    WorkforceFacts,
)

K = 5
SUPPRESSED = Cell(None, None, True)
HASH = "ab" * 32


def c(value: Any, workers: int | None = 10) -> Cell:
    return Cell(value, workers)


def hist(unit: str, bins: list[tuple[float, float, int]],
         marks: list[tuple[str, float]] | None = None) -> Histogram:
    n = sum(b[2] for b in bins)
    return Histogram(unit, [Bin(*b) for b in bins], c(n, n), c([1.0, 2.0, 3.0], n),
                     marks or [])


def sample_facts() -> Facts:
    stated = {
        "purpose": "Train a classifier that flags toxic replies.",
        "downstream_use": "safety_classifier", "data_source": "Public forum replies, 2023.",
        "known_limitations": "English only.", "data_retention": "Two years.",
        "assumptions": "Toxic means likely to make someone leave the conversation.",
        "data_collection": "Sampled from a public dump.", "collection_type": "Web Scraping",
        "collection_timeframe": "2023-01/2023-06", "preprocessing": "Deduplicated.",
        "missing_data": "", "biases": "Over-represents US slang.",
        "bias_measures": "Three independent answers per item.", "data_gaps": "",
        "use_cases": "Moderation assistance, not automated bans.", "social_impact": "",
        "personal_information": "Usernames removed.", "maintenance_plan": "Yearly review.",
        "license": "CC-BY-4.0", "citation": "", "k": K,
    }
    dataset = DatasetFacts(
        items=120, gold_items=10, qualification_items=5, answered_items=100,
        labeled_items=100, answers=300, rejected_answers=4,
        answers_per_item={"min": 3.0, "median": 3.0, "mean": 3.0, "max": 3.0},
        label_methods={"adjudicated": 4, "ds": 96},
        label_distribution=[("not_toxic", 70), ("toxic", 30)], sensitivity={"hate": 12},
        first_import_at="2024-01-02T10:00:00+00:00", last_import_at="2024-01-02T10:00:00+00:00",
        first_answer_at="2024-01-03T09:00:00+00:00", last_answer_at="2024-01-20T17:00:00+00:00",
        imports=[ImportRecord("2024-01-02T10:00:00+00:00", "replies.jsonl", 120, 10, "cd" * 32)],
        operations=[Operation("import", "items.imported", 1, "2024-01-02", "2024-01-02"),
                    Operation("annotation", "answers", 304, "2024-01-03", "2024-01-20"),
                    Operation("aggregation", "quality.aggregated", 2, "2024-01-20",
                              "2024-01-21")])
    workforce = WorkforceFacts(
        workers=c(12, 12), consented=c(12, 12),
        role_classes=[Group("crowd", c(7, 7)), Group("vendor", c(5, 5))],
        vendors=[VendorRow("direct", [], c(7, 7)),
                 VendorRow("Savanna Labeling", ["Savanna Labeling", "Northwind Data"], c(5, 5))],
        max_vendor_layers=2,
        jurisdictions=[Group("US", c(7, 7)), Group("KE", c(5, 5))],
        qualification_size=5, qualification_pass=0.8, qualification_taken=c(14, 14),
        qualification_passed=c(12, 12),
        demographics=[DemographicField("age_band", c(10, 10),
                                       [Group("25-34", c(6, 6)), Group("other", SUPPRESSED)])],
        demographics_given=c(10, 10))
    pay = PayFacts(
        currency="USD", pay_model="piece", piece_rate="0.10", hourly_rate=None,
        pay_qualification_time=True, pay_rejected_work=True,
        floors=[FloorRow("US", "USD", "7.25", 725, "US DOL", "2009-07-24", False),
                FloorRow("KE", "USD", "1.20", 120, "KE gazette", "2024-01-01", False)],
        effective_hourly=hist("USD/h", [(5.0, 10.0, 6), (10.0, 15.0, 6)],
                              [("floor KE", 1.2), ("floor US", 7.25)]),
        by_jurisdiction=[PayGroup("US", "7.25", c(7, 7), c(1.0, 7), c("9.50", 7)),
                         PayGroup("KE", "1.20", c(5, 5), c(1.0, 5), c("8.10", 5))],
        at_or_above_floor=c(1.0, 12), workers_without_floor=Cell(0, 0),
        total_paid=c("30.40", 12), amounts={"piece": c("30.00", 12), "top_up": c("0.40", 5)},
        paid_hours={"answers": c(3.1, 12), "instructions": c(0.4, 12)},
        unpaid_hours={"skipped": c(0.2, 6)},
        top_ups_approved=c(1, 5), top_ups_amount=c("0.40", 5), top_ups_pending=Cell(0, 0),
        paid_share=c(1.0, 12), days_to_payment=c({"median": 3.0, "p90": 7.0}, 12))
    instructions = InstructionFacts(
        versions=[VersionRow(1, "2024-01-02T09:00:00+00:00", "", "ef" * 32, 220, 150, []),
                  VersionRow(2, "2024-01-10T09:00:00+00:00", "Defined sarcasm.", "12" * 32, 260,
                             154, [FlagRef(3, "unclear", "2024-01-05T00:00:00+00:00",
                                           c(6, 6))])],
        flags_raised=c(3, 6), flags_answered=c(3, 6), flags_open=Cell(0, 0))
    quality = QualityFacts(
        method="ds", agreement=AgreementRow("alpha", c(0.71, 12), c(0.65, 12), c(0.77, 12), 100),
        gold_answers=c(40, 12), gold_accuracy=hist("share", [(0.6, 0.8, 5), (0.8, 1.0, 7)]),
        adjudicated_items=4, review_decisions=4, items_sent_to_review=6,
        match_share=c(0.86, 12), unanimous_items=60, contested_items=40, mean_confidence=0.91,
        by_category=[SliceRow("label", "toxic", 30, 90, c(0.8, 12)),
                     SliceRow("sensitivity", "hate", 12, 36, c(0.75, 9))],
        by_group=[SliceRow("age_band", "25-34", 60, 180, c(0.86, 6)),
                  SliceRow("age_band", "35-44", 40, 110, c(0.82, 5))],
        soft_labels_published=True, individual_answers_published=True)
    wellbeing = WellbeingFacts(
        categories=["hate"], tagged_items={"hate": 12}, blur=True,
        limits={"hate": {"daily_items": 50}}, break_after_sensitive=10, break_minutes=5,
        interleave_after=None,
        exposure_items=hist("items", [(0.0, 5.0, 6), (5.0, 10.0, 6)]),
        exposure_minutes=hist("minutes", [(0.0, 2.0, 12)]),
        limit_days=Cell(0, 0), opt_outs=[Group("hate", SUPPRESSED)], checkins=c(8, 6),
        checkins_by_trigger={"after_sensitive": c(8, 6)}, checkins_shared=Cell(0, 0),
        support_resources="Counselling line, free, 24/7.")
    voice = VoiceFacts(
        appeals=[AppealRow("rejection", c(5, 5), c(0.4, 5), Cell(0, 0), c(1.5, 5))],
        appeals_total=c(5, 5), appeals_upheld_share=c(0.4, 5), appeals_overdue=Cell(0, 0),
        reviews_opened=Cell(0, 0), reviews_kept=Cell(0, 0), reviews_removed=Cell(0, 0),
        reviews_reinstated=Cell(0, 0), flags_median_days_to_answer=c(2.0, 6))
    assist = AssistFacts(answers=300, with_suggestion=c(0.5, 12), override_rate=c(0.2, 12),
                         models=["tfidf-logreg"], model_only_labels=0, model_only_audited=0)
    project = ProjectInfo(
        name="tox", title="Toxic replies", kind="classification", status="closed",
        created_at="2024-01-01T00:00:00+00:00", opened_at="2024-01-02T00:00:00+00:00",
        aggregation_method="ds", overlap=3, max_overlap=5, gold_rate=0.1,
        labels=["toxic", "not_toxic"], content_categories=["hate"],
        required_qualifications=[])
    return Facts(project=project, k=K, generated_at="2024-02-01T12:00:00+00:00",
                 anchor=Anchor(412, HASH, "2024-01-31T23:59:00+00:00", 400), stated=stated,
                 dataset=dataset, workforce=workforce, pay=pay, instructions=instructions,
                 quality=quality, wellbeing=wellbeing, voice=voice, assist=assist)


def with_part(f: Facts, part: str, **changes: Any) -> Facts:
    """*f* with fields of one part (``pay``, ``quality`` …) replaced."""
    return dataclasses.replace(f, **{part: dataclasses.replace(getattr(f, part), **changes)})
