"""One-coin Dawid–Skene: one accuracy per worker, errors spread evenly over other classes."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    EPS,
    Aggregator,
    Answers,
    FloatArray,
    Progress,
    normalize_log,
    wsum,
)
from handloom.quality.aggregate.ds import class_prior


class OneCoinDawidSkene(Aggregator):
    """Worker w answers the true class with probability ``s_w`` and each other class with
    ``(1 - s_w) / (K - 1)``. EM as in :class:`~handloom.quality.aggregate.ds.DawidSkene`,
    with the M-step

        s_w = (sum_{answers (i, l) of w} p(i = l) + shrinkage * s_pool) / (n_w + shrinkage)

    where ``s_pool`` is the crowd's pooled accuracy: a worker with few answers starts from
    the crowd's accuracy rather than 0 or 1. Far fewer parameters than the full model, so
    it suits sparse data (many workers with a handful of answers each). ``skills_`` holds
    ``s_w``.

    Zhang, Chen, Zhou and Jordan (2014), "Spectral Methods Meet EM: A Provably Optimal
    Algorithm for Crowdsourcing", NeurIPS (the one-coin model, §2).
    https://doi.org/10.48550/arXiv.1406.3824
    """

    name = "onecoin"
    title = "One-coin Dawid–Skene"

    def __init__(self, *, n_iter: int = 100, tol: float = 1e-5, seed: int = 0,
                 shrinkage: float = 2.0, prior_smoothing: float = 1.0) -> None:
        super().__init__(n_iter=n_iter, tol=tol, seed=seed)
        if shrinkage < 0 or prior_smoothing < 0:
            raise ValueError("shrinkage and prior_smoothing must be zero or more")
        self.shrinkage = shrinkage
        self.prior_smoothing = prior_smoothing
        self.priors_: FloatArray = np.empty(0)

    def params(self) -> dict[str, object]:
        return {**super().params(), "shrinkage": self.shrinkage,
                "prior_smoothing": self.prior_smoothing}

    def _m_step(self, data: Answers, posterior: FloatArray) -> FloatArray:
        hit = posterior[data.items, data.labels]
        correct = wsum(data.workers, hit, data.n_workers)
        n = data.answers_per_worker
        pooled = correct.sum() / max(n.sum(), 1.0)
        skill = (correct + self.shrinkage * pooled) / np.maximum(n + self.shrinkage, EPS)
        return np.asarray(np.clip(skill, 1e-6, 1 - 1e-6), dtype=np.float64)

    def _e_step(self, data: Answers, skill: FloatArray,
                priors: FloatArray) -> tuple[FloatArray, float]:
        k = data.n_classes
        wrong = np.log((1.0 - skill) / (k - 1))
        right = np.log(skill) - wrong
        base = wsum(data.items, wrong[data.workers], data.n_items)
        bonus = data.per_item_class(right[data.workers])
        scores = bonus + base[:, None] + np.log(priors)
        posterior, log_norm = normalize_log(scores)
        return posterior, float(log_norm[data.answered].sum()) / len(data)

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        posterior, skill, priors = self._em(
            data, progress, np.empty(0),
            lambda post, _prev: self._m_step(data, post),
            lambda sk, pri: self._e_step(data, sk, pri),
            lambda post: class_prior(post[data.answered], self.prior_smoothing))
        self.probas_ = posterior
        self.priors_ = priors
        self.skills_ = skill
