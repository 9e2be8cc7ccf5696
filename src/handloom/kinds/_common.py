"""Small helpers shared by the task kinds: duplicate checks, order-independent means and the
one rounding rule used for medians of integer scores."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

from handloom.kinds.base import KindError


def check_distinct(values: Sequence[str], field: str, what: str = "value") -> None:
    """Raise ``KindError("<field>.<i>")`` at the first repeat of an earlier value."""
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise KindError(
                f"{field}.{i}", f"{what} {value!r} is listed twice (also at {seen[value]})"
            )
        seen[value] = i


def check_nonblank(values: Sequence[str], field: str) -> None:
    """Raise ``KindError("<field>.<i>")`` at the first empty or whitespace-only string."""
    for i, value in enumerate(values):
        if not value.strip():
            raise KindError(f"{field}.{i}", "must not be empty")


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean computed with :func:`math.fsum`, so it does not depend on the order of
    the values; 1.0 for no values (nothing to disagree about)."""
    items = list(values)
    return math.fsum(items) / len(items) if items else 1.0


def median_int(values: Sequence[int]) -> int:
    """The median of integer scores as an integer.

    For an even count the median may fall halfway between two scores; it is then rounded half
    to even (Python's :func:`round`), e.g. the median of [2, 3] is 2.5 -> 2 and of [3, 4] is
    3.5 -> 4. The rule is deterministic and does not depend on the order of the values.
    """
    return round(statistics.median(values))


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard similarity of two sets; 1.0 when both are empty."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
