"""The reassurance command, as a new user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

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
    assert first["contributors"] == 3  # the leaders, and Germany once the US backs the force


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


def test_version_and_scenarios(capsys) -> None:
    assert reassurance.__version__ == "0.1.0"
    assert main(["scenarios"]) == 0
    assert "brussels-2025-04" in capsys.readouterr().out
