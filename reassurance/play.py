"""The ``reassurance play`` command: a person takes one seat, registered bots take the others.

Run: ``reassurance play --scenario classroom --as france --seed 1``. Each turn prints the turn
report (the env's ``ansi`` render), the player's view and the legal value names of every action
component, and reads one move line (``pledge=10% contribution=ground commit=deploy``; ``help``
shows the syntax). The game ends with a debrief: the outcome, what each member pledged and
deployed, the escalation timeline and the cohesion metrics of the episode summary.

The game is :func:`reassurance.agents.play_match` with a
:class:`~reassurance.agents.human.HumanPolicy` in the player's seat, so the same seed and the
same input lines give the same game. Exit codes: 0 when the game ends or the player quits, 1 at
the end of input before the game ends, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from reassurance import agents
from reassurance.agents.human import GameAbandoned, HumanPolicy
from reassurance.envs import coalition_v0
from reassurance.envs.actions import RUNG_NAMES, Condition, Contribution
from reassurance.envs.metrics import SUMMARY, figures

if TYPE_CHECKING:
    from reassurance.agents import MatchResult

__all__ = ["Timeline", "format_debrief", "list_bots", "parse_bots", "register", "run_play"]

_WIDTH = 80
_US_TYPES = ("disengaged", "conditional", "committed")

# The episode summary's cohesion and conflict figures (reassurance.envs.metrics.SUMMARY), with
# the threshold F* the force is measured against.
_COHESION = tuple(
    (f.name, f.description) for f in SUMMARY if f.group == "cohesion" or f.name == "threshold"
)
_CONFLICT = tuple((f.name, f.description) for f in figures("conflict"))


def _seed(text: str) -> int:
    """argparse type of ``--seed``: a non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; seeds are integers >= 0")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``play`` subcommand to the ``reassurance`` parser."""
    play = sub.add_parser(
        "play",
        help="play one seat against bots at the terminal",
        description=(
            "Take one seat of a scenario and play it turn by turn against registered bots; "
            "the game ends with a debrief."
        ),
        epilog=(
            "example: reassurance play --scenario classroom --as france --seed 1 "
            "--bots usa=usa/words-only,russia=russia/hawk"
        ),
    )
    play.add_argument("--scenario", default="classroom", help="scenario id or YAML path")
    play.add_argument(
        "--as", dest="seat", metavar="SEAT", help="your seat: an agent of the scenario (france)"
    )
    play.add_argument("--seed", type=_seed, default=0, help="seed of the game (an integer >= 0)")
    play.add_argument(
        "--bots",
        default="",
        metavar="SEAT=AGENT,...",
        help="bots for the other seats; SEAT is a role (member, usa, ukraine, russia) or an "
        "agent (uk), AGENT a registered id (member/leader); default: the standard bots",
    )
    play.add_argument(
        "--list-bots", action="store_true", help="list the registered bots by role and exit"
    )
    play.set_defaults(func=_cmd_play)


def _cmd_play(args: argparse.Namespace) -> int:
    if args.list_bots:
        print(list_bots())
        return 0
    return run_play(args.scenario, args.seat, seed=args.seed, bots=args.bots)


def list_bots() -> str:
    """The registered bots by role, with their doctrines and the default of each role."""
    width = 2 + max(len(agent_id) for agent_id in agents.list_agents())
    lines = []
    for role in sorted(agents.DEFAULT_BOTS):
        lines.append(f"{role} (default {agents.DEFAULT_BOTS[role]}):")
        for agent_id in agents.list_agents(role=role):
            doctrine = agents.agent_class(agent_id).doctrine
            lines.append(
                textwrap.fill(
                    f"{agent_id:<{width}}{doctrine}",
                    _WIDTH - 1,
                    initial_indent="  ",
                    subsequent_indent=" " * (2 + width),
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines)


def parse_bots(text: str, possible_agents: Sequence[str], seat: str) -> dict[str, str]:
    """Read ``--bots`` (``usa=usa/words-only,member=member/leader``) into a lineup.

    Keys are roles or agents of the scenario other than the player's seat; values are registered
    agent ids of the key's role. Raises ``ValueError`` naming the bad part and what is allowed.
    """
    roles = sorted(agents.DEFAULT_BOTS)
    lineup: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not key or not value:
            raise ValueError(
                f"--bots: cannot read {part!r}; write SEAT=AGENT pairs separated by commas, "
                "e.g. usa=usa/words-only,member=member/leader"
            )
        if key == seat:
            raise ValueError(f"--bots: {key!r} is your own seat (--as {seat})")
        if key not in roles and key not in possible_agents:
            raise ValueError(
                f"--bots: unknown seat {key!r}; seats are the roles {roles} "
                f"or the agents {[a for a in possible_agents if a != seat]}"
            )
        if key in lineup:
            raise ValueError(f"--bots: seat {key!r} is given twice")
        role = key if key in roles else agents.role_of(key)
        allowed = agents.list_agents(role=role)
        if value not in allowed:
            problem = (
                f"{value!r} is a {agents.agent_class(value).role} bot and cannot play {key!r}"
                if value in agents.list_agents()
                else f"unknown bot {value!r} for {key!r}"
            )
            raise ValueError(
                f"--bots: {problem}; {role} bots: {', '.join(allowed)} "
                "(reassurance play --list-bots describes them)"
            )
        lineup[key] = value
    return lineup


@dataclass
class Timeline:
    """What each step left in the env's infos, for the debrief; also prints each turn report.

    Pass it as ``play_match(..., on_step=timeline)``.
    """

    out: TextIO | None = None
    phases: list[str] = field(default_factory=list)
    escalation: list[dict[str, float]] = field(default_factory=list)
    rungs: list[dict[str, int]] = field(default_factory=list)
    pledged: list[dict[str, float]] = field(default_factory=list)
    deployed: list[dict[str, float]] = field(default_factory=list)
    final_pledges: dict[str, str] = field(default_factory=dict)
    defected: dict[str, bool] = field(default_factory=dict)
    horizon: int = 0

    def __call__(
        self, env: Any, actions: Mapping[str, Any], infos: Mapping[str, dict[str, Any]]
    ) -> None:
        out = self.out or sys.stdout
        report = env.render()
        if report:
            print(report, file=out)
        self.phases.append(next(iter(infos.values()))["phase"])
        self.escalation.append({a: info["escalation"] for a, info in infos.items()})
        self.rungs.append({a: info["rung"] for a, info in infos.items()})
        members = env.member_ids
        self.pledged.append({m: infos[m]["pledge_troops"] for m in members})
        self.deployed.append({m: infos[m]["deployed_troops"] for m in members})
        state = env.game_state
        for i, m in enumerate(members):
            level = int(state.pledge_level[0, i])
            kind = Contribution(int(state.pledge_type[0, i])).name.lower()
            condition = Condition(int(state.pledge_condition[0, i])).name.lower()
            self.final_pledges[m] = f"{kind}/{condition}" if level else "-"
            self.defected[m] = bool(state.defected[0, i])
        self.horizon = env.horizon


def run_play(
    scenario: str,
    seat: str | None,
    *,
    seed: int = 0,
    bots: str = "",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Play ``scenario`` with a person in ``seat`` and bots elsewhere; return the exit code.

    ``stdin``/``stdout`` default to ``sys.stdin``/``sys.stdout``. Bad arguments raise
    ``ValueError`` (the CLI prints one line and exits with 2).
    """
    out = stdout or sys.stdout
    env = coalition_v0.parallel_env(scenario=scenario)
    seats = list(env.possible_agents)
    if seat is None:
        raise ValueError(f"play needs --as SEAT; seats of {env.scenario.id}: {', '.join(seats)}")
    if seat not in seats:
        raise ValueError(
            f"--as {seat!r} is not a seat of {env.scenario.id}; seats: {', '.join(seats)}"
        )
    lineup: dict[str, Any] = dict(parse_bots(bots, seats, seat))
    bot_ids = {a: p.id for a, p in agents.seat_policies(env, lineup).items() if a != seat}
    human = HumanPolicy(agents.role_of(seat), stdin=stdin, stdout=out, members=env.member_ids)
    lineup[seat] = human

    print(_intro(env, seat, seed, bot_ids), file=out)
    timeline = Timeline(out=out)
    try:
        result = agents.play_match(
            scenario, lineup, seed=seed, render_mode="ansi", on_step=timeline
        )
    except GameAbandoned as left:
        played = len(timeline.phases)
        if left.eof:
            print(
                f"reassurance: end of input at turn {played + 1}; the game stops after "
                f"{played} of {env.horizon} turns, without a debrief",
                file=sys.stderr,
            )
            return 1
        print(f"You left the game after {played} of {env.horizon} turns.", file=out)
        return 0
    print(format_debrief(result, timeline, seat, env.member_ids), file=out)
    return 0


def _intro(env: Any, seat: str, seed: int, bot_ids: Mapping[str, str]) -> str:
    sc = env.scenario
    lines = [f"{sc.title} ({sc.id}, seed {seed}): {env.horizon} turns of two weeks."]
    if sc.description:
        lines.append(" ".join(sc.description.split()))
    lines.append(f"You play {seat}. Bots: " + ", ".join(f"{a}={b}" for a, b in bot_ids.items()))
    lines = [textwrap.fill(line, _WIDTH - 1, break_on_hyphens=False) for line in lines]
    lines.append("Each turn: one line of component=value pairs; help shows the syntax.")
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def _outcome(summary: Mapping[str, Any], final_phase: str, horizon: int) -> list[str]:
    steps = int(summary["steps"])
    front = 100 * float(summary["final_front"])
    if steps < horizon:
        head = f"Ukraine's defence collapsed at turn {steps} (it holds {front:.1f}%)."
    elif final_phase in ("deployment", "test"):
        if summary["ceasefire_held"]:
            head = "The ceasefire held to the end of the game."
        else:
            head = f"A ceasefire is in force at the end, after {summary['ceasefire_breaks']} broke."
    elif summary["ceasefires"]:
        head = (
            f"The ceasefire broke ({summary['ceasefire_breaks']} of {summary['ceasefires']}) "
            f"and the game ends in {final_phase}."
        )
    else:
        head = f"No ceasefire was concluded; the game ends in {final_phase}."
    met = "met" if summary["threshold_met"] else "never met"
    force = (
        f"The force peaked at {summary['troops_deployed']:,.0f} troops and {met} its threshold "
        f"({summary['threshold']:,.0f} troops with the enablers E*) at a deployment deadline."
    )
    end = (
        f"Ukraine holds {front:.1f}% of its territory. Hidden types: the US was "
        f"{_US_TYPES[int(summary['us_type'])]}, Russia's resolve {summary['russia_resolve']:.2f}."
    )
    return [
        textwrap.fill(text, _WIDTH - 1, initial_indent="  ", subsequent_indent="    ")
        for text in (head, force, end)
    ]


def _first_turn(series: Sequence[float]) -> str:
    """The first turn (1-based) with a positive value, or ``-``."""
    return next((str(t + 1) for t, v in enumerate(series) if v > 0), "-")


def _members_table(timeline: Timeline, members: Sequence[str], seat: str) -> list[str]:
    width = max(12, *(len(m) + 2 for m in members))
    lines = [
        "Members: troops pledged and deployed (peak, and the turn first seen; * you)",
        f"{'member':<{width}}{'pledged':>8}{'turn':>5}{'deployed':>10}{'turn':>5}{'at end':>8}"
        "  pledge at end",
    ]
    for m in members:
        pledged = [step[m] for step in timeline.pledged]
        deployed = [step[m] for step in timeline.deployed]
        flag = "  reneged" if timeline.defected.get(m) else ""
        name = f"{m}*" if m == seat else m
        lines.append(
            f"{name:<{width}}{max(pledged, default=0):>8,.0f}{_first_turn(pledged):>5}"
            f"{max(deployed, default=0):>10,.0f}{_first_turn(deployed):>5}"
            f"{(deployed or [0.0])[-1]:>8,.0f}  {timeline.final_pledges.get(m, '-')}{flag}"
        )
    return lines


def _escalation_table(timeline: Timeline, seat: str) -> list[str]:
    lines = [
        "Escalation timeline (score: Rivera et al. scale; rung: the ladder below)",
        f"{'turn':>4}  {'phase':<12}{'mean':>6}{'max':>5}  {'top rung: who':<33}{'you':>10}",
    ]
    seen: set[int] = set()
    for t, (phase, scores, rungs) in enumerate(
        zip(timeline.phases, timeline.escalation, timeline.rungs, strict=True)
    ):
        top = max(rungs.values())
        seen.update(rungs.values())
        who = [a for a, r in rungs.items() if r == top]
        names = ",".join(who) if len(",".join(who)) <= 30 else f"{who[0]} +{len(who) - 1}"
        mine = f"{rungs[seat]} / {scores[seat]:.0f}"
        mean = sum(scores.values()) / len(scores)
        lines.append(
            f"{t + 1:>4}  {phase:<12}{mean:>6.1f}{max(scores.values()):>5.0f}  "
            f"{f'{top}: {names}':<33}{mine:>10}"
        )
    lines.append("  'you' is your rung / score. Rungs seen: ")
    legend = "; ".join(f"{r} {RUNG_NAMES[r]}" for r in sorted(seen))
    lines[-1] = textwrap.fill(lines[-1] + legend, _WIDTH - 1, subsequent_indent="  ")
    return lines


def _metrics(summary: Mapping[str, Any], title: str, keys: Sequence[tuple[str, str]]) -> list[str]:
    lines = [title]
    for key, what in keys:
        head = f"  {key:<22}{_number(summary[key]):>10}  "
        lines.append(
            textwrap.fill(what, _WIDTH - 1, initial_indent=head, subsequent_indent=" " * len(head))
        )
    return lines


def format_debrief(
    result: MatchResult, timeline: Timeline, seat: str, members: Sequence[str]
) -> str:
    """The end-of-game debrief, plain text in 80 columns.

    ``result`` is the :class:`~reassurance.agents.MatchResult`, ``timeline`` the
    :class:`Timeline` that watched the game, ``seat`` the player's agent id.
    """
    summary = result.summary
    final_phase = timeline.phases[-1] if timeline.phases else "war"
    rule = "=" * (_WIDTH - 1)
    scores = ", ".join(
        f"{a}{' (you)' if a == seat else ''} {r:.2f}" for a, r in result.returns.items()
    )
    blocks = [
        [rule, f"DEBRIEF: {result.steps} turns, seed {result.seed}, you played {seat}", rule],
        ["Outcome", *_outcome(summary, final_phase, timeline.horizon)],
        _members_table(timeline, members, seat),
        _escalation_table(timeline, seat),
        _metrics(summary, "Cohesion (episode summary)", _COHESION),
        _metrics(summary, "Conflict", _CONFLICT),
        [
            "Scores (summed rewards)",
            textwrap.fill(scores, _WIDTH - 1, initial_indent="  ", subsequent_indent="  "),
        ],
    ]
    return "\n\n".join("\n".join(block) for block in blocks)
