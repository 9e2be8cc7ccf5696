"""MACE: each worker either knows the answer or, with some probability, spams from a
label distribution of their own."""

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


class MACE(Aggregator):
    """Worker w is competent with probability ``theta_w``: then they give the true class.
    Otherwise they spam, drawing a label from their own distribution ``xi_w``. So

        p(l | true k) = theta_w [l = k] + (1 - theta_w) xi_w[l].

    EM: the E-step is a sum of per-answer log terms (two ``bincount`` passes); the M-step
    splits each answer's posterior between "knew it" (``q = p(i = l) theta / (theta + (1 -
    theta) xi_l)``) and "spammed", then ``theta_w = (sum q + a) / (n_w + a + b)`` and
    ``xi_w[l] ∝ spam mass on l + smoothing``. The Beta(a, b) prior keeps a worker with a
    handful of answers from being declared perfectly competent or a pure spammer; the
    Dirichlet ``smoothing`` (10 pseudo-answers, as in Hovy et al.) keeps a spammer's
    strategy near uniform until many answers say otherwise.
    ``skills_`` holds ``theta``; ``spam_strategy_`` holds ``xi``.

    D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy (2013), "Learning Whom to Trust
    with MACE", NAACL-HLT, 1120–1130. https://aclanthology.org/N13-1132
    """

    name = "mace"
    title = "MACE"

    def __init__(self, *, n_iter: int = 100, tol: float = 1e-5, seed: int = 0,
                 theta_prior: tuple[float, float] = (2.0, 2.0), smoothing: float = 10.0,
                 prior_smoothing: float = 1.0) -> None:
        super().__init__(n_iter=n_iter, tol=tol, seed=seed)
        a, b = theta_prior
        if a <= 0 or b <= 0 or smoothing <= 0:
            raise ValueError("theta_prior and smoothing must be positive")
        self.theta_prior = (float(a), float(b))
        self.smoothing = smoothing
        self.prior_smoothing = prior_smoothing
        self.spam_strategy_: FloatArray = np.empty((0, 0))
        self.priors_: FloatArray = np.empty(0)

    def params(self) -> dict[str, object]:
        return {**super().params(), "theta_prior": list(self.theta_prior),
                "smoothing": self.smoothing, "prior_smoothing": self.prior_smoothing}

    def _m_step(self, data: Answers, posterior: FloatArray, theta: FloatArray,
                xi: FloatArray) -> tuple[FloatArray, FloatArray]:
        w, k = data.workers, data.n_classes
        t = theta[w]
        spam_l = (1 - t) * xi[w, data.labels]
        knew = posterior[data.items, data.labels] * t / np.maximum(t + spam_l, EPS)
        a, b = self.theta_prior
        theta = (wsum(w, knew, data.n_workers) + a - 1) \
            / (data.answers_per_worker + a + b - 2)
        spam = wsum(w * k + data.labels, 1 - knew, data.n_workers * k).reshape(data.n_workers, k)
        spam += self.smoothing
        xi = spam / spam.sum(axis=1, keepdims=True)
        return np.clip(theta, 1e-6, 1 - 1e-6), xi

    def _e_step(self, data: Answers, theta: FloatArray, xi: FloatArray,
                priors: FloatArray) -> tuple[FloatArray, float]:
        t = theta[data.workers]
        spam_l = np.maximum((1 - t) * xi[data.workers, data.labels], EPS)
        base = wsum(data.items, np.log(spam_l), data.n_items)
        bonus = data.per_item_class(np.log(t + spam_l) - np.log(spam_l))
        posterior, log_norm = normalize_log(bonus + base[:, None] + np.log(priors))
        return posterior, float(log_norm[data.answered].sum()) / len(data)

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        start = (np.full(data.n_workers, 0.5),
                 np.full((data.n_workers, data.n_classes), 1.0 / data.n_classes))
        posterior, (theta, xi), priors = self._em(
            data, progress, start,
            lambda post, prev: self._m_step(data, post, *prev),
            lambda params, pri: self._e_step(data, *params, pri),
            lambda post: class_prior(post[data.answered], self.prior_smoothing))
        self.probas_ = posterior
        self.priors_ = priors
        self.skills_ = theta
        self.spam_strategy_ = xi
