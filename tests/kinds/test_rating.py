"""Rating: criteria configuration, per-criterion score checks, median aggregation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.rating import Rating

CONFIG = {
    "criteria": [
        {"name": "fluency", "anchors": {"1": "unusable", "5": "native"}},
        {"name": "accuracy", "min": 0, "max": 10},
    ]
}
PAYLOAD = {"text": "Bonjour", "prompt": "Translate 'hello'"}


def config_error(config: dict[str, Any]) -> str:
    with pytest.raises(KindError) as exc:
        Rating(config)
    return exc.value.field


def error_field(answer: Any) -> str:
    with pytest.raises(KindError) as exc:
        Rating(CONFIG).validate_answer(answer, PAYLOAD)
    return exc.value.field


def test_config_errors() -> None:
    assert config_error({}) == "criteria"
    assert config_error({"criteria": []}) == "criteria"
    assert config_error({"criteria": [{"name": "a"}, {"name": "a"}]}) == "criteria.1.name"
    assert config_error({"criteria": [{"name": " "}]}) == "criteria.0.name"
    assert config_error({"criteria": [{"name": "a", "min": 3, "max": 3}]}) == "criteria.0.max"
    assert config_error({"criteria": [{"name": "a", "anchors": {"6": "x"}}]}) == (
        "criteria.0.anchors.6"
    )
    assert config_error({"criteria": [{"name": "a", "anchors": {"good": "x"}}]}) == (
        "criteria.0.anchors.good"
    )
    assert config_error({"criteria": [{"name": "a", "weight": 2}]}) == "criteria.0.weight"


def test_valid_answer() -> None:
    kind = Rating(CONFIG)
    answer = {"scores": {"fluency": 5, "accuracy": 0}, "comment": "ok"}
    assert kind.validate_answer(answer, PAYLOAD) == answer
    assert kind.validate_payload({"text": "t"}) == {"text": "t"}
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"prompt": "p"})
    assert exc.value.field == "text"


def test_answer_errors() -> None:
    assert error_field({"scores": {"fluency": 3}}) == "answer.scores.accuracy"
    assert error_field({"scores": {"fluency": 6, "accuracy": 1}}) == "answer.scores.fluency"
    assert error_field({"scores": {"fluency": 0, "accuracy": 1}}) == "answer.scores.fluency"
    assert error_field({"scores": {"fluency": 3, "accuracy": 11}}) == "answer.scores.accuracy"
    assert error_field({"scores": {"fluency": 3, "accuracy": 1, "style": 2}}) == (
        "answer.scores.style"
    )
    assert error_field({"scores": {"fluency": "3", "accuracy": 1}}) == "answer.scores.fluency"
    assert error_field({"scores": {"fluency": 3.0, "accuracy": 1}}) == "answer.scores.fluency"
    assert error_field({"scores": {"fluency": True, "accuracy": 1}}) == "answer.scores.fluency"
    assert error_field({"scores": {"fluency": 3, "accuracy": 1}, "comment": 4}) == (
        "answer.comment"
    )
    assert error_field({}) == "answer.scores"


def test_agreement_by_hand() -> None:
    kind = Rating(CONFIG)
    a = {"scores": {"fluency": 4, "accuracy": 10}}
    b = {"scores": {"fluency": 2, "accuracy": 5}}
    # fluency 1 - 2/4 = 0.5, accuracy 1 - 5/10 = 0.5
    assert kind.agreement(a, b) == pytest.approx(0.5)
    c = {"scores": {"fluency": 5, "accuracy": 0}}
    d = {"scores": {"fluency": 1, "accuracy": 10}}
    assert kind.agreement(c, d) == 0.0
    assert kind.agreement(a, {"scores": {"fluency": 4, "accuracy": 9}}) == pytest.approx(0.95)


def test_median_aggregate_by_hand() -> None:
    kind = Rating({"criteria": [{"name": "q"}]})
    agg = kind.aggregate([{"scores": {"q": s}} for s in (5, 3, 4)])
    assert agg.answer == {"scores": {"q": 4}}
    assert agg.method == "median"
    assert agg.confidence == pytest.approx((0.75 + 0.75 + 1) / 3)
    # even counts: the midpoint is rounded half to even
    assert kind.aggregate([{"scores": {"q": s}} for s in (2, 3)]).answer == {"scores": {"q": 2}}
    assert kind.aggregate([{"scores": {"q": s}} for s in (3, 4)]).answer == {"scores": {"q": 4}}
    even = kind.aggregate([{"scores": {"q": s}} for s in (1, 2, 4, 5)])
    assert even.answer == {"scores": {"q": 3}}
    assert even.confidence == pytest.approx((0.5 + 0.75 + 0.75 + 0.5) / 4)


def test_two_criteria_aggregate() -> None:
    kind = Rating(CONFIG)
    answers: list[dict[str, Any]] = [
        {"scores": {"fluency": 5, "accuracy": 2}, "comment": "x"},
        {"scores": {"fluency": 4, "accuracy": 8}},
        {"scores": {"fluency": 5, "accuracy": 6}},
    ]
    agg = kind.aggregate(answers)
    assert agg.answer == {"scores": {"fluency": 5, "accuracy": 6}}
    expected = ((1 + 0.6) / 2 + (0.75 + 0.8) / 2 + 1.0) / 3
    assert agg.confidence == pytest.approx(expected)


def test_label_and_summary() -> None:
    single = Rating({"criteria": [{"name": "q"}]})
    assert single.categorical_label({"scores": {"q": 4}}) == "4"
    kind = Rating(CONFIG)
    assert kind.categorical_label({"scores": {"fluency": 4, "accuracy": 1}}) is None
    assert kind.summarize({"scores": {"accuracy": 7, "fluency": 4}}) == "fluency=4, accuracy=7"


scores = st.fixed_dictionaries(
    {"fluency": st.integers(1, 5), "accuracy": st.integers(0, 10)}
).map(lambda s: {"scores": s})


@settings(database=None)
@given(scores, scores)
def test_agreement_properties(a: dict[str, Any], b: dict[str, Any]) -> None:
    kind = Rating(CONFIG)
    assert kind.agreement(a, b) == kind.agreement(b, a)
    assert 0.0 <= kind.agreement(a, b) <= 1.0
    assert kind.agreement(a, a) == 1.0


@settings(database=None)
@given(st.lists(scores, min_size=1, max_size=9), st.randoms(use_true_random=False))
def test_aggregate_properties(answers: list[dict[str, Any]], rnd: Any) -> None:
    kind = Rating(CONFIG)
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    agg = kind.aggregate(answers)
    assert agg == kind.aggregate(shuffled)
    assert 0.0 <= agg.confidence <= 1.0
    assert agg.answer is not None
    assert kind.validate_answer(agg.answer, PAYLOAD) == agg.answer  # a valid answer itself
