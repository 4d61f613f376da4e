"""Heuristic doctrines for every role. Each reads its observation by piece name only."""

from __future__ import annotations

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
    """A heuristic with declared parameters: ``defaults`` names them and their default values."""

    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"{self.role}/{self.name} has no parameters {unknown}; "
                f"allowed: {sorted(self.defaults) or 'none'}"
            )
        for name, value in params.items():
            _check_param(f"{self.role}/{self.name}", name, self.defaults[name], value)
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


def _phase(view: ObservationView) -> Phase:
    return Phase(int(np.argmax(view["phase"])))


def _ceasefire(view: ObservationView) -> bool:
    return _phase(view) in (Phase.DEPLOYMENT, Phase.TEST)


def _pledged(view: ObservationView) -> int:
    """Own pledge level index (0 none .. 4 twenty per cent)."""
    return int(np.argmax(view["self_pledge"]))


def _pledge(level: int, kind: Contribution, condition: Condition) -> dict[str, int]:
    return {"pledge": _LEVELS[level], "contribution": kind, "condition": condition}


# ----------------------------------------------------------------------------- members


class MemberDoctrine(Doctrine):
    role = "member"

    def _standing(self, view: ObservationView, level: int, kind: Contribution,
                  condition: Condition) -> dict[str, int]:  # fmt: skip
        """Pledge once (when nothing is pledged), then keep it and deploy when allowed."""
        choice: dict[str, int] = {"commit": Commit.DEPLOY}
        if _pledged(view) == 0 and level > 0:
            choice.update(_pledge(level, kind, condition))
        return choice


class Unconditional(MemberDoctrine):
    name = "unconditional"
    doctrine = "Pledges ground troops without conditions and deploys them as soon as it can."
    tags = frozenset({"cooperative", "contributor"})
    defaults = {"level": 3, "response": MemberResponse.REINFORCE, "aid": 1}

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

    def decide(self, view, rng):
        choice = self._standing(view, self.params["level"], Contribution.GROUND,
                                Condition.IF_US_BACKSTOP)  # fmt: skip
        backed = int(np.argmax(view["us_signal"])) >= Signal.CONDITIONAL
        response = MemberResponse.REINFORCE if backed else MemberResponse.PROTEST
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

    def decide(self, view, rng):
        choice = self._standing(view, self.params["level"], Contribution.GROUND,
                                Condition.UNCONDITIONAL)  # fmt: skip
        return {**choice, "response": MemberResponse.ENGAGE, "aid": self.params["aid"]}


class HomeDefender(MemberDoctrine):
    name = "home-defender"
    doctrine = "Under home threat, gives enablers and logistics from NATO soil instead of troops."
    tags = frozenset({"enabler", "contributor", "home-threat"})
    defaults = {"level": 2, "kind": Contribution.LOGISTICS}

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
        others = float(np.mean(view["members_pledged"]))  # share of a 20 % pledge
        target = int(np.clip(np.round(others * 4), 0, 4))
        choice: dict[str, int] = {"commit": Commit.DEPLOY}
        if target != _pledged(view):
            choice.update(
                _pledge(target, Contribution(self.params["kind"]), Condition.UNCONDITIONAL)
            )
        deployed_mean = float(np.mean(view["members_deployed"]))
        if deployed_mean == 0.0 and view.scalar("self_deployed") > 0:
            choice["commit"] = Commit.HOLD
        return {**choice, "response": MemberResponse.REINFORCE, "aid": 1}


class PledgeAndRenege(MemberDoctrine):
    name = "pledge-and-renege"
    doctrine = "Pledges large for the visible role, then reneges when the force must deploy."
    tags = frozenset({"selfish", "defector"})
    defaults = {"level": 4}

    def decide(self, view, rng):
        if _ceasefire(view):
            if _pledged(view) > 0:
                return {"pledge": PledgeChange.NONE, "commit": Commit.WITHDRAW}
            return {"commit": Commit.WITHDRAW}
        if _pledged(view) == 0:
            return _pledge(self.params["level"], Contribution.GROUND, Condition.AFTER_CEASEFIRE)
        return {}


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

    def decide(self, view, rng):
        choice = {"signal": Signal.CONDITIONAL, "response": UsResponse.ISR_AIR_COVER}
        if view.scalar("pledged_ratio") >= self.params["force_share"]:
            choice["enablers"] = self.params["enablers"]
        return choice


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

    def decide(self, view, rng):
        if view.scalar("pledged_ratio") >= self.params["europe_share"]:
            return {"signal": Signal.CONDITIONAL, "enablers": 2,
                    "response": UsResponse.ISR_AIR_COVER}  # fmt: skip
        return {"signal": Signal.VERBAL, "pressure": Pressure.ON_UKRAINE}


# ----------------------------------------------------------------------------- russia


class RussiaDoctrine(Doctrine):
    role = "russia"


class Opportunist(RussiaDoctrine):
    name = "opportunist"
    doctrine = "Agrees to a ceasefire, then probes and violates it whenever deterrence looks weak."
    tags = frozenset({"opportunist"})
    defaults = {"weak": 0.5, "offer_after": 0.2}

    def decide(self, view, rng):
        choice = {"offensive": 2, "threat": Threat.RHETORIC}
        if view.scalar("time") >= self.params["offer_after"]:
            choice["ceasefire"] = RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED
        if _ceasefire(view) and view.scalar("deterrence") < self.params["weak"]:
            choice["test"] = TestAction.LIMITED_VIOLATION
        return choice


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
        offered_by_ukraine = view["pending_offer"][3] == 1.0
        ceasefire = (
            RussiaCeasefire.ACCEPT
            if offered_by_ukraine
            else RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED
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

    def decide(self, view, rng):
        choice = {"offensive": 1, "ceasefire": RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS}
        if _ceasefire(view) and view.scalar("probe_detection") < self.params["detection"]:
            choice["test"] = TestAction.PROBE
        return choice


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
        offered = view["pending_offer"][1:3].sum() > 0
        move = UkraineCeasefire.ACCEPT if offered else UkraineCeasefire.OFFER
        return {"defence": 2, "fortify": 1, "demand": Demand.FORCE, "ceasefire": move}
