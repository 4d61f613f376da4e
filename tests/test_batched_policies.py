"""Every policy acts on a batch of observations as it acts on each one alone."""

from __future__ import annotations

import numpy as np
import pytest

from reassurance import agents
from reassurance.envs import coalition_v0
from reassurance.envs.actions import Role
from reassurance.envs.masks import concatenate, split
from tests.conftest import SCENARIOS, random_actions


def _observations(scenario: str, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per role, observations and concatenated masks: states of random play, then random
    vectors inside the observation space with random masks (value 0 always legal)."""
    env = coalition_v0.parallel_env(scenario=scenario, max_cycles=30)
    rng = np.random.default_rng(seed)
    rows: dict[Role, list[tuple[np.ndarray, np.ndarray]]] = {role: [] for role in Role}
    for episode in range(2):
        obs, _ = env.reset(seed=seed + episode)
        while env.agents:
            for agent in env.agents:
                mask = concatenate(obs[agent]["action_mask"])
                rows[env.role(agent)].append((obs[agent]["observations"], mask))
            obs, *_ = env.step(random_actions(env, obs, rng))
    out = {}
    for role, pairs in rows.items():
        agent = next(a for a in env.possible_agents if env.role(a) is role)
        space = env.observation_space(agent)
        high = space["observations"].high
        noise = (rng.random((40, high.size)) * high).astype(np.float32)
        masks = rng.random((40, pairs[0][1].size)) < 0.6
        for part in split(masks, role):
            part[:, 0] = True
        vectors = np.concatenate([np.stack([v for v, _ in pairs]), noise])
        out[role.name.lower()] = (vectors, np.concatenate([np.stack([m for _, m in pairs]), masks]))
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_act_batch_equals_act_row_by_row(scenario: str) -> None:
    data = _observations(scenario)
    env = coalition_v0.parallel_env(scenario=scenario)
    seats = {"member": env.member_ids[0], "usa": "usa", "ukraine": "ukraine", "russia": "russia"}
    for agent_id in agents.list_agents():
        role = agent_id.split("/")[0]
        vectors, masks = data[role]
        policy = agents.make(agent_id)
        policy.bind(agents.Seat.of(env, seats[role]))
        seeds = range(len(vectors))
        streams = [np.random.default_rng(s) for s in seeds]
        batched = policy.act_batch(vectors, masks, streams)
        assert batched.shape == (len(vectors), len(env.action_space(seats[role]).nvec))
        for i, (vector, mask) in enumerate(zip(vectors, masks, strict=True)):
            observation = {
                "observations": vector,
                "action_mask": tuple(split(mask, Role[role.upper()])),
            }
            alone = np.random.default_rng(i)
            one = policy.act(observation, alone)
            np.testing.assert_array_equal(batched[i], one, err_msg=f"{agent_id} row {i}")
            # and each row's stream is left where act leaves it, for the game's next step
            assert streams[i].random() == alone.random(), f"{agent_id} row {i}: stream moved"
        # one generator for the whole batch: still legal actions
        shared = policy.act_batch(vectors, masks, np.random.default_rng(0))
        for part, values in zip(split(masks, Role[role.upper()]), shared.T, strict=True):
            assert part[np.arange(len(values)), values].all(), agent_id
