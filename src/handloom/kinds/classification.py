"""Classification: choose one label (or several, when the project is multi-label)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class ClassificationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str] = Field(min_length=2)
    multi_label: bool = False

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be distinct")
        if any(not label.strip() for label in labels):
            raise ValueError("labels must not be empty strings")
        return labels


class ClassificationPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str


class ClassificationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    labels: list[str] | None = None


@register
class Classification(TaskKind):
    name = "classification"
    title = "Classification"
    widget = "classification"
    config_model = ClassificationConfig
    payload_model = ClassificationPayload
    answer_model = ClassificationAnswer
    config: ClassificationConfig

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        known = self.config.labels
        if self.config.multi_label:
            if answer.labels is None:
                raise KindError("answer.labels", "a multi-label project needs a list of labels")
            if answer.label is not None:
                raise KindError("answer.label", "use labels (a list) in a multi-label project")
            for i, label in enumerate(answer.labels):
                if label not in known:
                    raise KindError(f"answer.labels.{i}", f"{label!r} is not one of {known}")
            if len(set(answer.labels)) != len(answer.labels):
                raise KindError("answer.labels", "a label is listed twice")
        else:
            if answer.label is None:
                raise KindError("answer.label", "choose one label")
            if answer.labels is not None:
                raise KindError("answer.labels", "this project takes one label (use label)")
            if answer.label not in known:
                raise KindError("answer.label", f"{answer.label!r} is not one of {known}")

    def coerce_gold(self, value: Any) -> dict[str, Any]:
        """Accept a bare label ("spam"), a list of labels (multi-label) or an answer object."""
        if isinstance(value, str):
            value = {"labels": [value]} if self.config.multi_label else {"label": value}
        elif isinstance(value, list):
            if not self.config.multi_label:
                raise KindError("gold", "this project takes one label, not a list")
            value = {"labels": value}
        return super().coerce_gold(value)

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        if self.config.multi_label:
            return tuple(sorted(answer.get("labels", [])))
        return answer.get("label")

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        if not self.config.multi_label:
            return 1.0 if a.get("label") == b.get("label") else 0.0
        sa, sb = set(a.get("labels", [])), set(b.get("labels", []))
        if not sa and not sb:
            return 1.0
        return len(sa & sb) / len(sa | sb)

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        if not self.config.multi_label or not answers:
            return super().aggregate(answers)
        # Multi-label: keep every label chosen by more than half of the answers.
        votes = Counter(label for a in answers for label in set(a.get("labels", [])))
        n = len(answers)
        chosen = sorted(
            (lab for lab, c in votes.items() if c * 2 > n), key=self.config.labels.index
        )
        support = [votes[lab] / n for lab in chosen] + [
            1 - votes[lab] / n for lab in self.config.labels if lab not in chosen
        ]
        return Aggregate(
            answer={"labels": chosen}, confidence=min(support) if support else 1.0, n_answers=n
        )

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        return None if self.config.multi_label else answer.get("label")

    def summarize(self, answer: dict[str, Any]) -> str:
        if self.config.multi_label:
            return ", ".join(answer.get("labels", [])) or "(none)"
        return str(answer.get("label"))
