"""The batched core: many games of ``coalition_v0`` stepped at once, with auto-reset.

:class:`CoalitionVectorEnv` holds ``num_games`` games of one scenario and steps them all with one
call of the array rules (:mod:`reassurance.envs.rules`); nothing loops over agents or games
(blocks of games may run on separate threads, see ``threads``). It is what fast training,
batched tournaments and the equilibrium analyser sample from; the PettingZoo env
(:class:`~reassurance.envs.CoalitionEnv`) is the same game, one at a time, for everything else.

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
import os
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    the episode that ended, per role like ``rewards`` (reward units of GAME.md). ``final_state``
    is the rules state those episodes ended in (rows of ``ended``; ``None`` when none ended), for
    analyses that need more than the summary (each member's burden, deployments, defections).
    ``obs`` is overwritten by the env's next call (see the module docs).
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
    final_state: State | None = None


class CoalitionVectorEnv:
    """``num_games`` games of ``coalition_v0`` on one scenario, stepped together (see module docs).

    Args:
        scenario: scenario id, YAML path or :class:`~reassurance.envs.Scenario`.
        num_games: ``B``, games held at once.
        overrides: scenario overrides (dotted keys allowed), as for the PettingZoo env.
        max_cycles: truncate episodes after this many steps if fewer than the horizon.
        threads: threads that step contiguous blocks of games at once (numpy runs most of the
            rules without Python's lock, so blocks of a few hundred games can use separate
            cores); at most one per game. ``None``: ``OMP_NUM_THREADS`` if set (Ray sets it to
            a worker's CPUs), at most one per 256 games, else 1. Results do not depend on it
            (each game's numbers are its own). More threads than idle cores slow a step down:
            the threads then wait for each other's turn with Python's lock.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = "brussels-2025-04",
        num_games: int = 1,
        *,
        overrides: Mapping[str, Any] | None = None,
        max_cycles: int | None = None,
        threads: int | None = None,
    ) -> None:
        if isinstance(num_games, bool) or not isinstance(num_games, int) or num_games < 1:
            raise ValueError(f"num_games must be a positive int, got {num_games!r}")
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            raise ValueError(f"threads must be a positive int or None, got {threads!r}")
        self.scenario = load_scenario(scenario, overrides)
        self.params: Params = compile_params(self.scenario)
        self.num_games = num_games
        self.horizon = self.params.horizon(max_cycles)
        self.member_ids = self.params.member_ids
        self.possible_agents = self.params.agents
        self._observer = Observer(self.params)
        self.layouts: dict[Role, Layout] = self._observer.layouts
        self.nvec: dict[Role, np.ndarray] = {role: nvec(role) for role in Role}
        if threads is None:
            threads = min(_default_threads(), max(1, num_games // _GAMES_PER_THREAD))
        self.threads = min(threads, num_games)
        bounds = np.linspace(0, num_games, self.threads + 1).round().astype(int)
        self._blocks = [
            _Block(self, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        self._pool: ThreadPoolExecutor | None = None
        self._obs: dict[Role, np.ndarray] = {}

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def state(self) -> State:
        """The rules state of all games (for tests and analysis, not for agents)."""
        states = [block.state for block in self._blocks]
        if any(state is None for state in states):
            raise RuntimeError("call reset() first")
        return _concatenate(states)  # type: ignore[arg-type]

    # -------------------------------------------------------------- API

    def reset(
        self,
        seed: int | Sequence[int] | None = None,
        *,
        us_type: Sequence[int] | np.ndarray | None = None,
        resolve: Sequence[int] | np.ndarray | None = None,
    ) -> VectorStep:
        """Start a new episode in every game; game ``b`` gets ``seed + b`` (or ``seed[b]``).

        Without a seed every game draws fresh entropy from the operating system.

        ``us_type`` and ``resolve`` (one index per game) fix the hidden draws of this first
        episode instead of drawing them, for analyses that average over the hidden types
        exactly (conditioning on them) rather than by sampling. The games still draw the same
        numbers from their streams, so everything else in a game (votes, detection, noise)
        is the same whatever type it is given; the public belief still starts at the prior.
        """
        B = self.num_games
        seeds: list[int | None] = [None] * B if seed is None else list(self._game_seeds(seed))
        fixed = {}
        for name, value, levels in (("us_type", us_type, 3), ("resolve", resolve, 3)):
            if value is not None:
                value = np.asarray(value)
                if value.shape != (B,) or not np.issubdtype(value.dtype, np.integer):
                    raise ValueError(f"{name} needs one integer per game ({B}), got {value!r}")
                if ((value < 0) | (value >= levels)).any():
                    raise ValueError(f"{name} indices must lie in 0..{levels - 1}")
                fixed[name] = value.astype(np.int64)
        if not self._obs:
            self._obs = self._observer.allocate(B)
        parts = [
            block.reset(seeds[block.start : block.stop], block.rows(fixed))
            for block in self._blocks
        ]
        return _merge(parts, self._obs)

    def step(self, actions: Mapping[Role, np.ndarray]) -> VectorStep:
        """Advance every game one step with ``actions`` (per role, see module docs); games whose
        episode ends are reset at once."""
        if any(block.state is None for block in self._blocks):
            raise RuntimeError("call reset() before step()")
        batch = self._check_actions(actions)
        if len(self._blocks) == 1:
            return _merge([self._blocks[0].step(batch)], self._obs)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(self._blocks) - 1, "coalition-games")
            weakref.finalize(self, self._pool.shutdown)
        first, *rest = self._blocks
        futures = [self._pool.submit(block.step, block.rows(batch)) for block in rest]
        parts = [first.step(first.rows(batch))]
        parts += [future.result() for future in futures]
        return _merge(parts, self._obs)

    def close(self) -> None:
        """Stop the threads (a later ``step`` starts them again)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

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
            rows = value.reshape(-1, len(limit))
            if rows.min(initial=0) < 0 or np.any(rows.max(axis=0, initial=0) >= limit):
                bad = (value < 0) | (value >= limit)
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{role.name.lower()} action value {int(value[where])} at index {where} is "
                    f"outside 0 <= a < {limit.tolist()} (component sizes)"
                )
            out[role] = value.astype(np.int64, copy=False)
        return out


_GAMES_PER_THREAD = 256  # below this, Python's share of a block's step outweighs numpy's


def _default_threads() -> int:
    """``OMP_NUM_THREADS`` if set to a positive int, else 1."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return 1


class _Block:
    """Games ``start..stop-1`` of a vector env: their state, figures, random streams and
    running returns; a block steps on its own (one thread), writing its rows of the env's
    observation arrays."""

    def __init__(self, env: CoalitionVectorEnv, start: int, stop: int) -> None:
        # a proxy, not a reference: no cycle, so a dropped env frees its arrays at once
        # (a cycle waits for the garbage collector, and batched analyses make many envs)
        self.env = weakref.proxy(env)
        self.start, self.stop = start, stop
        self.params = env.params
        self.state: State | None = None
        self.figures: Derived | None = None
        self.streams = GameStreams(np.zeros(0, np.uint64))
        self.returns: dict[Role, np.ndarray] = {}

    def rows(self, arrays: Mapping[Any, np.ndarray]) -> dict[Any, np.ndarray]:
        """This block's rows of arrays with a leading games axis."""
        return {key: value[self.start : self.stop] for key, value in arrays.items()}

    def reset(self, seeds: list[int | None], fixed: dict[str, np.ndarray]) -> VectorStep:
        """New episodes, with hidden types ``fixed`` (``us_type``, ``resolve``) if given."""
        self.streams = GameStreams.seeded(seeds)
        state = self._new_games(np.arange(len(seeds)))
        self.state = state.replace(**fixed) if fixed else state
        self.figures = derived(self.params, self.state)
        self.returns = self._zeros()
        obs = self.env._observer.write(self.state, self.figures, self.rows(self.env._obs))
        nothing = np.zeros(len(seeds), bool)
        return VectorStep(
            obs=obs,
            masks=self.figures.masks,
            rewards=self._zeros(),
            terminated=nothing,
            truncated=nothing.copy(),
            ended=np.zeros(0, np.int64),
            final_obs={role: value[:0].copy() for role, value in obs.items()},
            final_masks={role: value[:0].copy() for role, value in self.figures.masks.items()},
            summaries={},
            returns={role: value[:0].copy() for role, value in self.returns.items()},
        )

    def step(self, actions: dict[Role, np.ndarray]) -> VectorStep:
        """One step of this block's games (``ended``: indices within the block)."""
        assert self.state is not None and self.figures is not None
        previous, observer = self.state, self.env._observer
        draws = self.streams.step(previous.t, self.params.n_members)
        result = step(self.params, previous, self.figures, actions, draws)
        state, figures = result.state, result.figures
        terminated = result.terminated
        truncated = (result.truncated | (state.t >= self.env.horizon)) & ~terminated
        for role, reward in result.rewards.items():
            self.returns[role] += reward
        obs = observer.write(state, figures, self.rows(self.env._obs))
        ended = np.flatnonzero(terminated | truncated)
        final_obs = {role: value[ended] for role, value in obs.items()}
        final_masks = {role: value[ended] for role, value in figures.masks.items()}
        returns = {role: value[ended] for role, value in self.returns.items()}
        summary: dict[str, np.ndarray] = {}
        final_state = None
        if ended.size:
            final_state = state.rows(ended)
            summary = summaries(self.params, state, ended)
            self.streams.next_episode(ended)
            fresh = self._new_games(ended)
            fresh_figures = derived(self.params, fresh)
            state = _splice(state, ended, fresh, previous)
            figures = _splice(figures, ended, fresh_figures, self.figures)
            new_obs = observer.build(fresh, fresh_figures)
            for role in Role:
                obs[role][ended] = new_obs[role]
                self.returns[role][ended] = 0.0
        self.state, self.figures = state, figures
        return VectorStep(
            obs=obs,
            masks=figures.masks,
            rewards=result.rewards,
            terminated=terminated,
            truncated=truncated,
            ended=ended,
            final_obs=final_obs,
            final_masks=final_masks,
            summaries=summary,
            returns=returns,
            final_state=final_state,
        )

    def _new_games(self, games: np.ndarray) -> State:
        """Fresh games at step 0, their hidden types drawn from their own streams."""
        return init_state(self.params, len(games), hidden=self.streams.hidden(games))

    def _zeros(self) -> dict[Role, np.ndarray]:
        B, M = self.stop - self.start, self.params.n_members
        return {role: np.zeros((B, M) if role is Role.MEMBER else B) for role in Role}


def _merge(parts: list[VectorStep], obs: dict[Role, np.ndarray]) -> VectorStep:
    """One :class:`VectorStep` from the blocks' (in block order); ``obs``: the env's arrays."""
    if len(parts) == 1:
        return dataclasses.replace(parts[0], obs=_read_only(obs), masks=_read_only(parts[0].masks))
    starts = np.cumsum([0] + [part.terminated.size for part in parts[:-1]])

    def join(name: str) -> dict[Role, np.ndarray]:
        return {role: np.concatenate([getattr(p, name)[role] for p in parts]) for role in Role}

    with_ends = [part.summaries for part in parts if part.summaries]
    states = [part.final_state for part in parts if part.final_state is not None]
    return VectorStep(
        obs=_read_only(obs),
        masks=_read_only(join("masks")),
        rewards=join("rewards"),
        terminated=np.concatenate([part.terminated for part in parts]),
        truncated=np.concatenate([part.truncated for part in parts]),
        ended=np.concatenate(
            [part.ended + start for part, start in zip(parts, starts, strict=True)]
        ),
        final_obs=join("final_obs"),
        final_masks=join("final_masks"),
        summaries={
            key: np.concatenate([summary[key] for summary in with_ends])
            for key in (with_ends[0] if with_ends else {})
        },
        returns=join("returns"),
        final_state=_concatenate(states) if states else None,
    )


def _concatenate(states: list[State]) -> State:
    """One state holding the games of ``states``, in order."""
    if len(states) == 1:
        return states[0]
    return State(
        **{
            f.name: np.concatenate([getattr(state, f.name) for state in states])
            for f in dataclasses.fields(State)
        }
    )


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
