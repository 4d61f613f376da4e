"""Wrong inputs get clear errors; masked in-space actions are no-ops."""

from __future__ import annotations

import numpy as np
import pytest

from reassurance.envs import coalition_v0
from reassurance.envs.actions import TestAction
from tests.helpers import make_env, noop_actions, with_choice


@pytest.mark.parametrize(
    "bad",
    [np.array([0, 0, 0, 9, 0]), np.array([0, 0, 0]), np.array([0.5, 0, 0, 0, 0]), -1, "attack"],
)
def test_action_outside_space_names_agent_action_and_space(bad) -> None:
    env = make_env()
    actions = noop_actions(env)
    actions["russia"] = bad
    with pytest.raises(ValueError) as err:
        env.step(actions)
    message = str(err.value)
    assert "'russia'" in message
    assert "MultiDiscrete" in message
    assert repr(bad) in message


def test_unknown_agent_is_rejected() -> None:
    env = make_env()
    with pytest.raises(ValueError, match="belgium"):
        env.step({"belgium": np.zeros(6, np.int64)})


def test_masked_in_space_action_is_a_noop() -> None:
    masked = make_env(seed=3)
    comply = make_env(seed=3)
    actions = noop_actions(masked)
    # In war a test of the ceasefire is masked; it must act as 'comply'.
    obs_masked, r_masked, *_ = masked.step(
        with_choice(actions, masked, "russia", test=TestAction.MAJOR_OFFENSIVE)
    )
    obs_comply, r_comply, *_ = comply.step(actions)
    assert r_masked == r_comply
    for agent in obs_comply:
        np.testing.assert_array_equal(
            obs_masked[agent]["observations"], obs_comply[agent]["observations"]
        )


def test_bad_render_mode_and_max_cycles() -> None:
    with pytest.raises(ValueError, match="'rgb_array'"):
        coalition_v0.parallel_env(scenario="classroom", render_mode="rgb_array")
    with pytest.raises(ValueError, match="max_cycles"):
        coalition_v0.parallel_env(scenario="classroom", max_cycles=0)


def test_step_before_reset_is_an_error() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_unknown_agent_role() -> None:
    env = make_env()
    with pytest.raises(ValueError, match="unknown agent 'nato'"):
        env.action_space("nato")
