"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    Progress,
    agreement_with,
    majority_probas,
    wsum,
)
from handloom.quality.aggregate.base import decide as _decide


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
        labels = _decide(self.probas_, data.label_frequency, data.answered)
        self.skills_ = agreement_with(labels, data)
        probas = self.probas_
        tied = (probas >= probas.max(axis=1, keepdims=True) - 1e-9).sum(axis=1) > 1
        if tied.any():
            # A worker's weight is their agreement with the majority on the items that have
            # one: the tied items' own answers, and any other tie, do not count.
            clear = ~tied[data.items]
            hit = (labels[data.items] == data.labels) & clear
            agree = wsum(data.workers, hit.astype(np.float64), data.n_workers)
            seen = wsum(data.workers, clear.astype(np.float64), data.n_workers)
            with np.errstate(invalid="ignore", divide="ignore"):
                skill = np.where(seen > 0, agree / seen, 0.0)
            weights = np.where(tied[data.items], skill[data.workers], 0.0)
            self._tie_break = data.per_item_class(weights)
        self.n_iter_ = 1
