"""Red teaming: required prompt/response, harm category on success, outcome majority."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.redteam import Redteam

CONFIG = {"harm_categories": ["weapons", "cyber", "self-harm"]}


def ans(succeeded: bool, category: str | None = None, prompt: str = "p") -> dict[str, Any]:
    return {
        "prompt": prompt,
        "response": "r",
        "attack_succeeded": succeeded,
        "harm_category": category,
        "notes": "",
    }


def error_field(answer: Any, config: dict[str, Any] = CONFIG) -> str:
    with pytest.raises(KindError) as exc:
        Redteam(config).validate_answer(answer, {"goal": "g"})
    return exc.value.field


def test_config_errors() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "harm_categories"),
        ({"harm_categories": []}, "harm_categories"),
        ({"harm_categories": ["cyber", "cyber"]}, "harm_categories.1"),
        ({"harm_categories": ["cyber", " "]}, "harm_categories.1"),
    ]
    for config, field in cases:
        with pytest.raises(KindError) as exc:
            Redteam(config)
        assert exc.value.field == field


def test_payload_is_all_optional() -> None:
    kind = Redteam(CONFIG)
    assert kind.validate_payload({}) == {}
    assert kind.validate_payload({"goal": "g", "target": "model-x"}) == {
        "goal": "g",
        "target": "model-x",
    }
    with pytest.raises(KindError) as exc:
        kind.validate_payload({"goal": 3})
    assert exc.value.field == "goal"


def test_valid_answers() -> None:
    kind = Redteam(CONFIG)
    assert kind.validate_answer(ans(True, "cyber")) == ans(True, "cyber")
    failed = kind.validate_answer({"prompt": "p", "response": "r", "attack_succeeded": False})
    assert failed == {"prompt": "p", "response": "r", "attack_succeeded": False, "notes": ""}
    loose = Redteam({**CONFIG, "require_response": False})
    assert loose.validate_answer({"prompt": "p", "attack_succeeded": False})["prompt"] == "p"


def test_answer_errors() -> None:
    assert error_field({**ans(False), "prompt": "  "}) == "answer.prompt"
    missing_prompt = {k: v for k, v in ans(False).items() if k != "prompt"}
    assert error_field(missing_prompt) == "answer.prompt"
    assert error_field({**ans(False), "response": None}) == "answer.response"
    assert error_field({**ans(False), "response": ""}) == "answer.response"
    assert error_field(ans(True)) == "answer.harm_category"
    assert error_field(ans(True, "fraud")) == "answer.harm_category"
    assert error_field(ans(False, "fraud")) == "answer.harm_category"
    assert error_field({**ans(False), "attack_succeeded": "yes"}) == "answer.attack_succeeded"
    assert error_field({**ans(False), "attack_succeeded": 1}) == "answer.attack_succeeded"
    assert error_field({**ans(False), "notes": None}) == "answer.notes"


def test_agreement() -> None:
    kind = Redteam(CONFIG)
    assert kind.agreement(ans(False), ans(False, "cyber")) == 1.0  # category ignored on failure
    assert kind.agreement(ans(True, "cyber"), ans(False)) == 0.0
    assert kind.agreement(ans(True, "cyber"), ans(True, "cyber", prompt="q")) == 1.0
    assert kind.agreement(ans(True, "cyber"), ans(True, "weapons")) == 0.0


def test_aggregate() -> None:
    kind = Redteam(CONFIG)
    answers = [ans(False, prompt="p0"), ans(True, "cyber", "p1"), ans(True, "cyber", "p2")]
    agg = kind.aggregate(answers)
    assert agg.answer == answers[1]  # the first answer with the winning outcome
    assert agg.confidence == pytest.approx(2 / 3)
    # equally common: success before failure, then the configuration's category order
    assert kind.aggregate([ans(False), ans(True, "self-harm")]).answer == ans(True, "self-harm")
    tie = kind.aggregate([ans(True, "cyber"), ans(True, "weapons")])
    assert tie.answer == ans(True, "weapons")
    assert tie.confidence == 0.5
    # failures with different (ignored) categories vote together
    failed = kind.aggregate([ans(False, "cyber"), ans(False), ans(True, "cyber")])
    assert failed.answer == ans(False, "cyber")
    assert failed.confidence == pytest.approx(2 / 3)


def test_label_and_summary() -> None:
    kind = Redteam(CONFIG)
    assert kind.categorical_label(ans(True, "cyber")) == "succeeded"
    assert kind.categorical_label(ans(False)) == "failed"
    assert kind.summarize(ans(True, "cyber")) == "succeeded (cyber)"
    assert kind.summarize(ans(False, "cyber")) == "failed"


outcomes = st.one_of(
    st.builds(ans, st.just(False), st.none() | st.sampled_from(CONFIG["harm_categories"])),
    st.builds(ans, st.just(True), st.sampled_from(CONFIG["harm_categories"])),
)


@settings(database=None)
@given(st.lists(outcomes, min_size=1, max_size=9), st.randoms(use_true_random=False))
def test_aggregate_outcome_ignores_answer_order(answers: list[dict[str, Any]], rnd: Any) -> None:
    kind = Redteam(CONFIG)
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    a, b = kind.aggregate(answers), kind.aggregate(shuffled)
    assert a.answer is not None and b.answer is not None
    assert kind.answer_key(a.answer) == kind.answer_key(b.answer)
    assert a.confidence == b.confidence
    assert a.answer in answers


@settings(database=None)
@given(outcomes, outcomes)
def test_agreement_properties(a: dict[str, Any], b: dict[str, Any]) -> None:
    kind = Redteam(CONFIG)
    assert kind.agreement(a, b) == kind.agreement(b, a)
    assert kind.agreement(a, a) == 1.0
    assert kind.agreement(a, b) == float(kind.categorical_label(a) == kind.categorical_label(b)) * (
        1.0 if not a["attack_succeeded"] else float(a["harm_category"] == b["harm_category"])
    )
