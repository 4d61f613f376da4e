"""The ``reassurance tournament`` and ``reassurance report`` commands."""

from __future__ import annotations

import argparse
from typing import Any

_BATCH_HELP = (
    "matches played at once on the batched core and written in one transaction (default: 1024, "
    "reassurance.evaluation.tournament.DEFAULT_BATCH); 1 plays each match alone (one-game path)"
)


def _batch_size(text: str) -> int:
    """argparse type of ``--batch-size``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; a batch holds 1 match or more")
    return value


def _cmd_tournament(args: argparse.Namespace) -> int:
    from reassurance.evaluation.config import load_tournament_config, plan_tournament
    from reassurance.evaluation.tournament import run_tournament

    config, base_dir = load_tournament_config(args.config)
    plan = plan_tournament(config, base_dir)
    print(
        f"tournament {plan.name}: scenario {plan.scenario.id} (sha256 {plan.scenario_hash[:12]}), "
        f"{plan.n_assignments} seat assignments x {len(config.seed_list())} seeds = "
        f"{len(plan.matches)} matches -> {args.db}",
        flush=True,
    )
    options: dict[str, Any] = {} if args.batch_size is None else {"batch_size": args.batch_size}
    run = run_tournament(
        plan,
        args.db,
        workers=args.workers,
        address=args.address,
        progress=not args.no_progress,
        **options,
    )
    print(
        f"played {run.played} matches in {run.wall_s:.1f} s; {run.already_done} were already "
        f"in {args.db}. Next: reassurance report {args.db} --out DIR"
    )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    if args.replay is not None:
        # The replay writer lives above this library (reassurance.classroom); the command line
        # that assembles both hands it in (reassurance.cli), so evaluation imports nothing of it.
        if args.write_replay is None:
            raise ValueError("--replay needs the classroom package's replay writer")
        path = args.write_replay(args.db, args.replay, args.out)
        print(f"wrote {path}: match {args.replay} as a self-contained replay")
        return 0
    from reassurance.evaluation.report import write_report

    path = write_report(args.db, args.out, tournament=args.tournament, plots=not args.no_plots)
    print(f"wrote {path} (and its plots and tables.json in {path.parent})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommands to the ``reassurance`` parser."""
    tournament = sub.add_parser(
        "tournament",
        help="play a seeded, resumable tournament of policies into a SQLite file",
        description=(
            "Play every match of a tournament config that the results database lacks, as Ray "
            "tasks. Rerunning after an interruption plays only the missing matches."
        ),
    )
    tournament.add_argument(
        "config", help="tournament config: a shipped name (classroom-heuristics) or a YAML path"
    )
    tournament.add_argument("--db", required=True, help="SQLite results file (made if missing)")
    tournament.add_argument(
        "--workers",
        type=int,
        default=None,
        help="CPUs of the embedded Ray session (default: all); 0 plays in this process",
    )
    tournament.add_argument(
        "--address", default=None, help="Ray cluster to join (default: $RAY_ADDRESS, else local)"
    )
    tournament.add_argument("--batch-size", type=_batch_size, default=None, help=_BATCH_HELP)
    tournament.add_argument("--no-progress", action="store_true", help="no progress bar")
    tournament.set_defaults(func=_cmd_tournament)

    report = sub.add_parser(
        "report",
        help="write a Markdown report with tables and PNG plots from a results file",
        description="Analyse a tournament: ratings, cross-play tables, cohesion, alpha-rank.",
    )
    report.add_argument("db", help="SQLite results file written by `reassurance tournament`")
    report.add_argument("--out", required=True, help="folder for report.md, plots, tables.json")
    report.add_argument(
        "--tournament", default=None, help="which tournament, if the file holds several"
    )
    report.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")
    report.add_argument(
        "--replay",
        metavar="KEY",
        default=None,
        help="instead of the report, write match KEY (its match_key) as an offline HTML replay",
    )
    report.set_defaults(func=_cmd_report, write_replay=None)
