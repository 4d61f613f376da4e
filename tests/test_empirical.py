"""Empirical games: tables from samples, alpha-rank on sampled schedules against hand-built
chains, replicator dynamics against OpenSpiel's field, the heuristic payoff table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reassurance.evaluation.empirical import (
    alpharank_game,
    empirical_game,
    heuristic_payoff_table,
    mean_field_matrix,
    replicator_field,
    replicator_game,
    replicator_symmetric,
)


def _fixation(delta: float, alpha: float, m: int) -> float:
    """The paper's Fermi/Moran fixation probability, written out again."""
    if delta == 0:
        return 1.0 / m
    return (1.0 - math.exp(-alpha * delta)) / (1.0 - math.exp(-m * alpha * delta))


def _game(tables: np.ndarray, played: np.ndarray | None = None, repeats: int = 1):
    """Samples of every played profile of ``tables`` ([P, *sizes]) as an EmpiricalGame."""
    sizes = tables.shape[1:]
    names = [[f"s{i}" for i in range(n)] for n in sizes]
    samples = []
    for profile in np.ndindex(*sizes):
        if played is not None and not played[profile]:
            continue
        for _ in range(repeats):
            samples.append(
                ([f"s{i}" for i in profile], [tables[(k, *profile)] for k in range(len(sizes))])
            )
    return empirical_game(samples, [f"p{k}" for k in range(len(sizes))], names)


def test_table_means_counts_and_errors() -> None:
    samples = [(["a", "x"], [1.0, 5.0]), (["a", "x"], [3.0, 7.0]), (["b", "y"], [2.0, 0.0])]
    game = empirical_game(samples, ["row", "col"], [["a", "b"], ["x", "y"]])
    assert game.payoff({"row": "a", "col": "x"}) == {"row": 2.0, "col": 6.0}
    assert game.counts.tolist() == [[2, 0], [0, 1]] and not game.complete
    assert game.sem[0, 0, 0] == pytest.approx(1.0)  # sd sqrt(2) over sqrt(2) samples
    assert math.isnan(game.sem[0, 1, 1]) and math.isnan(game.payoffs[0, 0, 1])
    with pytest.raises(ValueError, match="'c' is not in"):
        empirical_game([(["c", "x"], [0.0, 0.0])], ["row", "col"], [["a", "b"], ["x", "y"]])


def test_deviation_gains_and_epsilon() -> None:
    # Prisoner's dilemma: (C, C) pays 3 each; defecting alone pays 5; (D, D) is the equilibrium.
    row = np.array([[3.0, 0.0], [5.0, 1.0]])
    game = _game(np.stack([row, row.T]))
    assert game.deviation_gains(["s0", "s0"]) == {"p0": ("s1", 2.0), "p1": ("s1", 2.0)}
    assert game.epsilon(["s0", "s0"]) == 2.0
    assert game.epsilon(["s1", "s1"]) == 0.0  # deviating loses 1: no profitable deviation
    sampled = _game(np.stack([row, row.T]), played=np.array([[True, False], [True, True]]))
    assert sampled.deviation_gains(["s0", "s0"]) == {"p0": ("s1", 2.0), "p1": ("s0", math.nan)}
    assert sampled.epsilon(["s0", "s0"]) == 2.0


def test_alpharank_on_a_sampled_schedule_matches_the_chain_by_hand() -> None:
    # Two populations of two strategies; profile (1, 1) was never played. The chain runs over
    # the three played profiles; each state proposes each of the 2 deviations with eta = 1/2,
    # accepted with the fixation probability if the target was played, else rejected.
    a = np.array([[2.0, 0.0], [3.0, np.nan]])  # population 0, entries [i, j]
    b = np.array([[1.0, 2.0], [0.0, np.nan]])  # population 1
    played = np.isfinite(a)
    alpha, m, eta = 2.0, 5, 0.5
    # Scaled to [0, 1] over played entries: a -> [[2/3, 0], [1, .]], b -> [[1/2, 1], [0, .]].
    sa = {(0, 0): 2 / 3, (0, 1): 0.0, (1, 0): 1.0}
    sb = {(0, 0): 0.5, (0, 1): 1.0, (1, 0): 0.0}
    states = [(0, 0), (0, 1), (1, 0)]
    chain = np.zeros((3, 3))
    for s, (i, j) in enumerate(states):
        for t, (k, n) in enumerate(states):
            if (i != k) + (j != n) != 1:
                continue
            delta = sa[(k, n)] - sa[(i, j)] if i != k else sb[(k, n)] - sb[(i, j)]
            chain[s, t] = eta * _fixation(delta, alpha, m)
        chain[s, s] = 1 - chain[s].sum()
    system = np.vstack([chain.T - np.eye(3), np.ones(3)])
    pi = np.linalg.lstsq(system, np.r_[np.zeros(3), 1.0], rcond=None)[0]

    ranked = alpharank_game(_game(np.stack([a, b]), played=played), alpha=alpha, population_size=m)
    assert (ranked.played, ranked.ranked, ranked.groups, ranked.complete) == (3, 3, 1, False)
    mass = ranked.result.mass
    np.testing.assert_allclose([mass[s] for s in states], pi, atol=1e-12)
    assert mass[1, 1] == 0.0 and mass.sum() == pytest.approx(1.0)


def test_alpharank_ranks_the_largest_connected_set_of_played_profiles() -> None:
    rng = np.random.default_rng(0)
    tables = rng.random((2, 3, 3))
    played = np.zeros((3, 3), bool)
    played[0, 0] = played[0, 1] = played[1, 1] = True  # joined by single deviations
    played[2, 2] = True  # no played profile differs from it in one population only
    ranked = alpharank_game(_game(tables, played=played), alpha=5.0, population_size=20)
    assert (ranked.played, ranked.ranked, ranked.groups) == (4, 3, 2)
    assert ranked.result.mass[2, 2] == 0.0
    assert ranked.result.mass[played].sum() == pytest.approx(1.0)


def test_alpharank_of_a_complete_game_is_openspiels() -> None:
    from reassurance.evaluation.alpharank import alpharank  # OpenSpiel's, by eigenvectors

    rng = np.random.default_rng(1)
    tables = rng.random((3, 3, 2, 4))
    ours = alpharank_game(_game(tables, repeats=2), alpha=4.0, population_size=30)
    assert ours.complete and (ours.played, ours.ranked, ours.groups) == (24, 24, 1)
    scaled = [(t - t.min()) / (t.max() - t.min()) for t in tables]
    theirs = alpharank(scaled, alpha=4.0, population_size=30)
    np.testing.assert_allclose(ours.result.mass, theirs.mass, atol=1e-10)


def test_replicator_field_is_openspiels() -> None:
    from open_spiel.python.egt.dynamics import (
        MultiPopulationDynamics,
        SinglePopulationDynamics,
        replicator,
    )

    rng = np.random.default_rng(2)
    tables = rng.random((3, 2, 3, 4))
    state = np.concatenate([p / p.sum() for p in (rng.random(2), rng.random(3), rng.random(4))])
    np.testing.assert_allclose(
        replicator_field(tables, state), MultiPopulationDynamics(tables, replicator)(state)
    )
    matrix = rng.random((3, 3))
    x = rng.random(3)
    x /= x.sum()
    theirs = SinglePopulationDynamics(np.stack([matrix, matrix.T]), replicator)(x)
    fitness = matrix @ x
    np.testing.assert_allclose(x * (fitness - x @ fitness), theirs)


def test_replicator_ends_at_the_dominant_strategies() -> None:
    row = np.array([[3.0, 0.0], [5.0, 1.0]])  # defect dominates
    shares = replicator_game(_game(np.stack([row, row.T])))
    assert shares["p0"]["s1"] > 0.999 and shares["p1"]["s1"] > 0.999
    # Hawk-dove (V = 2, C = 4): the mixed rest point plays hawk with probability V / C = 1/2.
    hawk_dove = np.array([[-1.0, 2.0], [0.0, 1.0]])
    mixed = replicator_symmetric(hawk_dove, ["hawk", "dove"])
    assert mixed["hawk"] == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(ValueError, match="need every profile"):
        replicator_game(_game(np.stack([row, row.T]), played=np.array([[1, 0], [1, 1]], bool)))


def test_heuristic_payoff_table_rows() -> None:
    samples = [
        (["a", "a", "b"], [1.0, 3.0, 5.0]),
        (["b", "a", "a"], [7.0, 0.0, 2.0]),
        (["b", "b", "b"], [1.0, 1.0, 4.0]),
    ]
    hpt = heuristic_payoff_table(samples, ["a", "b"])
    assert hpt.players == 3 and hpt.possible_rows == 4
    expected = np.array([[2, 1, 1.5, 6.0], [0, 3, np.nan, 2.0]])
    np.testing.assert_array_equal(hpt.table, expected)
    assert hpt.samples.tolist() == [[4, 2], [0, 3]]
    table = hpt.openspiel()  # OpenSpiel's PayoffTable reads it back
    assert table.num_players == 3 and table.num_strategies == 2 and table.num_rows == 2
    np.testing.assert_array_equal(table[(2, 1)], [1.5, 6.0])


def test_mean_field_matrix_recovers_a_linear_game() -> None:
    truth = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 1.0], [-1.0, 2.0, 4.0]])
    rng = np.random.default_rng(3)
    samples = []
    for _ in range(60):
        names = [int(i) for i in rng.integers(0, 3, size=5)]
        counts = np.bincount(names, minlength=3)
        payoffs = []
        for k in names:
            others = counts.copy()
            others[k] -= 1
            payoffs.append(float(truth[k] @ (others / 4)))
        samples.append(([f"s{k}" for k in names], payoffs))
    matrix, errors, n = mean_field_matrix(samples, ["s0", "s1", "s2"])
    np.testing.assert_allclose(matrix, truth, atol=1e-9)
    assert np.all(errors < 1e-6) and n.sum() == 300
