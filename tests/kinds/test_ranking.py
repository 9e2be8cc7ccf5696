"""Ranking: permutation checks, Kendall-tau agreement and Borda aggregation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.ranking import Ranking, kendall_tau

PAYLOAD = {"prompt": "Best summary?", "candidates": ["x", "y", "z"]}


def error_field(kind: Ranking, answer: Any, payload: dict[str, Any] | None = None) -> str:
    with pytest.raises(KindError) as exc:
        kind.validate_answer(answer, PAYLOAD if payload is None else payload)
    return exc.value.field


def test_config_and_payload() -> None:
    with pytest.raises(KindError) as exc:
        Ranking({"min_candidates": 1})
    assert exc.value.field == "min_candidates"
    kind = Ranking()
    assert kind.validate_payload({"candidates": ["x", "y"]}) == {"candidates": ["x", "y"]}
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"candidates": ["x"]})
    assert exc.value.field == "candidates"
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"candidates": ["x", "y", 3]})
    assert exc.value.field == "candidates.2"
    with pytest.raises(KindError) as exc:
        Ranking({"min_candidates": 3}).validate_payload({"candidates": ["x", "y"]})
    assert exc.value.field == "candidates"


def test_valid_answer() -> None:
    assert Ranking().validate_answer({"order": [2, 0, 1]}, PAYLOAD) == {"order": [2, 0, 1]}


def test_invalid_orders() -> None:
    kind = Ranking()
    assert error_field(kind, {"order": [0, 3, 1]}) == "answer.order.1"
    assert error_field(kind, {"order": [0, -1, 1]}) == "answer.order.1"
    assert error_field(kind, {"order": [0, 1, 0]}) == "answer.order.2"
    assert error_field(kind, {"order": [0, 1]}) == "answer.order"
    assert error_field(kind, {"order": ["0", 1, 2]}) == "answer.order.0"
    assert error_field(kind, {"order": [True, 0, 2]}) == "answer.order.0"
    assert error_field(kind, {"order": [0, 1, 2, 3]}) == "answer.order.3"
    assert error_field(kind, {}) == "answer.order"


def test_order_without_payload_must_be_a_permutation() -> None:
    kind = Ranking()
    assert kind.validate_answer({"order": [1, 0]}) == {"order": [1, 0]}
    assert error_field(kind, {"order": [0, 2]}, {}) == "answer.order.1"
    assert error_field(kind, {"order": [0]}, {}) == "answer.order"
    assert kind.coerce_gold({"order": [2, 1, 0]}) == {"order": [2, 1, 0]}


def test_kendall_tau_by_hand() -> None:
    assert kendall_tau([0, 1, 2], [0, 1, 2]) == 1.0
    assert kendall_tau([0, 1, 2, 3], [3, 2, 1, 0]) == -1.0
    # pairs (0,1) discordant, (0,2) and (1,2) concordant: (2 - 1) / 3
    assert kendall_tau([0, 1, 2], [1, 0, 2]) == pytest.approx(1 / 3)
    kind = Ranking()
    assert kind.agreement({"order": [0, 1, 2]}, {"order": [1, 0, 2]}) == pytest.approx(2 / 3)
    assert kind.agreement({"order": [0, 1, 2, 3]}, {"order": [3, 2, 1, 0]}) == 0.0


def test_borda_by_hand() -> None:
    kind = Ranking()
    answers = [{"order": [0, 1, 2]}, {"order": [1, 0, 2]}, {"order": [0, 2, 1]}]
    # points: 0 -> 2+1+2 = 5, 1 -> 1+2+0 = 3, 2 -> 0+0+1 = 1
    agg = kind.aggregate(answers)
    assert agg.answer == {"order": [0, 1, 2]}
    assert agg.method == "borda"
    assert agg.n_answers == 3
    assert agg.confidence == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


def test_borda_ties_go_to_lower_index() -> None:
    agg = Ranking().aggregate([{"order": [1, 0]}, {"order": [0, 1]}])
    assert agg.answer == {"order": [0, 1]}
    assert agg.confidence == 0.5


def test_summary() -> None:
    kind = Ranking()
    assert kind.summarize({"order": [2, 0, 1]}) == "2 > 0 > 1"
    assert kind.categorical_label({"order": [2, 0, 1]}) is None


@st.composite
def orders(draw: st.DrawFn, n: int) -> list[int]:
    return draw(st.permutations(list(range(n))))


@st.composite
def answer_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(2, 6))
    return [{"order": o} for o in draw(st.lists(orders(n), min_size=1, max_size=8))]


@settings(database=None)
@given(st.integers(2, 7).flatmap(orders), st.integers(1, 6))
def test_identical_orders_aggregate_to_that_order(order: list[int], copies: int) -> None:
    agg = Ranking().aggregate([{"order": order}] * copies)
    assert agg.answer == {"order": order}
    assert agg.confidence == 1.0


@settings(database=None)
@given(answer_sets(), st.randoms(use_true_random=False))
def test_aggregate_ignores_answer_order(answers: list[dict[str, Any]], rnd: Any) -> None:
    kind = Ranking()
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    a, b = kind.aggregate(answers), kind.aggregate(shuffled)
    assert a == b
    assert 0.0 <= a.confidence <= 1.0
    assert a.answer is not None
    assert sorted(a.answer["order"]) == list(range(len(answers[0]["order"])))


@settings(database=None)
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(orders(n), orders(n))))
def test_agreement_properties(pair: tuple[list[int], list[int]]) -> None:
    kind = Ranking()
    a, b = {"order": pair[0]}, {"order": pair[1]}
    assert kind.agreement(a, b) == kind.agreement(b, a)
    assert 0.0 <= kind.agreement(a, b) <= 1.0
    assert kind.agreement(a, a) == 1.0
    assert kind.agreement(a, {"order": pair[0][::-1]}) == 0.0
