"""Heuristic doctrines for every role. Each reads its observation by piece name only.

Every doctrine decides for a batch of observations at once (``view`` pieces have a leading row
axis), with array expressions instead of ifs, so one call serves one game or thousands; the
one-game ``act`` is one row of it.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from reassurance.agents.policy import Heuristic
from reassurance.envs.actions import (
    Commit,
    Condition,
    Contribution,
    Demand,
    MemberResponse,
    PendingOffer,
    Phase,
    PledgeChange,
    Pressure,
    RussiaCeasefire,
    Signal,
    TestAction,
    Threat,
    UkraineCeasefire,
    UsResponse,
)
from reassurance.envs.observation import ObservationView

_LEVELS = (
    PledgeChange.NONE,
    PledgeChange.TOKEN,
    PledgeChange.PCT5,
    PledgeChange.PCT10,
    PledgeChange.PCT20,
)


class Doctrine(Heuristic):
    """A heuristic with declared parameters: ``defaults`` names them and their default values,
    ``ranges`` the interval each number must lie in (every float must be finite)."""

    defaults: ClassVar[dict[str, Any]] = {}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"{self.role}/{self.name} has no parameters {unknown}; "
                f"allowed: {sorted(self.defaults) or 'none'}"
            )
        for name, value in params.items():
            agent = f"{self.role}/{self.name}"
            _check_param(agent, name, self.defaults[name], value)
            low, high = self.ranges.get(name, (-math.inf, math.inf))
            if not math.isfinite(float(value)) or not low <= float(value) <= high:
                raise ValueError(f"{agent}: {name}={value!r} must lie in [{low:g}, {high:g}]")
        super().__init__(**{**self.defaults, **params})


def _check_param(agent: str, name: str, default: Any, value: Any) -> None:
    """Refuse a parameter value of the wrong kind, naming it and what the default's kind allows."""
    if isinstance(default, IntEnum):
        allowed = [int(v) for v in type(default)]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value not in allowed
        ):
            names = ", ".join(f"{int(v)} ({v.name.lower()})" for v in type(default))
            raise ValueError(f"{agent}: {name}={value!r} is not one of {names}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{agent}: {name}={value!r} must be an integer (default {default})")
    elif isinstance(default, float) and (
        isinstance(value, bool) or not isinstance(value, int | float | np.number)
    ):
        raise ValueError(f"{agent}: {name}={value!r} must be a number (default {default})")


_LEVEL_CHANGE = np.array([int(level) for level in _LEVELS])


def _phase(view: ObservationView) -> np.ndarray:
    return view.index("phase")


def _ceasefire(view: ObservationView) -> np.ndarray:
    phase = _phase(view)
    return (phase == Phase.DEPLOYMENT) | (phase == Phase.TEST)


def _pledged(view: ObservationView) -> np.ndarray:
    """Own pledge level index per row (0 none .. 4 twenty per cent)."""
    return view.index("self_pledge")


def _pledge_where(when: np.ndarray, level: Any, kind: Any, condition: Any) -> dict[str, np.ndarray]:
    """Set the pledge to ``level`` (0 none .. 4) with a type and condition where ``when`` holds;
    keep it (every part a no-op) elsewhere."""
    return {
        "pledge": np.where(when, _LEVEL_CHANGE[level], PledgeChange.KEEP),
        "contribution": np.where(when, kind, 0),
        "condition": np.where(when, condition, 0),
    }


# ----------------------------------------------------------------------------- members


class MemberDoctrine(Doctrine):
    role = "member"

    def _standing(self, view: ObservationView, level: int, kind: Contribution,
                  condition: Condition) -> dict[str, Any]:  # fmt: skip
        """Pledge once (when nothing is pledged), then keep it and deploy when allowed."""
        first = (_pledged(view) == 0) & (level > 0)
        return {"commit": Commit.DEPLOY, **_pledge_where(first, level, kind, condition)}


class Unconditional(MemberDoctrine):
    name = "unconditional"
    doctrine = "Pledges ground troops without conditions and deploys them as soon as it can."
    tags = frozenset({"cooperative", "contributor"})
    defaults = {"level": 3, "response": MemberResponse.REINFORCE, "aid": 1}
    ranges = {"level": (1, 4), "aid": (0, 3)}

    def decide(self, view, rng):
        p = self.params
        choice = self._standing(view, p["level"], Contribution.GROUND, Condition.UNCONDITIONAL)
        return {**choice, "response": p["response"], "aid": p["aid"]}


class ConditionalOnUS(MemberDoctrine):
    name = "conditional-on-us"
    doctrine = (
        "Pledges ground troops that deploy only after a US backstop signal (the seeds' stance)."
    )
    tags = frozenset({"conditional", "contributor"})
    defaults = {"level": 3, "aid": 1}
    ranges = {"level": (1, 4), "aid": (0, 3)}

    def decide(self, view, rng):
        choice = self._standing(view, self.params["level"], Contribution.GROUND,
                                Condition.IF_US_BACKSTOP)  # fmt: skip
        backed = view.index("us_signal") >= Signal.CONDITIONAL
        response = np.where(backed, MemberResponse.REINFORCE, MemberResponse.PROTEST)
        return {**choice, "response": response, "aid": self.params["aid"]}


class FreeRider(MemberDoctrine):
    name = "free-rider"
    doctrine = "Pledges nothing and lets the others provide the force; protests violations."
    tags = frozenset({"selfish", "free-rider"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        return {"response": MemberResponse.PROTEST}


class Leader(MemberDoctrine):
    name = "leader"
    doctrine = (
        "Pledges early and large, deploys first and fights for the force (the UK and France)."
    )
    tags = frozenset({"cooperative", "contributor", "leader"})
    defaults = {"level": 4, "aid": 2}
    ranges = {"level": (1, 4), "aid": (0, 3)}

    def decide(self, view, rng):
        choice = self._standing(view, self.params["level"], Contribution.GROUND,
                                Condition.UNCONDITIONAL)  # fmt: skip
        return {**choice, "response": MemberResponse.ENGAGE, "aid": self.params["aid"]}


class HomeDefender(MemberDoctrine):
    name = "home-defender"
    doctrine = "Under home threat, gives enablers and logistics from NATO soil instead of troops."
    tags = frozenset({"enabler", "contributor", "home-threat"})
    defaults = {"level": 2, "kind": Contribution.LOGISTICS}
    ranges = {"level": (1, 4)}

    def decide(self, view, rng):
        choice = self._standing(view, self.params["level"], Contribution(self.params["kind"]),
                                Condition.UNCONDITIONAL)  # fmt: skip
        return {**choice, "response": MemberResponse.SANCTIONS, "aid": 1}


class Reciprocator(MemberDoctrine):
    name = "reciprocator"
    doctrine = "Matches the coalition's average effort: pledges and deploys as much as the others."
    tags = frozenset({"conditional", "reciprocal"})
    defaults = {"kind": Contribution.GROUND}

    def decide(self, view, rng):
        others = np.mean(view["members_pledged"], axis=-1, dtype=np.float64)  # of a 20 % pledge
        target = np.clip(np.round(others * 4), 0, 4).astype(np.int64)
        change = _pledge_where(
            target != _pledged(view), target, Contribution(self.params["kind"]),
            Condition.UNCONDITIONAL,
        )  # fmt: skip
        deployed_mean = np.mean(view["members_deployed"], axis=-1, dtype=np.float64)
        hold = (deployed_mean == 0.0) & (view.value("self_deployed") > 0)
        commit = np.where(hold, Commit.HOLD, Commit.DEPLOY)
        return {**change, "commit": commit, "response": MemberResponse.REINFORCE, "aid": 1}


class PledgeAndRenege(MemberDoctrine):
    name = "pledge-and-renege"
    doctrine = "Pledges large for the visible role, then reneges when the force must deploy."
    tags = frozenset({"selfish", "defector"})
    defaults = {"level": 4}
    ranges = {"level": (1, 4)}

    def decide(self, view, rng):
        ceasefire, pledged = _ceasefire(view), _pledged(view)
        first = _pledge_where(
            ~ceasefire & (pledged == 0), self.params["level"], Contribution.GROUND,
            Condition.AFTER_CEASEFIRE,
        )  # fmt: skip
        renege = ceasefire & (pledged > 0)
        return {
            **first,
            "pledge": np.where(renege, PledgeChange.NONE, first["pledge"]),
            "commit": np.where(ceasefire, Commit.WITHDRAW, Commit.HOLD),
        }


# ----------------------------------------------------------------------------- usa


class UsaDoctrine(Doctrine):
    role = "usa"


class Disengaged(UsaDoctrine):
    name = "disengaged"
    doctrine = "Stays silent, provides nothing and does not respond to violations."
    tags = frozenset({"absent"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        return {}


class WordsOnly(UsaDoctrine):
    name = "words-only"
    doctrine = (
        "Speaks of support and even guarantees, but puts nothing in place and "
        "only makes statements."
    )
    tags = frozenset({"cheap-talk"})
    defaults = {"signal": Signal.FORMAL}

    def decide(self, view, rng):
        return {"signal": self.params["signal"], "response": UsResponse.STATEMENT}


class ConditionalBackstop(UsaDoctrine):
    name = "conditional-backstop"
    doctrine = (
        "Offers a conditional backstop, and puts enablers in once Europe has pledged a real force."
    )
    tags = frozenset({"conditional", "backstop"})
    defaults = {"force_share": 0.5, "enablers": 2}
    ranges = {"force_share": (0, 2), "enablers": (0, 3)}

    def decide(self, view, rng):
        pledged = view.value("pledged_ratio") >= self.params["force_share"]
        return {
            "signal": Signal.CONDITIONAL,
            "response": UsResponse.ISR_AIR_COVER,
            "enablers": np.where(pledged, self.params["enablers"], 0),
        }


class CommittedGuarantor(UsaDoctrine):
    name = "committed-guarantor"
    doctrine = "Gives a formal guarantee, full enablers, and strikes back at any violation."
    tags = frozenset({"committed", "backstop"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        return {"signal": Signal.FORMAL, "enablers": 3, "response": UsResponse.STRIKES,
                "pressure": Pressure.SANCTIONS_ON_RUSSIA}  # fmt: skip


class Transactional(UsaDoctrine):
    name = "transactional"
    doctrine = (
        "Backs the force only if Europe carries at least a set share of it, "
        "and presses Ukraine otherwise."
    )
    tags = frozenset({"conditional", "burden-sharing"})
    defaults = {"europe_share": 0.75}
    ranges = {"europe_share": (0, 2)}

    def decide(self, view, rng):
        backs = view.value("pledged_ratio") >= self.params["europe_share"]
        return {
            "signal": np.where(backs, Signal.CONDITIONAL, Signal.VERBAL),
            "enablers": np.where(backs, 2, 0),
            "response": np.where(backs, UsResponse.ISR_AIR_COVER, UsResponse.NONE),
            "pressure": np.where(backs, Pressure.NONE, Pressure.ON_UKRAINE),
        }


class ByType(UsaDoctrine):
    """The US as its private type would play: the default US everywhere.

    - type disengaged: ``usa/disengaged`` (silent, no enablers, no response);
    - type conditional: ``usa/conditional-backstop`` with this doctrine's ``force_share`` and
      ``enablers`` (a conditional backstop; enablers once Europe has pledged ``force_share`` of
      F*; ISR and air cover against a violation);
    - type committed: ``usa/committed-guarantor`` (formal guarantee, full enablers, strikes,
      sanctions on Russia).

    It reads only its own observation: the type is the private piece ``us_type``.
    """

    name = "by-type"
    doctrine = (
        "Plays its private type: disengaged, a conditional backstop, or a committed guarantor."
    )
    tags = frozenset({"by-type", "backstop", "conditional"})
    defaults = {"force_share": 0.5, "enablers": 2}
    ranges = ConditionalBackstop.ranges

    def decide(self, view, rng):
        us_type = view.index("us_type")
        by_type = [
            Disengaged().decide(view, rng),
            ConditionalBackstop(**self.params).decide(view, rng),
            CommittedGuarantor().decide(view, rng),
        ]
        names = sorted({name for choice in by_type for name in choice})
        return {
            name: np.select(
                [us_type == t for t in range(3)], [choice.get(name, 0) for choice in by_type]
            )
            for name in names
        }


# ----------------------------------------------------------------------------- russia


class RussiaDoctrine(Doctrine):
    role = "russia"


class Opportunist(RussiaDoctrine):
    name = "opportunist"
    doctrine = "Agrees to a ceasefire, then probes and violates it whenever deterrence looks weak."
    tags = frozenset({"opportunist"})
    defaults = {"weak": 0.5, "offer_after": 0.2}
    ranges = {"weak": (0, 1), "offer_after": (0, 1)}

    def decide(self, view, rng):
        offer = view.value("time") >= self.params["offer_after"]
        weak = _ceasefire(view) & (view.value("deterrence") < self.params["weak"])
        return {
            "offensive": 2,
            "threat": Threat.RHETORIC,
            "ceasefire": np.where(offer, RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED, 0),
            "test": np.where(weak, TestAction.LIMITED_VIOLATION, TestAction.COMPLY),
        }


class Hawk(RussiaDoctrine):
    name = "hawk"
    doctrine = (
        "Fights at full intensity, refuses every ceasefire and attacks the force if one holds."
    )
    tags = frozenset({"aggressive"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        return {"offensive": 3, "strikes": 1, "test": TestAction.MAJOR_OFFENSIVE,
                "threat": Threat.NUCLEAR_SIGNALLING}  # fmt: skip


class Negotiator(RussiaDoctrine):
    name = "negotiator"
    doctrine = "Seeks a ceasefire early, accepts Ukraine's offers and then keeps it."
    tags = frozenset({"cooperative"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        offered_by_ukraine = view.index("pending_offer") == PendingOffer.UKRAINE
        ceasefire = np.where(
            offered_by_ukraine, RussiaCeasefire.ACCEPT, RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED
        )
        return {"offensive": 1, "ceasefire": ceasefire}


class SalamiSlicer(RussiaDoctrine):
    name = "salami-slicer"
    doctrine = (
        "Keeps foreign troops out of the deal, then probes in the grey zone "
        "below the response threshold."
    )
    tags = frozenset({"grey-zone", "opportunist"})
    defaults = {"detection": 0.6}
    ranges = {"detection": (0, 1)}

    def decide(self, view, rng):
        unseen = _ceasefire(view) & (view.value("probe_detection") < self.params["detection"])
        return {
            "offensive": 1,
            "ceasefire": RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS,
            "test": np.where(unseen, TestAction.PROBE, TestAction.COMPLY),
        }


# ----------------------------------------------------------------------------- ukraine


class UkraineDoctrine(Doctrine):
    role = "ukraine"


class Holdout(UkraineDoctrine):
    name = "holdout"
    doctrine = (
        "Accepts no ceasefire without a pledged force and a US backstop; fights and fortifies."
    )
    tags = frozenset({"hardline"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        return {"defence": 3, "fortify": 1, "demand": Demand.FORCE_AND_BACKSTOP,
                "ceasefire": UkraineCeasefire.ACCEPT, "retaliate": 1}  # fmt: skip


class AcceptsWithGuarantees(UkraineDoctrine):
    name = "accepts-with-guarantees"
    doctrine = "Offers and accepts a ceasefire once a force is pledged."
    tags = frozenset({"cooperative"})
    defaults: ClassVar[dict[str, Any]] = {}

    def decide(self, view, rng):
        pending = view.index("pending_offer")
        offered = (pending == PendingOffer.RUSSIA_NO_FOREIGN_TROOPS) | (
            pending == PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED
        )
        move = np.where(offered, UkraineCeasefire.ACCEPT, UkraineCeasefire.OFFER)
        return {"defence": 2, "fortify": 1, "demand": Demand.FORCE, "ceasefire": move}
