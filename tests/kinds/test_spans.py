"""Span labelling: bounds, labels, duplicates and overlaps; span F1; majority aggregation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.spans import Spans, span_f1

TEXT = "Ada Lovelace met Babbage in London."  # 35 characters
PAYLOAD = {"text": TEXT}
CONFIG = {"labels": ["PER", "LOC"]}


def sp(start: int, end: int, label: str = "PER") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def error_field(answer: Any, config: dict[str, Any] = CONFIG) -> str:
    with pytest.raises(KindError) as exc:
        Spans(config).validate_answer(answer, PAYLOAD)
    return exc.value.field


def test_config_errors() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"labels": []}, "labels"),
        ({"labels": ["PER", "LOC", "PER"]}, "labels.2"),
        ({"labels": [""]}, "labels.0"),
        ({}, "labels"),
    ]
    for config, field in cases:
        with pytest.raises(KindError) as exc:
            Spans(config)
        assert exc.value.field == field


def test_valid_answer_is_sorted() -> None:
    kind = Spans(CONFIG)
    answer = {"spans": [sp(27, 33, "LOC"), sp(17, 24), sp(0, 12)]}
    assert kind.validate_answer(answer, PAYLOAD) == {
        "spans": [sp(0, 12), sp(17, 24), sp(27, 33, "LOC")]
    }
    assert kind.validate_answer({"spans": []}, PAYLOAD) == {"spans": []}
    assert kind.validate_answer({"spans": [sp(0, 3), sp(3, 12)]}, PAYLOAD)  # adjacent is fine
    assert kind.validate_answer({"spans": [sp(0, 35)]}, PAYLOAD)  # up to the end


def test_answer_errors() -> None:
    assert error_field({"spans": [sp(-1, 3)]}) == "answer.spans.0.start"
    assert error_field({"spans": [sp(0, 3), sp(5, 5)]}) == "answer.spans.1.end"
    assert error_field({"spans": [sp(0, 3), sp(30, 36)]}) == "answer.spans.1.end"
    assert error_field({"spans": [sp(0, 3, "ORG")]}) == "answer.spans.0.label"
    assert error_field({"spans": [sp(0, 3), sp(5, 9), sp(0, 3)]}) == "answer.spans.2"
    assert error_field({"spans": [{"start": 0, "end": 3}]}) == "answer.spans.0.label"
    assert error_field({"spans": [{**sp(0, 3), "text": "Ada"}]}) == "answer.spans.0.text"
    assert error_field({"spans": [sp(0, 3), {**sp(4, 6), "end": "6"}]}) == "answer.spans.1.end"
    assert error_field({}) == "answer.spans"


def test_overlaps() -> None:
    # the later-starting span is the one reported, by its index in the answer as given
    assert error_field({"spans": [sp(4, 12), sp(0, 5)]}) == "answer.spans.0"
    assert error_field({"spans": [sp(0, 20), sp(17, 24), sp(2, 3)]}) == "answer.spans.2"
    assert error_field({"spans": [sp(0, 12), sp(0, 12, "LOC")]}) == "answer.spans.1"
    allowing = {**CONFIG, "allow_overlap": True}
    answer = {"spans": [sp(0, 12), sp(0, 12, "LOC"), sp(4, 12)]}
    assert len(Spans(allowing).validate_answer(answer, PAYLOAD)["spans"]) == 3
    assert error_field({"spans": [sp(0, 12), sp(0, 12)]}, allowing) == "answer.spans.1"


def test_without_payload_text_the_bound_is_not_checked() -> None:
    assert Spans(CONFIG).coerce_gold({"spans": [sp(100, 200)]}) == {"spans": [sp(100, 200)]}


def test_span_f1_by_hand() -> None:
    a = [sp(0, 3), sp(5, 8, "LOC")]
    b = [sp(0, 3), sp(5, 9, "LOC")]
    assert span_f1(a, b) == 0.5  # 2 * 1 / (2 + 2)
    assert span_f1(a, b, "overlap") == 1.0
    assert span_f1(a, [sp(5, 9)], "overlap") == 0.0  # overlaps, but a different label
    # precision 1/1, recall 1/2
    assert span_f1([sp(0, 3), sp(10, 12)], [sp(1, 2)], "overlap") == pytest.approx(2 / 3)
    assert span_f1([sp(0, 3), sp(10, 12)], [sp(1, 2)], "exact") == 0.0
    assert span_f1([], []) == 1.0
    assert span_f1(a, []) == 0.0
    assert span_f1([], a, "overlap") == 0.0
    with pytest.raises(ValueError):
        span_f1(a, b, "fuzzy")  # type: ignore[arg-type]


def test_agreement_is_exact_f1() -> None:
    kind = Spans(CONFIG)
    assert kind.agreement({"spans": [sp(0, 3)]}, {"spans": [sp(0, 3), sp(4, 6)]}) == (
        pytest.approx(2 / 3)
    )
    assert kind.agreement({"spans": []}, {"spans": []}) == 1.0


def test_aggregate_by_hand() -> None:
    kind = Spans(CONFIG)
    s1, s2, s3 = sp(0, 3), sp(4, 12), sp(27, 33, "LOC")
    agg = kind.aggregate([{"spans": [s1, s2]}, {"spans": [s1]}, {"spans": [s3, s1]}])
    assert agg.answer == {"spans": [s1]}
    assert agg.n_answers == 3
    # s1: 3/3 -> 1, s2 and s3: 1/3 -> max(1/3, 2/3)
    assert agg.confidence == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    half = kind.aggregate([{"spans": [s1]}, {"spans": []}])
    assert half.answer == {"spans": []}  # exactly half is not more than half
    assert half.confidence == 0.5
    none = kind.aggregate([{"spans": []}, {"spans": []}])
    assert none.answer == {"spans": []}
    assert none.confidence == 1.0


def test_summary() -> None:
    kind = Spans(CONFIG)
    assert kind.summarize({"spans": [sp(27, 33, "LOC"), sp(0, 3)]}) == "PER[0:3], LOC[27:33]"
    assert kind.summarize({"spans": []}) == "(none)"


span_lists = st.lists(
    st.builds(sp, st.integers(0, 20), st.integers(21, 35), st.sampled_from(["PER", "LOC"]))
    | st.tuples(st.integers(0, 34), st.integers(1, 10), st.sampled_from(["PER", "LOC"])).map(
        lambda t: sp(t[0], min(t[0] + t[1], 35), t[2])
    ),
    max_size=6,
)


@settings(database=None)
@given(span_lists, span_lists, st.sampled_from(["exact", "overlap"]))
def test_span_f1_properties(a: list[dict[str, Any]], b: list[dict[str, Any]], mode: Any) -> None:
    value = span_f1(a, b, mode)
    assert 0.0 <= value <= 1.0
    assert value == span_f1(b, a, mode)
    assert span_f1(a, a, mode) == 1.0
    if mode == "overlap":
        assert value >= span_f1(a, b, "exact")


@st.composite
def valid_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Non-overlapping spans: cut points chosen from the text, every other piece labelled."""
    cuts = sorted(draw(st.sets(st.integers(0, 35), max_size=8)))
    pieces = list(zip(cuts, cuts[1:], strict=False))[:: draw(st.sampled_from([1, 2]))]
    keep = draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    n = len(pieces)
    labels = draw(st.lists(st.sampled_from(["PER", "LOC"]), min_size=n, max_size=n))
    spans = [sp(s, e, lab) for (s, e), k, lab in zip(pieces, keep, labels, strict=True) if k]
    return Spans(CONFIG).validate_answer({"spans": spans}, PAYLOAD)


@settings(database=None)
@given(st.lists(valid_answers(), min_size=1, max_size=7), st.randoms(use_true_random=False))
def test_aggregate_properties(answers: list[dict[str, Any]], rnd: Any) -> None:
    kind = Spans(CONFIG)
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    agg = kind.aggregate(answers)
    assert agg == kind.aggregate(shuffled)
    assert 0.5 <= agg.confidence <= 1.0
    assert agg.answer is not None
    # a majority of non-overlapping answers cannot produce overlapping spans
    assert kind.validate_answer(agg.answer, PAYLOAD) == agg.answer
