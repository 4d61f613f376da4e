"""A demonstration game between registered doctrines, printed turn by turn.

The lineup tells the story of the Brussels planning talks: the UK and France lead (they pledge
early and large and deploy first); every other member pledges ground troops that deploy only
once the US signals a backstop; the US plays its private type (silent if disengaged, a
conditional backstop with enablers once Europe has pledged a real force, or a formal guarantee
if committed); Russia agrees to a ceasefire and then violates it whenever
deterrence looks weak; Ukraine accepts a ceasefire once a force is pledged. It is
:func:`reassurance.agents.play_match`, so the same seed gives the same game.

Run: ``reassurance demo --scenario classroom --seed 0``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from reassurance.agents import play_match
from reassurance.envs import load_scenario

__all__ = ["DEMO_LINEUP", "Deadline", "demo_lineup", "play_demo", "run_demo", "threshold_verdict"]

DEMO_LINEUP: dict[str, str] = {
    "member": "member/conditional-on-us",
    "uk": "member/leader",
    "france": "member/leader",
    "usa": "usa/by-type",
    "russia": "russia/opportunist",
    "ukraine": "ukraine/accepts-with-guarantees",
}
"""Seat -> registered agent id; the member seats a scenario lacks are left out."""


def demo_lineup(scenario: str) -> dict[str, str]:
    """:data:`DEMO_LINEUP` restricted to the seats of ``scenario`` (id or YAML path)."""
    members = {m.id for m in load_scenario(scenario).members}
    roles = {"member", "usa", "russia", "ukraine"}
    return {seat: agent for seat, agent in DEMO_LINEUP.items() if seat in roles | members}


@dataclass(frozen=True)
class Deadline:
    """The force at a deployment deadline: ``force`` and ``threshold`` in effective ground
    troops (F and F*), ``enablers`` E as a share of the enabler threshold E* (met at 1)."""

    turn: int
    force: float
    threshold: float
    enablers: float

    @property
    def force_met(self) -> bool:
        return self.force >= self.threshold - _EPS

    @property
    def enablers_met(self) -> bool:
        return self.enablers >= 1.0 - _EPS


_EPS = 1e-9  # the rules' tolerance for "met"


def play_demo(
    scenario: str = "brussels-2025-04",
    seed: int = 0,
    quiet: bool = False,
    replay: str | None = None,
) -> tuple[dict[str, Any], list[Deadline]]:
    """Play the demo lineup, print each turn report (unless quiet); return the episode summary
    and the force at each deployment deadline the game reached.

    ``replay``: a path ending in ``.html``; the game is also written there as a self-contained
    replay (:mod:`reassurance.classroom.replay`).
    """
    recorder = None
    if replay is not None:
        from reassurance.classroom.replay import Recorder, check_replay_path

        check_replay_path(replay)
        recorder = Recorder(scenario, seed)
    from reassurance.envs.rules import derived

    deadlines: list[Deadline] = []

    def at_deadline(env: Any, actions: Any, infos: Any) -> None:
        state = env.game_state
        if int(state.deadlines[0]) > len(deadlines):  # this step reached a deadline
            d = derived(env.params, state)
            threshold = env.scenario.force.threshold_troops
            turn = int(state.t[0])
            deadlines.append(Deadline(turn, float(d.force[0]), threshold, float(d.enablers[0])))

    def on_step(env: Any, actions: Any, infos: Any) -> None:
        at_deadline(env, actions, infos)
        if recorder is not None:
            recorder(env, actions, infos)
            if not quiet:
                print(recorder.frames[-1]["report"])

    result = play_match(
        scenario,
        demo_lineup(scenario),
        seed=seed,
        render_mode="ansi" if recorder is not None else None if quiet else "human",
        on_step=on_step,
    )
    if recorder is not None:
        from reassurance.classroom.replay import replay_data, write_replay

        data = replay_data(recorder, result, scenario, seed, title=f"Demo game, seed {seed}")
        print(f"replay written to {write_replay(data, replay)}", file=sys.stderr)
    return result.summary, deadlines


def run_demo(
    scenario: str = "brussels-2025-04", seed: int = 0, quiet: bool = False
) -> dict[str, Any]:
    """Play the demo lineup, print each turn report (unless quiet), return the episode summary."""
    return play_demo(scenario, seed, quiet)[0]


def threshold_verdict(deadlines: list[Deadline]) -> str:
    """Why ``threshold_met`` is what it is, in words: which of the force threshold F* and the
    enabler threshold E* the last deployment deadline missed, or that no ceasefire set one."""
    if not deadlines:
        return "no ceasefire was concluded, so no deployment deadline came"
    last = deadlines[-1]
    figures = (
        f"force {last.force:,.0f} / {last.threshold:,.0f} troops, "
        f"enablers E = {last.enablers:.2f} / 1"
    )
    met = [d for d in deadlines if d.force_met and d.enablers_met]
    if met:
        return f"met at {len(met)} of {len(deadlines)} deployment deadlines; last: {figures}"
    missed = " and ".join(
        name for name, ok in (("F*", last.force_met), ("E*", last.enablers_met)) if not ok
    )
    of = f" (the last of {len(deadlines)})" if len(deadlines) > 1 else ""
    return f"missed {missed} at the deadline of turn {last.turn}{of}: {figures}"
