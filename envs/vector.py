"""The batched core: many games of ``coalition_v0`` stepped at once, with auto-reset.

:class:`CoalitionVectorEnv` holds ``num_games`` games of one scenario and steps them all with one
call of the array rules (:mod:`reassurance.envs.rules`); nothing loops over agents, and only the
random draws loop over games. It is what fast training, batched tournaments and the equilibrium
analyser sample from; the PettingZoo env (:class:`~reassurance.envs.CoalitionEnv`) is the same
game, one at a time, for everything else.

Arrays are per role, with a leading games axis ``B`` (members also have a member axis ``M``, in
the scenario's member order):

- observations: ``float32`` ``[B, M, D_member]`` for members, ``[B, D_role]`` for the others,
  laid out as :meth:`CoalitionEnv.observation_layout` says;
- legal-action masks: ``bool`` ``[B, M, K]`` / ``[B, K]``, the per-component masks of the
  PettingZoo env concatenated over components (``K = sum(nvec)``), aligned with the logits of a
  ``MultiDiscrete`` action distribution;
- actions: integers ``[B, M, C]`` / ``[B, C]``, one value per component (``C = len(nvec)``);
- rewards: ``float64`` ``[B, M]`` / ``[B]`` (reward units of GAME.md).

Seeds and auto-reset: ``reset(seed=s)`` seeds game ``b`` with ``s + b`` (or give one seed per
game). Game ``b`` draws every random number from its own generator, so its trajectory is the one
``coalition_v0.parallel_env(...).reset(seed=s + b)`` gives for the same actions, whatever the
other games do and however many there are. When a game's episode ends (terminated or
truncated), the game is reset in the same call, from the same generator, as the PettingZoo env's
next ``reset()`` without a seed would: :attr:`VectorStep.obs` then holds the first observation of
its next episode, and :attr:`VectorStep.final_obs` and :attr:`VectorStep.summaries` the last
observation and the episode summary of the one that ended.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.envs.actions import Role, nvec
from reassurance.envs.figures import Derived, derived
from reassurance.envs.masks import concatenate, legal_masks
from reassurance.envs.metrics import summaries
from reassurance.envs.observation import Layout, build_observations, layouts
from reassurance.envs.rules import step
from reassurance.envs.scenario import Scenario, load_scenario
from reassurance.envs.state import (
    Params,
    State,
    StepDraws,
    compile_params,
    draw_hidden,
    init_state,
)

__all__ = ["CoalitionVectorEnv", "VectorStep"]


@dataclass(frozen=True)
class VectorStep:
    """What :meth:`CoalitionVectorEnv.reset` and :meth:`CoalitionVectorEnv.step` return.

    ``ended`` lists (ascending) the games whose episode ended in this call; ``final_obs`` and
    ``summaries`` have one row per entry of ``ended``, in that order. ``terminated`` and
    ``truncated`` say how each game's episode ended (both ``False`` for games still playing).
    ``returns`` is, for the games in ``ended``, each agent's summed reward over the episode that
    ended, per role like ``rewards`` (reward units of GAME.md).
    """

    obs: dict[Role, np.ndarray]
    masks: dict[Role, np.ndarray]
    rewards: dict[Role, np.ndarray]
    terminated: np.ndarray
    truncated: np.ndarray
    ended: np.ndarray
    final_obs: dict[Role, np.ndarray]
    summaries: dict[str, np.ndarray]
    returns: dict[Role, np.ndarray]


class CoalitionVectorEnv:
    """``num_games`` games of ``coalition_v0`` on one scenario, stepped together (see module docs).

    Args:
        scenario: scenario id, YAML path or :class:`~reassurance.envs.Scenario`.
        num_games: ``B``, games held at once.
        overrides: scenario overrides (dotted keys allowed), as for the PettingZoo env.
        max_cycles: truncate episodes after this many steps if fewer than the horizon.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = "brussels-2025-04",
        num_games: int = 1,
        *,
        overrides: Mapping[str, Any] | None = None,
        max_cycles: int | None = None,
    ) -> None:
        if isinstance(num_games, bool) or not isinstance(num_games, int) or num_games < 1:
            raise ValueError(f"num_games must be a positive int, got {num_games!r}")
        self.scenario = load_scenario(scenario, overrides)
        self.params: Params = compile_params(self.scenario)
        self.num_games = num_games
        self.horizon = self.params.horizon(max_cycles)
        self.member_ids = self.params.member_ids
        self.possible_agents = self.params.agents
        self.layouts: dict[Role, Layout] = layouts(len(self.member_ids))
        self.nvec: dict[Role, np.ndarray] = {role: nvec(role) for role in Role}
        self._state: State | None = None
        self._figures: Derived | None = None
        self._rngs: list[np.random.Generator] = []
        self._returns: dict[Role, np.ndarray] = {}

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def state(self) -> State:
        """The rules state of all games (for tests and analysis, not for agents)."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    # -------------------------------------------------------------- API

    def reset(self, seed: int | Sequence[int] | None = None) -> VectorStep:
        """Start a new episode in every game; game ``b`` gets ``seed + b`` (or ``seed[b]``).

        Without a seed every game draws fresh entropy from the operating system.
        """
        B = self.num_games
        if seed is None:
            self._rngs = [np.random.default_rng() for _ in range(B)]
        else:
            self._rngs = [np.random.default_rng(s) for s in self._game_seeds(seed)]
        self._state = self._new_games(range(B))
        self._figures = derived(self.params, self._state)
        self._returns = self._zeros()
        obs, masks = self._observe(self._state, self._figures)
        nothing = np.zeros(B, bool)
        return VectorStep(
            obs=obs,
            masks=masks,
            rewards=self._zeros(),
            terminated=nothing,
            truncated=nothing.copy(),
            ended=np.zeros(0, np.int64),
            final_obs={role: value[:0] for role, value in obs.items()},
            summaries={},
            returns={role: value[:0] for role, value in self._returns.items()},
        )

    def step(self, actions: Mapping[Role, np.ndarray]) -> VectorStep:
        """Advance every game one step with ``actions`` (per role, see module docs); games whose
        episode ends are reset at once."""
        if self._state is None or self._figures is None:
            raise RuntimeError("call reset() before step()")
        batch = self._check_actions(actions)
        result = step(self.params, self._state, self._figures, batch, self._draws())
        state, figures = result.state, result.figures
        terminated = result.terminated
        truncated = (result.truncated | (state.t >= self.horizon)) & ~terminated
        for role, reward in result.rewards.items():
            self._returns[role] = self._returns[role] + reward
        obs, masks = self._observe(state, figures)
        ended = np.flatnonzero(terminated | truncated)
        final_obs = {role: value[ended] for role, value in obs.items()}
        summary: dict[str, np.ndarray] = {}
        returns = {role: value[ended] for role, value in self._returns.items()}
        if ended.size:
            summary = summaries(self.params, state, ended)
            fresh = self._new_games(ended)
            fresh_figures = derived(self.params, fresh)
            state = _splice(state, ended, fresh)
            figures = _splice(figures, ended, fresh_figures)
            new_obs, new_masks = self._observe(fresh, fresh_figures)
            for role in Role:
                obs[role][ended] = new_obs[role]
                masks[role][ended] = new_masks[role]
                self._returns[role][ended] = 0.0
        self._state, self._figures = state, figures
        return VectorStep(
            obs=obs,
            masks=masks,
            rewards=result.rewards,
            terminated=terminated,
            truncated=truncated,
            ended=ended,
            final_obs=final_obs,
            summaries=summary,
            returns=returns,
        )

    # -------------------------------------------------------------- helpers

    def _game_seeds(self, seed: int | Sequence[int]) -> list[int]:
        B = self.num_games
        if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            seeds = [int(seed) + b for b in range(B)]
        elif isinstance(seed, Sequence) and not isinstance(seed, str):
            seeds = [int(s) for s in seed]
            if len(seeds) != B:
                raise ValueError(f"reset got {len(seeds)} seeds for {B} games; give one per game")
        else:
            raise TypeError(f"seed must be an int, one int per game, or None; got {seed!r}")
        negative = [s for s in seeds if s < 0]
        if negative:
            raise ValueError(f"seeds must be integers >= 0, got {negative[:3]}")
        return seeds

    def _new_games(self, games: Sequence[int] | np.ndarray) -> State:
        """Fresh games at step 0, drawing their hidden types from their own generators."""
        draws = [draw_hidden(self._rngs[b], 1) for b in games]
        hidden = (
            np.concatenate([d[0] for d in draws]),
            np.concatenate([d[1] for d in draws]),
        )
        return init_state(self.params, len(draws), hidden=hidden)

    def _draws(self) -> StepDraws:
        """Each game's draws from its own generator, in the order :func:`draw_step` uses."""
        M = self.n_members
        uniforms = np.empty((self.num_games, M + 3))
        normals = np.empty(self.num_games)
        for b, rng in enumerate(self._rngs):
            uniforms[b] = rng.random(M + 3)
            normals[b] = rng.standard_normal()
        return StepDraws(
            vote=uniforms[:, :M],
            detect=uniforms[:, M],
            outcome=uniforms[:, M + 1],
            gap=uniforms[:, M + 2],
            front=normals,
        )

    def _observe(
        self, state: State, figures: Derived
    ) -> tuple[dict[Role, np.ndarray], dict[Role, np.ndarray]]:
        obs = build_observations(self.params, state, figures, self.layouts)
        masks = {
            role: concatenate(parts)
            for role, parts in legal_masks(self.params, state, figures).items()
        }
        return obs, masks

    def _zeros(self) -> dict[Role, np.ndarray]:
        B, M = self.num_games, self.n_members
        return {role: np.zeros((B, M) if role is Role.MEMBER else B) for role in Role}

    def _check_actions(self, actions: Mapping[Role, np.ndarray]) -> dict[Role, np.ndarray]:
        B, M = self.num_games, self.n_members
        out = {}
        for role in Role:
            if role not in actions:
                raise ValueError(f"actions lack role {role.name.lower()}; give every role")
            value = np.asarray(actions[role])
            limit = self.nvec[role]
            shape = (B, M, len(limit)) if role is Role.MEMBER else (B, len(limit))
            if value.shape != shape or not np.issubdtype(value.dtype, np.integer):
                raise ValueError(
                    f"{role.name.lower()} actions must be integers of shape {shape}, got "
                    f"{value.dtype} {value.shape}"
                )
            bad = (value < 0) | (value >= limit)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{role.name.lower()} action value {int(value[where])} at index {where} is "
                    f"outside 0 <= a < {limit.tolist()} (component sizes)"
                )
            out[role] = value.astype(np.int64, copy=False)
        return out


def _splice(batch: Any, games: np.ndarray, fresh: Any) -> Any:
    """``batch`` (a :class:`State` or :class:`Derived`) with the rows ``games`` replaced by the
    games of ``fresh``, a record of the same type."""
    changes = {}
    for field in dataclasses.fields(batch):
        value = getattr(batch, field.name).copy()
        value[games] = getattr(fresh, field.name)
        changes[field.name] = value
    return type(batch)(**changes)
