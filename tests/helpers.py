"""Hand-set states and scripted actions for mechanics tests."""

from __future__ import annotations

import numpy as np

from reassurance.envs import coalition_v0
from reassurance.envs.actions import component_index


def noop_actions(env) -> dict[str, np.ndarray]:
    return {a: np.zeros(len(env.action_space(a).nvec), np.int64) for a in env.agents}


def with_choice(actions: dict, env, agent: str, **components: int) -> dict:
    role = env.role(agent)
    action = actions[agent].copy()
    for name, value in components.items():
        action[component_index(role, name)] = int(value)
    out = dict(actions)
    out[agent] = action
    return out


def make_env(scenario: str = "classroom", seed: int = 0, **kwargs):
    env = coalition_v0.parallel_env(scenario=scenario, **kwargs)
    env.reset(seed=seed)
    return env


def set_state(env, **fields) -> None:
    """Replace fields of the env's single game; member arrays take [M] lists."""
    s = env.game_state
    changes = {}
    for name, value in fields.items():
        current = getattr(s, name)
        changes[name] = np.asarray(value, dtype=current.dtype).reshape(current.shape)
    env.set_game_state(s.replace(**changes))
