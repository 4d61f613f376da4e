"""Mechanics pinned on hand-set states (GAME.md; issue 'must show' a-e)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reassurance.envs.actions import (
    Commit,
    Condition,
    Contribution,
    MemberResponse,
    Phase,
    Signal,
    TestAction,
    UsResponse,
)
from reassurance.envs.figures import derived
from reassurance.envs.metrics import episode_summary, free_riding_index, rank_correlation
from tests.conftest import SCENARIOS, random_actions
from tests.helpers import make_env, noop_actions, set_state, with_choice

PCT20 = 4  # pledge level index of 20 % of capacity


def _test_phase_env(seed: int, deployed: bool):
    """Classroom in the test phase; UK and France's ground pledges make exactly F = F*."""
    env = make_env("classroom", seed, overrides={"force.threshold_troops": 17150})
    p = env.params
    level = [PCT20, PCT20, 0] if deployed else [0, 0, 0]
    pledged = p.pledge_shares[np.array(level)] * p.capacity_k
    set_state(
        env,
        phase=Phase.TEST,
        deadline=0,
        pledge_level=level,
        pledge_type=[Contribution.GROUND] * 3,
        deployed_k=pledged,
        ua_defence=3,
        us_enablers=3,
    )
    return env


def _violate(env) -> dict:
    actions = noop_actions(env)
    actions = with_choice(actions, env, "russia", test=TestAction.LIMITED_VIOLATION)
    actions = with_choice(actions, env, "usa", enablers=3, response=UsResponse.STRIKES)
    actions = with_choice(actions, env, "ukraine", defence=3)
    for member in ("uk", "france"):
        actions = with_choice(actions, env, member, response=MemberResponse.ENGAGE)
    return actions


@pytest.mark.parametrize("seed", range(20))
def test_limited_violation_fails_against_threshold_force_with_us_response(seed: int) -> None:
    env = _test_phase_env(seed, deployed=True)
    assert derived(env.params, env.game_state).force[0] == pytest.approx(17150)
    front = env.game_state.front[0]
    env.step(_violate(env))
    s = env.game_state
    assert s.violation_detected[0]
    assert not s.violation_succeeded[0]
    assert s.phase[0] == Phase.TEST  # the ceasefire holds
    assert s.front[0] == front


@pytest.mark.parametrize("seed", range(20))
def test_limited_violation_succeeds_against_no_force(seed: int) -> None:
    env = _test_phase_env(seed, deployed=False)
    front = env.game_state.front[0]
    env.step(_violate(env))
    s = env.game_state
    assert s.violation_succeeded[0]
    assert s.phase[0] == Phase.WAR  # the ceasefire breaks
    assert s.front[0] == pytest.approx(front - env.scenario.test.gains[1])


def test_pledge_conditional_on_us_waits_for_a_backstop() -> None:
    env = make_env("classroom", 0)
    uk = env.member_ids.index("uk")
    assert not env.params.parliament_vote[uk]
    set_state(
        env,
        phase=Phase.DEPLOYMENT,
        deadline=99,
        pledge_level=[PCT20, 0, 0],
        pledge_type=[Contribution.GROUND] * 3,
        pledge_condition=[Condition.IF_US_BACKSTOP, 0, 0],
    )
    deploy = with_choice(noop_actions(env), env, "uk", commit=Commit.DEPLOY)
    for _ in range(3):  # the US stays silent: the deploy order is masked, a no-op
        obs, *_ = env.step(deploy)
        assert env.game_state.us_signal[0] == Signal.SILENT
        assert env.game_state.deployed_k[0, uk] == 0.0
        assert obs["uk"]["action_mask"][3][Commit.DEPLOY] == 0
    env.step(with_choice(deploy, env, "usa", signal=Signal.FORMAL))  # a formal guarantee
    obs, *_ = env.step(with_choice(deploy, env, "usa", signal=Signal.FORMAL))
    pledged = env.params.pledge_shares[PCT20] * env.params.capacity_k[uk]
    assert env.game_state.deployed_k[0, uk] == pytest.approx(pledged)


def test_free_riding_index_known_values() -> None:
    gdp = np.array([3520.0, 3120.0, 4610.0, 850.0])
    assert free_riding_index(gdp, 0.37 * gdp) == pytest.approx(0.0, abs=1e-12)
    assert free_riding_index(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(0.5)
    assert np.isnan(free_riding_index(gdp, np.zeros(4)))
    assert rank_correlation(gdp, 2 * gdp) == pytest.approx(1.0)
    assert rank_correlation(gdp, -gdp) == pytest.approx(-1.0)


def test_free_riding_index_zero_in_episode_summary_when_burden_follows_gdp() -> None:
    env = make_env("classroom", 0)
    set_state(env, burden=0.01 * env.params.gdp)
    summary = episode_summary(env.params, env.game_state)
    assert summary["free_riding_index"] == pytest.approx(0.0, abs=1e-12)
    assert summary["oz_rank_correlation"] == pytest.approx(1.0)


def _belief_after(choice: dict) -> tuple[float, float]:
    env = make_env("classroom", 5)
    before = float(derived(env.params, env.game_state).mu[0])
    env.step(with_choice(noop_actions(env), env, "usa", **choice))
    return before, float(derived(env.params, env.game_state).mu[0])


def test_costly_deed_moves_belief_more_than_words() -> None:
    before, after_words = _belief_after({"signal": Signal.FORMAL})
    before_deed, after_deed = _belief_after({"enablers": 3})
    assert before == before_deed
    assert after_words > before
    assert after_deed - before > after_words - before


def test_belief_is_bayes_rule() -> None:
    env = make_env("classroom", 5)
    prior = env.game_state.belief[0].copy()
    env.step(with_choice(noop_actions(env), env, "usa", signal=Signal.FORMAL))
    like = env.params.like_signal[:, Signal.FORMAL]
    expected = prior * like / np.sum(prior * like)
    np.testing.assert_allclose(env.game_state.belief[0], expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), scenario=st.sampled_from(SCENARIOS))
def test_deployed_never_exceeds_pledged_or_capacity(seed: int, scenario: str) -> None:
    env = make_env(scenario, seed)
    p = env.params
    obs = env._observations()
    rng = np.random.default_rng(seed)
    while env.agents:
        obs, *_ = env.step(random_actions(env, obs, rng))
        s = env.game_state
        pledged = p.pledge_shares[s.pledge_level] * p.capacity_k
        assert np.all(s.deployed_k <= pledged + 1e-9)
        assert np.all(pledged <= p.capacity_k + 1e-9)
        assert np.all(s.deployed_k >= 0)
