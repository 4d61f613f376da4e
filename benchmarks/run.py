"""Performance of the env, the batched core and the training sampler, side by side in one run.

Run: ``.venv/bin/python benchmarks/run.py [--quick] [--json FILE]`` (``--quick``: about 2 minutes
on 2 cores; without it, about 6). Prints one table and the ratios issue 12 sets goals for, and
says on what machine. Every figure is measured in this run, on this machine, one after another;
compare ratios across machines, not rates. Needs ``mpe2`` (in the dev extras) for the reference.

Rows:

- **Parallel API**: env-steps/s and agent-steps/s of ``coalition_v0`` (classroom, 6 agents;
  brussels-2025-04, 22 agents) and of mpe2 ``simple_spread_v3`` (3 agents), one game, random
  legal actions (a seeded generator, one draw per component).
- **batched core**: :class:`~reassurance.envs.CoalitionVectorEnv` at 1, 64, 1,024 and 8,192
  games, random legal actions drawn for all games at once in numpy.
- **RLlib sampling**: agent-steps/s of ``EnvRunner.sample()`` on the project's training setup
  (``configs/training/ppo.yaml``: PPO members against fixed heuristic opponents, one torch
  thread, in the driver): RLlib's ``MultiAgentEnvRunner`` (``--sampler rllib``) and the fast
  sampler (``--sampler fast``, its default number of games). Without ``--quick`` also a whole
  training iteration (sampling plus PPO's update) of each.
- **tournament matches**: matches per second of the shipped heuristic tournaments' matches, one
  game at a time (``play_match``) and batched (``play_matches``), interleaved, with a check that
  both give the same results (``benchmarks/tournament_speed.py``).
- **step cost**: microseconds per game-step of the batched core (1,024 games) and of the
  Parallel API for 5, 20, 40 and 80 members: scenarios made from brussels-2025-04's members,
  cycled with renamed copies whose GDP, budget and personnel are scaled so the coalition's
  totals stay those of brussels.
- **peak RSS**: a local ``reassurance train`` of the main job (brussels-2025-04, the default
  settings), the sum of the resident memory of its whole process tree (driver and Ray's
  processes), sampled every 0.1 s; memory pages shared between processes count once per
  process, so this overstates the machine's use.

``--json FILE`` writes every figure, ``machine`` (CPU, cores, Python, numpy, torch, Ray, git
commit) and ``ratios``; ``batched_vs_per_game_matches`` is the lower of the two scenarios'
ratios of tournament matches per second, batched against one game at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.envs import CoalitionVectorEnv, coalition_v0, load_scenario
from reassurance.envs.actions import Role
from reassurance.envs.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benchmarks, as modules
from tournament_speed import match_rates  # noqa: E402

SCENARIOS = ("classroom", "brussels-2025-04")
GAMES = (1, 64, 1024, 8192)
MEMBER_COUNTS = (5, 20, 40, 80)
GOALS = {
    "parallel_vs_mpe_env_steps": 1.0,
    "batched1024_vs_parallel_agent_steps": 100.0,
    "fast_vs_default_rllib_agent_steps": 10.0,
    "brussels_batched1024_agent_steps_per_s": 5e6,
    "peak_rss_gb": 2.0,
    "batched_vs_per_game_matches": 50.0,
}
"""Issues 12 and 13's goals (a ratio at least, agent-steps/s at least, memory at most)."""

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- helpers


def timed(step: Callable[[], int], seconds: float, min_calls: int = 2) -> tuple[float, int]:
    """Call ``step`` (which returns the units it did) until ``seconds`` have passed and at least
    ``min_calls`` calls were made; returns (units per second, units)."""
    units = 0
    calls = 0
    start = time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < seconds:
        units += step()
        calls += 1
    return units / (time.perf_counter() - start), units


def machine() -> dict[str, Any]:
    """What this ran on (reassurance.runtime.machine, with the torch and Ray versions)."""
    import ray
    import torch

    from reassurance.runtime import machine as base

    return {**base(), "torch": torch.__version__, "ray": ray.__version__}


# ----------------------------------------------------------------------------- Parallel API


def parallel_coalition(scenario: str | Scenario, seconds: float) -> dict[str, float]:
    """Env-steps/s and agent-steps/s of the PettingZoo Parallel API, random legal actions."""
    env = coalition_v0.parallel_env(scenario=scenario)
    rng = np.random.default_rng(0)
    state = {"obs": env.reset(seed=0)[0]}

    def step() -> int:
        if not env.agents:
            state["obs"] = env.reset()[0]
        actions = {
            agent: np.array(
                [np.argmax(np.where(m, rng.random(m.shape), -1.0)) for m in o["action_mask"]]
            )
            for agent, o in state["obs"].items()
        }
        state["obs"] = env.step(actions)[0]
        return 1

    rate, _ = timed(step, seconds, min_calls=3)
    agents = len(env.possible_agents)
    return {"env_steps_per_s": rate, "agent_steps_per_s": rate * agents, "agents": agents}


def parallel_mpe(seconds: float) -> dict[str, float]:
    """The same for mpe2 ``simple_spread_v3`` (3 agents, discrete actions)."""
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    sizes = {agent: int(env.action_space(agent).n) for agent in env.possible_agents}

    def step() -> int:
        if not env.agents:
            env.reset()
        env.step({agent: int(rng.integers(sizes[agent])) for agent in env.agents})
        return 1

    rate, _ = timed(step, seconds, min_calls=3)
    agents = len(env.possible_agents)
    return {"env_steps_per_s": rate, "agent_steps_per_s": rate * agents, "agents": agents}


# ----------------------------------------------------------------------------- batched core


def random_actions(env: CoalitionVectorEnv, masks: dict[Role, np.ndarray], rng) -> dict:
    """A uniformly random legal value per component for every seat of every game, in numpy."""
    actions = {}
    for role, mask in masks.items():
        noise = np.where(mask, rng.random(mask.shape, np.float32), -1.0)
        bounds = np.cumsum(env.nvec[role])[:-1]
        actions[role] = np.stack(
            [part.argmax(-1) for part in np.split(noise, bounds, axis=-1)], axis=-1
        )
    return actions


def batched(scenario: str | Scenario, games: int, seconds: float) -> dict[str, float]:
    """Game-steps/s and agent-steps/s of the batched core with random legal actions."""
    env = CoalitionVectorEnv(scenario, games)
    rng = np.random.default_rng(0)
    state = {"masks": env.reset(seed=0).masks}

    def step() -> int:
        state["masks"] = env.step(random_actions(env, state["masks"], rng)).masks
        return games

    rate, _ = timed(step, seconds, min_calls=3)
    agents = len(env.possible_agents)
    return {"env_steps_per_s": rate, "agent_steps_per_s": rate * agents, "agents": agents}


def scaled_scenario(members: int, base: str = "brussels-2025-04") -> Scenario:
    """``base`` with ``members`` members: its members cycled, copies renamed (``uk_b``, ...),
    GDP, defence budget and personnel scaled by ``len(base members) / members`` so the
    coalition's totals stay the base's."""
    scenario = load_scenario(base)
    originals = scenario.members
    scale = len(originals) / members
    made = []
    for i in range(members):
        member = originals[i % len(originals)]
        copy = i // len(originals)
        suffix = "" if copy == 0 else "_" + chr(ord("a") + copy)
        made.append(
            member.model_copy(
                update={
                    "id": member.id + suffix,
                    "name": f"{member.name} {copy + 1}",
                    "gdp_usd_bn": member.gdp_usd_bn * scale,
                    "defence_usd_bn": member.defence_usd_bn * scale,
                    "active_personnel_k": member.active_personnel_k * scale,
                    "deployable_k": None
                    if member.deployable_k is None
                    else member.deployable_k * scale,
                }
            )
        )
    raw = scenario.model_dump()
    raw["members"] = [m.model_dump() for m in made]
    raw["id"] = f"{base}-x{members}"
    return Scenario.model_validate(raw)


# ----------------------------------------------------------------------------- RLlib sampling


def rllib_sampling(scenario: str, sampler: str, seconds: float) -> dict[str, float]:
    """Agent-steps/s of ``sample()`` of the env runner each sampler builds (the driver's)."""
    import torch
    from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner

    from reassurance.training.algorithm import build_algo_config
    from reassurance.training.config import load_settings
    from reassurance.training.fast_sampler import FastEnvRunner

    torch.set_num_threads(1)
    settings = load_settings("ppo", scenario=scenario, sampler=sampler)
    config = build_algo_config(settings)
    cls = FastEnvRunner if sampler == "fast" else MultiAgentEnvRunner
    runner = cls(config=config)
    games = runner.num_games if sampler == "fast" else 1
    chunk = runner.num_games * 8 if sampler == "fast" else 16
    runner.sample(num_timesteps=chunk)  # warm-up: first reset, torch's first calls
    runner.get_metrics()
    agents = len(runner.env.envs[0].unwrapped.possible_agents)

    def step() -> int:
        return sum(len(e) for e in runner.sample(num_timesteps=chunk))

    rate, _ = timed(step, seconds)
    runner.stop()
    return {
        "env_steps_per_s": rate,
        "agent_steps_per_s": rate * agents,
        "agents": agents,
        "games": games,
    }


def training_iteration(scenario: str, sampler: str) -> dict[str, float]:
    """One PPO iteration (after a warm-up one) with the default settings, in embedded Ray."""
    import torch

    from reassurance.runtime import init_ray
    from reassurance.training.algorithm import build_algo_config
    from reassurance.training.config import load_settings
    from reassurance.training.run import quiet_rllib

    torch.set_num_threads(1)
    quiet_rllib()
    init_ray()
    settings = load_settings("ppo", scenario=scenario, sampler=sampler)
    algo = build_algo_config(settings).build_algo()
    runner = algo.env_runner
    sample = runner.sample
    sampling = [0.0]

    def timed_sample(**kwargs: Any) -> Any:  # RLlib's own timers are smoothed across iterations
        start = time.perf_counter()
        try:
            return sample(**kwargs)
        finally:
            sampling[0] += time.perf_counter() - start

    runner.sample = timed_sample
    try:
        algo.train()
        sampling[0] = 0.0
        start = time.perf_counter()
        result = algo.train()
        wall = time.perf_counter() - start
    finally:
        algo.stop()
    steps = result["env_runners"]["num_env_steps_sampled"]
    return {
        "env_steps_per_s": steps / wall,
        "iteration_s": wall,
        "sampling_s": sampling[0],
        "learning_s": wall - sampling[0],
    }


# ----------------------------------------------------------------------------- memory


def peak_rss(scenario: str, iterations: int) -> dict[str, float]:
    """Peak summed RSS (bytes) of a ``reassurance train`` process tree, sampled every 0.1 s."""
    import psutil

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        args = [sys.executable, "-m", "reassurance.cli", "train", "--scenario", scenario,
                "--iterations", str(iterations), "--out", str(Path(folder) / "run")]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        root = psutil.Process(proc.pid)
        peak = 0
        peak_processes = 0
        while proc.poll() is None:
            total = 0
            processes = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in tree:
                try:
                    total += p.memory_info().rss
                    processes += 1
                except psutil.NoSuchProcess:
                    continue
            if total > peak:
                peak, peak_processes = total, processes
            time.sleep(0.1)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.wait() != 0:
            raise RuntimeError(f"training run failed: {stderr[-2000:]}")
    return {
        "peak_rss_bytes": peak,
        "processes": peak_processes,
        "wall_s": time.perf_counter() - start,
        "iterations": iterations,
    }


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (about 2 min)")
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 4.0
    begun = time.perf_counter()
    out: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(measure: str, setup: str, result: dict, other: str = "") -> None:
        rows.append(
            (
                measure,
                setup,
                f"{result['env_steps_per_s']:,.0f}" if "env_steps_per_s" in result else "",
                f"{result['agent_steps_per_s']:,.0f}" if "agent_steps_per_s" in result else "",
                other,
            )
        )

    parallel = {"mpe2 simple_spread_v3": parallel_mpe(seconds)}
    for scenario in SCENARIOS:
        parallel[scenario] = parallel_coalition(scenario, seconds)
    mpe = parallel["mpe2 simple_spread_v3"]["env_steps_per_s"]
    for name, result in parallel.items():
        row("Parallel API", f"{name} ({result['agents']} agents)", result,
            f"x{result['env_steps_per_s'] / mpe:.2f} mpe2's env-steps/s")  # fmt: skip
    out["parallel"] = parallel

    core: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        core[scenario] = {}
        for games in GAMES:
            if args.quick and games == GAMES[-1] and scenario != SCENARIOS[0]:
                budget = 0.0  # three steps of 8,192 brussels games are enough
            else:
                budget = seconds
            result = batched(scenario, games, budget)
            core[scenario][str(games)] = result
            base = parallel[scenario]["agent_steps_per_s"]
            ratio = result["agent_steps_per_s"] / base
            row("batched core", f"{scenario}, {games:,} game{'s' * (games > 1)}", result,
                f"x{ratio:,.0f} Parallel API agent-steps/s")  # fmt: skip
    out["batched"] = core

    sampling: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        sampling[scenario] = {
            s: rllib_sampling(scenario, s, seconds * 2) for s in ("rllib", "fast")
        }
        base = sampling[scenario]["rllib"]["agent_steps_per_s"]
        for sampler, result in sampling[scenario].items():
            games = f", {result['games']} games" if sampler == "fast" else ""
            row("RLlib sampling", f"{scenario}, --sampler {sampler}{games}", result,
                f"x{result['agent_steps_per_s'] / base:.1f} rllib's agent-steps/s")  # fmt: skip
    out["rllib_sampling"] = sampling

    matches: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:  # the shipped tournaments' matches (benchmarks/tournament_speed.py)
        result = match_rates(scenario, per_game=20 if args.quick else 40,
                             batched=256 if args.quick else 1024)  # fmt: skip
        matches[scenario] = result
        rows.append(
            ("tournament matches", f"{scenario}, {result['config']}", "", "",
             f"{result['per_game_matches_per_s']:,.1f} matches/s one game at a time, "
             f"{result['batched_matches_per_s']:,.0f} batched: x{result['ratio']:.1f}"
             + ("" if result["same_results"] else "; RESULTS DIFFER"))
        )  # fmt: skip
    out["matches"] = matches

    if not args.quick:
        iterations: dict[str, dict[str, Any]] = {}
        for scenario in SCENARIOS:
            iterations[scenario] = {s: training_iteration(scenario, s) for s in ("rllib", "fast")}
            for sampler, result in iterations[scenario].items():
                row("training iteration", f"{scenario}, --sampler {sampler}", result,
                    f"{result['iteration_s']:.1f} s: sampling {result['sampling_s']:.1f} s, "
                    f"the rest (PPO's update) {result['learning_s']:.1f} s")  # fmt: skip
        out["training_iteration"] = iterations

    scaling: dict[str, dict[str, float]] = {}
    for members in MEMBER_COUNTS:
        scenario = scaled_scenario(members)
        core_result = batched(scenario, 1024, seconds / 2)
        env_result = parallel_coalition(scenario, seconds / 2)
        per_game = 1e6 / core_result["env_steps_per_s"]
        scaling[str(members)] = {
            "batched_us_per_game_step": per_game,
            "batched_us_per_member_step": per_game / members,
            "parallel_us_per_step": 1e6 / env_result["env_steps_per_s"],
        }
        rows.append(
            ("step cost", f"{members} members (brussels scaled)", "", "",
             f"batched {per_game:,.1f} us/game-step ({per_game / members:.2f} per member); "
             f"Parallel API {1e6 / env_result['env_steps_per_s']:,.0f} us/step")
        )  # fmt: skip
    out["scaling"] = scaling

    memory = peak_rss("brussels-2025-04", 1 if args.quick else 2)
    out["memory"] = memory
    rows.append(
        ("peak RSS", f"reassurance train, brussels-2025-04, {memory['iterations']} it.", "", "",
         f"{memory['peak_rss_bytes'] / 1e9:.2f} GB over {memory['processes']} processes "
         f"({memory['wall_s']:.0f} s)")
    )  # fmt: skip

    worst = min(SCENARIOS, key=lambda s: parallel[s]["env_steps_per_s"])
    ratios = {
        "parallel_vs_mpe_env_steps": min(parallel[s]["env_steps_per_s"] for s in SCENARIOS) / mpe,
        "batched1024_vs_parallel_agent_steps": min(
            core[s]["1024"]["agent_steps_per_s"] / parallel[s]["agent_steps_per_s"]
            for s in SCENARIOS
        ),
        "fast_vs_default_rllib_agent_steps": min(
            sampling[s]["fast"]["agent_steps_per_s"] / sampling[s]["rllib"]["agent_steps_per_s"]
            for s in SCENARIOS
        ),
        "brussels_batched1024_agent_steps_per_s": core["brussels-2025-04"]["1024"][
            "agent_steps_per_s"
        ],
        "peak_rss_gb": memory["peak_rss_bytes"] / 1e9,
        "batched_vs_per_game_matches": min(m["ratio"] for m in matches.values()),
    }
    out["ratios"] = ratios
    out["lower_parallel_scenario"] = worst
    out["seconds"] = time.perf_counter() - begun

    m = out["machine"]
    print(
        f"machine: {m['cpu']}, {m['cores']} cores; python {m['python']}, numpy {m['numpy']}, "
        f"torch {m['torch']}, ray {m['ray']}; commit {m['commit']}"
    )
    header = ("measure", "setup", "env-steps/s", "agent-steps/s", "")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]),
                 r[3].rjust(widths[3]), r[4]]  # fmt: skip
        print("  ".join(cells))
    print("\nratio (goal)")
    for key, value in ratios.items():
        goal = GOALS.get(key)
        met = "" if goal is None else (
            " met" if (value <= goal if key == "peak_rss_gb" else value >= goal) else " NOT met"
        )  # fmt: skip
        print(f"  {key}: {value:,.2f}" + (f" (goal {goal:,.4g}){met}" if goal else ""))
    print(f"\n{out['seconds']:.0f} s in all")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
        print(f"figures: {args.json}")


if __name__ == "__main__":
    main()
