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
from typing import Any

import numpy as np

from reassurance.envs.actions import COMPONENTS, Phase, Role
from reassurance.envs.observation import PIECES, ObservationView, describe

__all__ = [
    "OWN_PIECES",
    "component_entries",
    "illegal_reason",
    "member_table",
    "piece_entries",
    "piece_text",
    "turn_report",
]

_DOCS = {piece.name: piece.doc for piece in PIECES}

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


def piece_text(name: str, piece: np.ndarray, members: Sequence[str] = ()) -> str:
    """One observation piece as a person reads it (``80.0%``, ``yes``, ``conditional``, ``2/3``):
    the env's own reading (:func:`reassurance.envs.observation.describe`)."""
    return describe(name, piece, members)


def _label(view: ObservationView, name: str) -> str:
    return describe(name, view[name])


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
            "doc": _DOCS[name],
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
        "docs": [_DOCS[name] for name in columns],
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
    pending = _label(view, "pending_offer")
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
            if _label(view, "self_pledge") == "none":
                return "you have pledged nothing to deploy"
            if view.scalar("self_vote_blocked") >= 0.5:
                return "your parliament voted the deployment down; a new vote must wait"
            if view.scalar("self_condition_met") < 0.5:
                condition = _label(view, "self_condition")
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
                "gloss": component.description,
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
    pending = _label(view, "pending_offer")
    lines = [
        f"Turn {turn + 1} of {horizon}. Phase: {_label(view, 'phase')}. Ukraine holds "
        f"{front:.1f}% of its territory. Offer on the table: {pending}."
    ]
    force = view.scalar("force_ratio") * threshold_troops
    pledged = view.scalar("pledged_ratio") * threshold_troops
    force_line = (
        f"Ground force (effective troops): {force:,.0f} of {threshold_troops:,.0f} deployed, "
        f"{pledged:,.0f} pledged; enablers E {view.scalar('enablers'):.2f} of 1; "
        f"deterrence q {view.scalar('deterrence'):.2f}."
    )
    if _phase(view) is Phase.DEPLOYMENT:
        force_line += f" Deployment time left: {100 * view.scalar('deployment_time_left'):.0f}%."
    lines.append(force_line)
    belief = view["us_belief"]
    lines.append(
        f"US: says {_label(view, 'us_signal')}, enablers "
        f"{piece_text('us_enablers', view['us_enablers'])}, pressure "
        f"{_label(view, 'us_pressure')}, response "
        f"{piece_text('us_response', view['us_response'])}. Public belief that the US backs the "
        f"force: {float(belief[1] + belief[2]):.2f}."
    )
    test = _label(view, "russia_test")
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
