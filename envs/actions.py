"""Action vocabulary: the components of every role's ``MultiDiscrete`` action.

Each role's action is a vector with one entry per component, in the order of the role's
``*_COMPONENTS`` tuple. Value 0 of every component is the no-op (keep, hold, none, silent,
comply) and is legal in every state; a masked value is executed as that no-op.

Every value carries an escalation category on the Rivera et al. (2024) scale and a rung on a
Kahn-style ladder (see :data:`RUNG_NAMES`); the env reports, per agent and step, the highest
category and rung among the components the agent chose.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np


class Phase(IntEnum):
    WAR = 0
    NEGOTIATION = 1
    DEPLOYMENT = 2
    TEST = 3


class Role(IntEnum):
    MEMBER = 0
    USA = 1
    UKRAINE = 2
    RUSSIA = 3


class PledgeChange(IntEnum):
    """Member component ``pledge``: keep the pledge or set it to a share of capacity."""

    KEEP = 0
    NONE = 1
    TOKEN = 2
    PCT5 = 3
    PCT10 = 4
    PCT20 = 5


class Contribution(IntEnum):
    GROUND = 0
    AIR = 1
    MARITIME = 2
    ISR = 3
    LOGISTICS = 4
    TRAINING = 5
    FORTIFICATION = 6


class Condition(IntEnum):
    UNCONDITIONAL = 0
    IF_US_BACKSTOP = 1
    AFTER_CEASEFIRE = 2


class Commit(IntEnum):
    HOLD = 0
    DEPLOY = 1
    WITHDRAW = 2


class MemberResponse(IntEnum):
    NONE = 0
    PROTEST = 1
    SANCTIONS = 2
    REINFORCE = 3
    ENGAGE = 4


class Signal(IntEnum):
    SILENT = 0
    VERBAL = 1
    CONDITIONAL = 2
    FORMAL = 3


class Pressure(IntEnum):
    NONE = 0
    ON_UKRAINE = 1
    SANCTIONS_ON_RUSSIA = 2


class UsResponse(IntEnum):
    NONE = 0
    STATEMENT = 1
    SANCTIONS = 2
    ISR_AIR_COVER = 3
    STRIKES = 4


class UkraineCeasefire(IntEnum):
    NONE = 0
    OFFER = 1
    ACCEPT = 2


class Demand(IntEnum):
    NONE = 0
    FORCE = 1
    FORCE_AND_BACKSTOP = 2


class RussiaCeasefire(IntEnum):
    NONE = 0
    OFFER_NO_FOREIGN_TROOPS = 1
    OFFER_FOREIGN_TROOPS_ALLOWED = 2
    ACCEPT = 3


class TestAction(IntEnum):
    __test__ = False  # not a pytest class

    COMPLY = 0
    PROBE = 1
    LIMITED_VIOLATION = 2
    MAJOR_OFFENSIVE = 3


class Threat(IntEnum):
    NONE = 0
    RHETORIC = 1
    NUCLEAR_SIGNALLING = 2


class PendingOffer(IntEnum):
    NONE = 0
    RUSSIA_NO_FOREIGN_TROOPS = 1
    RUSSIA_FOREIGN_TROOPS_ALLOWED = 2
    UKRAINE = 3


class Escalation(IntEnum):
    """Rivera et al. (2024) categories; their scores are scenario parameters."""

    DE_ESCALATION = 0
    STATUS_QUO = 1
    POSTURING = 2
    NON_VIOLENT = 3
    VIOLENT = 4
    NUCLEAR = 5


ESCALATION_KEYS = ("de_escalation", "status_quo", "posturing", "non_violent", "violent", "nuclear")

RUNG_NAMES = (
    "no crisis",
    "political and diplomatic gestures",
    "economic measures",
    "show of force",
    "grey-zone harassment",
    "limited conventional force",
    "major conventional force",
    "nuclear signalling",
)


class Component(NamedTuple):
    """One entry of a role's action vector."""

    name: str
    labels: tuple[str, ...]
    escalation: tuple[Escalation, ...]
    rung: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.labels)


def _names(enum: type[IntEnum]) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in enum)


_E = Escalation

MEMBER_COMPONENTS = (
    Component(
        "pledge",
        _names(PledgeChange),
        (_E.STATUS_QUO, _E.DE_ESCALATION, _E.POSTURING, _E.POSTURING, _E.POSTURING, _E.POSTURING),
        (0, 0, 1, 3, 3, 3),
    ),
    Component("contribution", _names(Contribution), (_E.STATUS_QUO,) * 7, (0,) * 7),
    Component("condition", _names(Condition), (_E.STATUS_QUO,) * 3, (0,) * 3),
    Component(
        "commit",
        _names(Commit),
        (_E.STATUS_QUO, _E.POSTURING, _E.DE_ESCALATION),
        (0, 3, 0),
    ),
    Component(
        "response",
        _names(MemberResponse),
        (_E.STATUS_QUO, _E.POSTURING, _E.NON_VIOLENT, _E.POSTURING, _E.VIOLENT),
        (0, 1, 2, 3, 6),
    ),
    Component(
        "aid",
        ("none", "low", "medium", "high"),
        (_E.STATUS_QUO, _E.NON_VIOLENT, _E.NON_VIOLENT, _E.NON_VIOLENT),
        (0, 2, 2, 2),
    ),
)

USA_COMPONENTS = (
    Component(
        "signal",
        _names(Signal),
        (_E.STATUS_QUO, _E.POSTURING, _E.POSTURING, _E.POSTURING),
        (0, 1, 1, 3),
    ),
    Component(
        "enablers",
        ("none", "low", "medium", "high"),
        (_E.STATUS_QUO, _E.POSTURING, _E.POSTURING, _E.POSTURING),
        (0, 3, 3, 3),
    ),
    Component(
        "pressure",
        _names(Pressure),
        (_E.STATUS_QUO, _E.NON_VIOLENT, _E.NON_VIOLENT),
        (0, 2, 2),
    ),
    Component(
        "response",
        _names(UsResponse),
        (_E.STATUS_QUO, _E.POSTURING, _E.NON_VIOLENT, _E.NON_VIOLENT, _E.VIOLENT),
        (0, 1, 2, 3, 6),
    ),
)

UKRAINE_COMPONENTS = (
    Component(
        "defence",
        ("none", "low", "medium", "high"),
        (_E.STATUS_QUO,) * 4,
        (0, 0, 0, 0),
    ),
    Component("fortify", ("no", "yes"), (_E.STATUS_QUO, _E.POSTURING), (0, 3)),
    Component(
        "ceasefire",
        _names(UkraineCeasefire),
        (_E.STATUS_QUO, _E.DE_ESCALATION, _E.DE_ESCALATION),
        (0, 0, 0),
    ),
    Component("demand", _names(Demand), (_E.STATUS_QUO, _E.POSTURING, _E.POSTURING), (0, 1, 1)),
    Component("retaliate", ("no", "strike"), (_E.STATUS_QUO, _E.VIOLENT), (0, 5)),
)

RUSSIA_COMPONENTS = (
    Component(
        "offensive",
        ("none", "low", "medium", "high"),
        (_E.STATUS_QUO, _E.VIOLENT, _E.VIOLENT, _E.VIOLENT),
        (0, 5, 5, 6),
    ),
    Component("strikes", ("no", "yes"), (_E.STATUS_QUO, _E.VIOLENT), (0, 5)),
    Component(
        "ceasefire",
        _names(RussiaCeasefire),
        (_E.STATUS_QUO, _E.DE_ESCALATION, _E.DE_ESCALATION, _E.DE_ESCALATION),
        (0, 0, 0, 0),
    ),
    Component(
        "test",
        _names(TestAction),
        (_E.STATUS_QUO, _E.NON_VIOLENT, _E.VIOLENT, _E.VIOLENT),
        (0, 4, 5, 6),
    ),
    Component(
        "threat",
        _names(Threat),
        (_E.STATUS_QUO, _E.POSTURING, _E.NUCLEAR),
        (0, 1, 7),
    ),
)

COMPONENTS: dict[Role, tuple[Component, ...]] = {
    Role.MEMBER: MEMBER_COMPONENTS,
    Role.USA: USA_COMPONENTS,
    Role.UKRAINE: UKRAINE_COMPONENTS,
    Role.RUSSIA: RUSSIA_COMPONENTS,
}


def nvec(role: Role) -> np.ndarray:
    """Component sizes of a role's ``MultiDiscrete`` action."""
    return np.array([c.n for c in COMPONENTS[role]], dtype=np.int64)


def component_index(role: Role, name: str) -> int:
    """Position of a named component in a role's action vector."""
    for i, component in enumerate(COMPONENTS[role]):
        if component.name == name:
            return i
    names = [c.name for c in COMPONENTS[role]]
    raise ValueError(f"role {role.name.lower()} has no component {name!r}; it has {names}")


def escalation_tables(role: Role) -> tuple[np.ndarray, np.ndarray]:
    """Padded tables ``[n_components, max_n]`` of escalation category and rung per value."""
    components = COMPONENTS[role]
    width = max(c.n for c in components)
    category = np.zeros((len(components), width), dtype=np.int64)
    rung = np.zeros((len(components), width), dtype=np.int64)
    for i, c in enumerate(components):
        category[i, : c.n] = [int(e) for e in c.escalation]
        rung[i, : c.n] = c.rung
    return category, rung
