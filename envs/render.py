"""The turn report: what happened in a step, as text for people (the env's ``ansi``/``human``
render modes, ``reassurance demo`` and ``reassurance play``).

The env records each step's executed actions with the state and figures it led to
(:class:`Turn`); the text is only built when a render mode asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from reassurance.envs import actions as A
from reassurance.envs.actions import Role
from reassurance.envs.figures import Derived
from reassurance.envs.state import Params, State

__all__ = ["Turn", "header", "turn_report"]


@dataclass(frozen=True)
class Turn:
    """One step of game ``0`` of a batch: the actions as executed, each agent's escalation
    score, and the state and figures the step led to."""

    executed: dict[Role, np.ndarray]
    escalation: np.ndarray  # [A]
    state: State
    figures: Derived


def _label(enum: type[IntEnum], value: Any) -> str:
    return enum(int(value)).name.lower()


def header(params: Params, horizon: int, state: State | None) -> str:
    """One line: the scenario, the step, the phase and the front (before the first step)."""
    sc = params.scenario
    if state is None:
        return f"{sc.title} (not started: call reset())"
    return (
        f"{sc.title}: step {int(state.t[0])}/{horizon}, "
        f"phase {_label(A.Phase, state.phase[0])}, "
        f"Ukraine holds {100 * state.front[0]:.1f}% of its territory"
    )


def turn_report(params: Params, horizon: int, turn: Turn, agents: Sequence[str]) -> str:
    """The report of one step: phase and front, the force, every role's move, each member's
    pledge and deployment, and the escalation of the step."""
    s, d, p, sc = turn.state, turn.figures, params, params.scenario
    pending = _label(A.PendingOffer, s.pending[0])
    lines = [f"== Turn {int(s.t[0])}/{horizon} ({sc.id}) " + "=" * 20]
    lines.append(
        f"Phase: {_label(A.Phase, s.phase[0]):<12} Front: Ukraine holds {100 * s.front[0]:.1f}%"
        f"   Pending offer: {pending}"
    )
    lines.append(
        f"Force: {d.force[0]:,.0f} / {sc.force.threshold_troops:,.0f} troops deployed"
        f" ({d.pledged_force[0]:,.0f} pledged)   Enablers E={d.enablers[0]:.2f}"
        f"   Deterrence q={d.deterrence[0]:.2f}"
        + ("   DETERRENCE GAP OPEN" if s.gap_open[0] else "")
    )
    usa = A.ActionView(Role.USA, turn.executed[Role.USA][0])
    lines.append(
        f"US: signal {_label(A.Signal, usa.signal)}, enablers {int(usa.enablers)}/3, "
        f"pressure {_label(A.Pressure, usa.pressure)}, "
        f"response {_label(A.UsResponse, usa.response)}"
        f"   Public belief US backs: {d.mu[0]:.2f}"
    )
    russia = A.ActionView(Role.RUSSIA, turn.executed[Role.RUSSIA][0])
    test = ""
    if russia.test:
        seen = "detected" if s.violation_detected[0] else "undetected"
        worked = ", succeeded" if s.violation_succeeded[0] else ", failed"
        test = f", test {_label(A.TestAction, russia.test)} ({seen}{worked})"
    lines.append(
        f"Russia: offensive {int(russia.offensive)}/3, "
        f"strikes {'yes' if russia.strikes else 'no'}, "
        f"ceasefire {_label(A.RussiaCeasefire, russia.ceasefire)}{test}, "
        f"threat {_label(A.Threat, russia.threat)}"
    )
    ukraine = A.ActionView(Role.UKRAINE, turn.executed[Role.UKRAINE][0])
    lines.append(
        f"Ukraine: defence {int(ukraine.defence)}/3, fortify {'yes' if ukraine.fortify else 'no'}, "
        f"ceasefire {_label(A.UkraineCeasefire, ukraine.ceasefire)}, "
        f"demand {_label(A.Demand, ukraine.demand)}"
    )
    lines.append(
        f"{'member':<12}{'pledged':>9}{'deployed':>10}  type/condition                response"
    )
    for i, member in enumerate(p.member_ids):
        level = int(s.pledge_level[0, i])
        pledged = 1000 * p.pledge_shares[level] * p.capacity_k[i]
        kind = _label(A.Contribution, s.pledge_type[0, i])
        condition = _label(A.Condition, s.pledge_condition[0, i])
        response = _label(A.MemberResponse, s.member_response[0, i])
        detail = f"{kind}/{condition}" if level else "-"
        lines.append(
            f"{member:<12}{pledged:>9,.0f}{1000 * s.deployed_k[0, i]:>10,.0f}  "
            f"{detail:<30}{response}"
        )
    escalation = turn.escalation
    top = int(np.argmax(escalation))
    lines.append(
        f"Escalation: mean {escalation.mean():.1f}, max {escalation.max():.0f} ({agents[top]})"
    )
    return "\n".join(lines)
