"""Empirical games: payoff tables estimated from played matches, and what evolution makes of them.

A tournament (or any set of simulated matches) estimates a game: for each profile of strategies
that was played, each player's mean payoff. This module builds those tables and analyses them;
it knows nothing of tournaments except in the adapters at the end, so other analyses (the
equilibrium analyser, experiments) can feed it their own samples.

Two kinds of table:

- :class:`EmpiricalGame`, a *multi-population* game: players (populations) with their own
  strategies, e.g. the roles (coalition, US, Ukraine, Russia). ``payoffs[k][profile]`` is
  player ``k``'s mean payoff over the samples of that pure profile, NaN where it was never
  played. Built by :func:`empirical_game`.
- :class:`HeuristicPayoffTable`, a *symmetric* N-player game in OpenSpiel's heuristic payoff
  table format (``open_spiel.python.egt.heuristic_payoff_table``): one row per distribution of
  the N players over the K strategies, K count columns then K mean-payoff columns (NaN for a
  strategy nobody played in that row). The coalition's member seats, when each plays one of the
  member doctrines, are such a game. Built by :func:`heuristic_payoff_table`. With N players and
  K strategies there are C(N + K - 1, K - 1) rows (657,800 for 19 members and 8 doctrines), so a
  tournament fills a few; :func:`mean_field_matrix` summarises them as a K x K matrix: ``A[k,
  j]`` is the payoff of a player of ``k`` whose co-players all play ``j``, fitted by least
  squares on the shares of each strategy among the co-players (a first-order, linear-in-shares
  model of the table).

Analyses:

- :func:`alpharank_game`: alpha-rank (Omidshafiei et al. 2019) of an :class:`EmpiricalGame`,
  solved as a linear system. With every profile played it is OpenSpiel's multi-population
  alpha-rank (the tests check it against ``open_spiel.python.egt.alpharank``, which finds the
  same distribution by an eigendecomposition, far slower on hundreds of profiles). With some
  never played (a sampled schedule) it is the same Markov chain restricted to the played
  profiles: from a profile, each of the ``sum_k (|S_k| - 1)``
  single-population deviations is proposed with probability ``eta = 1 / sum_k (|S_k| - 1)`` and
  fixes with the Fermi/Moran probability if the deviation's profile was played; a proposal to an
  unplayed profile is rejected (the chain stays). Each fixation probability is positive, so the
  chain is irreducible on each set of played profiles joined by single-population deviations;
  the mass is computed on the largest such set and the others are reported as left out.
- :func:`replicator_game` and :func:`replicator_symmetric`: replicator dynamics (the field of
  OpenSpiel's ``egt.dynamics``, checked against it in the tests), integrated from the uniform
  mixture: where the shares of strategies end when each grows in proportion to how much better
  than its population's average it does.
- :meth:`EmpiricalGame.deviation_gains`: each player's best unilateral deviation from a
  profile among played profiles, and its gain (an epsilon of that profile on the played table).

Payoffs are scaled to [0, 1] per player (:func:`~reassurance.evaluation.alpharank.
scale_to_unit_range`) before alpha-rank and replicator dynamics, so one alpha or one step
size means the same selection pressure whatever a role's reward units.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reassurance.envs.actions import Role, agent_role
from reassurance.evaluation.alpharank import AlphaRankResult, scale_to_unit_range
from reassurance.evaluation.config import ROLES
from reassurance.evaluation.store import StoredTournament

__all__ = [
    "REPLICATOR_DT",
    "REPLICATOR_STEPS",
    "EmpiricalGame",
    "HeuristicPayoffTable",
    "PlayedAlphaRank",
    "alpharank_game",
    "coalition_samples",
    "empirical_game",
    "heuristic_payoff_table",
    "mean_field_matrix",
    "replicator_field",
    "replicator_game",
    "replicator_symmetric",
    "role_game",
    "role_return",
]

REPLICATOR_STEPS = 2_000
"""Euler steps of the replicator dynamics: with payoffs in [0, 1], a strategy 0.1 ahead of its
population's average grows by a factor e in 10 time units, so the 1000 time units of 2000
steps of :data:`REPLICATOR_DT` settle any ranking with gaps above about 1% of the range."""
REPLICATOR_DT = 0.5
"""Time per Euler step of the replicator dynamics (time units of the [0, 1] payoff scale)."""

Sample = tuple[Sequence[str], Sequence[float]]
"""One observation: the strategy of each player and the payoff each received."""


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class EmpiricalGame:
    """A multi-population game estimated from samples.

    ``payoffs`` has shape ``[P, *sizes]`` (``P`` players, ``sizes[k] = len(strategies[k])``):
    the mean payoff of player ``k`` over the samples of each pure profile, NaN where none was
    played; ``counts`` (``[*sizes]``) is the number of samples and ``sem`` (``[P, *sizes]``)
    the standard error of each mean (NaN with fewer than two samples).
    """

    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    payoffs: np.ndarray
    counts: np.ndarray
    sem: np.ndarray

    @property
    def played(self) -> np.ndarray:
        """Bool ``[*sizes]``: profiles with at least one sample."""
        return self.counts > 0

    @property
    def complete(self) -> bool:
        return bool(self.played.all())

    def index(self, profile: Mapping[str, str] | Sequence[str]) -> tuple[int, ...]:
        """A profile (player -> strategy, or strategies in player order) as table indices."""
        names = [profile[p] for p in self.players] if isinstance(profile, Mapping) else profile
        if len(names) != len(self.players):
            raise ValueError(f"a profile names {len(self.players)} strategies, got {names}")
        out = []
        for k, name in enumerate(names):
            if name not in self.strategies[k]:
                raise ValueError(
                    f"{self.players[k]} has no strategy {name!r}; it has {self.strategies[k]}"
                )
            out.append(self.strategies[k].index(name))
        return tuple(out)

    def payoff(self, profile: Mapping[str, str] | Sequence[str]) -> dict[str, float]:
        """Each player's mean payoff at ``profile`` (NaN if it was never played)."""
        at = self.index(profile)
        return {p: float(self.payoffs[(k, *at)]) for k, p in enumerate(self.players)}

    def deviation_gains(
        self, profile: Mapping[str, str] | Sequence[str]
    ) -> dict[str, tuple[str, float]]:
        """Per player: the strategy of its best unilateral deviation from ``profile`` among
        played profiles, and the gain over staying (payoff units; <= 0: no profitable played
        deviation; NaN if no deviation of that player was played)."""
        at = self.index(profile)
        out: dict[str, tuple[str, float]] = {}
        for k, player in enumerate(self.players):
            stay = self.payoffs[(k, *at)]
            best, gain = self.strategies[k][at[k]], math.nan
            for s, name in enumerate(self.strategies[k]):
                if s == at[k]:
                    continue
                other = (*at[:k], s, *at[k + 1 :])
                if self.counts[other] == 0:
                    continue
                delta = float(self.payoffs[(k, *other)] - stay)
                if math.isnan(gain) or delta > gain:
                    best, gain = name, delta
            out[player] = (best, gain)
        return out

    def epsilon(self, profile: Mapping[str, str] | Sequence[str]) -> float:
        """The largest gain any player gets by a played unilateral deviation (floored at 0)."""
        gains = [g for _, g in self.deviation_gains(profile).values() if not math.isnan(g)]
        return max([0.0, *gains])


def empirical_game(
    samples: Iterable[Sample], players: Sequence[str], strategies: Sequence[Sequence[str]]
) -> EmpiricalGame:
    """The :class:`EmpiricalGame` of ``samples``: each a pair (strategy of each player, in
    ``players`` order; payoff of each player). Strategies not in ``strategies`` are errors."""
    players = tuple(players)
    strats = tuple(tuple(s) for s in strategies)
    if len(strats) != len(players):
        raise ValueError(f"{len(players)} players need {len(players)} strategy lists")
    index = [{name: i for i, name in enumerate(s)} for s in strats]
    sizes = tuple(len(s) for s in strats)
    sums = np.zeros((len(players), *sizes))
    squares = np.zeros((len(players), *sizes))
    counts = np.zeros(sizes, np.int64)
    for names, values in samples:
        if len(names) != len(players) or len(values) != len(players):
            raise ValueError(f"a sample has one strategy and one payoff per player {players}")
        try:
            at = tuple(index[k][name] for k, name in enumerate(names))
        except KeyError as err:
            raise ValueError(f"sample strategy {err.args[0]!r} is not in {strats}") from None
        counts[at] += 1
        for k, value in enumerate(values):
            sums[(k, *at)] += value
            squares[(k, *at)] += value * value
    with np.errstate(invalid="ignore", divide="ignore"):
        n = counts[None].astype(float)
        mean = np.where(n > 0, sums / np.maximum(n, 1), np.nan)
        variance = (squares - n * mean**2) / np.maximum(n - 1, 1)
        sem = np.where(n > 1, np.sqrt(np.maximum(variance, 0.0) / np.maximum(n, 1)), np.nan)
    return EmpiricalGame(players, strats, mean, counts, sem)


@dataclass(frozen=True)
class HeuristicPayoffTable:
    """A symmetric N-player game in OpenSpiel's heuristic payoff table format.

    ``table`` is ``[rows, 2K]``: per observed distribution of the ``players`` over the K
    ``strategies``, the K counts then the K mean payoffs (NaN where the count is 0);
    ``samples`` (``[rows, K]``) is how many player-samples each mean rests on. Rows are sorted
    by distribution (descending counts of the first strategy, then the next...).
    """

    strategies: tuple[str, ...]
    players: int
    table: np.ndarray
    samples: np.ndarray

    @property
    def possible_rows(self) -> int:
        """C(N + K - 1, K - 1): the rows of the full table."""
        return math.comb(self.players + len(self.strategies) - 1, len(self.strategies) - 1)

    def openspiel(self) -> Any:
        """The table as OpenSpiel's ``PayoffTable`` (its NaN payoffs as 0: OpenSpiel reads only
        the payoffs of strategies present in a row)."""
        from open_spiel.python.egt.heuristic_payoff_table import from_heuristic_payoff_table

        return from_heuristic_payoff_table(np.nan_to_num(self.table, nan=0.0))


def heuristic_payoff_table(
    samples: Iterable[Sample], strategies: Sequence[str]
) -> HeuristicPayoffTable:
    """The :class:`HeuristicPayoffTable` of ``samples``: each a pair (the strategy of each of
    the N interchangeable players of one game; the payoff each received). Every sample must have
    the same N."""
    strats = tuple(strategies)
    index = {name: i for i, name in enumerate(strats)}
    K = len(strats)
    sums: dict[tuple[int, ...], np.ndarray] = defaultdict(lambda: np.zeros(K))
    seen: dict[tuple[int, ...], np.ndarray] = defaultdict(lambda: np.zeros(K, np.int64))
    players: int | None = None
    for names, values in samples:
        if players is None:
            players = len(names)
        if len(names) != players or len(values) != players:
            raise ValueError(f"every sample needs {players} strategies and payoffs, got {names}")
        try:
            which = np.array([index[name] for name in names], np.int64)
        except KeyError as err:
            raise ValueError(f"sample strategy {err.args[0]!r} is not in {strats}") from None
        row = tuple(int(c) for c in np.bincount(which, minlength=K))
        np.add.at(sums[row], which, np.asarray(values, float))
        np.add.at(seen[row], which, 1)
    rows = sorted(sums, reverse=True)
    counts = np.array(rows, dtype=float).reshape(len(rows), K)
    n = np.array([seen[r] for r in rows]).reshape(len(rows), K)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n > 0, np.array([sums[r] for r in rows]).reshape(-1, K) / n, np.nan)
    return HeuristicPayoffTable(strats, players or 0, np.hstack([counts, means]), n)


def mean_field_matrix(
    samples: Iterable[Sample], strategies: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``A[k, j]``: the payoff of a player of strategy ``k`` whose co-players all play ``j``.

    Fitted per ``k`` by least squares, without intercept, of the payoffs of players of ``k``
    on the shares of the strategies among their co-players (the shares sum to 1, so the
    intercept is in every ``A[k, j]``): payoff ~ sum_j A[k, j] * share_j. Returns ``A``, its
    standard errors (OLS; NaN where a column is not identified, e.g. ``j`` never seen beside
    ``k``) and the number of player-samples behind each row.
    """
    strats = tuple(strategies)
    K = len(strats)
    index = {name: i for i, name in enumerate(strats)}
    rows: list[list[np.ndarray]] = [[] for _ in range(K)]
    ys: list[list[float]] = [[] for _ in range(K)]
    for names, values in samples:
        which = np.array([index[name] for name in names], np.int64)
        counts = np.bincount(which, minlength=K).astype(float)
        others = len(which) - 1
        if others < 1:
            raise ValueError("a mean-field matrix needs games of two or more players")
        for k, value in zip(which, values, strict=True):
            shares = counts.copy()
            shares[k] -= 1
            rows[k].append(shares / others)
            ys[k].append(float(value))
    A = np.full((K, K), np.nan)
    se = np.full((K, K), np.nan)
    n = np.array([len(y) for y in ys])
    for k in range(K):
        if not ys[k]:
            continue
        X, y = np.array(rows[k]), np.array(ys[k])
        seen = X.max(axis=0) > 0  # co-player strategies ever met by k
        Xs = X[:, seen]
        coef, _, rank, _ = np.linalg.lstsq(Xs, y, rcond=None)
        if rank < Xs.shape[1]:
            continue  # not identified: e.g. k always met the same mix
        A[k, seen] = coef
        dof = len(y) - Xs.shape[1]
        if dof > 0:
            sigma2 = float(np.sum((y - Xs @ coef) ** 2)) / dof
            se[k, seen] = np.sqrt(np.diag(np.linalg.inv(Xs.T @ Xs)) * sigma2)
    return A, se, n


# ----------------------------------------------------------------------------- analyses


@dataclass(frozen=True)
class PlayedAlphaRank:
    """Alpha-rank of an :class:`EmpiricalGame` (see the module docstring).

    ``result.mass`` is over all profiles, zero outside the ranked set; ``ranked`` profiles
    (those of the largest set joined by played single-population deviations) of ``played``;
    ``groups`` is the number of such sets among the played profiles.
    """

    result: AlphaRankResult
    played: int
    ranked: int
    groups: int
    complete: bool


def alpharank_game(game: EmpiricalGame, *, alpha: float, population_size: int) -> PlayedAlphaRank:
    """Alpha-rank of ``game``, payoffs scaled to [0, 1] per player over its played profiles."""
    scaled = np.stack([_scaled(game.payoffs[k], game.played) for k in range(len(game.players))])
    if alpha <= 0 or population_size < 2:
        raise ValueError(
            f"alpha must be > 0 and population_size >= 2, got {alpha} and {population_size}"
        )
    sizes = game.counts.shape
    played = np.flatnonzero(game.played.ravel())
    if played.size == 0:
        raise ValueError("no profile of the game was played")
    # A complete table is one set: every profile is reached by single deviations.
    groups = [[int(p) for p in played]] if game.complete else _groups(played, sizes)
    ranked = max(groups, key=lambda g: (len(g), -min(g)))
    mass = np.zeros(int(np.prod(sizes)))
    if len(ranked) == 1:
        mass[ranked] = 1.0
    else:
        mass[ranked] = _stationary(scaled, ranked, sizes, alpha, population_size)
    result = AlphaRankResult(
        populations=game.players,
        strategies=game.strategies,
        mass=mass.reshape(sizes),
        alpha=float(alpha),
        population_size=int(population_size),
    )
    return PlayedAlphaRank(result, int(played.size), len(ranked), len(groups), game.complete)


def _scaled(table: np.ndarray, played: np.ndarray) -> np.ndarray:
    """``table`` mapped onto [0, 1] over its played entries (NaN elsewhere)."""
    out = np.full(table.shape, np.nan)
    out[played] = scale_to_unit_range(table[played])
    return out


def _neighbours(flat: int, sizes: tuple[int, ...]) -> Iterable[tuple[int, int]]:
    """(population, profile) of every single-population deviation from profile ``flat``."""
    at = np.unravel_index(flat, sizes)
    for k, n in enumerate(sizes):
        for s in range(n):
            if s != at[k]:
                other = (*at[:k], s, *at[k + 1 :])
                yield k, int(np.ravel_multi_index(other, sizes))


def _groups(played: np.ndarray, sizes: tuple[int, ...]) -> list[list[int]]:
    """The played profiles split into sets joined by single-population deviations."""
    remaining = set(int(p) for p in played)
    groups = []
    while remaining:
        start = min(remaining)
        group, frontier = {start}, [start]
        remaining.discard(start)
        while frontier:
            for _, other in _neighbours(frontier.pop(), sizes):
                if other in remaining:
                    remaining.discard(other)
                    group.add(other)
                    frontier.append(other)
        groups.append(sorted(group))
    return groups


def _fixation(delta: np.ndarray, alpha: float, m: int) -> np.ndarray:
    """Fermi/Moran fixation probability of mutants ``delta`` ahead, OpenSpiel's formula:
    ``(1 - e^(-u)) / (1 - e^(-m u))`` with ``u = alpha * delta``; ``1/m`` if ``|u| <= 1e-14``."""
    u = alpha * np.asarray(delta, float)
    neutral = np.abs(u) <= 1e-14
    safe = np.where(neutral, 1.0, u)
    with np.errstate(over="ignore", invalid="ignore"):
        rho = np.expm1(-safe) / np.expm1(-m * safe)  # a very unfit mutant: finite / inf = 0
    return np.where(neutral, 1.0 / m, rho)


def _stationary(
    scaled: np.ndarray, states: Sequence[int], sizes: tuple[int, ...], alpha: float, m: int
) -> np.ndarray:
    """Stationary distribution of alpha-rank's chain restricted to ``states`` (flat profile
    indices, joined by single-population deviations), solved as a linear system."""
    eta = 1.0 / sum(n - 1 for n in sizes)
    states = np.asarray(states, np.int64)
    n = len(states)
    position = np.full(int(np.prod(sizes)), -1, np.int64)
    position[states] = np.arange(n)
    coords = np.array(np.unravel_index(states, sizes))
    flat = scaled.reshape(len(sizes), -1)
    chain = np.zeros((n, n))
    for k, size in enumerate(sizes):
        for shift in range(1, size):
            other = coords.copy()
            other[k] = (coords[k] + shift) % size
            target = np.ravel_multi_index(tuple(other), sizes)
            column = position[target]
            kept = column >= 0  # deviations to unplayed profiles are rejected
            delta = flat[k, target[kept]] - flat[k, states[kept]]
            chain[np.flatnonzero(kept), column[kept]] = eta * _fixation(delta, alpha, m)
    chain[np.arange(n), np.arange(n)] = 1.0 - chain.sum(axis=1)
    system = chain.T - np.eye(n)
    system[-1] = 1.0  # one balance equation is redundant: replace it by sum(pi) = 1
    target = np.zeros(n)
    target[-1] = 1.0
    try:
        pi = np.linalg.solve(system, target)
    except np.linalg.LinAlgError:
        pi = np.full(n, np.nan)
    if not np.all(np.isfinite(pi)) or np.any(pi < -1e-9):
        raise ValueError(f"alpha-rank is numerically unstable at alpha={alpha}; lower alpha")
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def replicator_game(
    game: EmpiricalGame, *, steps: int = REPLICATOR_STEPS, dt: float = REPLICATOR_DT
) -> dict[str, dict[str, float]]:
    """Multi-population replicator dynamics of a complete ``game`` (payoffs scaled to [0, 1]
    per player), Euler-integrated from uniform mixtures; each player's shares at the end."""
    if not game.complete:
        raise ValueError(
            f"replicator dynamics need every profile; {int((~game.played).sum())} of "
            f"{game.counts.size} were not played"
        )
    scaled = np.stack([scale_to_unit_range(t) for t in game.payoffs])
    sizes = game.counts.shape
    state = np.concatenate([np.full(n, 1.0 / n) for n in sizes])
    state = _integrate(lambda x: replicator_field(scaled, x), state, sizes, steps, dt)
    parts = np.split(state, np.cumsum(sizes)[:-1])
    return {
        player: dict(zip(game.strategies[k], map(float, parts[k]), strict=True))
        for k, player in enumerate(game.players)
    }


def replicator_field(payoffs: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Time derivative of the multi-population replicator dynamics: ``payoffs`` is ``[P,
    *sizes]``, ``state`` the populations' mixtures concatenated. For population ``k``,
    ``dx_k = x_k * (f_k - x_k . f_k)``, ``f_k`` its payoff per strategy against the others'
    mixtures (what OpenSpiel's ``MultiPopulationDynamics`` with ``replicator`` computes)."""
    sizes = payoffs.shape[1:]
    parts = np.split(state, np.cumsum(sizes)[:-1])
    letters = "abcdefghijklmnopqrstuvwxyz"[: len(sizes)]
    out = []
    for k, x in enumerate(parts):
        others = [i for i in range(len(sizes)) if i != k]
        spec = f"{letters}," + ",".join(letters[i] for i in others) + f"->{letters[k]}"
        fitness = np.einsum(spec, payoffs[k], *(parts[i] for i in others))
        out.append(x * (fitness - x @ fitness))
    return np.concatenate(out)


def replicator_symmetric(
    matrix: np.ndarray,
    strategies: Sequence[str],
    *,
    steps: int = REPLICATOR_STEPS,
    dt: float = REPLICATOR_DT,
) -> dict[str, float]:
    """Single-population replicator dynamics of the symmetric game ``matrix[k, j]`` (payoff of
    ``k`` against ``j``, scaled to [0, 1]) from the uniform mixture; the shares at the end:
    ``dx = x * (A x - x . A x)``."""
    matrix = np.asarray(matrix, float)
    if not np.all(np.isfinite(matrix)):
        raise ValueError("the matrix has NaN entries (a pair of strategies never met)")
    scaled = scale_to_unit_range(matrix)
    K = len(strategies)

    def field(x: np.ndarray) -> np.ndarray:
        fitness = scaled @ x
        return x * (fitness - x @ fitness)

    state = _integrate(field, np.full(K, 1.0 / K), (K,), steps, dt)
    return dict(zip(strategies, map(float, state), strict=True))


def _integrate(
    field: Any, state: np.ndarray, sizes: Sequence[int], steps: int, dt: float
) -> np.ndarray:
    """Euler steps of ``field``; with payoffs in [0, 1] and ``dt <= 0.5`` a share changes by a
    factor between 0.5 and 1.5 per step, so it stays positive and on its simplex."""
    bounds = np.cumsum([0, *sizes])
    for _ in range(steps):
        state = state + dt * field(state)
        for a, b in itertools.pairwise(bounds):
            state[a:b] /= state[a:b].sum()
    return state


# ----------------------------------------------------------------------------- tournaments


def role_return(match: Mapping[str, Any], role: str) -> float:
    """The return of ``role`` in a match (``returns``: agent -> return); for members, the mean
    over the member seats."""
    returns = match["returns"]
    if role != "member":
        return float(returns[role])
    return float(np.mean([v for a, v in returns.items() if agent_role(a) is Role.MEMBER]))


def role_game(tournament: StoredTournament) -> EmpiricalGame:
    """The role meta-game of a tournament: one player per role (the coalition's strategy is its
    mix), one sample per match, the role's return as payoff (members: the mean over seats)."""
    return empirical_game(
        (
            (
                [m["lineup"][role] for role in ROLES],
                [role_return(m, role) for role in ROLES],
            )
            for m in tournament.matches
        ),
        ROLES,
        [tournament.strategies(role) for role in ROLES],
    )


def coalition_samples(tournament: StoredTournament) -> list[Sample]:
    """One sample per match: the member doctrine of each member seat and its return *relative
    to its seat*, i.e. minus that agent's mean return over the tournament's matches (countries
    differ in size and exposure; the shift is the same whatever a seat plays)."""
    members = [a for a in tournament.matches[0]["returns"] if agent_role(a) is Role.MEMBER]
    seat_mean = {a: float(np.mean([m["returns"][a] for m in tournament.matches])) for a in members}
    return [
        (
            [m["seats"][a] for a in members],
            [m["returns"][a] - seat_mean[a] for a in members],
        )
        for m in tournament.matches
    ]
