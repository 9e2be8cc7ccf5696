"""Moderation: decision, categories and severity checks; mixed agreement; majority/median."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.moderation import Moderation

CONFIG = {"categories": ["hate", "spam", "violence"]}
PAYLOAD = {"text": "buy cheap pills", "context": "forum reply"}


def ans(decision: str, categories: list[str], severity: int, **extra: Any) -> dict[str, Any]:
    return {"decision": decision, "categories": categories, "severity": severity, **extra}


def error_field(answer: Any) -> str:
    with pytest.raises(KindError) as exc:
        Moderation(CONFIG).validate_answer(answer, PAYLOAD)
    return exc.value.field


def test_config() -> None:
    kind = Moderation(CONFIG)
    assert kind.config.decisions == ["allow", "remove", "escalate"]
    assert (kind.config.severity_min, kind.config.severity_max) == (0, 3)
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "categories"),
        ({"categories": []}, "categories"),
        ({"categories": ["hate", "hate"]}, "categories.1"),
        ({**CONFIG, "decisions": ["allow", "remove", "allow"]}, "decisions.2"),
        ({**CONFIG, "decisions": ["allow"]}, "decisions"),
        ({**CONFIG, "severity_min": 4}, "severity_max"),
    ]
    for config, field in cases:
        with pytest.raises(KindError) as exc:
            Moderation(config)
        assert exc.value.field == field


def test_payload() -> None:
    kind = Moderation(CONFIG)
    assert kind.validate_payload({"text": "t"}) == {"text": "t"}
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"context": "c"})
    assert exc.value.field == "text"


def test_valid_answers() -> None:
    kind = Moderation(CONFIG)
    # categories come back in the configuration's order
    assert kind.validate_answer(ans("remove", ["violence", "hate"], 3, note="n"), PAYLOAD) == (
        ans("remove", ["hate", "violence"], 3, note="n")
    )
    # a decision other than "allow" without any category is accepted
    assert kind.validate_answer(ans("escalate", [], 1), PAYLOAD) == ans("escalate", [], 1)
    assert kind.validate_answer({"decision": "allow", "severity": 0}, PAYLOAD) == (
        ans("allow", [], 0)
    )


def test_answer_errors() -> None:
    assert error_field(ans("delete", [], 1)) == "answer.decision"
    assert error_field(ans("remove", ["spam", "porn"], 1)) == "answer.categories.1"
    assert error_field(ans("remove", ["spam", "hate", "spam"], 1)) == "answer.categories.2"
    assert error_field(ans("remove", ["spam"], 4)) == "answer.severity"
    assert error_field(ans("remove", ["spam"], -1)) == "answer.severity"
    assert error_field({"decision": "remove", "categories": ["spam"]}) == "answer.severity"
    assert error_field({**ans("remove", [], 1), "severity": "1"}) == "answer.severity"
    assert error_field({**ans("remove", [], 1), "categories": "spam"}) == "answer.categories"


def test_agreement_by_hand() -> None:
    kind = Moderation(CONFIG)
    # same decision; Jaccard({hate, spam}, {spam}) = 1/2
    assert kind.agreement(ans("remove", ["hate", "spam"], 2), ans("remove", ["spam"], 3)) == 0.75
    assert kind.agreement(ans("remove", ["spam"], 2), ans("escalate", ["spam"], 2)) == 0.5
    assert kind.agreement(ans("allow", [], 0), ans("allow", [], 1)) == 1.0
    assert kind.agreement(ans("allow", [], 0), ans("remove", ["spam"], 1)) == 0.0


def test_aggregate_by_hand() -> None:
    kind = Moderation(CONFIG)
    answers = [
        ans("remove", ["hate"], 2),
        ans("remove", ["hate", "spam"], 3, note="x"),
        ans("allow", [], 0),
    ]
    agg = kind.aggregate(answers)
    assert agg.answer == ans("remove", ["hate"], 2)
    assert agg.confidence == pytest.approx(2 / 3)
    assert agg.n_answers == 3


def test_aggregate_ties() -> None:
    kind = Moderation(CONFIG)
    # equally popular decisions: the one listed first in the configuration wins;
    # severity median 1.5 rounds half to even -> 2, and 0.5 -> 0
    agg = kind.aggregate([ans("remove", ["spam"], 3), ans("allow", ["spam"], 0)])
    assert agg.answer == ans("allow", ["spam"], 2)
    assert agg.confidence == 0.5
    assert kind.aggregate([ans("escalate", [], 0), ans("remove", [], 1)]).answer == (
        ans("remove", [], 0)
    )


def test_label_and_summary() -> None:
    kind = Moderation(CONFIG)
    assert kind.categorical_label(ans("escalate", [], 1)) == "escalate"
    assert kind.summarize(ans("remove", ["hate", "spam"], 2)) == "remove (hate, spam; severity 2)"
    assert kind.summarize(ans("allow", [], 0)) == "allow (no category; severity 0)"


answers_st = st.builds(
    ans,
    st.sampled_from(["allow", "remove", "escalate"]),
    st.lists(st.sampled_from(CONFIG["categories"]), unique=True),
    st.integers(0, 3),
)


@settings(database=None)
@given(answers_st, answers_st)
def test_agreement_properties(a: dict[str, Any], b: dict[str, Any]) -> None:
    kind = Moderation(CONFIG)
    assert kind.agreement(a, b) == kind.agreement(b, a)
    assert 0.0 <= kind.agreement(a, b) <= 1.0
    assert kind.agreement(a, a) == 1.0


@settings(database=None)
@given(st.lists(answers_st, min_size=1, max_size=9), st.randoms(use_true_random=False))
def test_aggregate_properties(answers: list[dict[str, Any]], rnd: Any) -> None:
    kind = Moderation(CONFIG)
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    agg = kind.aggregate(answers)
    assert agg == kind.aggregate(shuffled)
    assert agg.answer is not None
    assert kind.validate_answer(agg.answer, PAYLOAD) == agg.answer
    assert agg.confidence == max(
        sum(a["decision"] == d for a in answers) for d in ("allow", "remove", "escalate")
    ) / len(answers)
