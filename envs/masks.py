"""Legal actions: which value of each action component a state allows.

Value 0 of every component is the no-op and always legal; the rules execute a masked value as
that no-op. Masks come from the state and its :func:`~reassurance.envs.figures.derived`
figures, so the env computes them once per state from the step's result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reassurance.envs.actions import (
    COMPONENTS,
    Commit,
    MemberResponse,
    PendingOffer,
    Phase,
    Role,
    RussiaCeasefire,
    UkraineCeasefire,
    UsResponse,
    nvec,
)
from reassurance.envs.figures import Derived
from reassurance.envs.state import Params, State

__all__ = ["apply_masks", "concatenate", "legal_masks", "split"]

_EPS = 1e-9  # troops (thousands) below which a deployment counts as none


def _all_legal(role: Role, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {c.name: np.ones((*shape, c.n), bool) for c in COMPONENTS[role]}


def legal_masks(params: Params, s: State, d: Derived) -> dict[Role, list[np.ndarray]]:
    """Legal values per role and component, ``d`` being ``derived(params, s)``.

    Returns, per role, one boolean array per component in component order: ``[B, n]`` for the
    US, Ukraine and Russia and ``[B, M, n]`` for members.

    - member: deploy needs troops pledged beyond those deployed, the pledge's condition met and
      no failed vote blocking; withdraw needs troops deployed; a response needs a ceasefire, and
      reinforcing or engaging needs troops in place.
    - usa: a response needs a ceasefire.
    - ukraine: an offer needs talks or war and no pending offer; accepting needs Russia's offer;
      retaliation needs war, talks or a detected violation.
    - russia: offensive and strikes need war or talks; an offer needs talks and no pending
      offer; accepting needs Ukraine's offer; a test needs a ceasefire.
    """
    B, M = s.batch_size, params.n_members
    talks = (s.phase == Phase.WAR) | (s.phase == Phase.NEGOTIATION)
    no_pending = s.pending == PendingOffer.NONE
    russia_offered = (s.pending == PendingOffer.RUSSIA_NO_FOREIGN_TROOPS) | (
        s.pending == PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED
    )

    member = _all_legal(Role.MEMBER, (B, M))
    has_troops = s.deployed_k > _EPS
    member["commit"][..., Commit.DEPLOY] = (
        (d.pledged_k > s.deployed_k + _EPS) & d.condition_met & (s.vote_cooldown == 0)
    )
    member["commit"][..., Commit.WITHDRAW] = has_troops
    member["response"][..., MemberResponse.PROTEST :] = d.ceasefire[:, None, None]
    member["response"][..., MemberResponse.REINFORCE :] &= has_troops[..., None]

    usa = _all_legal(Role.USA, (B,))
    usa["response"][:, UsResponse.STATEMENT :] = d.ceasefire[:, None]

    ukraine = _all_legal(Role.UKRAINE, (B,))
    ukraine["ceasefire"][:, UkraineCeasefire.OFFER] = talks & no_pending
    ukraine["ceasefire"][:, UkraineCeasefire.ACCEPT] = russia_offered
    ukraine["retaliate"][:, 1] = talks | s.violation_detected

    russia = _all_legal(Role.RUSSIA, (B,))
    russia["offensive"][:, 1:] = talks[:, None]
    russia["strikes"][:, 1] = talks
    offer = talks & no_pending
    russia["ceasefire"][:, RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS] = offer
    russia["ceasefire"][:, RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED] = offer
    russia["ceasefire"][:, RussiaCeasefire.ACCEPT] = s.pending == PendingOffer.UKRAINE
    russia["test"][:, 1:] = d.ceasefire[:, None]
    named = {Role.MEMBER: member, Role.USA: usa, Role.UKRAINE: ukraine, Role.RUSSIA: russia}
    return {role: [named[role][c.name] for c in COMPONENTS[role]] for role in Role}


def concatenate(masks: Sequence[np.ndarray]) -> np.ndarray:
    """Per-component masks -> one boolean vector ``[..., K]`` aligned with the concatenated
    logits of a ``MultiDiscrete`` action distribution (what the batched core, the policies'
    ``act_batch`` and the RLlib modules take)."""
    return np.concatenate([np.asarray(m, bool) for m in masks], axis=-1)


def split(masks: np.ndarray, role: Role) -> list[np.ndarray]:
    """Concatenated masks ``[..., K]`` -> one array ``[..., n_c]`` per action component."""
    return np.split(masks, np.cumsum(nvec(role))[:-1], axis=-1)


def apply_masks(actions: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """Replace every masked component value by 0, the component's no-op."""
    legal = np.stack(
        [
            np.take_along_axis(m, actions[..., i : i + 1], axis=-1)[..., 0]
            for i, m in enumerate(masks)
        ],
        axis=-1,
    )
    return np.where(legal, actions, 0)
