"""runtime.run_jobs: the same results on every backend, and clear errors for bad choices."""

from __future__ import annotations

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
