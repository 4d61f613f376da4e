"""Tournaments survive ``kill -9``, rerun to the same tables, and run the same on Ray."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament
from reassurance.evaluation.analysis import analyse
from reassurance.evaluation.store import read_tournament, table_rows

# 3 x 3 x 1 x 2 assignments x 8 seeds = 144 classroom matches: a few seconds in one process.
CONFIG = {
    "name": "resume",
    "scenario": "classroom",
    "population": {
        "member": ["leader", "free-rider", "conditional-on-us"],
        "usa": ["disengaged", "committed-guarantor", "transactional"],
        "russia": ["opportunist", "salami-slicer"],
    },
    "seeds": 8,
    "analysis": {"bootstrap": 200},
}
# Columns that say when and how fast a match was played; everything else must match exactly.
MATCH_COLUMNS = [
    "tournament",
    "match_key",
    "assignment",
    "seed",
    "scenario_id",
    "scenario_hash",
    "env_version",
    "lineup_json",
    "steps",
    "returns_json",
    "summary_json",
]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reassurance.cli", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _count(db: Path) -> int:
    try:  # read-only: polling must not create the file
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def _rows(db: Path) -> dict[str, list[tuple]]:
    return {
        "tournaments": table_rows(
            db,
            "tournaments",
            ["name", "config_hash", "config_json", "scenario_hash", "population_json"],
        ),
        "matches": table_rows(db, "matches", MATCH_COLUMNS),
        "seats": table_rows(db, "seats"),
        "metrics": table_rows(db, "metrics"),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "resume.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@pytest.fixture(scope="module")
def reference(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tournament, played without interruption in this process."""
    db = tmp_path_factory.mktemp("reference") / "reference.sqlite"
    config, base = load_tournament_config(config_file)
    run = run_tournament(plan_tournament(config, base), db, workers=0, progress=False)
    assert run.played == run.planned == 144
    return db


def test_kill_9_then_rerun_gives_the_uninterrupted_tables(
    config_file: Path, reference: Path, tmp_path: Path
) -> None:
    db = tmp_path / "killed.sqlite"
    command = _cli(
        "tournament", str(config_file), "--db", str(db), "--workers", "0", "--no-progress"
    )
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(db) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    interrupted = _count(db)
    assert 20 <= interrupted < 144, f"killed after {interrupted} matches"

    rerun = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"played {144 - interrupted} matches" in rerun.stdout
    assert f"{interrupted} were already" in rerun.stdout

    rows = _rows(db)
    keys = [row[1] for row in rows["matches"]]
    assert len(keys) == len(set(keys)) == 144  # no duplicate, none missing
    planned = {m.key for m in plan_tournament(*load_tournament_config(config_file)).matches}
    assert set(keys) == planned
    assert len(rows["seats"]) == 144 * 6  # usa, uk, france, germany, ukraine, russia
    assert rows == _rows(reference)
    assert analyse(read_tournament(db)) == analyse(read_tournament(reference))


def test_finished_rerun_plays_nothing_and_changes_nothing(
    config_file: Path, reference: Path, tmp_path: Path
) -> None:
    db = tmp_path / "again.sqlite"
    db.write_bytes(reference.read_bytes())
    before = _sha256(db)
    config, base = load_tournament_config(config_file)
    run = run_tournament(plan_tournament(config, base), db, workers=2, progress=False)
    assert (run.played, run.already_done) == (0, 144)  # and no Ray started: nothing to play
    assert _sha256(db) == before


def test_same_name_with_another_plan_is_refused(config_file: Path, reference: Path) -> None:
    config, _ = load_tournament_config({**CONFIG, "seeds": 9})
    with pytest.raises(ValueError, match="already holds tournament 'resume' with another plan"):
        run_tournament(plan_tournament(config), reference, workers=0, progress=False)


def test_ray_workers_give_the_same_rows(config_file: Path, reference: Path, tmp_path: Path) -> None:
    db = tmp_path / "ray.sqlite"
    env = _env()
    env["HOME"] = str(tmp_path)  # whatever Ray writes under the home folder stays here
    out = subprocess.run(
        _cli("tournament", str(config_file), "--db", str(db), "--workers", "2", "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "played 144 matches" in out.stdout
    assert _rows(db) == _rows(reference)
