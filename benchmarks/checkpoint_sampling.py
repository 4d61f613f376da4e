"""Games per second of trained (checkpoint) policies on the batched core: the batched sampler
against one ``Generator.choice`` per row and action component.

Run: ``.venv/bin/python benchmarks/checkpoint_sampling.py [--games N] [--json FILE]`` (about a
minute on 2 cores). On brussels-2025-04 it saves a seeded, untrained network of the training
settings' shape (``configs/training/ppo.yaml``) for the member role, as a training run's export,
and plays the same games with ``play_matches`` two ways, in this process, interleaved in two
rounds so that a change in the machine's load hits both alike:

- **choice per row**: each row's components drawn by ``Generator.choice(n, p=p)``, the sampler
  of :class:`~reassurance.agents.checkpoint.CheckpointPolicy` before this benchmark;
- **batched**: the policy's own ``act_batch``, which draws each row's doubles at once and picks
  by comparing them with the cumulative probabilities.

It checks that both gave the same returns and summaries (the same draws), and prints games/s
and the ratio ``batched_vs_choice``. The trained population of ``reassurance experiment`` plays
every run of every setting on 24 seeds against each member's 13 deviations, on this path.
``--json FILE`` writes the figures and the machine (CPU, cores, Python, numpy, git commit).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reassurance import agents
from reassurance.agents.checkpoint import CheckpointPolicy, write_export
from reassurance.agents.networks import MaskedActorCritic
from reassurance.envs import coalition_v0
from reassurance.runtime import machine
from reassurance.training.config import load_settings

SCENARIO = "brussels-2025-04"


class ChoicePerRow(CheckpointPolicy):
    """The reference sampler: one ``Generator.choice`` per row and component."""

    @torch.no_grad()
    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Any) -> np.ndarray:
        obs = torch.as_tensor(np.asarray(observations, np.float32))
        mask = torch.as_tensor(np.asarray(masks, np.float32))
        logits = self.net.logits(obs, mask).numpy().astype(np.float64)
        parts = np.split(logits, self._splits, axis=-1)
        probs = [np.exp(part - part.max(axis=-1, keepdims=True)) for part in parts]
        probs = [p / p.sum(axis=-1, keepdims=True) for p in probs]
        return np.array(
            [[g.choice(p.shape[-1], p=p[i]) for p in probs] for i, g in enumerate(rng)],
            dtype=np.int64,
        ).reshape(len(obs), len(probs))


def _export(folder: Path) -> Path:
    """A seeded, untrained member network of the training settings' shape, saved as an export."""
    env = coalition_v0.parallel_env(scenario=SCENARIO)
    member = env.member_ids[0]
    obs_dim = int(env.observation_space(member)["observations"].shape[0])
    torch.manual_seed(0)
    net = MaskedActorCritic(obs_dim, env.action_space(member).nvec, load_settings("ppo").hidden)
    write_export(
        folder, "member", net, role="member", agents=env.member_ids, scenario=SCENARIO, iteration=0
    )
    return folder


def _comparable(result: agents.MatchResult) -> tuple:
    summary = tuple(
        (k, None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in result.summary.items()
    )
    return tuple(sorted(result.returns.items())), summary, result.steps


def rates(games: int, rounds: int = 2) -> dict[str, Any]:
    """Games/s of both samplers on the same games, and whether they agreed."""
    with tempfile.TemporaryDirectory() as tmp:
        export = agents.from_checkpoint(_export(Path(tmp)), role="member").export
        policies = {"batched": CheckpointPolicy(export), "choice per row": ChoicePerRow(export)}
        seeds = list(range(games))
        seconds = dict.fromkeys(policies, 0.0)
        played: dict[str, list[tuple]] = {}
        for _ in range(rounds):
            for name, policy in policies.items():
                t0 = time.perf_counter()
                results = agents.play_matches(SCENARIO, {"member": policy}, seeds)
                seconds[name] += time.perf_counter() - t0
                played[name] = [_comparable(r) for r in results]
    same = played["batched"] == played["choice per row"]
    per_s = {name: rounds * games / s for name, s in seconds.items()}
    return {
        "scenario": SCENARIO,
        "games": games,
        "rounds": rounds,
        "games_per_s": per_s,
        "batched_vs_choice": per_s["batched"] / per_s["choice per row"],
        "same_results": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=256, help="games per round (default 256)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if args.games < 1:
        parser.error(f"--games {args.games}: at least 1")
    figures = rates(args.games)
    figures["machine"] = machine()
    m = figures["machine"]
    print(f"{SCENARIO}, {args.games} games x {figures['rounds']} rounds, every member seat played")
    print(f"by one untrained checkpoint network; {m['cpu']}, {m['cores']} cores, {m['commit']}")
    for name, value in figures["games_per_s"].items():
        print(f"  {name:15s} {value:8.1f} games/s")
    print(f"  batched_vs_choice {figures['batched_vs_choice']:.1f}x")
    print(f"  same results both ways: {figures['same_results']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    if not figures["same_results"]:
        raise SystemExit("the two samplers gave different games")


if __name__ == "__main__":
    main()
