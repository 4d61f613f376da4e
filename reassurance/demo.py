"""A scripted demonstration game, printed turn by turn.

The script is a plain story, not a doctrine library: Russia offers a ceasefire that admits
foreign troops once the war has gone on a while; Ukraine accepts if a force is pledged; the UK
and France pledge early and unconditionally; the other members pledge conditionally on a US
backstop; the US (whatever its private type) moves to a conditional backstop and puts enablers
in place; every member deploys as soon as its pledge may deploy; Russia then probes the force.
It reads observations by piece name and uses only legal actions.

Run: ``reassurance demo --scenario classroom --seed 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reassurance.envs import coalition_v0
from reassurance.envs.actions import (
    Commit,
    Condition,
    Contribution,
    Demand,
    PledgeChange,
    Role,
    RussiaCeasefire,
    Signal,
    TestAction,
    UkraineCeasefire,
    component_index,
)

_LEADERS = {"uk", "france"}


def _legal(mask: tuple[np.ndarray, ...], role: Role, name: str, value: int) -> bool:
    return bool(mask[component_index(role, name)][value])


def scripted_action(env: Any, agent: str, obs: dict[str, Any]) -> np.ndarray:
    """The demo script's action for one agent (always legal)."""
    role = env.role(agent)
    view = env.view(agent, obs)
    mask = obs["action_mask"]
    action = np.zeros(len(mask), np.int64)

    def choose(name: str, value: int) -> None:
        if _legal(mask, role, name, value):
            action[component_index(role, name)] = int(value)

    time = view.scalar("time")
    if role is Role.MEMBER:
        if view["self_pledge"][0] == 1.0:  # nothing pledged yet
            leader = agent in _LEADERS
            choose("pledge", PledgeChange.PCT20 if leader else PledgeChange.PCT10)
            kind = (
                Contribution.GROUND if view.scalar("self_home_threat") < 0.5 else Contribution.ISR
            )
            choose("contribution", kind)
            choose("condition", Condition.UNCONDITIONAL if leader else Condition.IF_US_BACKSTOP)
        choose("commit", Commit.DEPLOY)
        choose("response", 3)  # reinforce when the force is tested
        choose("aid", 1)
    elif role is Role.USA:
        choose("signal", Signal.CONDITIONAL if time > 0.1 else Signal.VERBAL)
        choose("enablers", 2 if time > 0.2 else 0)
        choose("response", 3)  # ISR and air cover
    elif role is Role.UKRAINE:
        choose("defence", 2)
        choose("fortify", 1)
        choose("demand", Demand.FORCE)
        choose("ceasefire", UkraineCeasefire.ACCEPT)
    else:
        choose("offensive", 2)
        if time > 0.15:
            choose("ceasefire", RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED)
        choose("test", TestAction.PROBE if time > 0.6 else TestAction.COMPLY)
        choose("threat", 1)
    return action


def run_demo(
    scenario: str = "brussels-2025-04", seed: int = 0, quiet: bool = False
) -> dict[str, Any]:
    """Play the scripted game, print each turn report (unless quiet), return the summary."""
    env = coalition_v0.parallel_env(scenario=scenario, render_mode=None if quiet else "human")
    obs, _ = env.reset(seed=seed)
    infos: dict[str, Any] = {}
    while env.agents:
        actions = {agent: scripted_action(env, agent, obs[agent]) for agent in env.agents}
        obs, _, _, _, infos = env.step(actions)
    return next(iter(infos.values()))["episode_summary"]
