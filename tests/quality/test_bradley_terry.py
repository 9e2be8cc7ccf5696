"""BradleyTerry: object strengths from pairwise comparisons, with Davidson ties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import logsumexp

from handloom.quality.aggregate import BradleyTerry

LEFT, RIGHT, TIE = 0, 1, 2
Comparisons = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
                    NDArray[np.int64]]


def simulate(strengths: NDArray[np.float64], n: int, seed: int, tie_rate: float = 0.0,
             n_workers: int = 3) -> Comparisons:
    """Comparisons of random pairs under Bradley–Terry with *strengths*; a share
    *tie_rate* of them is turned into ties. Also a worker per comparison."""
    rng = np.random.default_rng(seed)
    k = len(strengths)
    pairs = np.array([rng.choice(k, 2, replace=False) for _ in range(n)])
    left, right = pairs[:, 0], pairs[:, 1]
    p_left = 1.0 / (1.0 + np.exp(strengths[right] - strengths[left]))
    winner = np.where(rng.random(n) < p_left, LEFT, RIGHT)
    winner = np.where(rng.random(n) < tie_rate, TIE, winner)
    return left, right, winner.astype(np.int64), rng.integers(0, n_workers, n)


TRUE = np.array([0.0, 2.0, -1.0, 1.0, -2.0])   # strongest to weakest: 1, 3, 0, 2, 4


def test_recovers_the_order_of_five_objects() -> None:
    left, right, winner, _ = simulate(TRUE, 500, seed=1)
    bt = BradleyTerry().fit(left, right, winner)
    assert bt.ranking_.tolist() == [1, 3, 0, 2, 4]
    assert bt.scores_.mean() == pytest.approx(0.0, abs=1e-9)
    assert np.abs(bt.scores_ - (TRUE - TRUE.mean())).max() < 0.5
    assert bt.tie_strength_ == 0.0
    assert bt.n_iter_ >= 1


def negative_log_posterior(theta: NDArray[np.float64], left: Any, right: Any, winner: Any,
                           n: int, var: float) -> float:
    """Davidson's model with the N(0, var) priors on gamma and log nu, written plainly."""
    gamma, log_nu = theta[:n], theta[n]
    ga, gb = gamma[left], gamma[right]
    log_tie = log_nu + (ga + gb) / 2
    log_d = logsumexp(np.vstack([ga, gb, log_tie]), axis=0)
    chosen = np.choose(winner, [ga, gb, log_tie])
    value = (chosen - log_d).sum() - gamma @ gamma / (2 * var) - log_nu ** 2 / (2 * var)
    return float(-value)


def test_davidson_fit_is_the_maximum_of_its_documented_posterior() -> None:
    left, right, winner, _ = simulate(TRUE, 300, seed=2, tie_rate=0.25)
    bt = BradleyTerry(prior_scale=3.0).fit(left, right, winner)
    n = len(TRUE)
    best = minimize(negative_log_posterior, np.zeros(n + 1),
                    args=(left, right, winner, n, 9.0), method="BFGS",
                    options={"gtol": 1e-7})   # numerical gradients: independent of bt's
    gamma = best.x[:n] - best.x[:n].mean()
    np.testing.assert_allclose(bt.scores_, gamma, atol=1e-3)
    assert bt.tie_strength_ == pytest.approx(np.exp(best.x[n]), rel=1e-3)


def test_davidson_tie_strength_from_a_balanced_pair() -> None:
    # Two equal objects: 30 wins each and 40 ties. p(tie) = nu / (2 + nu) = 0.4 -> nu = 4/3.
    left = np.zeros(100, dtype=np.int64)
    right = np.ones(100, dtype=np.int64)
    winner = np.array([LEFT] * 30 + [RIGHT] * 30 + [TIE] * 40)
    bt = BradleyTerry().fit(left, right, winner)
    assert bt.tie_strength_ == pytest.approx(4 / 3, rel=0.02)
    assert bt.scores_ == pytest.approx([0.0, 0.0], abs=1e-4)


def test_no_ties_means_no_tie_strength() -> None:
    left, right, winner, _ = simulate(TRUE, 200, seed=3)
    assert not (winner == TIE).any()
    assert BradleyTerry(ties="davidson").fit(left, right, winner).tie_strength_ == 0.0
    with_ties = simulate(TRUE, 200, seed=3, tie_rate=0.2)
    assert BradleyTerry(ties="davidson").fit(*with_ties[:3]).tie_strength_ > 0.0


def test_ignoring_ties_equals_dropping_the_tie_rows() -> None:
    left, right, winner, _ = simulate(TRUE, 300, seed=4, tie_rate=0.3)
    keep = winner != TIE
    ignored = BradleyTerry(ties="ignore").fit(left, right, winner)
    dropped = BradleyTerry().fit(left[keep], right[keep], winner[keep])
    np.testing.assert_allclose(ignored.scores_, dropped.scores_, atol=1e-9)
    assert ignored.tie_strength_ == 0.0
    # Counting ties as half a win each moves the scores.
    half = BradleyTerry(ties="half").fit(left, right, winner)
    assert np.abs(half.scores_ - ignored.scores_).max() > 0.05
    assert half.tie_strength_ == 0.0


def test_half_a_win_each_equals_one_win_each_on_doubled_data() -> None:
    # Doubling the data doubles the log-likelihood: with the prior's variance halved too,
    # a tie as half a win per side is a tie as one win per side on the doubled data.
    left, right, winner, _ = simulate(TRUE, 200, seed=5, tie_rate=0.3)
    half = BradleyTerry(ties="half", prior_scale=2.0).fit(left, right, winner)
    tie = winner == TIE
    d_left = np.concatenate([left[~tie], left[~tie], left[tie], left[tie]])
    d_right = np.concatenate([right[~tie], right[~tie], right[tie], right[tie]])
    d_winner = np.concatenate([winner[~tie], winner[~tie],
                               np.full(tie.sum(), LEFT), np.full(tie.sum(), RIGHT)])
    doubled = BradleyTerry(prior_scale=2.0 / np.sqrt(2)).fit(d_left, d_right, d_winner)
    np.testing.assert_allclose(half.scores_, doubled.scores_, atol=1e-5)


def test_an_object_that_never_lost_has_a_finite_score() -> None:
    bt = BradleyTerry().fit([0, 0, 1, 2], [1, 2, 2, 3], [LEFT, LEFT, LEFT, LEFT])
    assert np.isfinite(bt.scores_).all()
    assert bt.ranking_.tolist() == [0, 1, 2, 3]
    assert bt.scores_[0] < 10 * 3   # held by the N(0, 10^2) prior
    # A tighter prior pulls it in further.
    tight = BradleyTerry(prior_scale=1.0).fit([0, 0, 1, 2], [1, 2, 2, 3], [0, 0, 0, 0])
    assert 0 < tight.scores_[0] < bt.scores_[0]


def test_order_of_rows_and_sides_does_not_matter() -> None:
    left, right, winner, _ = simulate(TRUE, 200, seed=6, tie_rate=0.2)
    base = BradleyTerry().fit(left, right, winner)
    order = np.random.default_rng(0).permutation(len(left))
    shuffled = BradleyTerry().fit(left[order], right[order], winner[order])
    flipped_winner = np.choose(winner, [RIGHT, LEFT, TIE])
    flipped = BradleyTerry().fit(right, left, flipped_winner)
    for other in (shuffled, flipped):
        np.testing.assert_allclose(other.scores_, base.scores_, atol=1e-5)
        assert other.tie_strength_ == pytest.approx(base.tie_strength_, rel=1e-4)
        assert other.ranking_.tolist() == base.ranking_.tolist()


def test_loss_history_never_increases_and_is_reported_to_progress() -> None:
    left, right, winner, _ = simulate(TRUE, 200, seed=7, tie_rate=0.2)
    seen: list[tuple[int, float]] = []
    bt = BradleyTerry().fit(left, right, winner, progress=lambda i, v: seen.append((i, v)))
    history = np.array(bt.loss_history_)
    assert len(history) >= 2
    assert (np.diff(history) <= 1e-12).all()
    assert [i for i, _ in seen] == list(range(1, len(history) + 1))
    assert [v for _, v in seen] == bt.loss_history_


def test_worker_skill_is_agreement_with_the_fitted_order() -> None:
    left, right, winner, workers = simulate(TRUE, 400, seed=8)
    # Worker 3 always picks the weaker object.
    rng = np.random.default_rng(9)
    pairs = np.array([rng.choice(5, 2, replace=False) for _ in range(60)])
    contrarian = np.where(TRUE[pairs[:, 0]] < TRUE[pairs[:, 1]], LEFT, RIGHT)
    bt = BradleyTerry().fit(np.concatenate([left, pairs[:, 0]]),
                            np.concatenate([right, pairs[:, 1]]),
                            np.concatenate([winner, contrarian]),
                            workers=np.concatenate([workers, np.full(60, 3)]))
    assert bt.ranking_.tolist() == [1, 3, 0, 2, 4]
    assert bt.skills_.shape == (4,)
    assert bt.skills_[3] == 0.0
    assert bt.skills_[:3].min() > 0.7


def test_skills_are_empty_without_workers_and_nan_for_a_worker_with_only_ties() -> None:
    left, right, winner = [0, 1, 0], [1, 2, 2], [LEFT, LEFT, TIE]
    assert BradleyTerry().fit(left, right, winner).skills_.shape == (0,)
    bt = BradleyTerry().fit(left, right, winner, workers=[0, 0, 1])
    assert bt.skills_[0] == 1.0
    assert np.isnan(bt.skills_[1])


def test_empty_and_unseen_objects() -> None:
    empty = BradleyTerry().fit([], [], [])
    assert empty.scores_.shape == (0,) and empty.ranking_.shape == (0,)
    bt = BradleyTerry().fit([0], [1], [LEFT], n_objects=4)
    assert bt.scores_.shape == (4,)
    assert bt.scores_[2] == bt.scores_[3]
    assert bt.ranking_.tolist() == [0, 2, 3, 1]   # unseen objects sit in the middle


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([0, 1], [1, 2], [0, 3]), {}, "winner codes are 0"),
    (([0, 1], [1, 1], [0, 0]), {}, r"same object on both sides \(row 1\)"),
    (([0, 1], [1, 2], [0]), {}, "differ in length"),
    (([0, -1], [1, 2], [0, 0]), {}, "left holds a negative code"),
    (([0, 1], [1, 2.5], [0, 0]), {}, "right must hold integer codes"),
    (([0, 1], [1, 4], [0, 0]), {"n_objects": 3}, "n_objects=3"),
])
def test_invalid_comparisons_are_a_value_error(args: tuple[Any, ...], kwargs: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BradleyTerry().fit(*args, **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ties": "draw"}, "ties must be"),
    ({"prior_scale": 0.0}, "prior_scale must be positive"),
])
def test_invalid_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BradleyTerry(**kwargs)


def test_workers_of_the_wrong_length_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="workers"):
        BradleyTerry().fit([0, 1], [1, 2], [LEFT, LEFT], workers=[0])
