"""Majority vote: each item takes the class most of its answers gave."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    Progress,
    majority_probas,
    row_max,
    row_sum,
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
        self.probas_ = probas = majority_probas(data)
        labels = _decide(probas, data.label_frequency, data.answered)
        hit = (labels[data.items] == data.labels).astype(np.float64)
        agree = wsum(data.workers, hit, data.n_workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.skills_ = agree / data.answers_per_worker
        tied = np.flatnonzero(row_sum(probas >= row_max(probas)[:, None] - 1e-9) > 1)
        if len(tied):
            # A worker's weight is their agreement with the majority on the items that have
            # one: the tied items' own answers, and any other tie, do not count.
            is_tied = np.zeros(data.n_items, dtype=bool)
            is_tied[tied] = True
            on_tied = np.flatnonzero(is_tied[data.items])
            w_tied = data.workers[on_tied]
            agree_clear = agree - wsum(w_tied, hit[on_tied], data.n_workers)
            seen_clear = data.answers_per_worker - np.bincount(w_tied, minlength=data.n_workers)
            with np.errstate(invalid="ignore", divide="ignore"):
                skill = np.where(seen_clear > 0, agree_clear / seen_clear, 0.0)
            k = data.n_classes
            votes = wsum(data.items[on_tied] * k + data.labels[on_tied], skill[w_tied],
                         data.n_items * k)
            self._tie_break = votes.reshape(data.n_items, k)
        self.n_iter_ = 1
