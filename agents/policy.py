"""One interface for every kind of agent, in a one-game and a batched form.

A :class:`Policy` sees only its own observation and a ``numpy.random.Generator``, and returns an
action. Before the first episode a runner calls :meth:`Policy.bind` with the seat it plays (agent
id and the layout of its observation), so heuristics read pieces by name through
:attr:`Policy.view`; they never see the env object or another agent.

Two ways to ask for actions, which agree:

- :meth:`Policy.act` takes one game's observation (the PettingZoo env's dict: ``observations``
  and the tuple ``action_mask``) and returns one action;
- :meth:`Policy.act_batch` takes ``N`` observations of the seat's role at once (float
  ``[N, D]``, e.g. one seat across ``N`` games, or every member seat of a game) with their masks
  (bool ``[N, K]``, the per-component masks concatenated) and returns ``[N, C]``. Its ``rng`` is
  either one generator for all rows or one per row; with one per row, row ``i`` is exactly
  ``act`` on observation ``i`` with generator ``i``.

A policy implements one of the two; the base class derives the other (heuristics and trained
policies implement the batched form, so ``act`` is one row of it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from reassurance.envs.actions import COMPONENTS, Role, component_index, nvec
from reassurance.envs.masks import concatenate, split
from reassurance.envs.observation import Layout, ObservationView

__all__ = ["Policy", "Seat", "Rng"]

Rng = np.random.Generator | Sequence[np.random.Generator]
"""One generator for a whole batch, or one per row."""


@dataclass(frozen=True)
class Seat:
    """What a policy may know about where it sits: its agent id, role and observation layout."""

    agent: str
    role: Role
    layout: Layout

    @classmethod
    def of(cls, env: Any, agent: str) -> Seat:
        """The seat of ``agent`` in a :class:`~reassurance.envs.CoalitionEnv`."""
        return cls(agent=agent, role=env.role(agent), layout=env.observation_layout(agent))


class Policy(ABC):  # noqa: B024 - one of act and act_batch is required (__init_subclass__)
    """Base class of every agent. Subclasses set ``name``, ``role``, ``doctrine`` and ``tags``."""

    name: ClassVar[str] = ""
    role: ClassVar[str] = ""  # member, usa, ukraine or russia
    doctrine: ClassVar[str] = ""  # the doctrine in one sentence
    tags: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        self._seat: Seat | None = None

    @property
    def id(self) -> str:
        return f"{self.role}/{self.name}"

    def bind(self, seat: Seat) -> None:
        """Take a seat; called once before play."""
        if seat.role is not Role.named(self.role):
            raise ValueError(
                f"policy {self.id!r} plays role {self.role!r}, not the seat of {seat.agent!r} "
                f"(role {seat.role.name.lower()})"
            )
        self._seat = seat

    @property
    def seat(self) -> Seat:
        if self._seat is None:
            raise RuntimeError(f"policy {self.id!r} has no seat: call bind(Seat.of(env, agent))")
        return self._seat

    def view(self, observation: Mapping[str, np.ndarray]) -> ObservationView:
        """Read the observation by piece name."""
        return ObservationView(self.seat.layout, observation["observations"])

    def reset(self) -> None:  # noqa: B027 - a no-op by default, overridden by stateful policies
        """Forget everything from the last episode (stateless policies need nothing)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.act is Policy.act and cls.act_batch is Policy.act_batch:
            raise TypeError(f"{cls.__name__} must implement act or act_batch")

    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """Return an action in the seat's ``MultiDiscrete`` space for one game's observation."""
        vector = np.asarray(observation["observations"])[None]
        masks = concatenate(observation["action_mask"])[None]
        return self.act_batch(vector, masks, [rng])[0]

    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Rng) -> np.ndarray:
        """Actions ``[N, C]`` (int64) for ``N`` observations ``[N, D]`` of this seat's role with
        their concatenated masks ``[N, K]``; ``rng`` is one generator or one per row."""
        role = self.seat.role
        rows = _row_generators(rng, len(observations))
        return np.stack(
            [
                self.act({"observations": vector, "action_mask": tuple(split(mask, role))}, g)
                for vector, mask, g in zip(observations, masks, rows, strict=True)
            ]
        ).reshape(len(observations), len(COMPONENTS[role]))


def _row_generators(rng: Rng, n: int) -> Sequence[np.random.Generator]:
    if isinstance(rng, np.random.Generator):
        return [rng] * n
    if len(rng) != n:
        raise ValueError(f"got {len(rng)} generators for {n} observations; give one per row")
    return rng


class Heuristic(Policy):
    """A doctrine written as a rule over a batch of views; :meth:`decide` names components, the
    rest stay no-ops, and a value the mask forbids is played as the component's no-op."""

    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Rng) -> np.ndarray:
        role = self.seat.role
        n = len(observations)
        action = np.zeros((n, len(COMPONENTS[role])), np.int64)
        offsets = np.concatenate([[0], np.cumsum(nvec(role))[:-1]])
        rows = np.arange(n)
        view = ObservationView(self.seat.layout, observations)
        for name, value in self.decide(view, rng).items():
            index = component_index(role, name)
            chosen = np.broadcast_to(np.asarray(value, np.int64), (n,))
            legal = masks[rows, offsets[index] + chosen]
            action[:, index] = np.where(legal, chosen, 0)
        return action

    @abstractmethod
    def decide(self, view: ObservationView, rng: Rng) -> dict[str, Any]:
        """Component name -> value, one per row of ``view`` (an array ``[N]``) or one for all
        rows (a number); illegal choices fall back to the no-op."""


class RandomPolicy(Policy):
    """Uniform over legal values of every component."""

    name = "random"
    doctrine = "Chooses uniformly among the legal values of every action component."
    tags = frozenset({"random", "baseline"})

    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        return np.array(
            [rng.choice(np.flatnonzero(m)) for m in observation["action_mask"]], dtype=np.int64
        )

    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Rng) -> np.ndarray:
        parts = split(masks, self.seat.role)
        if isinstance(rng, np.random.Generator):
            return np.stack(
                [np.argmax(np.where(p, rng.random(p.shape), -1.0), axis=-1) for p in parts],
                axis=-1,
            ).astype(np.int64)
        # One stream per row: act's draws exactly. act picks each component's value with
        # rng.choice over its legal values, which draws integers(0, count); one integers call
        # with the row's counts draws the same numbers in the same order (tests/test_agents.py).
        rows = _row_generators(rng, len(observations))
        counts = np.stack([p.sum(axis=-1) for p in parts], axis=-1)  # [N, C] legal values
        picks = np.stack([g.integers(0, c) for g, c in zip(rows, counts, strict=True)])
        # the pick-th legal value of each component: the first position where the running
        # count of legal values passes it
        return np.stack(
            [
                np.argmax(np.cumsum(p, axis=-1) > picks[:, [k]], axis=-1)
                for k, p in enumerate(parts)
            ],
            axis=-1,
        ).astype(np.int64)
