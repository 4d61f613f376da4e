"""Does PPO learn? Members trained on ``classroom`` against fixed heuristic opponents.

Run: ``PYTHONHASHSEED=0 .venv/bin/python benchmarks/learning_curve.py [--iterations 40]
[--sampler fast|rllib]`` (a fixed hash seed makes the run repeatable: RLlib orders the agents of
a step through sets).

``--compare [--seeds 3]`` instead trains the same setup with both samplers (RLlib's
``MultiAgentEnvRunner`` and the fast sampler), ``--seeds`` runs each, interleaved so both see the
same machine load, and evaluates each final policy on the same evaluation games. It prints the
mean return per member seat at the same env-steps (training episodes, mean and spread over
seeds), the evaluation returns, and the wall time of each; the curves go to
``docs/images/learning_curve_samplers.png`` and the figures to ``OUT/compare.json``
(about 25 minutes on 2 cores with 3 seeds, nearly all of it in the rllib sampler's runs).

Trains the member module (parameter sharing across the three members) with
``configs/training/classroom-members.yaml``, then plays the same evaluation games (same opponents,
same seeds) with the members played by: the trained policy (sampling, and greedy), the random
policy, and two heuristic doctrines for reference. Prints the mean return per member seat with a
bootstrap 95% interval, the iterations, the wall time and the machine; writes the curve as a PNG.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from reassurance import agents
from reassurance.envs import load_scenario
from reassurance.training.config import load_settings
from reassurance.training.run import train

OPPONENTS = {
    "usa": "usa/conditional-backstop",
    "ukraine": "ukraine/accepts-with-guarantees",
    "russia": "russia/opportunist",
}


def member_returns(lineup: dict, seeds: range, scenario: str = "classroom") -> np.ndarray:
    """Mean return of the member seats in each evaluation game (reward units of GAME.md)."""
    out = []
    for seed in seeds:
        result = agents.play_match(scenario, {**OPPONENTS, **lineup}, seed=seed)
        members = [r for a, r in result.returns.items() if agents.role_of(a) == "member"]
        out.append(float(np.mean(members)))
    return np.asarray(out)


def bootstrap(values: np.ndarray, seed: int = 0, draws: int = 2000) -> tuple[float, float]:
    """Percentile-bootstrap 95% interval of the mean of ``values`` (their units)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (draws, len(values))).mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="classroom-members")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out", default="runs/learning-curve")
    parser.add_argument("--png", default="docs/images/learning_curve.png")
    parser.add_argument("--games", type=int, default=200, help="evaluation games per policy")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
    parser.add_argument("--sampler", choices=("fast", "rllib"), default=None)
    parser.add_argument("--compare", action="store_true", help="both samplers, several seeds")
    parser.add_argument("--seeds", type=int, default=3, help="runs per sampler with --compare")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return

    settings = load_settings(args.config, iterations=args.iterations, sampler=args.sampler)
    start = time.perf_counter()
    final = train(settings, args.out, resume=args.resume)
    process_wall = time.perf_counter() - start
    metrics = [json.loads(x) for x in Path(args.out, "metrics.jsonl").read_text().splitlines()]
    wall = sum(m["time_iter_s"] for m in metrics)  # training iterations only, across resumes

    seeds = range(10_000, 10_000 + args.games)
    rows = {
        "trained (sampling)": member_returns(
            {"member": agents.from_checkpoint(final, role="member")}, seeds
        ),
        "trained (greedy)": member_returns(
            {"member": agents.from_checkpoint(final, role="member", greedy=True)}, seeds
        ),
        "member/random": member_returns({"member": "member/random"}, seeds),
        "member/free-rider": member_returns({"member": "member/free-rider"}, seeds),
        "member/home-defender": member_returns({"member": "member/home-defender"}, seeds),
        "member/conditional-on-us": member_returns({"member": "member/conditional-on-us"}, seeds),
    }
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    print(f"\n{settings.iterations} iterations of {settings.ppo.train_batch_size} env-steps: "
          f"{wall:.0f} s in training iterations ({process_wall:.0f} s in this process, with Ray's "
          f"start), machine: {machine}")  # fmt: skip
    print(f"evaluation: {args.games} games of classroom per row, opponents {OPPONENTS}")
    print(f"{'members played by':<28}{'mean return per member':>24}{'95% CI':>22}")
    summary = {}
    for label, values in rows.items():
        low, high = bootstrap(values)
        summary[label] = {"mean": float(values.mean()), "ci95": [low, high]}
        print(f"{label:<28}{values.mean():>24.3f}{f'[{low:.3f}, {high:.3f}]':>22}")

    n_members = len(load_scenario(settings.scenario).members)
    iterations = [m["iteration"] for m in metrics]
    curve = [m["module_return/member"] / n_members for m in metrics]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(iterations, curve, label="trained members (training episodes)", color="tab:blue")
    styles = {"member/random": "tab:red", "member/conditional-on-us": "tab:green",
              "member/free-rider": "tab:gray", "member/home-defender": "tab:purple"}  # fmt: skip
    for label, color in styles.items():
        ax.axhline(summary[label]["mean"], color=color, linestyle="--", label=label)
    ax.scatter(
        [iterations[-1]],
        [summary["trained (sampling)"]["mean"]],
        color="tab:blue",
        marker="o",
        zorder=3,
        label="trained, evaluation games",
    )
    ax.set_xlabel("training iteration")
    ax.set_ylabel("mean return per member seat")
    title = (
        f"PPO members on classroom vs heuristic opponents, sampler {settings.sampler} "
        f"({wall / 60:.1f} min, {machine})"
    )
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=120)
    result = {
        "iterations": settings.iterations,
        "train_batch_size": settings.ppo.train_batch_size,
        "training_s": wall,
        "machine": machine,
        "evaluation_games": args.games,
        "summary": summary,
    }
    Path(args.out, "learning_curve.json").write_text(json.dumps(result, indent=2))
    print(f"curve: {args.png}")


def machine_line() -> str:
    """CPU model, cores, Python, and the git commit."""
    cpu = platform.processor() or platform.machine()
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    ):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent,
    ).stdout.strip()  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, python {platform.python_version()}, commit {commit}"


def compare(args: argparse.Namespace) -> None:
    """Both samplers, ``args.seeds`` runs each: curves at equal env-steps, evaluation, wall time."""
    samplers = ("rllib", "fast")
    out = Path(args.out + "-compare")
    n_members = None
    runs: dict[str, list[dict]] = {s: [] for s in samplers}
    for seed in range(args.seeds):
        for sampler in samplers:
            settings = load_settings(
                args.config, iterations=args.iterations, sampler=sampler, seed=seed
            )
            n_members = n_members or len(load_scenario(settings.scenario).members)
            run_dir = out / f"{sampler}-seed{seed}"
            final = train(settings, run_dir, resume=(run_dir / "run.json").exists())
            metrics = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
            evaluation = member_returns(
                {"member": agents.from_checkpoint(final, role="member")},
                range(10_000, 10_000 + args.games),
            )
            runs[sampler].append(
                {
                    "seed": seed,
                    "env_steps": [m["env_steps"] for m in metrics],
                    "return_per_seat": [m["module_return/member"] / n_members for m in metrics],
                    "training_s": sum(m["time_iter_s"] for m in metrics),
                    "evaluation_mean": float(evaluation.mean()),
                }
            )
            print(f"{sampler} seed {seed}: {runs[sampler][-1]['training_s']:.0f} s training, "
                  f"evaluation {evaluation.mean():.3f}", flush=True)  # fmt: skip

    machine = machine_line()
    checkpoints = sorted({len(r["env_steps"]) for rs in runs.values() for r in rs})
    length = checkpoints[0]
    marks = sorted({min(length, max(1, round(length * k / 4))) for k in range(1, 5)})
    summary: dict[str, dict] = {}
    print(f"\nmean return per member seat in training episodes, over {args.seeds} seeds "
          f"(mean, min..max); machine: {machine}")  # fmt: skip
    print(f"{'env-steps':>10}  " + "  ".join(f"{s:>24}" for s in samplers))
    for mark in marks:
        steps = runs[samplers[0]][0]["env_steps"][mark - 1]
        cells = []
        for sampler in samplers:
            values = np.array([r["return_per_seat"][mark - 1] for r in runs[sampler]])
            cells.append(f"{values.mean():+.3f} ({values.min():+.3f}..{values.max():+.3f})")
        print(f"{steps:>10,}  " + "  ".join(f"{c:>24}" for c in cells))
    print(f"\n{'sampler':<8}{'evaluation (mean over seeds)':>30}{'training s (mean)':>20}")
    for sampler in samplers:
        evaluation = np.array([r["evaluation_mean"] for r in runs[sampler]])
        training = np.array([r["training_s"] for r in runs[sampler]])
        final = np.array([r["return_per_seat"][length - 1] for r in runs[sampler]])
        summary[sampler] = {
            "evaluation_mean": float(evaluation.mean()),
            "evaluation_per_seed": evaluation.tolist(),
            "final_training_return_mean": float(final.mean()),
            "final_training_return_sd": float(final.std(ddof=1)) if len(final) > 1 else 0.0,
            "training_s_mean": float(training.mean()),
        }
        print(f"{sampler:<8}{evaluation.mean():>30.3f}{training.mean():>20.0f}")
    speedup = summary["rllib"]["training_s_mean"] / summary["fast"]["training_s_mean"]
    print(f"fast sampler: x{speedup:.1f} less training time for the same env-steps")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    colors = {"rllib": "tab:orange", "fast": "tab:blue"}
    for sampler in samplers:
        steps = np.array(runs[sampler][0]["env_steps"][:length])
        curves = np.array([r["return_per_seat"][:length] for r in runs[sampler]])
        label = f"--sampler {sampler} ({summary[sampler]['training_s_mean'] / 60:.1f} min)"
        ax.plot(steps, curves.mean(axis=0), color=colors[sampler], label=label)
        ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=colors[sampler],
                        alpha=0.2)  # fmt: skip
    ax.set_xlabel("env-steps")
    ax.set_ylabel("mean return per member seat (training episodes)")
    ax.set_title(f"classroom members vs heuristic opponents, {args.seeds} seeds per sampler "
                 f"(mean, min..max)\n{machine}", fontsize=8)  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png = Path(args.png).with_name("learning_curve_samplers.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    (out / "compare.json").write_text(
        json.dumps({"machine": machine, "summary": summary, "runs": runs}, indent=2)
    )
    print(f"curves: {png}")


if __name__ == "__main__":
    main()
