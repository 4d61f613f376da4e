"""The fast sampler (training/fast_sampler.py) without a Ray session: its episodes replay in the
PettingZoo env, it repeats with the seed, it logs what RLlib's sampler logs, and it seats league
snapshots per episode. Training, checkpoints and resume on it are in tests/test_training.py (it
is the default sampler there)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch
from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner

from reassurance.envs import coalition_v0
from reassurance.training.algorithm import build_algo_config
from reassurance.training.config import load_settings
from reassurance.training.episode_metrics import SUMMARY_METRICS
from reassurance.training.fast_sampler import (
    MAX_AUTO_GAMES,
    FastEnvRunner,
    games_per_env_runner,
)
from reassurance.training.run import flatten_result

torch.set_num_threads(1)

ALL_ROLES = ["member", "usa", "ukraine", "russia"]


def _runner(**overrides) -> FastEnvRunner:
    settings = load_settings(
        None,
        **{
            "scenario": "classroom",
            "hidden": [16],
            "games_per_env_runner": 3,
            "ppo": {"train_batch_size": 48, "minibatch_size": 16},
            **overrides,
        },
    )
    return FastEnvRunner(config=build_algo_config(settings))


def _by_game(episodes) -> dict[int, list]:
    games = defaultdict(list)
    for episode in episodes:  # finished chunks first, in the order they ended, then open ones
        games[episode.custom_data["game"]].append(episode)
    return games


@pytest.fixture(scope="module")
def all_trained() -> tuple[FastEnvRunner, list]:
    """Every role learns, so every seat is in the episodes; 40 steps of 3 classroom games
    (horizon 16): episodes end and the games reset within the call."""
    runner = _runner(train=ALL_ROLES)
    return runner, runner.sample(num_timesteps=120)


def test_episodes_replay_in_the_pettingzoo_env(all_trained) -> None:
    runner, episodes = all_trained
    assert sum(len(e) for e in episodes) == 120
    games = _by_game(episodes)
    assert sorted(games) == [0, 1, 2]
    for game, chunks in games.items():
        assert [len(c) for c in chunks] == [16, 16, 8]
        assert [c.is_done for c in chunks] == [True, True, False]
        env = coalition_v0.parallel_env(scenario="classroom")
        obs, _ = env.reset(seed=runner.game_seeds[game])
        for chunk in chunks:
            if not env.agents:
                obs, _ = env.reset()  # the next episode of the same game, unseeded
            assert set(chunk.agent_episodes) == set(env.possible_agents)
            for t in range(len(chunk)):
                actions = {}
                for agent, sa in chunk.agent_episodes.items():
                    seen = sa.get_observations(t)
                    np.testing.assert_array_equal(seen["observations"], obs[agent]["observations"])
                    mask = np.concatenate(obs[agent]["action_mask"]).astype(np.float32)
                    np.testing.assert_array_equal(seen["action_mask"], mask)
                    actions[agent] = sa.get_actions(t)
                    assert mask[_offsets(env, agent) + actions[agent]].all(), "illegal action"
                obs, rewards, terminations, truncations, _ = env.step(actions)
                for agent, sa in chunk.agent_episodes.items():
                    assert sa.get_rewards(t) == rewards[agent]
            last = {a: sa.get_observations(len(chunk)) for a, sa in chunk.agent_episodes.items()}
            for agent, seen in last.items():
                np.testing.assert_array_equal(seen["observations"], obs[agent]["observations"])
            assert chunk.is_terminated == any(terminations.values())
            assert chunk.is_truncated == (chunk.is_done and not chunk.is_terminated)


def _offsets(env, agent: str) -> np.ndarray:
    sizes = [int(m.n) for m in env.observation_space(agent)["action_mask"].spaces]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def test_log_probabilities_are_those_of_the_module(all_trained) -> None:
    runner, episodes = all_trained
    chunk = episodes[0]
    sa = chunk.agent_episodes["uk"]
    module = runner.module[sa.module_id]
    obs = sa.get_observations(slice(0, len(sa)))
    batch = {"obs": {k: torch.from_numpy(np.asarray(v)) for k, v in obs.items()}}
    with torch.no_grad():
        logits = module.forward_exploration(batch)["action_dist_inputs"]
        dist = module.get_exploration_action_dist_cls().from_logits(logits)
        logp = dist.logp(torch.from_numpy(sa.get_actions(slice(0, len(sa)))))
    np.testing.assert_allclose(sa.get_extra_model_outputs("action_logp"), logp.numpy(), rtol=1e-5)
    np.testing.assert_allclose(sa.get_extra_model_outputs("action_dist_inputs"), logits.numpy())


def test_same_seed_same_episodes_and_another_seed_others(all_trained) -> None:
    _, episodes = all_trained

    def arrays(chunks) -> list[np.ndarray]:
        return [
            np.asarray(x)
            for c in chunks
            for sa in c.agent_episodes.values()
            for x in (sa.get_observations(slice(0, len(sa) + 1))["observations"],
                      sa.get_actions(slice(0, len(sa))), sa.get_rewards(slice(0, len(sa))))
        ]  # fmt: skip

    torch.manual_seed(0)  # the global generator RLlib seeds per env runner; reseeded here
    again = _runner(train=ALL_ROLES).sample(num_timesteps=120)
    for a, b in zip(arrays(episodes), arrays(again), strict=True):
        np.testing.assert_array_equal(a, b)
    other = _runner(train=ALL_ROLES, seed=1).sample(num_timesteps=120)
    assert not all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(arrays(episodes), arrays(other), strict=True)
    )


def test_metrics_are_those_of_rllibs_sampler() -> None:
    """The figures training/run.py reads, under the same keys; returns match the episodes."""
    fast = _runner()
    episodes = fast.sample(num_timesteps=48)  # one whole episode of each of the 3 games
    metrics = fast.get_metrics()
    settings = load_settings(None, scenario="classroom", hidden=[16], sampler="rllib")
    rllib = MultiAgentEnvRunner(config=build_algo_config(settings))
    rllib.sample(num_timesteps=16)
    expected = rllib.get_metrics()
    read = ("episode_return_mean", "num_episodes_lifetime", "num_env_steps_sampled",
            "num_env_steps_sampled_lifetime", "episode_len_mean", "weights_seq_no")  # fmt: skip
    for key in read:
        assert key in metrics and key in expected, key
    for key in ("agent_episode_returns_mean", "module_episode_returns_mean",
                "num_agent_steps_sampled", "num_module_steps_sampled"):  # fmt: skip
        assert set(metrics[key]) == set(expected[key]), key
    # Summary figures undefined in an episode (NaN, e.g. a detection rate without violations)
    # are left out, so which ones appear depends on the episodes.
    assert (
        {"troops_deployed", "contributors"} <= set(metrics["reassurance"]) <= set(SUMMARY_METRICS)
    )
    assert {"troops_deployed", "contributors"} <= set(expected["reassurance"])
    assert metrics["num_env_steps_sampled"] == 48 and metrics["num_episodes"] == 3
    assert metrics["episode_len_mean"] == 16
    # Members are trained: their episodes hold their rewards, and the logged returns sum them.
    member_returns = [
        sum(sum(sa.get_rewards()) for a, sa in e.agent_episodes.items()) for e in episodes
    ]
    assert float(metrics["module_episode_returns_mean"]["member"]) == pytest.approx(
        np.mean(member_returns)
    )
    assert set(episodes[0].agent_episodes) == {"uk", "france", "germany"}  # fixed seats left out
    row = flatten_result({"training_iteration": 1, "env_runners": metrics})
    assert row["episodes"] == 3 and "env/troops_deployed" in row
    assert np.isfinite(row["module_return/usa@fixed"])


def test_league_seats_snapshots_per_episode() -> None:
    league = {"enabled": True, "pool_size": 2, "opponent_prob": 1.0}
    runner = _runner(league=league)
    episodes = runner.sample(num_timesteps=96)
    metrics = runner.get_metrics()
    finished = [e for e in episodes if e.is_done]
    assert len(finished) == 6
    for episode in finished:
        mapping = {a: episode.module_for(a) for a in ("uk", "france", "germany")}
        live = [a for a, m in mapping.items() if m == "member"]
        assert len(live) == 1, mapping  # opponent_prob 1: every seat but one is a snapshot
        assert set(mapping.values()) <= {"member", "member@pool0", "member@pool1"}
        assert set(episode.agent_episodes) == set(live)  # snapshots are never trained
    assert "member@pool0" in metrics["num_module_steps_sampled"] or (
        "member@pool1" in metrics["num_module_steps_sampled"]
    )
    draws = {tuple(e.module_for(a) for a in ("uk", "france", "germany")) for e in finished}
    assert len(draws) > 1, "the same seats every episode: the mapping is not drawn per episode"


def test_games_per_env_runner() -> None:
    assert games_per_env_runner(1024, 0, 16) == 64  # one classroom episode per game
    assert games_per_env_runner(2048, 0, 48) == 43
    assert games_per_env_runner(2048, 2, 48) == 22
    assert games_per_env_runner(10**7, 0, 16) == MAX_AUTO_GAMES
    assert games_per_env_runner(16, 0, 48) == 1


def test_requests_it_cannot_serve_are_refused() -> None:
    runner = _runner()
    with pytest.raises(ValueError, match="num_episodes=2.*sampler 'rllib'"):
        runner.sample(num_episodes=2)
    with pytest.raises(ValueError, match="random_actions"):
        runner.sample(random_actions=True)
    settings = load_settings(None, scenario="classroom", hidden=[16])
    config = build_algo_config(settings).env_runners(env_to_module_connector=lambda env: [])
    with pytest.raises(ValueError, match="connectors"):
        FastEnvRunner(config=config)
