"""The agent registry: ``make("member/conditional-on-us")``, ``list_agents(role=...)``."""

from __future__ import annotations

from typing import Any

from reassurance.agents import doctrines as d
from reassurance.agents.grid import GridProfile
from reassurance.agents.policy import Policy, RandomPolicy
from reassurance.envs.actions import ROLE_IDS, Role, agent_role

__all__ = ["make", "list_agents", "role_of", "agent_class"]


def _random_for(role: str) -> type[Policy]:
    return type(f"Random{role.title()}", (RandomPolicy,), {"role": role, "__module__": __name__})


_CLASSES: tuple[type[Policy], ...] = (
    *(_random_for(role) for role in ROLE_IDS),
    d.Unconditional, d.ConditionalOnUS, d.FreeRider, d.Leader, d.HomeDefender, d.Reciprocator,
    d.PledgeAndRenege,
    d.ByType, d.Disengaged, d.WordsOnly, d.ConditionalBackstop, d.CommittedGuarantor,
    d.Transactional,
    d.Opportunist, d.Hawk, d.Negotiator, d.SalamiSlicer,
    d.Holdout, d.AcceptsWithGuarantees,
)  # fmt: skip
_REGISTRY: dict[str, type[Policy]] = {f"{c.role}/{c.name}": c for c in _CLASSES}
_ANALYSIS: dict[str, type[Policy]] = {f"{c.role}/{c.name}": c for c in (GridProfile,)}
"""Agents that analyses seat by id (e.g. as fixed training opponents) but that are not players
to list: :func:`list_agents` leaves them out, :func:`make` makes them."""


def agent_class(agent_id: str) -> type[Policy]:
    """The class registered under ``agent_id`` (``role/name``)."""
    try:
        return _REGISTRY.get(agent_id) or _ANALYSIS[agent_id]
    except KeyError:
        raise ValueError(
            f"unknown agent {agent_id!r}; registered: {sorted(_REGISTRY)}; for analyses: "
            f"{sorted(_ANALYSIS)}"
        ) from None


def make(agent_id: str, **params: Any) -> Policy:
    """A new policy of the registered kind, e.g. ``make("usa/transactional", europe_share=0.6)``."""
    return agent_class(agent_id)(**params)


def list_agents(role: str | None = None, tag: str | None = None) -> list[str]:
    """Registered agent ids, filtered by role (member, usa, ukraine, russia) and by tag."""
    if role is not None:
        Role.named(role)  # an unknown role is an error naming the roles
    return sorted(
        agent_id
        for agent_id, cls in _REGISTRY.items()
        if (role is None or cls.role == role) and (tag is None or tag in cls.tags)
    )


def role_of(agent: str) -> str:
    """The role of an env agent id: ``usa``, ``ukraine``, ``russia``, else ``member``."""
    return agent_role(agent).id
