"""Ranking: order a list of candidate responses from best to worst. Answers are compared with
Kendall's tau and combined with a Borda count."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from handloom.kinds._common import mean
from handloom.kinds.base import Aggregate, KindError, TaskKind, register


class RankingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_candidates: int = Field(default=2, ge=2)


class RankingPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    candidates: list[str] = Field(min_length=2)


class RankingAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    order: list[StrictInt]


def kendall_tau(a: Sequence[int], b: Sequence[int]) -> float:
    """Kendall's tau (tau-a) between two rankings given as orders (best first) of the same
    items; items present in only one of them are ignored. 1.0 when fewer than two items are
    shared (nothing can be out of order)."""
    pos_a = {item: i for i, item in enumerate(a)}
    pos_b = {item: i for i, item in enumerate(b)}
    shared = [item for item in a if item in pos_b]
    pairs = len(shared) * (len(shared) - 1) // 2
    if pairs == 0:
        return 1.0
    score = 0
    for x, y in combinations(shared, 2):
        score += 1 if (pos_a[x] - pos_a[y]) * (pos_b[x] - pos_b[y]) > 0 else -1
    return score / pairs


@register
class Ranking(TaskKind):
    name = "ranking"
    title = "Ranking"
    widget = "ranking"
    config_model = RankingConfig
    payload_model = RankingPayload
    answer_model = RankingAnswer
    config: RankingConfig

    def check_payload(self, payload: Any) -> None:
        if len(payload.candidates) < self.config.min_candidates:
            raise KindError(
                "candidates",
                f"this project ranks at least {self.config.min_candidates} candidates, "
                f"got {len(payload.candidates)}",
            )

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        order: list[int] = answer.order
        candidates = payload.get("candidates")
        n = len(candidates) if isinstance(candidates, list) else len(order)
        seen: dict[int, int] = {}
        for i, item in enumerate(order):
            if not 0 <= item < n:
                raise KindError(
                    f"answer.order.{i}", f"{item} is not a candidate index (0..{n - 1})"
                )
            if item in seen:
                raise KindError(f"answer.order.{i}", f"candidate {item} is ranked twice")
            seen[item] = i
        if len(order) != n:
            missing = sorted(set(range(n)) - set(seen))
            raise KindError("answer.order", f"rank all {n} candidates (missing: {missing})")
        if n < self.config.min_candidates:
            raise KindError(
                "answer.order", f"rank at least {self.config.min_candidates} candidates"
            )

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        return tuple(answer.get("order", []))

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        """(tau + 1) / 2: 1 for identical orders, 0 for exactly reversed ones."""
        return (kendall_tau(a.get("order", []), b.get("order", [])) + 1) / 2

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Borda count: in an order of n candidates the one at position p scores n - 1 - p;
        candidates are sorted by total score, ties to the lower index. Confidence is the mean
        agreement of the answers with the aggregate order."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0, method="borda")
        points: dict[int, int] = {}
        for answer in answers:
            order = answer.get("order", [])
            for p, item in enumerate(order):
                points[item] = points.get(item, 0) + len(order) - 1 - p
        consensus = sorted(points, key=lambda item: (-points[item], item))
        result = {"order": consensus}
        confidence = mean(self.agreement(a, result) for a in answers)
        return Aggregate(
            answer=result, confidence=confidence, n_answers=len(answers), method="borda"
        )

    def summarize(self, answer: dict[str, Any]) -> str:
        return " > ".join(str(i) for i in answer.get("order", [])) or "(empty)"
