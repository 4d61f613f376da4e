"""Run a tournament: play the matches a results database lacks, in batches, and store them.

>>> from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament
>>> config, base = load_tournament_config("classroom-heuristics")
>>> run = run_tournament(plan_tournament(config, base), "results.sqlite")  # doctest: +SKIP

Pending matches are cut into batches of ``batch_size`` and each batch is played at once on the
batched core by :func:`reassurance.agents.play_matches`: every policy acts once per step for all
the seats and games it plays in the batch. Batches run as Ray tasks (embedded Ray on 127.0.0.1,
or a cluster by ``address``), at most two per CPU in flight, or in this process with
``workers=0``. The driver writes each finished batch, every match with its seat and metric rows,
in one transaction. Running the same plan again plays only the matches whose keys the database
lacks, so an interrupted run (even ``kill -9``) resumes, and a finished one plays nothing and
writes nothing. ``batch_size=1`` plays each match alone with
:func:`reassurance.agents.play_match` (the one-game path), for comparison.

Randomness: a match is the game ``play_match`` plays with its seed (env reset with it, seat
``i`` drawing from ``default_rng([seed, i])``) whichever path plays it, so a match's result
does not depend on the worker, the batch, the order, or which other matches ran.
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

from reassurance.agents import Policy, from_checkpoint, make, play_match, play_matches
from reassurance.evaluation.config import CHECKPOINT_AGENT, MatchSpec, Plan, ResolvedPolicy
from reassurance.evaluation.hashing import hash_checkpoint, sha256_json
from reassurance.evaluation.store import (
    MatchOutcome,
    connect,
    finished_keys,
    register_tournament,
    write_matches,
)
from reassurance.runtime import init_ray

__all__ = ["DEFAULT_BATCH", "RunReport", "play_batch", "play_one", "run_tournament"]

DEFAULT_BATCH = 1024
"""Matches per batch at most. The batched core's cost per game-step falls until about a
thousand games (numpy's fixed cost per call is shared by more games), and a kill loses at
most one batch per worker: a few seconds of play."""

_TASKS_PER_CPU = 2

# Policies restored from checkpoints, kept for the life of a worker process: loading a module is
# far slower than a match. Keyed by (checkpoint hash, module id, seat), so files are hashed and
# checked against the plan once per process and seat, and changed files are never served stale.
# The batched path keeps one object per module (seat None): it acts for every seat it plays.
_CHECKPOINT_CACHE: dict[tuple[str, str | None, str | None], Any] = {}


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


def _checkpoint_policy(policy: ResolvedPolicy, agent: str | None) -> Any:
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


def _policy(policy: ResolvedPolicy, agent: str | None) -> Policy:
    """A policy object for a seat (``agent``), or for every seat it plays (``None``)."""
    if policy.agent == CHECKPOINT_AGENT:
        return _checkpoint_policy(policy, agent)
    return make(policy.agent, **policy.params)


def play_one(scenario: Any, spec: MatchSpec) -> MatchOutcome:
    """Play one match of the plan alone with ``play_match`` (``scenario``: the plan's resolved
    Scenario)."""
    start = time.perf_counter()
    lineup = {agent: _policy(policy, agent) for agent, policy in spec.seats.items()}
    result = play_match(scenario, lineup, seed=spec.seed)
    return MatchOutcome(
        key=spec.key,
        returns={agent: float(value) for agent, value in result.returns.items()},
        summary=dict(result.summary),
        steps=result.steps,
        wall_s=time.perf_counter() - start,
    )


def play_batch(scenario: Any, specs: Sequence[MatchSpec]) -> list[MatchOutcome]:
    """Play matches of the plan at once with ``play_matches`` (one Ray task); each outcome's
    ``wall_s`` is the batch's time divided by its matches."""
    start = time.perf_counter()
    objects: dict[str, Policy] = {}  # one object per distinct policy: it acts for all its rows
    seen: dict[int, Policy] = {}  # the plan's ResolvedPolicy objects are shared between seats
    lineups = []
    for spec in specs:
        lineup = {}
        for agent, policy in spec.seats.items():
            if id(policy) not in seen:
                identity = sha256_json(policy.identity())
                if identity not in objects:
                    objects[identity] = _policy(policy, None)
                seen[id(policy)] = objects[identity]
            lineup[agent] = seen[id(policy)]
        lineups.append(lineup)
    results = play_matches(
        scenario, lineups, [spec.seed for spec in specs], batch_size=max(1, len(specs))
    )
    share = (time.perf_counter() - start) / max(1, len(specs))
    return [
        MatchOutcome(
            key=spec.key,
            returns={agent: float(value) for agent, value in result.returns.items()},
            summary=dict(result.summary),
            steps=result.steps,
            wall_s=share,
        )
        for spec, result in zip(specs, results, strict=True)
    ]


def _play(scenario: Any, specs: Sequence[MatchSpec], one_by_one: bool) -> list[MatchOutcome]:
    if one_by_one:
        return [play_one(scenario, spec) for spec in specs]
    return play_batch(scenario, specs)


def _chunks(items: Sequence[MatchSpec], size: int) -> Iterator[list[MatchSpec]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _run_in_process(
    plan: Plan,
    pending: Sequence[MatchSpec],
    on_batch: Callable[[list[MatchOutcome]], None],
    batch_size: int,
) -> None:
    for chunk in _chunks(pending, batch_size):
        on_batch(_play(plan.scenario, chunk, batch_size == 1))


def _task_size(pending: int, cpus: int, most: int) -> int:
    """Matches per Ray task: at most ``most``, in a multiple of ``cpus`` tasks of equal size,
    so that every CPU has work to the end (1,920 matches on 2 CPUs: 2 tasks of 960)."""
    tasks = cpus * max(1, math.ceil(pending / (cpus * most)))
    return max(1, math.ceil(pending / tasks))


def _run_on_ray(
    plan: Plan,
    pending: Sequence[MatchSpec],
    on_batch: Callable[[list[MatchOutcome]], None],
    workers: int,
    address: str | None,
    batch_size: int,
) -> None:
    import ray

    where = init_ray(address, num_cpus=workers)
    started_here = not where.get("already_running", False)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))
        one_by_one = batch_size == 1
        size = _task_size(len(pending), cpus, 32 if one_by_one else batch_size)
        remote = ray.remote(num_cpus=1)(_play)
        scenario_ref = ray.put(plan.scenario)
        queue = _chunks(pending, size)
        in_flight: list[Any] = []
        for chunk in queue:
            in_flight.append(remote.remote(scenario_ref, chunk, one_by_one))
            if len(in_flight) >= cpus * _TASKS_PER_CPU:
                break
        while in_flight:
            done, in_flight = ray.wait(in_flight, num_returns=1)
            on_batch(ray.get(done[0]))
            next_chunk = next(queue, None)
            if next_chunk is not None:
                in_flight.append(remote.remote(scenario_ref, next_chunk, one_by_one))
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
    batch_size: int = DEFAULT_BATCH,
) -> RunReport:
    """Play every match of ``plan`` missing from the database ``db`` and store it.

    Args:
        plan: from :func:`~reassurance.evaluation.plan_tournament`.
        db: path of the SQLite results file (made if missing).
        workers: Ray worker CPUs of an embedded session (default: this machine's CPUs);
            0 plays in this process without Ray. Ignored for the size of a cluster.
        address: a Ray cluster to join (default: ``$RAY_ADDRESS``, else embedded Ray).
        progress: show a tqdm progress bar on stderr.
        batch_size: matches played at once (and written in one transaction); on Ray, smaller
            when needed to give every CPU work. 1 plays each match alone with ``play_match``.
    """
    if workers is not None and (isinstance(workers, bool) or workers < 0):
        raise ValueError(f"workers must be 0 (no Ray) or more, got {workers}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch size must be 1 (one game at a time) or more, got {batch_size}")
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

        def on_batch(outcomes: list[MatchOutcome]) -> None:
            nonlocal played
            played += write_matches(conn, plan, [(by_key[o.key], o) for o in outcomes])
            bar.update(len(outcomes))

        try:
            if pending:
                chosen = (os.cpu_count() or 1) if workers is None else workers
                if chosen == 0:
                    _run_in_process(plan, pending, on_batch, batch_size)
                else:
                    _run_on_ray(plan, pending, on_batch, chosen, address, batch_size)
        finally:
            bar.close()
    return RunReport(
        tournament=plan.name,
        planned=len(plan.matches),
        already_done=already,
        played=played,
        wall_s=time.perf_counter() - start,
    )
