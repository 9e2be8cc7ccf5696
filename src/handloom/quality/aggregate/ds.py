"""Dawid–Skene: a full confusion matrix per worker, fitted by expectation–maximisation."""

from __future__ import annotations

import numpy as np

from handloom.quality.aggregate.base import (
    EPS,
    Aggregator,
    Answers,
    FloatArray,
    Progress,
    normalize_log,
)


def class_prior(posterior: FloatArray, smoothing: float) -> FloatArray:
    """Class frequencies from item posteriors, with *smoothing* pseudo-items per class."""
    prior = posterior.sum(axis=0) + smoothing
    return np.asarray(prior / prior.sum(), dtype=np.float64)


class DawidSkene(Aggregator):
    """Each worker w has a confusion matrix ``pi[w, k, l]``, the probability of answering
    l when the true class is k; items have a class prior ``rho``. EM alternates

    - E-step: ``p(i = k) ∝ rho_k * prod_{answers (w, l) of i} pi[w, k, l]`` (in log space,
      one sparse product ``S @ log(pi)`` for all items at once);
    - M-step: ``pi[w, k, l] ∝ n[w, k, l] + shrinkage * pooled[k, l] + smoothing``, where
      ``n[w, k, l]`` sums the posteriors of class k over worker w's answers l, and
      ``pooled`` is the same table summed over all workers and normalised.

    The ``shrinkage`` term is a Dirichlet prior centred on the crowd's pooled confusion
    matrix (an empirical-Bayes choice): a worker with few answers is assumed to err like
    the crowd does until their own answers say otherwise, so one answer cannot make a
    degenerate matrix of zeros and ones. The diagonal pseudo-answers say the crowd is right
    more often than not until the data say otherwise: without them, on a small project a
    class seen on one item can "explain" that item perfectly by its own answers (EM's
    self-confirming fixed point). With ``shrinkage=0`` and ``smoothing=0.01`` this
    is the classical maximum-likelihood model (crowd-kit's ``DawidSkene``). Initialised
    from the majority vote; stops when the mean log-likelihood per answer moves less than
    ``tol``. ``skills_`` is each worker's expected accuracy, ``sum_k rho_k pi[w, k, k]``.

    A. P. Dawid and A. M. Skene (1979), "Maximum Likelihood Estimation of Observer
    Error-Rates Using the EM Algorithm", Applied Statistics 28(1), 20–28.
    https://doi.org/10.2307/2346806

    >>> import numpy as np
    >>> ds = DawidSkene().fit(np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 2, 0, 1, 2]),
    ...                       np.array([1, 1, 1, 0, 0, 0]))
    >>> ds.labels_.tolist()
    [1, 0]
    """

    name = "ds"
    title = "Dawid–Skene"

    def __init__(self, *, n_iter: int = 100, tol: float = 1e-5, seed: int = 0,
                 shrinkage: float = 2.0, smoothing: float = 0.01,
                 prior_smoothing: float = 1.0, diagonal_prior: float = 5.0) -> None:
        super().__init__(n_iter=n_iter, tol=tol, seed=seed)
        self.diagonal_prior = diagonal_prior
        if shrinkage < 0 or smoothing < 0 or prior_smoothing < 0:
            raise ValueError("shrinkage, smoothing and prior_smoothing must be zero or more")
        if shrinkage == 0 and smoothing == 0:
            raise ValueError("shrinkage and smoothing cannot both be 0: a worker's "
                             "confusion matrix would hold zeros and its log -inf")
        self.shrinkage = shrinkage
        self.smoothing = smoothing
        self.prior_smoothing = prior_smoothing
        self.confusions_: FloatArray = np.empty((0, 0, 0))
        self.priors_: FloatArray = np.empty(0)

    def params(self) -> dict[str, object]:
        return {**super().params(), "shrinkage": self.shrinkage, "smoothing": self.smoothing,
                "prior_smoothing": self.prior_smoothing, "diagonal_prior": self.diagonal_prior}

    def _m_step(self, data: Answers, posterior: FloatArray) -> FloatArray:
        w, k = data.n_workers, data.n_classes
        # counts[w, l, k] then moved to [w, k, l]: the posterior mass of class k behind
        # worker w's answers l.
        counts = np.asarray(data.item_by_worker_label.T @ posterior).reshape(w, k, k)
        counts = counts.transpose(0, 2, 1)
        num = counts + self.smoothing
        if self.shrinkage > 0:
            pooled = counts.sum(axis=0) + self.diagonal_prior * np.eye(k) + EPS
            pooled /= pooled.sum(axis=1, keepdims=True)
            num = num + self.shrinkage * pooled
        return np.asarray(num / num.sum(axis=2, keepdims=True), dtype=np.float64)

    def _e_step(self, data: Answers, confusions: FloatArray,
                priors: FloatArray) -> tuple[FloatArray, float]:
        w, k = data.n_workers, data.n_classes
        log_conf = np.log(np.maximum(confusions, EPS)).transpose(0, 2, 1).reshape(w * k, k)
        scores = np.asarray(data.item_by_worker_label @ log_conf) + np.log(priors)
        posterior, log_norm = normalize_log(scores)
        loss = float(log_norm[data.answered].sum()) / len(data)
        return posterior, loss

    def _fit(self, data: Answers, progress: Progress | None) -> None:
        posterior, confusions, priors = self._em(
            data, progress, np.empty(0),
            lambda post, _prev: self._m_step(data, post),
            lambda conf, pri: self._e_step(data, conf, pri),
            lambda post: class_prior(post[data.answered], self.prior_smoothing))
        self.probas_ = posterior
        self.confusions_ = confusions
        self.priors_ = priors
        diag = np.diagonal(confusions, axis1=1, axis2=2)
        self.skills_ = np.asarray(diag @ priors, dtype=np.float64)
