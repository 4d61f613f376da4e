"""Global sensitivity of the research answer to the free parameters (SALib's Morris method).

The answer studied is the *headline contrast*: how much a certainly committed US changes the
coalition compared with a certainly disengaged one, in equilibrium: contributors, ground
contributors, troops deployed and the threshold-met rate at ``usa.commitment`` 1 minus the same
at 0. For each point of a Morris design over the free parameters' boxes (:data:`PARAMETERS`),
the equilibrium analyser finds the members' and Russia's equilibrium from the doctrine profile at
commitment 0 and at 1 (the same seeds in both) and measures the figures on evaluation seeds.

Reported per parameter and output: mu* (the mean absolute elementary effect: how much the
parameter moves the contrast over its box), mu (signed), sigma (interaction or non-linearity),
and, over all points of the design, how often the contrast is positive, zero or negative (is the
sign of the answer robust?).

Run: ``reassurance sensitivity --scenario classroom --trajectories 6 --out results/sensitivity``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.envs import load_scenario
from reassurance.evaluation.equilibrium import (
    QUICK_MEMBER_GRID,
    Game,
    best_response_dynamics,
    doctrine_profile,
    evaluate_profile,
)
from reassurance.runtime import BACKENDS, write_csv

__all__ = ["OUTPUTS", "PARAMETERS", "Parameter", "contrast", "register", "run_morris"]

OUTPUTS = ("contributors", "contributors_ground", "troops_deployed", "threshold_met")
"""Figures whose contrast (commitment 1 minus 0) is analysed."""


@dataclass(frozen=True)
class Parameter:
    """A free parameter of the model: a scenario field and the box it is varied over."""

    field: str
    low: float
    high: float


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("rewards.member.visible_role", 0.1, 1.0),
    Parameter("rewards.member.exposure", 0.003, 0.03),
    Parameter("rewards.member.deployment_cost", 0.3, 2.0),
    Parameter("rewards.member.security", 0.01, 0.15),
    Parameter("rewards.member.casualties", 0.0, 0.2),
    Parameter("rewards.member.war_exposure_factor", 1.0, 4.0),
    Parameter("rewards.member.home_readiness", 0.0, 0.4),
    Parameter("collective_risk.loss", 0.0, 3.0),
    Parameter("collective_risk.probability", 0.1, 0.9),
    Parameter("force.parliament_risk", 0.2, 1.0),
    Parameter("force.eta", 0.5, 2.5),
    Parameter("force.enabler_threshold", 1.0, 8.0),
    Parameter("force.enabler_weight", 0.2, 0.8),
    Parameter("force.outside_factor", 0.2, 0.8),
    Parameter("usa.deterrence", 0.4, 1.0),
    Parameter("usa.enabler_share", 0.3, 1.0),
    Parameter("usa.air_defence", 0.3, 1.0),
    Parameter("usa.tripwire_troops", 1000.0, 10000.0),
    Parameter("test.violation_detection", 0.5, 1.0),
    Parameter("test.major_resistance", 0.5, 1.0),
)
"""The free parameters (reward weights and model choices without a real-world source) and their
boxes: the ranges the model is meant to be read over (docs/model.md)."""


def _equilibrium_figures(
    scenario: str, commitment: float, overrides: Mapping[str, float], seeds: int, rounds: int
) -> dict[str, float]:
    game = Game(
        scenario=scenario,
        commitment=commitment,
        overrides=dict(overrides),
        member_grid=QUICK_MEMBER_GRID,
    )
    sc = load_scenario(scenario, game.scenario_overrides())
    member_ids = [m.id for m in sc.members]
    leaders = [m.id for m in sc.members if m.leadership >= 0.8]
    search = best_response_dynamics(
        game,
        doctrine_profile(game, member_ids, leaders),
        np.arange(seeds, dtype=np.int64),
        rounds=rounds,
    )
    figures = evaluate_profile(
        game,
        search.profile,
        np.arange(10_000, 10_000 + seeds, dtype=np.int64),
        member_ids=member_ids,
        resamples=100,
    ).figures
    return {name: figures[name][0] for name in OUTPUTS}


def contrast(
    scenario: str, overrides: Mapping[str, float], *, seeds: int = 2, rounds: int = 4
) -> dict[str, float]:
    """The headline contrast at one parameter point: each output at commitment 1 minus 0."""
    low = _equilibrium_figures(scenario, 0.0, overrides, seeds, rounds)
    high = _equilibrium_figures(scenario, 1.0, overrides, seeds, rounds)
    return {
        **{f"{k}@0": v for k, v in low.items()},
        **{f"{k}@1": v for k, v in high.items()},
        **{k: high[k] - low[k] for k in OUTPUTS},
    }


def run_morris(
    scenario: str,
    out: str | Path,
    *,
    trajectories: int = 6,
    levels: int = 4,
    seed: int = 0,
    seeds: int = 2,
    workers: int = 2,
    backend: str = "ray",
    address: str | None = None,
    parameters: Sequence[Parameter] = PARAMETERS,
    echo: Callable[[str], None] = print,
) -> Path:
    """Evaluate the Morris design (resumable: points in ``points.csv`` are not run again) and
    write ``sensitivity.csv`` and ``sensitivity.md``; returns the report's path."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    from reassurance.runtime import run_jobs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    problem = {
        "num_vars": len(parameters),
        "names": [p.field for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }
    design = sample.sample(problem, N=trajectories, num_levels=levels, seed=seed)
    points_file = out / "points.csv"
    done: dict[int, dict[str, Any]] = {}
    if points_file.is_file():
        for row in csv.DictReader(points_file.open()):
            done[int(row["point"])] = row
    started = time.perf_counter()
    jobs = {}
    for k, x in enumerate(design):
        if k in done:
            continue
        overrides = {p.field: float(v) for p, v in zip(parameters, x, strict=True)}
        jobs[k] = ((scenario, overrides), {"seeds": seeds})
    for k, result in run_jobs(contrast, jobs, workers=workers, backend=backend, address=address):
        done[k] = {"point": k, **jobs[k][0][1], **result}
        write_csv(points_file, [done[i] for i in sorted(done)])
        echo(f"point {k + 1}/{len(design)}")
    if backend == "ray" and workers != 0 and jobs:
        import ray

        ray.shutdown()
    results = {}
    for name in OUTPUTS:
        y = np.array([float(done[k][name]) for k in range(len(design))])
        analysis = analyze.analyze(problem, design, y, num_levels=levels, seed=seed)
        results[name] = {
            "mu_star": analysis["mu_star"].tolist(),
            "mu": analysis["mu"].tolist(),
            "sigma": analysis["sigma"].tolist(),
            "positive": float(np.mean(y > 1e-9)),
            "zero": float(np.mean(np.abs(y) <= 1e-9)),
            "negative": float(np.mean(y < -1e-9)),
            "mean": float(y.mean()),
        }
    rows = [
        {"output": name, "parameter": p.field, "mu_star": r["mu_star"][i], "mu": r["mu"][i],
         "sigma": r["sigma"][i]}
        for name, r in results.items()
        for i, p in enumerate(parameters)
    ]  # fmt: skip
    write_csv(out / "sensitivity.csv", rows)
    (out / "sensitivity.json").write_text(json.dumps(results, indent=1))
    report = out / "sensitivity.md"
    wall = time.perf_counter() - started
    report.write_text(_markdown(scenario, parameters, results, len(design), trajectories, wall))
    return report


def _markdown(
    scenario: str,
    parameters: Sequence[Parameter],
    results: Mapping[str, Mapping[str, Any]],
    points: int,
    trajectories: int,
    wall_s: float,
) -> str:
    lines = [
        f"# Sensitivity of the headline contrast on `{scenario}` (Morris)",
        "",
        f"{points} parameter points ({trajectories} trajectories over {len(parameters)} free "
        f"parameters); the last run took {wall_s:.0f} s. Contrast: the equilibrium figure at "
        "US commitment 1 minus at 0.",
        "",
        "| output | mean contrast | points with contrast > 0 | = 0 | < 0 |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['mean']:.3g} | {r['positive']:.0%} | {r['zero']:.0%} | "
            f"{r['negative']:.0%} |"
        )
    for name, r in results.items():
        order = np.argsort(r["mu_star"])[::-1]
        lines += [
            "",
            f"## {name}",
            "",
            "| parameter | box | mu* | mu | sigma |",
            "|---|---|---|---|---|",
        ]
        for i in order:
            p = parameters[i]
            lines.append(
                f"| `{p.field}` | {p.low:g} .. {p.high:g} | {r['mu_star'][i]:.3g} | "
                f"{r['mu'][i]:.3g} | {r['sigma'][i]:.3g} |"
            )
    return "\n".join(lines) + "\n"


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    report = run_morris(
        args.scenario,
        args.out,
        trajectories=args.trajectories,
        seed=args.seed,
        seeds=args.seeds,
        workers=args.workers,
        backend=args.backend,
        address=args.address,
    )
    print(f"wrote {report}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sensitivity`` to the ``reassurance`` parser."""
    parser = sub.add_parser(
        "sensitivity",
        help="which free parameters decide the effect of US commitment (Morris, SALib)",
        description="Morris elementary effects of every free parameter on the equilibrium "
        "contrast between a committed and a disengaged US; resumable.",
    )
    parser.add_argument("--scenario", default="classroom", help="scenario id or YAML path")
    parser.add_argument("--trajectories", type=int, default=6, help="Morris trajectories")
    parser.add_argument("--seed", type=int, default=0, help="seed of the design")
    parser.add_argument("--seeds", type=int, default=2, help="game seeds per evaluation")
    parser.add_argument("--workers", type=int, default=2, help="parallel points")
    parser.add_argument(
        "--backend", choices=BACKENDS, default="ray", help="Ray (default) or local processes"
    )
    parser.add_argument("--out", default="results/sensitivity", help="output folder")
    parser.add_argument("--address", help="Ray cluster (default: embedded)")
    parser.set_defaults(func=_cmd_sensitivity)
