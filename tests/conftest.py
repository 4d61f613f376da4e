from __future__ import annotations

import numpy as np
import pytest

from reassurance.envs import coalition_v0, list_scenarios

SCENARIOS = list_scenarios()


@pytest.fixture(params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> str:
    return request.param


def random_actions(env, obs, rng: np.random.Generator) -> dict:
    """Mask-respecting random actions, drawn from ``rng``."""
    actions = {}
    for agent in env.agents:
        masks = obs[agent]["action_mask"]
        actions[agent] = np.array([rng.choice(np.flatnonzero(m)) for m in masks], dtype=np.int64)
    return actions


def play(scenario: str, seed: int, max_steps: int | None = None, **kwargs):
    """Play one random episode; return per-step (actions, observations, rewards, infos)."""
    env = coalition_v0.parallel_env(scenario=scenario, **kwargs)
    obs, infos = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = []
    steps = 0
    while env.agents and (max_steps is None or steps < max_steps):
        actions = random_actions(env, obs, rng)
        obs, rewards, terms, truncs, infos = env.step(actions)
        trace.append((actions, obs, rewards, infos))
        steps += 1
    return env, trace
