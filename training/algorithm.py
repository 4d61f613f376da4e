"""Build RLlib's PPO (new API stack) from :class:`~reassurance.training.config.TrainSettings`.

Modules:

- ``member``, ``usa``, ... (``per-role``) or one per agent id (``per-agent``): trained
  :class:`~reassurance.training.modules.MaskedPPOModule`.
- ``<role>@fixed``: the fixed policy of an untrained role, a registered agent
  (:class:`~reassurance.training.modules.FixedPolicyModule`) or a frozen checkpoint.
- ``<module>@pool<k>``: league snapshots of a trained module (frozen; see
  :class:`~reassurance.training.config.LeagueSettings`).
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from typing import Any

import numpy as np
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from reassurance.agents.checkpoint import find_export
from reassurance.agents.registry import role_of
from reassurance.training.config import TrainSettings, agent_module, module_ids
from reassurance.training.episode_metrics import SUMMARY_METRICS, log_summaries
from reassurance.training.fast_sampler import GAMES_KEY, FastEnvRunner, games_per_env_runner
from reassurance.training.modules import FixedPolicyModule, MaskedPPOModule
from reassurance.training.rllib_env import RLlibCoalitionEnv

__all__ = ["build_algo_config", "LeagueMapping", "ReassuranceCallbacks", "SUMMARY_METRICS"]


def env_config(settings: TrainSettings, horizon: int | None = None) -> dict[str, Any]:
    """What the env (scenario, overrides), the callbacks (league) and the fast sampler (games
    per env runner, when ``horizon``, the episode length in steps, is given) read."""
    config: dict[str, Any] = {
        "scenario": settings.scenario,
        "overrides": dict(settings.overrides),
        "league": settings.league.model_dump(),
        "trained_roles": list(settings.train),
    }
    if settings.sampler == "fast" and horizon is not None:
        config[GAMES_KEY] = settings.games_per_env_runner or games_per_env_runner(
            settings.ppo.train_batch_size, settings.num_env_runners, horizon
        )
    return config


class LeagueMapping:
    """Agent -> module for each episode: the live module, a league snapshot, or a fixed policy.

    Draws come from a generator seeded with the run's seed (in each sampling process).
    """

    def __init__(self, settings: TrainSettings, agents: dict[str, str]):
        self.live = {a: agent_module(settings, a, r) for a, r in agents.items()}
        self.trained = [a for a, r in agents.items() if r in settings.train]
        self.league = settings.league
        self.seed = settings.seed
        self._rng: np.random.Generator | None = None
        self._episodes: OrderedDict[str, dict[str, str]] = OrderedDict()

    def __call__(self, agent_id: str, episode: Any = None, **kwargs: Any) -> str:
        if not self.league.enabled or agent_id not in self.trained:
            return self.live[agent_id]
        key = getattr(episode, "id_", None)
        if key not in self._episodes:
            self._episodes[key] = self._draw()
            while len(self._episodes) > 256:
                self._episodes.popitem(last=False)
        return self._episodes[key].get(agent_id, self.live[agent_id])

    def _draw(self) -> dict[str, str]:
        if self._rng is None:
            self._rng = np.random.default_rng([self.seed, 7919])
        rng = self._rng
        snap = rng.random(len(self.trained)) < self.league.opponent_prob
        if snap.all():
            snap[rng.integers(len(self.trained))] = False  # someone must learn
        slots = rng.integers(self.league.pool_size, size=len(self.trained))
        return {
            agent: f"{self.live[agent]}@pool{slot}"
            for agent, use, slot in zip(self.trained, snap, slots, strict=True)
            if use
        }


class ReassuranceCallbacks(RLlibCallback):
    """Episode-summary metrics per iteration, and league snapshots."""

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None, **kwargs: Any) -> None:
        """RLlib's default sampler; the fast sampler logs the same figures itself."""
        infos = episode.get_infos(-1)
        summary = next(
            (i["episode_summary"] for i in infos.values() if "episode_summary" in i), None
        )
        if summary is None or metrics_logger is None:
            return
        log_summaries(metrics_logger, summary)

    def on_algorithm_init(self, *, algorithm: Any, **kwargs: Any) -> None:
        if _league(algorithm)["enabled"] and algorithm.iteration == 0:
            # Every pool slot starts as the initial policy.
            for module in algorithm.config.policies_to_train:
                for slot in range(_league(algorithm)["pool_size"]):
                    _copy_module(algorithm, module, f"{module}@pool{slot}")

    def on_train_result(self, *, algorithm: Any, result: dict, **kwargs: Any) -> None:
        league = _league(algorithm)
        if not league["enabled"] or algorithm.iteration % league["snapshot_every"]:
            return
        number = algorithm.iteration // league["snapshot_every"] - 1
        slot = number % league["pool_size"]
        for module in algorithm.config.policies_to_train:
            _copy_module(algorithm, module, f"{module}@pool{slot}")
        result["league_snapshots"] = number + 1


def _league(algorithm: Any) -> dict[str, Any]:
    return algorithm.config.env_config["league"]


def _copy_module(algorithm: Any, source: str, target: str) -> None:
    weights = algorithm.learner_group.get_weights(module_ids=[source])[source]
    algorithm.learner_group.set_weights({target: weights})
    algorithm.env_runner_group.sync_weights(
        policies=[target], from_worker_or_learner_group=algorithm.learner_group, inference_only=True
    )


def _fixed_spec(settings: TrainSettings, role: str, obs_space: Any, act_space: Any, n: int):
    opponent = settings.opponent(role)
    if opponent.agent is not None:
        return RLModuleSpec(
            module_class=FixedPolicyModule,
            observation_space=obs_space,
            action_space=act_space,
            model_config={
                "agent": opponent.agent,
                "params": dict(opponent.params),
                "n_members": n,
                "seed": settings.seed,
            },
        )
    export = find_export(opponent.checkpoint, role=role, module_id=opponent.module)
    obs_dim = obs_space["observations"].shape[0]
    nvec = tuple(int(n) for n in act_space.nvec)
    if (export.obs_dim, tuple(export.nvec)) != (obs_dim, nvec):
        raise ValueError(
            f"opponent checkpoint {opponent.checkpoint!r} ({export.module_id!r}) was trained on "
            f"{export.scenario!r} with {export.obs_dim} observation values; {role} seats of "
            f"{settings.scenario!r} have {obs_dim} (a scenario with another number of members?)"
        )
    return RLModuleSpec(
        module_class=MaskedPPOModule,
        observation_space=obs_space,
        action_space=act_space,
        model_config={"hidden": list(export.hidden), "weights": str(export.path)},
    )


def build_algo_config(settings: TrainSettings) -> PPOConfig:
    """The PPO config of a run: env, modules, mapping, resources, callbacks, seed."""
    env = RLlibCoalitionEnv(env_config(settings))
    roles = {agent: role_of(agent) for agent in env.possible_agents}
    n_members = sum(r == "member" for r in roles.values())
    ids = module_ids(settings, roles)
    specs: dict[str, RLModuleSpec] = {}
    for agent, role in roles.items():
        obs_space, act_space = env.observation_spaces[agent], env.action_spaces[agent]
        if role in settings.train:
            module = agent_module(settings, agent, role)
            learner = RLModuleSpec(
                module_class=MaskedPPOModule,
                observation_space=obs_space,
                action_space=act_space,
                model_config={
                    "hidden": list(settings.hidden),
                    "init_seed": zlib.crc32(f"{settings.seed}/{module}".encode()),
                },
            )
            specs[module] = learner
            for pool in ids["pool"]:
                if pool.startswith(module + "@"):
                    specs[pool] = learner
        elif f"{role}@fixed" not in specs:
            specs[f"{role}@fixed"] = _fixed_spec(settings, role, obs_space, act_space, n_members)
    ppo = settings.ppo
    runner = {"env_runner_cls": FastEnvRunner} if settings.sampler == "fast" else {}
    return (
        PPOConfig()
        .environment(RLlibCoalitionEnv, env_config=env_config(settings, env.par_env.horizon))
        .env_runners(
            **runner,
            num_env_runners=settings.num_env_runners,
            num_envs_per_env_runner=settings.num_envs_per_env_runner,
            # The multi-agent sampler slows down badly when it converts episodes to numpy.
            episodes_to_numpy=False,
            rollout_fragment_length="auto",
        )
        .learners(
            num_learners=settings.num_learners,
            num_gpus_per_learner=settings.num_gpus_per_learner,
        )
        .multi_agent(
            policies=sorted(specs),  # a list: a set's order would vary with PYTHONHASHSEED
            policy_mapping_fn=LeagueMapping(settings, roles),
            policies_to_train=ids["trained"],
        )
        # The module's settings go through rl_module(model_config=...): training(model=...) is
        # silently ignored on the new API stack.
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs))
        .training(
            lr=ppo.lr,
            gamma=ppo.gamma,
            lambda_=ppo.lambda_,
            clip_param=ppo.clip_param,
            entropy_coeff=ppo.entropy_coeff,
            vf_loss_coeff=ppo.vf_loss_coeff,
            grad_clip=ppo.grad_clip,
            train_batch_size_per_learner=ppo.train_batch_size,
            minibatch_size=ppo.minibatch_size,
            num_epochs=ppo.num_epochs,
        )
        .callbacks(ReassuranceCallbacks)
        .debugging(seed=settings.seed, log_level="ERROR")
    )
