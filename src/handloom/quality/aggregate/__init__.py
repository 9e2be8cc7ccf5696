"""Truth inference: estimators that combine several workers' answers into one label per
item, with a posterior confidence. One module per method; see :mod:`.base` for the shared
interface (``fit`` returns the estimator; fitted attributes end in ``_``)."""

from __future__ import annotations

from typing import Any

from handloom.quality.aggregate.base import Aggregator, Answers
from handloom.quality.aggregate.bt import BradleyTerry
from handloom.quality.aggregate.ds import DawidSkene
from handloom.quality.aggregate.glad import GLAD
from handloom.quality.aggregate.mace import MACE
from handloom.quality.aggregate.mv import MajorityVote
from handloom.quality.aggregate.onecoin import OneCoinDawidSkene
from handloom.quality.aggregate.wawa import Wawa

# Categorical methods, by the name the CLI, the API and project settings use.
METHODS: dict[str, type[Aggregator]] = {
    cls.name: cls
    for cls in (MajorityVote, Wawa, DawidSkene, OneCoinDawidSkene, GLAD, MACE)
}
PAIRWISE_METHODS = {"bt": BradleyTerry}
ALL_METHODS = (*METHODS, *PAIRWISE_METHODS)
# Dawid–Skene with its confusion matrices shrunk toward the crowd's pooled matrix: the most
# accurate on average over public benchmark sets, and robust to sparse workers.
DEFAULT_METHOD = "ds"


def make_aggregator(method: str = DEFAULT_METHOD, **params: Any) -> Aggregator:
    """A categorical estimator by name, with constructor *params*."""
    try:
        cls = METHODS[method]
    except KeyError:
        hint = " (bt takes pairwise comparisons: use BradleyTerry)" if method == "bt" else ""
        raise ValueError(f"unknown aggregation method {method!r}{hint}; choose one of "
                         f"{', '.join(METHODS)}") from None
    return cls(**params)


__all__ = [
    "ALL_METHODS", "DEFAULT_METHOD", "GLAD", "MACE", "METHODS", "PAIRWISE_METHODS",
    "Aggregator", "Answers", "BradleyTerry", "DawidSkene", "MajorityVote",
    "OneCoinDawidSkene", "Wawa", "make_aggregator",
]
