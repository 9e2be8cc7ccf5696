"""Pairwise comparison: validation against the project's tie and rationale rules, majority."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.pairwise import Pairwise

PAYLOAD = {"prompt": "Which is kinder?", "a": "Go away.", "b": "Please leave."}


def error_field(kind: Pairwise, answer: Any, payload: dict[str, Any] | None = None) -> str:
    with pytest.raises(KindError) as exc:
        kind.validate_answer(answer, PAYLOAD if payload is None else payload)
    return exc.value.field


def test_valid_answers() -> None:
    kind = Pairwise()
    assert kind.validate_answer({"choice": "A"}, PAYLOAD) == {"choice": "A"}
    assert kind.validate_answer({"choice": "tie", "rationale": "same"}, PAYLOAD) == {
        "choice": "tie",
        "rationale": "same",
    }


def test_payload() -> None:
    kind = Pairwise()
    assert kind.validate_payload({"a": "x", "b": "y"}) == {"a": "x", "b": "y"}
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"a": "x"})
    assert exc.value.field == "b"
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"a": "x", "b": 2})
    assert exc.value.field == "b"


def test_invalid_choice() -> None:
    kind = Pairwise()
    assert error_field(kind, {"choice": "C"}) == "answer.choice"
    assert error_field(kind, {"choice": "a"}) == "answer.choice"
    assert error_field(kind, {}) == "answer.choice"
    assert error_field(kind, {"choice": "A", "rationale": 5}) == "answer.rationale"


def test_tie_not_allowed() -> None:
    kind = Pairwise({"allow_tie": False})
    assert error_field(kind, {"choice": "tie"}) == "answer.choice"
    assert kind.validate_answer({"choice": "B"}, PAYLOAD) == {"choice": "B"}


def test_rationale_required() -> None:
    kind = Pairwise({"rationale": "required"})
    assert error_field(kind, {"choice": "A"}) == "answer.rationale"
    assert error_field(kind, {"choice": "A", "rationale": "  "}) == "answer.rationale"
    assert kind.validate_answer({"choice": "A", "rationale": "clearer"}, PAYLOAD)["rationale"]


def test_rationale_off() -> None:
    kind = Pairwise({"rationale": "off"})
    assert error_field(kind, {"choice": "A", "rationale": "x"}) == "answer.rationale"
    assert kind.validate_answer({"choice": "A"}, PAYLOAD) == {"choice": "A"}


def test_bad_config() -> None:
    with pytest.raises(KindError) as exc:
        Pairwise({"rationale": "sometimes"})
    assert exc.value.field == "rationale"


def test_coerce_gold() -> None:
    kind = Pairwise({"rationale": "required", "allow_tie": False})
    assert kind.coerce_gold("A") == {"choice": "A"}  # gold needs no rationale
    assert kind.coerce_gold({"choice": "B", "rationale": "r"}) == {"choice": "B", "rationale": "r"}
    for bad in ("tie", "C", 1, {"choice": "A", "why": "x"}):
        with pytest.raises(KindError) as exc:
            kind.coerce_gold(bad)
        assert exc.value.field == "gold"
    assert Pairwise().coerce_gold("tie") == {"choice": "tie"}
    with pytest.raises(KindError):
        Pairwise({"rationale": "off"}).coerce_gold({"choice": "A", "rationale": "x"})


def test_agreement_and_label() -> None:
    kind = Pairwise()
    assert kind.agreement({"choice": "A"}, {"choice": "A", "rationale": "x"}) == 1.0
    assert kind.agreement({"choice": "A"}, {"choice": "tie"}) == 0.0
    assert kind.categorical_label({"choice": "B"}) == "B"
    assert kind.summarize({"choice": "B", "rationale": "more\nhelpful"}) == "B: more helpful"
    assert kind.summarize({"choice": "tie"}) == "tie"


def test_aggregate() -> None:
    kind = Pairwise()
    agg = kind.aggregate([{"choice": "B", "rationale": "x"}, {"choice": "A"}, {"choice": "B"}])
    assert agg.answer == {"choice": "B"}
    assert agg.confidence == pytest.approx(2 / 3)
    assert agg.n_answers == 3
    # equally popular choices: A before B before tie
    assert kind.aggregate([{"choice": "B"}, {"choice": "A"}]).answer == {"choice": "A"}
    tied = kind.aggregate([{"choice": "tie"}, {"choice": "B"}, {"choice": "tie"}, {"choice": "B"}])
    assert tied.answer == {"choice": "B"}
    assert tied.confidence == 0.5


choices = st.lists(st.sampled_from(["A", "B", "tie"]), min_size=1, max_size=12)


@settings(database=None)
@given(choices, st.randoms(use_true_random=False))
def test_aggregate_ignores_answer_order(picks: list[str], rnd: Any) -> None:
    kind = Pairwise()
    answers = [{"choice": c} for c in picks]
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    a, b = kind.aggregate(answers), kind.aggregate(shuffled)
    assert a == b
    assert 1 / 3 <= a.confidence <= 1.0
    assert a.answer is not None and picks.count(a.answer["choice"]) == max(map(picks.count, picks))


@settings(database=None)
@given(st.sampled_from(["A", "B", "tie"]), st.sampled_from(["A", "B", "tie"]))
def test_agreement_symmetric(x: str, y: str) -> None:
    kind = Pairwise()
    assert kind.agreement({"choice": x}, {"choice": y}) == kind.agreement(
        {"choice": y}, {"choice": x}
    )
    assert kind.agreement({"choice": x}, {"choice": x}) == 1.0
