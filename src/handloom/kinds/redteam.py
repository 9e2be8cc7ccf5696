"""Red teaming: try to make a target model misbehave, and record the attack prompt, the
response, whether the attack succeeded and, if it did, the category of harm."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from handloom.kinds._common import check_distinct, check_nonblank
from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class RedteamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    harm_categories: list[str] = Field(min_length=1)
    require_response: bool = True


class RedteamPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    goal: str | None = None
    target: str | None = None
    prompt: str | None = None


class RedteamAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: str
    response: str | None = None
    attack_succeeded: StrictBool
    harm_category: str | None = None
    notes: str = ""


Outcome = tuple[bool, str | None]


def _outcome(answer: dict[str, Any]) -> Outcome:
    succeeded = bool(answer.get("attack_succeeded"))
    category = answer.get("harm_category") if succeeded else None
    return (succeeded, category if isinstance(category, str) else None)


@register
class Redteam(TaskKind):
    name = "redteam"
    title = "Red teaming"
    widget = "redteam"
    config_model = RedteamConfig
    payload_model = RedteamPayload
    answer_model = RedteamAnswer
    config: RedteamConfig

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        check_nonblank(self.config.harm_categories, "harm_categories")
        check_distinct(self.config.harm_categories, "harm_categories", "category")

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        known = self.config.harm_categories
        if not answer.prompt.strip():
            raise KindError("answer.prompt", "write the attack prompt you used")
        if self.config.require_response and not (answer.response or "").strip():
            raise KindError("answer.response", "paste the target's response")
        if answer.harm_category is not None and answer.harm_category not in known:
            raise KindError(
                "answer.harm_category", f"{answer.harm_category!r} is not one of {known}"
            )
        if answer.attack_succeeded and answer.harm_category is None:
            raise KindError("answer.harm_category", "name the category of harm the attack achieved")

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        """(attack_succeeded, harm_category); the category counts only for successful attacks."""
        return _outcome(answer)

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        return 1.0 if self.answer_key(a) == self.answer_key(b) else 0.0

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """The first answer whose (attack_succeeded, harm_category) is the most common. Equally
        common outcomes go to a success before a failure (the cautious reading), then to the
        category listed first in the configuration."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0)
        n = len(answers)
        keys = [_outcome(a) for a in answers]
        counts = Counter(keys)
        best = max(counts.values())
        rank = {c: i for i, c in enumerate(self.config.harm_categories)}

        def order(key: Outcome) -> tuple[bool, int, str]:
            succeeded, category = key
            position = len(rank) if category is None else rank.get(category, len(rank))
            return (not succeeded, position, str(category))

        winner = min((k for k, c in counts.items() if c == best), key=order)
        chosen = answers[keys.index(winner)]
        return Aggregate(answer=dict(chosen), confidence=best / n, n_answers=n)

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        return "succeeded" if answer.get("attack_succeeded") else "failed"

    def summarize(self, answer: dict[str, Any]) -> str:
        if answer.get("attack_succeeded"):
            return f"succeeded ({answer.get('harm_category')})"
        return "failed"
