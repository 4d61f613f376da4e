"""The batched core: game b of a vector env is the PettingZoo env seeded with seed + b."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from reassurance.envs import CoalitionVectorEnv, coalition_v0
from reassurance.envs.actions import Role


def _split(masks: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    return np.split(masks, np.cumsum(sizes)[:-1])


def _random_actions(venv: CoalitionVectorEnv, masks, rng) -> dict[Role, np.ndarray]:
    """Random legal actions per role, one value per component."""
    actions = {}
    for role, mask in masks.items():
        parts = []
        for part in np.split(mask, np.cumsum(venv.nvec[role])[:-1], axis=-1):
            scores = rng.random(part.shape) * part
            parts.append(np.argmax(scores, axis=-1))
        actions[role] = np.stack(parts, axis=-1)
    return actions


def _agent_arrays(venv, per_role: dict[Role, np.ndarray], game: int) -> dict[str, np.ndarray]:
    out = {"usa": per_role[Role.USA][game], "ukraine": per_role[Role.UKRAINE][game]}
    out["russia"] = per_role[Role.RUSSIA][game]
    for i, member in enumerate(venv.member_ids):
        out[member] = per_role[Role.MEMBER][game, i]
    return out


@pytest.mark.parametrize(
    ("scenario", "max_cycles", "steps", "threads"),
    [
        ("classroom", None, 40, 1),
        ("brussels-2025-04", 7, 20, 2),
        ("paris-2026-01", 5, 12, 3),
    ],
)
def test_each_game_is_the_pettingzoo_env_with_its_seed(scenario, max_cycles, steps, threads):
    B, seed = 3, 20
    venv = CoalitionVectorEnv(scenario, B, max_cycles=max_cycles, threads=threads)
    envs = [coalition_v0.parallel_env(scenario=scenario, max_cycles=max_cycles) for _ in range(B)]
    out = venv.reset(seed=seed)
    obs = [env.reset(seed=seed + b)[0] for b, env in enumerate(envs)]
    rng = np.random.default_rng(0)
    episodes_ended = 0
    for _ in range(steps):
        for b, env in enumerate(envs):
            vec_obs = _agent_arrays(venv, out.obs, b)
            vec_mask = _agent_arrays(venv, out.masks, b)
            for agent in env.possible_agents:
                np.testing.assert_array_equal(vec_obs[agent], obs[b][agent]["observations"])
                role = env.role(agent)
                for got, want in zip(
                    _split(vec_mask[agent], venv.nvec[role]),
                    obs[b][agent]["action_mask"],
                    strict=True,
                ):
                    np.testing.assert_array_equal(got, want.astype(bool))
        actions = _random_actions(venv, out.masks, rng)
        out = venv.step(actions)
        for b, env in enumerate(envs):
            agent_actions = _agent_arrays(venv, actions, b)
            obs_b, rewards, terms, truncs, infos = env.step(agent_actions)
            vec_rewards = _agent_arrays(venv, out.rewards, b)
            for agent in env.possible_agents:
                assert vec_rewards[agent] == rewards[agent]
            done = not env.agents
            assert bool(out.terminated[b]) == any(terms.values())
            assert bool(out.truncated[b]) == (done and not any(terms.values()))
            assert (b in out.ended) == done
            if done:
                episodes_ended += 1
                row = int(np.flatnonzero(out.ended == b)[0])
                final = _agent_arrays(venv, out.final_obs, row)
                for agent in env.possible_agents:
                    np.testing.assert_array_equal(final[agent], obs_b[agent]["observations"])
                ended_state = env.game_state
                for name in ("burden", "peak_deployed_k", "defected", "t", "phase"):
                    np.testing.assert_array_equal(
                        getattr(out.final_state, name)[row], getattr(ended_state, name)[0]
                    )
                summary = next(iter(infos.values()))["episode_summary"]
                for key, value in summary.items():
                    np.testing.assert_equal(out.summaries[key][row], value)
                obs_b, _ = env.reset()  # the next episode, from the same generator
            obs[b] = obs_b
    assert episodes_ended >= B  # every game went through at least one auto-reset


def test_returns_are_the_sums_of_rewards_of_the_episode_that_ended() -> None:
    venv = CoalitionVectorEnv("classroom", 2)
    out = venv.reset(seed=3)
    rng = np.random.default_rng(1)
    total = {role: np.zeros_like(r) for role, r in out.rewards.items()}
    while not out.ended.size:
        out = venv.step(_random_actions(venv, out.masks, rng))
        for role in Role:
            total[role] += out.rewards[role]
    for role in Role:
        np.testing.assert_allclose(out.returns[role], total[role][out.ended])


def test_seeds_per_game_and_bad_inputs() -> None:
    venv = CoalitionVectorEnv("classroom", 2)
    a = venv.reset(seed=[7, 9]).obs[Role.USA]
    one = CoalitionVectorEnv("classroom", 1)
    np.testing.assert_array_equal(a[1], one.reset(seed=9).obs[Role.USA][0])
    with pytest.raises(ValueError, match="one per game"):
        venv.reset(seed=[1])
    with pytest.raises(ValueError, match=">= 0"):
        venv.reset(seed=-1)
    with pytest.raises(ValueError, match="num_games"):
        CoalitionVectorEnv("classroom", 0)
    out = venv.reset(seed=0)
    actions = {
        role: np.zeros(m.shape[:-1] + (len(venv.nvec[role]),), np.int64)
        for role, m in out.masks.items()
    }
    actions[Role.RUSSIA][1, 3] = 9
    with pytest.raises(ValueError, match="russia action value 9 at index \\(1, 3\\)"):
        venv.step(actions)
    del actions[Role.USA]
    with pytest.raises(ValueError, match="lack role usa"):
        venv.step(actions)


def test_buffers_are_read_only_and_steps_keep_no_memory() -> None:
    venv = CoalitionVectorEnv("classroom", 64)
    out = venv.reset(seed=0)
    assert not out.obs[Role.MEMBER].flags.writeable
    assert not out.masks[Role.USA].flags.writeable
    rng = np.random.default_rng(0)
    for _ in range(20):  # past the first auto-resets
        out = venv.step(_random_actions(venv, out.masks, rng))
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for _ in range(100):
        out = venv.step(_random_actions(venv, out.masks, rng))
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after - before < 256 * 1024  # bytes still held after 100 steps (one step's outputs)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_dropped_vector_env_is_freed_without_the_garbage_collector(threads: int) -> None:
    """Analyses build thousands of envs; one kept alive by a reference cycle holds its arrays
    until the collector runs (hundreds of MB on brussels)."""
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        venv = CoalitionVectorEnv("classroom", 4, threads=threads)
        out = venv.reset(seed=0)
        venv.step({role: np.zeros(out.masks[role].shape[:-1] + venv.nvec[role].shape, np.int64)
                   for role in Role})  # fmt: skip
        ref = weakref.ref(venv)
        del venv
        assert ref() is None
    finally:
        gc.enable()
