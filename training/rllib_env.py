"""The coalition game as an RLlib ``MultiAgentEnv``.

RLlib's modules take one tensor per observation key, so the per-component action mask (a tuple
of ``MultiBinary`` in the PettingZoo env) is concatenated here into one 0/1 vector that lines up
with the concatenated ``MultiDiscrete`` logits. Nothing else changes: same agents, rewards,
infos and episode summary. Inference outside RLlib (``agents.from_checkpoint``) repeats this one
conversion itself, without Ray; there are no other connectors to replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.tune.registry import register_env

from reassurance.envs import coalition_v0
from reassurance.envs.masks import concatenate

__all__ = ["ENV_NAME", "RLlibCoalitionEnv", "flat_observation", "register"]

ENV_NAME = "reassurance-coalition-v0"
"""The name under which :func:`register` makes the env known to RLlib and Tune."""


def flat_observation(observation: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """PettingZoo observation -> RLlib observation (float32 vector, concatenated 0/1 mask)."""
    return {
        "observations": np.asarray(observation["observations"], np.float32),
        "action_mask": concatenate(observation["action_mask"]).astype(np.float32),
    }


class RLlibCoalitionEnv(MultiAgentEnv):
    """``env_config`` keys: ``scenario`` (id or YAML path), ``overrides`` (dotted keys);
    other keys (training settings that travel in the same dict) are ignored."""

    def __init__(self, config: Mapping[str, Any] | None = None):
        super().__init__()
        config = dict(config or {})
        self.par_env = coalition_v0.parallel_env(
            scenario=config.get("scenario", "classroom"), overrides=config.get("overrides")
        )
        self.possible_agents = list(self.par_env.possible_agents)
        self.agents = []
        self.observation_spaces = {}
        self.action_spaces = {}
        for agent in self.possible_agents:
            space = self.par_env.observation_space(agent)
            n_mask = sum(int(m.n) for m in space["action_mask"].spaces)
            self.observation_spaces[agent] = gym.spaces.Dict(
                {
                    "observations": space["observations"],
                    "action_mask": gym.spaces.Box(0.0, 1.0, (n_mask,), np.float32),
                }
            )
            self.action_spaces[agent] = self.par_env.action_space(agent)

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        obs, infos = self.par_env.reset(seed=seed, options=options)
        self.agents = list(self.par_env.agents)
        return {a: flat_observation(o) for a, o in obs.items()}, infos

    def step(self, action_dict: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Observations, rewards, terminateds, truncateds (with ``"__all__"``), infos."""
        actions = {a: np.asarray(v, np.int64) for a, v in action_dict.items()}
        obs, rewards, terminations, truncations, infos = self.par_env.step(actions)
        self.agents = list(self.par_env.agents)
        done = not self.agents
        terminateds = {**terminations, "__all__": done and any(terminations.values())}
        truncateds = {**truncations, "__all__": done and not terminateds["__all__"]}
        return (
            {a: flat_observation(o) for a, o in obs.items()},
            rewards,
            terminateds,
            truncateds,
            infos,
        )


def register() -> str:
    """Register the env with RLlib/Tune as :data:`ENV_NAME` (needed before restoring a checkpoint
    in a fresh process when a config names the env by string); returns the name."""
    register_env(ENV_NAME, lambda config: RLlibCoalitionEnv(config))
    return ENV_NAME
