"""Where the env's time goes: throughput, step cost against members, memory, and profiles.

Run: ``.venv/bin/python benchmarks/env_profile.py [--quick] [--profile parallel|vector]``.

Prints, measured side by side in one run (each figure the best of three timed repeats of this
process's CPU time, so that other processes on a shared machine disturb it less; the batched
core with threads is timed on the wall clock):

- the PettingZoo Parallel API env (``coalition_v0``, a batch of one) on classroom and
  brussels-2025-04 beside mpe2's ``simple_spread_v3`` (if installed): env-steps/s and
  agent-steps/s of ``step`` with random actions drawn beforehand (values a mask forbids are
  executed as no-ops, as the env documents), and of the whole loop with random *legal* actions
  chosen from the returned masks (what a random policy costs on top);
- the batched core (:class:`~reassurance.envs.CoalitionVectorEnv`) at 1, 64, 1,024 and 8,192
  games: game-steps/s and agent-steps/s of ``step``, auto-reset included;
- the step cost against the number of members (5, 20, 40, 80: brussels-2025-04's members
  repeated under new ids), per env-step of the Parallel API and per game-step of the batched
  core at 1,024 games;
- memory of the batched core at 8,192 games: resident set size after reset and after the
  timed steps, the peak of one step's allocations (tracemalloc) and the growth over 100 steps;
- ``--profile parallel|vector``: the time of each phase of a step (rules phases, masks,
  observations, draws, auto-reset), then cProfile's top functions.

Expect on a 2-core machine: the Parallel API at or above mpe2's env-steps/s, the batched core at
1,024 games above 100x the Parallel API's agent-steps/s, cost per member flat from 20 to 80.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import string
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from reassurance.envs import CoalitionVectorEnv, coalition_v0, load_scenario
from reassurance.envs.actions import Role, nvec
from reassurance.envs.scenario import Scenario

BATCHES = (1, 64, 1024, 8192)
MEMBER_COUNTS = (5, 20, 40, 80)


def best_rate(
    run: Callable[[int], None],
    steps: int,
    repeats: int = 3,
    clock: Callable[[], float] = time.process_time,
) -> float:
    """Steps per second of ``run(steps)``, the best of ``repeats`` timings (after a warm-up)
    on ``clock`` (CPU time of this process by default)."""
    run(max(1, steps // 10))
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = clock()
        run(steps)
        best = min(best, clock() - start)
    return steps / best


def scenario_with_members(n_members: int, base: str = "brussels-2025-04") -> Scenario:
    """``base`` with ``n_members`` members: its own members in order, then again under new ids
    (``uk_b``, ``france_b``, ..., ``uk_c``, ...)."""
    raw = load_scenario(base).model_dump()
    members = raw["members"]
    copies = []
    for i in range(n_members):
        member, round_ = members[i % len(members)], i // len(members)
        suffix = f"_{string.ascii_lowercase[round_]}" if round_ else ""
        copies.append({**member, "id": member["id"] + suffix})
    raw["members"] = copies
    return Scenario.model_validate(raw)


# ----------------------------------------------------------------------------- Parallel API


def parallel_rates(scenario: str | Scenario, steps: int) -> tuple[float, float, int]:
    """(env-steps/s of ``step`` alone, env-steps/s with a random legal policy, agents)."""
    env = coalition_v0.parallel_env(scenario=scenario)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    pool = [
        {a: rng.integers(0, env.action_space(a).nvec) for a in env.possible_agents}
        for _ in range(64)
    ]
    state = {"obs": obs}

    def step_only(n: int) -> None:
        for i in range(n):
            if not env.agents:
                env.reset()
            env.step(pool[i % 64])

    def with_policy(n: int) -> None:
        obs = state["obs"]
        for _ in range(n):
            if not env.agents:
                obs, _ = env.reset()
            actions = {
                a: np.array([np.argmax(rng.random(m.shape) * m) for m in o["action_mask"]])
                for a, o in obs.items()
            }
            obs, *_ = env.step(actions)
        state["obs"] = obs

    return best_rate(step_only, steps), best_rate(with_policy, steps), len(env.possible_agents)


def mpe_rate(steps: int) -> tuple[float, int] | None:
    """env-steps/s of mpe2's simple_spread_v3 with ``action_space.sample()`` actions."""
    try:
        from mpe2 import simple_spread_v3
    except ImportError:
        return None
    env = simple_spread_v3.parallel_env()
    env.reset(seed=0)

    def run(n: int) -> None:
        for _ in range(n):
            if not env.agents:
                env.reset()
            env.step({a: env.action_space(a).sample() for a in env.agents})

    return best_rate(run, steps), len(env.possible_agents)


# ----------------------------------------------------------------------------- batched core


def action_pool(venv: CoalitionVectorEnv, size: int, seed: int = 0) -> list[dict[Role, Any]]:
    """``size`` random action batches, uniform over every component's values."""
    rng = np.random.default_rng(seed)
    B, M = venv.num_games, venv.n_members
    pool = []
    for _ in range(size):
        batch = {}
        for role in Role:
            shape = (B, M) if role is Role.MEMBER else (B,)
            batch[role] = rng.integers(0, nvec(role), size=(*shape, len(nvec(role))))
        pool.append(batch)
    return pool


def vector_rate(scenario: str | Scenario, games: int, steps: int) -> tuple[float, int]:
    """(game-steps/s of ``CoalitionVectorEnv.step`` with ``games`` games, agents per game)."""
    venv = CoalitionVectorEnv(scenario, games)
    venv.reset(seed=0)
    pool = action_pool(venv, 4)

    def run(n: int) -> None:
        for i in range(n):
            venv.step(pool[i % len(pool)])

    return games * best_rate(run, steps), len(venv.possible_agents)


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(scenario: str, games: int, steps: int) -> dict[str, float]:
    """RSS after reset and after ``steps`` steps, one step's peak allocation and the growth of
    live allocations over ``steps`` more steps (MB)."""
    venv = CoalitionVectorEnv(scenario, games)
    venv.reset(seed=0)
    pool = action_pool(venv, 4)
    after_reset = _rss_mb()
    for i in range(steps):
        venv.step(pool[i % 4])
    after_steps = _rss_mb()
    gc.collect()
    tracemalloc.start()
    venv.step(pool[0])
    start, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    venv.step(pool[1])
    _, peak = tracemalloc.get_traced_memory()
    for i in range(steps):
        venv.step(pool[i % 4])
    gc.collect()
    end, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rss_after_reset": after_reset,
        "rss_after_steps": after_steps,
        "step_peak": (peak - start) / 2**20,
        "growth": (end - start) / 2**20,
    }


# ----------------------------------------------------------------------------- profiles


def _timed_sections(targets: list[tuple[Any, str]]) -> tuple[dict[str, float], Callable]:
    """Wrap ``(owner, name)`` functions with timers; returns the totals and an undo."""
    totals: dict[str, float] = {}
    originals = []
    for owner, name in targets:
        function = getattr(owner, name)
        label = f"{getattr(owner, '__name__', owner).split('.')[-1]}.{name}"

        def timed(*args: Any, _f: Callable = function, _l: str = label, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_l] = totals.get(_l, 0.0) + time.process_time() - start

        originals.append((owner, name, function))
        setattr(owner, name, timed)

    def undo() -> None:
        for owner, name, function in originals:
            setattr(owner, name, function)

    return totals, undo


def profile(kind: str, scenario: str, games: int, steps: int) -> None:
    """Per-phase times of one step, then cProfile's top functions."""
    from reassurance.envs import coalition, figures, masks, observation, rules, vector

    phases = [
        "execute", "pledge_and_deploy", "run_test", "move_front", "negotiate", "change_phases",
        "update_belief", "next_state", "reward", "score_escalation", "accumulate",
    ]  # fmt: skip
    targets = [(rules, name) for name in phases] + [(figures, "posture"), (figures, "legal")]
    targets += [(rules, "derived"), (masks, "apply_masks")]
    targets += [(observation.Observer, "write")]
    if kind == "vector":
        targets += [(vector, "step"), (vector, "derived"), (vector, "summaries")]
        targets += [(vector._Block, n) for n in ("step", "_new_games")]
        targets += [(vector, "_splice")]
        venv = CoalitionVectorEnv(scenario, games)
        venv.reset(seed=0)
        pool = action_pool(venv, 4)

        def run(n: int) -> None:
            for i in range(n):
                venv.step(pool[i % len(pool)])

        label = f"CoalitionVectorEnv({scenario}, {games}).step"
    else:
        targets += [(coalition, "step"), (coalition, "derived")]
        targets += [(coalition.CoalitionEnv, n) for n in ("_observations", "_infos")]
        targets += [(coalition.CoalitionEnv, "_batch_actions")]
        env = coalition_v0.parallel_env(scenario=scenario)
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        agents = env.possible_agents
        pool = [{a: rng.integers(0, env.action_space(a).nvec) for a in agents} for _ in range(64)]

        def run(n: int) -> None:
            for i in range(n):
                if not env.agents:
                    env.reset()
                env.step(pool[i % 64])

        label = f"coalition_v0.parallel_env({scenario}).step"
    run(max(1, steps // 10))
    totals, undo = _timed_sections(targets)
    start = time.process_time()
    run(steps)
    total = time.process_time() - start
    undo()
    print(f"\n{label}: {1e6 * total / steps:,.1f} us CPU per step (timers add ~1 us per call)")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {1e6 * seconds / steps:10,.1f} us  {100 * seconds / total:5.1f}%")
    profiler = cProfile.Profile()
    profiler.enable()
    run(steps)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, noisier figures")
    parser.add_argument("--profile", choices=("parallel", "vector"), help="profile one API")
    parser.add_argument("--scenario", default="brussels-2025-04", help="for --profile")
    parser.add_argument("--games", type=int, default=1024, help="for --profile vector")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.platform()}, python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    if args.profile:
        steps = 2000 if args.profile == "parallel" else 50
        profile(args.profile, args.scenario, args.games, int(steps * scale))
        return

    steps = int(2000 * scale)
    print("\nParallel API (a batch of one)          env-steps/s  agent-steps/s   with policy")
    mpe = mpe_rate(steps)
    if mpe is not None:
        rate, agents = mpe
        name = f"mpe2 simple_spread_v3 ({agents} agents)"
        print(f"  {name:<36} {rate:10,.0f} {rate * agents:14,.0f}")
    parallel = {}
    for scenario in ("classroom", "brussels-2025-04"):
        rate, policy, agents = parallel_rates(scenario, steps)
        parallel[scenario] = rate * agents
        name = f"{scenario} ({agents} agents)"
        print(f"  {name:<36} {rate:10,.0f} {rate * agents:14,.0f} {policy:13,.0f}")

    print("\nBatched core                  games   game-steps/s   agent-steps/s  x Parallel API")
    for scenario in ("classroom", "brussels-2025-04"):
        for games in BATCHES:
            n = max(4, int(scale * min(2000, 200_000 // games)))
            rate, agents = vector_rate(scenario, games, n)
            ratio = rate * agents / parallel[scenario]
            print(f"  {scenario:<26} {games:6d} {rate:14,.0f} {rate * agents:15,.0f} {ratio:10.1f}")

    print("\nStep cost against members (brussels-2025-04's members repeated)")
    print("  members  agents  Parallel API us/step  us/agent  batched 1024: us/game-step  us/agent")
    for n_members in MEMBER_COUNTS:
        scenario = scenario_with_members(n_members)
        rate, _, agents = parallel_rates(scenario, steps // 2)
        batched, _ = vector_rate(scenario, 1024, max(4, int(40 * scale)))
        print(
            f"  {n_members:7d} {agents:7d} {1e6 / rate:21,.1f} {1e6 / rate / agents:9,.2f}"
            f" {1e6 / batched:28,.2f} {1e6 / batched / agents:9,.3f}"
        )

    mem = memory("brussels-2025-04", 8192, max(10, int(100 * scale)))
    print(
        "\nMemory, batched core, brussels-2025-04, 8,192 games (MB): "
        f"RSS after reset {mem['rss_after_reset']:,.0f}, after steps {mem['rss_after_steps']:,.0f};"
        f" one step allocates at peak {mem['step_peak']:,.1f}; live growth over 100 steps "
        f"{mem['growth']:+.2f}"
    )


if __name__ == "__main__":
    main()
