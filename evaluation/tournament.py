"""Run a tournament: play the matches a results database lacks, in parallel, and store them.

>>> from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament
>>> config, base = load_tournament_config("classroom-heuristics")
>>> run = run_tournament(plan_tournament(config, base), "results.sqlite")  # doctest: +SKIP

Matches run as Ray tasks (embedded Ray on 127.0.0.1, or a cluster by ``address``), a few per
task, at most two tasks per CPU in flight; the driver writes each match as it arrives, in one
transaction with its seat rows. ``workers=0`` plays in this process without Ray. Running the
same plan again plays only the matches whose keys the database lacks, so an interrupted run
(even ``kill -9``) resumes, and a finished one plays nothing and writes nothing.

Randomness: each match is :func:`reassurance.agents.play_match` with its seed (env reset with it,
seat ``i`` drawing from ``default_rng([seed, i])``), so a match's result does not depend on the
worker, the order, or which other matches ran.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reassurance.agents import from_checkpoint, make, play_match, role_of
from reassurance.evaluation.config import CHECKPOINT_AGENT, MatchSpec, Plan, ResolvedPolicy
from reassurance.evaluation.hashing import hash_checkpoint
from reassurance.evaluation.store import (
    MatchOutcome,
    connect,
    finished_keys,
    register_tournament,
    write_match,
)
from reassurance.runtime import init_ray

__all__ = ["RunReport", "play_batch", "play_one", "run_tournament"]

_MAX_BATCH = 32
_TASKS_PER_CPU = 2

# Policies restored from checkpoints, kept for the life of a worker process: loading a module is
# far slower than a match. Keyed by (checkpoint hash, module id, seat), so files are hashed and
# checked against the plan once per process and seat, and changed files are never served stale.
_CHECKPOINT_CACHE: dict[tuple[str, str | None, str], Any] = {}


@dataclass(frozen=True)
class RunReport:
    """How a run went: matches planned, found finished, played now; wall time in seconds."""

    tournament: str
    planned: int
    already_done: int
    played: int
    wall_s: float

    @property
    def complete(self) -> bool:
        return self.already_done + self.played >= self.planned


def _checkpoint_policy(policy: ResolvedPolicy, agent: str) -> Any:
    assert policy.checkpoint is not None and policy.checkpoint_hash is not None
    cache_key = (policy.checkpoint_hash, policy.module_id, agent)
    if cache_key in _CHECKPOINT_CACHE:
        return _CHECKPOINT_CACHE[cache_key]
    found = hash_checkpoint(policy.checkpoint)
    if found != policy.checkpoint_hash:
        raise ValueError(
            f"checkpoint {policy.checkpoint} changed since the tournament was planned "
            f"(sha256 {policy.checkpoint_hash[:12]} -> {found[:12]}) or differs on this node"
        )
    loaded = from_checkpoint(policy.checkpoint, role=policy.role, module_id=policy.module_id)
    _CHECKPOINT_CACHE[cache_key] = loaded
    return loaded


def _lineup(scenario: Any, spec: MatchSpec) -> dict[str, Any]:
    """A policy object for every seat: the role's policy, one instance per member seat."""
    agents = ["usa", *(m.id for m in scenario.members), "ukraine", "russia"]
    lineup: dict[str, Any] = {}
    for agent in agents:
        policy = spec.lineup[role_of(agent)]
        if policy.agent == CHECKPOINT_AGENT:
            lineup[agent] = _checkpoint_policy(policy, agent)
        else:
            lineup[agent] = make(policy.agent, **policy.params)
    return lineup


def play_one(scenario: Any, spec: MatchSpec) -> MatchOutcome:
    """Play one match of the plan (``scenario``: the plan's resolved Scenario)."""
    start = time.perf_counter()
    result = play_match(scenario, _lineup(scenario, spec), seed=spec.seed)
    return MatchOutcome(
        key=spec.key,
        returns={agent: float(value) for agent, value in result.returns.items()},
        summary=dict(result.summary),
        steps=result.steps,
        wall_s=time.perf_counter() - start,
    )


def play_batch(scenario: Any, specs: Sequence[MatchSpec]) -> list[MatchOutcome]:
    """Play several matches in a row (one Ray task)."""
    return [play_one(scenario, spec) for spec in specs]


def _chunks(items: Sequence[MatchSpec], size: int) -> Iterator[list[MatchSpec]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _run_in_process(
    plan: Plan, pending: Sequence[MatchSpec], on_result: Callable[[MatchOutcome], None]
) -> None:
    for spec in pending:
        on_result(play_one(plan.scenario, spec))


def _run_on_ray(
    plan: Plan,
    pending: Sequence[MatchSpec],
    on_result: Callable[[MatchOutcome], None],
    workers: int,
    address: str | None,
) -> None:
    import ray

    where = init_ray(address, num_cpus=workers)
    started_here = not where.get("already_running", False)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))
        batch = max(1, min(_MAX_BATCH, math.ceil(len(pending) / (cpus * 8))))
        remote_batch = ray.remote(num_cpus=1)(play_batch)
        scenario_ref = ray.put(plan.scenario)
        queue = _chunks(pending, batch)
        in_flight: list[Any] = []
        for chunk in queue:
            in_flight.append(remote_batch.remote(scenario_ref, chunk))
            if len(in_flight) >= cpus * _TASKS_PER_CPU:
                break
        while in_flight:
            done, in_flight = ray.wait(in_flight, num_returns=1)
            for outcome in ray.get(done[0]):
                on_result(outcome)
            next_chunk = next(queue, None)
            if next_chunk is not None:
                in_flight.append(remote_batch.remote(scenario_ref, next_chunk))
    finally:
        if started_here:
            ray.shutdown()


def run_tournament(
    plan: Plan,
    db: str | Path,
    *,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
) -> RunReport:
    """Play every match of ``plan`` missing from the database ``db`` and store it.

    Args:
        plan: from :func:`~reassurance.evaluation.plan_tournament`.
        db: path of the SQLite results file (made if missing).
        workers: Ray worker CPUs of an embedded session (default: this machine's CPUs);
            0 plays in this process without Ray. Ignored for the size of a cluster.
        address: a Ray cluster to join (default: ``$RAY_ADDRESS``, else embedded Ray).
        progress: show a tqdm progress bar on stderr.
    """
    if workers is not None and workers < 0:
        raise ValueError(f"workers must be 0 (no Ray) or more, got {workers}")
    start = time.perf_counter()
    with closing(connect(db)) as conn:
        register_tournament(conn, plan)
        done = finished_keys(conn, plan.name)
        pending = [spec for spec in plan.matches if spec.key not in done]
        already = len(plan.matches) - len(pending)
        by_key = {spec.key: spec for spec in pending}
        played = 0
        bar = tqdm(
            total=len(plan.matches),
            initial=already,
            desc=plan.name,
            unit="match",
            disable=not progress,
            dynamic_ncols=True,
        )

        def on_result(outcome: MatchOutcome) -> None:
            nonlocal played
            if write_match(conn, plan, by_key[outcome.key], outcome):
                played += 1
            bar.update(1)

        try:
            if pending:
                chosen = (os.cpu_count() or 1) if workers is None else workers
                if chosen == 0:
                    _run_in_process(plan, pending, on_result)
                else:
                    _run_on_ray(plan, pending, on_result, chosen, address)
        finally:
            bar.close()
    return RunReport(
        tournament=plan.name,
        planned=len(plan.matches),
        already_done=already,
        played=played,
        wall_s=time.perf_counter() - start,
    )
