"""Known values for alpha-rank (Omidshafiei et al. 2019) through our wrapper of OpenSpiel's code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reassurance.evaluation.alpharank import alpharank, scale_to_unit_range


def _fixation(delta: float, alpha: float, m: int) -> float:
    """The paper's Moran/Fermi fixation probability of a mutant whose payoff is ``delta`` more."""
    if abs(delta) < 1e-14:
        return 1.0 / m
    u = alpha * delta
    return (1.0 - math.exp(-u)) / (1.0 - math.exp(-m * u))


def test_rock_paper_scissors_gives_uniform_mass() -> None:
    rps = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=float)
    result = alpharank([rps], alpha=5.0, population_size=50)
    np.testing.assert_allclose(result.mass, [1 / 3, 1 / 3, 1 / 3], atol=1e-9)


def test_matching_pennies_two_populations_is_uniform_over_profiles() -> None:
    pennies = np.array([[1, -1], [-1, 1]], dtype=float)
    result = alpharank([pennies, -pennies], alpha=10.0)
    np.testing.assert_allclose(result.mass, np.full((2, 2), 0.25), atol=1e-9)


def test_strictly_dominant_strategies_take_all_mass() -> None:
    # Prisoner's dilemma, two populations: defect (1) strictly dominates cooperate (0).
    row = np.array([[3, 0], [5, 1]], dtype=float)
    result = alpharank(
        [row, row.T], alpha=10.0, populations=("a", "b"), strategies=[("C", "D"), ("C", "D")]
    )
    assert result.mass[1, 1] > 1 - 1e-9
    assert result.marginal("a")["D"] == pytest.approx(1.0)
    assert result.top_profiles(1)[0][0] == ("D", "D")


def test_one_sided_game_matches_the_closed_form() -> None:
    # Population 0 earns 1 with A and 0 with B whatever population 1 does; population 1 is
    # indifferent. Detailed balance between A and B gives pi(A)/pi(B) = rho(+1)/rho(-1)
    # = exp((m - 1) * alpha), uniform over population 1.
    alpha, m = 0.01, 50
    result = alpharank(
        [np.array([[1.0, 1.0], [0.0, 0.0]]), np.zeros((2, 2))], alpha=alpha, population_size=m
    )
    ratio = math.exp((m - 1) * alpha)
    expected_a = ratio / (1 + ratio)
    assert result.marginal(0)["s0"] == pytest.approx(expected_a, abs=1e-9)
    assert result.marginal(1)["s0"] == pytest.approx(0.5, abs=1e-9)


def test_two_by_two_matches_the_papers_markov_chain_by_hand() -> None:
    # Build the chain of Section 3 of the paper directly: states are the 4 pure profiles, each of
    # the sum_k(|S_k| - 1) = 2 deviations is proposed with eta = 1/2 and fixes with rho.
    a = np.array([[2.0, 0.0], [3.0, 1.0]])  # population 0 payoffs [i, j]
    b = np.array([[1.0, 2.0], [0.0, 0.5]])  # population 1 payoffs [i, j]
    alpha, m, eta = 2.0, 5, 0.5
    states = [(0, 0), (0, 1), (1, 0), (1, 1)]
    chain = np.zeros((4, 4))
    for s, (i, j) in enumerate(states):
        for t, (k, n) in enumerate(states):
            if (i != k) + (j != n) != 1:
                continue
            delta = a[k, j] - a[i, j] if i != k else b[i, n] - b[i, j]
            chain[s, t] = eta * _fixation(delta, alpha, m)
        chain[s, s] = 1 - chain[s].sum()
    # Stationary: pi C = pi, sum(pi) = 1, solved as a linear system (no eigenvectors).
    system = np.vstack([chain.T - np.eye(4), np.ones(4)])
    pi = np.linalg.lstsq(system, np.r_[np.zeros(4), 1.0], rcond=None)[0]
    result = alpharank([a, b], alpha=alpha, population_size=m)
    np.testing.assert_allclose(result.mass.ravel(), pi, atol=1e-9)
    assert result.mass.sum() == pytest.approx(1.0)


def test_populations_with_one_strategy_and_four_roles() -> None:
    rng = np.random.default_rng(0)
    tables = [rng.random((3, 1, 2, 1)) for _ in range(4)]
    result = alpharank(tables, alpha=10.0)
    assert result.mass.shape == (3, 1, 2, 1)
    assert result.mass.sum() == pytest.approx(1.0)
    assert result.marginal(1) == {"s0": pytest.approx(1.0)}


def test_bad_tables_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="NaN"):
        alpharank([np.array([[np.nan, 0.0], [0.0, 0.0]])], alpha=1.0)
    with pytest.raises(ValueError, match="square"):
        alpharank([np.zeros((2, 3))], alpha=1.0)
    with pytest.raises(ValueError, match="3 axes"):
        alpharank([np.zeros((2, 2))] * 3, alpha=1.0)


def test_scale_to_unit_range() -> None:
    np.testing.assert_allclose(scale_to_unit_range(np.array([2.0, 4.0, 3.0])), [0, 1, 0.5])
    np.testing.assert_array_equal(scale_to_unit_range(np.full(3, 7.0)), np.zeros(3))
