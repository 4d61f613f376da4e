"""Calibration and sensitivity: the target checks, the search's files and its resume, and the
Morris screening on a function whose effects are known (the game itself is too slow here; the
analyser it calls is tested in test_model.py)."""

from __future__ import annotations

import csv
import json

import pytest

from reassurance.envs.actions import Condition, Contribution
from reassurance.evaluation import calibration, sensitivity
from reassurance.evaluation.calibration import FREE, TARGETS, Observed
from reassurance.evaluation.equilibrium import MemberStrategy

LEAD = MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL)
WAIT = MemberStrategy(3, Contribution.GROUND, Condition.IF_US_BACKSTOP)
ENABLE = MemberStrategy(2, Contribution.LOGISTICS, Condition.UNCONDITIONAL)
OUT = MemberStrategy(0)


def _observed(strategies: dict[str, MemberStrategy], troops: float, met: float) -> Observed:
    return Observed(
        scenario="brussels-2025-04",
        strategies=strategies,
        figures={"troops_deployed": troops, "threshold_met": met, "contributors_ground": 2.0},
        home_threat={"poland": 0.9, "estonia": 0.9, "uk": 0.2, "france": 0.1, "italy": 0.2},
    )


def _scores(observed: Observed) -> dict[str, float]:
    return {t.name: t.check(observed) for t in TARGETS if t.name != "germany-nato-soil"}


def test_targets_score_what_was_observed() -> None:
    seen = _observed(
        {"uk": LEAD, "france": LEAD, "poland": OUT, "estonia": ENABLE, "italy": WAIT,
         "finland": OUT, "sweden": WAIT, "netherlands": OUT},
        troops=20_000, met=0.5,
    )  # fmt: skip
    assert all(score == 1.0 for score in _scores(seen).values())
    # the leaders stay home, Poland sends troops, the force is too small and always met
    off = _observed(
        {"uk": OUT, "france": WAIT, "poland": LEAD, "estonia": OUT, "italy": LEAD,
         "finland": LEAD, "sweden": OUT, "netherlands": OUT},
        troops=5_000, met=1.0,
    )  # fmt: skip
    scores = _scores(off)
    assert scores["leaders"] == 0.0 and scores["signed-lead"] == 0.0
    assert scores["home-threat"] == 0.5  # Poland goes, Estonia does not
    assert scores["us-essential"] == pytest.approx(2 / 3)  # Finland leads without the US
    # 5,000 troops: 5,000 below the interval, whose half-width (10,000) takes the score to 0
    assert scores["force-size"] == 0.5
    assert scores["hard-to-assemble"] == pytest.approx(1 - 0.2 / 0.35)
    assert calibration._within(float("nan"), 0.0, 1.0) == 0.0


def _fake_score(overrides, *, seeds, rounds):
    """A smooth stand-in for the equilibrium score, best at visible_role = 0.6."""
    x = overrides["rewards.member.visible_role"]
    return {"score": 1.0 - abs(x - 0.6), "target/leaders": 1.0, "seeds": seeds, "rounds": rounds}


def test_calibrate_writes_its_table_and_resumes(tmp_path, monkeypatch) -> None:
    calls = []

    def fake(overrides, **kwargs):
        calls.append(overrides)
        return _fake_score(overrides, **kwargs)

    monkeypatch.setattr(calibration, "score", fake)
    monkeypatch.setattr(calibration, "TARGETS", TARGETS[:1])
    report = calibration.calibrate(tmp_path, candidates=6, refine=3, seeds=3, workers=0)
    rows = list(csv.DictReader((tmp_path / "calibration.csv").open()))
    assert [r["candidate"] for r in rows] == [f"search-{k:03d}" for k in range(6)] + [
        f"refine-{k:03d}" for k in range(3)
    ]
    assert all(r["seeds"] == "3" and r["rounds"] == "4" for r in rows)
    for row in rows:  # every candidate inside its parameter's box
        for free in FREE:
            assert free.low <= float(row[free.field]) <= free.high
    best_search = max(rows[:6], key=lambda r: float(r["score"]))
    for row in rows[6:]:  # the second stage stays within an eighth of the box of the best
        centre = float(best_search["rewards.member.visible_role"])
        assert abs(float(row["rewards.member.visible_role"]) - centre) <= 0.9 / 8 + 1e-9
    text = report.read_text()
    assert "## Targets (observed, at the recorded US stance)" in text and "search-" in text
    calls.clear()
    calibration.calibrate(tmp_path, candidates=6, refine=3, seeds=3, workers=0)
    assert calls == []  # a rerun scores no candidate again


def test_morris_finds_the_parameter_that_matters(tmp_path, monkeypatch) -> None:
    params = (
        sensitivity.Parameter("a", 0.0, 1.0),
        sensitivity.Parameter("b", 0.0, 1.0),
        sensitivity.Parameter("c", 0.0, 1.0),
    )
    calls = []

    def fake(scenario, overrides, *, seeds):
        calls.append(overrides)
        value = 3.0 * overrides["a"] + 0.5 * overrides["b"]  # c does nothing
        return dict.fromkeys(sensitivity.OUTPUTS, value)

    monkeypatch.setattr(sensitivity, "contrast", fake)
    report = sensitivity.run_morris(
        "classroom", tmp_path, trajectories=4, workers=0, parameters=params
    )
    assert len(calls) == 4 * (len(params) + 1)
    results = json.loads((tmp_path / "sensitivity.json").read_text())
    mu_star = results["troops_deployed"]["mu_star"]
    assert mu_star[0] == pytest.approx(3.0) and mu_star[1] == pytest.approx(0.5)
    assert mu_star[2] == pytest.approx(0.0)
    assert "| `a` |" in report.read_text()
    calls.clear()
    sensitivity.run_morris("classroom", tmp_path, trajectories=4, workers=0, parameters=params)
    assert calls == []  # every point was in points.csv


@pytest.mark.parametrize("command", ["calibrate", "sensitivity"])
def test_backend_flag_is_checked(command: str, capsys) -> None:
    from reassurance.cli import main

    with pytest.raises(SystemExit):
        main([command, "--backend", "dask"])
    assert "invalid choice: 'dask'" in capsys.readouterr().err
