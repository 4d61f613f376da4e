"""Calibration check: the members' iterated best response among their doctrines, per US prior.

Run: ``.venv/bin/python benchmarks/best_response.py [--scenario classroom] [--seeds 20]``

GAME.md asks for a best-response check of the payoffs before reading anything into trained
policies. For each value of ``usa.commitment`` (the prior that the US is committed), every
member starts on ``member/conditional-on-us``; in rounds, each member in turn switches to the
doctrine with the highest mean return over the same seeds, the others' doctrines fixed, and the
loop stops when nobody switches (a pure equilibrium among these doctrines) or after
``--rounds``. The US, Russia and Ukraine play fixed doctrines. Prints, per prior, the doctrines
at the end, the members that put troops in Ukraine, the force and how often it met F* and E*.
"""

from __future__ import annotations

import argparse

import numpy as np

from reassurance import agents
from reassurance.envs import load_scenario

CANDIDATES = (
    "member/unconditional",
    "member/conditional-on-us",
    "member/free-rider",
    "member/leader",
    "member/home-defender",
    "member/reciprocator",
)
OPPONENTS = {
    "usa": "usa/conditional-backstop",
    "ukraine": "ukraine/accepts-with-guarantees",
    "russia": "russia/opportunist",
}


def play(scenario: str, prior: float, lineup: dict[str, str], seeds: range) -> list:
    """The match results of ``lineup`` (member id -> doctrine) over ``seeds``."""
    overrides = {"usa.commitment": prior}
    return [
        agents.play_match(scenario, {**OPPONENTS, **lineup}, seed=s, overrides=overrides)
        for s in seeds
    ]


def best_response(
    scenario: str, prior: float, seeds: range, rounds: int
) -> tuple[dict[str, str], int]:
    """Iterate best responses from everyone on conditional-on-us; return the lineup, rounds."""
    members = [m.id for m in load_scenario(scenario).members]
    lineup = dict.fromkeys(members, "member/conditional-on-us")
    for round_ in range(1, rounds + 1):
        switched = False
        for member in members:
            scores = {}
            for doctrine in CANDIDATES:
                results = play(scenario, prior, {**lineup, member: doctrine}, seeds)
                scores[doctrine] = float(np.mean([r.returns[member] for r in results]))
            best = max(CANDIDATES, key=lambda d: (round(scores[d], 9), d == lineup[member]))
            if scores[best] > scores[lineup[member]] + 1e-9:
                lineup[member] = best
                switched = True
        if not switched:
            return lineup, round_
    return lineup, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="classroom")
    parser.add_argument("--priors", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--seeds", type=int, default=20, help="games per evaluation")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(f"scenario {args.scenario}; opponents {OPPONENTS}; {args.seeds} seeds per evaluation")
    header = ("prior", "rounds", "troops in Ukraine", "force", "F*&E* met")
    widths = (6, 6, 17, 8, 9)
    print(
        "  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)), " doctrines at the end"
    )
    for prior in (float(p) for p in args.priors.split(",")):
        lineup, rounds = best_response(args.scenario, prior, seeds, args.rounds)
        results = play(args.scenario, prior, lineup, seeds)
        ground = np.mean([r.summary["contributors_ground"] for r in results])
        troops = np.mean([r.summary["troops_deployed"] for r in results])
        met = np.mean([bool(r.summary["threshold_met"]) for r in results])
        names = ", ".join(f"{m}={d.split('/')[1]}" for m, d in lineup.items())
        print(f"{prior:>6.2f}  {rounds:>6}  {ground:>17.2f}  {troops:>8,.0f}  {met:>9.2f}  {names}")


if __name__ == "__main__":
    main()
