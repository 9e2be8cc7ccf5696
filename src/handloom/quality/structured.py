"""Agreement between structured answers: span F1 (exact and overlapping) and Kendall's tau
for rankings. Re-exported by :mod:`handloom.quality.agreement`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Span = tuple[int, int, Hashable]


class SpanScore(NamedTuple):
    """Precision, recall and F1 of predicted spans against gold spans."""

    precision: float
    recall: float
    f1: float


def span_f1(pred: Sequence[Span], gold: Sequence[Span], *,
            mode: Literal["exact", "overlap"] = "exact") -> SpanScore:
    """Span precision, recall and F1; spans are ``(start, end, label)`` with *end* exclusive.

    ``exact``: a predicted span matches a gold span with the same start, end and label
    (as multisets: a span given twice matches twice only if gold has it twice). ``overlap``:
    same label and intersecting ranges; each gold and each predicted span is matched at most
    once, greedily, largest overlap first (ties by position in *pred*, then *gold*).
    precision = matched / len(pred), recall = matched / len(gold); an empty side scores 1.0
    when the other is empty too and 0.0 otherwise, and F1 is 0.0 when both are 0.
    """
    if mode == "exact":
        matched = sum((Counter(map(tuple, pred)) & Counter(map(tuple, gold))).values())
    elif mode == "overlap":
        candidates = []
        for i, (p_start, p_end, p_label) in enumerate(pred):
            for j, (g_start, g_end, g_label) in enumerate(gold):
                overlap = min(p_end, g_end) - max(p_start, g_start)
                if overlap > 0 and p_label == g_label:
                    candidates.append((-overlap, i, j))
        candidates.sort()
        used_pred: set[int] = set()
        used_gold: set[int] = set()
        for _, i, j in candidates:
            if i not in used_pred and j not in used_gold:
                used_pred.add(i)
                used_gold.add(j)
        matched = len(used_pred)
    else:
        raise ValueError(f"mode must be 'exact' or 'overlap', got {mode!r}")
    precision = matched / len(pred) if pred else (1.0 if not gold else 0.0)
    recall = matched / len(gold) if gold else (1.0 if not pred else 0.0)
    total = precision + recall
    return SpanScore(precision, recall, 2 * precision * recall / total if total else 0.0)


def pairwise_span_f1(spans_by_worker: Sequence[Sequence[Span]], *,
                     mode: Literal["exact", "overlap"] = "exact") -> float:
    """Mean span F1 over all pairs of workers' spans for one item (NaN with fewer than two)."""
    scores = [span_f1(a, b, mode=mode).f1 for a, b in combinations(spans_by_worker, 2)]
    return float(np.mean(scores)) if scores else float("nan")


def kendall_tau(a: Sequence[Hashable] | NDArray[Any], b: Sequence[Hashable] | NDArray[Any], *,
                kind: Literal["order", "ranks"] = "order") -> float:
    """Kendall's tau-b between two rankings (``scipy.stats.kendalltau``).

    ``kind="order"``: *a* and *b* list item ids best first; they are compared on the items
    both list. ``kind="ranks"``: *a* and *b* are aligned rank (or score) vectors, ties
    allowed. NaN with fewer than two items in common or when either side is all tied.
    """
    if kind == "order":
        left, right = list(a), list(b)
        if len(set(left)) != len(left) or len(set(right)) != len(right):
            raise ValueError("a ranking lists an item twice; pass kind='ranks' for rank "
                             "vectors with ties")
        position = {item: i for i, item in enumerate(right)}
        common = [item for item in left if item in position]
        x = np.arange(len(common), dtype=np.float64)
        y = np.array([position[item] for item in common], dtype=np.float64)
    elif kind == "ranks":
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"rank vectors must be aligned and one-dimensional, got shapes "
                             f"{x.shape} and {y.shape}")
    else:
        raise ValueError(f"kind must be 'order' or 'ranks', got {kind!r}")
    if len(x) < 2 or x.min() == x.max() or y.min() == y.max():
        return float("nan")
    return float(stats.kendalltau(x, y).statistic)


def mean_pairwise_kendall(rankings: Sequence[Sequence[Hashable] | NDArray[Any]], *,
                          kind: Literal["order", "ranks"] = "order") -> float:
    """Mean Kendall's tau-b over all pairs of *rankings*, pairs with NaN left out."""
    taus = [kendall_tau(a, b, kind=kind) for a, b in combinations(rankings, 2)]
    finite = [t for t in taus if not np.isnan(t)]
    return float(np.mean(finite)) if finite else float("nan")


