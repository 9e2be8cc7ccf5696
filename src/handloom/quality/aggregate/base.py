"""What every truth-inference estimator shares: input checks, the answer matrices the EM
steps multiply, the reproducible decision rule, and the fitted attributes.

Inputs are three integer-coded arrays of equal length, one row per answer: ``items``
(0..n_items-1), ``workers`` (0..n_workers-1) and ``labels`` (0..n_classes-1). Use
:func:`handloom.quality.encoding.encode_labels` to get them from arbitrary values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

Progress = Callable[[int, float], None]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
P = TypeVar("P")

# Probabilities are clipped away from 0 and 1 before logs are taken.
EPS = 1e-12


# Row reductions over a narrow (items × classes) matrix are done column by column: numpy's
# axis=1 reductions walk rows of a handful of elements and are several times slower.
_NARROW = 32


def row_max(a: FloatArray) -> FloatArray:
    """Maximum of each row of a 2-D array."""
    if a.shape[1] == 0 or a.shape[1] > _NARROW:
        return np.asarray(a.max(axis=1), dtype=np.float64)
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(out, a[:, j], out=out)
    return out


def row_sum(a: NDArray[Any]) -> FloatArray:
    """Sum of each row of a 2-D array (booleans count as 1)."""
    if a.shape[1] == 0 or a.shape[1] > _NARROW:
        return np.asarray(a.sum(axis=1), dtype=np.float64)
    out = a[:, 0].astype(np.float64)
    for j in range(1, a.shape[1]):
        out += a[:, j]
    return out


def wsum(index: IntArray, weights: ArrayLike, size: int) -> FloatArray:
    """Sum *weights* into *size* bins by *index* (``np.bincount`` typed as floats)."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def _as_codes(values: ArrayLike, name: str) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
                and np.all(np.abs(arr) < 2.0 ** 62) and np.all(np.mod(arr, 1) == 0)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer codes (use encode_labels), "
                             f"got dtype {arr.dtype}")
    out = arr.astype(np.int64, copy=False)
    if out.size and out.min() < 0:
        raise ValueError(f"{name} holds a negative code ({int(out.min())}); codes start at 0")
    return out


def _size(given: int | None, codes: IntArray, name: str) -> int:
    seen = int(codes.max()) + 1 if codes.size else 0
    if given is None:
        return seen
    if given < seen:
        raise ValueError(f"{name}={given} but the data holds code {seen - 1}")
    return int(given)


@dataclass
class Answers:
    """Checked, integer-coded answers and the matrices built from them (each built once)."""

    items: IntArray
    workers: IntArray
    labels: IntArray
    n_items: int
    n_workers: int
    n_classes: int
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, items: ArrayLike, workers: ArrayLike, labels: ArrayLike, *,
              n_items: int | None = None, n_workers: int | None = None,
              n_classes: int | None = None) -> Answers:
        i = _as_codes(items, "items")
        w = _as_codes(workers, "workers")
        y = _as_codes(labels, "labels")
        if not len(i) == len(w) == len(y):
            raise ValueError(f"items, workers and labels differ in length "
                             f"({len(i)}, {len(w)}, {len(y)})")
        n_c = _size(n_classes, y, "n_classes")
        return cls(i, w, y, _size(n_items, i, "n_items"), _size(n_workers, w, "n_workers"),
                   max(n_c, 1))

    def __len__(self) -> int:
        return len(self.items)

    @cached_property
    def item_label_counts(self) -> FloatArray:
        """(n_items, n_classes): how many answers of each class each item received."""
        k = self.n_classes
        counts = np.bincount(self.item_class_index, minlength=self.n_items * k)
        return counts.reshape(self.n_items, k).astype(np.float64)

    @cached_property
    def item_class_index(self) -> IntArray:
        """Per answer, its cell in a flattened (n_items × n_classes) table."""
        return np.asarray(self.items * self.n_classes + self.labels, dtype=np.int64)

    def per_item_class(self, weights: ArrayLike) -> FloatArray:
        """(n_items, n_classes): *weights* (one per answer) summed by item and answered
        class."""
        return wsum(self.item_class_index, weights, self.n_items * self.n_classes).reshape(
            self.n_items, self.n_classes)

    @cached_property
    def answers_per_item(self) -> FloatArray:
        # From the per-item class counts (n_items × K) rather than another pass over answers.
        return row_sum(self.item_label_counts)

    @cached_property
    def answers_per_worker(self) -> FloatArray:
        return np.bincount(self.workers, minlength=self.n_workers).astype(np.float64)

    @cached_property
    def answered(self) -> NDArray[np.bool_]:
        return self.answers_per_item > 0

    @cached_property
    def label_frequency(self) -> FloatArray:
        return np.asarray(self.item_label_counts.sum(axis=0), dtype=np.float64)

    @cached_property
    def item_by_worker_label(self) -> sp.csr_matrix:
        """Sparse (n_items, n_workers * n_classes) count matrix: entry (i, w*K + l) counts
        the answers l that worker w gave item i. ``S @ X`` sums a per-(worker, label) table
        over each item's answers; ``S.T @ T`` sums item posteriors per (worker, label)."""
        k = self.n_classes
        cols = self.workers * k + self.labels
        shape = (self.n_items, self.n_workers * k)
        data = np.ones(len(cols), dtype=np.float64)
        # Answers read from a store usually come grouped by item already: the CSR arrays
        # are then the columns as they are; otherwise scipy's linear-time conversion sorts.
        if len(self.items) > 1 and not bool(np.all(self.items[1:] >= self.items[:-1])):
            return sp.csr_matrix((data, (self.items, cols)), shape=shape)
        indptr = np.zeros(self.n_items + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.items, minlength=self.n_items), out=indptr[1:])
        return sp.csr_matrix((data, cols, indptr), shape=shape)


def majority_probas(data: Answers) -> FloatArray:
    """Share of each item's answers per class (rows of unanswered items are zero)."""
    counts = data.item_label_counts
    with np.errstate(invalid="ignore", divide="ignore"):
        out = counts / data.answers_per_item[:, None]
    out[~data.answered] = 0.0
    return np.asarray(out, dtype=np.float64)


def normalize_log(log_scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise softmax of log scores; also the log of each row's normaliser."""
    top = row_max(log_scores)[:, None]
    probs = np.exp(log_scores - top)
    total = row_sum(probs)[:, None]
    probs /= total
    return probs, (np.log(total) + top)[:, 0]


TieScores = Callable[[IntArray, IntArray], FloatArray]


def decide(probas: FloatArray, label_frequency: FloatArray, answered: NDArray[np.bool_],
           tie_scores: TieScores | None = None) -> IntArray:
    """Most probable class per item. Ties (within 1e-9) go to the class with the higher
    score from *tie_scores* when one is given (called with the tied rows and the labels
    chosen so far; it returns their (rows × classes) scores), then to the class answered
    most often over the whole data set, then to the lowest code: the same data always gives
    the same labels, whatever the order of its rows or the numbering of items and workers."""
    k = probas.shape[1]
    if k == 0 or not len(probas):
        return np.full(len(probas), -1, dtype=np.int64)
    near = probas >= (row_max(probas) - 1e-9)[:, None]
    # The first near-maximal class of each row (columns from last to first, so the first
    # wins): the argmax where there is no tie, without numpy's slow row-wise argmax.
    labels = np.zeros(len(probas), dtype=np.int64)
    for j in range(k - 1, 0, -1):
        labels[near[:, j]] = j
    labels[near[:, 0]] = 0
    rows = np.flatnonzero(row_sum(near) > 1) if k > 1 else np.empty(0, dtype=np.int64)
    if len(rows):
        # Only tied rows need the rule: rank 0 = least frequent class; among equal
        # frequencies the lower code ranks higher.
        order = np.lexsort((-np.arange(k), label_frequency))
        rank = np.empty(k, dtype=np.int64)
        rank[order] = np.arange(k)
        tied = near[rows]
        if tie_scores is not None:
            second = np.where(tied, tie_scores(rows, labels), -np.inf)
            tied &= second >= second.max(axis=1, keepdims=True) - 1e-9
        labels[rows] = np.where(tied, rank[None, :], -1).argmax(axis=1)
    labels[~answered] = -1
    return labels


class Aggregator(ABC):
    """Base class. Subclasses implement ``_fit`` and set ``probas_`` and ``skills_``.

    Fitted attributes (after :meth:`fit`):
    - ``labels_``: chosen class per item, ``-1`` for items with no answers;
    - ``probas_``: (n_items, n_classes) posterior over classes (zero rows where unanswered);
    - ``confidence_``: the posterior probability of the chosen class (0 where unanswered);
    - ``skills_``: one figure per worker (its meaning is the method's; see its docstring);
    - ``loss_history_``: the objective per iteration (mean log-likelihood per answer for
      the EM methods; empty for closed-form methods);
    - ``n_iter_``: iterations run.
    """

    name: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, *, n_iter: int = 100, tol: float = 1e-5, seed: int = 0) -> None:
        if n_iter < 1:
            raise ValueError(f"n_iter must be at least 1, got {n_iter}")
        if tol < 0:
            raise ValueError(f"tol must be zero or more, got {tol}")
        self.n_iter = n_iter
        self.tol = tol
        self.seed = seed
        self.labels_: IntArray = np.empty(0, dtype=np.int64)
        self.probas_: FloatArray = np.empty((0, 0))
        self.confidence_: FloatArray = np.empty(0)
        self.skills_: FloatArray = np.empty(0)
        self.loss_history_: list[float] = []
        self.n_iter_ = 0

    def params(self) -> dict[str, Any]:
        """The constructor's parameters, for exports and the ledger."""
        return {"n_iter": self.n_iter, "tol": self.tol, "seed": self.seed}

    def fit(self, items: ArrayLike, workers: ArrayLike, labels: ArrayLike, *,
            n_items: int | None = None, n_workers: int | None = None,
            n_classes: int | None = None, progress: Progress | None = None) -> Self:
        data = Answers.build(items, workers, labels, n_items=n_items, n_workers=n_workers,
                             n_classes=n_classes)
        self.loss_history_ = []
        self.n_iter_ = 0
        if len(data) == 0 or data.n_classes == 1:
            # Nothing to infer: every answered item has the one class there is.
            self.probas_ = np.ones((data.n_items, data.n_classes))
            self.skills_ = np.where(data.answers_per_worker > 0, 1.0, np.nan)
        else:
            self._fit(data, progress)
        self.probas_[~data.answered] = 0.0
        self.labels_ = decide(self.probas_, data.label_frequency, data.answered,
                              self._tie_scores(data))
        self._after_decide(data)
        conf = row_max(self.probas_) if data.n_items else np.empty(0)
        self.confidence_ = np.where(data.answered, conf, 0.0)
        return self

    def fit_predict(self, items: ArrayLike, workers: ArrayLike, labels: ArrayLike,
                    **kwargs: Any) -> IntArray:
        return self.fit(items, workers, labels, **kwargs).labels_

    def fit_predict_proba(self, items: ArrayLike, workers: ArrayLike, labels: ArrayLike,
                          **kwargs: Any) -> FloatArray:
        return self.fit(items, workers, labels, **kwargs).probas_

    @abstractmethod
    def _fit(self, data: Answers, progress: Progress | None) -> None:
        """Fit the method to *data*: set ``probas_`` and ``skills_`` (and the method's own
        fitted attributes)."""

    def _tie_scores(self, data: Answers) -> TieScores | None:
        """Scores that settle exact ties in the posterior, for a method with a better rule
        than overall class frequency (None: no such rule)."""
        return None

    def _after_decide(self, data: Answers) -> None:  # noqa: B027 (an optional hook)
        """Called once ``labels_`` is set, for figures that depend on the final labels
        (majority vote's agreement skills); most methods need nothing here."""

    def _em(self, data: Answers, progress: Progress | None, start: P,
            m_step: Callable[[FloatArray, P], P],
            e_step: Callable[[P, FloatArray], tuple[FloatArray, float]],
            priors_of: Callable[[FloatArray], FloatArray]) -> tuple[FloatArray, P, FloatArray]:
        """The EM loop every iterative method shares: start from the majority vote's
        posterior, then alternate the E-step (posterior and log-likelihood from the
        parameters and class prior) and the M-step (parameters from the posterior, given the
        previous ones) until the loss moves less than ``tol``. Returns the posterior, the
        parameters and the class prior."""
        posterior = majority_probas(data)
        params = m_step(posterior, start)
        priors = priors_of(posterior)
        for _ in range(self.n_iter):
            posterior, loss = e_step(params, priors)
            params = m_step(posterior, params)
            priors = priors_of(posterior)
            if self._converged(loss, progress):
                break
        return posterior, params, priors

    def _converged(self, loss: float, progress: Progress | None) -> bool:
        """Record one iteration's loss; True when it moved less than ``tol``."""
        self.loss_history_.append(loss)
        self.n_iter_ = len(self.loss_history_)
        if progress is not None:
            progress(self.n_iter_, loss)
        if len(self.loss_history_) < 2:
            return False
        return abs(self.loss_history_[-1] - self.loss_history_[-2]) < self.tol


def agreement_with(labels: IntArray, data: Answers) -> FloatArray:
    """Per worker: the share of their answers equal to *labels* of the same item."""
    hit = (labels[data.items] == data.labels).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.bincount(data.workers, weights=hit, minlength=data.n_workers) \
            / data.answers_per_worker
    return np.asarray(out, dtype=np.float64)

