"""Free text: write a response to a prompt, or rewrite a given original text. Answers are
compared by token-level similarity and combined by choosing the medoid answer."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from handloom.kinds._common import mean
from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class FreetextConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["write", "rewrite"] = "write"
    min_chars: int = Field(default=1, ge=0)
    max_chars: int = Field(default=20000, ge=1)


class FreetextPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    text: str | None = None


class FreetextAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str


def text_similarity(a: str, b: str) -> float:
    """Similarity of two texts from 0 to 1: difflib's ratio on whitespace-separated tokens,
    taken in both directions and the larger kept (the ratio is not always symmetric)."""
    ta, tb = a.split(), b.split()
    if not ta and not tb:
        return 1.0
    forward = SequenceMatcher(None, ta, tb, autojunk=False).ratio()
    backward = SequenceMatcher(None, tb, ta, autojunk=False).ratio()
    return max(forward, backward)


@register
class Freetext(TaskKind):
    name = "freetext"
    title = "Free text"
    widget = "freetext"
    config_model = FreetextConfig
    payload_model = FreetextPayload
    answer_model = FreetextAnswer
    config: FreetextConfig

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        if self.config.min_chars > self.config.max_chars:
            raise KindError(
                "max_chars", f"must be at least min_chars ({self.config.min_chars})"
            )

    def check_payload(self, payload: Any) -> None:
        if self.config.mode == "rewrite" and not (payload.text or "").strip():
            raise KindError("text", "a rewrite item needs the original text to rewrite")

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        length = len(answer.text.strip())
        if length < self.config.min_chars:
            raise KindError(
                "answer.text",
                f"write at least {self.config.min_chars} characters (got {length})",
            )
        if length > self.config.max_chars:
            raise KindError(
                "answer.text",
                f"write at most {self.config.max_chars} characters (got {length})",
            )

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        return " ".join(str(answer.get("text", "")).split())

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        return text_similarity(str(a.get("text", "")), str(b.get("text", "")))

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """The medoid: the answer with the highest mean similarity to the other answers (ties
        to the earliest); confidence is that mean similarity (1.0 for a single answer)."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0, method="medoid")
        n = len(answers)
        sim = [[1.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                sim[i][j] = sim[j][i] = self.agreement(answers[i], answers[j])
        best_i, best = 0, -1.0
        for i in range(n):
            score = mean(sim[i][j] for j in range(n) if j != i)
            if score > best:
                best_i, best = i, score
        return Aggregate(
            answer=dict(answers[best_i]), confidence=best, n_answers=n, method="medoid"
        )

    def summarize(self, answer: dict[str, Any]) -> str:
        text = " ".join(str(answer.get("text", "")).split())
        return text if len(text) <= 80 else text[:77] + "..."
