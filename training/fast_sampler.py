"""The fast sampler: an RLlib ``EnvRunner`` that plays many games at once on the batched core.

RLlib's ``MultiAgentEnvRunner`` steps one game at a time and, at every step, loops in Python over
games and agents: a connector pass, a forward pass over a handful of observations, and several
metrics per agent. :class:`FastEnvRunner` replaces only the sampling loop. It steps ``B`` games of
:class:`~reassurance.envs.CoalitionVectorEnv` together and runs one forward pass per module per
step over the stacked observations of every seat the module plays in every game (the members of
a game and across games). Actions are drawn exactly as RLlib's ``GetActions`` connector draws
them: from the module's exploration distribution over the masked logits (``MaskedPPOModule``
masks illegal values), with their log-probabilities and distribution inputs kept for PPO. Fixed
policies (``FixedPolicyModule``) act for all their rows in one ``act_batch`` call.

What it hands RLlib is what ``MultiAgentEnvRunner`` hands it: a list of ``MultiAgentEpisode``
chunks, one per game and episode segment, whose ``SingleAgentEpisode`` s are built from whole
numpy arrays (observations, concatenated masks, actions, rewards, ``action_logp``,
``action_dist_inputs``); ``custom_data["game"]`` says which of the runner's games a chunk comes
from. The Learner's connector pipeline (bootstrap step, GAE, batching) runs on them unchanged.
Only seats played by modules in ``policies_to_train`` are put into the episodes: the Learner
drops every other module's data anyway (a callable ``policies_to_train`` keeps all).
Episode metrics are logged under the same keys and windows as ``MultiAgentEnvRunner`` logs them
(returns per episode, agent and module; lengths; step counters), and the episode summaries under
``reassurance/<name>`` as :class:`~reassurance.training.algorithm.ReassuranceCallbacks` logs them.
Per-episode callbacks (``on_episode_start/step/end``) are not called; ``on_sample_end`` is.

The runner keeps everything else of ``MultiAgentEnvRunner`` (it subclasses it): the module,
weight syncing, its state and checkpoints (a checkpoint of either sampler restores into the
other), the spaces it reports (from one ordinary ``RLlibCoalitionEnv`` it holds for that), and
remote runners on a Ray cluster.

Seeds: game ``b`` of the env runner with index ``w`` starts from seed ``seeds[b]``, drawn from
``numpy.random.SeedSequence([seed, w])``, and later episodes of that game continue from its own
generator (see :class:`~reassurance.envs.CoalitionVectorEnv`); :attr:`FastEnvRunner.game_seeds`
lists them. Actions are drawn with torch's generator, which RLlib seeds per env runner.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from ray.rllib.callbacks.utils import make_callback
from ray.rllib.core.columns import Columns
from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.env.utils.infinite_lookback_buffer import InfiniteLookbackBuffer
from ray.rllib.utils.metrics import (
    NUM_AGENT_STEPS_SAMPLED,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
    NUM_EPISODES_LIFETIME,
    NUM_MODULE_STEPS_SAMPLED,
    NUM_MODULE_STEPS_SAMPLED_LIFETIME,
    RLMODULE_INFERENCE_TIMER,
    SAMPLE_TIMER,
    TIME_BETWEEN_SAMPLING,
    WEIGHTS_SEQ_NO,
)

from reassurance.envs import CoalitionVectorEnv
from reassurance.envs.actions import Role
from reassurance.training.episode_metrics import log_summaries
from reassurance.training.modules import FixedPolicyModule

__all__ = ["FastEnvRunner", "GAMES_KEY", "games_per_env_runner"]

GAMES_KEY = "games_per_env_runner"
"""``env_config`` key holding ``B``, the games each fast env runner steps at once."""

MAX_AUTO_GAMES = 256
"""Most games per env runner chosen automatically (beyond it a step's arrays outgrow the caches
and the per-iteration chunks get short)."""


def games_per_env_runner(env_steps_per_iteration: int, num_env_runners: int, horizon: int) -> int:
    """Games per env runner so that one iteration plays about one episode of each game.

    ``env_steps_per_iteration``: PPO's ``train_batch_size`` (whole-game steps);
    ``horizon``: steps of an episode (at most). Between 1 and :data:`MAX_AUTO_GAMES`.
    """
    per_runner = math.ceil(env_steps_per_iteration / max(1, num_env_runners))
    return int(min(MAX_AUTO_GAMES, max(1, math.ceil(per_runner / max(1, horizon)))))


@dataclass
class _Segment:
    """One game's stretch of one episode inside a ``sample()`` call: steps ``[start, stop)`` of
    the call's buffers. ``final`` holds the last observation and mask per role when the episode
    ended at ``stop - 1`` (else the buffers' row ``stop`` is the last observation)."""

    game: int
    start: int
    stop: int
    episode_id: str
    env_t_started: int
    modules: dict[str, str]
    terminated: bool = False
    truncated: bool = False
    final: dict[Role, tuple[np.ndarray, np.ndarray]] | None = None


@dataclass
class _Finished:
    """What ``get_metrics`` logs about one finished episode."""

    length: int
    duration_s: float
    agent_returns: dict[str, float]
    module_returns: dict[str, float]
    summary: dict[str, float] = field(default_factory=dict)


class FastEnvRunner(MultiAgentEnvRunner):
    """Samples ``B`` games of the batched core at once (see the module docs).

    Set with ``config.env_runners(env_runner_cls=FastEnvRunner)``; ``env_config`` needs
    ``scenario``, ``overrides`` and :data:`GAMES_KEY`.
    """

    def __init__(self, config: Any, **kwargs: Any) -> None:
        if config._env_to_module_connector is not None or config._module_to_env_connector:
            raise ValueError(
                "the fast sampler runs no env-to-module or module-to-env connectors; drop the "
                "custom connectors or use sampler 'rllib'"
            )
        super().__init__(config=config, **kwargs)
        self._finished: list[_Finished] = []
        self._games_ready = False

    # ------------------------------------------------------------------ setup

    def make_env(self) -> None:
        """RLlib's env (for spaces and checks) plus the batched core that is sampled."""
        super().make_env()
        env_config = dict(self.config.env_config)
        games = env_config.get(GAMES_KEY)
        if isinstance(games, bool) or not isinstance(games, int) or games < 1:
            raise ValueError(f"env_config[{GAMES_KEY!r}] must be a positive int, got {games!r}")
        self.games = CoalitionVectorEnv(
            env_config["scenario"], games, overrides=env_config.get("overrides") or None
        )
        member_ids = self.games.member_ids
        self._seats: dict[Role, list[str]] = {
            Role.MEMBER: list(member_ids),
            Role.USA: ["usa"],
            Role.UKRAINE: ["ukraine"],
            Role.RUSSIA: ["russia"],
        }
        self.game_seeds: list[int] | None = None
        self._games_ready = False

    @property
    def num_games(self) -> int:
        """``B``: games stepped at once."""
        return self.games.num_games

    def _trained(self, module_id: str) -> bool:
        """Whether the Learner trains ``module_id`` (a callable ``policies_to_train`` is asked
        by the Learner per batch, so every module counts as trained here)."""
        to_train = self.config.policies_to_train
        if to_train is None or callable(to_train):
            return True
        return module_id in to_train

    # ------------------------------------------------------------------ sampling

    def sample(
        self,
        *,
        num_timesteps: int | None = None,
        num_episodes: int | None = None,
        explore: bool | None = None,
        random_actions: bool = False,
        force_reset: bool = False,
    ) -> list[MultiAgentEpisode]:
        """At least ``num_timesteps`` env-steps (default: this runner's share of the train
        batch), as episode chunks; ``B`` games step together, so the count is rounded up to a
        multiple of ``B``."""
        if self.env is None:
            raise ValueError(f"{self} has no env (a local runner beside remote ones) to sample")
        if num_episodes is not None:
            raise ValueError(
                f"sample(num_episodes={num_episodes}): the fast sampler samples env-steps "
                "(batch_mode 'truncate_episodes'); use sampler 'rllib' to sample whole episodes"
            )
        if random_actions:
            raise ValueError("sample(random_actions=True) is not supported by the fast sampler")
        if self._time_after_sampling is not None:
            self.metrics.log_value(
                key=TIME_BETWEEN_SAMPLING, value=time.perf_counter() - self._time_after_sampling
            )
        self.metrics.log_value(key=WEIGHTS_SEQ_NO, value=self._weights_seq_no, window=1)
        with self.metrics.log_time(SAMPLE_TIMER):
            explore = self.config.explore if explore is None else explore
            if num_timesteps is None:
                num_timesteps = self.config.get_rollout_fragment_length(self.worker_index) * max(
                    1, self.num_envs
                )
            per_step = self.num_games
            if self.config.count_steps_by == "agent_steps":
                per_step *= len(self.games.possible_agents)
            steps = max(1, math.ceil(num_timesteps / per_step))
            if force_reset or not self._games_ready:
                self._reset_games()
            samples = self._sample_steps(steps, bool(explore))
            make_callback(
                "on_sample_end",
                callbacks_objects=self._callbacks,
                callbacks_functions=self.config.callbacks_on_sample_end,
                kwargs=dict(env_runner=self, metrics_logger=self.metrics, samples=samples),
            )
        self._time_after_sampling = time.perf_counter()
        return samples

    def _reset_games(self) -> None:
        B = self.num_games
        if self.config.seed is None:
            self.game_seeds = None
        else:
            sequence = np.random.SeedSequence([int(self.config.seed), int(self.worker_index or 0)])
            self.game_seeds = [int(s) for s in sequence.generate_state(B, dtype=np.uint32)]
        self._current = self.games.reset(seed=self.game_seeds)
        self._module_ids = sorted(self.module.keys())
        self._module_index = {m: i for i, m in enumerate(self._module_ids)}
        self._assign = {
            role: np.zeros((B, len(ids)) if role is Role.MEMBER else B, np.int64)
            for role, ids in self._seats.items()
        }
        self._episode_ids = [""] * B
        self._episode_modules: list[dict[str, str]] = [{} for _ in range(B)]
        self._episode_t = np.zeros(B, np.int64)
        self._episode_start = np.zeros(B)
        self._start_episodes(np.arange(B))
        self._games_ready = True

    def _start_episodes(self, games: np.ndarray) -> None:
        """New episode ids and seat -> module assignments (the policy mapping, per episode)."""
        now = time.perf_counter()
        mapping = self.config.policy_mapping_fn
        for b in games.tolist():
            episode = MultiAgentEpisode(id_=uuid.uuid4().hex, agent_to_module_mapping_fn=mapping)
            modules = {}
            for role, agents in self._seats.items():
                for m, agent in enumerate(agents):
                    module = episode.module_for(agent)
                    modules[agent] = module
                    if role is Role.MEMBER:
                        self._assign[role][b, m] = self._module_index[module]
                    else:
                        self._assign[role][b] = self._module_index[module]
            self._episode_ids[b] = episode.id_
            self._episode_modules[b] = modules
            self._episode_t[b] = 0
            self._episode_start[b] = now
        self._groups = {
            role: _row_groups(assign.reshape(-1)) for role, assign in self._assign.items()
        }

    def _sample_steps(self, steps: int, explore: bool) -> list[MultiAgentEpisode]:
        games = self.games
        B = self.num_games
        first = self._current
        buffers = _Buffers(first, steps, games.nvec)
        open_segments = [
            _Segment(
                b, 0, 0, self._episode_ids[b], int(self._episode_t[b]), self._episode_modules[b]
            )  # fmt: skip
            for b in range(B)
        ]
        segments: list[_Segment] = []
        module_rows = np.zeros(len(self._module_ids), np.int64)
        self._ended_in_call = 0
        current = first
        t_global = self.num_env_steps_sampled_lifetime
        for t in range(steps):
            buffers.observe(t, current)
            actions = {}
            with self.metrics.log_time(RLMODULE_INFERENCE_TIMER):
                for role in Role:
                    actions[role] = self._act(role, t, current, buffers, explore, t_global)
                    buffers.actions[role][t] = actions[role]
            for role, groups in self._groups.items():
                for k, rows in groups:
                    module_rows[k] += rows.size if rows is not None else self._assign[role].size
            current = games.step(actions)
            buffers.rewards_at(t, current)
            self._episode_t += 1
            for i, b in enumerate(current.ended.tolist()):
                segment = open_segments[b]
                segment.stop = t + 1
                segment.terminated = bool(current.terminated[b])
                segment.truncated = bool(current.truncated[b])
                segment.final = {
                    role: (current.final_obs[role][i], _final_mask(current, role, i))
                    for role in Role
                }
                segments.append(segment)
                self._record_finished(current, i, b)
            if current.ended.size:
                self._ended_in_call += current.ended.size
                self._start_episodes(current.ended)
                for b in current.ended.tolist():
                    open_segments[b] = _Segment(
                        b, t + 1, t + 1, self._episode_ids[b], 0, self._episode_modules[b]
                    )
            t_global += B
        buffers.observe(steps, current)
        self._current = current
        for segment in open_segments:
            segment.stop = steps
            if segment.stop > segment.start:
                segments.append(segment)
        self._log_counts(steps, current, module_rows)
        return [self._episode(segment, buffers) for segment in segments]

    def _act(
        self,
        role: Role,
        t: int,
        current: Any,
        buffers: _Buffers,
        explore: bool,
        t_global: int,
    ) -> np.ndarray:
        """Actions of every seat of ``role`` in every game: one forward pass per module."""
        obs = current.obs[role]
        masks = current.masks[role]
        n_rows = obs.shape[0] * (obs.shape[1] if role is Role.MEMBER else 1)
        obs = obs.reshape(n_rows, -1)
        masks = masks.reshape(n_rows, -1)
        out = np.empty((n_rows, len(self.games.nvec[role])), np.int64)
        for k, rows in self._groups[role]:
            module = self.module[self._module_ids[k]]
            o = obs if rows is None else obs[rows]
            m = masks if rows is None else masks[rows]
            actions, logp, inputs = _forward(module, o, m, explore, t_global)
            if rows is None:
                out[:] = actions
            else:
                out[rows] = actions
            if logp is not None:
                buffers.model_outputs(role, t, rows, logp, inputs)
        return out.reshape(current.obs[role].shape[:-1] + (out.shape[-1],))

    # ------------------------------------------------------------------ episodes and metrics

    def _episode(self, segment: _Segment, buffers: _Buffers) -> MultiAgentEpisode:
        """One ``MultiAgentEpisode`` chunk from the buffers (trained seats only)."""
        b, start, stop = segment.game, segment.start, segment.stop
        length = stop - start
        agent_episodes: dict[str, SingleAgentEpisode] = {}
        for role, agents in self._seats.items():
            trained = [
                (m, agent) for m, agent in enumerate(agents)
                if self._trained(segment.modules[agent])
            ]  # fmt: skip
            if not trained:
                continue
            obs, masks = buffers.observations(role, b, start, stop, segment.final)
            actions = buffers.actions[role][start:stop, b]
            rewards = buffers.rewards[role][start:stop, b]
            logp = buffers.logp[role][start:stop, b]
            inputs = buffers.inputs[role][start:stop, b]
            for m, agent in trained:
                index = (slice(None), m) if role is Role.MEMBER else (slice(None),)
                agent_episodes[agent] = SingleAgentEpisode(
                    id_=uuid.uuid4().hex,
                    agent_id=agent,
                    module_id=segment.modules[agent],
                    multi_agent_episode_id=segment.episode_id,
                    observations=InfiniteLookbackBuffer(
                        {"observations": obs[index], "action_mask": masks[index]}
                    ),
                    infos=InfiniteLookbackBuffer([{} for _ in range(length + 1)]),
                    actions=InfiniteLookbackBuffer(actions[index]),
                    rewards=InfiniteLookbackBuffer(rewards[index]),
                    extra_model_outputs={
                        Columns.ACTION_LOGP: InfiniteLookbackBuffer(logp[index]),
                        Columns.ACTION_DIST_INPUTS: InfiniteLookbackBuffer(inputs[index]),
                        WEIGHTS_SEQ_NO: InfiniteLookbackBuffer(
                            np.full(length, self._weights_seq_no, np.int64)
                        ),
                    },
                    terminated=segment.terminated,
                    truncated=segment.truncated,
                    t_started=segment.env_t_started,
                    len_lookback_buffer=0,
                )
        episode = MultiAgentEpisode(
            id_=segment.episode_id,
            agent_module_ids=dict(segment.modules),
            agent_to_module_mapping_fn=self.config.policy_mapping_fn,
            env_t_started=segment.env_t_started,
            terminateds=segment.terminated,
            truncateds=segment.truncated,
        )
        episode.agent_episodes = agent_episodes
        episode.custom_data["game"] = b  # which of the runner's games (for tests and analysis)
        episode.env_t = segment.env_t_started + length
        for agent in agent_episodes:
            episode.agent_t_started[agent] = segment.env_t_started
            episode.env_t_to_agent_t[agent] = InfiniteLookbackBuffer(
                list(range(segment.env_t_started, segment.env_t_started + length + 1))
            )
        return episode  # each SingleAgentEpisode validated itself when it was built

    def _record_finished(self, current: Any, i: int, b: int) -> None:
        """Metrics of the episode game ``b`` just ended (row ``i`` of ``current.ended``)."""
        agent_returns: dict[str, float] = {}
        for role, agents in self._seats.items():
            values = current.returns[role][i]
            for m, agent in enumerate(agents):
                agent_returns[agent] = float(values[m] if role is Role.MEMBER else values)
        module_returns: dict[str, float] = {}
        for agent, value in agent_returns.items():
            module = self._episode_modules[b][agent]
            module_returns[module] = module_returns.get(module, 0.0) + value
        summary = {key: float(values[i]) for key, values in current.summaries.items()}
        self._finished.append(
            _Finished(
                length=int(self._episode_t[b]),
                duration_s=time.perf_counter() - float(self._episode_start[b]),
                agent_returns=agent_returns,
                module_returns=module_returns,
                summary=summary,
            )
        )

    def _log_counts(self, steps: int, current: Any, module_rows: np.ndarray) -> None:
        """Step counters of one ``sample()`` call, as ``MultiAgentEnvRunner`` counts them."""
        env_steps = steps * self.num_games
        self._log_env_steps(metric=self._metrics_num_env_steps_sampled, num_steps=env_steps)
        self.metrics.log_value(NUM_ENV_STEPS_SAMPLED, env_steps, reduce="sum")
        self.metrics.log_value(
            NUM_ENV_STEPS_SAMPLED_LIFETIME, env_steps, reduce="lifetime_sum", with_throughput=True
        )
        done = int(self._ended_in_call)
        self.metrics.log_value(NUM_EPISODES, done, reduce="sum")
        self.metrics.log_value(NUM_EPISODES_LIFETIME, done, reduce="lifetime_sum")
        for agent in self.games.possible_agents:
            self.metrics.log_value((NUM_AGENT_STEPS_SAMPLED, agent), env_steps, reduce="sum")
            self.metrics.log_value(
                (NUM_AGENT_STEPS_SAMPLED_LIFETIME, agent), env_steps, reduce="lifetime_sum"
            )
        for k, count in enumerate(module_rows.tolist()):
            if count:
                module = self._module_ids[k]
                self.metrics.log_value((NUM_MODULE_STEPS_SAMPLED, module), count, reduce="sum")
                self.metrics.log_value(
                    (NUM_MODULE_STEPS_SAMPLED_LIFETIME, module), count, reduce="lifetime_sum"
                )

    def get_metrics(self) -> dict:
        """Episode metrics of the episodes finished since the last call, then RLlib's reduce."""
        for done in self._finished:
            self._log_episode_metrics(
                done.length,
                sum(done.agent_returns.values()),
                done.duration_s,
                done.agent_returns,
                done.module_returns,
                dict.fromkeys(done.agent_returns, done.length),
            )
            log_summaries(self.metrics, done.summary)
        self._finished.clear()
        return self.metrics.reduce()


class _Buffers:
    """Per-role arrays of one ``sample()`` call, time first: observations and masks
    ``[T + 1, B, (M,) ...]``, actions, rewards and model outputs ``[T, B, (M,) ...]``."""

    def __init__(self, first: Any, steps: int, nvec: Mapping[Role, np.ndarray]):
        self.obs = {r: np.empty((steps + 1, *v.shape), np.float32) for r, v in first.obs.items()}
        self.masks = {
            r: np.empty((steps + 1, *v.shape), np.float32) for r, v in first.masks.items()
        }
        self.actions = {
            r: np.empty((steps, *v.shape[:-1], len(nvec[r])), np.int64)
            for r, v in first.obs.items()
        }
        self.rewards = {r: np.empty((steps, *v.shape[:-1])) for r, v in first.obs.items()}
        self.logp = {
            r: np.full((steps, *v.shape[:-1]), np.nan, np.float32) for r, v in first.obs.items()
        }
        self.inputs = {
            r: np.full((steps, *v.shape[:-1], int(nvec[r].sum())), np.nan, np.float32)
            for r, v in first.obs.items()
        }

    def observe(self, t: int, current: Any) -> None:
        for role in Role:
            self.obs[role][t] = current.obs[role]
            self.masks[role][t] = current.masks[role]

    def rewards_at(self, t: int, current: Any) -> None:
        for role in Role:
            self.rewards[role][t] = current.rewards[role]

    def model_outputs(
        self, role: Role, t: int, rows: np.ndarray | None, logp: np.ndarray, inputs: np.ndarray
    ) -> None:
        flat_logp = self.logp[role][t].reshape(-1)
        flat_inputs = self.inputs[role][t].reshape(-1, self.inputs[role].shape[-1])
        if rows is None:
            flat_logp[:] = logp
            flat_inputs[:] = inputs
        else:
            flat_logp[rows] = logp
            flat_inputs[rows] = inputs

    def observations(
        self,
        role: Role,
        game: int,
        start: int,
        stop: int,
        final: dict[Role, tuple[np.ndarray, np.ndarray]] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observations and masks of steps ``start..stop`` (inclusive) of one game."""
        obs = self.obs[role][start : stop + 1, game]
        masks = self.masks[role][start : stop + 1, game]
        if final is not None:
            obs = obs.copy()
            masks = masks.copy()
            obs[-1], masks[-1] = final[role]
        return obs, masks


def _final_mask(current: Any, role: Role, i: int) -> np.ndarray:
    """The legal-action mask of an ended episode's last observation.

    ``VectorStep`` has no ``final_masks`` yet, so this is all ones until it does; the value never
    reaches the loss: the last observation only bootstraps the value function, which reads the
    observation vector, and its step is masked out of the policy loss."""
    final_masks = getattr(current, "final_masks", None)
    if final_masks is not None:
        return final_masks[role][i]
    return np.ones(current.masks[role].shape[1:], np.float32)


def _row_groups(assign: np.ndarray) -> list[tuple[int, np.ndarray | None]]:
    """Module index -> rows it plays (``None``: every row)."""
    modules = np.unique(assign)
    if modules.size == 1:
        return [(int(modules[0]), None)]
    return [(int(k), np.flatnonzero(assign == k)) for k in modules]


def _forward(
    module: Any, obs: np.ndarray, masks: np.ndarray, explore: bool, t: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Actions (and, for modules with a distribution, log-probabilities and distribution
    inputs) of one module for rows of observations and concatenated masks."""
    if isinstance(module, FixedPolicyModule):  # a registered agent: its batched act, its generator
        return module.policy.act_batch(obs, masks > 0.5, module.rng), None, None
    batch = {
        Columns.OBS: {
            "observations": torch.from_numpy(np.ascontiguousarray(obs)),
            "action_mask": torch.from_numpy(np.ascontiguousarray(masks, np.float32)),
        }
    }
    with torch.no_grad():
        out = module.forward_exploration(batch, t=t) if explore else module.forward_inference(batch)
        if Columns.ACTIONS in out:
            actions = out[Columns.ACTIONS]
            return np.asarray(actions.numpy() if torch.is_tensor(actions) else actions), None, None
        inputs = out[Columns.ACTION_DIST_INPUTS]
        cls = (
            module.get_exploration_action_dist_cls()
            if explore
            else module.get_inference_action_dist_cls()
        )
        dist = cls.from_logits(inputs)
        if not explore:
            dist = dist.to_deterministic()
        actions = dist.sample()
        logp = dist.logp(actions)
    return actions.numpy().astype(np.int64), logp.numpy(), inputs.numpy()
