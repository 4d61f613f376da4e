"""What one seat sees, as data for a web page: built from the seat's own observation only.

Every function here takes an :class:`~reassurance.envs.observation.ObservationView` of one
agent's observation (and its action mask), never the env or the rules state, so a page built
from them cannot show what the agent does not observe: the hidden US type, Russia's resolve or
another member's private pieces. The terminal version of the same screen is
:class:`reassurance.agents.HumanPolicy`; this module gives structured data instead of text.

Units: troops are people (not thousands); shares of territory are per cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

import numpy as np

from reassurance.envs.actions import (
    COMPONENTS,
    Condition,
    Contribution,
    Demand,
    PendingOffer,
    Phase,
    Pressure,
    Role,
    Signal,
    TestAction,
    Threat,
    UsResponse,
)
from reassurance.envs.observation import PIECE_DOCS, ObservationView

__all__ = [
    "GLOSS",
    "OWN_PIECES",
    "component_entries",
    "illegal_reason",
    "member_table",
    "piece_entries",
    "piece_text",
    "turn_report",
]

_US_TYPES = ("disengaged", "conditional", "committed")


def _names(enum: type[IntEnum]) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in enum)


# How each piece reads: one-hot pieces by label, flags as yes/no, levels by name.
_ONE_HOT: dict[str, tuple[str, ...]] = {
    "phase": _names(Phase),
    "pending_offer": _names(PendingOffer),
    "us_signal": _names(Signal),
    "us_pressure": _names(Pressure),
    "russia_test": _names(TestAction),
    "self_pledge": ("none", "token", "5%", "10%", "20%"),
    "self_contribution": _names(Contribution),
    "self_condition": _names(Condition),
    "us_type": _US_TYPES,
    "resolve": ("low", "medium", "high"),
}
_LEVEL: dict[str, type[IntEnum] | int] = {
    "us_response": UsResponse,
    "russia_threat": Threat,
    "ukraine_demand": Demand,
    "us_enablers": 3,
    "russia_offensive": 3,
    "ukraine_defence": 3,
}
_PERCENT = frozenset({"time", "front", "fortification", "coalition_contributors", "coalition_aid"})
_PROBABILITY = frozenset({"probe_detection", "deterrence", "enablers", "deployment_time_left"})
_RATIO = frozenset({"force_ratio", "pledged_ratio"})
_FLAG = frozenset(
    {
        "foreign_troops_allowed", "threshold_met", "deterrence_gap", "russia_strikes",
        "violation_detected", "violation_succeeded", "self_parliament", "self_troops_in_ukraine",
        "self_declaration", "self_condition_met", "self_vote", "self_vote_blocked",
    }
)  # fmt: skip
_PLAIN = frozenset(
    {"self_gdp", "self_capacity", "self_home_threat", "self_leadership", "self_deployed"}
)

OWN_PIECES: dict[Role, tuple[str, ...]] = {
    Role.MEMBER: (
        "self_pledge", "self_contribution", "self_condition", "self_deployed",
        "self_condition_met", "self_troops_in_ukraine", "self_parliament", "self_vote",
        "self_vote_blocked", "self_declaration", "self_gdp", "self_capacity",
        "self_home_threat", "self_leadership",
    ),
    Role.USA: ("us_type", "us_enablers", "us_response", "us_signal", "us_pressure"),
    Role.UKRAINE: ("fortification", "ukraine_defence", "ukraine_demand"),
    Role.RUSSIA: ("resolve", "russia_offensive", "russia_test", "russia_threat"),
}  # fmt: skip
"""The pieces a seat sees first: its own position (private pieces and its own standing moves)."""

GLOSS: dict[Role, dict[str, str]] = {
    Role.MEMBER: {
        "pledge": "set your pledge to a share of your deployable troops (keep = no change)",
        "contribution": "the kind of force a new pledge offers",
        "condition": "when a new pledge may deploy",
        "commit": "deploy your pledge (if its condition holds) or withdraw your troops",
        "response": "what you do if Russia violates the ceasefire",
        "aid": "military aid to Ukraine this turn",
    },
    Role.USA: {
        "signal": "what you say about backing the force",
        "enablers": "US enablers in place (a costly, visible signal)",
        "pressure": "press Ukraine to settle, or sanction Russia",
        "response": "what you do if Russia violates the ceasefire",
    },
    Role.UKRAINE: {
        "defence": "defence effort this turn",
        "fortify": "build fortifications",
        "ceasefire": "offer a ceasefire, or accept Russia's offer",
        "demand": "what you demand as a guarantee before you accept",
        "retaliate": "strike back at Russia",
    },
    Role.RUSSIA: {
        "offensive": "offensive intensity this turn",
        "strikes": "strike Ukraine's infrastructure",
        "ceasefire": "offer a ceasefire (with or without foreign troops) or accept Ukraine's",
        "test": "test the ceasefire once one holds",
        "threat": "threats, up to nuclear signalling",
    },
}
"""One line per action component: what choosing it does."""


def _one_hot(view: ObservationView, name: str) -> str:
    return _ONE_HOT[name][int(np.argmax(view[name]))]


def piece_text(name: str, piece: np.ndarray, members: Sequence[str] = ()) -> str:
    """One observation piece as a short text (``80.0%``, ``yes``, ``conditional``, ``2/3``).

    Per-member pieces (more than one number) read ``uk 0.50, france 0.00, ...``.
    Raises ``ValueError`` for a piece this module does not know how to read.
    """
    values = np.asarray(piece, np.float64).reshape(-1)
    if name in _ONE_HOT:
        return _ONE_HOT[name][int(np.argmax(values))]
    if name == "self_id":
        return members[int(np.argmax(values))] if members else f"member {np.argmax(values) + 1}"
    if name == "us_belief":
        return ", ".join(f"{t} {v:.2f}" for t, v in zip(_US_TYPES, values, strict=True))
    if name.startswith("members_"):
        ids = members or [f"m{i + 1}" for i in range(values.size)]
        return ", ".join(f"{m} {v:.2f}" for m, v in zip(ids, values, strict=True))
    if values.size != 1:
        raise ValueError(f"observation piece {name!r} has {values.size} numbers; unknown layout")
    value = float(values[0])
    if name in _FLAG:
        return "yes" if value >= 0.5 else "no"
    if name in _PERCENT:
        return f"{100 * value:.1f}%"
    if name in _RATIO:
        return f"{value:.2f} x F*"
    if name in _PROBABILITY or name in _PLAIN:
        return f"{value:.2f}"
    level = _LEVEL.get(name)
    if isinstance(level, int):
        return f"{round(value * level)}/{level}"
    if level is not None:
        top = max(level)
        return level(round(value * top)).name.lower()
    raise ValueError(f"no reading for observation piece {name!r}; add it to classroom.seatview")


def piece_entries(view: ObservationView, role: Role, members: Sequence[str]) -> list[dict]:
    """Every piece of the observation except the per-member table, own pieces first.

    Each entry: ``name``, ``text`` (see :func:`piece_text`), ``doc`` (what it measures) and
    ``own`` (True for the seat's own position).
    """
    own = [p for p in OWN_PIECES[role] if p in view]
    rest = [p for p in view if p not in own and not p.startswith("members_")]
    return [
        {
            "name": name,
            "text": piece_text(name, view[name], members),
            "doc": PIECE_DOCS[name][0],
            "own": name in own,
        }
        for name in (*own, *rest)
    ]


def member_table(view: ObservationView, members: Sequence[str]) -> dict[str, Any]:
    """The per-member pieces as a table: ``columns`` (piece names) and ``rows``.

    A row is ``[member id, value, ...]``; values are the observation's shares (0..1).
    """
    columns = [name for name in view if name.startswith("members_")]
    rows = [
        [member, *(round(float(view[name][i]), 3) for name in columns)]
        for i, member in enumerate(members)
    ]
    return {
        "columns": [name.removeprefix("members_") for name in columns],
        "docs": [PIECE_DOCS[name][0] for name in columns],
        "rows": rows,
    }


# ----------------------------------------------------------------------------- legal values


def _phase(view: ObservationView) -> Phase:
    return Phase(int(np.argmax(view["phase"])))


def _ceasefire(view: ObservationView) -> bool:
    return _phase(view) in (Phase.DEPLOYMENT, Phase.TEST)


def _talks_closed(view: ObservationView) -> str | None:
    """Why no new ceasefire offer can be made now, or None if one can."""
    phase = _phase(view)
    if phase not in (Phase.WAR, Phase.NEGOTIATION):
        return (
            f"offers are made in war or negotiation; a ceasefire is in force ({phase.name.lower()})"
        )
    pending = _one_hot(view, "pending_offer")
    if pending != "none":
        return f"an offer is already on the table ({pending})"
    return None


def illegal_reason(role: Role, component: str, value: int, view: ObservationView) -> str:
    """Why the mask forbids ``component=value`` now, read from the seat's own view.

    The mask itself decides what is legal; this only explains it in the words of the rules
    (``deploy: your pledge's condition (if_us_backstop) does not hold``). Returns
    ``"not allowed now"`` where no reason is known.
    """
    phase = _phase(view).name.lower()
    no_ceasefire = f"only while a ceasefire is in force; the phase is {phase}"
    if role is Role.MEMBER:
        if component == "commit" and value == 1:
            if _one_hot(view, "self_pledge") == "none":
                return "you have pledged nothing to deploy"
            if view.scalar("self_vote_blocked") >= 0.5:
                return "your parliament voted the deployment down; a new vote must wait"
            if view.scalar("self_condition_met") < 0.5:
                condition = _one_hot(view, "self_condition")
                return f"your pledge's condition ({condition}) does not hold"
            if view.scalar("self_deployed") >= 1.0 - 1e-6:
                return "your pledge is deployed in full"
        if component == "commit" and value == 2:
            return "you have no troops deployed"
        if component == "response" and value >= 1:
            if not _ceasefire(view):
                return f"responses to a violation apply {no_ceasefire}"
            if value >= 3:
                return "reinforcing or engaging needs troops of yours deployed"
    elif role is Role.USA:
        if component == "response" and value >= 1:
            return f"responses to a violation apply {no_ceasefire}"
    elif role is Role.UKRAINE:
        if component == "ceasefire" and value == 1:
            return _talks_closed(view) or "not allowed now"
        if component == "ceasefire" and value == 2:
            return "Russia has no offer on the table"
        if component == "retaliate" and value == 1:
            return "retaliation needs war, talks or a detected violation"
    elif role is Role.RUSSIA:
        if component in ("offensive", "strikes") and value >= 1:
            return f"fighting stops while a ceasefire holds (phase {phase})"
        if component == "ceasefire" and value in (1, 2):
            return _talks_closed(view) or "not allowed now"
        if component == "ceasefire" and value == 3:
            return "Ukraine has no offer on the table"
        if component == "test" and value >= 1:
            return f"a test of the ceasefire is possible {no_ceasefire}"
    return "not allowed now"


def component_entries(
    role: Role,
    mask: Sequence[np.ndarray],
    view: ObservationView,
    orders: Sequence[int],
) -> list[dict[str, Any]]:
    """Each action component as a form control: its values, legal or not (with the reason).

    ``orders`` are the seat's standing orders (value indices); ``order`` in an entry is the
    standing order, ``default`` what the form preselects (the order, or the no-op when the
    mask forbids the order this turn; the order then waits, as in ``reassurance play``).
    """
    entries = []
    for index, component in enumerate(COMPONENTS[role]):
        legal = [bool(x) for x in np.asarray(mask[index]).reshape(-1)]
        order = int(orders[index])
        values = [
            {
                "value": v,
                "label": label,
                "legal": legal[v],
                "reason": None if legal[v] else illegal_reason(role, component.name, v, view),
            }
            for v, label in enumerate(component.labels)
        ]
        entries.append(
            {
                "name": component.name,
                "gloss": GLOSS[role][component.name],
                "order": order,
                "default": order if legal[order] else 0,
                "waits": not legal[order],
                "values": values,
            }
        )
    return entries


# ----------------------------------------------------------------------------- turn report


def turn_report(
    view: ObservationView, *, horizon: int, threshold_troops: float, members: Sequence[str]
) -> list[str]:
    """What this seat learns at the start of a turn, in a few sentences.

    ``horizon`` (turns) and ``threshold_troops`` (F*) are the scenario's public settings.
    """
    turn = round(view.scalar("time") * horizon)
    front = 100 * view.scalar("front")
    pending = _one_hot(view, "pending_offer")
    lines = [
        f"Turn {turn + 1} of {horizon}. Phase: {_one_hot(view, 'phase')}. Ukraine holds "
        f"{front:.1f}% of its territory. Offer on the table: {pending}."
    ]
    force = view.scalar("force_ratio") * threshold_troops
    pledged = view.scalar("pledged_ratio") * threshold_troops
    force_line = (
        f"Force: {force:,.0f} of {threshold_troops:,.0f} troops deployed "
        f"({pledged:,.0f} pledged); enablers E {view.scalar('enablers'):.2f} of 1; "
        f"deterrence q {view.scalar('deterrence'):.2f}."
    )
    if _phase(view) is Phase.DEPLOYMENT:
        force_line += f" Deployment time left: {100 * view.scalar('deployment_time_left'):.0f}%."
    lines.append(force_line)
    belief = view["us_belief"]
    lines.append(
        f"US: says {_one_hot(view, 'us_signal')}, enablers "
        f"{piece_text('us_enablers', view['us_enablers'])}, pressure "
        f"{_one_hot(view, 'us_pressure')}, response "
        f"{piece_text('us_response', view['us_response'])}. Public belief that the US backs the "
        f"force: {float(belief[1] + belief[2]):.2f}."
    )
    test = _one_hot(view, "russia_test")
    outcome = ""
    if test != "comply":
        seen = "detected" if view.scalar("violation_detected") >= 0.5 else "not detected"
        worked = "succeeded" if view.scalar("violation_succeeded") >= 0.5 else "failed"
        outcome = f" ({seen}, {worked})"
    lines.append(
        f"Russia: offensive {piece_text('russia_offensive', view['russia_offensive'])}, "
        f"strikes {piece_text('russia_strikes', view['russia_strikes'])}, last test "
        f"{test}{outcome}, threat {piece_text('russia_threat', view['russia_threat'])}."
    )
    lines.append(
        f"Ukraine: defence {piece_text('ukraine_defence', view['ukraine_defence'])}, demand "
        f"{piece_text('ukraine_demand', view['ukraine_demand'])}, fortification "
        f"{100 * view.scalar('fortification'):.0f}%."
    )
    pledged_share = view["members_pledged"]
    deployed_share = view["members_deployed"]
    parts = [
        f"{m} {100 * float(p):.0f}/{100 * float(d):.0f}"
        for m, p, d in zip(members, pledged_share, deployed_share, strict=True)
    ]
    lines.append(
        "Members, pledged/deployed as % of a 20% share of their troops: " + ", ".join(parts) + "."
    )
    if view.scalar("deterrence_gap") >= 0.5:
        lines.append("A deterrence gap is open: the force missed its threshold at the deadline.")
    if view.scalar("threshold_met") >= 0.5:
        lines.append("The force met its thresholds F* and E* at the last deadline.")
    return lines
