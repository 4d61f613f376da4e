"""Play one game with a policy in every seat: the runner shared by play, tournaments and tests.

>>> from reassurance.agents import play_match
>>> result = play_match("classroom", {"usa": "usa/words-only"}, seed=0)
>>> result.summary["outcome"]  # doctest: +SKIP

A *lineup* maps seats to policies. A key is an env agent id (``"france"``) or a role
(``"member"``, ``"usa"``, ``"ukraine"``, ``"russia"``); a value is a registered agent id
(``"member/leader"``) or a :class:`~reassurance.agents.Policy` (copied for each further seat it
fills). Agent ids win over roles; seats that neither names get :data:`DEFAULT_BOTS`.

Randomness: the env is reset with ``seed`` and each seat's policy draws from its own generator,
``numpy.random.default_rng([seed, seat_index])``, so a seat's draws do not depend on which
policies sit elsewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reassurance.agents.policy import Policy, Seat
from reassurance.agents.registry import make, role_of
from reassurance.envs import coalition_v0

__all__ = ["DEFAULT_BOTS", "MatchResult", "play_match", "seat_policies"]

DEFAULT_BOTS: dict[str, str] = {
    "member": "member/conditional-on-us",
    "usa": "usa/conditional-backstop",
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


def seat_policies(env: Any, lineup: Lineup | None = None) -> dict[str, Policy]:
    """A bound, reset policy for every agent of ``env`` from ``lineup`` (see module docs)."""
    lineup = dict(lineup or {})
    known = set(env.possible_agents) | set(DEFAULT_BOTS)
    unknown = sorted(set(lineup) - known)
    if unknown:
        raise ValueError(
            f"lineup names unknown seats {unknown}; seats are the roles {sorted(DEFAULT_BOTS)} "
            f"or the agents {list(env.possible_agents)}"
        )
    policies: dict[str, Policy] = {}
    for agent in env.possible_agents:
        role = role_of(agent)
        chosen = lineup.get(agent, lineup.get(role, DEFAULT_BOTS[role]))
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
