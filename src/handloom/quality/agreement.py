"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' and Cohen's kappa, percent agreement,
and bootstrap confidence intervals over units. Span F1 and Kendall's tau, for structured
answers, are in :mod:`handloom.quality.structured` and re-exported here.

Inputs are three parallel arrays, one row per answer: ``items`` and ``workers`` hold integer
codes (see :func:`handloom.quality.encoding.encode_labels`) and ``values`` the answer: any
hashable code for nominal data, numbers for ordinal, interval and ratio data. Everything is
computed from sparse per-unit counts (``np.bincount`` and ``scipy.sparse``); no dense
items × workers matrix is ever built, so a million answers take milliseconds.

:func:`agreement` is the one entry point the CLI calls; the other functions are the parts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from handloom.quality.structured import (
    Span,
    SpanScore,
    kendall_tau,
    mean_pairwise_kendall,
    pairwise_span_f1,
    span_f1,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Level = Literal["nominal", "ordinal", "interval", "ratio"]
Metric = Literal["alpha", "fleiss", "cohen", "percent"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
METRICS: tuple[Metric, ...] = ("alpha", "fleiss", "cohen", "percent")

# Work arrays (within-unit pairs, per-unit pair tables, distance blocks) are cut into or
# capped at about this many elements, so that memory stays bounded whatever the data's size.
_BLOCK = 1 << 22
# Ordinal bootstrap replicates are vectorized over distinct value pairs up to this many.
_MAX_VALUE_PAIRS = 4096
# With at most this many distinct values the units × values counts are kept dense (when
# units × values is not much more than the answers): one bincount builds them, and a block
# of bootstrap replicates is one matrix product.
_MAX_DENSE_LEVELS = 256
# Bootstrap replicates are drawn in blocks of about this many (replicate, unit) cells.
_BOOT_BLOCK = 1 << 20


# --------------------------------------------------------------------------- input checks


def _codes(ids: ArrayLike, name: str, given: int | None) -> tuple[IntArray, int]:
    """Integer codes 0..n-1 and n; sparse or negative ids are re-coded densely."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64), int(given or 0)
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer codes (use encode_labels), "
                             f"got dtype {arr.dtype}")
    out = arr.astype(np.int64, copy=False)
    low, high = int(out.min()), int(out.max())
    if given is not None:
        if low < 0 or high >= given:
            raise ValueError(f"{name} holds code {low if low < 0 else high}, outside "
                             f"0..{given - 1} ({name[:-1]} count given as {given})")
        return out, int(given)
    if low < 0 or high >= 4 * out.size + 1024:
        _, inverse = np.unique(out, return_inverse=True)
        out = inverse.reshape(-1).astype(np.int64)
        return out, int(out.max()) + 1
    return out, high + 1


def _value_codes(values: NDArray[Any]) -> tuple[IntArray, NDArray[Any]]:
    """Codes 0..V-1 into sorted *levels*, and the levels: the distinct values, or for whole
    numbers on a short scale every step from the lowest value to the highest."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), values[:0]
    if values.dtype == object:
        # Mixed labels: sort by (type name, value) so ints and strings never compare.
        listed = values.tolist()
        classes = sorted(set(listed), key=lambda v: (type(v).__name__, v))
        index = {v: i for i, v in enumerate(classes)}
        levels_obj = np.empty(len(classes), dtype=object)
        levels_obj[:] = classes
        return np.fromiter((index[v] for v in listed), dtype=np.int64,
                           count=len(listed)), levels_obj
    coded = _small_int_codes(values)
    if coded is not None:
        return coded
    levels, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), levels


def _small_int_codes(values: NDArray[Any]) -> tuple[IntArray, NDArray[Any]] | None:
    """:func:`_value_codes` by one counting pass instead of a sort, when *values* are whole
    numbers in a range not much wider than their count (rating scales, label codes)."""
    if values.size == 0:
        return None
    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        ints = values.astype(np.int64, copy=False)
    elif np.issubdtype(values.dtype, np.floating):
        with np.errstate(invalid="ignore"):  # huge values cast to garbage, then fail the test
            ints = values.astype(np.int64)
        if not np.array_equal(ints, values):
            return None
    else:
        return None
    low, high = int(ints.min()), int(ints.max())
    span = high - low + 1
    if span > 4 * ints.size + 1024:
        return None
    if low:
        ints = ints - low
    if span <= _MAX_DENSE_LEVELS:
        # A short scale keeps every step, seen or not: a value nobody gave counts zero in
        # every metric, and this saves a pass over the data.
        return ints, np.arange(low, high + 1).astype(values.dtype)
    present = np.bincount(ints, minlength=span) > 0
    if present.all():
        return ints, np.arange(low, high + 1).astype(values.dtype)
    remap = np.cumsum(present) - 1
    return remap[ints], (np.flatnonzero(present) + low).astype(values.dtype)


def _encode(labels: Sequence[Hashable] | NDArray[Any]) -> tuple[IntArray, list[Any]]:
    """Codes 0..K-1 for arbitrary hashable labels, in sorted order (by type name, then value)."""
    codes, levels = _value_codes(np.asarray(labels).reshape(-1))
    return codes, levels.tolist()


@dataclass(frozen=True)
class _Answers:
    """Checked answers, missing values (NaN) dropped."""

    items: IntArray
    workers: IntArray
    values: NDArray[Any]
    n_items: int
    n_workers: int


def _answers(items: ArrayLike, workers: ArrayLike, values: ArrayLike, *, numeric: bool,
             n_items: int | None = None, n_workers: int | None = None) -> _Answers:
    item_codes, n_i = _codes(items, "items", n_items)
    worker_codes, n_w = _codes(workers, "workers", n_workers)
    vals = np.asarray(values)
    if vals.ndim != 1:
        raise ValueError(f"values must be a one-dimensional array, got shape {vals.shape}")
    if not len(item_codes) == len(worker_codes) == len(vals):
        raise ValueError(f"items, workers and values differ in length "
                         f"({len(item_codes)}, {len(worker_codes)}, {len(vals)})")
    if numeric:
        try:
            vals = vals.astype(np.float64, copy=False)
        except (TypeError, ValueError):
            raise ValueError(f"ordinal, interval and ratio levels need numeric values, got "
                             f"dtype {vals.dtype}; use level='nominal' for labels") from None
    if np.issubdtype(vals.dtype, np.floating) and not np.isfinite(vals).all():
        if np.isinf(vals).any():
            raise ValueError("values hold an infinite number; use NaN for a missing value")
        seen = ~np.isnan(vals)
        item_codes, worker_codes, vals = item_codes[seen], worker_codes[seen], vals[seen]
    return _Answers(item_codes, worker_codes, vals, n_i, n_w)


@dataclass(frozen=True)
class _Units:
    """The answers in units (items) with at least two values: the ones any agreement uses."""

    unit: IntArray  # unit index 0..n_units-1 of each kept answer
    workers: IntArray
    values: NDArray[Any]
    m: FloatArray  # values per unit, all >= 2

    @property
    def n_units(self) -> int:
        return len(self.m)


def _pairable(answers: _Answers) -> _Units:
    per_item = np.bincount(answers.items, minlength=answers.n_items)
    pairable = per_item >= 2
    keep = pairable[answers.items]
    renumber = np.cumsum(pairable) - 1
    return _Units(renumber[answers.items[keep]], answers.workers[keep], answers.values[keep],
                  per_item[pairable].astype(np.float64))


def _ragged_arange(counts: IntArray) -> IntArray:
    """``concatenate([arange(c) for c in counts])`` without the loop."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(
        ends - counts, counts)


def _pairs_within_units(unit: IntArray, n_units: int) -> Iterator[tuple[IntArray, IntArray]]:
    """Index pairs (a, b), a < b, of rows in the same unit; rows must be sorted by unit.
    Yielded in blocks of at most about ``_BLOCK`` pairs."""
    per_unit = np.bincount(unit, minlength=n_units)
    first = np.cumsum(per_unit) - per_unit
    later = (per_unit[unit] - 1 - (np.arange(len(unit)) - first[unit])).astype(np.int64)
    done = np.cumsum(later)
    start = 0
    while start < len(unit):
        stop = int(np.searchsorted(done, (done[start - 1] if start else 0) + _BLOCK, "right"))
        stop = max(stop, start + 1)
        a = np.repeat(np.arange(start, stop, dtype=np.int64), later[start:stop])
        if len(a):
            yield a, a + 1 + _ragged_arange(later[start:stop])
        start = stop


# --------------------------------------------------------------------------- Krippendorff

Distance = Callable[[FloatArray, FloatArray], FloatArray]


class _ValueTable:
    """The counts n_uc of each distinct value c in each pairable unit u (an item with at
    least two values): dense units × values when that is small, else sparse cells.

    Every figure is a function of unit weights: row b of *weights* (replicates × units) says
    how often each unit counts, so ``None`` (all ones) is the point estimate and a bootstrap
    replicate is the multiplicity of each unit in the resample.
    """

    def __init__(self, answers: _Answers,
                 coded: tuple[IntArray, NDArray[Any]] | None = None) -> None:
        self.answers = answers
        self.code, self.levels = coded or _value_codes(answers.values)
        n_levels = self.n_levels = len(self.levels)
        n_items = answers.n_items
        self.dense: FloatArray | None = None
        self.sparse: Any = None  # scipy.sparse.csr_matrix, units × values
        self._rows: tuple[IntArray, IntArray] | None = None
        if self.fits_dense(answers, n_levels):
            key = answers.items * n_levels
            key += self.code
            table = np.bincount(key, minlength=n_items * n_levels).reshape(n_items, n_levels)
            per_item = table.sum(axis=1)
            self.pairable = per_item >= 2
            self.m = per_item[self.pairable].astype(np.float64)
            self.dense = table[self.pairable].astype(np.float64)
            self.n_units = len(self.m)
            return
        per_item = np.bincount(answers.items, minlength=n_items)
        self.pairable = per_item >= 2
        self.m = per_item[self.pairable].astype(np.float64)
        self.n_units = len(self.m)
        unit, code = self.rows()
        key = unit * n_levels + code
        cells, counts = np.unique(key, return_counts=True)
        self.cell_unit, self.cell_code = cells // n_levels, cells % n_levels
        self.cell_count = counts.astype(np.float64)
        indptr = np.zeros(self.n_units + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.cell_unit, minlength=self.n_units), out=indptr[1:])
        self.sparse = sp.csr_matrix((self.cell_count, self.cell_code, indptr),
                                    shape=(self.n_units, n_levels))

    @staticmethod
    def fits_dense(answers: _Answers, n_levels: int) -> bool:
        return (n_levels <= _MAX_DENSE_LEVELS
                and answers.n_items * n_levels <= 4 * len(answers.items) + (1 << 20))

    def rows(self) -> tuple[IntArray, IntArray]:
        """The unit index and value code of every value in a pairable unit."""
        if self._rows is None:
            items = self.answers.items
            keep = self.pairable[items]
            renumber = np.cumsum(self.pairable) - 1
            self._rows = renumber[items[keep]], self.code[keep]
        return self._rows

    def totals(self, weights: FloatArray | None) -> FloatArray:
        """n_c per replicate: the weighted column sums (replicates × values)."""
        if self.dense is not None:
            totals = self.dense.sum(axis=0)[None, :] if weights is None else weights @ self.dense
        elif weights is None:
            totals = np.bincount(self.cell_code, weights=self.cell_count,
                                 minlength=self.n_levels).astype(np.float64)[None, :]
        else:
            totals = np.asarray(self.sparse.T @ weights.T).T
        return totals

    def same_value(self) -> FloatArray:
        """sum_c n_uc^2 per unit."""
        if self.dense is not None:
            same: FloatArray = (self.dense * self.dense).sum(axis=1)
            return same
        return np.bincount(self.cell_unit, weights=self.cell_count**2,
                           minlength=self.n_units).astype(np.float64)

    def _cell_pairs(self) -> Iterator[tuple[IntArray, IntArray, IntArray, FloatArray]]:
        """Sparse cells only: the per-unit coincidences o_uck = 2 n_uc n_uk / (m_u - 1),
        c < k, in blocks of (unit, c, k, o_uck). The diagonal is left out: every metric is 0
        there."""
        for a, b in _pairs_within_units(self.cell_unit, self.n_units):
            unit = self.cell_unit[a]
            yield (unit, self.cell_code[a], self.cell_code[b],
                   2.0 * self.cell_count[a] * self.cell_count[b] / (self.m[unit] - 1.0))

    def unit_observed(self, distance: Distance) -> FloatArray:
        """sum_{c,k} o_uck d(c, k) per unit, for a metric with d(c, c) = 0."""
        levels = self.levels.astype(np.float64)
        if self.dense is not None:
            matrix = distance(levels[:, None], levels[None, :])
            per_unit: FloatArray = ((self.dense @ matrix) * self.dense).sum(axis=1) / (
                self.m - 1.0)
            return per_unit
        observed = np.zeros(self.n_units)
        for unit, c, k, weight in self._cell_pairs():
            observed += np.bincount(unit, weights=weight * distance(levels[c], levels[k]),
                                    minlength=self.n_units)
        return observed

    def coincidences(self) -> FloatArray:
        """Dense table only: the coincidence matrix o_ck off the diagonal (on it, too much
        by n_c / (m_u - 1) per unit; no metric looks there)."""
        assert self.dense is not None
        scaled = self.dense / (self.m - 1.0)[:, None]
        return np.asarray(scaled.T @ self.dense)

    def pair_table(self) -> tuple[Any, IntArray, IntArray] | None:
        """Per-unit coincidences o_uck, c < k, as a units × (c, k) matrix, dense or sparse,
        with the c and k of each column; None when that would be too large."""
        n_levels = self.n_levels
        if self.dense is not None:
            c, k = np.triu_indices(n_levels, 1)
            if self.n_units * len(c) > _BLOCK:
                return None
            table = 2.0 * self.dense[:, c] * self.dense[:, k] / (self.m - 1.0)[:, None]
            return table, c.astype(np.int64), k.astype(np.int64)
        if n_levels * (n_levels - 1) // 2 > _MAX_VALUE_PAIRS:
            return None
        blocks = list(self._cell_pairs())
        if not blocks:
            return sp.csr_matrix((self.n_units, 0)), np.zeros(0, np.int64), np.zeros(0, np.int64)
        unit = np.concatenate([b[0] for b in blocks])
        keys, column = np.unique(np.concatenate([b[1] * n_levels + b[2] for b in blocks]),
                                 return_inverse=True)
        matrix = sp.csr_matrix((np.concatenate([b[3] for b in blocks]),
                                (unit, column.reshape(-1))), shape=(self.n_units, len(keys)))
        return matrix, keys // n_levels, keys % n_levels


class _AlphaModel(Protocol):
    """Alpha for unit weightings (see :class:`_ValueTable`), one figure per replicate."""

    n_units: int

    def batch(self, weights: FloatArray | None) -> FloatArray: ...


def _alpha_from_sums(n: FloatArray, observed: FloatArray, expected: FloatArray,
                     single_value: NDArray[np.bool_]) -> FloatArray:
    """alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck; 1.0 with one value."""
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where(single_value, 1.0, alpha)


def _weighted_sum(per_unit: FloatArray, weights: FloatArray | None) -> FloatArray:
    return np.array([per_unit.sum()]) if weights is None else weights @ per_unit


class _NominalAlpha:
    """d_ck = [c != k]: sum_{c != k} o_uck = (m_u^2 - sum_c n_uc^2) / (m_u - 1)."""

    def __init__(self, answers: _Answers) -> None:
        self.table = _ValueTable(answers)
        self.n_units = self.table.n_units
        m = self.table.m
        self.observed = (m * m - self.table.same_value()) / (m - 1.0)

    def batch(self, weights: FloatArray | None) -> FloatArray:
        totals = self.table.totals(weights)
        n = totals.sum(axis=1)
        expected = n * n - (totals * totals).sum(axis=1)
        return _alpha_from_sums(n, _weighted_sum(self.observed, weights), expected,
                                (totals > 0).sum(axis=1) <= 1)


class _IntervalAlpha:
    """d_ck = (c - k)^2. Both sums reduce to within-unit and overall sums of squares, so no
    value codes are needed: sum_{i,j in u} (x_i - x_j)^2 = 2 m_u sum_i (x_i - mean_u)^2."""

    def __init__(self, answers: _Answers) -> None:
        self.answers = answers
        items, n_items = answers.items, answers.n_items
        x = answers.values.astype(np.float64)
        x = x - x.mean() if x.size else x  # centred: the sums below then lose no precision
        self.x = x
        per_item = np.bincount(items, minlength=n_items)
        self.pairable = pairable = per_item >= 2
        s1 = np.bincount(items, weights=x, minlength=n_items)
        s2 = np.bincount(items, weights=x * x, minlength=n_items)
        mean = np.divide(s1, per_item, out=np.zeros(n_items), where=per_item > 0)
        dev = x - mean[items]
        m = per_item[pairable].astype(np.float64)
        observed = 2.0 * m * np.bincount(items, weights=dev * dev,
                                         minlength=n_items)[pairable] / (m - 1.0)
        self.columns = np.column_stack([m, s1[pairable], s2[pairable], observed])
        self.n_units = len(m)
        self._range: tuple[FloatArray, FloatArray] | None = None

    def single_value(self, weights: FloatArray | None) -> NDArray[np.bool_]:
        """Whether each replicate's units hold one value only (exact, from unit ranges)."""
        if self._range is None:
            low = np.full(self.answers.n_items, np.inf)
            high = np.full(self.answers.n_items, -np.inf)
            np.minimum.at(low, self.answers.items, self.x)
            np.maximum.at(high, self.answers.items, self.x)
            self._range = low[self.pairable], high[self.pairable]
        low, high = self._range
        if weights is None:
            return np.array([low.min() == high.max()])
        used = weights > 0
        return np.asarray(np.where(used, low, np.inf).min(axis=1)
                          == np.where(used, high, -np.inf).max(axis=1))

    def batch(self, weights: FloatArray | None) -> FloatArray:
        sums = self.columns.sum(axis=0)[None, :] if weights is None else weights @ self.columns
        n, s1, s2, observed = sums.T
        # sum_ck n_c n_k (c - k)^2 = 2 n sum x^2 - 2 (sum x)^2. That cancels to rounding
        # noise when a replicate holds one value: only such rows get the exact check.
        expected = 2.0 * n * s2 - 2.0 * s1 * s1
        single = np.zeros(len(n), dtype=bool)
        doubtful = expected <= 1e-9 * 2.0 * n * s2
        if doubtful.any():
            single[doubtful] = self.single_value(None if weights is None
                                                 else weights[doubtful])
        return _alpha_from_sums(n, observed, expected, single)


class _OrdinalAlpha:
    """d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 (Krippendorff 2011, p. 6). With the
    mid-rank F_c = sum_{g<c} n_g + n_c / 2 this is (F_k - F_c)^2: the interval metric on F,
    which depends on the value totals and so on the replicate."""

    def __init__(self, answers: _Answers) -> None:
        self.table = _ValueTable(answers)
        self.n_units = self.table.n_units
        self._pairs: tuple[Any, IntArray, IntArray] | None = None
        self._pairs_tried = False

    def batch(self, weights: FloatArray | None) -> FloatArray:
        totals = self.table.totals(weights)
        n = totals.sum(axis=1)
        ranks = np.cumsum(totals, axis=1) - totals / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = (totals * ranks).sum(axis=1) / n
        spread = ranks - mean[:, None]
        expected = 2.0 * n * (totals * spread * spread).sum(axis=1)
        if weights is None and self.table.dense is not None:
            gap = ranks[0][:, None] - ranks[0][None, :]
            observed = np.array([(self.table.coincidences() * gap * gap).sum()])
        elif weights is not None and self.pairs() is not None:
            matrix, c, k = self.pairs()  # type: ignore[misc]
            coincidences = np.asarray(matrix.T @ weights.T).T
            gap = ranks[:, c] - ranks[:, k]
            observed = (coincidences * gap * gap).sum(axis=1)
        else:
            rows = np.ones((1, self.n_units)) if weights is None else weights
            observed = np.array([self._observed(r, w) for r, w in zip(ranks, rows, strict=True)])
        return _alpha_from_sums(n, observed, expected, (totals > 0).sum(axis=1) <= 1)

    def pairs(self) -> tuple[Any, IntArray, IntArray] | None:
        if not self._pairs_tried:
            self._pairs, self._pairs_tried = self.table.pair_table(), True
        return self._pairs

    def _observed(self, ranks: FloatArray, weights: FloatArray) -> float:
        """One replicate from the values themselves: the interval sums on mid-ranks."""
        unit, code = self.table.rows()
        m = self.table.m
        x = ranks[code]
        mean = np.bincount(unit, weights=x, minlength=self.n_units) / m
        dev = x - mean[unit]
        per_unit = 2.0 * m * np.bincount(unit, weights=dev * dev,
                                         minlength=self.n_units) / (m - 1.0)
        return float(weights @ per_unit)


def _ratio_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    """((a - b) / (a + b))^2, and 0 where a + b = 0 (both zero)."""
    total = a + b
    ratio = np.divide(a - b, total, out=np.zeros(np.broadcast(a, b).shape), where=total != 0)
    return ratio * ratio


def _interval_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    return (a - b) ** 2


class _FixedMetricAlpha:
    """Any metric that does not depend on the data: the observed sum is per unit; the
    expected sum runs over value pairs, in blocks of rows of the V × V distance matrix. Used
    for ratio, d_ck = ((c - k) / (c + k))^2, and for interval on whole-number scales."""

    def __init__(self, table: _ValueTable, distance: Distance) -> None:
        self.table = table
        self.n_units = table.n_units
        self.levels = table.levels.astype(np.float64)
        self.distance = distance
        self.observed = table.unit_observed(distance)

    def batch(self, weights: FloatArray | None) -> FloatArray:
        totals = self.table.totals(weights)
        levels = self.levels
        expected = np.zeros(len(totals))
        step = max(1, _BLOCK // max(len(levels), 1))
        for start in range(0, len(levels), step):
            rows = slice(start, start + step)
            distance = self.distance(levels[rows, None], levels[None, :])
            expected += ((totals[:, rows] @ distance) * totals).sum(axis=1)
        return _alpha_from_sums(totals.sum(axis=1), _weighted_sum(self.observed, weights),
                                expected, (totals > 0).sum(axis=1) <= 1)


def _ratio_model(answers: _Answers) -> _AlphaModel:
    table = _ValueTable(answers)
    if table.n_levels and table.levels[0] < 0:
        raise ValueError(f"the ratio level needs non-negative values, got "
                         f"{table.levels[0]}; use level='interval' for signed data")
    return _FixedMetricAlpha(table, _ratio_distance)


def _interval_model(answers: _Answers) -> _AlphaModel:
    """A small whole-number scale is counted per unit like the other levels; anything else
    (measurements) goes through per-unit sums of squares without value codes."""
    coded = _small_int_codes(answers.values)
    if coded is not None and _ValueTable.fits_dense(answers, len(coded[1])):
        return _FixedMetricAlpha(_ValueTable(answers, coded), _interval_distance)
    return _IntervalAlpha(answers)


_ALPHA_MODELS: dict[str, Callable[[_Answers], _AlphaModel]] = {
    "nominal": _NominalAlpha, "ordinal": _OrdinalAlpha, "interval": _interval_model,
    "ratio": _ratio_model,
}


def _alpha_model(items: ArrayLike, workers: ArrayLike, values: ArrayLike, *,
                 level: str = "nominal", n_items: int | None = None,
                 n_workers: int | None = None) -> _AlphaModel:
    if level not in _ALPHA_MODELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    return _ALPHA_MODELS[level](_answers(items, workers, values, numeric=level != "nominal",
                                         n_items=n_items, n_workers=n_workers))


def krippendorff_alpha(items: ArrayLike, workers: ArrayLike, values: ArrayLike, *,
                       level: Level = "nominal", n_items: int | None = None,
                       n_workers: int | None = None) -> float:
    r"""Krippendorff's alpha over sparse reliability data (one row per value).

    From the coincidence matrix

    .. math::

        o_{ck} = \sum_u \frac{n_{uc} n_{uk} - [c = k]\, n_{uc}}{m_u - 1}, \qquad
        n_c = \sum_k o_{ck}, \qquad n = \sum_c n_c,

    where :math:`n_{uc}` counts the values c in unit u and :math:`m_u = \sum_c n_{uc}`,

    .. math::

        \alpha = 1 - \frac{D_o}{D_e}
               = 1 - (n - 1) \frac{\sum_{c,k} o_{ck}\, \delta^2_{ck}}
                                  {\sum_{c,k} n_c n_k\, \delta^2_{ck}}

    with the metric :math:`\delta^2` of the *level*: nominal ``[c != k]``; ordinal
    ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` over the ordered distinct values; interval
    ``(c - k)^2``; ratio ``((c - k)/(c + k))^2``. Units with fewer than two values are not
    pairable and drop out. Several values from one worker for one item all count: each pairs
    with the unit's other values (standard reliability-data semantics), so *workers* serves
    only to check the input. NaN values are missing and dropped. *n_items* and *n_workers*,
    when given, are the code ranges (0..n-1) the codes are checked against.

    o is never built from pairs of answers. Values on a short whole-number scale (ratings,
    label codes) are counted per unit in one ``bincount`` (units × scale steps), and o is a
    product of that table with itself, or for nominal its per-unit closed form
    (m_u^2 - sum_c n_uc^2) / (m_u - 1): linear in the answers. Other values are sorted once
    into sparse per-unit counts; interval measurements skip even that, through per-unit sums
    of squares: sum_{i,j in u} (x_i - x_j)^2 = 2 m_u sum_i (x_i - mean_u)^2. Returns NaN
    when no unit is pairable, and 1.0 when all pairable values are one value (D_e = D_o = 0:
    nothing to disagree about counts as agreement; the ``krippendorff`` package raises here).

    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
    https://repository.upenn.edu/asc_papers/43

    >>> round(krippendorff_alpha([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1], [1, 1, 2, 2, 1, 2]), 3)
    0.444
    """
    model = _alpha_model(items, workers, values, level=level, n_items=n_items,
                         n_workers=n_workers)
    return float(model.batch(None)[0]) if model.n_units else float("nan")


# --------------------------------------------------------------------------- kappa family


class _NominalCounts:
    """Per-unit category counts for Fleiss' kappa and percent agreement."""

    def __init__(self, items: ArrayLike, workers: ArrayLike, values: ArrayLike) -> None:
        self.table = _ValueTable(_answers(items, workers, values, numeric=False))
        self.n_units = self.table.n_units
        m = self.table.m
        # P_u: the share of ordered pairs of distinct answers in unit u that agree
        self.agreement = (self.table.same_value() - m) / (m * (m - 1.0))

    def percent(self, weights: FloatArray | None) -> FloatArray:
        if weights is None:
            return np.array([self.agreement.mean()])
        share: FloatArray = (weights @ self.agreement) / weights.sum(axis=1)
        return share

    def fleiss(self, weights: FloatArray | None) -> FloatArray:
        observed = self.percent(weights)
        totals = self.table.totals(weights)
        shares = totals / totals.sum(axis=1, keepdims=True)
        chance = (shares * shares).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = (observed - chance) / (1.0 - chance)
        return np.where((totals > 0).sum(axis=1) <= 1, 1.0, kappa)


def fleiss_kappa(items: ArrayLike, workers: ArrayLike, values: ArrayLike) -> float:
    r"""Fleiss' kappa for nominal answers, over the items with at least two answers.

    .. math::

        P_i = \frac{\sum_j n_{ij}(n_{ij} - 1)}{n_i (n_i - 1)}, \quad
        \bar P = \operatorname{mean}_i P_i, \quad
        p_j = \frac{\sum_i n_{ij}}{\sum_i n_i}, \quad
        \bar P_e = \sum_j p_j^2, \quad
        \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e}

    With the same number of raters per item this is Fleiss (1971). Unequal numbers are
    allowed: each item's P_i uses its own n_i and p_j pools all answers, the usual
    generalization. Returns NaN with no such item, and 1.0 when every answer is one category
    (P_e = 1; the same convention as :func:`krippendorff_alpha`).

    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    Psychological Bulletin, 76(5), 378-382. https://doi.org/10.1037/h0031619
    """
    counts = _NominalCounts(items, workers, values)
    return float(counts.fleiss(None)[0]) if counts.n_units else float("nan")


def percent_agreement(items: ArrayLike, workers: ArrayLike, values: ArrayLike) -> float:
    """Mean over items with at least two answers of the share of ordered pairs of distinct
    answers that agree (Fleiss' P-bar); NaN with no such item."""
    counts = _NominalCounts(items, workers, values)
    return float(counts.percent(None)[0]) if counts.n_units else float("nan")


def _kappa(observed: FloatArray, chance: FloatArray, one_category: NDArray[np.bool_]) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (observed - chance) / (1.0 - chance)
    return np.where(one_category, 1.0, kappa)


def cohen_kappa(a: Sequence[Hashable] | NDArray[Any], b: Sequence[Hashable] | NDArray[Any]
                ) -> float:
    r"""Cohen's kappa of two raters' aligned labels: :math:`\kappa = (p_o - p_e)/(1 - p_e)`,
    p_o the share of agreeing positions, p_e = sum_c (a_c / n)(b_c / n) from each rater's own
    marginals. NaN when empty; 1.0 when both used one and the same label throughout (p_e = 1).

    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement, 20(1), 37-46. https://doi.org/10.1177/001316446002000104

    >>> a = ["y"] * 25 + ["n"] * 25
    >>> b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    >>> round(cohen_kappa(a, b), 6)
    0.4
    """
    left, right = np.asarray(a), np.asarray(b)
    if left.shape != right.shape or left.ndim != 1:
        raise ValueError(f"cohen_kappa needs two aligned one-dimensional label arrays, got "
                         f"shapes {left.shape} and {right.shape}")
    n = len(left)
    if n == 0:
        return float("nan")
    codes, classes = _encode(np.concatenate([left, right]))
    k = len(classes)
    ca, cb = codes[:n], codes[n:]
    observed = float(np.count_nonzero(ca == cb)) / n
    chance = float(np.bincount(ca, minlength=k) @ np.bincount(cb, minlength=k)) / (n * n)
    return float(_kappa(np.array([observed]), np.array([chance]), np.array([k == 1]))[0])


def pairwise_cohen(items: ArrayLike, workers: ArrayLike, values: ArrayLike, *,
                   min_overlap: int = 1, n_workers: int | None = None
                   ) -> tuple[FloatArray, IntArray]:
    """Cohen's kappa for every pair of workers over the items both answered.

    Returns ``(kappa, shared)``, both n_workers × n_workers and symmetric, indexed by worker
    code: ``shared[i, j]`` counts the items workers i and j both answered (the diagonal, the
    items each answered) and ``kappa[i, j]`` is NaN where that is below *min_overlap* and on
    the diagonal. A worker's later answer to an item replaces an earlier one. Work is grouped
    by item: only worker pairs that actually share an item are ever touched.
    """
    if min_overlap < 1:
        raise ValueError(f"min_overlap must be at least 1, got {min_overlap}")
    answers = _answers(items, workers, values, numeric=False, n_workers=n_workers)
    n_w = answers.n_workers
    codes, classes = _encode(answers.values)
    k = max(len(classes), 1)
    # Last answer per (item, worker), sorted by item then worker.
    key = answers.items * n_w + answers.workers
    order = np.argsort(key, kind="stable")
    key = key[order]
    last = np.ones(len(key), dtype=bool)
    last[:-1] = key[:-1] != key[1:]
    order = order[last]
    item, worker, code = answers.items[order], answers.workers[order], codes[order]
    shared = np.zeros(n_w * n_w, dtype=np.int64)
    agree = np.zeros(n_w * n_w)
    row_totals = sp.csr_matrix((n_w * n_w, k))
    column_totals = sp.csr_matrix((n_w * n_w, k))
    item_codes, n_i = _codes(item, "items", None)
    for a, b in _pairs_within_units(item_codes, n_i):
        pair = worker[a] * n_w + worker[b]  # worker[a] < worker[b]: sorted within item
        shared += np.bincount(pair, minlength=n_w * n_w)
        agree += np.bincount(pair, weights=(code[a] == code[b]).astype(np.float64),
                             minlength=n_w * n_w)
        ones = np.ones(len(pair))
        row_totals = row_totals + sp.csr_matrix((ones, (pair, code[a])), shape=(n_w * n_w, k))
        column_totals = column_totals + sp.csr_matrix((ones, (pair, code[b])),
                                                      shape=(n_w * n_w, k))
    cross = np.asarray(row_totals.multiply(column_totals).sum(axis=1)).reshape(-1)
    n = shared.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = _kappa(agree / n, cross / (n * n), (cross == n * n) & (n > 0))
    kappa = np.where(shared >= min_overlap, kappa, np.nan).reshape(n_w, n_w)
    shared_matrix = shared.reshape(n_w, n_w)
    kappa = np.where(np.isnan(kappa), kappa.T, kappa)
    shared_matrix = shared_matrix + shared_matrix.T
    np.fill_diagonal(shared_matrix, np.bincount(worker, minlength=n_w))
    np.fill_diagonal(kappa, np.nan)
    return kappa, shared_matrix


def _mean_pairwise_cohen(items: ArrayLike, workers: ArrayLike, values: ArrayLike) -> float:
    kappa, shared = pairwise_cohen(items, workers, values)
    upper = np.triu(np.ones(kappa.shape, dtype=bool), 1) & np.isfinite(kappa)
    weight = shared[upper].astype(np.float64)
    if weight.sum() == 0:
        return float("nan")
    return float(kappa[upper] @ weight / weight.sum())


# --------------------------------------------------------------------------- bootstrap


def _resamples(n_units: int, n_boot: int, seed: int) -> Iterator[IntArray]:
    """Blocks of bootstrap draws (replicates × n_units unit indices), the same stream for
    the vectorized and the generic path."""
    rng = np.random.default_rng(seed)
    step = max(1, min(n_boot, _BOOT_BLOCK // max(n_units, 1)))
    for start in range(0, n_boot, step):
        yield rng.integers(0, n_units, size=(min(step, n_boot - start), n_units))


def _multiplicities(draws: IntArray, n_units: int) -> FloatArray:
    """How often each unit was drawn, per replicate (replicates × n_units)."""
    out = np.empty((len(draws), n_units))
    for row, drawn in zip(out, draws, strict=True):
        row[:] = np.bincount(drawn, minlength=n_units)  # row by row: stays in cache
    return out


MetricFn = Callable[..., float]


def _replicates(metric_fn: MetricFn, items: ArrayLike, workers: ArrayLike, values: ArrayLike,
                n_boot: int, seed: int, kw: dict[str, Any]) -> FloatArray:
    batch: Callable[[FloatArray | None], FloatArray] | None = None
    if metric_fn is krippendorff_alpha:
        model = _alpha_model(items, workers, values, **kw)
        batch, n_units = model.batch, model.n_units
    elif metric_fn is fleiss_kappa or metric_fn is percent_agreement:
        counts = _NominalCounts(items, workers, values, **kw)
        batch = counts.fleiss if metric_fn is fleiss_kappa else counts.percent
        n_units = counts.n_units
    if batch is not None:
        if n_units == 0:
            return np.full(n_boot, np.nan)
        return np.concatenate([batch(_multiplicities(d, n_units))
                               for d in _resamples(n_units, n_boot, seed)])
    numeric = kw.get("level", "nominal") != "nominal"
    units = _pairable(_answers(items, workers, values, numeric=numeric))
    if units.n_units == 0:
        return np.full(n_boot, np.nan)
    # Generic path: rebuild the answers of each resample, a drawn unit becoming a new item.
    order = np.argsort(units.unit, kind="stable")
    size = units.m.astype(np.int64)
    first = np.cumsum(size) - size
    out = []
    for draws in _resamples(units.n_units, n_boot, seed):
        for drawn in draws:
            rows = order[np.repeat(first[drawn], size[drawn]) + _ragged_arange(size[drawn])]
            new_items = np.repeat(np.arange(len(drawn)), size[drawn])
            out.append(metric_fn(new_items, units.workers[rows], units.values[rows], **kw))
    return np.asarray(out, dtype=np.float64)


def bootstrap_ci(metric_fn: MetricFn, items: ArrayLike, workers: ArrayLike, values: ArrayLike,
                 *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                 **kw: Any) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric_fn(items, workers, values, **kw)``.

    Resamples units (items with at least two answers) with replacement, the standard for
    reliability data; a unit drawn twice counts twice. Deterministic for a *seed*. For
    :func:`krippendorff_alpha`, :func:`fleiss_kappa` and :func:`percent_agreement` the
    per-unit sums are computed once and each replicate is a weighted sum of them (blocks of
    replicates at a time); any other *metric_fn* is called once per replicate on the
    resampled answers. Replicates that come out NaN are left out; (NaN, NaN) if all do.

    Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    reps = _replicates(metric_fn, items, workers, values, n_boot, seed, kw)
    reps = reps[~np.isnan(reps)]
    if reps.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return float(low), float(high)


# --------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class AgreementResult:
    """One agreement figure; ``low``/``high`` bound it when a CI was asked for. The counts
    are over the items with at least two answers, the only ones any metric uses."""

    value: float
    low: float | None
    high: float | None
    n_items: int
    n_workers: int
    n_values: int


_METRIC_FNS: dict[str, MetricFn] = {
    "alpha": krippendorff_alpha, "fleiss": fleiss_kappa, "cohen": _mean_pairwise_cohen,
    "percent": percent_agreement,
}


def agreement(metric: Metric, items: ArrayLike, workers: ArrayLike, values: ArrayLike, *,
              level: Level = "nominal", ci: bool = False, n_boot: int = 1000,
              confidence: float = 0.95, seed: int = 0) -> AgreementResult:
    """Agreement by name, optionally with a bootstrap confidence interval.

    *metric* is one of :data:`METRICS`: ``alpha`` (Krippendorff, at *level*), ``fleiss``,
    ``cohen`` and ``percent``; the last three treat values as nominal labels whatever the
    *level*. ``cohen`` with more than two workers is the mean of the pairwise kappas of
    workers who share items, weighted by the items shared.
    """
    if metric not in _METRIC_FNS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    kw: dict[str, Any] = {"level": level} if metric == "alpha" else {}
    fn = _METRIC_FNS[metric]
    value = fn(items, workers, values, **kw)
    numeric = metric == "alpha" and level != "nominal"
    units = _pairable(_answers(items, workers, values, numeric=numeric))
    low = high = None
    if ci:
        low, high = bootstrap_ci(fn, items, workers, values, n_boot=n_boot,
                                 confidence=confidence, seed=seed, **kw)
    return AgreementResult(value, low, high, units.n_units, int(np.unique(units.workers).size),
                           len(units.values))


__all__ = [
    "LEVELS", "METRICS", "AgreementResult", "Level", "Metric", "Span", "SpanScore",
    "agreement", "bootstrap_ci", "cohen_kappa", "fleiss_kappa", "kendall_tau",
    "krippendorff_alpha", "mean_pairwise_kendall", "pairwise_cohen", "pairwise_span_f1",
    "percent_agreement", "span_f1",
]
