"""Wawa (worker agreement with aggregate): a vote weighted by each worker's agreement with
the plain majority."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    Progress,
    agreement_with,
    decide,
    majority_probas,
    row_sum,
)
from handloom.quality.aggregate.mv import MajorityVote


class Wawa(Aggregator):
    """Two passes. First a majority vote (:class:`~handloom.quality.aggregate.mv.MajorityVote`,
    ties broken as it breaks them); each worker's skill is the share of their
    answers that agree with it. Then each answer counts with its worker's skill as weight:

        p(i = k) = sum_{answers (w, l) of i} s_w [l = k] / sum_{answers of i} s_w

    Items whose workers all have skill 0 keep the majority-vote posterior.
    Appen's "Wawa" heuristic, as in crowd-kit's ``Wawa``.
    """

    name = "wawa"
    title = "Wawa (agreement-weighted vote)"

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        mv = majority_probas(data)
        # The first pass is Handloom's majority vote, ties included.
        first = decide(mv, data.label_frequency, data.answered,
                       MajorityVote()._tie_scores(data))
        skills = np.nan_to_num(agreement_with(first, data))
        weights = skills[data.workers]
        votes = data.per_item_class(weights)
        total = row_sum(votes)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            probas = np.where(total > 0, votes / total, mv)
        self.probas_ = np.asarray(probas, dtype=np.float64)
        self.skills_ = skills
        self.n_iter_ = 2
