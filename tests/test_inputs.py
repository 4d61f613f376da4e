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


def test_step_takes_a_mapping_with_every_live_agent() -> None:
    env = make_env()
    with pytest.raises(ValueError, match="mapping from agent id to action, got list"):
        env.step([np.zeros(4, np.int64)])
    with pytest.raises(ValueError, match=r"no action for live agents \['usa', 'uk'"):
        env.step({})
    actions = noop_actions(env)
    del actions["france"]
    with pytest.raises(ValueError, match=r"no action for live agents \['france'\]"):
        env.step(actions)


@pytest.mark.parametrize("seed", [True, -1, 2.5, "7"])
def test_reset_refuses_a_seed_that_is_not_a_non_negative_integer(seed) -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    with pytest.raises(ValueError, match=f"seed must be an integer >= 0 or None, got {seed!r}"):
        env.reset(seed=seed)


def test_view_refuses_a_vector_of_the_wrong_size() -> None:
    env = make_env()
    with pytest.raises(ValueError, match=r"has 86 values, got an array of shape \(3,\)"):
        env.view("uk", np.zeros(3))


@pytest.mark.parametrize("value", [float("nan"), -1.0, 2.5])
def test_doctrine_parameters_outside_their_range_are_refused(value) -> None:
    from reassurance import agents

    with pytest.raises(ValueError, match=r"europe_share=.* must lie in \[0, 2\]"):
        agents.make("usa/transactional", europe_share=value)
