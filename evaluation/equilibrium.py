"""Approximate equilibria of the members' game, and Russia's answer, on the batched rules.

The analyser looks for profiles where no coalition member and not Russia can gain by changing
its own strategy alone, in the full game played by :class:`~reassurance.envs.CoalitionVectorEnv`
(all phases, the hidden US type and Russian resolve, the test):

- **Members** choose from a grid of standing strategies (:data:`MEMBER_GRID`, documented on
  :class:`MemberStrategy`): stay out, or pledge once a level of a contribution type on a
  condition, deploy it whenever the pledge's condition (and the member's parliament) allows,
  and hold a response to violations. Every member has its own strategy (a 19-member coalition
  is a 19-player game).
- **Russia** chooses from its doctrines (:data:`RUSSIA_GRID`: registered doctrines with
  parameters).
- **The US** plays its private type (``usa/by-type``) unless a named doctrine is given;
  **Ukraine** plays a doctrine (``ukraine/accepts-with-guarantees`` by default).

Method: iterated best response with common random numbers. From a starting profile, each player
in turn (members in scenario order, then Russia) evaluates every strategy of its grid against
the others' current strategies over the same seeds (the same seed gives the same hidden draws
and noise to every candidate) and switches to the best if it beats its current strategy by more
than ``tol``; rounds repeat until nobody switches (an equilibrium on the grid, for those seeds)
or a profile repeats (a cycle) or ``rounds`` run out. Several starts (everyone out, everyone
in, the doctrine profile, random profiles) show whether equilibria are many.

At each profile reached, on fresh evaluation seeds: every figure of the episode summary with a
bootstrap 95% CI over seeds, and epsilon, the largest gain any player gets from its best
unilateral deviation on the grid, with a bootstrap CI (resampling seeds, with the deviation
chosen again in each resample): an exploitability figure for a many-player game. Epsilon is
measured on seeds the search did not use, so it is an honest, slightly upward-biased
estimate (the maximum over candidates of noisy gains).

Run: ``reassurance equilibrium --scenario classroom --quick --out DIR`` (files:
``equilibria.csv``, ``equilibria.md``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.agents import make
from reassurance.agents.grid import GridMember, MemberStrategy, member_actions
from reassurance.agents.policy import Policy, Seat
from reassurance.envs import CoalitionVectorEnv, Scenario, load_scenario
from reassurance.envs.actions import (
    Condition,
    Contribution,
    MemberResponse,
    Role,
)
from reassurance.envs.metrics import SUMMARY
from reassurance.envs.observation import ObservationView

__all__ = [
    "MEMBER_GRID",
    "QUICK_MEMBER_GRID",
    "RUSSIA_GRID",
    "Equilibrium",
    "Game",
    "GridMember",
    "MemberStrategy",
    "Search",
    "best_response_dynamics",
    "Measured",
    "evaluate_profile",
    "find_equilibria",
    "member_actions",
    "register",
    "russia_label",
    "trained_russia",
]


# ----------------------------------------------------------------------------- strategies


def _grid(
    levels: Sequence[int],
    kinds: Sequence[Contribution],
    conditions: Sequence[Condition],
    responses: Sequence[MemberResponse],
) -> tuple[MemberStrategy, ...]:
    combos = itertools.product(levels, kinds, conditions, responses)
    return (MemberStrategy(0), *(MemberStrategy(*c) for c in combos))


MEMBER_GRID = _grid(
    (1, 2, 3, 4),
    (Contribution.GROUND, Contribution.LOGISTICS, Contribution.ISR),
    tuple(Condition),
    (MemberResponse.PROTEST, MemberResponse.REINFORCE),
)
"""Out, plus every level (token .. 20%) x type (ground, logistics, ISR) x condition x response
(protest, reinforce): 73 strategies."""

QUICK_MEMBER_GRID = _grid(
    (2, 4),
    (Contribution.GROUND, Contribution.LOGISTICS),
    tuple(Condition),
    (MemberResponse.REINFORCE,),
)
"""Out, plus 5% or 20% x ground or logistics x each condition, reinforcing: 13 strategies."""

RUSSIA_GRID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("russia/opportunist", {"weak": 0.3}),
    ("russia/opportunist", {"weak": 0.5}),
    ("russia/opportunist", {"weak": 0.7}),
    ("russia/hawk", {}),
    ("russia/negotiator", {}),
    ("russia/salami-slicer", {}),
)
"""Russia's strategies: its doctrines, the opportunist at three thresholds of weak deterrence."""


TRAINED = "trained"
"""The agent of a Russia grid entry ``(TRAINED, {"path": RUN})``: the Russia policy of a
training run (its latest checkpoint), playing each component's most likely legal value (a pure
strategy, so common random numbers hold)."""


@functools.lru_cache(maxsize=16)
def _trained_policy(path: str, role: str) -> Policy:
    """A run's policy, loaded once per process (it keeps no state between steps)."""
    from reassurance.agents import from_checkpoint

    return from_checkpoint(path, role=role, greedy=True)


def trained_russia(run: str | Path) -> tuple[str, dict[str, Any]]:
    """A Russia grid entry for the Russia policy trained in ``run`` (see :data:`TRAINED`)."""
    return (TRAINED, {"path": str(run)})


def russia_label(entry: tuple[str, dict[str, Any]]) -> str:
    """``agent(param=value,...)``: how an entry of :data:`RUSSIA_GRID` is named in reports;
    ``trained:GROUP/RUN`` for a trained policy."""
    agent, params = entry
    if agent == TRAINED:
        path = Path(params["path"])
        return f"trained:{path.parent.parent.name}/{path.name}"
    shown = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{agent}({shown})" if shown else agent


# ----------------------------------------------------------------------------- the game


@dataclass(frozen=True)
class Game:
    """One setting of the analysis: the scenario, the commitment, who plays the US and Ukraine,
    and the strategy grids."""

    scenario: str = "classroom"
    commitment: float | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    usa: str = "usa/by-type"
    ukraine: str = "ukraine/accepts-with-guarantees"
    member_grid: tuple[MemberStrategy, ...] = MEMBER_GRID
    russia_grid: tuple[tuple[str, dict[str, Any]], ...] = RUSSIA_GRID

    def scenario_overrides(self) -> dict[str, Any]:
        out = dict(self.overrides)
        if self.commitment is not None:
            out["usa.commitment"] = float(self.commitment)
        return out

    def load(self) -> Scenario:
        """The validated scenario with this setting's overrides (loaded once per process)."""
        key = tuple(sorted((k, repr(v)) for k, v in self.scenario_overrides().items()))
        return _load(self.scenario, key, self.scenario_overrides())


_SCENARIOS: dict[tuple[str, tuple[tuple[str, str], ...]], Scenario] = {}


def _load(name: str, key: tuple[tuple[str, str], ...], overrides: dict[str, Any]) -> Scenario:
    if (name, key) not in _SCENARIOS:
        if len(_SCENARIOS) >= 64:
            _SCENARIOS.clear()
        _SCENARIOS[name, key] = load_scenario(name, overrides)
    return _SCENARIOS[name, key]


MEMBER_FIGURES = ("burden", "peak_pledged_k", "peak_deployed_k", "ever_ground", "defected")
"""Per-member figures of a game's end state (:class:`~reassurance.envs.state.State`): USD bn spent
deploying, peak troops pledged and deployed (thousands), ground troops ever deployed, reneged."""


@dataclass
class Outcome:
    """What a batch of games produced: per game, each agent's return (reward units of GAME.md),
    members' returns ``[B, M]`` and Russia's ``[B]``, every summary figure ``[B]``, and the
    per-member figures of :data:`MEMBER_FIGURES` ``[B, M]``."""

    member_returns: np.ndarray
    russia_returns: np.ndarray
    summaries: dict[str, np.ndarray]
    members: dict[str, np.ndarray] = field(default_factory=dict)


class _Players:
    """The fixed policies of a game (US, Ukraine, Russia's candidates), bound to their seats."""

    def __init__(self, game: Game, venv: CoalitionVectorEnv) -> None:
        def bound(agent_id: str, params: Mapping[str, Any], role: Role) -> Policy:
            if agent_id == TRAINED:  # a policy trained by RLlib, played greedily
                policy = _trained_policy(str(params["path"]), role.name.lower())
            else:
                policy = make(agent_id, **params)
            policy.bind(Seat(agent=role.id, role=role, layout=venv.layouts[role]))
            return policy

        self.usa = bound(game.usa, {}, Role.USA)
        self.ukraine = bound(game.ukraine, {}, Role.UKRAINE)
        self.russia = [bound(a, p, Role.RUSSIA) for a, p in game.russia_grid]


def evaluate_profiles(
    game: Game,
    members: np.ndarray,
    russia: np.ndarray,
    seeds: np.ndarray,
    *,
    chunk: int = 4096,
) -> Outcome:
    """The expected outcome of one profile per row: members ``[N, M]`` strategy indices into
    ``game.member_grid``, ``russia`` ``[N]`` indices into ``game.russia_grid``, ``seeds`` ``[N]``.

    The hidden draws are averaged exactly, not sampled: each row is played once per US type
    and Russian resolve that the scenario's priors allow, with the same seed (so the same
    votes, detections and noise), and the row's returns and figures are the prior-weighted
    means (a figure that is NaN in some of them, e.g. pledge conversion with nothing pledged,
    is the weighted mean of the others). Rows with the same seed are common random numbers:
    the same seed gives the same draws whatever is played.
    """
    scenario = game.load()
    type_prior = np.array(scenario.usa.type_prior())
    resolve_prior = np.array(scenario.russia.resolve_prior)
    hidden = [
        (t, r, type_prior[t] * resolve_prior[r])
        for t in range(3)
        for r in range(3)
        if type_prior[t] > 0 and resolve_prior[r] > 0
    ]
    K, N = len(hidden), len(seeds)
    us_type = np.tile(np.array([h[0] for h in hidden], np.int64), N)
    resolve = np.tile(np.array([h[1] for h in hidden], np.int64), N)
    weights = np.array([h[2] for h in hidden])
    rows = np.repeat(np.arange(N), K)
    parts = [
        _play(game, members[rows[i : i + chunk]], russia[rows[i : i + chunk]],
              seeds[rows[i : i + chunk]], us_type[i : i + chunk], resolve[i : i + chunk])
        for i in range(0, len(rows), chunk)
    ]  # fmt: skip

    def weighted(values: np.ndarray) -> np.ndarray:
        values = values.reshape(N, K, *values.shape[1:]).astype(np.float64)
        w = np.broadcast_to(weights.reshape(1, K, *([1] * (values.ndim - 2))), values.shape)
        w = np.where(np.isnan(values), 0.0, w)
        total = w.sum(axis=1)
        with np.errstate(invalid="ignore"):
            return np.where(total > 0, np.nansum(values * w, axis=1) / total, np.nan)

    return Outcome(
        member_returns=weighted(np.concatenate([p.member_returns for p in parts])),
        russia_returns=weighted(np.concatenate([p.russia_returns for p in parts])),
        summaries={
            k: weighted(np.concatenate([p.summaries[k] for p in parts])) for k in parts[0].summaries
        },
        members={
            k: weighted(np.concatenate([p.members[k] for p in parts])) for k in MEMBER_FIGURES
        },
    )


def _play(
    game: Game,
    members: np.ndarray,
    russia: np.ndarray,
    seeds: np.ndarray,
    us_type: np.ndarray,
    resolve: np.ndarray,
) -> Outcome:
    B = len(seeds)
    venv = CoalitionVectorEnv(game.load(), B)
    players = _Players(game, venv)
    out = venv.reset(seed=[int(s) for s in seeds], us_type=us_type, resolve=resolve)
    done = np.zeros(B, bool)
    member_returns = np.zeros((B, venv.n_members))
    russia_returns = np.zeros(B)
    summaries = {f.name: np.zeros(B, dtype=np.float64) for f in SUMMARY}
    per_member = {name: np.zeros((B, venv.n_members)) for name in MEMBER_FIGURES}
    rng = np.random.default_rng(0)  # the doctrines here draw nothing; a generator is required
    groups = [(k, np.flatnonzero(russia == k)) for k in np.unique(russia)]
    while not done.all():
        view = ObservationView(venv.layouts[Role.MEMBER], out.obs[Role.MEMBER])
        actions = {
            Role.MEMBER: member_actions(view, game.member_grid, members),
            Role.USA: players.usa.act_batch(out.obs[Role.USA], out.masks[Role.USA], rng),
            Role.UKRAINE: players.ukraine.act_batch(
                out.obs[Role.UKRAINE], out.masks[Role.UKRAINE], rng
            ),
        }
        russian = np.zeros((B, len(venv.nvec[Role.RUSSIA])), np.int64)
        for k, rows in groups:
            russian[rows] = players.russia[k].act_batch(
                out.obs[Role.RUSSIA][rows], out.masks[Role.RUSSIA][rows], rng
            )
        actions[Role.RUSSIA] = russian
        out = venv.step(actions)
        first = out.ended[~done[out.ended]]  # games whose first episode ends now
        if first.size:
            rows = np.searchsorted(out.ended, first)
            member_returns[first] = out.returns[Role.MEMBER][rows]
            russia_returns[first] = out.returns[Role.RUSSIA][rows]
            for name in summaries:
                summaries[name][first] = out.summaries[name][rows]
            for name in per_member:
                per_member[name][first] = getattr(out.final_state, name)[rows]
            done[first] = True
    return Outcome(member_returns, russia_returns, summaries, per_member)


# ----------------------------------------------------------------------------- search


@dataclass(frozen=True)
class Profile:
    """Each member's strategy index (scenario order) and Russia's."""

    members: tuple[int, ...]
    russia: int

    def with_member(self, i: int, strategy: int) -> Profile:
        members = list(self.members)
        members[i] = strategy
        return Profile(tuple(members), self.russia)


@dataclass
class Search:
    """The result of one iterated-best-response run from one start."""

    start: str
    profile: Profile
    rounds: int
    status: str  # "converged", "cycle" or "round limit"
    switches: int


def _candidates(
    game: Game, profile: Profile, player: int, seeds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean return of every strategy of ``player`` (a member index, or -1 for Russia) against
    the others' strategies in ``profile``, over ``seeds``: ``(means [G], returns [G, S])``."""
    S = len(seeds)
    russia_turn = player < 0
    G = len(game.russia_grid) if russia_turn else len(game.member_grid)
    members = np.tile(np.array(profile.members, np.int64), (G * S, 1))
    russia = np.full(G * S, profile.russia, np.int64)
    choice = np.repeat(np.arange(G), S)
    if russia_turn:
        russia = choice
    else:
        members[:, player] = choice
    outcome = evaluate_profiles(game, members, russia, np.tile(seeds, G))
    returns = outcome.russia_returns if russia_turn else outcome.member_returns[:, player]
    returns = returns.reshape(G, S)
    return returns.mean(axis=1), returns


def best_response_dynamics(
    game: Game,
    start: Profile,
    seeds: np.ndarray,
    *,
    rounds: int = 8,
    tol: float = 1e-6,
    label: str = "start",
    russia_moves: bool = True,
    on_player: Callable[[], None] | None = None,
) -> Search:
    """Iterated best response from ``start`` (see the module docs); ``tol`` is the least gain
    (reward units, mean over ``seeds``) that makes a player switch."""
    profile = start
    seen = {profile}
    players = list(range(len(start.members))) + ([-1] if russia_moves else [])
    switches = 0
    for round_ in range(1, rounds + 1):
        changed = False
        for player in players:
            means, _ = _candidates(game, profile, player, seeds)
            current = profile.russia if player < 0 else profile.members[player]
            best = int(np.argmax(means))
            if means[best] > means[current] + tol:
                profile = (
                    Profile(profile.members, best)
                    if player < 0
                    else profile.with_member(player, best)
                )
                changed = True
                switches += 1
            if on_player is not None:
                on_player()
        if not changed:
            return Search(label, profile, round_, "converged", switches)
        if profile in seen:
            return Search(label, profile, round_, "cycle", switches)
        seen.add(profile)
    return Search(label, profile, rounds, "round limit", switches)


# ----------------------------------------------------------------------------- evaluation


def _bootstrap(
    values: np.ndarray, rng: np.random.Generator, resamples: int
) -> tuple[float, float, float]:
    """Mean and percentile 95% interval of the mean of ``values`` (one per seed); NaNs left
    out; the interval always contains the mean."""
    x = values[~np.isnan(values)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    means = x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return mean, min(float(low), mean), max(float(high), mean)


@dataclass
class Equilibrium:
    """A profile reached, measured on evaluation seeds: the summary figures (mean, CI low,
    CI high), epsilon (mean, CI low, CI high) and which player gains it, and the starts that
    reached it."""

    game: Game
    profile: Profile
    starts: list[str]
    status: str
    figures: dict[str, tuple[float, float, float]]
    epsilon: tuple[float, float, float]
    epsilon_player: str
    n_seeds: int
    outcome: Outcome

    def member_labels(self, member_ids: Sequence[str]) -> dict[str, str]:
        return {
            m: self.game.member_grid[i].label
            for m, i in zip(member_ids, self.profile.members, strict=True)
        }

    @property
    def russia_label(self) -> str:
        return russia_label(self.game.russia_grid[self.profile.russia])


@dataclass
class Measured:
    """A profile measured on evaluation seeds: every summary figure as (mean, CI low, CI high),
    epsilon (mean, CI low, CI high), the player who gains it, and the per-seed outcome."""

    figures: dict[str, tuple[float, float, float]]
    epsilon: tuple[float, float, float]
    epsilon_player: str
    outcome: Outcome


def evaluate_profile(
    game: Game,
    profile: Profile,
    seeds: np.ndarray,
    *,
    member_ids: Sequence[str],
    resamples: int = 1000,
    bootstrap_seed: int = 0,
    russia_moves: bool = True,
) -> Measured:
    """Summary figures and epsilon of ``profile`` on ``seeds`` (see the module docs)."""
    rng = np.random.default_rng(bootstrap_seed)
    S = len(seeds)
    outcome = evaluate_profiles(
        game,
        np.tile(np.array(profile.members, np.int64), (S, 1)),
        np.full(S, profile.russia, np.int64),
        seeds,
    )
    figures = {
        name: _bootstrap(values.astype(np.float64), rng, resamples)
        for name, values in outcome.summaries.items()
    }
    gains, names = [], []
    players = list(range(len(profile.members))) + ([-1] if russia_moves else [])
    for player in players:
        _, returns = _candidates(game, profile, player, seeds)
        current = profile.russia if player < 0 else profile.members[player]
        gains.append(returns - returns[current])  # [G, S], paired by seed
        names.append("russia" if player < 0 else member_ids[player])
    best = [float(g.mean(axis=1).max()) for g in gains]
    top = int(np.argmax(best))
    draws = rng.integers(0, S, (resamples, S))
    boot = np.array([max(float(g[:, idx].mean(axis=1).max()) for g in gains) for idx in draws])
    low, high = np.percentile(boot, [2.5, 97.5])
    epsilon = max(best)
    interval = (epsilon, min(float(low), epsilon), max(float(high), epsilon))
    return Measured(figures, interval, names[top], outcome)


# ----------------------------------------------------------------------------- starts


def _starts(
    game: Game, n_members: int, doctrine: Profile | None, random_starts: int, seed: int
) -> list[tuple[str, Profile]]:
    grid = game.member_grid
    russia = 0
    out = [("all out", Profile((0,) * n_members, russia))]
    biggest = max(
        range(len(grid)),
        key=lambda i: (
            grid[i].level,
            grid[i].kind == Contribution.GROUND,
            grid[i].condition == Condition.UNCONDITIONAL,
            grid[i].response,
        ),
    )
    out.append(("all in", Profile((biggest,) * n_members, russia)))
    if doctrine is not None:
        out.append(("doctrines", doctrine))
    rng = np.random.default_rng(seed)
    for k in range(random_starts):
        members = tuple(int(i) for i in rng.integers(0, len(grid), n_members))
        out.append((f"random {k + 1}", Profile(members, int(rng.integers(len(game.russia_grid))))))
    return out


def doctrine_profile(game: Game, member_ids: Sequence[str], leaders: Sequence[str]) -> Profile:
    """The demo's doctrines on the grid: ``leaders`` pledge 20% ground unconditionally and
    reinforce; the others pledge ground that waits for a US backstop (the nearest level of the
    grid to 10%); Russia is the first opportunist of its grid. A grid without such strategies
    gives the nearest it has."""
    grid = game.member_grid

    def nearest(level: int, condition: Condition) -> int:
        ground = [i for i, s in enumerate(grid) if s.level > 0 and s.kind == Contribution.GROUND]
        options = [i for i in ground if grid[i].condition == condition] or ground or [0]
        return min(options, key=lambda i: (abs(grid[i].level - level), -grid[i].response))

    lead = nearest(4, Condition.UNCONDITIONAL)
    wait = nearest(3, Condition.IF_US_BACKSTOP)
    russia = next(
        (k for k, (agent, _) in enumerate(game.russia_grid) if agent == "russia/opportunist"), 0
    )
    return Profile(tuple(lead if m in leaders else wait for m in member_ids), russia)


def find_equilibria(
    game: Game,
    *,
    search_seeds: np.ndarray,
    eval_seeds: np.ndarray,
    random_starts: int = 1,
    rounds: int = 8,
    tol: float = 1e-6,
    start_seed: int = 0,
    resamples: int = 1000,
    on_player: Callable[[], None] | None = None,
) -> tuple[list[Search], list[Equilibrium]]:
    """Every start's search, then each distinct profile reached, measured (module docs)."""
    scenario = game.load()
    member_ids = [m.id for m in scenario.members]
    leaders = [m.id for m in scenario.members if m.leadership >= 0.8]
    doctrine = doctrine_profile(game, member_ids, leaders)
    searches = [
        best_response_dynamics(
            game, start, search_seeds, rounds=rounds, tol=tol, label=label, on_player=on_player
        )
        for label, start in _starts(game, len(member_ids), doctrine, random_starts, start_seed)
    ]
    reached: dict[Profile, list[Search]] = {}
    for search in searches:
        reached.setdefault(search.profile, []).append(search)
    equilibria = []
    for profile, found in reached.items():
        measured = evaluate_profile(
            game, profile, eval_seeds, member_ids=member_ids, resamples=resamples
        )
        status = "converged" if all(s.status == "converged" for s in found) else found[0].status
        equilibria.append(
            Equilibrium(
                game=game,
                profile=profile,
                starts=[s.start for s in found],
                status=status,
                figures=measured.figures,
                epsilon=measured.epsilon,
                epsilon_player=measured.epsilon_player,
                n_seeds=len(eval_seeds),
                outcome=measured.outcome,
            )
        )
    return searches, equilibria


# ----------------------------------------------------------------------------- output

CSV_FIRST = (
    "scenario",
    "commitment",
    "start",
    "status",
    "profile",
    "russia",
    "contributors",
    "troops_deployed",
    "threshold_met",
    "epsilon",
    "epsilon_low",
    "epsilon_high",
    "epsilon_player",
    "n_seeds",
)
"""The first columns of ``equilibria.csv``; every summary figure follows as ``FIG``,
``FIG_low`` and ``FIG_high`` (bootstrap 95% CI over the evaluation seeds)."""


def equilibrium_rows(
    equilibria: Sequence[Equilibrium], member_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per profile reached, columns :data:`CSV_FIRST` then every summary figure."""
    rows = []
    for eq in equilibria:
        labels = eq.member_labels(member_ids)
        row: dict[str, Any] = {
            "scenario": eq.game.scenario,
            "commitment": eq.game.commitment,
            "start": "; ".join(eq.starts),
            "status": eq.status,
            "profile": " ".join(f"{m}={label}" for m, label in labels.items()),
            "russia": eq.russia_label,
            "epsilon": eq.epsilon[0],
            "epsilon_low": eq.epsilon[1],
            "epsilon_high": eq.epsilon[2],
            "epsilon_player": eq.epsilon_player,
            "n_seeds": eq.n_seeds,
        }
        for name, (mean, low, high) in eq.figures.items():
            row[name] = mean
            row[f"{name}_low"] = low
            row[f"{name}_high"] = high
        rows.append({k: row[k] for k in CSV_FIRST} | row)
    return rows


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def _cell(value: float, low: float, high: float, digits: int = 2) -> str:
    if math.isnan(value):
        return "n/a"
    fmt = (lambda v: f"{v:,.0f}") if abs(value) >= 100 else (lambda v: f"{v:.{digits}f}")
    return f"{fmt(value)} ({fmt(low)}..{fmt(high)})"


def markdown(rows: Sequence[Mapping[str, Any]], command: str, wall_s: float, machine: str) -> str:
    """``equilibria.md``: one section per setting, one table row per profile reached."""
    lines = [
        "# Equilibria of the members' game (and Russia's answer)",
        "",
        f"Command: `{command}`; {wall_s:.0f} s on {machine}.",
        "",
        "Epsilon: the largest gain any player gets from its best unilateral deviation on the "
        "grid, measured on evaluation seeds the search did not use (bootstrap 95% CI). Figures: "
        "mean over evaluation seeds (bootstrap 95% CI).",
        "",
    ]
    key = ("contributors", "contributors_ground", "troops_deployed", "threshold_met",
           "ceasefire_held", "violations")  # fmt: skip
    for (scenario, commitment), group in itertools.groupby(
        rows, key=lambda r: (r["scenario"], r["commitment"])
    ):
        lines += [f"## {scenario}, commitment {commitment}", ""]
        lines.append("| starts | status | epsilon | " + " | ".join(key) + " | Russia | members |")
        lines.append("|" + "---|" * (len(key) + 5))
        for r in group:
            cells = [_cell(r[k], r[f"{k}_low"], r[f"{k}_high"]) for k in key]
            eps = _cell(r["epsilon"], r["epsilon_low"], r["epsilon_high"], 3)
            lines.append(
                f"| {r['start']} | {r['status']} | {eps} ({r['epsilon_player']}) | "
                + " | ".join(cells)
                + f" | `{r['russia']}` | {r['profile']} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- command


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--commitment {text!r}: give numbers separated by commas") from None
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if not values or bad:
        raise ValueError(f"--commitment {text!r}: every value must lie in [0, 1]")
    return values


def _cmd_equilibrium(args: argparse.Namespace) -> int:
    import platform

    from tqdm import tqdm

    if args.seeds is not None and args.seeds < 2:
        raise ValueError(f"--seeds {args.seeds}: need at least 2")
    grid = QUICK_MEMBER_GRID if args.quick else MEMBER_GRID
    seeds = args.seeds or (8 if args.quick else 24)
    commitments = _floats(args.commitment)
    scenario = load_scenario(args.scenario)
    member_ids = [m.id for m in scenario.members]
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    search_seeds = np.arange(seeds, dtype=np.int64)
    eval_seeds = np.arange(10_000, 10_000 + seeds, dtype=np.int64)
    random_starts = 0 if args.quick else 1
    starts = 3 + random_starts
    per_search = (len(member_ids) + 1) * 2  # players x about two rounds, for the bar
    bar = tqdm(
        total=len(commitments) * starts * per_search, desc="equilibria", unit="best response"
    )
    started = time.perf_counter()
    rows = []
    for commitment in commitments:
        game = Game(scenario=args.scenario, commitment=commitment, member_grid=grid)
        _, equilibria = find_equilibria(
            game,
            search_seeds=search_seeds,
            eval_seeds=eval_seeds,
            random_starts=random_starts,
            rounds=args.rounds,
            on_player=lambda: bar.update(1),
        )
        rows += equilibrium_rows(equilibria, member_ids)
        write_csv(out / "equilibria.csv", rows)
    bar.close()
    wall = time.perf_counter() - started
    machine = f"{platform.machine()}, {platform.python_version()}"
    command = "reassurance " + " ".join(sys.argv[1:])
    (out / "equilibria.md").write_text(markdown(rows, command, wall, machine))
    print(f"wrote {out / 'equilibria.csv'} and equilibria.md ({len(rows)} profiles, {wall:.0f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``equilibrium`` to the ``reassurance`` parser."""
    parser = sub.add_parser(
        "equilibrium",
        help="approximate equilibria of the members' game and Russia's answer",
        description="Iterated best response of the members (a grid of strategies each) and "
        "Russia (its doctrines) per US commitment, with epsilon and cohesion figures.",
    )
    parser.add_argument("--scenario", default="classroom", help="scenario id or YAML path")
    parser.add_argument(
        "--commitment",
        default="0,0.25,0.5,0.75,1",
        help="US commitment values (usa.commitment), comma-separated (default 0,0.25,0.5,0.75,1)",
    )
    parser.add_argument("--seeds", type=int, help="seeds per evaluation (default 24; quick 8)")
    parser.add_argument("--rounds", type=int, default=8, help="best-response rounds at most")
    parser.add_argument("--out", default="results/equilibrium", help="output folder")
    parser.add_argument(
        "--quick", action="store_true", help="a coarse grid (13 member strategies), fewer seeds"
    )
    parser.set_defaults(func=_cmd_equilibrium)
