"""Turn arbitrary item, worker and label values into the integer codes the estimators take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class EncodedLabels:
    """Integer-coded answers and the tables that map codes back to the original values."""

    items: NDArray[np.int64]
    workers: NDArray[np.int64]
    labels: NDArray[np.int64]
    item_values: list[Any]
    worker_values: list[Any]
    classes: list[Any]

    @property
    def n_items(self) -> int:
        return len(self.item_values)

    @property
    def n_workers(self) -> int:
        return len(self.worker_values)

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def encode_values(values: Sequence[Any] | NDArray[Any],
                  order: Sequence[Any] | None = None) -> tuple[NDArray[np.int64], list[Any]]:
    """Codes 0..n-1 for *values*, sorted (so results repeat for any input order), or in the
    given *order* when one is given; a value missing from *order* is a ValueError."""
    if isinstance(values, np.ndarray):
        arr = values
    else:
        # A plain sequence keeps its Python values: numpy would turn [1, "a"] into strings
        # and drop trailing NUL characters. Only all-int or all-float data take numpy's path.
        kinds = {type(v) for v in values}
        arr = np.asarray(values) if kinds and kinds <= {int} or kinds == {float} \
            else np.asarray(list(values) or [], dtype=object)
    if order is not None:
        index = {v: i for i, v in enumerate(order)}
        try:
            codes = np.fromiter((index[v] for v in arr.tolist()), dtype=np.int64,
                                count=len(arr))
        except KeyError as exc:
            raise ValueError(f"value {exc.args[0]!r} is not one of {list(order)!r}") from None
        return codes, list(order)
    if arr.dtype == object:
        # Mixed or unhashable-by-numpy values: sort by (type name, value) so ints and strings
        # never compare with each other.
        uniq = sorted(set(arr.tolist()), key=lambda v: (type(v).__name__, v))
        index = {v: i for i, v in enumerate(uniq)}
        return np.fromiter((index[v] for v in arr.tolist()), dtype=np.int64,
                           count=len(arr)), uniq
    uniq_arr, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), uniq_arr.tolist()


def encode_labels(items: Sequence[Any] | NDArray[Any], workers: Sequence[Any] | NDArray[Any],
                  labels: Sequence[Any] | NDArray[Any], *,
                  classes: Sequence[Any] | None = None) -> EncodedLabels:
    """Encode three parallel columns of answers (one row per answer)."""
    if not len(items) == len(workers) == len(labels):
        raise ValueError(f"items, workers and labels differ in length "
                         f"({len(items)}, {len(workers)}, {len(labels)})")
    item_codes, item_values = encode_values(items)
    worker_codes, worker_values = encode_values(workers)
    label_codes, class_values = encode_values(labels, classes)
    return EncodedLabels(item_codes, worker_codes, label_codes, item_values, worker_values,
                         class_values)
