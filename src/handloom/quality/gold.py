"""Scoring against known answers, and the one-item posterior used while work is running.

Pure functions: the database side (which answers, which skills) is in
:mod:`handloom.work.quality`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

# The accuracy assumed for a worker the aggregation has not yet estimated: better than
# chance, not trusted blindly. Used only for the posterior of a single item while work runs.
DEFAULT_SKILL = 0.8
SKILL_BOUNDS = (0.05, 0.99)


@dataclass(frozen=True)
class ItemPosterior:
    """The most likely answer key of one item, its posterior probability and the number of
    classes it was computed over."""

    key: Hashable
    confidence: float
    n_classes: int


def item_posterior(keys: Sequence[Hashable], skills: Sequence[float | None], *,
                   n_classes: int | None = None) -> ItemPosterior:
    """Posterior of one item's answers under the one-coin model with known skills.

    Worker j answers the true class with probability ``s_j`` and each of the other
    ``K - 1`` classes with ``(1 - s_j) / (K - 1)``; with a uniform prior,

        p(k) ∝ prod_j (s_j if key_j = k else (1 - s_j) / (K - 1)).

    ``K`` is *n_classes* (the kind's label count) or the number of distinct keys, at
    least 2. Unknown skills (None) take :data:`DEFAULT_SKILL`; skills are clipped to
    :data:`SKILL_BOUNDS` so one worker can never make an item certain. Classes never
    answered share one value, so K may be large without cost. Ties go to the key that
    appeared first.
    """
    if not keys:
        raise ValueError("an item with no answers has no posterior")
    if len(keys) != len(skills):
        raise ValueError(f"{len(keys)} answers but {len(skills)} skills")
    distinct = list(dict.fromkeys(keys))
    k = max(n_classes or 0, len(distinct), 2)
    low, high = SKILL_BOUNDS
    logs = []
    for skill in skills:
        s = min(max(DEFAULT_SKILL if skill is None else float(skill), low), high)
        logs.append((math.log(s), math.log((1 - s) / (k - 1))))
    base = sum(wrong for _, wrong in logs)
    score = {key: base for key in distinct}
    for key, (right, wrong) in zip(keys, logs, strict=True):
        score[key] += right - wrong
    unseen = k - len(distinct)
    top = max(max(score.values()), base)
    total = sum(math.exp(v - top) for v in score.values()) + unseen * math.exp(base - top)
    best = max(distinct, key=lambda key: score[key])  # first of the tied keys
    return ItemPosterior(best, math.exp(score[best] - top) / total, k)


@dataclass(frozen=True)
class QualificationOutcome:
    answered: int
    correct: int
    size: int
    pass_mark: float

    @property
    def complete(self) -> bool:
        return self.answered >= self.size

    @property
    def score(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    @property
    def passed(self) -> bool:
        """Passed once complete with a share of correct answers at or above the mark."""
        return self.complete and self.correct >= math.ceil(self.pass_mark * self.size - 1e-9)


def gold_accuracy(correct: int, answered: int) -> float | None:
    """Share of gold answered correctly; None before any gold was answered."""
    return correct / answered if answered else None
