"""Does PPO learn? Members trained on ``classroom`` against fixed heuristic opponents.

Run: ``PYTHONHASHSEED=0 .venv/bin/python benchmarks/learning_curve.py [--iterations 40]``
(a fixed hash seed makes the run repeatable: RLlib orders the agents of a step through sets).

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
    args = parser.parse_args()

    settings = load_settings(args.config, iterations=args.iterations)
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
    title = f"PPO members on classroom vs heuristic opponents ({wall / 60:.1f} min, {machine})"
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


if __name__ == "__main__":
    main()
