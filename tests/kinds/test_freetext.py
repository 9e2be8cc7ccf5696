"""Free text: length limits, rewrite items need an original, similarity and the medoid."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.kinds.base import KindError
from handloom.kinds.freetext import Freetext, text_similarity


def error_field(kind: Freetext, answer: Any) -> str:
    with pytest.raises(KindError) as exc:
        kind.validate_answer(answer, {"prompt": "p"})
    return exc.value.field


def test_config_errors() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"min_chars": 10, "max_chars": 5}, "max_chars"),
        ({"mode": "translate"}, "mode"),
        ({"min_chars": -1}, "min_chars"),
        ({"max_chars": 0}, "max_chars"),
    ]
    for config, field in cases:
        with pytest.raises(KindError) as exc:
            Freetext(config)
        assert exc.value.field == field


def test_payload_write_and_rewrite() -> None:
    assert Freetext().validate_payload({}) == {}
    assert Freetext().validate_payload({"prompt": "p"}) == {"prompt": "p"}
    rewrite = Freetext({"mode": "rewrite"})
    assert rewrite.validate_payload({"text": "orig", "prompt": "Simplify"}) == {
        "text": "orig",
        "prompt": "Simplify",
    }
    for payload in ({"prompt": "Simplify"}, {"text": "  "}):
        with pytest.raises(KindError) as exc:
            rewrite.validate_payload(payload)
        assert exc.value.field == "text"


def test_length_limits_after_strip() -> None:
    kind = Freetext({"min_chars": 5, "max_chars": 8})
    assert kind.validate_answer({"text": "  abcde  "}) == {"text": "  abcde  "}  # kept as typed
    assert kind.validate_answer({"text": " abcdefgh\n"}) == {"text": " abcdefgh\n"}
    assert error_field(kind, {"text": "  abcd  "}) == "answer.text"
    assert error_field(kind, {"text": "abcdefghi"}) == "answer.text"
    assert error_field(Freetext(), {"text": "   "}) == "answer.text"
    assert error_field(Freetext(), {"text": 5}) == "answer.text"
    assert error_field(Freetext(), {}) == "answer.text"


def test_similarity_by_hand() -> None:
    kind = Freetext()
    # 3 matching tokens out of 4 + 4: 2 * 3 / 8
    assert kind.agreement({"text": "a b c d"}, {"text": "a b c e"}) == pytest.approx(0.75)
    assert kind.agreement({"text": "a b"}, {"text": "c d"}) == 0.0
    assert kind.agreement({"text": "a  b\nc"}, {"text": " a b c"}) == 1.0
    assert text_similarity("", "   ") == 1.0
    assert text_similarity("", "word") == 0.0


def test_medoid_by_hand() -> None:
    kind = Freetext()
    answers = [{"text": "a b c"}, {"text": "a b c d"}, {"text": "a b c d e"}]
    # s01 = 6/7, s02 = 6/8, s12 = 8/9; mean similarity is highest for the middle answer
    agg = kind.aggregate(answers)
    assert agg.answer == {"text": "a b c d"}
    assert agg.method == "medoid"
    assert agg.confidence == pytest.approx((6 / 7 + 8 / 9) / 2)


def test_medoid_ties_go_to_the_earliest() -> None:
    answers = [{"text": "a b c e"}, {"text": "a b c d"}, {"text": "x y z w"}]
    agg = Freetext().aggregate(answers)
    assert agg.answer == {"text": "a b c e"}
    assert agg.confidence == pytest.approx(0.375)


def test_summary() -> None:
    kind = Freetext()
    assert kind.summarize({"text": "two\nlines"}) == "two lines"
    assert len(kind.summarize({"text": "word " * 50})) == 80
    assert kind.categorical_label({"text": "x"}) is None


texts = st.lists(st.sampled_from(["the", "cat", "sat", "on", "mat", "a"]), max_size=12).map(
    " ".join
)


@settings(database=None)
@given(texts, texts)
def test_similarity_properties(a: str, b: str) -> None:
    assert text_similarity(a, b) == text_similarity(b, a)
    assert 0.0 <= text_similarity(a, b) <= 1.0
    assert text_similarity(a, a) == 1.0


@settings(database=None)
@given(st.lists(texts, min_size=1, max_size=6))
def test_medoid_is_one_of_the_answers(items: list[str]) -> None:
    answers = [{"text": t} for t in items]
    agg = Freetext().aggregate(answers)
    assert agg.answer in answers
    assert 0.0 <= agg.confidence <= 1.0
    assert agg.n_answers == len(answers)
