"""Events a facilitator can inject between turns: documented, validated changes of the game state.

Each event is news the players did not choose, applied to the rules state before the next
turn's moves (through ``CoalitionEnv.set_game_state``), and recorded with the game so a replay
and a restarted server apply it at the same point.

``us_statement`` (``signal``: silent, verbal, conditional or formal)
    The US's public signal becomes ``signal`` (so pledges made "if the US backstops" may deploy
    while it is conditional or formal), and the public belief about the US type is updated by
    Bayes' rule with the scenario's likelihood of that signal, as if the US had sent it. The US
    seat's next move sets its signal again.
``russian_probe`` (``detected``: yes or no)
    During a ceasefire only: Russia probes the force in the grey zone. Every seat sees last
    turn's test as a probe, detected or not; an undetected probe succeeds, a detected one
    fails; no territory changes hands. The attempt (and the detection) count in the episode
    summary, and a detected probe updates the belief about the US by its standing response, as
    in the rules.
``failed_vote`` (``member``: a member whose deployments need a parliamentary vote)
    That parliament votes a deployment down: any approval lapses, and the member cannot deploy
    for the scenario's ``force.vote_cooldown`` turns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reassurance.envs.actions import Phase, Signal, TestAction

__all__ = ["EVENTS", "EventKind", "apply_event", "validate_event"]

_YES_NO = ("yes", "no")


@dataclass(frozen=True)
class EventKind:
    """One kind of event: its name, a title for pages, what it does, and its parameter."""

    name: str
    title: str
    doc: str
    parameter: str
    parameter_doc: str


EVENTS: dict[str, EventKind] = {
    "us_statement": EventKind(
        "us_statement",
        "US statement",
        "The US says where it stands; the public belief about the US moves by Bayes' rule.",
        "signal",
        "silent, verbal, conditional or formal",
    ),
    "russian_probe": EventKind(
        "russian_probe",
        "Russian probe",
        "During a ceasefire, Russia probes the force in the grey zone.",
        "detected",
        "yes or no: whether monitoring detects it",
    ),
    "failed_vote": EventKind(
        "failed_vote",
        "Failed vote",
        "A parliament votes a deployment down; the member cannot deploy for a few turns.",
        "member",
        "a member whose deployments need a parliamentary vote",
    ),
}
"""The events a facilitator may inject, by name."""


def _choice(what: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise ValueError(f"{what} {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value.strip().lower()


def _voting_members(env: Any) -> tuple[str, ...]:
    return tuple(m.id for m in env.scenario.members if m.parliament_vote)


def validate_event(env: Any, kind: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Check an event against the game as it stands; return its parameters, normalised.

    Raises ``ValueError`` naming the bad value and what is allowed (an unknown event, a missing
    or unknown parameter, a probe with no ceasefire, a vote for a member that needs none).
    """
    if kind not in EVENTS:
        raise ValueError(f"unknown event {kind!r}; events: {', '.join(EVENTS)}")
    event = EVENTS[kind]
    if not isinstance(params, Mapping):
        raise ValueError(f"event parameters must be an object, got {params!r}")
    extra = sorted(set(params) - {event.parameter})
    if extra:
        raise ValueError(f"event {kind} takes only {event.parameter!r}; unknown: {extra}")
    if event.parameter not in params:
        raise ValueError(f"event {kind} needs {event.parameter!r}: {event.parameter_doc}")
    value = params[event.parameter]
    state = env.game_state
    if kind == "us_statement":
        return {"signal": _choice("signal", value, tuple(s.name.lower() for s in Signal))}
    if kind == "russian_probe":
        detected = _choice("detected", value, _YES_NO)
        phase = Phase(int(state.phase[0]))
        if phase not in (Phase.DEPLOYMENT, Phase.TEST):
            raise ValueError(
                f"a probe tests a ceasefire, and none is in force (phase {phase.name.lower()}); "
                "inject it during deployment or test"
            )
        return {"detected": detected}
    voters = _voting_members(env)
    member = value.strip().lower() if isinstance(value, str) else value
    if member not in env.member_ids:
        raise ValueError(
            f"member {value!r} is not in the game; members: {', '.join(env.member_ids)}"
        )
    if member not in voters:
        allowed = ", ".join(voters) if voters else "none in this scenario"
        raise ValueError(
            f"{member}'s deployments need no parliamentary vote; members with a vote: {allowed}"
        )
    return {"member": member}


def _bayes(belief: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """Posterior over the US types ``[1, 3]`` from a likelihood per type ``[3]``."""
    posterior = belief * likelihood[None, :]
    return posterior / posterior.sum(axis=1, keepdims=True)


def apply_event(env: Any, kind: str, params: Mapping[str, Any]) -> str:
    """Validate and apply an event to ``env``'s game; return one sentence saying what happened."""
    params = validate_event(env, kind, params)
    s = env.game_state
    scenario = env.scenario
    if kind == "us_statement":
        signal = Signal[params["signal"].upper()]
        likelihood = np.array([row[int(signal)] for row in scenario.belief.signal])
        belief = _bayes(s.belief, likelihood)
        env.set_game_state(
            s.replace(us_signal=np.full_like(s.us_signal, int(signal)), belief=belief)
        )
        backs = float(belief[0, 1] + belief[0, 2])
        return (
            f"US statement: the US says {params['signal']}; the public belief that it backs the "
            f"force is now {backs:.2f}."
        )
    if kind == "russian_probe":
        detected = params["detected"] == "yes"
        changes: dict[str, np.ndarray] = {
            "ru_test": np.full_like(s.ru_test, int(TestAction.PROBE)),
            "violation_detected": np.full_like(s.violation_detected, detected),
            "violation_succeeded": np.full_like(s.violation_succeeded, not detected),
            "violations": s.violations + 1,
            "detections": s.detections + int(detected),
        }
        if detected:
            response = int(s.us_response[0])
            likelihood = np.array([row[response] for row in scenario.belief.response])
            changes["belief"] = _bayes(s.belief, likelihood)
        env.set_game_state(s.replace(**changes))
        return (
            "Russian probe: monitoring detected it, and it failed."
            if detected
            else "Russian probe: it went undetected, and it succeeded."
        )
    member = params["member"]
    i = list(env.member_ids).index(member)
    cooldown = s.vote_cooldown.copy()
    passed = s.vote_passed.copy()
    cooldown[0, i] = scenario.force.vote_cooldown
    passed[0, i] = False
    env.set_game_state(s.replace(vote_cooldown=cooldown, vote_passed=passed))
    return (
        f"Failed vote: {member}'s parliament voted a deployment down; it cannot deploy for "
        f"{scenario.force.vote_cooldown} turns."
    )
