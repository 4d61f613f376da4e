"""One interface for every kind of agent.

A :class:`Policy` sees only its own observation (the env's dict: ``observations`` and
``action_mask``) and a ``numpy.random.Generator``, and returns an action. Before the first
episode a runner calls :meth:`Policy.bind` with the seat it plays (agent id and the layout of its
observation), so heuristics read pieces by name through :attr:`Policy.view`; they never see the
env object or another agent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from reassurance.envs.actions import COMPONENTS, Role, component_index
from reassurance.envs.observation import Layout, ObservationView

__all__ = ["Policy", "Seat", "ROLE_NAMES"]

ROLE_NAMES = {
    "member": Role.MEMBER,
    "usa": Role.USA,
    "ukraine": Role.UKRAINE,
    "russia": Role.RUSSIA,
}


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


class Policy(ABC):
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
        if seat.role is not ROLE_NAMES[self.role]:
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

    @abstractmethod
    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """Return an action in the seat's ``MultiDiscrete`` space."""


class Heuristic(Policy):
    """A doctrine written as a rule; :meth:`decide` names components, the rest stay no-ops."""

    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        mask = observation["action_mask"]
        role = self.seat.role
        action = np.zeros(len(COMPONENTS[role]), np.int64)
        for name, value in self.decide(self.view(observation), rng).items():
            index = component_index(role, name)
            if mask[index][int(value)]:
                action[index] = int(value)
        return action

    @abstractmethod
    def decide(self, view: ObservationView, rng: np.random.Generator) -> dict[str, int]:
        """Component name -> value; illegal choices fall back to the no-op."""


class RandomPolicy(Policy):
    """Uniform over legal values of every component."""

    name = "random"
    doctrine = "Chooses uniformly among the legal values of every action component."
    tags = frozenset({"random", "baseline"})

    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        return np.array(
            [rng.choice(np.flatnonzero(m)) for m in observation["action_mask"]], dtype=np.int64
        )
