"""Action vocabulary: the components of every role's ``MultiDiscrete`` action.

Each role's action is a vector with one entry per component, in the order of the role's
``*_COMPONENTS`` tuple. Value 0 of every component is the no-op (keep, hold, none, silent,
comply) and is legal in every state; a masked value is executed as that no-op.

Every value carries an escalation category on the Rivera et al. (2024) scale and a rung on a
Kahn-style ladder (see :data:`RUNG_NAMES`); both come from the scenario (``escalation.actions``),
and the env reports, per agent and step, the highest category and rung among the components the
agent chose.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, NamedTuple

import numpy as np


class Phase(IntEnum):
    WAR = 0
    NEGOTIATION = 1
    DEPLOYMENT = 2
    TEST = 3


class Role(IntEnum):
    """The four role families. ``Role.USA.id`` is ``"usa"``: the name configs and tables use."""

    MEMBER = 0
    USA = 1
    UKRAINE = 2
    RUSSIA = 3

    @property
    def id(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, name: str) -> Role:
        """The role called ``name`` (``"member"``, ``"usa"``, ``"ukraine"``, ``"russia"``)."""
        if isinstance(name, str) and name in ROLE_IDS:
            return cls[name.upper()]
        raise ValueError(f"unknown role {name!r}; roles are {list(ROLE_IDS)}")


ROLE_IDS: tuple[str, ...] = tuple(role.id for role in Role)
"""The role names, in role order: member, usa, ukraine, russia."""

RoleId = Literal[ROLE_IDS]  # type: ignore[valid-type] - the same names, for pydantic schemas


def agent_role(agent: str) -> Role:
    """The role of an env agent id: the US, Ukraine and Russia are one agent each, named as
    their role; every other agent is a coalition member."""
    if agent in ("usa", "ukraine", "russia"):
        return Role.named(agent)
    return Role.MEMBER


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
    """One entry of a role's action vector: its name, the names of its values (value 0 is the
    no-op) and what it decides, in a player's words."""

    name: str
    labels: tuple[str, ...]
    description: str

    @property
    def n(self) -> int:
        return len(self.labels)


def _names(enum: type[IntEnum]) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in enum)


_LEVELS = ("none", "low", "medium", "high")

MEMBER_COMPONENTS = (
    Component(
        "pledge",
        _names(PledgeChange),
        "set your pledge to a share of your deployable troops (keep = no change)",
    ),
    Component("contribution", _names(Contribution), "the kind of force a new pledge offers"),
    Component("condition", _names(Condition), "when a new pledge may deploy"),
    Component(
        "commit",
        _names(Commit),
        "deploy your pledge (if its condition holds) or withdraw your troops",
    ),
    Component("response", _names(MemberResponse), "what you do if Russia violates the ceasefire"),
    Component("aid", _LEVELS, "military aid to Ukraine this turn"),
)

USA_COMPONENTS = (
    Component("signal", _names(Signal), "what you say about backing the force"),
    Component("enablers", _LEVELS, "US enablers in place (a costly, visible signal)"),
    Component("pressure", _names(Pressure), "press Ukraine to settle, or sanction Russia"),
    Component("response", _names(UsResponse), "what you do if Russia violates the ceasefire"),
)

UKRAINE_COMPONENTS = (
    Component("defence", _LEVELS, "defence effort this turn"),
    Component("fortify", ("no", "yes"), "build fortifications"),
    Component("ceasefire", _names(UkraineCeasefire), "offer a ceasefire, or accept Russia's offer"),
    Component("demand", _names(Demand), "what you demand as a guarantee before you accept"),
    Component("retaliate", ("no", "strike"), "strike back at Russia"),
)

RUSSIA_COMPONENTS = (
    Component("offensive", _LEVELS, "offensive intensity this turn"),
    Component("strikes", ("no", "yes"), "strike Ukraine's infrastructure"),
    Component(
        "ceasefire",
        _names(RussiaCeasefire),
        "offer a ceasefire (with or without foreign troops) or accept Ukraine's",
    ),
    Component("test", _names(TestAction), "test the ceasefire once one holds"),
    Component("threat", _names(Threat), "threats, up to nuclear signalling"),
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


_INDEX = {
    role: {c.name: i for i, c in enumerate(components)} for role, components in COMPONENTS.items()
}


def component_index(role: Role, name: str) -> int:
    """Position of a named component in a role's action vector."""
    try:
        return _INDEX[role][name]
    except KeyError:
        names = list(_INDEX[role])
        raise ValueError(
            f"role {role.name.lower()} has no component {name!r}; it has {names}"
        ) from None


def top(role: Role, name: str) -> int:
    """The highest value of a component (``top(Role.USA, "enablers")`` is 3): levels are
    scaled by it to 0..1 in the rules and the observations."""
    return COMPONENTS[role][component_index(role, name)].n - 1


class ActionView:
    """One role's actions by component name: ``ActionView(Role.MEMBER, a).response`` is the
    ``response`` component of ``a`` (``a[..., 4]``), with the leading axes of ``a``."""

    __slots__ = ("array", "role")

    def __init__(self, role: Role, array: np.ndarray) -> None:
        self.role = role
        self.array = array

    def __getattr__(self, name: str) -> np.ndarray:
        return self.array[..., component_index(self.role, name)]

    def __repr__(self) -> str:
        return f"ActionView({self.role.name.lower()}, shape {self.array.shape})"
