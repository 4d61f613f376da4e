"""Embedded Ray binds to 127.0.0.1, starts no dashboard and writes no auth token."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPT = """
import json, ray
from reassurance.runtime import init_ray
where = init_ray(num_cpus=1)
@ray.remote
def double(x):
    return 2 * x
print(json.dumps({
    "where": where,
    "nodes": [n["NodeManagerAddress"] for n in ray.nodes()],
    "result": ray.get(double.remote(21)),
}))
ray.shutdown()
"""


def test_embedded_ray_stays_on_loopback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(tmp_path)
    # A cluster that once ran here and died leaves its address in <tmp>/ray/ray_current_cluster;
    # embedded Ray must start its own instance, not try to join that one. (A short folder:
    # Ray's socket paths live under it.)
    ray_tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    (ray_tmp / "ray").mkdir()
    (ray_tmp / "ray" / "ray_current_cluster").write_text("127.0.0.1:1\n")
    env["RAY_TMPDIR"] = str(ray_tmp)
    try:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=180
        )
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["where"]["address"] == "embedded"
    assert report["nodes"] == ["127.0.0.1"]
    assert report["result"] == 42
    assert not report["where"]["dashboard"]
    assert not list(tmp_path.rglob("*token*")), "a local session should write no auth token"


def test_cluster_address_comes_from_flag_then_environment(monkeypatch) -> None:
    from reassurance.runtime import cluster_address

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address() is None
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert cluster_address() == "10.0.0.5:6379"
    assert cluster_address("ray://head:10001") == "ray://head:10001"
    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert cluster_address() is None


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_cluster_fails_at_once_naming_the_address(tmp_path: Path) -> None:
    """Issue 10, item 3: a wrong --address or a stale RAY_ADDRESS retried "Failed to connect to
    GCS" for many minutes. Now one line names the address and says what to do; the subprocess
    time limits below stand for "bounded" (Ray alone would still be retrying)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    address = f"127.0.0.1:{_closed_port()}"
    cli = [sys.executable, "-m", "reassurance.cli"]
    tournament = subprocess.run(
        [*cli, "tournament", "classroom-heuristics", "--db", str(tmp_path / "t.sqlite"),
         "--address", address, "--no-progress"],
        env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert tournament.returncode == 2, tournament.stderr[-2000:]
    (line,) = tournament.stderr.strip().splitlines()
    assert line.startswith(f"reassurance: no Ray cluster at {address}")
    assert "ray start --head" in line
    stale = subprocess.run(
        [*cli, "train", "--scenario", "classroom", "--out", str(tmp_path / "run")],
        env={**env, "RAY_ADDRESS": address}, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert stale.returncode == 2, stale.stderr[-2000:]
    (line,) = stale.stderr.strip().splitlines()
    assert f"no Ray cluster at {address}" in line and "(from $RAY_ADDRESS)" in line
    assert not (tmp_path / "run").exists(), "a refused run left its folder behind"


def test_init_ray_refuses_an_address_that_is_not_one() -> None:
    from reassurance.runtime import RayUnreachableError, init_ray

    with pytest.raises(RayUnreachableError, match="'no-port-here'"):
        init_ray("no-port-here")
    with pytest.raises(RayUnreachableError, match=r"no Ray cluster at ray://127\.0\.0\.1:"):
        init_ray(f"ray://127.0.0.1:{_closed_port()}")
