"""GLAD: worker ability and item difficulty, fitted together by EM."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit

from handloom.quality.aggregate.base import (
    Aggregator,
    Answers,
    FloatArray,
    Progress,
    normalize_log,
    wsum,
)
from handloom.quality.aggregate.ds import class_prior

# Newton steps are capped so one noisy step cannot throw a parameter far off.
MAX_STEP = 1.0


class GLAD(Aggregator):
    """Worker w answers item i correctly with probability ``sigmoid(alpha_w * beta_i)``,
    where ``alpha_w`` is the worker's ability (negative for an adversarial worker) and
    ``beta_i > 0`` the item's inverse difficulty; a wrong answer is any other class with
    equal chance. Priors: ``alpha ~ N(alpha_mean, 1 / alpha_precision)``,
    ``log beta ~ N(0, 1 / beta_precision)``; the class prior is fixed and uniform, as in the
    paper (``class_prior="learned"`` estimates it instead; on data with class-specific
    errors a learned prior lets GLAD's symmetric error model drift toward one class).

    E-step as in the one-coin model with per-answer accuracy. M-step: ``inner_steps``
    rounds of one Newton step on all ``alpha`` then one on all ``log beta`` (Fisher
    scoring: the expected curvature, so every step goes uphill), each step a handful of
    vectorised sums over the answers. ``skills_`` holds ``alpha``; ``difficulty_`` holds
    ``1 / beta`` per item.

    J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan (2009), "Whose Vote Should
    Count More: Optimal Integration of Labels from Labelers of Unknown Expertise", NeurIPS
    22. https://papers.nips.cc/paper/3644
    """

    name = "glad"
    title = "GLAD"

    def __init__(self, *, n_iter: int = 100, tol: float = 1e-5, seed: int = 0,
                 alpha_mean: float = 1.0, inner_steps: int = 2,
                 class_prior: str = "uniform", prior_smoothing: float = 1.0,
                 alpha_precision: float = 1.0,
                 beta_precision: float = 1.0) -> None:
        super().__init__(n_iter=n_iter, tol=tol, seed=seed)
        if class_prior not in ("uniform", "learned"):
            raise ValueError(f"class_prior must be 'uniform' or 'learned', got {class_prior!r}")
        self.class_prior = class_prior
        self.alpha_precision = alpha_precision
        self.beta_precision = beta_precision
        if inner_steps < 1:
            raise ValueError(f"inner_steps must be at least 1, got {inner_steps}")
        self.alpha_mean = alpha_mean
        self.inner_steps = inner_steps
        self.prior_smoothing = prior_smoothing
        self.difficulty_: FloatArray = np.empty(0)
        self.priors_: FloatArray = np.empty(0)

    def params(self) -> dict[str, object]:
        return {**super().params(), "alpha_mean": self.alpha_mean,
                "inner_steps": self.inner_steps, "class_prior": self.class_prior,
                "prior_smoothing": self.prior_smoothing,
                "alpha_precision": self.alpha_precision, "beta_precision": self.beta_precision}

    def _class_prior(self, data: Answers, posterior: FloatArray) -> FloatArray:
        if self.class_prior == "uniform":
            return np.full(data.n_classes, 1.0 / data.n_classes)
        return class_prior(posterior[data.answered], self.prior_smoothing)

    def _e_step(self, data: Answers, alpha: FloatArray, log_beta: FloatArray,
                priors: FloatArray) -> tuple[FloatArray, float]:
        k = data.n_classes
        x = alpha[data.workers] * np.exp(log_beta)[data.items]
        wrong = log_expit(-x) - np.log(k - 1)
        right = log_expit(x) - wrong
        base = wsum(data.items, wrong, data.n_items)
        bonus = data.per_item_class(right)
        posterior, log_norm = normalize_log(bonus + base[:, None] + np.log(priors))
        return posterior, float(log_norm[data.answered].sum()) / len(data)

    def _m_step(self, data: Answers, posterior: FloatArray, alpha: FloatArray,
                log_beta: FloatArray) -> tuple[FloatArray, FloatArray]:
        p_right = posterior[data.items, data.labels]
        w, i = data.workers, data.items
        for _ in range(self.inner_steps):
            beta = np.exp(log_beta)[i]
            x = alpha[w] * beta
            s = expit(x)
            grad = wsum(w, (p_right - s) * beta, data.n_workers)
            grad -= (alpha - self.alpha_mean) * self.alpha_precision
            curv = wsum(w, s * (1 - s) * beta * beta, data.n_workers) + self.alpha_precision
            alpha = alpha + np.clip(grad / curv, -MAX_STEP, MAX_STEP)

            x = alpha[w] * beta
            s = expit(x)
            grad = wsum(i, (p_right - s) * x, data.n_items)
            grad -= log_beta * self.beta_precision
            curv = wsum(i, s * (1 - s) * x * x, data.n_items) + self.beta_precision
            log_beta = log_beta + np.clip(grad / curv, -MAX_STEP, MAX_STEP)
        return alpha, log_beta

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        start = (np.full(data.n_workers, self.alpha_mean), np.zeros(data.n_items))
        posterior, (alpha, log_beta), priors = self._em(
            data, progress, start,
            lambda post, prev: self._m_step(data, post, *prev),
            lambda params, pri: self._e_step(data, *params, pri),
            lambda post: self._class_prior(data, post))
        self.probas_ = posterior
        self.priors_ = priors
        self.skills_ = alpha
        self.difficulty_ = np.exp(-log_beta)
