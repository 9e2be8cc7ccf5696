"""Pairwise preference: compare two responses A and B and choose the better one (or a tie),
optionally with a written rationale."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from handloom.kinds.base import Aggregate, KindError, TaskKind, raise_from_validation, register

Choice = Literal["A", "B", "tie"]
#: Order used to break ties between equally popular choices in :meth:`Pairwise.aggregate`.
CHOICES: tuple[str, ...] = ("A", "B", "tie")


class PairwiseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_tie: bool = True
    rationale: Literal["off", "optional", "required"] = "optional"
    criteria: str = ""


class PairwisePayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    a: str
    b: str


class PairwiseAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    choice: Choice
    rationale: str | None = None


@register
class Pairwise(TaskKind):
    name = "pairwise"
    title = "Pairwise comparison"
    widget = "pairwise"
    config_model = PairwiseConfig
    payload_model = PairwisePayload
    answer_model = PairwiseAnswer
    config: PairwiseConfig

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        self._check_choice(answer)
        if self.config.rationale == "required" and not (answer.rationale or "").strip():
            raise KindError("answer.rationale", "this project requires a rationale")

    def _check_choice(self, answer: PairwiseAnswer) -> None:
        if answer.choice == "tie" and not self.config.allow_tie:
            raise KindError("answer.choice", "ties are not allowed in this project; choose A or B")
        if self.config.rationale == "off" and answer.rationale is not None:
            raise KindError("answer.rationale", "this project takes no rationale")

    def coerce_gold(self, value: Any) -> dict[str, Any]:
        """Accept "A", "B" or "tie", or an answer object. A gold answer never needs a
        rationale, even when the project requires one from annotators."""
        if isinstance(value, str):
            value = {"choice": value}
        if not isinstance(value, dict):
            raise KindError("gold", 'must be "A", "B", "tie" or an answer object')
        try:
            model = PairwiseAnswer.model_validate(value)
            self._check_choice(model)
        except ValidationError as exc:
            inner = raise_from_validation(exc, "answer")
            raise KindError("gold", f"not a valid answer ({inner})") from exc
        except KindError as exc:
            raise KindError("gold", f"not a valid answer ({exc})") from exc
        return model.model_dump(exclude_none=True)

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        return answer.get("choice")

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        return 1.0 if a.get("choice") == b.get("choice") else 0.0

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Majority choice; equally popular choices are broken in the order A, B, tie.
        The aggregate answer carries the choice only (no rationale)."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0)
        n = len(answers)
        votes = Counter(a.get("choice") for a in answers)
        best = max(votes.get(c, 0) for c in CHOICES)
        if best == 0:
            return Aggregate(answer=None, confidence=0.0, n_answers=n)
        winner = next(c for c in CHOICES if votes.get(c, 0) == best)
        return Aggregate(answer={"choice": winner}, confidence=best / n, n_answers=n)

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        choice = answer.get("choice")
        return choice if isinstance(choice, str) else None

    def summarize(self, answer: dict[str, Any]) -> str:
        choice = str(answer.get("choice"))
        rationale = " ".join((answer.get("rationale") or "").split())
        if not rationale:
            return choice
        return f"{choice}: {rationale[:77] + '...' if len(rationale) > 80 else rationale}"
