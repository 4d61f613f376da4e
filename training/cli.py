"""The ``reassurance train`` and ``reassurance sweep`` commands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", help="scenario id or YAML path (default: from --config)")
    parser.add_argument(
        "--config",
        default=None,
        help="training settings: a shipped name (ppo) or a YAML path (default: ppo)",
    )
    parser.add_argument("--iterations", type=int, help="total training iterations")
    parser.add_argument("--seed", type=int, help="seed of the run (first seed of a sweep)")
    parser.add_argument(
        "--address", help="Ray cluster address (default: $RAY_ADDRESS, else embedded Ray)"
    )
    parser.add_argument("--num-env-runners", type=int, help="sampling processes (0: in-driver)")
    parser.add_argument("--num-gpus-per-learner", type=float, help="GPUs for the learner")
    parser.add_argument(
        "--sampler",
        choices=("fast", "rllib"),
        help="fast: many games at once on the batched core; rllib: RLlib's MultiAgentEnvRunner, "
        "the reference (default: from --config, fast)",
    )


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "scenario": args.scenario,
        "iterations": args.iterations,
        "seed": args.seed,
        "num_env_runners": args.num_env_runners,
        "num_gpus_per_learner": args.num_gpus_per_learner,
        "sampler": args.sampler,
    }


def _cmd_train(args: argparse.Namespace) -> int:
    from reassurance.training.config import load_settings, validate_settings
    from reassurance.training.run import train

    if args.resume:
        run_dir = Path(args.resume)
        if args.out and Path(args.out) != run_dir:
            raise ValueError(f"--out {args.out} and --resume {args.resume}: a run resumes in place")
        run_json = run_dir / "run.json"
        if not run_json.is_file():
            raise FileNotFoundError(f"--resume {run_dir}: not a training run (no run.json)")
        if args.config:
            raise ValueError("--resume takes the run's own settings; drop --config")
        saved = json.loads(run_json.read_text())["settings"]
        flags = {k: v for k, v in _flags(args).items() if v is not None}
        settings = validate_settings({**saved, **flags}, f"--resume {run_dir}", flags=flags)
    else:
        settings = load_settings(args.config or "ppo", **_flags(args))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path(args.out or f"runs/train-{Path(settings.scenario).stem}-{stamp}")
    print(
        f"training {list(settings.train)} on {settings.scenario} for {settings.iterations} "
        f"iterations, seed {settings.seed}, in {run_dir}"
    )
    train(settings, run_dir, resume=bool(args.resume), address=args.address)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from reassurance.training.config import load_settings
    from reassurance.training.sweep import TrialsFailed, parse_param, sweep

    settings = load_settings(args.config or "ppo", **_flags(args))
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise ValueError(f"--max-concurrent {args.max_concurrent}: need at least 1")
    name, values = parse_param(args.param, settings.scenario)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or f"runs/sweep-{name}-{stamp}")
    try:
        sweep(
            settings,
            name,
            values,
            args.seeds,
            out,
            address=args.address,
            max_concurrent=args.max_concurrent,
        )
    except TrialsFailed as err:
        print(f"reassurance: {err}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` and ``sweep`` to the ``reassurance`` parser."""
    train = sub.add_parser(
        "train",
        help="train policies with multi-agent PPO on Ray RLlib",
        description="Multi-agent PPO (RLlib new API stack). Flags override the --config file. "
        "Writes metrics.jsonl/csv, TensorBoard scalars and checkpoints into the run directory.",
    )
    _common(train)
    train.add_argument("--out", help="run directory (default: runs/train-SCENARIO-TIME)")
    train.add_argument("--resume", metavar="DIR", help="continue a run from its last checkpoint")
    train.set_defaults(func=_cmd_train)

    sweep = sub.add_parser(
        "sweep",
        help="train once per value of a scenario parameter and per seed, on Ray Tune",
        description="One training run per value and seed; a summary table of final metrics.",
    )
    _common(sweep)
    sweep.add_argument(
        "--param",
        required=True,
        metavar="NAME=V1,V2,...",
        help="dotted scenario field and its values, e.g. usa.commitment=0,0.5,1",
    )
    sweep.add_argument("--seeds", type=int, default=1, help="seeds per value (default 1)")
    sweep.add_argument("--out", help="sweep directory (default: runs/sweep-NAME-TIME)")
    sweep.add_argument("--max-concurrent", type=int, help="trials at once (default: as CPUs allow)")
    sweep.set_defaults(func=_cmd_sweep)
