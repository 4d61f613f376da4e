"""Play games with a policy in every seat: one at a time, or many at once on the batched core.

>>> from reassurance.agents import play_match, play_matches
>>> result = play_match("classroom", {"usa": "usa/words-only"}, seed=0)
>>> result.summary["outcome"]  # doctest: +SKIP
>>> results = play_matches("classroom", {"usa": "usa/words-only"}, seeds=range(500))

:func:`play_match` plays one game on the PettingZoo env (``reassurance play`` and reports that
render each turn use it); :func:`play_matches` plays many games, with different lineups and
seeds, on :class:`~reassurance.envs.CoalitionVectorEnv`, each policy acting once per step on all
the rows it plays. Game by game they give the same results (returns, summary, steps), bit for bit.

A *lineup* maps seats to policies. A key is an env agent id (``"france"``) or a role
(``"member"``, ``"usa"``, ``"ukraine"``, ``"russia"``); a value is a registered agent id
(``"member/leader"``) or a :class:`~reassurance.agents.Policy` (copied for each further seat it
fills). Agent ids win over roles; seats that neither names get :data:`DEFAULT_BOTS`.

Randomness: the env is reset with ``seed`` and each seat's policy draws from its own generator,
``numpy.random.default_rng([seed, seat_index])`` (``seat_index`` in the env's agent order: the
US, the members, Ukraine, Russia), so a seat's draws do not depend on which policies sit
elsewhere, nor on which other games share a batch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.agents.policy import Policy, Seat
from reassurance.agents.registry import make, role_of
from reassurance.envs import CoalitionVectorEnv, Scenario, coalition_v0
from reassurance.envs.actions import Role, agent_role
from reassurance.envs.metrics import SUMMARY

__all__ = ["DEFAULT_BOTS", "MatchResult", "play_match", "play_matches", "seat_policies"]

DEFAULT_BOTS: dict[str, str] = {
    "member": "member/conditional-on-us",
    "usa": "usa/by-type",
    "ukraine": "ukraine/accepts-with-guarantees",
    "russia": "russia/opportunist",
}
"""The bots that fill seats a lineup leaves open: plausible, not extreme, doctrines."""

Lineup = Mapping[str, "str | Policy"]


@dataclass
class MatchResult:
    """What a finished game produced.

    ``returns`` are each agent's summed rewards (reward units of GAME.md); ``summary`` is the env's
    ``episode_summary``; ``policies`` maps each agent to the id of the policy that played it.
    """

    seed: int
    returns: dict[str, float]
    summary: dict[str, Any]
    policies: dict[str, str]
    steps: int
    actions: list[dict[str, list[int]]] = field(default_factory=list)


def _choices(agents: Sequence[str], lineup: Lineup | None) -> dict[str, str | Policy]:
    """What ``lineup`` seats in each of ``agents``: agent key, else role key, else the bot."""
    lineup = dict(lineup or {})
    known = set(agents) | set(DEFAULT_BOTS)
    unknown = sorted(set(lineup) - known)
    if unknown:
        raise ValueError(
            f"lineup names unknown seats {unknown}; seats are the roles {sorted(DEFAULT_BOTS)} "
            f"or the agents {list(agents)}"
        )
    out: dict[str, str | Policy] = {}
    for agent in agents:
        role = role_of(agent)
        chosen = lineup.get(agent, lineup.get(role, DEFAULT_BOTS[role]))
        if not isinstance(chosen, str | Policy):
            raise TypeError(
                f"lineup seat {agent!r}: expected a registered agent id or a Policy, got "
                f"{type(chosen).__name__} {chosen!r}"
            )
        out[agent] = chosen
    return out


def seat_policies(env: Any, lineup: Lineup | None = None) -> dict[str, Policy]:
    """A bound, reset policy for every agent of ``env`` from ``lineup`` (see module docs)."""
    policies: dict[str, Policy] = {}
    for agent, chosen in _choices(env.possible_agents, lineup).items():
        if isinstance(chosen, Policy):
            # One Policy object for several seats (a role key): each seat gets its own copy.
            used = any(p is chosen for p in policies.values())
            policy = copy.deepcopy(chosen) if used else chosen
        else:
            policy = make(chosen)
        policy.bind(Seat.of(env, agent))
        policy.reset()
        policies[agent] = policy
    return policies


def play_match(
    scenario: str = "classroom",
    lineup: Lineup | None = None,
    seed: int = 0,
    *,
    overrides: Mapping[str, Any] | None = None,
    render_mode: str | None = None,
    record_actions: bool = False,
    on_step: Callable[[Any, dict[str, np.ndarray], dict[str, dict[str, Any]]], None] | None = None,
) -> MatchResult:
    """Play ``scenario`` to the end with ``lineup`` and return a :class:`MatchResult`.

    ``on_step(env, actions, infos)`` is called after each step (for reports: ``infos`` are the
    step's per-agent infos, with phase, escalation score and rung); ``record_actions`` keeps
    every joint action in ``MatchResult.actions``.
    """
    env = coalition_v0.parallel_env(scenario=scenario, overrides=overrides, render_mode=render_mode)
    policies = seat_policies(env, lineup)
    rngs = {
        agent: np.random.default_rng([seed, index])
        for index, agent in enumerate(env.possible_agents)
    }
    obs, _ = env.reset(seed=seed)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    infos: dict[str, Any] = {}
    recorded: list[dict[str, list[int]]] = []
    steps = 0
    while env.agents:
        actions = {agent: policies[agent].act(obs[agent], rngs[agent]) for agent in env.agents}
        if record_actions:
            recorded.append({a: [int(v) for v in act] for a, act in actions.items()})
        obs, rewards, _, _, infos = env.step(actions)
        steps += 1
        for agent, reward in rewards.items():
            returns[agent] += float(reward)
        if on_step is not None:
            on_step(env, actions, infos)
    summary = next(iter(infos.values()))["episode_summary"]
    env.close()
    return MatchResult(
        seed=seed,
        returns=returns,
        summary=summary,
        policies={agent: policy.id for agent, policy in policies.items()},
        steps=steps,
        actions=recorded,
    )


DEFAULT_BATCH = 1024
"""Games :func:`play_matches` steps at once by default: past a few hundred games the batched
core's cost per game-step hardly falls, while memory grows with the batch."""


class _SeatGenerators(Sequence[np.random.Generator]):
    """The generators of some (game, seat) rows, each ``default_rng([seed, seat_index])``, made
    the first time a policy asks for it and kept for the rest of the game.

    Doctrines draw nothing, and making a generator costs as much as a few game-steps of a
    batch, so generators that are never asked for are never made.
    """

    def __init__(self, keys: Sequence[tuple[int, int]], made: list[np.random.Generator | None]):
        self._keys = keys  # (seed, seat index) of each row
        self._made = made  # shared with the group: one generator per row, made on demand

    def subset(self, rows: np.ndarray) -> _SeatGenerators:
        return _SeatGenerators(_Rows(self._keys, rows), _Rows(self._made, rows))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        generator = self._made[index]
        if generator is None:
            generator = self._made[index] = np.random.default_rng(list(self._keys[index]))
        return generator


class _Rows:
    """``items`` seen through the row indices ``rows`` (reads and writes go to ``items``)."""

    def __init__(self, items: Any, rows: np.ndarray) -> None:
        self._items, self._rows = items, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> Any:
        return self._items[int(self._rows[index])]

    def __setitem__(self, index: int, value: Any) -> None:
        self._items[int(self._rows[index])] = value


@dataclass
class _Group:
    """The rows one policy object plays in a batch: ``games`` and, for members, ``members``
    (member index), with each row's (seed, seat index) for its generator."""

    policy: Policy
    role: Role
    games: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.games, np.int64), np.asarray(self.members, np.int64)

    def generators(self) -> _SeatGenerators:
        return _SeatGenerators(self.keys, [None] * len(self.keys))


def play_matches(
    scenario: str | Path | Scenario = "classroom",
    lineups: Lineup | Sequence[Lineup] | None = None,
    seeds: Iterable[int] = (0,),
    *,
    overrides: Mapping[str, Any] | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> list[MatchResult]:
    """Play one game per seed on the batched core; return their results in ``seeds`` order.

    Game ``i`` is what ``play_match(scenario, lineups[i], seeds[i], overrides=overrides)``
    gives (returns, summary, steps and policy ids, bit for bit): the env resets game ``i`` with
    its seed, and its seat ``j`` draws from ``default_rng([seed, j])``.

    Args:
        scenario: scenario id, YAML path or :class:`~reassurance.envs.Scenario`.
        lineups: one lineup (see the module docs) for every game, or one per seed. A registered
            id gives one policy object per batch, acting for every seat and game it fills; a
            :class:`~reassurance.agents.Policy` object acts for every seat and game it is
            given, so it must keep no state between steps (one that overrides
            :meth:`Policy.reset` is refused: play it with :func:`play_match`).
        seeds: one env seed (integer >= 0) per game; a seed may repeat (with another lineup).
        overrides: scenario overrides (dotted keys allowed), as for the env.
        batch_size: games stepped at once; more games are played in successive batches.

    Each policy's :meth:`~reassurance.agents.Policy.act_batch` is called once per step for all
    the (game, seat) rows it plays, with one generator per row. Games that end early get no-op
    actions (their seats act no more) until the last game of the batch ends.
    """
    seeds = [_seed(s) for s in seeds]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int (games at once), got {batch_size!r}")
    if lineups is None or isinstance(lineups, Mapping):
        per_game: list[Lineup | None] = [lineups] * len(seeds)
    else:
        per_game = list(lineups)
        if len(per_game) != len(seeds):
            raise ValueError(
                f"got {len(per_game)} lineups for {len(seeds)} seeds; give one lineup, or one "
                "per seed"
            )
    if not seeds:
        return []
    env = CoalitionVectorEnv(scenario, min(batch_size, len(seeds)), overrides=overrides)
    results: list[MatchResult] = []
    for start in range(0, len(seeds), batch_size):
        chunk = slice(start, start + batch_size)
        if len(seeds[chunk]) != env.num_games:  # the last, shorter batch
            env = CoalitionVectorEnv(env.scenario, len(seeds[chunk]))
        results += _play_batch(env, per_game[chunk], seeds[chunk])
    return results


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"seeds must be integers >= 0, got {value!r}")
    return int(value)


def _groups(
    env: CoalitionVectorEnv, lineups: Sequence[Lineup | None], seeds: Sequence[int]
) -> tuple[list[_Group], list[dict[str, str]]]:
    """One group per policy object, with its rows; and each game's agent -> policy id."""
    agents = list(env.possible_agents)
    member_index = {agent: m for m, agent in enumerate(env.member_ids)}
    made: dict[str, Policy] = {}  # registered id -> the batch's one policy object
    groups: dict[int, _Group] = {}  # id(policy object) -> its group
    ids: list[dict[str, str]] = []
    for game, (lineup, seed) in enumerate(zip(lineups, seeds, strict=True)):
        played: dict[str, str] = {}
        for seat_index, (agent, chosen) in enumerate(_choices(agents, lineup).items()):
            role = agent_role(agent)
            if isinstance(chosen, str):
                if chosen not in made:
                    made[chosen] = make(chosen)
                policy = made[chosen]
            else:
                policy = chosen
            group = groups.get(id(policy))
            if group is None:
                _check_stateless(policy)
                policy.bind(Seat(agent=agent, role=role, layout=env.layouts[role]))
                policy.reset()
                group = groups[id(policy)] = _Group(policy, role)
            elif group.role is not role:
                raise ValueError(
                    f"policy {policy.id!r} is given for seats of two roles "
                    f"({group.role.id} and {role.id}); one object plays one role"
                )
            group.games.append(game)
            group.members.append(member_index.get(agent, 0))
            group.keys.append((seed, seat_index))
            played[agent] = policy.id
        ids.append(played)
    return list(groups.values()), ids


def _check_stateless(policy: Policy) -> None:
    if type(policy).reset is not Policy.reset:
        raise ValueError(
            f"policy {policy.id!r} keeps state between steps (it overrides reset), so one object "
            "cannot act for many seats and games at once; play it with play_match"
        )


def _play_batch(
    env: CoalitionVectorEnv, lineups: Sequence[Lineup | None], seeds: Sequence[int]
) -> list[MatchResult]:
    """Play ``len(seeds)`` games (``env.num_games``) to the end of their first episode."""
    groups, ids = _groups(env, lineups, seeds)
    rows = [group.arrays() for group in groups]
    B, M = env.num_games, env.n_members
    sizes = {role: len(env.nvec[role]) for role in Role}
    live = np.ones(B, bool)
    steps = np.zeros(B, np.int64)
    results: list[MatchResult | None] = [None] * B
    step = env.reset(seed=list(seeds))
    generators = [group.generators() for group in groups]
    # Each group's live rows and their generators, recomputed only when a game ends.
    active = [(*r, g) for r, g in zip(rows, generators, strict=True)]
    while live.any():
        actions = {
            role: np.zeros((B, M, sizes[role]) if role is Role.MEMBER else (B, sizes[role]), int)
            for role in Role
        }
        for group, (games, members, rngs) in zip(groups, active, strict=True):
            if games.size == 0:
                continue
            if group.role is Role.MEMBER:
                obs = step.obs[Role.MEMBER][games, members]
                masks = step.masks[Role.MEMBER][games, members]
                actions[Role.MEMBER][games, members] = group.policy.act_batch(obs, masks, rngs)
            else:
                obs, masks = step.obs[group.role][games], step.masks[group.role][games]
                actions[group.role][games] = group.policy.act_batch(obs, masks, rngs)
        step = env.step(actions)
        steps[live] += 1
        finished = [(i, int(b)) for i, b in enumerate(step.ended) if live[b]]
        for i, game in finished:
            results[game] = _result(env, step, i, seeds[game], ids[game], int(steps[game]))
            live[game] = False
        if finished:
            active = []
            for (games, members), rngs in zip(rows, generators, strict=True):
                keep = np.flatnonzero(live[games])
                active.append((games[keep], members[keep], rngs.subset(keep)))
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _result(
    env: CoalitionVectorEnv, step: Any, row: int, seed: int, ids: dict[str, str], steps: int
) -> MatchResult:
    """The :class:`MatchResult` of the ``row``-th game in ``step.ended``."""
    returns: dict[str, float] = {}
    for agent in env.possible_agents:
        role = agent_role(agent)
        value = step.returns[role][row]
        if role is Role.MEMBER:
            value = value[env.member_ids.index(agent)]
        returns[agent] = float(value)
    summary = {f.name: f.kind(step.summaries[f.name][row]) for f in SUMMARY}
    return MatchResult(seed=seed, returns=returns, summary=summary, policies=ids, steps=steps)
