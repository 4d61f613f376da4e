"""Conformance: PettingZoo's own checkers on every scenario."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)

import reassurance.envs  # noqa: F401  (registers the env)
from reassurance.envs import coalition_v0


def test_parallel_api(scenario: str) -> None:
    parallel_api_test(coalition_v0.parallel_env(scenario=scenario), num_cycles=200)


def test_aec_api(scenario: str) -> None:
    with warnings.catch_warnings():
        # A tuple of per-component masks is not one NumPy array; PettingZoo warns and moves on.
        warnings.filterwarnings("ignore", message="Action mask is not a NumPy array")
        api_test(coalition_v0.env(scenario=scenario), num_cycles=200)


def test_max_cycles(scenario: str) -> None:
    module = types.SimpleNamespace(
        parallel_env=lambda **kw: coalition_v0.parallel_env(scenario=scenario, **kw),
        env=lambda **kw: coalition_v0.env(scenario=scenario, **kw),
    )
    max_cycles_test(module)


def test_render(scenario: str) -> None:
    render_test(
        lambda render_mode=None: coalition_v0.env(scenario=scenario, render_mode=render_mode)
    )


def test_seed(scenario: str) -> None:
    seed_test(lambda: coalition_v0.env(scenario=scenario), num_cycles=50)
    parallel_seed_test(lambda: coalition_v0.parallel_env(scenario=scenario), num_cycles=50)


def test_registry_make() -> None:
    env = pettingzoo.make("parallel", "reassurance/coalition-v0", scenario="classroom")
    assert isinstance(env, coalition_v0.raw_env)
    assert "uk" in env.possible_agents
    aec = pettingzoo.make("aec", "reassurance/coalition-v0", scenario="classroom")
    aec.reset(seed=1)
    assert aec.agent_selection == "usa"


def test_spaces_are_cached_and_masks_sample() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=3)
    for agent in env.agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        mask = obs[agent]["action_mask"]
        assert isinstance(mask, tuple)
        assert [len(m) for m in mask] == env.action_space(agent).nvec.tolist()
        assert all(m.dtype == np.int8 for m in mask)
        action = env.action_space(agent).sample(mask=mask)
        assert env.action_space(agent).contains(action)
        assert env.observation_space(agent).contains(obs[agent])


def test_state_has_fixed_shape() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    env.reset(seed=0)
    state = env.state()
    assert state.shape == env.state_space.shape
    assert env.state_space.contains(state.astype(np.float32))


@pytest.mark.parametrize("agent", ["usa", "uk", "ukraine", "russia"])
def test_named_view_reads_pieces(agent: str) -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=0)
    view = env.view(agent, obs[agent])
    assert view.scalar("front") == pytest.approx(env.scenario.dynamics.initial_front)
    assert view["phase"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert sum(len(view[name]) for name in view) == obs[agent]["observations"].shape[0]
    with pytest.raises(KeyError, match="frontt"):
        view["frontt"]
