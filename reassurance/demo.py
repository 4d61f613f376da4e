"""A demonstration game between registered doctrines, printed turn by turn.

The lineup tells the story of the Brussels planning talks: the UK and France lead (they pledge
early and large and deploy first); every other member pledges ground troops that deploy only
once the US signals a backstop; the US offers a conditional backstop and puts enablers in once
Europe has pledged a real force; Russia agrees to a ceasefire and then violates it whenever
deterrence looks weak; Ukraine accepts a ceasefire once a force is pledged. It is
:func:`reassurance.agents.play_match`, so the same seed gives the same game.

Run: ``reassurance demo --scenario classroom --seed 0``.
"""

from __future__ import annotations

import sys
from typing import Any

from reassurance.agents import play_match
from reassurance.envs import load_scenario

__all__ = ["DEMO_LINEUP", "demo_lineup", "run_demo"]

DEMO_LINEUP: dict[str, str] = {
    "member": "member/conditional-on-us",
    "uk": "member/leader",
    "france": "member/leader",
    "usa": "usa/conditional-backstop",
    "russia": "russia/opportunist",
    "ukraine": "ukraine/accepts-with-guarantees",
}
"""Seat -> registered agent id; the member seats a scenario lacks are left out."""


def demo_lineup(scenario: str) -> dict[str, str]:
    """:data:`DEMO_LINEUP` restricted to the seats of ``scenario`` (id or YAML path)."""
    members = {m.id for m in load_scenario(scenario).members}
    roles = {"member", "usa", "russia", "ukraine"}
    return {seat: agent for seat, agent in DEMO_LINEUP.items() if seat in roles | members}


def run_demo(
    scenario: str = "brussels-2025-04",
    seed: int = 0,
    quiet: bool = False,
    replay: str | None = None,
) -> dict[str, Any]:
    """Play the demo lineup, print each turn report (unless quiet), return the episode summary.

    ``replay``: a path ending in ``.html``; the game is also written there as a self-contained
    replay (:mod:`reassurance.classroom.replay`).
    """
    if replay is not None:
        from reassurance.classroom.replay import check_replay_path, record_match, write_replay

        check_replay_path(replay)
        data, recorded = record_match(
            scenario, demo_lineup(scenario), seed, title=f"Demo game, seed {seed}"
        )
        if not quiet:
            for frame in data["frames"][1:]:
                print(frame["report"])
        path = write_replay(data, replay)
        print(f"replay written to {path}", file=sys.stderr)
        return recorded.summary
    result = play_match(
        scenario,
        demo_lineup(scenario),
        seed=seed,
        render_mode=None if quiet else "human",
    )
    return result.summary
