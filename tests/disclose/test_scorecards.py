"""Scorecard rules: each point's status flips exactly where its figure crosses its rule, a
suppressed figure is never judged on, and every point carries its evidence and rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_facts import SUPPRESSED, K, c, sample_facts, with_part

from handloom.disclose import scorecards as sc
from handloom.disclose.facts import Cell, Facts, FloorRow, SliceRow, VersionRow

BASE = sample_facts()


def status(f: Facts, point: str) -> str:
    for card in sc.all_scorecards(f):
        for p in card.points:
            if p.id == point:
                return p.status
    raise AssertionError(f"no point {point}")


def test_the_sample_project_meets_what_the_records_can_show() -> None:
    got = {p.id: p.status for card in sc.all_scorecards(BASE) for p in card.points}
    partly = {"FW-2.2", "FW-5.1"}  # Handloom cannot record hours elsewhere or a union
    never = {"FW-3.2", "FW-5.2"}  # contracts and collective bargaining: outside the records
    assert {p for p, s in got.items() if s == "partly"} == partly
    assert {p for p, s in got.items() if s == "not_recorded"} == never
    assert {p for p, s in got.items() if s == "met"} == set(got) - partly - never
    assert {"PAI-1", "PAI-2", "PAI-3", "PAI-4", "PAI-5", "CWS-DA3", "FW-1.1", "FW-4.2",
            "MS-2.8-002", "MS-2.6-001"} <= set(got)


def test_every_point_has_evidence_a_rule_and_an_answer() -> None:
    for card in sc.all_scorecards(BASE):
        assert card.source and "http" not in card.source
        assert sum(card.counts().values()) == len(card.points)
        for p in card.points:
            assert p.status in sc.STATUSES
            assert p.rule and p.answer, p.id
            if p.id not in ("FW-5.2",):
                assert p.evidence, p.id


def test_the_nist_points_quote_their_subject() -> None:
    nist = {p.id: p for p in sc.nist_ai_600_1(BASE).points}
    assert nist["MS-2.8-002"].title == ("Document the instructions given to data annotators "
                                        "or AI red-teamers")
    assert "health and wellbeing impacts" in nist["MS-2.6-001"].title
    assert "sexually explicit, offensive or violent information" in nist["MS-2.6-001"].title


# ------------------------------------------------------------------ pay against the floor
@pytest.mark.parametrize(("share", "pai", "fw_piece"), [
    (1.0, "met", "met"),
    (0.95, "partly", "met"),
    (sc.FLOOR_VAST_MAJORITY, "partly", "met"),
    (0.89, "partly", "partly"),
    (sc.FLOOR_PARTLY, "partly", "partly"),
    (0.49, "not_met", "not_met"),
    (0.0, "not_met", "not_met"),
])
def test_pay_points_flip_at_their_shares(share: float, pai: str, fw_piece: str) -> None:
    f = with_part(BASE, "pay", at_or_above_floor=c(share, 12))
    assert status(f, "PAI-1") == pai
    assert status(f, "FW-1.2") == fw_piece
    hourly = with_part(f, "pay", pay_model="hourly", hourly_rate="9.00", piece_rate=None)
    assert status(hourly, "FW-1.2") == ("met" if share == 1.0 else pai)


@pytest.mark.parametrize("change", [
    {"workers_without_floor": c(6, 6)},
    {"floors": [FloorRow("US", "USD", "7.25", 725, "guess", "2024-01-01", True)]},
])
def test_a_missing_or_example_floor_caps_pay_at_partly(change: dict[str, Any]) -> None:
    f = with_part(BASE, "pay", **change)
    assert status(f, "PAI-1") == "partly"
    assert status(f, "FW-1.2") == "partly"


def test_pay_without_floors_or_behind_suppression_is_not_recorded() -> None:
    assert status(with_part(BASE, "pay", floors=[]), "PAI-1") == "not_recorded"
    hidden = with_part(BASE, "pay", at_or_above_floor=SUPPRESSED)
    assert status(hidden, "PAI-1") == "not_recorded"
    assert status(hidden, "FW-1.2") == "not_recorded"
    point = next(p for p in sc.partnership_on_ai(hidden).points if p.id == "PAI-1")
    assert f"fewer than {K} workers" in point.answer


@pytest.mark.parametrize(("timing", "paid", "expected"), [
    ({"median": 14.0, "p90": 30.0}, 0.95, "met"),
    ({"median": 14.0, "p90": 30.1}, 0.95, "partly"),
    ({"median": 14.1, "p90": 20.0}, 1.0, "partly"),
    ({"median": 3.0, "p90": 7.0}, 0.94, "partly"),
    ({"median": 30.0, "p90": 40.0}, 1.0, "partly"),
    ({"median": 30.1, "p90": 40.0}, 1.0, "not_met"),
])
def test_payment_timeliness_flips_at_its_days(timing: dict[str, float], paid: float,
                                              expected: str) -> None:
    f = with_part(BASE, "pay", days_to_payment=c(timing, 12), paid_share=c(paid, 12))
    assert status(f, "FW-1.1") == expected


def test_unpaid_rejected_work_keeps_fair_pay_partly() -> None:
    f = with_part(BASE, "pay", pay_rejected_work=False,
                  unpaid_hours={"rejected": c(0.5, 6)})
    assert status(f, "FW-1.1") == "partly"
    assert status(with_part(f, "pay", pay_rejected_work=True), "FW-1.1") == "met"


def test_no_payment_marked_is_not_recorded() -> None:
    f = with_part(BASE, "pay", days_to_payment=Cell(None, 0), paid_share=Cell(None, 0))
    assert status(f, "FW-1.1") == "not_recorded"
    assert status(with_part(BASE, "pay", days_to_payment=SUPPRESSED), "FW-1.1") == \
        "not_recorded"


# ------------------------------------------------------------------ instructions
V1 = VersionRow(1, "2024-01-01T00:00:00+00:00", "", "a" * 64, 200, 150, [])
V2 = VersionRow(2, "2024-01-05T00:00:00+00:00", "Clarified sarcasm.", "b" * 64, 220, 154, [])


@pytest.mark.parametrize(("versions", "expected"), [
    ([V1, V2], "met"),
    ([dataclasses.replace(V1, answers=0), V2], "partly"),
    ([V1], "not_recorded"),
])
def test_a_pilot_is_a_revision_after_answers(versions: list[VersionRow], expected: str) -> None:
    f = with_part(BASE, "instructions", versions=versions)
    assert status(f, "PAI-2") == expected


@pytest.mark.parametrize(("raised", "open_", "expected"), [
    (4, 0, "met"), (4, 2, "partly"), (4, 3, "not_met"), (0, 0, "met")])
def test_open_flags_decide_the_instructions_point(raised: int, open_: int,
                                                  expected: str) -> None:
    f = with_part(BASE, "instructions", flags_raised=c(raised, 6),
                  flags_answered=c(raised - open_, 6), flags_open=c(open_, 6))
    assert status(f, "PAI-4") == expected


def test_empty_or_hidden_instructions() -> None:
    empty = with_part(BASE, "instructions", versions=[dataclasses.replace(V1, words=0)])
    assert status(empty, "PAI-4") == "not_met"
    assert status(empty, "MS-2.8-002") == "not_met"
    assert status(with_part(BASE, "instructions", flags_open=SUPPRESSED), "PAI-4") == \
        "not_recorded"
    assert status(with_part(BASE, "instructions", versions=[]), "MS-2.8-002") == "not_recorded"


def test_documenting_instructions_needs_notes_and_versions_for_every_answer() -> None:
    noted = [V1, V2]  # 300 counted + 4 rejected answers in the sample, 150 + 154 here
    assert status(with_part(BASE, "instructions", versions=noted), "MS-2.8-002") == "met"
    assert status(with_part(BASE, "instructions", versions=noted), "CWS-TF3") == "met"
    short = [V1, dataclasses.replace(V2, answers=153)]  # one answer under no version
    assert status(with_part(BASE, "instructions", versions=short), "MS-2.8-002") == "partly"
    unnoted = [V1, dataclasses.replace(V2, change_note=" ")]
    assert status(with_part(BASE, "instructions", versions=unnoted), "MS-2.8-002") == "partly"
    assert status(with_part(BASE, "instructions", versions=unnoted), "CWS-TF3") == "partly"


# ------------------------------------------------------------------ selection, voice, management
@pytest.mark.parametrize(("size", "required", "gold", "expected"), [
    (5, [], 0.1, "met"), (0, ["english"], 0.1, "met"), (5, [], 0.0, "partly"),
    (0, [], 0.1, "partly"), (0, [], 0.0, "not_met")])
def test_worker_selection(size: int, required: list[str], gold: float, expected: str) -> None:
    f = with_part(with_part(BASE, "workforce", qualification_size=size), "project",
                  required_qualifications=required, gold_rate=gold)
    assert status(f, "PAI-3") == expected


@pytest.mark.parametrize(("days", "overdue", "expected"), [
    (sc.FLAG_ANSWER_DAYS, 0, "met"), (7.5, 0, "partly"), (2.0, 1, "partly"), (9.0, 2, "not_met")])
def test_communication_flips_at_seven_days_and_overdue_appeals(days: float, overdue: int,
                                                               expected: str) -> None:
    f = with_part(BASE, "voice", flags_median_days_to_answer=c(days, 6),
                  appeals_overdue=c(overdue, 5) if overdue else Cell(0, 0))
    assert status(f, "PAI-5") == expected


@pytest.mark.parametrize(("total", "overdue", "expected"), [
    (20, 0, "met"), (20, 2, "partly"), (20, 3, "not_met"), (0, 0, "met")])
def test_due_process_flips_at_a_tenth_overdue(total: int, overdue: int, expected: str) -> None:
    f = with_part(BASE, "voice", appeals_total=c(total, 8),
                  appeals_overdue=c(overdue, 6) if overdue else Cell(0, 0))
    assert status(f, "FW-4.1") == expected
    assert status(with_part(BASE, "voice", appeals_total=SUPPRESSED), "FW-4.1") == "not_recorded"


def _groups(a: float, b: float) -> list[SliceRow]:
    return [SliceRow("age_band", "25-34", 50, 150, c(a, 6)),
            SliceRow("age_band", "35-44", 50, 150, c(b, 6))]


@pytest.mark.parametrize(("a", "b", "expected"), [
    (0.80, 0.70, "met"), (0.80, 0.69, "partly"), (0.80, 0.60, "partly"),
    (0.80, 0.59, "not_met")])
def test_equity_flips_at_the_gap_between_groups(a: float, b: float, expected: str) -> None:
    assert status(with_part(BASE, "quality", by_group=_groups(a, b)), "FW-4.2") == expected


@given(st.floats(0, 1), st.floats(0, 1))
def test_equity_never_improves_as_the_gap_widens(a: float, b: float) -> None:
    rank = {"met": 0, "partly": 1, "not_met": 2}
    narrow = status(with_part(BASE, "quality", by_group=_groups(a, a + (b - a) / 2)), "FW-4.2")
    wide = status(with_part(BASE, "quality", by_group=_groups(a, b)), "FW-4.2")
    assert rank[narrow] <= rank[wide]


def test_equity_needs_two_published_groups() -> None:
    one = [SliceRow("age_band", "25-34", 50, 150, c(0.8, 6))]
    assert status(with_part(BASE, "quality", by_group=one), "FW-4.2") == "not_recorded"
    assert status(with_part(BASE, "quality", by_group=[]), "CWS-DA2") == "partly"


@pytest.mark.parametrize(("consented", "expected"), [
    (12, "met"), (11, "partly"), (0, "not_met")])
def test_terms(consented: int, expected: str) -> None:
    f = with_part(BASE, "workforce", consented=c(consented, consented or None),
                  workers=c(12, 12))
    assert status(f, "FW-3.1") == expected


# ------------------------------------------------------------------ exposure and well-being
def test_exposure_protections_count() -> None:
    assert status(BASE, "FW-2.1") == "met"  # blur, limits, breaks, support
    fewer = with_part(BASE, "wellbeing", support_resources="")
    assert status(fewer, "FW-2.1") == "partly"
    assert status(fewer, "CWS-TF4") == "met"
    none = with_part(fewer, "wellbeing", blur=False, limits={}, break_after_sensitive=None)
    assert status(none, "FW-2.1") == "not_met"
    assert status(with_part(none, "project", content_categories=[]), "CWS-TF4") == "not_met"
    calm = with_part(with_part(none, "wellbeing", categories=[], tagged_items={}), "project",
                     content_categories=[])
    assert status(calm, "FW-2.1") == "met"
    assert status(calm, "MS-2.6-001") == "not_recorded"


@pytest.mark.parametrize(("checkins", "tagged", "categories", "expected"), [
    (c(8, 6), {"hate": 12}, ["hate"], "met"),
    (Cell(0, 0), {"hate": 12}, ["hate"], "partly"),
    (c(8, 6), {}, ["hate"], "not_met"),
    (SUPPRESSED, {"hate": 12}, ["hate"], "not_recorded"),
])
def test_wellbeing_assessment(checkins: Cell, tagged: dict[str, int], categories: list[str],
                              expected: str) -> None:
    f = with_part(BASE, "wellbeing", checkins=checkins, tagged_items=tagged,
                  categories=categories)
    assert status(f, "MS-2.6-001") == expected


# ------------------------------------------------------------------ CrowdWorkSheets answers
def test_da3_relates_answers_to_labels() -> None:
    assert status(BASE, "CWS-DA3") == "met"
    hidden = with_part(BASE, "quality", match_share=SUPPRESSED)
    assert status(hidden, "CWS-DA3") == "partly"
    assert status(with_part(hidden, "quality", individual_answers_published=False,
                            soft_labels_published=False), "CWS-DA3") == "not_recorded"


def test_demographics_population() -> None:
    assert status(BASE, "CWS-SA5") == "met"
    nobody = with_part(BASE, "workforce", demographics=[], demographics_given=Cell(0, 0))
    assert status(nobody, "CWS-SA5") == "not_recorded"
    few = with_part(nobody, "workforce", demographics_given=SUPPRESSED)
    assert status(few, "CWS-SA5") == "partly"


def test_dataset_use_counts_what_is_stated() -> None:
    s = dict(BASE.stated)
    assert status(BASE, "CWS-DR3") == "met"
    s["license"] = ""
    assert status(dataclasses.replace(BASE, stated=s), "CWS-DR3") == "partly"
    s.update(use_cases="", maintenance_plan="")
    assert status(dataclasses.replace(BASE, stated=s), "CWS-DR3") == "not_recorded"


def test_compensation_and_quality_questions() -> None:
    assert status(with_part(BASE, "pay", floors=[]), "CWS-PI3") == "partly"
    assert status(with_part(BASE, "quality", agreement=None), "CWS-DA1") == "partly"
    assert status(with_part(BASE, "quality", agreement=None, gold_answers=Cell(0, 0)),
                  "CWS-DA1") == "not_recorded"
    quiet = with_part(with_part(BASE, "instructions", flags_raised=Cell(0, 0),
                                flags_answered=Cell(0, 0)), "voice", appeals_total=Cell(0, 0))
    assert status(quiet, "CWS-PI2") == "partly"


# ------------------------------------------------------------------ privacy
def _suppress_worker_cells(value: Any) -> Any:
    """*value* with every Cell that describes workers suppressed, as gather does below k."""
    if isinstance(value, Cell):
        return SUPPRESSED if value.workers else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: _suppress_worker_cells(getattr(value, f.name))
            for f in dataclasses.fields(value) if f.init})
    if isinstance(value, dict):
        return {k: _suppress_worker_cells(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_suppress_worker_cells(v) for v in value]
    return value


def test_no_point_is_judged_on_a_suppressed_figure() -> None:
    hidden = _suppress_worker_cells(BASE)
    got = {p.id: p for card in sc.all_scorecards(hidden) for p in card.points}
    # (PAI-5 may still be met: "no flag open, no appeal overdue" are published zeros.)
    for point in ("PAI-1", "PAI-4", "FW-1.1", "FW-1.2", "FW-3.1", "FW-4.1", "FW-4.2",
                  "CWS-SA1", "CWS-PI2", "MS-2.6-001"):
        assert got[point].status in ("not_recorded", "partly"), (point, got[point])
        assert got[point].status != "met"
    text = " ".join(e for p in got.values() for e in p.evidence)
    assert f"fewer than {K} workers" in text
    for figure in ("86%", "0.71", "USD 30.40", "12 of 12"):
        assert figure not in text, figure


def test_every_point_and_threshold_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "report.md").read_text()
    for card in sc.all_scorecards(BASE):
        for p in card.points:
            assert f"| {p.id} " in docs, f"{p.id} is missing from docs/report.md"
    for figure in (f"{sc.PAY_DAYS_MEDIAN:g} days", f"{sc.PAY_DAYS_P90:g} days",
                   f"≤ {sc.FLAG_ANSWER_DAYS:g} days", f"{100 * sc.FLOOR_VAST_MAJORITY:.0f}%",
                   f"{100 * sc.FLOOR_PARTLY:.0f}%", f"{100 * sc.PAID_SHARE_MIN:.0f}%",
                   f"≤ {100 * sc.EQUITY_GAP:.0f} points",
                   f"≤ {100 * sc.EQUITY_GAP_PARTLY:.0f} points",
                   f"≤ {100 * sc.OVERDUE_PARTLY:.0f}% overdue"):
        assert figure in docs, figure
