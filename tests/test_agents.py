"""Every registered agent plays full episodes of every scenario in its role."""

from __future__ import annotations

import numpy as np
import pytest

from reassurance import agents
from reassurance.envs import coalition_v0
from tests.conftest import SCENARIOS


def _play(scenario: str, chosen: dict[str, str], seed: int = 0) -> dict:
    env = coalition_v0.parallel_env(scenario=scenario)
    obs, _ = env.reset(seed=seed)
    policies = {}
    for agent in env.possible_agents:
        role = agents.role_of(agent)
        policies[agent] = agents.make(chosen.get(role, f"{role}/random"))
        policies[agent].bind(agents.Seat.of(env, agent))
        policies[agent].reset()
    rng = np.random.default_rng(seed)
    infos = {}
    while env.agents:
        actions = {a: policies[a].act(obs[a], rng) for a in env.agents}
        for a, action in actions.items():
            assert env.action_space(a).contains(action)
            mask = obs[a]["action_mask"]
            assert all(m[v] for m, v in zip(mask, action, strict=True)), (a, action)
        obs, _, _, _, infos = env.step(actions)
    return next(iter(infos.values()))["episode_summary"]


@pytest.mark.parametrize("agent_id", agents.list_agents())
def test_every_agent_plays_every_scenario(agent_id: str) -> None:
    role = agent_id.split("/")[0]
    for scenario in SCENARIOS:
        summary = _play(scenario, {role: agent_id})
        assert summary["steps"] > 0


def test_registry_filters_and_errors() -> None:
    assert "member/conditional-on-us" in agents.list_agents(role="member")
    assert all(a.startswith("usa/") for a in agents.list_agents(role="usa"))
    assert "member/free-rider" in agents.list_agents(tag="free-rider")
    assert len(agents.list_agents(role="member")) >= 8
    assert agents.role_of("france") == "member" and agents.role_of("usa") == "usa"
    with pytest.raises(ValueError, match="member/free-ryder"):
        agents.make("member/free-ryder")
    with pytest.raises(ValueError, match="europe_shar"):
        agents.make("usa/transactional", europe_shar=0.5)
    with pytest.raises(ValueError, match="europe_share='high' must be a number"):
        agents.make("usa/transactional", europe_share="high")
    with pytest.raises(ValueError, match=r"kind=99 is not one of 0 \(ground\)"):
        agents.make("member/home-defender", kind=99)
    with pytest.raises(ValueError, match="roles are"):
        agents.list_agents(role="nato")


def test_policy_refuses_a_seat_of_another_role() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    with pytest.raises(ValueError, match="'usa/disengaged'.*'uk'"):
        agents.make("usa/disengaged").bind(agents.Seat.of(env, "uk"))


def test_doctrines_differ_where_they_should() -> None:
    leaders = _play("classroom", {"member": "member/leader", "usa": "usa/committed-guarantor",
                                  "russia": "russia/negotiator",
                                  "ukraine": "ukraine/accepts-with-guarantees"})  # fmt: skip
    riders = _play("classroom", {"member": "member/free-rider", "usa": "usa/committed-guarantor",
                                 "russia": "russia/negotiator",
                                 "ukraine": "ukraine/accepts-with-guarantees"})  # fmt: skip
    assert leaders["ceasefires"] >= 1
    assert leaders["contributors"] == 3 and leaders["troops_deployed"] > 0
    assert riders["contributors"] == 0 and riders["troops_deployed"] == 0
    renege = _play("classroom", {"member": "member/pledge-and-renege",
                                 "russia": "russia/negotiator",
                                 "ukraine": "ukraine/accepts-with-guarantees"})  # fmt: skip
    assert renege["defection_rate"] == 1.0


def test_play_match_fills_seats_and_repeats_with_a_seed() -> None:
    lineup = {"member": "member/leader", "france": "member/free-rider", "usa": "usa/words-only"}
    first = agents.play_match("classroom", lineup, seed=3, record_actions=True)
    assert first.policies["uk"] == "member/leader"
    assert first.policies["france"] == "member/free-rider"
    assert first.policies["russia"] == agents.DEFAULT_BOTS["russia"]
    assert first.steps == len(first.actions) > 0
    again = agents.play_match("classroom", lineup, seed=3, record_actions=True)
    assert again.actions == first.actions and again.returns == first.returns
    with pytest.raises(ValueError, match="'nato'"):
        agents.play_match("classroom", {"nato": "usa/words-only"})
    one = agents.make("member/leader")
    shared = agents.play_match("classroom", {"member": one}, seed=3)
    assert set(shared.policies.values()) >= {"member/leader"}
