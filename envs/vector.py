"""The batched core: many games of ``coalition_v0`` stepped at once, with auto-reset.

:class:`CoalitionVectorEnv` holds ``num_games`` games of one scenario and steps them all with one
call of the array rules (:mod:`reassurance.envs.rules`); nothing loops over agents or games. It
is what fast training, batched tournaments and the equilibrium analyser sample from; the
PettingZoo env (:class:`~reassurance.envs.CoalitionEnv`) is the same game, one at a time, for
everything else.

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
game). Game ``b`` draws every random number from its own counter-based stream
(:class:`~reassurance.envs.state.GameStreams`, all games' numbers computed at once), so its
trajectory is the one ``coalition_v0.parallel_env(...).reset(seed=s + b)`` gives for the same
actions, whatever the other games do and however many there are. When a game's episode ends
(terminated or truncated), the game is reset in the same call, with its next episode's stream,
as the PettingZoo env's next ``reset()`` without a seed would: :attr:`VectorStep.obs` then
holds the first observation of its next episode, and :attr:`VectorStep.final_obs`,
:attr:`VectorStep.final_masks` and :attr:`VectorStep.summaries` the last observation, masks and
episode summary of the one that ended.

Buffers: ``obs`` are read-only views of arrays the env reuses: the next ``step()`` or
``reset()`` overwrites them (no allocation of the largest arrays per step, and the static member
traits are written once). Copy what you keep beyond the next call. Everything else a
:class:`VectorStep` holds is new at each call (``masks`` read-only: the rules read them next).
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
from reassurance.envs.metrics import summaries
from reassurance.envs.observation import Layout, Observer
from reassurance.envs.rules import step
from reassurance.envs.scenario import Scenario, load_scenario
from reassurance.envs.state import GameStreams, Params, State, compile_params, init_state

__all__ = ["CoalitionVectorEnv", "VectorStep"]


@dataclass(frozen=True)
class VectorStep:
    """What :meth:`CoalitionVectorEnv.reset` and :meth:`CoalitionVectorEnv.step` return.

    ``ended`` lists (ascending) the games whose episode ended in this call; ``final_obs``,
    ``final_masks`` and ``summaries`` have one row per entry of ``ended``, in that order.
    ``terminated`` and ``truncated`` say how each game's episode ended (both ``False`` for games
    still playing). ``returns`` is, for the games in ``ended``, each agent's summed reward over
    the episode that ended, per role like ``rewards`` (reward units of GAME.md). ``obs`` is
    overwritten by the env's next call (see the module docs).
    """

    obs: dict[Role, np.ndarray]
    masks: dict[Role, np.ndarray]
    rewards: dict[Role, np.ndarray]
    terminated: np.ndarray
    truncated: np.ndarray
    ended: np.ndarray
    final_obs: dict[Role, np.ndarray]
    final_masks: dict[Role, np.ndarray]
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
        self._observer = Observer(self.params)
        self.layouts: dict[Role, Layout] = self._observer.layouts
        self.nvec: dict[Role, np.ndarray] = {role: nvec(role) for role in Role}
        self._state: State | None = None
        self._figures: Derived | None = None
        self._streams = GameStreams(np.zeros(0, np.uint64))
        self._returns: dict[Role, np.ndarray] = {}
        self._obs: dict[Role, np.ndarray] = {}

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
        seeds: list[int | None] = [None] * B if seed is None else list(self._game_seeds(seed))
        self._streams = GameStreams.seeded(seeds)
        self._state = self._new_games(np.arange(B))
        self._figures = derived(self.params, self._state)
        self._returns = self._zeros()
        if not self._obs:
            self._obs = self._observer.allocate(B)
        self._observer.write(self._state, self._figures, self._obs)
        nothing = np.zeros(B, bool)
        none = np.zeros(0, np.int64)
        return VectorStep(
            obs=_read_only(self._obs),
            masks=_read_only(self._figures.masks),
            rewards=self._zeros(),
            terminated=nothing,
            truncated=nothing.copy(),
            ended=none,
            final_obs={role: value[:0].copy() for role, value in self._obs.items()},
            final_masks={role: value[:0].copy() for role, value in self._figures.masks.items()},
            summaries={},
            returns={role: value[:0].copy() for role, value in self._returns.items()},
        )

    def step(self, actions: Mapping[Role, np.ndarray]) -> VectorStep:
        """Advance every game one step with ``actions`` (per role, see module docs); games whose
        episode ends are reset at once."""
        if self._state is None or self._figures is None:
            raise RuntimeError("call reset() before step()")
        batch = self._check_actions(actions)
        previous = self._state
        draws = self._streams.step(previous.t, self.n_members)
        result = step(self.params, previous, self._figures, batch, draws)
        state, figures = result.state, result.figures
        terminated = result.terminated
        truncated = (result.truncated | (state.t >= self.horizon)) & ~terminated
        for role, reward in result.rewards.items():
            self._returns[role] += reward
        obs = self._observer.write(state, figures, self._obs)
        ended = np.flatnonzero(terminated | truncated)
        final_obs = {role: value[ended] for role, value in obs.items()}
        final_masks = {role: value[ended] for role, value in figures.masks.items()}
        returns = {role: value[ended] for role, value in self._returns.items()}
        summary: dict[str, np.ndarray] = {}
        if ended.size:
            summary = summaries(self.params, state, ended)
            self._streams.next_episode(ended)
            fresh = self._new_games(ended)
            fresh_figures = derived(self.params, fresh)
            state = _splice(state, ended, fresh, previous)
            figures = _splice(figures, ended, fresh_figures, self._figures)
            new_obs = self._observer.build(fresh, fresh_figures)
            for role in Role:
                obs[role][ended] = new_obs[role]
                self._returns[role][ended] = 0.0
        self._state, self._figures = state, figures
        return VectorStep(
            obs=_read_only(obs),
            masks=_read_only(figures.masks),
            rewards=result.rewards,
            terminated=terminated,
            truncated=truncated,
            ended=ended,
            final_obs=final_obs,
            final_masks=final_masks,
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

    def _new_games(self, games: np.ndarray) -> State:
        """Fresh games at step 0, their hidden types drawn from their own streams."""
        return init_state(self.params, len(games), hidden=self._streams.hidden(games))

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


def _read_only(arrays: dict[Role, np.ndarray]) -> dict[Role, np.ndarray]:
    """Read-only views of ``arrays``: what the caller gets of the env's own arrays."""
    views = {}
    for role, value in arrays.items():
        view = value.view()
        view.flags.writeable = False
        views[role] = view
    return views


def _root(value: np.ndarray) -> np.ndarray:
    """The array that owns ``value``'s memory."""
    while isinstance(value.base, np.ndarray):
        value = value.base
    return value


def _splice(batch: Any, games: np.ndarray, fresh: Any, previous: Any) -> Any:
    """``batch`` (a :class:`State` or :class:`Derived`) with the rows ``games`` replaced by the
    games of ``fresh``, a record of the same type.

    Rows are written in place into arrays that only ``batch`` holds; an array that shares memory
    with another of its fields or with ``previous`` (the record ``batch`` was made from) is copied
    first, so no other record changes.
    """
    arrays = {}
    for field in dataclasses.fields(batch):
        value = getattr(batch, field.name)
        items = value.items() if isinstance(value, dict) else [(None, value)]
        arrays.update({(field.name, key): array for key, array in items})
    held: dict[int, int] = {}
    for array in arrays.values():
        held[id(_root(array))] = held.get(id(_root(array)), 0) + 1
    for field in dataclasses.fields(previous):
        value = getattr(previous, field.name)
        for array in value.values() if isinstance(value, dict) else [value]:
            held[id(_root(array))] = held.get(id(_root(array)), 0) + 2
    changes: dict[str, Any] = {}
    for (name, key), array in arrays.items():
        if held[id(_root(array))] > 1 or not array.flags.writeable:
            array = array.copy()
        source = getattr(fresh, name)
        array[games] = source if key is None else source[key]
        if key is None:
            changes[name] = array
        else:
            changes.setdefault(name, {})[key] = array
    return type(batch)(**changes)
