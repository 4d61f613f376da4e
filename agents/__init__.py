"""Policies for every role behind one interface: random, heuristic doctrines.

>>> from reassurance import agents
>>> policy = agents.make("member/conditional-on-us")

Still to come (see the agents issue): policies restored from training checkpoints
(``from_checkpoint``), golden-trace tests, and human play at a terminal.
"""

from reassurance.agents.match import DEFAULT_BOTS, MatchResult, play_match, seat_policies
from reassurance.agents.policy import Heuristic, Policy, RandomPolicy, Seat
from reassurance.agents.registry import agent_class, list_agents, make, role_of

__all__ = [
    "DEFAULT_BOTS",
    "MatchResult",
    "play_match",
    "seat_policies",
    "Heuristic",
    "Policy",
    "RandomPolicy",
    "Seat",
    "agent_class",
    "list_agents",
    "make",
    "role_of",
]
