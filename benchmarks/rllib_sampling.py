"""RLlib settings that matter for speed here, measured side by side in one run.

Run: ``.venv/bin/python benchmarks/rllib_sampling.py [--scenario classroom] [--iterations 3]``

For each variant it builds the same PPO run (``configs/training/ppo.yaml`` on the scenario) and
times ``--iterations`` training iterations after one warm-up iteration, printing env-steps per
second and the ratio to RLlib's sampler with the project's settings (``--sampler rllib``):

- the fast sampler (``--sampler fast``, the default; ``training/fast_sampler.py``);
- ``episodes_to_numpy`` (RLlib's sampler): RLlib converts finished episodes to numpy before they
  reach the learner by default; the project turns that off for its sampler
  (``env_runners(episodes_to_numpy=False)``; the fast sampler builds numpy episodes itself).
- ``torch_threads``: the project runs the driver's torch on one thread; torch's default is one
  per core.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from reassurance.runtime import init_ray
from reassurance.training.algorithm import build_algo_config
from reassurance.training.config import load_settings


def steps_per_second(
    scenario: str, iterations: int, *, sampler: str, to_numpy: bool, threads: int, batch: int
) -> float:
    """Env-steps per second over ``iterations`` PPO iterations (sampling plus learning)."""
    settings = load_settings(
        "ppo",
        scenario=scenario,
        sampler=sampler,
        torch_threads=threads,
        ppo={"train_batch_size": batch},
    )
    torch.set_num_threads(threads)
    config = build_algo_config(settings).env_runners(episodes_to_numpy=to_numpy)
    algo = config.build_algo()
    try:
        algo.train()  # warm-up
        start = time.perf_counter()
        steps = 0
        for _ in range(iterations):
            result = algo.train()
            steps += result["env_runners"]["num_env_steps_sampled"]
        return steps / (time.perf_counter() - start)
    finally:
        algo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="classroom")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1024, help="env-steps per iteration")
    args = parser.parse_args()
    init_ray()
    cores = os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} CPUs, python {platform.python_version()}")
    variants = [
        ("rllib sampler", "rllib", False, 1),
        ("fast sampler", "fast", False, 1),
        ("rllib, episodes_to_numpy", "rllib", True, 1),
        (f"rllib, torch threads={cores}", "rllib", False, cores),
    ]
    base = None
    for label, sampler, to_numpy, threads in variants:
        rate = steps_per_second(
            args.scenario,
            args.iterations,
            sampler=sampler,
            to_numpy=to_numpy,
            threads=threads,
            batch=args.batch,
        )
        base = base or rate
        figure = f"{rate:10,.0f} env-steps/s (training)   x{rate / base:.2f}"
        print(f"{args.scenario}: {label:<26} {figure}")


if __name__ == "__main__":
    main()
