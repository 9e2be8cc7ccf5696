"""Content moderation: decide what to do with a piece of content (allow, remove, escalate …),
which policy categories it falls under, and how severe it is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from handloom.kinds._common import check_distinct, check_nonblank, jaccard, median_int
from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class ModerationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[str] = Field(default=["allow", "remove", "escalate"], min_length=2)
    categories: list[str] = Field(min_length=1)
    severity_min: int = 0
    severity_max: int = 3


class ModerationPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str
    context: str | None = None


class ModerationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    decision: str
    categories: list[str] = []
    severity: StrictInt
    note: str | None = None


@register
class Moderation(TaskKind):
    name = "moderation"
    title = "Content moderation"
    widget = "moderation"
    config_model = ModerationConfig
    payload_model = ModerationPayload
    answer_model = ModerationAnswer
    config: ModerationConfig

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        for field in ("decisions", "categories"):
            values: list[str] = getattr(self.config, field)
            check_nonblank(values, field)
            check_distinct(values, field)
        if self.config.severity_min > self.config.severity_max:
            raise KindError(
                "severity_max", f"must be at least severity_min ({self.config.severity_min})"
            )

    def validate_answer(
        self, answer: dict[str, Any], payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """As the base class, then list the categories in the configuration's order."""
        result = super().validate_answer(answer, payload)
        result["categories"] = sorted(result["categories"], key=self.config.categories.index)
        return result

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        cfg = self.config
        if answer.decision not in cfg.decisions:
            raise KindError("answer.decision", f"{answer.decision!r} is not one of {cfg.decisions}")
        for i, category in enumerate(answer.categories):
            if category not in cfg.categories:
                raise KindError(
                    f"answer.categories.{i}", f"{category!r} is not one of {cfg.categories}"
                )
        check_distinct(answer.categories, "answer.categories", "category")
        if not cfg.severity_min <= answer.severity <= cfg.severity_max:
            raise KindError(
                "answer.severity", f"must be between {cfg.severity_min} and {cfg.severity_max}"
            )

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        return (
            answer.get("decision"),
            tuple(sorted(answer.get("categories", []))),
            answer.get("severity"),
        )

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        """Half for the same decision, half for the Jaccard overlap of the categories."""
        same = 1.0 if a.get("decision") == b.get("decision") else 0.0
        return 0.5 * same + 0.5 * jaccard(a.get("categories", []), b.get("categories", []))

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Majority decision (equally popular decisions go to the one listed first in the
        configuration), every category chosen by more than half of the answers, and the median
        severity (rounded half to even). Confidence is the winning decision's share."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0)
        n = len(answers)
        cfg = self.config
        decisions = Counter(a.get("decision") for a in answers)
        best = max(decisions.values())
        rank = {d: i for i, d in enumerate(cfg.decisions)}
        winner = min(
            (d for d, c in decisions.items() if c == best),
            key=lambda d: (rank.get(str(d), len(rank)), str(d)),
        )
        votes = Counter(c for a in answers for c in set(a.get("categories", [])))
        categories = [c for c in cfg.categories if 2 * votes[c] > n]
        severities = [a["severity"] for a in answers if isinstance(a.get("severity"), int)]
        result: dict[str, Any] = {"decision": winner, "categories": categories}
        if severities:
            result["severity"] = median_int(severities)
        return Aggregate(answer=result, confidence=best / n, n_answers=n)

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        decision = answer.get("decision")
        return decision if isinstance(decision, str) else None

    def summarize(self, answer: dict[str, Any]) -> str:
        categories = ", ".join(answer.get("categories", [])) or "no category"
        return f"{answer.get('decision')} ({categories}; severity {answer.get('severity')})"
