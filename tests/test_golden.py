"""Golden traces: each doctrine's actions against scripted opponents, seed fixed.

A change in a doctrine's behaviour changes its trace and fails here. After an intended change,
regenerate with ``REASSURANCE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py``
and review the diff of ``tests/golden/doctrines.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from reassurance import agents
from reassurance.envs import coalition_v0

GOLDEN = Path(__file__).parent / "golden" / "doctrines.json"
OPPONENTS = {
    "member": "member/unconditional",
    "usa": "usa/conditional-backstop",
    "russia": "russia/opportunist",
    "ukraine": "ukraine/accepts-with-guarantees",
}
SEAT = {"member": "uk", "usa": "usa", "russia": "russia", "ukraine": "ukraine"}


def trace(agent_id: str, seed: int = 0) -> list[list[int]]:
    role = agent_id.split("/")[0]
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=seed)
    policies = {}
    for agent in env.possible_agents:
        seat_role = agents.role_of(agent)
        policies[agent] = agents.make(agent_id if seat_role == role else OPPONENTS[seat_role])
        policies[agent].bind(agents.Seat.of(env, agent))
        policies[agent].reset()
    rng = np.random.default_rng(seed)
    actions_of_seat = []
    while env.agents:
        actions = {a: policies[a].act(obs[a], rng) for a in env.agents}
        actions_of_seat.append([int(v) for v in actions[SEAT[role]]])
        obs, *_ = env.step(actions)
    return actions_of_seat


def _all_traces() -> dict[str, list[list[int]]]:
    return {agent_id: trace(agent_id) for agent_id in agents.list_agents()}


def test_golden_traces() -> None:
    traces = _all_traces()
    if os.environ.get("REASSURANCE_UPDATE_GOLDEN") == "1":
        rows = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(traces.items()))
        GOLDEN.write_text("{\n" + rows + "\n}\n")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(expected) == sorted(traces), "registered agents changed: regenerate the traces"
    for agent_id, actions in traces.items():
        assert actions == expected[agent_id], f"{agent_id} behaves differently than its trace"


@pytest.mark.parametrize("agent_id", ["member/leader", "member/free-rider", "usa/disengaged"])
def test_traces_say_what_the_doctrine_says(agent_id: str) -> None:
    first = trace(agent_id)[0]
    if agent_id == "member/leader":
        assert first[0] == 5  # pledges 20 % at once
    elif agent_id == "member/free-rider":
        assert first[0] == 0  # never pledges
    else:
        assert first == [0, 0, 0, 0]
