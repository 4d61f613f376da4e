"""Game-steps per second: the PettingZoo env (a batch of one) against the batched rules.

Run: ``.venv/bin/python benchmarks/step_throughput.py [--scenario brussels-2025-04]``.
Prints one line per configuration, measured side by side in one run with random legal actions;
the ratio between lines is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from reassurance.envs import coalition_v0, load_scenario
from reassurance.envs.figures import derived
from reassurance.envs.masks import legal_masks
from reassurance.envs.rules import step
from reassurance.envs.state import compile_params, draw_step, init_state


def env_steps_per_second(scenario: str, steps: int) -> float:
    env = coalition_v0.parallel_env(scenario=scenario)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    done = 0
    start = time.perf_counter()
    while done < steps:
        if not env.agents:
            obs, _ = env.reset()
        actions = {
            a: np.array([rng.choice(np.flatnonzero(m)) for m in obs[a]["action_mask"]])
            for a in env.agents
        }
        obs, *_ = env.step(actions)
        done += 1
    return done / (time.perf_counter() - start)


def batch_steps_per_second(scenario: str, batch: int, steps: int) -> float:
    params = compile_params(load_scenario(scenario))
    rng = np.random.default_rng(0)
    state = init_state(params, batch, rng)
    figures = derived(params, state)
    start = time.perf_counter()
    for _ in range(steps):
        masks = legal_masks(params, state, figures)
        actions = {
            role: np.stack([np.argmax(rng.random(m.shape) * m, axis=-1) for m in ms], axis=-1)
            for role, ms in masks.items()
        }
        result = step(params, state, figures, actions, draw_step(rng, batch, params.n_members))
        state, figures = result.state, result.figures
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="brussels-2025-04")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    base = env_steps_per_second(args.scenario, 300)
    print(f"{args.scenario}: {'env (batch of 1)':<22} {base:12,.0f} game-steps/s   x1.0")
    for batch in (1, 64, 1024):
        rate = batch_steps_per_second(args.scenario, batch, 40)
        label = f"rules, batch {batch}"
        print(f"{args.scenario}: {label:<22} {rate:12,.0f} game-steps/s   x{rate / base:.1f}")


if __name__ == "__main__":
    main()
