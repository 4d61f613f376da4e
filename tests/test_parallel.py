"""runtime.run_jobs: the same results on every backend, and clear errors for bad choices."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reassurance.runtime import run_jobs


def _power(base: int, *, exponent: int) -> int:
    return base**exponent


JOBS = {f"job-{k}": ((k,), {"exponent": 3}) for k in range(5)}
EXPECTED = {f"job-{k}": k**3 for k in range(5)}


def test_in_process_and_processes_give_every_result_once() -> None:
    assert dict(run_jobs(_power, JOBS, workers=0)) == EXPECTED
    results = list(run_jobs(_power, JOBS, workers=2, backend="processes"))
    assert len(results) == len(JOBS) and dict(results) == EXPECTED


def test_no_jobs_starts_nothing() -> None:
    assert list(run_jobs(_power, {}, workers=2, backend="ray", address="10.0.0.1:6379")) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "dask"}, "backend 'dask': choose one of ray, processes"),
        ({"workers": -1}, "workers -1: 0 (in this process) or more"),
        ({"backend": "processes", "address": "10.0.0.1:6379"}, "needs the ray backend"),
    ],
)
def test_bad_choices_are_named(kwargs: dict, message: str) -> None:
    options = {"workers": 1, **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(run_jobs(_power, JOBS, **options))


def _pool_workers(parent: int) -> list[int]:
    """The live process-pool workers (``spawn_main``) whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, ...
        if fields[0] != "Z" and int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_pool_workers_end_when_their_parent_is_killed() -> None:
    """kill -9 of a run must not leave its workers computing for nobody."""
    script = (
        "import time\n"
        "from reassurance.runtime import run_jobs\n"
        "list(run_jobs(time.sleep, {'nap': ((300,), {})}, workers=1, backend='processes'))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while not workers and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _pool_workers(parent.pid)
        assert workers, "the pool never started a worker"
        time.sleep(1.0)  # let the worker run its initializer and start the job
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, 9)
    assert not left, f"workers {left} outlived their killed parent"


def _threads() -> tuple[str | None, int]:
    import torch

    return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()


def test_process_workers_run_one_thread_per_job(monkeypatch: pytest.MonkeyPatch) -> None:
    # A thread per core in every worker oversubscribes the cores (OpenMP barriers spin).
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert dict(run_jobs(_threads, {"a": ((), {})}, workers=1, backend="processes")) == {
        "a": ("1", 1)
    }
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's choice is kept
    assert dict(run_jobs(_threads, {"a": ((), {})}, workers=1, backend="processes")) == {
        "a": ("2", 2)
    }
