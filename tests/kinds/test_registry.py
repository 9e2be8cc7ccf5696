"""The registry finds every built-in kind, and every kind keeps the shared contract."""

from __future__ import annotations

from typing import Any

import pytest

from handloom.kinds import BUILTIN_MODULES
from handloom.kinds.base import Aggregate, KindError, TaskKind, get_kind, kind_names

# kind name -> (config, payload, a valid answer)
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "classification": ({"labels": ["pos", "neg"]}, {"text": "fine"}, {"label": "pos"}),
    "pairwise": ({}, {"a": "x", "b": "y"}, {"choice": "A", "rationale": "shorter"}),
    "ranking": ({}, {"candidates": ["x", "y", "z"]}, {"order": [2, 0, 1]}),
    "rating": ({"criteria": [{"name": "fluency"}]}, {"text": "t"}, {"scores": {"fluency": 4}}),
    "freetext": ({}, {"prompt": "Say hi"}, {"text": "hello world"}),
    "spans": (
        {"labels": ["PER"]},
        {"text": "Ada Lovelace"},
        {"spans": [{"start": 0, "end": 3, "label": "PER"}]},
    ),
    "moderation": (
        {"categories": ["hate", "spam"]},
        {"text": "buy now"},
        {"decision": "remove", "categories": ["spam"], "severity": 2},
    ),
    "redteam": (
        {"harm_categories": ["weapons"]},
        {"goal": "get instructions"},
        {
            "prompt": "p",
            "response": "r",
            "attack_succeeded": True,
            "harm_category": "weapons",
        },
    ),
}


def test_every_kind_is_registered() -> None:
    assert kind_names() == sorted(SAMPLES)
    registered = {
        obj.name
        for module in BUILTIN_MODULES
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, TaskKind) and obj is not TaskKind
    }
    assert registered == set(SAMPLES)


def test_unknown_kind() -> None:
    with pytest.raises(KindError) as exc:
        get_kind("essay-grading")
    assert exc.value.field == "kind"
    assert "pairwise" in exc.value.reason


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_describe_names_kind_and_widget(name: str) -> None:
    config, _, _ = SAMPLES[name]
    kind = get_kind(name, config)
    described = kind.describe()
    assert described["kind"] == name
    assert described["widget"] == kind.widget == name
    assert isinstance(described["config"], dict)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_unknown_config_key_is_rejected(name: str) -> None:
    config, _, _ = SAMPLES[name]
    with pytest.raises(KindError) as exc:
        get_kind(name, {**config, "colour": "blue"})
    assert exc.value.field == "colour"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_payload_extras_are_kept(name: str) -> None:
    config, payload, _ = SAMPLES[name]
    out = get_kind(name, config).validate_payload({**payload, "source_id": "row-7"})
    assert out["source_id"] == "row-7"
    for key, value in payload.items():
        assert out[key] == value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_answer_shape_errors(name: str) -> None:
    config, payload, answer = SAMPLES[name]
    kind = get_kind(name, config)
    with pytest.raises(KindError) as exc:
        kind.validate_answer({**answer, "colour": "blue"}, payload)
    assert exc.value.field == "answer.colour"
    with pytest.raises(KindError) as exc:
        kind.validate_answer(["not", "an", "object"], payload)  # type: ignore[arg-type]
    assert exc.value.field == "answer"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_one_answer_aggregates_to_itself(name: str) -> None:
    config, payload, answer = SAMPLES[name]
    kind = get_kind(name, config)
    valid = kind.validate_answer(answer, payload)
    assert kind.agreement(valid, valid) == 1.0
    agg = kind.aggregate([valid])
    assert isinstance(agg, Aggregate)
    assert agg.answer is not None
    assert kind.answer_key(agg.answer) == kind.answer_key(valid)
    assert agg.confidence == 1.0
    assert agg.n_answers == 1
    empty = kind.aggregate([])
    assert (empty.answer, empty.confidence, empty.n_answers) == (None, 0.0, 0)
    assert isinstance(kind.summarize(valid), str) and kind.summarize(valid)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_coerce_gold_accepts_an_answer_object(name: str) -> None:
    config, payload, answer = SAMPLES[name]
    kind = get_kind(name, config)
    assert kind.coerce_gold(answer) == kind.validate_answer(answer, payload)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_coerce_gold_rejects_garbage(name: str) -> None:
    config, _, answer = SAMPLES[name]
    kind = get_kind(name, config)
    for bad in (42, None, {**answer, "colour": "blue"}):
        with pytest.raises(KindError) as exc:
            kind.coerce_gold(bad)
        assert exc.value.field == "gold"
