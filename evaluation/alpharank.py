"""Alpha-rank (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by Evolution").

A thin wrapper over OpenSpiel's implementation (``open_spiel.python.egt.alpharank``) that names
populations and strategies and returns the stationary distribution as an array over profiles.

The model: each population (here: a role) holds ``m`` individuals that all play one strategy, so
the state of the game is a pure strategy profile. A mutant strategy in one population fixes with
the Fermi/Moran probability ``rho = (1 - exp(-alpha*d)) / (1 - exp(-m*alpha*d))``, with ``d`` the
mutant's payoff minus the resident's against the same other populations (``1/m`` when ``d = 0``).
From a profile, each of the ``sum_k (|S_k| - 1)`` single-population deviations is proposed with
equal probability ``eta``; the chain's stationary distribution is the alpha-rank mass of each
profile, and a strategy's mass is the marginal over the other populations. Large ``alpha`` ranks
by who beats whom; the paper recommends the largest alpha that stays numerically stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["AlphaRankResult", "alpharank", "scale_to_unit_range"]


@dataclass(frozen=True)
class AlphaRankResult:
    """Stationary mass over pure strategy profiles.

    ``mass`` has one axis per population (a single-population game: one axis), in the order of
    ``populations``; entries sum to 1.
    """

    populations: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    mass: np.ndarray
    alpha: float
    population_size: int

    def marginal(self, population: str | int) -> dict[str, float]:
        """Mass of each strategy of one population, summed over the others' strategies."""
        k = population if isinstance(population, int) else self.populations.index(population)
        if self.mass.ndim == 1:
            values = self.mass
        else:
            axes = tuple(i for i in range(self.mass.ndim) if i != k)
            values = self.mass.sum(axis=axes)
        return {name: float(v) for name, v in zip(self.strategies[k], values, strict=True)}

    def top_profiles(self, count: int = 10) -> list[tuple[tuple[str, ...], float]]:
        """The ``count`` profiles with the most mass, most first (ties by profile order)."""
        flat = self.mass.ravel()
        order = np.argsort(-flat, kind="stable")[:count]
        out = []
        for index in order:
            if self.mass.ndim == 1:
                out.append(((self.strategies[0][index],), float(flat[index])))
                continue
            profile = np.unravel_index(index, self.mass.shape)
            names = tuple(self.strategies[k][i] for k, i in enumerate(profile))
            out.append((names, float(flat[index])))
        return out


def scale_to_unit_range(table: np.ndarray) -> np.ndarray:
    """``table`` mapped affinely onto [0, 1] (all zeros if it is constant)."""
    table = np.asarray(table, dtype=float)
    low, high = float(np.min(table)), float(np.max(table))
    if high - low <= 1e-12:
        return np.zeros_like(table)
    return (table - low) / (high - low)


def alpharank(
    payoff_tables: Sequence[np.ndarray],
    *,
    alpha: float,
    population_size: int = 50,
    populations: Sequence[str] | None = None,
    strategies: Sequence[Sequence[str]] | None = None,
) -> AlphaRankResult:
    """Alpha-rank of a game given as payoff tables.

    Args:
        payoff_tables: one table per population. Multi-population: ``K`` tables, each with
            ``K`` axes (one per population's strategy), entry = that population's payoff.
            Single-population (symmetric) game: one square table, ``[i, j]`` = payoff of
            strategy ``i`` against ``j``.
        alpha: selection intensity, in inverse payoff units.
        population_size: ``m``, individuals per population.
        populations, strategies: names (default ``p0``, ``s0``...).
    """
    from open_spiel.python.egt import alpharank as os_alpharank

    tables = [np.asarray(t, dtype=float) for t in payoff_tables]
    if not tables:
        raise ValueError("alpharank needs at least one payoff table")
    shape = tables[0].shape
    if any(t.shape != shape for t in tables):
        raise ValueError(f"payoff tables must share one shape, got {[t.shape for t in tables]}")
    single = len(tables) == 1
    if single and (len(shape) != 2 or shape[0] != shape[1]):
        raise ValueError(f"a single-population game needs a square table, got shape {shape}")
    if not single and len(shape) != len(tables):
        raise ValueError(
            f"{len(tables)} populations need tables with {len(tables)} axes, got shape {shape}"
        )
    if not np.all(np.isfinite(np.stack(tables))):
        raise ValueError("payoff tables contain NaN or infinity (a profile was never played?)")
    if alpha <= 0 or population_size < 2:
        raise ValueError(
            f"alpha must be > 0 and population_size >= 2, got {alpha} and {population_size}"
        )
    sizes = (shape[0],) if single else shape
    names = tuple(populations or (f"p{k}" for k in range(len(sizes))))
    strats = tuple(tuple(s) for s in (strategies or [[f"s{i}" for i in range(n)] for n in sizes]))
    if len(names) != len(sizes) or [len(s) for s in strats] != list(sizes):
        raise ValueError(
            f"names do not fit the tables: populations {names}, strategies {strats}, "
            f"table sizes {sizes}"
        )
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        try:
            _, _, pi, _, _ = os_alpharank.compute(tables, m=population_size, alpha=alpha)
        except ValueError as err:
            raise ValueError(
                f"alpha-rank found no unique stationary distribution at alpha={alpha}, "
                f"m={population_size} ({err}); lower alpha"
            ) from None
    pi = np.asarray(pi, dtype=float)
    if not np.all(np.isfinite(pi)) or np.any(pi < -1e-9):
        raise ValueError(f"alpha-rank is numerically unstable at alpha={alpha}; lower alpha")
    pi = np.clip(pi, 0.0, None)
    pi = pi / pi.sum()
    return AlphaRankResult(
        populations=names,
        strategies=strats,
        mass=pi.reshape(sizes),
        alpha=float(alpha),
        population_size=int(population_size),
    )
