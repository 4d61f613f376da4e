"""Policies for every role behind one interface: random, heuristic doctrines, trained
checkpoints and a human at a terminal.

>>> from reassurance import agents
>>> policy = agents.make("member/conditional-on-us")
>>> trained = agents.from_checkpoint("runs/classroom", role="member")  # doctest: +SKIP
"""

import os
from typing import TYPE_CHECKING

from reassurance.agents.human import HumanPolicy
from reassurance.agents.match import (
    DEFAULT_BOTS,
    MatchResult,
    play_match,
    play_matches,
    seat_policies,
)
from reassurance.agents.policy import Heuristic, Policy, RandomPolicy, Seat
from reassurance.agents.registry import agent_class, list_agents, make, role_of

if TYPE_CHECKING:
    from reassurance.agents.checkpoint import CheckpointPolicy


def from_checkpoint(
    path: "str | os.PathLike[str]", role: str, module_id: str | None = None, *, greedy: bool = False
) -> "CheckpointPolicy":
    """The policy a training run learned for ``role`` (see :mod:`reassurance.agents.checkpoint`).

    Imports torch on first use only, so the other agents load fast.
    """
    from reassurance.agents.checkpoint import from_checkpoint as load

    return load(path, role, module_id, greedy=greedy)


__all__ = [
    "DEFAULT_BOTS",
    "from_checkpoint",
    "MatchResult",
    "play_match",
    "play_matches",
    "seat_policies",
    "Heuristic",
    "HumanPolicy",
    "Policy",
    "RandomPolicy",
    "Seat",
    "agent_class",
    "list_agents",
    "make",
    "role_of",
]
