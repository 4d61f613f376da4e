"""Standing member strategies: the equilibrium analyser's grid, as actions and as policies.

A :class:`MemberStrategy` is a whole-game plan (stay out, or pledge a level of a contribution
type on a condition, deploy it whenever the condition allows, and hold a response to
violations). :func:`member_actions` turns a batch of chosen strategies into actions;
:class:`GridMember` plays one strategy as a policy, and :class:`GridProfile` (registered as
``member/grid-profile``, an analysis agent that tournaments and the classroom do not list) plays
a whole profile, each member its own strategy, so that a profile of the analyser can be set as
the fixed members a policy trains against.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reassurance.agents.policy import Policy
from reassurance.envs.actions import (
    Commit,
    Condition,
    Contribution,
    MemberResponse,
    PledgeChange,
    Role,
    component_index,
)
from reassurance.envs.masks import apply_masks, split
from reassurance.envs.observation import ObservationView

__all__ = ["GridMember", "GridProfile", "MemberStrategy", "member_actions"]

_LEVELS = ("token", "pct5", "pct10", "pct20")


@dataclass(frozen=True)
class MemberStrategy:
    """A member's standing strategy for the whole game.

    ``level`` 0 stays out (no pledge, no deployment, protests violations). Otherwise the member
    pledges, at its first move, ``level`` (1 token, 2 five, 3 ten, 4 twenty per cent of its
    deployable troops) of ``kind`` on ``condition`` (unconditional, if the US signals at least a
    conditional backstop, after a ceasefire), orders ``deploy`` every step (so the pledge
    deploys as soon as its condition holds and its parliament, if it votes, approves), never
    withdraws, gives no aid, and holds ``response`` against violations.
    """

    level: int
    kind: Contribution = Contribution.GROUND
    condition: Condition = Condition.UNCONDITIONAL
    response: MemberResponse = MemberResponse.PROTEST

    @property
    def label(self) -> str:
        if self.level == 0:
            return "out"
        level = _LEVELS[self.level - 1]
        return (
            f"{level}/{self.kind.name.lower()}/{self.condition.name.lower()}/"
            f"{self.response.name.lower()}"
        )

    @classmethod
    def from_label(cls, label: str) -> MemberStrategy:
        """The strategy named ``label`` (as :attr:`label` writes it, e.g.
        ``"pct20/ground/unconditional/reinforce"`` or ``"out"``).

        Raises:
            ValueError: a label that names no strategy (the message says the form).
        """
        if label == "out":
            return cls(0)
        parts = label.split("/")
        try:
            level, kind, condition, response = parts
            return cls(
                _LEVELS.index(level) + 1,
                Contribution[kind.upper()],
                Condition[condition.upper()],
                MemberResponse[response.upper()],
            )
        except (ValueError, KeyError):
            raise ValueError(
                f"member strategy {label!r}: 'out' or LEVEL/TYPE/CONDITION/RESPONSE with LEVEL in "
                f"{', '.join(_LEVELS)}, TYPE in {', '.join(c.name.lower() for c in Contribution)}, "
                f"CONDITION in {', '.join(c.name.lower() for c in Condition)}, RESPONSE in "
                f"{', '.join(r.name.lower() for r in MemberResponse)}"
            ) from None


def member_actions(
    view: ObservationView, grid: Sequence[MemberStrategy], chosen: np.ndarray
) -> np.ndarray:
    """Actions ``[B, M, 6]`` of members playing ``grid[chosen[b, m]]`` (see
    :class:`MemberStrategy`); ``view`` reads the members' observations ``[B, M, D]``."""
    opening, standing = _action_tables(tuple(grid))
    first = view.index("self_pledge") == 0
    return np.where(first[..., None], opening[chosen], standing[chosen])


@functools.lru_cache(maxsize=64)
def _action_tables(grid: tuple[MemberStrategy, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each strategy's action ``[G, 6]`` at a member's first move (nothing pledged yet), and
    afterwards."""
    opening = np.zeros((len(grid), 6), np.int64)
    standing = np.zeros((len(grid), 6), np.int64)
    pledge = component_index(Role.MEMBER, "pledge")
    for g, s in enumerate(grid):
        for table in (opening, standing):
            table[g, pledge] = PledgeChange.KEEP
            table[g, component_index(Role.MEMBER, "commit")] = (
                Commit.DEPLOY if s.level > 0 else Commit.HOLD
            )
            table[g, component_index(Role.MEMBER, "response")] = (
                s.response if s.level > 0 else MemberResponse.PROTEST
            )
        if s.level > 0:
            opening[g, pledge] = s.level + 1
            opening[g, component_index(Role.MEMBER, "contribution")] = s.kind
            opening[g, component_index(Role.MEMBER, "condition")] = s.condition
    opening.flags.writeable = standing.flags.writeable = False
    return opening, standing


class GridMember(Policy):
    """A member playing one :class:`MemberStrategy` of the analyser's grid, as a policy (to set
    a grid strategy beside other policies, e.g. to test whether trained members could gain by
    switching to one). Stateless; draws nothing."""

    name = "grid"
    role = "member"
    doctrine = "Plays one standing strategy of the equilibrium analyser's grid."
    tags = frozenset({"analysis"})

    def __init__(self, strategy: MemberStrategy) -> None:
        super().__init__(strategy=strategy.label)
        self.strategy = strategy

    @property
    def id(self) -> str:
        return f"member/grid:{self.strategy.label}"

    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Any) -> np.ndarray:
        view = ObservationView(self.seat.layout, observations)
        chosen = np.zeros(len(observations), np.int64)
        action = member_actions(view, (self.strategy,), chosen)
        return apply_masks(action, split(masks, Role.MEMBER))


class GridProfile(Policy):
    """Every member playing its own :class:`MemberStrategy`: ``strategies`` holds one label per
    member, in the scenario's member order (a row's member is read from its ``self_id``), so one
    policy plays a whole profile of the analyser for all member seats (the fixed members a
    Russia trains against in the experiment's policy-space response oracles). Stateless; draws
    nothing."""

    name = "grid-profile"
    role = "member"
    doctrine = "Each member plays its own standing strategy of the analyser's grid (a profile)."
    tags = frozenset({"analysis"})

    def __init__(self, strategies: Sequence[str]) -> None:
        if (
            isinstance(strategies, str)
            or not strategies
            or not all(isinstance(s, str) for s in strategies)
        ):
            raise ValueError(
                f"member/grid-profile strategies {strategies!r}: a list of strategy labels, one "
                "per member in scenario order (e.g. ['out', 'pct20/ground/unconditional/protest'])"
            )
        super().__init__(strategies=list(strategies))
        self.grid = tuple(dict.fromkeys(MemberStrategy.from_label(s) for s in strategies))
        self._chosen = np.array(
            [self.grid.index(MemberStrategy.from_label(s)) for s in strategies], np.int64
        )

    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Any) -> np.ndarray:
        view = ObservationView(self.seat.layout, observations)
        member = view.index("self_id")
        if len(self._chosen) != view["self_id"].shape[-1]:
            raise ValueError(
                f"member/grid-profile has {len(self._chosen)} strategies for a game of "
                f"{view['self_id'].shape[-1]} members: give one per member, in scenario order"
            )
        action = member_actions(view, self.grid, self._chosen[member])
        return apply_masks(action, split(masks, Role.MEMBER))
