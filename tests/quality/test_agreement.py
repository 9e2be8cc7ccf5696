"""Agreement metrics: published worked examples, the ``krippendorff`` package as a reference,
a slow dense re-implementation of alpha, and invariances checked with hypothesis."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import permutations
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from handloom.quality.agreement import (
    LEVELS,
    METRICS,
    AgreementResult,
    Level,
    Metric,
    SpanScore,
    agreement,
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    kendall_tau,
    krippendorff_alpha,
    mean_pairwise_kendall,
    pairwise_cohen,
    pairwise_span_f1,
    percent_agreement,
    span_f1,
)

krippendorff: Any
try:
    import krippendorff
except ImportError:  # pragma: no cover - depends on the environment
    krippendorff = None

needs_krippendorff = pytest.mark.skipif(
    krippendorff is None,
    reason="the reference `krippendorff` package is not installed: pip install -e '.[bench]'")

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers
# (rows) x 12 units (columns), nominal values 1..5 with missing values (NaN).
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
])
KRIPPENDORFF_2011_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849,
                           "ratio": 0.797}

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 5 categories, 14 raters each;
# cell (i, j) is how many raters put subject i in category j. kappa = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def long_format(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(items, workers, values) from a workers x units matrix with NaN for missing."""
    workers, items = np.nonzero(~np.isnan(matrix))
    return items, workers, matrix[workers, items]


def random_answers(seed: int, n_units: int = 60, n_workers: int = 8, density: float = 0.4,
                   n_levels: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse answers with some signal: each unit has a true level, workers add noise."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_workers, n_units)) < density
    workers, items = np.nonzero(mask)
    truth = rng.integers(1, n_levels + 1, n_units)
    noise = np.round(rng.normal(0, 0.9, len(items)))
    values = np.clip(truth[items] + noise, 1, n_levels)
    return items, workers, values


def dense_matrix(items: np.ndarray, workers: np.ndarray, values: np.ndarray) -> np.ndarray:
    matrix = np.full((int(workers.max()) + 1, int(items.max()) + 1), np.nan)
    matrix[workers, items] = values
    return matrix


def reference_alpha(items: Any, values: Any, level: str) -> float:
    """Krippendorff's alpha straight from the coincidence matrix, in plain Python."""
    by_unit: dict[int, list[float]] = defaultdict(list)
    for item, value in zip(items, values, strict=True):
        by_unit[int(item)].append(float(value))
    units = [vs for vs in by_unit.values() if len(vs) >= 2]
    if not units:
        return math.nan
    domain = sorted({v for vs in units for v in vs})
    index = {v: i for i, v in enumerate(domain)}
    size = len(domain)
    o = [[0.0] * size for _ in range(size)]
    for vs in units:
        for a in range(len(vs)):
            for b in range(len(vs)):
                if a != b:
                    o[index[vs[a]]][index[vs[b]]] += 1.0 / (len(vs) - 1)
    n_c = [sum(row) for row in o]
    n = sum(n_c)

    def delta(c: int, k: int) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "ordinal":
            low, high = min(c, k), max(c, k)
            return (sum(n_c[low:high + 1]) - (n_c[c] + n_c[k]) / 2) ** 2
        if level == "interval":
            return (domain[c] - domain[k]) ** 2
        total = domain[c] + domain[k]
        return ((domain[c] - domain[k]) / total) ** 2 if total else 0.0

    observed = sum(o[c][k] * delta(c, k) for c in range(size) for k in range(size))
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in range(size) for k in range(size))
    if expected == 0:
        return 1.0
    return 1.0 - (n - 1) * observed / expected


answer_rows = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 4), st.integers(0, 4)), min_size=0, max_size=40)


def columns(rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not rows:
        return (np.zeros(0, dtype=np.int64),) * 3
    items, workers, values = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    return items, workers, values


# --------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_worked_example(level: Level) -> None:
    items, workers, values = long_format(KRIPPENDORFF_2011)
    alpha = krippendorff_alpha(items, workers, values, level=level)
    assert round(alpha, 3) == KRIPPENDORFF_2011_ALPHA[level]
    assert alpha == pytest.approx(reference_alpha(items, values, level), abs=1e-12)


@needs_krippendorff
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_matches_package(level: Level) -> None:
    items, workers, values = long_format(KRIPPENDORFF_2011)
    expected = krippendorff.alpha(KRIPPENDORFF_2011, level_of_measurement=level)
    assert round(expected, 3) == KRIPPENDORFF_2011_ALPHA[level]
    ours = krippendorff_alpha(items, workers, values, level=level)
    assert ours == pytest.approx(expected, abs=1e-12)


def test_krippendorff_2011_nominal_labels_and_nan_values() -> None:
    items, workers, values = long_format(KRIPPENDORFF_2011)
    labels = np.array(["abcde"[int(v) - 1] for v in values])
    assert round(krippendorff_alpha(items, workers, labels), 3) == 0.743
    # Missing answers given as NaN rows are dropped.
    matrix_items = np.repeat(np.arange(12), 4)
    matrix_workers = np.tile(np.arange(4), 12)
    matrix_values = KRIPPENDORFF_2011.T.reshape(-1)
    assert krippendorff_alpha(matrix_items, matrix_workers, matrix_values) == pytest.approx(
        krippendorff_alpha(items, workers, values), abs=1e-15)


def fleiss_answers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    items, workers, values = [], [], []
    for item, row in enumerate(FLEISS_TABLE):
        labels = [category for category, count in enumerate(row) for _ in range(count)]
        items += [item] * len(labels)
        workers += list(range(len(labels)))
        values += labels
    return np.array(items), np.array(workers), np.array(values)


def test_fleiss_wikipedia_example() -> None:
    items, workers, values = fleiss_answers()
    assert round(fleiss_kappa(items, workers, values), 3) == 0.210
    # P-bar of the same example is 0.378.
    assert round(percent_agreement(items, workers, values), 3) == 0.378


def test_fleiss_unequal_raters_follows_the_generalization() -> None:
    items = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    values = np.array([0, 0, 1, 1, 1, 0, 1, 2, 2, 2])
    workers = np.arange(len(items))
    p_items = [2 / 6, 2 / 2, (2 + 0 + 0) / 12]  # item 3 has one answer: left out
    p_bar = sum(p_items) / 3
    shares = np.array([3, 4, 2]) / 9  # categories 0, 1, 2 over the 9 answers kept
    chance = float((shares**2).sum())
    assert fleiss_kappa(items, workers, values) == pytest.approx(
        (p_bar - chance) / (1 - chance), abs=1e-12)
    assert percent_agreement(items, workers, values) == pytest.approx(p_bar, abs=1e-12)


def test_cohen_two_by_two_example() -> None:
    # Wikipedia, "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(["x"] * 4, ["x"] * 4) == 1.0  # p_e = 1: the documented convention
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError, match="aligned"):
        cohen_kappa([1, 2], [1])


# --------------------------------------------------------------------------- reference package


@needs_krippendorff
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_krippendorff_package_on_random_sparse_data(level: Level, seed: int) -> None:
    items, workers, values = random_answers(seed, n_units=300, n_workers=25, density=0.15,
                                            n_levels=5 + seed)
    expected = krippendorff.alpha(dense_matrix(items, workers, values),
                                  level_of_measurement=level)
    ours = krippendorff_alpha(items, workers, values, level=level)
    assert ours == pytest.approx(expected, abs=1e-9)


@needs_krippendorff
@pytest.mark.parametrize("level", LEVELS)
def test_alpha_matches_package_on_continuous_values(level: Level) -> None:
    # Hundreds of distinct values: the sparse units × values path.
    rng = np.random.default_rng(7)
    items, workers, _ = random_answers(7, n_units=80, n_workers=10, density=0.5)
    values = rng.gamma(2.0, 3.0, 80)[items] + rng.normal(0, 1.0, len(items)) ** 2
    expected = krippendorff.alpha(dense_matrix(items, workers, values),
                                  level_of_measurement=level)
    ours = krippendorff_alpha(items, workers, values, level=level)
    assert ours == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(rows=answer_rows, level=st.sampled_from(LEVELS))
def test_alpha_matches_dense_reference(rows: list[tuple[int, int, int]], level: Level) -> None:
    items, workers, values = columns(rows)
    if level == "ratio":
        values = values + 1  # keep some zero-sum pairs out; zero itself is tested below
    ours = krippendorff_alpha(items, workers, values, level=level)
    expected = reference_alpha(items, values, level)
    if math.isnan(expected):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(expected, abs=1e-9)


def test_ratio_with_zero_values_matches_reference() -> None:
    items = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    values = np.array([0.0, 0.0, 0.0, 2.0, 1.0, 3.0, 2.0, 2.0])
    ours = krippendorff_alpha(items, np.zeros(8, dtype=int), values, level="ratio")
    assert ours == pytest.approx(reference_alpha(items, values, "ratio"), abs=1e-12)
    with pytest.raises(ValueError, match="non-negative"):
        krippendorff_alpha(items, np.zeros(8, dtype=int), values - 1, level="ratio")


@settings(max_examples=40, deadline=None)
@given(rows=answer_rows, data=st.data())
def test_relabelling_items_and_workers_changes_nothing(rows: list[tuple[int, int, int]],
                                                       data: st.DataObject) -> None:
    items, workers, values = columns(rows)
    item_map = np.array(data.draw(st.permutations(range(7))))
    worker_map = np.array(data.draw(st.permutations(range(5))))
    order = np.array(data.draw(st.permutations(range(len(rows)))), dtype=np.int64)
    moved = item_map[items][order], worker_map[workers][order], values[order]
    for level in LEVELS:
        before = krippendorff_alpha(items, workers, values + 1, level=level)
        after = krippendorff_alpha(moved[0], moved[1], moved[2] + 1, level=level)
        assert before == pytest.approx(after, abs=1e-12, nan_ok=True)
    for metric in (fleiss_kappa, percent_agreement):
        assert metric(items, workers, values) == pytest.approx(
            metric(*moved), abs=1e-12, nan_ok=True)


@settings(max_examples=30, deadline=None)
@given(truth=st.lists(st.integers(0, 9), min_size=1, max_size=15),
       raters=st.integers(2, 5), level=st.sampled_from(LEVELS))
def test_perfect_agreement_gives_alpha_one(truth: list[int], raters: int, level: Level) -> None:
    items = np.repeat(np.arange(len(truth)), raters)
    workers = np.tile(np.arange(raters), len(truth))
    values = np.repeat(np.array(truth) + 1, raters)
    assert krippendorff_alpha(items, workers, values, level=level) == 1.0
    assert fleiss_kappa(items, workers, values) == 1.0
    assert percent_agreement(items, workers, values) == 1.0


def test_degenerate_inputs() -> None:
    empty = np.zeros(0, dtype=np.int64)
    for level in LEVELS:
        assert math.isnan(krippendorff_alpha(empty, empty, empty, level=level))
        # one answer per item: nothing is pairable
        assert math.isnan(krippendorff_alpha([0, 1, 2], [0, 0, 0], [1, 2, 3], level=level))
    assert math.isnan(fleiss_kappa([0, 1], [0, 0], [1, 2]))
    assert math.isnan(percent_agreement(empty, empty, empty))
    kappa, shared = pairwise_cohen(empty, empty, empty)
    assert kappa.shape == shared.shape == (0, 0)


def test_several_values_from_one_worker_all_count() -> None:
    # Worker 0 answered item 0 twice: a unit of three values, as in the reference.
    items, workers, values = [0, 0, 0, 1, 1], [0, 0, 1, 0, 1], [1, 2, 1, 2, 2]
    assert krippendorff_alpha(items, workers, values) == pytest.approx(
        reference_alpha(items, values, "nominal"), abs=1e-12)


def test_input_checks() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        krippendorff_alpha([0, 1], [0], [1, 2])
    with pytest.raises(ValueError, match="integer codes"):
        krippendorff_alpha([0.5, 1.0], [0, 1], [1, 2])
    with pytest.raises(ValueError, match="outside"):
        krippendorff_alpha([0, 5], [0, 1], [1, 2], n_items=3)
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([0, 0], [0, 1], [1, 2], level="cardinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numeric values"):
        krippendorff_alpha([0, 0], [0, 1], ["a", "b"], level="interval")
    with pytest.raises(ValueError, match="infinite"):
        krippendorff_alpha([0, 0], [0, 1], [1.0, np.inf], level="interval")
    with pytest.raises(ValueError, match="one-dimensional"):
        krippendorff_alpha([0, 0], [0, 1], [[1], [2]])
    with pytest.raises(ValueError, match="items must be a one-dimensional"):
        krippendorff_alpha([[0, 0]], [0, 1], [1, 2])
    # Whole numbers stored as floats are accepted as codes.
    assert krippendorff_alpha([0.0, 0.0], [0.0, 1.0], [1, 1]) == 1.0


def test_mixed_type_labels() -> None:
    labels = np.array([1, "one", 1, 1, "one", "one", 2.5, 2.5], dtype=object)
    items = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    as_text = np.array([str(v) for v in labels])
    assert krippendorff_alpha(items, items, labels) == pytest.approx(
        krippendorff_alpha(items, items, as_text), abs=1e-12)
    assert fleiss_kappa(items, items, labels) == pytest.approx(
        fleiss_kappa(items, items, as_text), abs=1e-12)


def test_sparse_and_negative_ids_are_recoded() -> None:
    items, workers, values = random_answers(3)
    big = items.astype(np.int64) * 10**12 - 7
    for level in LEVELS:
        assert krippendorff_alpha(big, -workers, values, level=level) == pytest.approx(
            krippendorff_alpha(items, workers, values, level=level), abs=1e-12)


def test_many_distinct_values() -> None:
    rng = np.random.default_rng(11)
    items = np.repeat(np.arange(40), 3)
    values = np.round(rng.gamma(3.0, 2.0, 40)[items] + rng.normal(0, 0.5, 120), 2)
    values = np.abs(values)
    for level in LEVELS:
        assert krippendorff_alpha(items, np.tile([0, 1, 2], 40), values,
                                  level=level) == pytest.approx(
            reference_alpha(items, values, level), abs=1e-9)


# --------------------------------------------------------------------------- pairwise Cohen


def test_pairwise_cohen_matches_direct_kappa() -> None:
    items, workers, values = random_answers(5, n_units=50, n_workers=5, density=0.6)
    kappa, shared = pairwise_cohen(items, workers, values)
    answers = {(int(i), int(w)): v for i, w, v in zip(items, workers, values, strict=True)}
    for a, b in permutations(range(5), 2):
        common = sorted(i for i in range(50) if (i, a) in answers and (i, b) in answers)
        assert shared[a, b] == len(common)
        expected = cohen_kappa([answers[i, a] for i in common], [answers[i, b] for i in common])
        assert kappa[a, b] == pytest.approx(expected, abs=1e-12, nan_ok=True)
    assert np.isnan(np.diag(kappa)).all()
    assert list(np.diag(shared)) == [int((workers == w).sum()) for w in range(5)]


def test_pairwise_cohen_min_overlap_and_later_answers() -> None:
    items = [0, 0, 1, 1, 2, 2, 0]
    workers = [0, 1, 0, 1, 0, 2, 1]
    values = ["a", "b", "b", "b", "a", "a", "a"]  # worker 1 re-answered item 0 with "a"
    kappa, shared = pairwise_cohen(items, workers, values, min_overlap=2)
    assert shared[0, 1] == shared[1, 0] == 2
    assert kappa[0, 1] == kappa[1, 0] == 1.0
    assert shared[0, 2] == 1 and np.isnan(kappa[0, 2])
    assert np.isnan(kappa[1, 2]) and shared[1, 2] == 0
    with pytest.raises(ValueError, match="min_overlap"):
        pairwise_cohen(items, workers, values, min_overlap=0)


def test_agreement_cohen_two_workers_and_weighted_mean() -> None:
    a = [0] * 25 + [1] * 25
    b = [0] * 20 + [1] * 5 + [0] * 10 + [1] * 15
    items = np.tile(np.arange(50), 2)
    workers = np.repeat([0, 1], 50)
    result = agreement("cohen", items, workers, np.array(a + b))
    assert result.value == pytest.approx(0.4, abs=1e-12)
    rng_items, rng_workers, rng_values = random_answers(9, n_units=40, n_workers=4,
                                                        density=0.7)
    kappa, shared = pairwise_cohen(rng_items, rng_workers, rng_values)
    upper = np.triu_indices(4, 1)
    expected = (kappa[upper] * shared[upper]).sum() / shared[upper].sum()
    assert agreement("cohen", rng_items, rng_workers, rng_values).value == pytest.approx(
        expected, abs=1e-12)


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("metric", METRICS)
def test_agreement_entry_point(metric: Metric) -> None:
    items, workers, values = random_answers(4, n_units=120)
    result = agreement(metric, items, workers, values, ci=True, n_boot=200,
                       seed=3)
    assert isinstance(result, AgreementResult)
    assert result.low is not None and result.high is not None
    assert result.low <= result.value <= result.high
    kept = np.bincount(items)[items] >= 2
    assert result.n_items == int((np.bincount(items) >= 2).sum())
    assert result.n_values == int(kept.sum())
    assert result.n_workers == len(set(workers[kept].tolist()))
    plain = agreement(metric, items, workers, values)
    assert plain.low is None and plain.value == result.value
    again = agreement(metric, items, workers, values, ci=True, n_boot=200,
                      seed=3)
    assert (again.low, again.high) == (result.low, result.high)


def test_agreement_rejects_unknown_metric_and_level() -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        agreement("kappa", [0], [0], [0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level must be one of"):
        agreement("alpha", [0], [0], [0], level="cardinal")  # type: ignore[arg-type]
    # The kappa family reads values as labels whatever the level.
    assert agreement("fleiss", [0, 0], [0, 1], ["a", "b"], level="interval").value == -1.0
    assert agreement("alpha", [0, 0], [0, 1], [1.0, 2.0], level="interval").value == 0.0


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_bootstrap_fast_path_equals_generic_resampling(level: Level) -> None:
    items, workers, values = random_answers(6, n_units=40)

    def generic(i: Any, w: Any, v: Any, **kw: Any) -> float:
        return krippendorff_alpha(i, w, v, **kw)

    fast = bootstrap_ci(krippendorff_alpha, items, workers, values, level=level, n_boot=100,
                        seed=5)
    slow = bootstrap_ci(generic, items, workers, values, level=level, n_boot=100, seed=5)
    assert fast == pytest.approx(slow, abs=1e-9)
    point = krippendorff_alpha(items, workers, values, level=level)
    assert fast[0] <= point <= fast[1]
    assert fast != bootstrap_ci(krippendorff_alpha, items, workers, values, level=level,
                                n_boot=100, seed=6)


@pytest.mark.parametrize("metric", [fleiss_kappa, percent_agreement])
def test_kappa_bootstrap_fast_path_equals_generic_resampling(metric: Any) -> None:
    items, workers, values = random_answers(8, n_units=40)
    fast = bootstrap_ci(metric, items, workers, values, n_boot=100, seed=1)
    slow = bootstrap_ci(lambda i, w, v: metric(i, w, v), items, workers, values, n_boot=100,
                        seed=1)
    assert fast == pytest.approx(slow, abs=1e-9)


def test_ordinal_bootstrap_with_many_levels_and_degenerate_replicates() -> None:
    rng = np.random.default_rng(2)
    items = np.repeat(np.arange(30), 2)
    values = np.round(rng.normal(50, 20, 30)[items] + rng.normal(0, 3, 60))  # ~100 levels

    def generic(i: Any, w: Any, v: Any, **kw: Any) -> float:
        return krippendorff_alpha(i, w, v, **kw)

    for level in ("ordinal", "interval"):
        fast = bootstrap_ci(krippendorff_alpha, items, items, values, level=level, n_boot=50)
        slow = bootstrap_ci(generic, items, items, values, level=level, n_boot=50)
        assert fast == pytest.approx(slow, abs=1e-9)
    # Two units, each unanimous: a replicate drawing one unit twice has a single value (1.0).
    # (Whole numbers: interval counts values per unit; fractions: sums of squares.)
    items = np.array([0, 0, 1, 1])
    for values in (np.array([0.1, 0.1, 0.7, 0.7]), np.array([1, 1, 7, 7])):
        for level in LEVELS:
            for n_items in (None, 3_000_000):  # dense table, then sparse cells
                fast = bootstrap_ci(krippendorff_alpha, items, items, values, level=level,
                                    n_boot=40, n_items=n_items)
                slow = bootstrap_ci(generic, items, items, values, level=level, n_boot=40)
                assert fast == slow == (1.0, 1.0)


def generic_alpha(i: Any, w: Any, v: Any, **kw: Any) -> float:
    """krippendorff_alpha behind a wrapper, so that bootstrap_ci takes its generic path."""
    return krippendorff_alpha(i, w, v, **kw)


@pytest.mark.parametrize("level", LEVELS)
def test_sparse_value_table_when_items_are_many(level: Level) -> None:
    # n_items x values too large for a dense table: the sparse cells path, same answers.
    items, workers, values = random_answers(12, n_units=40)
    dense = krippendorff_alpha(items, workers, values, level=level)
    sparse = krippendorff_alpha(items, workers, values, level=level, n_items=3_000_000)
    assert sparse == pytest.approx(dense, abs=1e-12)
    fast = bootstrap_ci(krippendorff_alpha, items, workers, values, level=level, n_boot=60,
                        n_items=3_000_000)
    slow = bootstrap_ci(generic_alpha, items, workers, values, level=level, n_boot=60)
    assert fast == pytest.approx(slow, abs=1e-9)


@pytest.mark.parametrize("distinct", [200, 2000])
def test_ordinal_bootstrap_replicate_by_replicate(distinct: int) -> None:
    # Too many value pairs to vectorize: each replicate is computed from the values (dense
    # table with 200 levels, sparse cells with 2000).
    rng = np.random.default_rng(distinct)
    items = np.repeat(np.arange(400), 2)
    values = rng.integers(0, distinct, 400)[items] + rng.integers(0, 3, 800)
    fast = bootstrap_ci(krippendorff_alpha, items, items, values, level="ordinal", n_boot=20)
    slow = bootstrap_ci(generic_alpha, items, items, values, level="ordinal", n_boot=20)
    assert fast == pytest.approx(slow, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), level=st.sampled_from(LEVELS))
def test_bootstrap_is_deterministic_and_brackets_the_estimate(seed: int, level: Level) -> None:
    items, workers, values = random_answers(seed % 1000, n_units=80, density=0.5)
    first = bootstrap_ci(krippendorff_alpha, items, workers, values, level=level, n_boot=200,
                         seed=seed)
    assert first == bootstrap_ci(krippendorff_alpha, items, workers, values, level=level,
                                 n_boot=200, seed=seed)
    point = krippendorff_alpha(items, workers, values, level=level)
    assert first[0] <= point <= first[1]
    assert first[1] - first[0] < 0.5


def test_bootstrap_argument_checks() -> None:
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(krippendorff_alpha, [0, 0], [0, 1], [1, 1], n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(krippendorff_alpha, [0, 0], [0, 1], [1, 1], confidence=1.0)
    for metric in (krippendorff_alpha, generic_alpha):
        low, high = bootstrap_ci(metric, [0, 1], [0, 1], [1, 1])
        assert math.isnan(low) and math.isnan(high)
    assert math.isnan(agreement("cohen", [0, 1], [0, 1], [1, 1], ci=True, n_boot=10).value)


# --------------------------------------------------------------------------- spans, rankings


def test_span_f1_exact() -> None:
    gold = [(0, 4, "PER"), (10, 15, "ORG"), (20, 22, "LOC")]
    pred = [(0, 4, "PER"), (10, 15, "LOC"), (30, 31, "LOC")]
    assert span_f1(pred, gold) == pytest.approx(SpanScore(1 / 3, 1 / 3, 1 / 3))
    assert span_f1([], []) == SpanScore(1.0, 1.0, 1.0)
    assert span_f1([], gold) == SpanScore(0.0, 0.0, 0.0)
    assert span_f1(gold, []) == SpanScore(0.0, 0.0, 0.0)
    # Multisets: a span given twice matches once against one gold span.
    assert span_f1([(0, 4, "PER")] * 2, [(0, 4, "PER")]).precision == 0.5
    with pytest.raises(ValueError, match="mode"):
        span_f1(pred, gold, mode="fuzzy")  # type: ignore[arg-type]


def test_span_f1_overlap_is_greedy_by_overlap_size() -> None:
    gold = [(0, 10, "A"), (12, 20, "A")]
    # pred 0 overlaps gold 0 by 2 and gold 1 by 3; pred 1 overlaps gold 0 by 8.
    pred = [(8, 15, "A"), (2, 10, "A")]
    score = span_f1(pred, gold, mode="overlap")
    assert score.precision == score.recall == 1.0
    # Labels must agree; each gold span is matched at most once.
    assert span_f1([(0, 5, "B")], [(0, 5, "A")], mode="overlap").f1 == 0.0
    assert span_f1([(0, 5, "A"), (1, 4, "A")], [(0, 5, "A")], mode="overlap").precision == 0.5
    assert span_f1([(0, 5, "A")], [(5, 9, "A")], mode="overlap").f1 == 0.0  # end exclusive


def test_pairwise_span_f1() -> None:
    a, b, c = [(0, 4, "X")], [(0, 4, "X")], [(1, 4, "X")]
    assert pairwise_span_f1([a, b, c]) == pytest.approx(1 / 3)
    assert pairwise_span_f1([a, b, c], mode="overlap") == 1.0
    assert math.isnan(pairwise_span_f1([a]))


def test_kendall_tau() -> None:
    assert kendall_tau(["a", "b", "c", "d"], ["a", "b", "c", "d"]) == pytest.approx(1.0)
    assert kendall_tau(["a", "b", "c", "d"], ["d", "c", "b", "a"]) == pytest.approx(-1.0)
    # Compared on common items only ("x" and "y" are ignored).
    assert kendall_tau(["a", "x", "b", "c"], ["a", "c", "b", "y"]) == pytest.approx(1 / 3)
    ranks_a, ranks_b = [1, 2, 2, 3, 4], [1, 3, 2, 2, 5]
    assert kendall_tau(ranks_a, ranks_b, kind="ranks") == pytest.approx(
        stats.kendalltau(ranks_a, ranks_b).statistic)
    assert math.isnan(kendall_tau(["a"], ["a"]))
    assert math.isnan(kendall_tau([1, 1, 1], [1, 2, 3], kind="ranks"))
    with pytest.raises(ValueError, match="twice"):
        kendall_tau(["a", "a"], ["a", "b"])
    with pytest.raises(ValueError, match="aligned"):
        kendall_tau([1, 2], [1, 2, 3], kind="ranks")
    with pytest.raises(ValueError, match="kind"):
        kendall_tau([1, 2], [1, 2], kind="scores")  # type: ignore[arg-type]
    assert mean_pairwise_kendall([["a", "b", "c"], ["a", "b", "c"], ["c", "b", "a"]]) == (
        pytest.approx(-1 / 3))
    assert math.isnan(mean_pairwise_kendall([["a", "b"]]))
