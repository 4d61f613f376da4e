"""Tournaments survive ``kill -9``, rerun to the same tables, and run the same on Ray, in
batches or one game at a time, with mixed coalitions."""

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

# Coalition mixes: 3 uniform + 1 named + 2 drawn. 6 x 3 x 1 x 2 assignments x 4 seeds = 144
# classroom matches: a second or two in one process.
CONFIG = {
    "name": "resume",
    "scenario": "classroom",
    "population": {
        "member": ["leader", "free-rider", "conditional-on-us"],
        "usa": ["disengaged", "committed-guarantor", "transactional"],
        "russia": ["opportunist", "salami-slicer"],
    },
    "coalition": {
        "uniform": True,
        "named": {"uk-leads": {"uk": "leader", "others": "free-rider"}},
        "drawn": 2,
        "seed": 1,
    },
    "seeds": 4,
    "analysis": {"bootstrap": 200},
}
BATCH = 8  # matches per batch in the kill test: many batches, each written in one transaction
# Columns that say when and how fast a match was played; everything else must match exactly.
MATCH_COLUMNS = [
    "tournament",
    "match_key",
    "assignment",
    "seed",
    "scenario_id",
    "scenario_hash",
    "code_version",
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
        "tournament", str(config_file), "--db", str(db), "--workers", "0", "--no-progress",
        "--batch-size", str(BATCH),
    )  # fmt: skip
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(db) < 3 * BATCH and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    interrupted = _count(db)
    assert 3 * BATCH <= interrupted < 144, f"killed after {interrupted} matches"
    assert interrupted % BATCH == 0, "a batch is written in one transaction: whole or not at all"

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


def test_mixed_coalitions_are_recorded_per_seat(reference: Path) -> None:
    stored = read_tournament(reference)
    mixes = {mix["label"]: mix for mix in stored.mixes}
    assert list(mixes)[:4] == ["member/leader", "member/free-rider", "member/conditional-on-us",
                               "uk-leads"]  # fmt: skip
    assert mixes["uk-leads"]["seats"] == {
        "uk": "member/leader", "france": "member/free-rider", "germany": "member/free-rider"
    }  # fmt: skip
    drawn = [mix for mix in stored.mixes if mix["kind"] == "drawn"]
    assert [mix["label"] for mix in drawn] == ["mix-1", "mix-2"] and stored.mixed
    seats = {(key, agent): policy for key, agent, policy in
             table_rows(reference, "seats", ["match_key", "agent", "policy"])}  # fmt: skip
    for match in stored.matches:
        mix = mixes[match["lineup"]["member"]]
        for agent in ("uk", "france", "germany"):
            assert seats[(match["key"], agent)] == mix["seats"][agent] == match["seats"][agent]
        assert seats[(match["key"], "usa")] == match["lineup"]["usa"]
    # The key covers every seat: the same roles' labels with another mix are other matches.
    plan = plan_tournament(*load_tournament_config(CONFIG))
    by_seats = {(tuple(sorted((a, p.label) for a, p in m.seats.items())), m.seed) for m in
                plan.matches}  # fmt: skip
    assert len(by_seats) == len({m.key for m in plan.matches}) == 144


def test_batched_and_one_game_paths_write_the_same_rows(tmp_path: Path) -> None:
    config, _ = load_tournament_config({**CONFIG, "name": "paths", "seeds": 1})
    rows = []
    for batch_size in (1, 5, 256):
        db = tmp_path / f"b{batch_size}.sqlite"
        run = run_tournament(
            plan_tournament(config), db, workers=0, progress=False, batch_size=batch_size
        )
        assert run.played == 36
        rows.append(_rows(db))
    assert rows[0] == rows[1] == rows[2]


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
