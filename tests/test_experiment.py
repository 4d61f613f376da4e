"""The us-commitment experiment at a tiny size: its files and columns, paired seeds, and a rerun
after a kill that redoes nothing finished."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TINY = """
import sys
from reassurance.envs.actions import Condition, Contribution
from reassurance.evaluation.equilibrium import MemberStrategy
from reassurance.evaluation.experiment import Options, run_experiment

grid = (MemberStrategy(0), MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL),
        MemberStrategy(4, Contribution.GROUND, Condition.IF_US_BACKSTOP))
options = Options(scenario="classroom", quick=True, seeds=2, commitments=(0.0, 1.0),
                  populations=("equilibrium", "doctrines"), checks=False, grid=grid)
run_experiment(options, sys.argv[1], workers=0, progress=False)
"""


def _run(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", TINY, str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _parts(out: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in (out / "parts").rglob("*.json")}  # fmt: skip


def test_tiny_experiment_resumes_after_a_kill_and_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    first = _run(out)
    deadline = time.monotonic() + 600
    while not (out / "parts").exists() or not list((out / "parts").rglob("*.json")):
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline, "no part finished in time"
        time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)  # an interruption after the first finished part
    first.wait()
    finished = _parts(out)
    assert 1 <= len(finished) < 8  # 2 populations x (2 axis + 2 doctrine settings)
    second = _run(out)
    assert second.wait(timeout=900) == 0, second.stderr.read()
    after = _parts(out)
    assert len(after) == 8
    for name, stamp in finished.items():
        assert after[name] == stamp, f"{name} was done again"
    # results.csv: every population, setting and metric, with its CI and n
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert list(rows[0]) == [
        "population", "us_commitment", "us_policy", "metric", "mean", "ci_low", "ci_high", "n",
    ]  # fmt: skip
    populations = {r["population"] for r in rows}
    assert populations == {"equilibrium", "doctrines"}
    settings = {(r["us_commitment"], r["us_policy"]) for r in rows}
    assert ("0.0", "usa/by-type") in settings and ("1.0", "usa/by-type") in settings
    assert any(p != "usa/by-type" for _, p in settings)
    for row in rows:
        if row["mean"] != "nan":
            assert float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"])
    # paired: every setting of a population was played on the same seeds
    for population in ("equilibrium", "doctrines"):
        seeds = {json.dumps(json.loads(p.read_text())["seeds"])
                 for p in (out / "parts" / population).glob("*.json")}  # fmt: skip
        assert len(seeds) == 1, population
    summary = (out / "summary.md").read_text()
    for heading in ("## Tipping point", "## Substitution or complementarity",
                    "## The stylized facts of GAME.md, checked"):  # fmt: skip
        assert heading in summary
    assert (out / "headline.png").stat().st_size > 0
    assert (out / "plots" / "threshold_met.png").stat().st_size > 0
    facts = json.loads((out / "facts.json").read_text())
    assert {f["number"] for f in facts} == {1, 2, 3, 5}  # fact 4 needs the risk settings
    assert all(f["verdict"] in ("holds", "fails", "mixed", "not testable") for f in facts)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["us-commit"], "unknown experiment 'us-commit'"),
        (["us-commitment", "--seeds", "1"], "--seeds 1: need at least 2"),
        (["us-commitment", "--populations", "equilibrium,trainees"], "unknown ['trainees']"),
        (["us-commitment", "--scenario", "atlantis"], "atlantis"),
        (["us-commitment", "--commitments", "0,high"], "--commitments '0,high': comma-separated"),
        (["us-commitment", "--commitments", "0,1.5"], "at least two distinct values in [0, 1]"),
        (["us-commitment", "--commitments", "0.5"], "at least two distinct values in [0, 1]"),
        (["us-commitment", "--psro-steps", "2"], "--psro-steps needs equilibrium+psro in"),
        (
            ["us-commitment", "--populations", "equilibrium,equilibrium+psro", "--psro-steps", "0"],
            "--psro-steps 0: at least 1",
        ),  # fmt: skip
    ],
)
def test_bad_experiment_flags_are_one_line(args, message, capsys) -> None:
    from reassurance.cli import main

    assert main(["experiment", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_commitments_flag_sets_the_axis() -> None:
    from reassurance.evaluation.experiment import Options, _commitments, settings_for

    assert _commitments("1,0,0.25,0.25") == (0.0, 0.25, 1.0)
    options = Options(scenario="classroom", quick=True, commitments=_commitments("0,0.25,1"))
    axis = [s.us_commitment for s in settings_for(options) if s.kind == "axis"]
    assert axis == [0.0, 0.25, 1.0]


def test_only_converged_profiles_are_pooled(monkeypatch) -> None:
    """A best-response cycle's last profile is no equilibrium: it is listed, not averaged in."""
    from types import SimpleNamespace

    import numpy as np

    from reassurance.envs.metrics import SUMMARY
    from reassurance.evaluation import experiment

    def fake(value: float, status: str, starts: list[str]) -> SimpleNamespace:
        summaries = {f.name: np.full(2, value) for f in SUMMARY}
        return SimpleNamespace(
            starts=starts,
            status=status,
            outcome=SimpleNamespace(
                summaries=summaries, members={"troops": np.full((2, 3), value)}
            ),
            member_labels=lambda ids: dict.fromkeys(ids, "out"),
            russia_label="russia/negotiator",
            epsilon=(0.0, 0.0, 0.0),
            epsilon_player="",
        )

    found = [fake(1.0, "converged", ["all out"]), fake(0.0, "cycle", ["doctrines", "all in"])]
    monkeypatch.setattr(experiment, "find_equilibria", lambda game, **kw: ([], found))
    options = experiment.Options(scenario="classroom", quick=True, seeds=2)
    setting = experiment.Setting("axis", 0.0, "usa/by-type")
    part = experiment._equilibrium_part(options, setting)
    assert part.metrics["contributors"] == [1.0, 1.0]  # the cycle's zeros are not averaged in
    assert [eq["pooled"] for eq in part.notes["equilibria"]] == [True, False]
    assert part.notes["pooled"] == "converged"
    # with no converged start, every profile reached is pooled, weighted by its starts, and said
    found[0].status = "cycle"
    part = experiment._equilibrium_part(options, setting)
    assert part.metrics["contributors"] == pytest.approx([1 / 3, 1 / 3])
    assert part.notes["pooled"].startswith("none converged")


def test_parts_keep_the_commit_that_made_them(monkeypatch) -> None:
    """A resumed run may mix parts made at several commits; the summary names them."""
    from reassurance.evaluation import experiment, findings

    setting = experiment.Setting("axis", 0.0, "usa/by-type")
    part = experiment.Part("doctrines", setting, [1, 2], {"contributors": [1.0, 2.0]})
    assert part.commit == findings.commit()  # the checkout's commit when it was made
    again = experiment.Part.from_json(part.to_json())
    assert again.commit == part.commit and again.setting == setting
    old = json.loads(part.to_json())
    del old["commit"]
    assert experiment.Part.from_json(json.dumps(old)).commit == "unknown"
    assert findings._part_commits([part]) == ""
    monkeypatch.setattr(findings, "commit", lambda: "abc1234")
    assert findings._part_commits([part, again]) == (
        f" This run resumed parts made at other commits; parts per commit: `{part.commit}` (2)."
    )


def test_trained_groups_train_side_by_side_in_one_tune_run(tmp_path: Path, monkeypatch) -> None:
    """Every group's trials go to one Tune run (on a cluster, all at once), each group in its
    own folder; runs checkpoint every 10 iterations so a killed trial resumes near where it
    stopped, and each setting's part is saved as soon as it is played."""
    from reassurance.envs.metrics import SUMMARY
    from reassurance.evaluation import experiment
    from reassurance.training import sweep as sweep_module

    out = tmp_path / "exp"
    calls: list[tuple[list, Path]] = []

    def fake_run_sweeps(specs, storage, **kwargs) -> list[Path]:
        calls.append((list(specs), Path(storage)))
        return [spec.out / "summary.md" for spec in specs]

    played: list[int] = []

    def fake_play(options, setting, runs, wall) -> experiment.Part:
        played.append(len(list((out / "parts" / "trained").glob("*.json"))))
        metrics = {f.name: [1.0] * len(options.eval_seeds) for f in SUMMARY}
        gain = {"switch": "out", "gain": 0.25, "ci": [0.125, 0.5]}
        notes = {"deviations": {"uk": gain, "france": gain, "germany": gain, "russia": gain}}
        return experiment.Part("trained", setting, options.eval_seeds, metrics, notes=notes)

    monkeypatch.setattr(sweep_module, "run_sweeps", fake_run_sweeps)
    monkeypatch.setattr(experiment, "_play_trained", fake_play)
    options = experiment.Options(
        scenario="classroom", seeds=2, commitments=(0.0, 1.0), populations=("trained",)
    )
    experiment.run_experiment(options, out, workers=0, progress=False, echo=lambda line: None)
    [(specs, storage)] = calls  # one Tune run for every group
    assert storage == out / "trained"
    assert [spec.out.name for spec in specs] == ["axis"] + [
        "doctrine-" + d.replace("/", "-") for d in experiment.US_DOCTRINES
    ]
    axis = specs[0]
    assert (axis.values, axis.seeds) == ([0.0, 1.0], 2)
    assert (axis.settings.iterations, axis.settings.checkpoint_every) == (30, 10)
    assert axis.settings.train == ("member", "russia", "usa")
    assert all(spec.settings.train == ("member", "russia") for spec in specs[1:])
    assert played == list(range(len(specs) + 1))  # each part saved before the next is played
    assert len(list((out / "parts" / "trained").glob("*.json"))) == len(specs) + 1
    summary = (out / "summary.md").read_text()
    assert "## Is the trained population at an equilibrium?" in summary
    assert "| c=0 | uk | `out` | 0.250 (0.125..0.500) | 3 of 3 | `out` |" in summary


def test_deviation_gains_are_paired_and_zero_for_the_same_play() -> None:
    """Switching a seat to what it already plays gains exactly 0 on every seed (same seed, same
    draws); the table names each member's best switch and Russia's."""
    import numpy as np

    from reassurance.agents import play_matches
    from reassurance.evaluation import experiment
    from reassurance.evaluation.equilibrium import GridMember, MemberStrategy

    options = experiment.Options(scenario="classroom", seeds=3)
    lineup = {"member": GridMember(MemberStrategy(0)), "russia": "russia/negotiator"}
    overrides = {"usa.commitment": 0.5}
    trained = play_matches("classroom", lineup, options.eval_seeds, overrides=overrides)
    members = ["uk", "france", "germany"]
    gains = experiment._deviation_gains(options, members, lineup, trained, overrides)
    grid = [s.label for s in experiment.DEVIATION_GRID]
    assert gains["members"].shape == (3, len(grid), 3)
    assert np.all(gains["members"][:, grid.index("out"), :] == 0.0)
    assert np.all(gains["russia"][-2] == 0.0)  # RUSSIA_GRID[-2] is russia/negotiator
    assert np.any(gains["members"] != 0.0)  # other switches change the game
    best = experiment._best_deviations(members, [gains, gains])
    assert set(best) == {"uk", "france", "germany", "russia"}
    for entry in best.values():
        assert entry["ci"][0] <= entry["gain"] <= entry["ci"][1]


def test_grid_members_play_their_strategy() -> None:
    from reassurance.agents import play_matches
    from reassurance.envs.actions import Condition, Contribution
    from reassurance.evaluation.equilibrium import GridMember, MemberStrategy

    out = play_matches("classroom", {"member": GridMember(MemberStrategy(0))}, range(3))
    assert all(r.summary["contributors"] == 0 for r in out)
    ground = GridMember(MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    assert ground.id == "member/grid:pct20/ground/unconditional/protest"
    played = play_matches("classroom", {"member": ground}, range(3))
    assert all(r.summary["contributors_ground"] == 3 for r in played)
    assert all(r.summary["troops_deployed"] > 0 for r in played)


def test_russia_challenges_pair_the_trained_russia_with_the_equilibrium(monkeypatch) -> None:
    """Russia switching to a 'trained' policy that plays its equilibrium doctrine gains exactly
    0 on every seed; one that plays another doctrine changes its return; the summary reads it."""
    from reassurance import agents
    from reassurance.envs.metrics import SUMMARY
    from reassurance.evaluation import experiment, findings

    options = experiment.Options(scenario="classroom", seeds=4)
    setting = experiment.Setting("axis", 0.0, "usa/by-type")
    eq = {
        "members": {"uk": "pct20/ground/unconditional/protest", "france": "out",
                    "germany": "pct10/logistics/unconditional/reinforce"},
        "russia": "russia/negotiator", "starts": ["all out"], "pooled": True,
    }  # fmt: skip
    metrics = {f.name: [0.0] * 4 for f in SUMMARY}
    parts = [
        experiment.Part("equilibrium", setting, options.eval_seeds, metrics,
                        member_ids=["uk", "france", "germany"], notes={"equilibria": [eq]}),
        experiment.Part("trained", setting, options.eval_seeds, metrics, notes={"runs": ["a"]}),
    ]  # fmt: skip

    def runs(out: Path, s: experiment.Setting) -> list[Path]:
        assert out == Path("exp") and s == setting  # the experiment folder, not anything else
        return [out / "trained" / "axis" / "trials" / "commitment=0.0_seed=0"]

    monkeypatch.setattr(experiment, "trained_runs", runs)
    for doctrine, same in (("russia/negotiator", True), ("russia/hawk", False)):
        monkeypatch.setattr(agents, "from_checkpoint", lambda run, role, d=doctrine: agents.make(d))
        [challenge] = experiment.russia_challenges(options, parts, Path("exp"))
        assert challenge["contributors"] == 2 and challenge["starts"] == ["all out"]
        if same:
            assert challenge["gain"] == 0.0 and challenge["ci"] == [0.0, 0.0]
            assert challenge["threshold_met"][0] == challenge["threshold_met"][1]
        else:
            assert challenge["gain"] != 0.0
            assert challenge["ci"][0] <= challenge["gain"] <= challenge["ci"][1]
    lines = findings.challenge_lines([challenge])
    assert lines[1] == "## Do the equilibria survive a trained Russia?"
    assert lines[-1].startswith("| c=0 | all out | `russia/negotiator` | 2 |")


def test_equilibria_with_a_trained_russia(tmp_path: Path, monkeypatch) -> None:
    """The population that lets Russia also play its trained policies: refused with a clear
    error without trained runs; otherwise Russia's grid gains one entry per run."""
    from reassurance.agents import make
    from reassurance.envs.actions import Condition, Contribution
    from reassurance.evaluation import equilibrium, experiment
    from reassurance.evaluation.equilibrium import MemberStrategy

    grid = (MemberStrategy(0), MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    options = experiment.Options(
        scenario="classroom", quick=True, seeds=2, commitments=(0.0, 1.0), checks=False,
        populations=(experiment.WITH_TRAINED_RUSSIA,), grid=grid,
    )  # fmt: skip
    with pytest.raises(ValueError, match="needs the trained population's runs .* add trained"):
        experiment.run_experiment(options, tmp_path / "none", workers=0, progress=False)
    # the trained parts exist (made elsewhere) but not their runs: refused, not played without
    both = dataclasses.replace(options, populations=("trained", experiment.WITH_TRAINED_RUSSIA))
    made_elsewhere = tmp_path / "elsewhere"
    for setting in experiment.settings_for(both):
        part = experiment.Part("trained", setting, options.eval_seeds, {}, notes={"runs": ["x"]})
        experiment._save(experiment._part_path(made_elsewhere, "trained", setting), part.to_json())
    with pytest.raises(ValueError, match="missing for axis-c0.00, .*delete their parts"):
        experiment.run_experiment(both, made_elsewhere, workers=0, progress=False)
    assert not (made_elsewhere / "parts" / "equilibrium_trained-russia").exists()
    seen: list[tuple[str, str]] = []

    def fake_policy(path: str, role: str):
        seen.append((path, role))
        return make("russia/hawk")

    monkeypatch.setattr(equilibrium, "_trained_policy", fake_policy)
    trials = tmp_path / "trained" / "axis" / "trials"
    monkeypatch.setattr(
        experiment, "trained_runs",
        lambda out, s: [trials / f"commitment={s.us_commitment}_seed=0"],
    )  # fmt: skip
    out = tmp_path / "exp"
    experiment.run_experiment(options, out, workers=0, progress=False, echo=lambda line: None)
    parts = sorted((out / "parts" / "equilibrium_trained-russia").glob("*.json"))
    assert len(parts) == 4  # 2 axis settings, 2 doctrine settings (quick)
    part = json.loads(parts[0].read_text())
    assert part["population"] == experiment.WITH_TRAINED_RUSSIA
    assert part["notes"]["russia_runs"][0].endswith("_seed=0")
    assert {role for _, role in seen} == {"russia"}
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {r["population"] for r in rows} == {experiment.WITH_TRAINED_RUSSIA}


@pytest.mark.parametrize(("voting", "verdict"), [(0.54, "mixed"), (0.40, "holds")])
def test_fact_five_needs_a_clear_gap_in_conversion(voting: float, verdict: str) -> None:
    """'Defection is highest where a parliament votes' needs conversion at least 5 points lower
    there: 54% against 55% is no evidence. Token checks count only in their own population."""
    from types import SimpleNamespace

    from reassurance.evaluation import experiment, findings

    members = [SimpleNamespace(parliament_vote=v, declaration_signed=False)
               for v in (True, False)]  # fmt: skip
    scenario = SimpleNamespace(members=members)
    part = experiment.Part(
        "equilibrium+trained-russia", experiment.Setting("axis", 0.0, "usa/by-type"), [1, 2], {},
        members={"peak_pledged_k": [[1.0, 1.0]] * 2, "peak_deployed_k": [[voting, 0.55]] * 2},
        notes={"equilibria": [{"members": {"a": "pct20/ground/if_us_backstop/protest",
                                           "b": "pct20/ground/after_ceasefire/protest"}}]},
    )  # fmt: skip
    token = experiment.Part(
        "equilibrium", experiment.Setting("token", 0.3, "usa/disengaged"), [1], {"probes": [2.0],
        "limited_violations": [0.0]},
    )  # fmt: skip
    fact = findings._fact_five([part, token], "equilibrium+trained-russia", scenario)
    assert fact.verdict == verdict
    assert "token-force check not run in this population" in fact.evidence


def test_listed_equilibria_read_back_from_a_summary() -> None:
    """scripts/challenge_listed_equilibria.py reads the committed brussels summary's equilibria
    back, line for line, and refuses a line it cannot read."""
    import importlib.util

    from reassurance.evaluation import experiment

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "challenge_listed_equilibria", root / "scripts" / "challenge_listed_equilibria.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = (root / "docs/results/us-commitment/brussels-2025-04/summary.md").read_text()
    options = experiment.Options(scenario="brussels-2025-04")
    parts = script.equilibrium_parts(text, options)
    assert [p.setting.us_commitment for p in parts] == [0.0, 0.25, 0.5, 0.75, 1.0]
    first = parts[0].notes["equilibria"][0]
    assert first["pooled"] and first["russia"] == "russia/opportunist(weak=0.3)"
    assert set(first["members"].values()) == {"out"} and len(first["members"]) == 19
    assert sum(eq["pooled"] for p in parts for eq in p.notes["equilibria"]) == 10
    broken = text.replace("Russia `russia/negotiator`", "Russia russia/negotiator", 1)
    with pytest.raises(ValueError, match="cannot read the equilibrium line"):
        script.equilibrium_parts(broken, options)
    renamed = text.replace(" uk=pct20", " ukk=pct20", 1)
    with pytest.raises(ValueError, match="unknown member 'ukk'"):
        script.equilibrium_parts(renamed, options)


def test_psro_trains_russia_against_each_equilibrium_and_resumes(tmp_path: Path, monkeypatch):
    """equilibrium+psro: refused without the equilibrium population; each step trains Russia
    (alone) against the previous equilibrium's members as a grid profile, adds the runs to
    Russia's grid and searches again; a setting stops when the members to train against are
    unchanged; a rerun trains and searches nothing."""
    from reassurance.agents import make
    from reassurance.envs.actions import Condition, Contribution
    from reassurance.evaluation import equilibrium, experiment
    from reassurance.evaluation.equilibrium import MemberStrategy
    from reassurance.training import sweep

    grid = (MemberStrategy(0), MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    options = experiment.Options(
        scenario="classroom", quick=True, seeds=2, commitments=(0.0, 1.0), checks=False,
        populations=("equilibrium", experiment.PSRO), grid=grid, psro_steps=2,
    )  # fmt: skip
    alone = dataclasses.replace(options, populations=(experiment.PSRO,))
    with pytest.raises(ValueError, match="starts from the equilibrium population's .* add equi"):
        experiment.run_experiment(alone, tmp_path / "none", workers=0, progress=False)
    trained: list[list] = []
    monkeypatch.setattr(sweep, "run_sweeps", lambda specs, storage, **kw: trained.append(specs))
    monkeypatch.setattr(
        experiment, "psro_runs",
        lambda out, s, step: [experiment.psro_folder(out, s) / f"step{k}" / "trials" /
                              f"commitment={s.us_commitment}_seed=0" for k in range(1, step + 1)],
    )  # fmt: skip
    monkeypatch.setattr(equilibrium, "_trained_policy", lambda path, role: make("russia/hawk"))
    real_target = experiment.psro_target

    def target(part):  # step 1 trains against everyone out: settings with a force go on
        found = real_target(part)
        if part.population == "equilibrium":
            return {**found, "members": {m: "out" for m in found["members"]}}
        return found

    monkeypatch.setattr(experiment, "psro_target", target)
    out = tmp_path / "exp"
    one = dataclasses.replace(options, psro_steps=1)  # then 2: step 1 is not done again
    experiment.run_experiment(one, out, workers=0, progress=False, echo=lambda line: None)
    assert len(trained) == 1
    step1 = {p: p.stat().st_mtime_ns for p in (out / "psro").rglob("step1.json")}
    experiment.run_experiment(options, out, workers=0, progress=False, echo=lambda line: None)
    assert {p: p.stat().st_mtime_ns for p in (out / "psro").rglob("step1.json")} == step1
    assert all(spec.out.name == "step2" for call in trained[1:] for spec in call)
    members = {"uk": "out", "france": "out", "germany": "out"}
    [c0] = [spec for spec in trained[0] if spec.out.parent.name == "axis-c0.00"]
    assert tuple(c0.settings.train) == ("russia",) and c0.out.name == "step1"
    assert c0.settings.opponents["member"].agent == "member/grid-profile"
    assert c0.settings.opponents["member"].params["strategies"] == [
        members[m] for m in ("uk", "france", "germany")
    ]
    assert c0.settings.opponents["usa"].agent == "usa/by-type"
    assert len(trained[0]) == 4  # every setting trains at step 1
    finals = sorted((out / "parts" / "equilibrium_psro").glob("*.json"))
    assert len(finals) == 4
    retrained = {spec.out.parent.name for spec in trained[1]} if len(trained) > 1 else set()
    for path in finals:
        part = json.loads(path.read_text())
        steps = part["notes"]["psro"]
        assert [note["step"] for note in steps] == list(range(1, len(steps) + 1))
        assert part["notes"]["russia_runs"][-1].endswith("_seed=0")
        note = steps[0]
        assert note["ci"][0] <= note["gain"] <= note["ci"][1]
        step1 = experiment.Part.from_json((out / "psro" / path.stem / "step1.json").read_text())
        unchanged = real_target(step1)["members"] == note["target"]["members"]
        assert (len(steps) == 1) == unchanged == (path.stem not in retrained)
        assert (out / "psro" / path.stem / "step2.json").is_file() == (len(steps) == 2)
    assert retrained and len(retrained) < 4  # both: settings that went on, and that stopped
    summary = (out / "summary.md").read_text()
    assert "## Policy-space response oracles (`equilibrium+psro`)" in summary
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {r["population"] for r in rows} == {"equilibrium", experiment.PSRO}
    # a kill after every step finished but before the final parts: nothing trains again
    stamps = {p: p.stat().st_mtime_ns for p in (out / "psro").rglob("*.json")}
    calls = len(trained)
    for path in finals:
        path.unlink()
    experiment.run_experiment(options, out, workers=0, progress=False, echo=lambda line: None)
    assert len(trained) == calls
    assert {p: p.stat().st_mtime_ns for p in (out / "psro").rglob("*.json")} == stamps
    assert sorted((out / "parts" / "equilibrium_psro").glob("*.json")) == finals
    # a step folder made against another equilibrium is refused, not mixed in
    record = out / "psro" / "axis-c0.00" / "step1" / "target.json"
    record.write_text(json.dumps({"members": {"uk": "pct20/ground/unconditional/protest"},
                                  "russia": "russia/hawk"}))  # fmt: skip
    finals[0].unlink()
    with pytest.raises(ValueError, match="step1 was made against .* delete .*axis-c0.00"):
        experiment.run_experiment(options, out, workers=0, progress=False)


def test_psro_seats_each_member_its_own_strategy_and_checks_the_grid(tmp_path: Path) -> None:
    from reassurance.envs.actions import Condition, Contribution
    from reassurance.evaluation import experiment
    from reassurance.evaluation.equilibrium import MemberStrategy

    grid = (MemberStrategy(0), MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    options = experiment.Options(scenario="classroom", quick=True, grid=grid)
    setting = experiment.Setting("doctrine", 0.3, "usa/words-only")
    lead = grid[1].label
    target = {"members": {"germany": "out", "uk": lead, "france": "out"}, "russia": "russia/hawk"}
    trainer = experiment.psro_training(options, setting, target)
    assert tuple(trainer.train) == ("russia",)
    assert trainer.opponents["member"].params["strategies"] == [lead, "out", "out"]  # uk first
    assert trainer.opponents["usa"].agent == "usa/words-only"
    off = {**target, "members": {**target["members"], "france": "pct5/isr/unconditional/protest"}}
    with pytest.raises(ValueError, match=r"plays \['pct5/isr/unconditional/protest'\], not on"):
        experiment._check_psro_target(options, setting, 1, off, tmp_path)
    assert not (tmp_path / "psro").exists()
    experiment._check_psro_target(options, setting, 1, target, tmp_path)
    saved = json.loads((tmp_path / "psro" / setting.key / "step1" / "target.json").read_text())
    assert saved == {"members": target["members"], "russia": "russia/hawk"}


def test_challenges_of_settings_without_runs_are_kept() -> None:
    """A results folder kept without its checkpoints: rerunning the experiment keeps the
    challenges it had for those settings instead of writing none."""
    from reassurance.envs.metrics import SUMMARY
    from reassurance.evaluation import experiment

    options = experiment.Options(scenario="classroom", seeds=2)
    axis = experiment.Setting("axis", 0.0, "usa/by-type")
    other = experiment.Setting("axis", 1.0, "usa/by-type")
    metrics = {f.name: [0.0] * 2 for f in SUMMARY}
    eq = {"members": {"uk": "out", "france": "out", "germany": "out"},
          "russia": "russia/hawk", "starts": ["all out"], "pooled": True}  # fmt: skip
    parts = [
        experiment.Part(population, setting, options.eval_seeds, metrics,
                        notes={"equilibria": [eq]} if population == "equilibrium" else {})
        for population in ("equilibrium", "trained") for setting in (axis, other)
    ]  # fmt: skip
    kept = {"kind": "axis", "us_commitment": 0.0, "us_policy": "usa/by-type", "gain": 2.5}
    gone = {"kind": "doctrine", "us_commitment": 0.3, "us_policy": "usa/disengaged", "gain": 1.0}
    found = experiment.russia_challenges(options, parts, Path("/nonexistent"), [kept, gone])
    assert found == [kept]  # the setting still measured keeps its entry; no other is invented
