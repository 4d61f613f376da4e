"""The same commands on an existing Ray cluster (a one-node head on loopback), via --address."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray head on loopback, with its own temp folder, removed when the module ends.

    `ray start` records its address in <temp>/ray/ray_current_cluster and only `ray stop`
    (which stops every Ray process of the machine, other sessions' too) removes it; a head
    killed with the default /tmp/ray left a dead cluster recorded there, which a plain
    `ray.init()` anywhere on the machine then tried to join. So the head writes into a private
    temp folder (short: Ray's socket paths live under it), deleted once the head has stopped.
    """
    home = tmp_path_factory.mktemp("home")
    ray_tmp = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), RAY_AUTH_MODE="disabled", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
               RAY_TMPDIR=str(ray_tmp))  # fmt: skip
    port = _free_port()
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
         "--include-dashboard=false", "--num-cpus", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while subprocess.run(
            [RAY, "status", "--address", address], env=env, capture_output=True
        ).returncode:
            assert head.poll() is None, "the Ray head exited"
            assert time.monotonic() < deadline, "the Ray head did not come up"
            time.sleep(1)
        yield address, env
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reassurance.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_on_a_cluster_with_a_remote_env_runner(cluster, tmp_path: Path) -> None:
    address, env = cluster
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "scenario": "classroom",
                "ppo": {"train_batch_size": 128, "minibatch_size": 64, "num_epochs": 1},
                "hidden": [16],
            }
        )
    )
    run = tmp_path / "run"
    args = ["train", "--config", str(config), "--iterations", "1", "--num-env-runners", "1"]
    result = _cli(env, *args, "--address", address, "--out", str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "iter    1/1" in result.stdout
    assert (run / "checkpoints" / "iter_000001" / "policies" / "index.json").is_file()
    assert f'"address": "{address}"' in (run / "run.json").read_text()


def test_tournament_on_a_cluster_gives_the_embedded_results(cluster, tmp_path: Path) -> None:
    address, env = cluster
    config = tmp_path / "small.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "small",
                "scenario": "classroom",
                "population": {"member": ["free-rider", "leader"], "usa": ["disengaged"]},
                "seeds": 2,
            }
        )
    )
    on_cluster = _cli(env, "tournament", str(config), "--db", str(tmp_path / "c.sqlite"),
                      "--address", address)  # fmt: skip
    assert on_cluster.returncode == 0, on_cluster.stderr[-3000:]
    in_process = _cli(env, "tournament", str(config), "--db", str(tmp_path / "p.sqlite"),
                      "--workers", "0")  # fmt: skip
    assert in_process.returncode == 0, in_process.stderr[-3000:]

    def seats(path: Path) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return sorted(db.execute("SELECT match_key, agent, return FROM seats").fetchall())

    assert len(seats(tmp_path / "c.sqlite")) == 4 * 6
    assert seats(tmp_path / "c.sqlite") == seats(tmp_path / "p.sqlite")


def test_the_head_is_recorded_only_in_its_own_temp_folder(cluster) -> None:
    """Issue 10, item 11: after the suite, /tmp/ray/ray_current_cluster named the head this
    module had started and killed. Its record now lives in the fixture's temp folder, which
    goes with the head."""
    address, env = cluster
    record = Path(env["RAY_TMPDIR"]) / "ray" / "ray_current_cluster"
    assert record.read_text().strip() == address
    shared = Path("/tmp/ray/ray_current_cluster")
    if shared.exists():  # another session's cluster may be recorded there, never this one
        assert address not in shared.read_text()
