"""Rating: score a text on one or more criteria (e.g. fluency, accuracy), each on its own
integer scale with optional anchor descriptions for particular scores."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from handloom.kinds._common import mean, median_int
from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    min: int = 1
    max: int = 5
    anchors: dict[str, str] = {}


class RatingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[Criterion] = Field(min_length=1)


class RatingPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str
    prompt: str | None = None


class RatingAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    scores: dict[str, StrictInt]
    comment: str | None = None


@register
class Rating(TaskKind):
    name = "rating"
    title = "Rating"
    widget = "rating"
    config_model = RatingConfig
    payload_model = RatingPayload
    answer_model = RatingAnswer
    config: RatingConfig

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        seen: set[str] = set()
        for i, c in enumerate(self.config.criteria):
            if not c.name.strip():
                raise KindError(f"criteria.{i}.name", "must not be empty")
            if c.name in seen:
                raise KindError(f"criteria.{i}.name", f"criterion {c.name!r} is listed twice")
            seen.add(c.name)
            if c.min >= c.max:
                raise KindError(f"criteria.{i}.max", f"must be greater than min ({c.min})")
            for key in c.anchors:
                try:
                    value = int(key)
                except ValueError:
                    value = None
                if value is None or str(value) != key or not c.min <= value <= c.max:
                    raise KindError(
                        f"criteria.{i}.anchors.{key}",
                        f"anchor keys are scores written as integers from {c.min} to {c.max}",
                    )
        self._criteria = {c.name: c for c in self.config.criteria}

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        scores: dict[str, int] = answer.scores
        for name in scores:
            if name not in self._criteria:
                known = list(self._criteria)
                raise KindError(f"answer.scores.{name}", f"unknown criterion; known: {known}")
        for c in self.config.criteria:
            if c.name not in scores:
                raise KindError(f"answer.scores.{c.name}", "score this criterion")
            if not c.min <= scores[c.name] <= c.max:
                raise KindError(
                    f"answer.scores.{c.name}", f"must be between {c.min} and {c.max}"
                )

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        scores = answer.get("scores", {})
        return tuple(scores.get(c.name) for c in self.config.criteria)

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        """Mean over criteria of 1 - |a - b| / (max - min); a criterion scored in only one of
        the answers counts as no agreement, one scored in neither is skipped."""
        sa, sb = a.get("scores", {}), b.get("scores", {})
        parts: list[float] = []
        for c in self.config.criteria:
            x, y = sa.get(c.name), sb.get(c.name)
            if x is None and y is None:
                continue
            if x is None or y is None:
                parts.append(0.0)
            else:
                parts.append(max(0.0, 1 - abs(x - y) / (c.max - c.min)))
        return mean(parts)

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Per-criterion median; an even count whose median falls between two scores is
        rounded half to even (median 2.5 -> 2, 3.5 -> 4). Confidence is the mean agreement of
        the answers with the aggregate."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0, method="median")
        scores: dict[str, int] = {}
        for c in self.config.criteria:
            values = [a["scores"][c.name] for a in answers if c.name in a.get("scores", {})]
            if values:
                scores[c.name] = median_int(values)
        result = {"scores": scores}
        confidence = mean(self.agreement(a, result) for a in answers)
        return Aggregate(
            answer=result, confidence=confidence, n_answers=len(answers), method="median"
        )

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        """With a single criterion, its score as a string (an ordinal label); else None."""
        if len(self.config.criteria) != 1:
            return None
        score = answer.get("scores", {}).get(self.config.criteria[0].name)
        return None if score is None else str(score)

    def summarize(self, answer: dict[str, Any]) -> str:
        scores = answer.get("scores", {})
        return ", ".join(f"{c.name}={scores.get(c.name, '-')}" for c in self.config.criteria)
