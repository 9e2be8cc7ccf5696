"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    Progress,
    agreement_with,
    majority_probas,
)
from handloom.quality.aggregate.base import decide as _decide


class MajorityVote(Aggregator):
    """The share of answers per class is the posterior; ``skills_`` is each worker's rate
    of agreement with the majority.

    Ties are broken reproducibly: the tied class whose voters agree more often with the
    majority on the other items wins (an agreement-weighted vote, as in Wawa), then the
    class answered most often over the whole data set, then the lowest code.

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
            # Only items with a tie need the weighted vote that settles it.
            weights = np.nan_to_num(self.skills_)[data.workers]
            weights = np.where(tied[data.items], weights, 0.0)
            self._tie_break = data.per_item_class(weights)
        self.n_iter_ = 1
