"""Legal actions: which value of each action component a state allows.

Value 0 of every component is the no-op and always legal; the rules execute a masked value as
that no-op. The masks of a state are built once, with its figures: :func:`legal` builds them,
:func:`~reassurance.envs.figures.derived` keeps them (``Derived.masks``), and everything else
reads them there. Per role they are one boolean array with the components side by side
(``[B, M, K]`` for members, ``[B, K]`` for the others, ``K = sum(nvec(role))``), aligned with the
concatenated logits of a ``MultiDiscrete`` action distribution; :func:`legal_masks` gives the
same masks per component (views, no copy).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from reassurance.envs.actions import (
    Commit,
    MemberResponse,
    PendingOffer,
    Phase,
    Role,
    RussiaCeasefire,
    UkraineCeasefire,
    UsResponse,
    component_index,
    nvec,
)
from reassurance.envs.state import Params, State

if TYPE_CHECKING:
    from reassurance.envs.figures import Derived

__all__ = ["ComponentMasks", "apply_masks", "concatenate", "legal", "legal_masks", "split"]

_EPS = 1e-9  # troops (thousands) below which a deployment counts as none

_OFFSETS = {role: np.concatenate([[0], np.cumsum(nvec(role))]) for role in Role}
_SLICES = {
    role: tuple(slice(int(a), int(b)) for a, b in zip(o[:-1], o[1:], strict=True))
    for role, o in _OFFSETS.items()
}


def _column(role: Role, component: str, value: int) -> int:
    """Position of one value of one component in a role's concatenated mask."""
    return int(_OFFSETS[role][component_index(role, component)]) + int(value)


def _end(role: Role, component: str) -> int:
    """One past the last value of a component in a role's concatenated mask."""
    return int(_OFFSETS[role][component_index(role, component) + 1])


# The columns a state can forbid, as plain ints (numpy compares arrays with IntEnums slowly).
_DEPLOY = _column(Role.MEMBER, "commit", Commit.DEPLOY)
_WITHDRAW = _column(Role.MEMBER, "commit", Commit.WITHDRAW)
_PROTEST = _column(Role.MEMBER, "response", MemberResponse.PROTEST)
_REINFORCE = _column(Role.MEMBER, "response", MemberResponse.REINFORCE)
_MEMBER_RESPONSE_END = _end(Role.MEMBER, "response")
_US_STATEMENT = _column(Role.USA, "response", UsResponse.STATEMENT)
_US_RESPONSE_END = _end(Role.USA, "response")
_UA_OFFER = _column(Role.UKRAINE, "ceasefire", UkraineCeasefire.OFFER)
_UA_ACCEPT = _column(Role.UKRAINE, "ceasefire", UkraineCeasefire.ACCEPT)
_UA_RETALIATE = _column(Role.UKRAINE, "retaliate", 1)
_RU_OFFENSIVE = _column(Role.RUSSIA, "offensive", 1)
_RU_OFFENSIVE_END = _end(Role.RUSSIA, "offensive")
_RU_STRIKES = _column(Role.RUSSIA, "strikes", 1)
_RU_OFFER = _column(Role.RUSSIA, "ceasefire", RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS)
_RU_OFFER_END = _column(Role.RUSSIA, "ceasefire", RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED) + 1
_RU_ACCEPT = _column(Role.RUSSIA, "ceasefire", RussiaCeasefire.ACCEPT)
_RU_TEST = _column(Role.RUSSIA, "test", 1)
_RU_TEST_END = _end(Role.RUSSIA, "test")
_WAR, _NEGOTIATION = int(Phase.WAR), int(Phase.NEGOTIATION)
_NO_OFFER, _UKRAINE_OFFER = int(PendingOffer.NONE), int(PendingOffer.UKRAINE)
_RUSSIA_OFFERS = (
    int(PendingOffer.RUSSIA_NO_FOREIGN_TROOPS),
    int(PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED),
)


def legal(
    params: Params,
    s: State,
    *,
    pledged_k: np.ndarray,
    condition_met: np.ndarray,
    ceasefire: np.ndarray,
) -> dict[Role, np.ndarray]:
    """The legal values of every component, per role side by side: ``[B, M, K]`` for members,
    ``[B, K]`` for the others (``pledged_k``, ``condition_met``, ``ceasefire``: the state's
    figures, :class:`~reassurance.envs.figures.Derived`).

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
    talks = (s.phase == _WAR) | (s.phase == _NEGOTIATION)
    pending = s.pending
    offer = talks & (pending == _NO_OFFER)

    member = np.ones((B, M, _OFFSETS[Role.MEMBER][-1]), bool)
    has_troops = s.deployed_k > _EPS
    member[..., _DEPLOY] = (
        (pledged_k > s.deployed_k + _EPS) & condition_met & (s.vote_cooldown == 0)
    )
    member[..., _WITHDRAW] = has_troops
    member[..., _PROTEST:_REINFORCE] = ceasefire[:, None, None]
    member[..., _REINFORCE:_MEMBER_RESPONSE_END] = (ceasefire[:, None] & has_troops)[..., None]

    usa = np.ones((B, _OFFSETS[Role.USA][-1]), bool)
    usa[:, _US_STATEMENT:_US_RESPONSE_END] = ceasefire[:, None]

    ukraine = np.ones((B, _OFFSETS[Role.UKRAINE][-1]), bool)
    ukraine[:, _UA_OFFER] = offer
    ukraine[:, _UA_ACCEPT] = (pending == _RUSSIA_OFFERS[0]) | (pending == _RUSSIA_OFFERS[1])
    ukraine[:, _UA_RETALIATE] = talks | s.violation_detected

    russia = np.ones((B, _OFFSETS[Role.RUSSIA][-1]), bool)
    russia[:, _RU_OFFENSIVE:_RU_OFFENSIVE_END] = talks[:, None]
    russia[:, _RU_STRIKES] = talks
    russia[:, _RU_OFFER:_RU_OFFER_END] = offer[:, None]
    russia[:, _RU_ACCEPT] = pending == _UKRAINE_OFFER
    russia[:, _RU_TEST:_RU_TEST_END] = ceasefire[:, None]
    return {Role.MEMBER: member, Role.USA: usa, Role.UKRAINE: ukraine, Role.RUSSIA: russia}


class ComponentMasks(list):
    """One role's masks per component (views of ``whole``, the role's masks side by side)."""

    def __init__(self, role: Role, whole: np.ndarray) -> None:
        super().__init__(whole[..., where] for where in _SLICES[role])
        self.role = role
        self.whole = whole


def legal_masks(params: Params, s: State, d: Derived) -> dict[Role, ComponentMasks]:
    """Legal values per role and component (see :func:`legal`), ``d`` being
    ``derived(params, s)``: ``[B, n]`` for the US, Ukraine and Russia and ``[B, M, n]`` for
    members, one boolean array per component in component order (views of ``d.masks``)."""
    return {role: ComponentMasks(role, whole) for role, whole in d.masks.items()}


def concatenate(masks: Sequence[np.ndarray]) -> np.ndarray:
    """Per-component masks -> one boolean vector ``[..., K]`` aligned with the concatenated
    logits of a ``MultiDiscrete`` action distribution (what the batched core, the policies'
    ``act_batch`` and the RLlib modules take)."""
    return np.concatenate([np.asarray(m, bool) for m in masks], axis=-1)


def split(masks: np.ndarray, role: Role) -> list[np.ndarray]:
    """Concatenated masks ``[..., K]`` -> one array ``[..., n_c]`` per action component (views)."""
    return [masks[..., where] for where in _SLICES[role]]


@functools.lru_cache(maxsize=8)
def _flat_positions(role: Role, rows: int) -> np.ndarray:
    """``[rows * C]``: where component ``c`` of row ``r`` starts in ``whole.reshape(-1)``."""
    width = int(_OFFSETS[role][-1])
    starts = np.arange(rows, dtype=np.int64)[:, None] * width + _OFFSETS[role][:-1]
    positions = starts.reshape(-1)
    positions.flags.writeable = False
    return positions


def apply_masks(actions: np.ndarray, masks: Sequence[np.ndarray]) -> np.ndarray:
    """Replace every masked component value by 0, the component's no-op (``actions``: integers
    ``[..., C]``; ``masks``: one boolean array ``[..., n_c]`` per component)."""
    if isinstance(masks, ComponentMasks) and masks.whole.flags.c_contiguous:
        # one gather from the masks side by side: flat position of (row, component, value)
        whole = masks.whole
        flat = np.ascontiguousarray(actions, np.int64).reshape(-1)
        positions = _flat_positions(masks.role, flat.size // len(masks))
        legal = np.take(whole.reshape(-1), flat + positions).reshape(actions.shape)
    else:
        legal = np.stack(
            [
                np.take_along_axis(m, actions[..., i : i + 1], axis=-1)[..., 0]
                for i, m in enumerate(masks)
            ],
            axis=-1,
        )
    return np.where(legal, actions, 0)
