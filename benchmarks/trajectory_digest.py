"""Fingerprints of trajectories, to check that a speed-up changed nothing the game does.

Run: ``.venv/bin/python benchmarks/trajectory_digest.py`` before and after a change and diff the
output. Each line is a SHA-256 over everything an episode shows agents:

- ``parallel <scenario>``: the PettingZoo env, one random episode with seed 7 (the digest of
  ``tests/test_determinism.py``: actions, observations, masks, rewards, infos, summary);
- ``vector <scenario>``: the batched core, 8 games seeded 7..14 for 120 steps of random legal
  actions (so every game ends and auto-resets at least twice): observations, masks, rewards,
  ends, final observations, summaries and returns.

A pure optimisation leaves every line unchanged; a change of the rules or of the random numbers
changes them (and then the golden traces too).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from reassurance.envs import CoalitionVectorEnv, list_scenarios
from reassurance.envs.actions import Role
from reassurance.envs.masks import split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the digest of the tests
from tests.conftest import play  # noqa: E402
from tests.test_determinism import _digest  # noqa: E402


def vector_digest(scenario: str, games: int = 8, steps: int = 120, seed: int = 7) -> str:
    """SHA-256 of everything the batched core returns over ``steps`` steps of random play."""
    venv = CoalitionVectorEnv(scenario, games)
    rng = np.random.default_rng(seed)
    out = venv.reset(seed=seed)
    h = hashlib.sha256()
    for _ in range(steps):
        actions = {}
        for role in Role:
            parts = [
                np.argmax(rng.random(m.shape) * m, axis=-1) for m in split(out.masks[role], role)
            ]
            actions[role] = np.stack(parts, axis=-1)
        out = venv.step(actions)
        for role in Role:
            for part in (out.obs, out.masks, out.rewards, out.final_obs, out.returns):
                h.update(np.ascontiguousarray(part[role]).tobytes())
        h.update(out.terminated.tobytes() + out.truncated.tobytes() + out.ended.tobytes())
        for key in sorted(out.summaries):
            h.update(key.encode() + np.asarray(out.summaries[key]).tobytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="default: every shipped scenario")
    args = parser.parse_args()
    for scenario in args.scenario or list_scenarios():
        print(f"parallel {scenario:<20} {_digest(play(scenario, seed=7)[1])}")
        print(f"vector   {scenario:<20} {vector_digest(scenario)}")


if __name__ == "__main__":
    main()
