"""Independent jobs run in parallel, results handed back as each finishes.

The analyses of :mod:`reassurance.evaluation` (calibration, sensitivity, the experiment's
equilibrium and doctrine parts) are many independent numpy jobs. They run on Ray by default (the
embedded session on 127.0.0.1, or a cluster at ``address``), or, with ``backend="processes"``,
in a pool of local processes: the same jobs and results without Ray, for a machine where Ray is
not installed or a single large machine where its start-up is not worth it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

__all__ = ["BACKENDS", "Backend", "run_jobs"]

Backend = Literal["ray", "processes"]
BACKENDS: tuple[Backend, ...] = ("ray", "processes")

Key = TypeVar("Key")


def run_jobs(
    fn: Callable[..., Any],
    jobs: Mapping[Key, tuple[tuple[Any, ...], dict[str, Any]]],
    *,
    workers: int | None,
    backend: Backend = "ray",
    address: str | None = None,
) -> Iterator[tuple[Key, Any]]:
    """Call ``fn(*args, **kwargs)`` for each ``key: (args, kwargs)`` of ``jobs`` and yield
    ``(key, result)`` as each job finishes (in no fixed order; every job's result is its own, so
    the results do not depend on the order or the number of workers).

    ``workers``: parallel jobs (default: the machine's CPUs); ``0`` runs them one by one in this
    process. ``address`` (a Ray cluster) needs ``backend="ray"``.

    Raises:
        ValueError: an unknown backend, a negative ``workers``, or an address with processes.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if workers is not None and workers < 0:
        raise ValueError(f"workers {workers}: 0 (in this process) or more")
    if address is not None and backend != "ray":
        raise ValueError(f"a Ray address ({address}) needs the ray backend, not {backend!r}")
    if not jobs:
        return
    if workers == 0:
        for key, (args, kwargs) in jobs.items():
            yield key, fn(*args, **kwargs)
    elif backend == "processes":
        yield from _processes(fn, jobs, workers)
    else:
        yield from _ray(fn, jobs, workers, address)


def _processes(
    fn: Callable[..., Any], jobs: Mapping[Key, tuple[tuple, dict]], workers: int | None
) -> Iterator[tuple[Key, Any]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: each worker starts a clean interpreter (no copy of the parent's threads or locks)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker
    ) as pool:
        pending = {pool.submit(fn, *args, **kwargs): key for key, (args, kwargs) in jobs.items()}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()


def _start_worker() -> None:
    """In a pool worker, before its first job: one thread per job, as Ray gives its tasks, and
    an end with the parent (:func:`_exit_with_parent`).

    Each job is given one CPU; torch's and OpenMP's default (a thread per core) in every worker
    puts several spinning threads on each core: on 2 cores with 2 workers, the trained Russia's
    forward passes in the equilibrium search spent most of their time waiting in OpenMP barriers.
    ``OMP_NUM_THREADS``, if the user set it, is kept.
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    threads = int(os.environ["OMP_NUM_THREADS"]) if os.environ["OMP_NUM_THREADS"].isdigit() else 1
    import torch

    torch.set_num_threads(max(1, threads))
    _exit_with_parent()


def _exit_with_parent() -> None:
    """In a pool worker: end this process as soon as the parent that started it ends.

    A parent killed by a signal (``kill``, ``kill -9``) cannot shut its pool down, and its workers
    would otherwise compute their current jobs to the end for nobody (the rerun redoes them).
    """
    import multiprocessing
    import multiprocessing.connection
    import os
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _ray(
    fn: Callable[..., Any],
    jobs: Mapping[Key, tuple[tuple, dict]],
    workers: int | None,
    address: str | None,
) -> Iterator[tuple[Key, Any]]:
    import ray

    from reassurance.runtime.ray_session import init_ray

    init_ray(address, num_cpus=workers)
    remote = ray.remote(num_cpus=1)(fn)
    pending = {remote.remote(*args, **kwargs): key for key, (args, kwargs) in jobs.items()}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        yield pending.pop(ready[0]), ray.get(ready[0])
