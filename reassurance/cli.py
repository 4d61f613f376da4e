"""The ``reassurance`` command."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from reassurance import __version__


def _format_summary(summary: dict) -> str:
    lines = ["== Episode summary " + "=" * 30]
    for key, value in summary.items():
        if isinstance(value, float):
            value = "n/a" if math.isnan(value) else f"{value:,.3f}"
        lines.append(f"{key:<24}{value}")
    return "\n".join(lines)


def _cmd_demo(args: argparse.Namespace) -> int:
    from reassurance.demo import run_demo

    summary = run_demo(args.scenario, args.seed, quiet=args.json, replay=args.replay)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_format_summary(summary))
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from reassurance.envs import list_scenarios, load_scenario

    for scenario_id in list_scenarios():
        sc = load_scenario(scenario_id)
        print(f"{scenario_id:<20}{len(sc.members):>3} members  {sc.horizon:>3} steps  {sc.title}")
    return 0


_COMMAND_MODULES = (
    "reassurance.play",  # play
    "reassurance.training.cli",  # train, sweep
    "reassurance.evaluation.cli",  # tournament, report
    "reassurance.classroom.cli",  # classroom
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reassurance",
        description="A reassurance force for Ukraine, and whether America backs it.",
    )
    parser.add_argument("--version", action="version", version=f"reassurance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="watch a game of heuristic bots, turn by turn")
    demo.add_argument("--scenario", default="brussels-2025-04", help="scenario id or YAML path")
    demo.add_argument("--seed", type=int, default=0, help="seed of the game")
    demo.add_argument("--json", action="store_true", help="print only the summary, as JSON")
    demo.add_argument(
        "--replay",
        metavar="FILE.html",
        default=None,
        help="also write the game as a self-contained HTML replay (opens offline)",
    )
    demo.set_defaults(func=_cmd_demo)
    scenarios = sub.add_parser("scenarios", help="list the shipped scenarios")
    scenarios.set_defaults(func=_cmd_scenarios)
    # Each command family registers its own subcommands; heavy imports wait for the command.
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    sub.choices["report"].set_defaults(write_replay=_tournament_replay)
    return parser


def _tournament_replay(db: str, key: str, out: str) -> Path:
    """``reassurance report DB --replay KEY``: the match as an offline HTML replay in ``out``."""
    from reassurance.classroom.replay import tournament_replay, write_replay

    return write_replay(tournament_replay(db, key), Path(out) / f"replay-{key[:12]}.html")


_FIXED_HASH_SEED = ("train", "sweep")


def _fix_hash_seed(args: argparse.Namespace) -> None:
    """Re-run a training command with ``PYTHONHASHSEED=0`` when none is set.

    RLlib orders the agents of a step through Python sets, so the order in which their actions
    are sampled, and with it a seeded run's result, changes with the string-hash seed that
    Python draws at start-up. Only a fresh interpreter can take a fixed one; Ray's processes
    inherit it.
    """
    if args.command in _FIXED_HASH_SEED and "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "reassurance.cli", *sys.argv[1:]])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # run as the ``reassurance`` command, not called from Python
        _fix_hash_seed(args)
    from reassurance.envs import ScenarioError

    try:
        return args.func(args)
    except (ScenarioError, ValueError, FileNotFoundError) as err:
        # Bad input: one clear line, no traceback (REASSURANCE_DEBUG=1 shows it).
        if os.environ.get("REASSURANCE_DEBUG") == "1":
            raise
        print(f"reassurance: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reassurance: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
