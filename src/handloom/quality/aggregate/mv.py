"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    FloatArray,
    IntArray,
    Progress,
    TieScores,
    agreement_with,
    majority_probas,
    wsum,
)


class MajorityVote(Aggregator):
    """The share of answers per class is the posterior; ``skills_`` is each worker's rate
    of agreement with the majority.

    Ties are broken reproducibly: the tied class whose voters agree more often with the
    majority on the items that have a clear one wins (an agreement-weighted vote, as in
    Wawa), then the class answered most often over the whole data set, then the lowest
    code.

    >>> import numpy as np
    >>> mv = MajorityVote().fit(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]),
    ...                         np.array([1, 1, 0, 0]))
    >>> mv.labels_.tolist(), mv.confidence_.round(3).tolist()
    ([1, 0], [0.667, 1.0])
    """

    name = "mv"
    title = "Majority vote"

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        self.probas_ = majority_probas(data)
        self.n_iter_ = 1

    def _tie_scores(self, data: Answers) -> TieScores:
        def agreement_weighted_votes(rows: IntArray, labels: IntArray) -> FloatArray:
            # A worker's weight is their agreement with the majority on the items that have
            # a clear one: the tied items' own answers, and any other tie, do not count.
            is_tied = np.zeros(data.n_items, dtype=bool)
            is_tied[rows] = True
            on_tied = is_tied[data.items]
            clear_hit = (labels[data.items] == data.labels) & ~on_tied
            agree = wsum(data.workers, clear_hit, data.n_workers)
            seen = data.answers_per_worker - np.bincount(data.workers[on_tied],
                                                         minlength=data.n_workers)
            with np.errstate(invalid="ignore", divide="ignore"):
                skill = np.where(seen > 0, agree / seen, 0.0)
            where = np.flatnonzero(on_tied)
            slot = np.full(data.n_items, -1, dtype=np.int64)
            slot[rows] = np.arange(len(rows))
            k = data.n_classes
            votes = wsum(slot[data.items[where]] * k + data.labels[where],
                         skill[data.workers[where]], len(rows) * k)
            return votes.reshape(len(rows), k)

        return agreement_weighted_votes

    def _after_decide(self, data: Answers) -> None:
        self.skills_ = agreement_with(self.labels_, data)
