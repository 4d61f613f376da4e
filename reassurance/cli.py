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


def seed_argument(text: str) -> int:
    """argparse type of a game's ``--seed``: an integer >= 0 (numpy takes any size)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; seeds are integers >= 0")
    return value


def _format_summary(summary: dict, notes: dict[str, str] | None = None) -> str:
    """The summary as aligned lines; ``notes`` adds words after a key's value."""
    notes = notes or {}
    lines = ["== Episode summary " + "=" * 30]
    for key, value in summary.items():
        if isinstance(value, float):
            value = "n/a" if math.isnan(value) else f"{value:,.3f}"
        note = f"  ({notes[key]})" if key in notes else ""
        lines.append(f"{key:<24}{value}{note}")
    return "\n".join(lines)


def _strict_json(value: object) -> object:
    """``value`` with every NaN or infinite float as ``None`` (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    return value


def _cmd_demo(args: argparse.Namespace) -> int:
    from reassurance.demo import play_demo, threshold_verdict

    summary, deadlines = play_demo(args.scenario, args.seed, quiet=args.json, replay=args.replay)
    if args.json:
        # null where the summary has NaN (nothing to measure), as the results database does
        print(json.dumps(_strict_json(summary), indent=2, allow_nan=False))
    else:
        notes = {"threshold_met": threshold_verdict(deadlines)}
        print(_format_summary(summary, notes))
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
    "reassurance.evaluation.equilibrium",  # equilibrium
    "reassurance.evaluation.calibration",  # calibrate
    "reassurance.evaluation.sensitivity",  # sensitivity
    "reassurance.evaluation.experiment",  # experiment
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
    demo.add_argument(
        "--seed", type=seed_argument, default=0, help="seed of the game (an integer >= 0)"
    )
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


_FIXED_HASH_SEED = ("train", "sweep", "experiment")


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


def _stop_writing_to_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null, so that Python's flush at exit does not
    fail (and print a traceback) again. (The Python docs' recipe for SIGPIPE, module signal.)"""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a non-file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


_PATH_ERRORS = (PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)
"""OS errors about a path the user gave: one line too (they name the path)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``reassurance`` command; return its exit status.

    0: done; 1: stdout closed early (``reassurance demo | head -1``: output stops quietly, as
    Python's own exit on a broken pipe); 2: bad input, one line on stderr; 130: interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # run as the ``reassurance`` command, not called from Python
        _fix_hash_seed(args)
    from reassurance.envs import ScenarioError
    from reassurance.runtime import RayUnreachableError

    try:
        status = args.func(args)
        sys.stdout.flush()  # a reader that quit early shows here, not at exit
        return status
    except BrokenPipeError:
        _stop_writing_to_stdout()
        return 1
    except (
        ScenarioError,
        ValueError,
        FileNotFoundError,
        RayUnreachableError,
        *_PATH_ERRORS,
    ) as err:
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
