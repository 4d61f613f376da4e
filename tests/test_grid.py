"""The analyser's standing member strategies as policies: labels, one strategy, a profile."""

from __future__ import annotations

import numpy as np
import pytest

from reassurance import agents
from reassurance.agents.grid import GridMember, GridProfile, MemberStrategy
from reassurance.agents.policy import Seat
from reassurance.envs import CoalitionVectorEnv, load_scenario
from reassurance.envs.actions import Condition, Contribution, MemberResponse, Role
from reassurance.evaluation.equilibrium import MEMBER_GRID, QUICK_MEMBER_GRID

PROFILE = ["pct20/ground/unconditional/reinforce", "out", "pct5/logistics/after_ceasefire/protest"]


def test_labels_name_every_grid_strategy_and_bad_labels_are_refused() -> None:
    for strategy in (*MEMBER_GRID, *QUICK_MEMBER_GRID):
        assert MemberStrategy.from_label(strategy.label) == strategy
    assert MemberStrategy.from_label(PROFILE[2]) == MemberStrategy(
        2, Contribution.LOGISTICS, Condition.AFTER_CEASEFIRE, MemberResponse.PROTEST
    )
    for bad in ("pct30/ground/unconditional/protest", "pct5/ground/unconditional", "in"):
        with pytest.raises(ValueError, match=f"member strategy '{bad}': 'out' or LEVEL/TYPE"):
            MemberStrategy.from_label(bad)


def test_grid_profile_plays_each_members_own_strategy() -> None:
    scenario = load_scenario("classroom")
    venv = CoalitionVectorEnv(scenario, 4)
    seat = Seat(agent="member", role=Role.MEMBER, layout=venv.layouts[Role.MEMBER])
    profile = agents.make("member/grid-profile", strategies=PROFILE)
    assert isinstance(profile, GridProfile) and profile.params == {"strategies": PROFILE}
    profile.bind(seat)
    rng = np.random.default_rng(0)
    out = venv.reset(seed=[0, 1, 2, 3])
    played = []
    for _ in range(3):  # the opening move (the pledge), then the standing orders
        obs, masks = out.obs[Role.MEMBER], out.masks[Role.MEMBER]
        B, M, D = obs.shape
        actions = profile.act_batch(obs.reshape(B * M, D), masks.reshape(B * M, -1), rng)
        actions = actions.reshape(B, M, -1)
        for m, label in enumerate(PROFILE):
            alone = GridMember(MemberStrategy.from_label(label))
            alone.bind(seat)
            assert np.array_equal(actions[:, m], alone.act_batch(obs[:, m], masks[:, m], rng))
        played.append(actions)
        others = {
            role: np.zeros((B, len(venv.nvec[role])), np.int64)
            for role in (Role.USA, Role.UKRAINE, Role.RUSSIA)
        }
        out = venv.step({Role.MEMBER: actions, **others})
    assert not np.array_equal(played[0][:, 0], played[0][:, 1])  # the UK pledges, France not


def test_grid_profile_needs_one_strategy_per_member_and_is_not_listed() -> None:
    venv = CoalitionVectorEnv(load_scenario("classroom"), 2)
    profile = agents.make("member/grid-profile", strategies=PROFILE[:2])
    profile.bind(Seat(agent="member", role=Role.MEMBER, layout=venv.layouts[Role.MEMBER]))
    out = venv.reset(seed=[0, 1])
    obs, masks = out.obs[Role.MEMBER], out.masks[Role.MEMBER]
    with pytest.raises(ValueError, match="2 strategies for a game of 3 members"):
        profile.act_batch(obs.reshape(6, -1), masks.reshape(6, -1), np.random.default_rng(0))
    assert "member/grid-profile" not in agents.list_agents()  # an analysis agent, not a player
    assert agents.agent_class("member/grid-profile") is GridProfile


@pytest.mark.parametrize("strategies", [[], "out", ["out", 3]])
def test_grid_profile_refuses_strategies_that_are_no_list_of_labels(strategies) -> None:
    with pytest.raises(ValueError, match="member/grid-profile strategies .*: a list of strategy"):
        agents.make("member/grid-profile", strategies=strategies)
    with pytest.raises(ValueError, match="unknown agent 'member/grid'; .*for analyses: .*grid-pro"):
        agents.make("member/grid")
