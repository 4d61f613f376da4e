"""Embedded Ray binds to 127.0.0.1, starts no dashboard and writes no auth token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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
