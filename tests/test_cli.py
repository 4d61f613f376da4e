"""The reassurance command, as a new user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import reassurance
from reassurance import agents
from reassurance.cli import main


def test_demo_prints_turns_and_summary(capsys) -> None:
    assert main(["demo", "--scenario", "classroom", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert out.count("== Turn ") == 16
    assert "Episode summary" in out
    assert "free_riding_index" in out


def test_demo_json_is_deterministic() -> None:
    cmd = [sys.executable, "-m", "reassurance.cli", "demo", "--scenario", "classroom", "--json"]
    first = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    second = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert first == second
    assert first["ceasefires"] >= 1  # Ukraine accepts Russia's offer once a force is pledged
    # Seed 0 draws a disengaged US, which stays silent: the leaders deploy, and Germany's
    # pledge, which waits for a US backstop, never does.
    assert first["us_type"] == 0 and first["final_belief_us_backs"] <= 0.3  # never above c
    assert first["contributors"] == 2


def test_demo_is_a_match_between_registered_doctrines() -> None:
    from reassurance.demo import DEMO_LINEUP, run_demo

    summary = run_demo("classroom", seed=2, quiet=True)
    result = agents.play_match("classroom", DEMO_LINEUP, seed=2)
    assert json.dumps(summary) == json.dumps(result.summary)
    assert result.policies["uk"] == result.policies["france"] == "member/leader"
    assert result.policies["germany"] == "member/conditional-on-us"
    assert result.policies["russia"] == "russia/opportunist"


def test_bad_scenario_is_a_clear_error(capsys) -> None:
    assert main(["demo", "--scenario", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert "atlantis" in err and "classroom" in err


def test_demo_seed_is_checked_as_a_flag(capsys) -> None:
    """Issue 10, item 9: `demo --seed -1` gave numpy's message, naming no flag."""
    for bad, message in (("-1", "-1 is negative; seeds are integers >= 0"),
                         ("one", "'one' is not an integer")):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(["demo", "--seed", bad])
        assert exit_.value.code == 2
        assert f"argument --seed: {message}" in capsys.readouterr().err


def test_version_and_scenarios(capsys) -> None:
    assert reassurance.__version__ == "0.1.0"
    assert main(["scenarios"]) == 0
    assert "brussels-2025-04" in capsys.readouterr().out


def _closed_reader(*args: str) -> subprocess.CompletedProcess:
    """Run the command with stdout a pipe whose reader has already quit (``| head -0``)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "reassurance.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


def test_a_reader_that_quits_early_gets_no_traceback() -> None:
    """Issue 10, item 6: `reassurance demo | head -1` and `play --list-bots | head` ended in a
    BrokenPipeError traceback. Output now stops quietly with status 1, as Python's docs advise."""
    for args in (
        ["demo", "--scenario", "classroom"],
        ["demo", "--scenario", "classroom", "--json"],
        ["play", "--list-bots"],
        ["scenarios"],
    ):
        result = _closed_reader(*args)
        assert result.returncode == 1, (args, result.stderr[-2000:])
        assert result.stderr == "", (args, result.stderr[-2000:])


def test_output_paths_that_cannot_be_used_are_one_line(tmp_path: Path, capsys) -> None:
    """Issue 10, item 6: `train --out FILE`, `tournament --db DIR` and `report --out FILE` gave
    tracebacks (FileExistsError, sqlite3.OperationalError)."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("notes\n")
    a_folder = tmp_path / "folder"
    a_folder.mkdir()
    cases = [
        (["train", "--scenario", "classroom", "--out", str(a_file)], f"--out {a_file} is a file"),
        (["train", "--scenario", "classroom", "--out", str(a_file / "run")], "is a file"),
        (["sweep", "--param", "usa.commitment=0,1", "--out", str(a_file)], "is a file"),
        (["tournament", "classroom-heuristics", "--db", str(a_folder)], "is a folder"),
        (["tournament", "classroom-heuristics", "--db", str(a_file / "x.sqlite")], "is a file"),
        (["report", str(a_folder), "--out", str(tmp_path / "r")], "is a folder"),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("reassurance: ") and err.count("\n") == 1, err
        assert message in err, (args, err)
    assert not list(a_folder.iterdir()), "a refused --db wrote nothing"


def test_report_into_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament

    raw = {"name": "tiny", "scenario": "classroom", "population": {"usa": ["disengaged"]}}
    db = tmp_path / "r.sqlite"
    run_tournament(plan_tournament(load_tournament_config(raw)[0]), db, workers=0, progress=False)
    a_file = tmp_path / "report.md"
    a_file.write_text("an older report\n")
    assert main(["report", str(db), "--out", str(a_file)]) == 2
    assert f"--out {a_file} is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_text() == "an older report\n"


def _no_nan_or_infinity(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def test_demo_json_is_strict_json(capsys) -> None:
    """Issue 10, item 10: `demo --json` printed NaN (no violation, so no detection rate), which
    strict JSON parsers refuse. Now null, as in the results database."""
    assert main(["demo", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out, parse_constant=_no_nan_or_infinity)
    if summary["violations"] == 0:
        assert summary["detection_rate"] is None
    from reassurance.cli import _strict_json

    value = {"a": float("nan"), "b": [float("inf"), 1.5, -float("inf")], "c": (True, 2)}
    assert _strict_json(value) == {"a": None, "b": [None, 1.5, None], "c": [True, 2]}


def test_demo_summary_says_which_threshold_was_missed(capsys) -> None:
    """Issue 10, item 12: the demo ended with `threshold_met False` at 21,800 / 15,000 troops,
    without saying that the enabler threshold E* was the one missed."""
    from reassurance.demo import Deadline, play_demo, threshold_verdict

    for seed in range(3):
        summary, deadlines = play_demo("classroom", seed, quiet=True)
        assert bool(deadlines) == (summary["ceasefires"] > 0)
        met = [d.force_met and d.enablers_met for d in deadlines]
        assert summary["threshold_met"] == any(met), "deadlines seen differ from the env's"
        assert main(["demo", "--scenario", "classroom", "--seed", str(seed)]) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if "threshold_met" in x)
        assert line.endswith(f"({threshold_verdict(deadlines)})")

    force_only = Deadline(turn=9, force=21_800.0, threshold=15_000.0, enablers=0.53)
    assert threshold_verdict([force_only]) == (
        "missed E* at the deadline of turn 9: force 21,800 / 15,000 troops, enablers E = 0.53 / 1"
    )
    short = Deadline(turn=20, force=9_000.0, threshold=15_000.0, enablers=1.0)
    assert threshold_verdict([force_only, short]).startswith(
        "missed F* at the deadline of turn 20 (the last of 2):"
    )
    both = Deadline(turn=9, force=0.0, threshold=15_000.0, enablers=0.0)
    assert threshold_verdict([both]).startswith("missed F* and E*")
    full = Deadline(turn=9, force=15_000.0, threshold=15_000.0, enablers=1.0)
    assert threshold_verdict([full, both]).startswith("met at 1 of 2 deployment deadlines")
    assert "no ceasefire" in threshold_verdict([])
