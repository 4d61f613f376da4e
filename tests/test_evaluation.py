"""Tournament configs, provenance hashes, analysis tables and the report."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from reassurance.cli import main
from reassurance.evaluation import (
    list_tournament_configs,
    load_tournament_config,
    plan_tournament,
    run_tournament,
)
from reassurance.evaluation.analysis import analyse, bootstrap_ci, ratings
from reassurance.evaluation.hashing import hash_checkpoint
from reassurance.evaluation.store import read_tournament

SMALL = {
    "name": "small",
    "scenario": "classroom",
    "population": {
        "member": ["leader", "member/free-rider"],
        "usa": ["disengaged", {"agent": "usa/transactional", "params": {"europe_share": 0.5}}],
        "russia": ["opportunist", "hawk"],
    },
    "seeds": 2,
    "analysis": {"bootstrap": 200},
}


def _config(**changes):
    return load_tournament_config({**SMALL, **changes})[0]


def _error(raw: dict) -> str:
    with pytest.raises(ValueError) as info:
        load_tournament_config(raw)
    return str(info.value)


# ----------------------------------------------------------------------------- configs


def test_unknown_agent_lists_the_registered_ones() -> None:
    message = _error({**SMALL, "population": {"usa": ["usa/isolationist"]}})
    assert "usa/isolationist" in message
    assert "usa/words-only" in message and "population.usa" in message


def test_agent_of_another_role_and_unknown_parameter_are_named() -> None:
    message = _error({**SMALL, "population": {"usa": ["member/leader"]}})
    assert "plays role 'member', not 'usa'" in message
    message = _error(
        {**SMALL, "population": {"usa": [{"agent": "usa/transactional", "params": {"share": 1}}]}}
    )
    assert "['share']" in message and "europe_share" in message
    message = _error(
        {**SMALL, "population": {"usa": [{"agent": "usa/random", "params": {"x": 1}}]}}
    )
    assert "allowed: none" in message


def test_unknown_fields_roles_and_bad_schedule_are_errors() -> None:
    assert "sedes" in _error({**SMALL, "sedes": 3})
    message = _error({**SMALL, "population": {"nato": ["member/leader"]}})
    assert "nato" in message and "'member'" in message and "'russia'" in message
    assert "seeds must be at least 1" in _error({**SMALL, "seeds": 0})
    assert "distinct" in _error({**SMALL, "seeds": [1, 1]})
    assert "exactly one of" in _error(
        {**SMALL, "population": {"usa": [{"agent": "usa/random", "checkpoint": "x"}]}}
    )
    with pytest.raises(ValueError, match=r"sample is 99 but .* only 8 seat assignments"):
        plan_tournament(_config(schedule={"sample": 99, "seed": 0}))


def test_duplicate_policies_are_errors() -> None:
    assert "appears twice" in _error(
        {**SMALL, "population": {"member": ["leader", "member/leader"]}}
    )
    config = _config(
        population={
            "usa": [
                "transactional",
                {"agent": "transactional", "params": {"europe_share": 0.75}, "label": "default"},
            ]
        }
    )
    with pytest.raises(ValueError, match="plays exactly like"):
        plan_tournament(config)


def test_plan_keys_are_deterministic_and_cover_the_product() -> None:
    plan = plan_tournament(_config())
    # member x usa x ukraine (the default bot) x russia x seeds
    assert len(plan.matches) == 2 * 2 * 1 * 2 * 2
    assert len({m.key for m in plan.matches}) == len(plan.matches)
    assert [m.key for m in plan_tournament(_config()).matches] == [m.key for m in plan.matches]
    assert plan.population["ukraine"][0].agent == "ukraine/accepts-with-guarantees"
    usa = plan.population["usa"][1]
    assert usa.label == "usa/transactional(europe_share=0.5)"
    assert usa.params == {"europe_share": 0.5}
    assert plan.population["member"][0].params == {"level": 4, "aid": 2}  # defaults filled in
    other = plan_tournament(_config(first_seed=5))
    assert not {m.key for m in other.matches} & {m.key for m in plan.matches}
    overridden = plan_tournament(_config(overrides={"usa.commitment": 0.9}))
    assert overridden.scenario_hash != plan.scenario_hash


def test_sampled_schedule_is_seeded() -> None:
    def sample(seed: int) -> list[int]:
        plan = plan_tournament(_config(schedule={"sample": 3, "seed": seed}))
        return sorted({m.assignment for m in plan.matches})

    assert sample(1) == sample(1)
    assert len(sample(1)) == 3
    assert any(sample(1) != sample(s) for s in range(2, 6))


def test_shipped_configs_load_and_plan() -> None:
    assert {"classroom-heuristics", "brussels-heuristics", "brussels-mixed"} <= set(
        list_tournament_configs()
    )
    config, base = load_tournament_config("classroom-heuristics")
    plan = plan_tournament(config, base)
    assert plan.scenario.id == "classroom"
    assert len(plan.matches) == 8 * 8 * 2 * 4 * 6
    config, base = load_tournament_config("brussels-heuristics")
    assert plan_tournament(config, base).scenario.id == "brussels-2025-04"
    mixed = plan_tournament(*load_tournament_config("brussels-mixed"))
    assert len(mixed.mixes) == 7 + 2 + 24 and len(mixed.matches) == 33 * 5 * 1 * 2 * 4
    assert all(len(m.seats) == 19 for m in mixed.mixes)
    with pytest.raises(ValueError, match="classroom-heuristics"):
        load_tournament_config("no-such-tournament")


def _trained_run(tmp_path: Path) -> Path:
    """A run directory with one real (untrained) member export, as training writes it."""
    import torch

    from reassurance.agents.checkpoint import write_export
    from reassurance.agents.networks import MaskedActorCritic
    from reassurance.envs import coalition_v0

    env = coalition_v0.parallel_env(scenario="classroom")
    torch.manual_seed(0)
    net = MaskedActorCritic(sum(env.observation_layout("uk").sizes), env.action_space("uk").nvec)
    run = tmp_path / "ckpt"
    for iteration in (1, 2):
        write_export(
            run / "checkpoints" / f"iter_{iteration:06d}",
            "member",
            net,
            role="member",
            agents=["uk", "france", "germany"],
            scenario="classroom",
            iteration=iteration,
        )
    return run


def test_checkpoint_entries_are_parsed_and_hashed(tmp_path: Path) -> None:
    run = _trained_run(tmp_path)
    latest = run / "checkpoints" / "iter_000002"
    config_file = tmp_path / "t.yaml"
    config_file.write_text(
        "population:\n"
        "  member: [leader, {checkpoint: ckpt, role: member, module_id: member}]\n"
        "  usa: [disengaged]\n"
    )
    config, base = load_tournament_config(config_file)
    assert config.name == "t"  # from the file name
    plan = plan_tournament(config, base)
    learned = plan.population["member"][1]
    assert learned.agent == "checkpoint" and learned.label == "member/ckpt:ckpt"
    assert learned.checkpoint == str(latest.resolve())  # a run stands for its latest checkpoint
    assert learned.checkpoint_hash == hash_checkpoint(latest)
    assert learned.module_id == "member"
    bad = tmp_path / "bad.yaml"
    bad.write_text("population:\n  usa: [{checkpoint: ckpt, role: member}]\n")
    assert "checkpoint of role 'member' listed in usa" in _error_file(bad)
    missing = tmp_path / "missing.yaml"
    missing.write_text("population:\n  usa: [{checkpoint: nowhere}]\n")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        plan_tournament(*load_tournament_config(missing))
    no_usa = tmp_path / "no_usa.yaml"
    no_usa.write_text("population:\n  usa: [{checkpoint: ckpt, role: usa}]\n")
    with pytest.raises(ValueError, match="no trained module for role 'usa'"):
        plan_tournament(*load_tournament_config(no_usa))


def _error_file(path: Path) -> str:
    with pytest.raises(ValueError) as info:
        load_tournament_config(path)
    return str(info.value)


def test_checkpoint_hash_covers_names_and_contents(tmp_path: Path) -> None:
    ckpt = tmp_path / "c"
    (ckpt / "sub").mkdir(parents=True)
    (ckpt / "a.bin").write_bytes(b"abc")
    (ckpt / "sub" / "b.bin").write_bytes(b"def")
    first = hash_checkpoint(ckpt)
    assert first == hash_checkpoint(str(ckpt)) and len(first) == 64
    (ckpt / "sub" / "b.bin").write_bytes(b"deg")
    assert hash_checkpoint(ckpt) != first
    (ckpt / "sub" / "b.bin").write_bytes(b"def")
    assert hash_checkpoint(ckpt) == first
    (ckpt / "sub" / "b.bin").rename(ckpt / "sub" / "c.bin")
    assert hash_checkpoint(ckpt) != first
    copy = tmp_path / "copy"
    (copy / "sub").mkdir(parents=True)  # same files written in another order, other folder
    (copy / "sub" / "c.bin").write_bytes(b"def")
    (copy / "a.bin").write_bytes(b"abc")
    assert hash_checkpoint(copy) == hash_checkpoint(ckpt)


# ----------------------------------------------------------------------------- analysis


def _match(lineup: dict, seed: int, returns: dict) -> dict:
    return {"lineup": lineup, "seed": seed, "returns": returns, "summary": {}}


def test_ratings_rank_the_better_policy_whatever_the_order() -> None:
    matches = []
    for seed in range(6):
        for usa, bonus in (("usa/a", 1.0), ("usa/b", 0.0), ("usa/c", 0.5)):
            lineup = {"member": "m", "usa": usa, "ukraine": "u", "russia": "r"}
            returns = {"uk": 0.0, "usa": bonus + 0.01 * seed, "ukraine": 0.0, "russia": 0.0}
            matches.append(_match(lineup, seed, returns))
    rated = ratings(matches, "usa", ["usa/a", "usa/b", "usa/c"])
    assert rated["usa/a"]["mu"] > rated["usa/c"]["mu"] > rated["usa/b"]["mu"]
    assert rated["usa/a"]["contests"] == 6
    shuffled = list(matches)
    random.Random(3).shuffle(shuffled)
    assert ratings(shuffled, "usa", ["usa/a", "usa/b", "usa/c"]) == rated
    # Renaming a label of another role, its identity unchanged, changes nothing.
    identity = {"m": {"agent": "member/leader"}, "mm": {"agent": "member/leader"}}
    renamed = [{**m, "lineup": {**m["lineup"], "member": "mm"}} for m in matches]
    labels = ["usa/a", "usa/b", "usa/c"]
    assert ratings(renamed, "usa", labels, identity) == ratings(matches, "usa", labels, identity)


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    values = list(np.random.default_rng(1).normal(2.0, 1.0, 200))
    first = bootstrap_ci(values, np.random.default_rng(0))
    assert first == bootstrap_ci(values, np.random.default_rng(0))
    mean, low, high, n = first
    assert low < mean < high and n == 200 and high - low < 0.5
    assert bootstrap_ci([1.0, float("nan"), 1.0], np.random.default_rng(0)) == (1.0, 1.0, 1.0, 2)
    assert bootstrap_ci([], np.random.default_rng(0))[3] == 0
    # Matches that share a seed share its hidden draws: resampling seeds widens the interval.
    by_seed = [1.0] * 50 + [0.0] * 50
    seeds = [0] * 50 + [1] * 50
    naive = bootstrap_ci(by_seed, np.random.default_rng(0))
    clustered = bootstrap_ci(by_seed, np.random.default_rng(0), clusters=seeds)
    assert naive[0] == clustered[0] == 0.5
    assert naive[2] - naive[1] < 0.3 and (clustered[1], clustered[2]) == (0.0, 1.0)


def test_bootstrap_bounds_never_cross_the_mean() -> None:
    # Issue 10, item 1: these returns of one seed (a tournament with `seeds: 1`) gave a low
    # bound one ulp above the mean, and the report's error bars failed on it.
    one_seed = [-0.21847956604235286, -0.8600838701494894, 0.31767901683111266,
                -0.07512822914758767, 0.31757376729098047, 0.033338352072732926,
                0.8050704119131825, 0.37158288196352346]  # fmt: skip
    mean, low, high, n = bootstrap_ci(one_seed, np.random.default_rng(0), clusters=[7] * 8)
    assert mean == pytest.approx(np.mean(one_seed)) and n == 8
    assert np.isnan(low) and np.isnan(high), "one seed: nothing to resample, no interval"
    # The same returns on two seeds: every resample has the same mean, up to rounding.
    twice = bootstrap_ci(one_seed * 2, np.random.default_rng(0), clusters=[0] * 8 + [1] * 8)
    assert twice[1] <= twice[0] <= twice[2]
    # Constant series (the same return on every seed) give a zero-width interval at the value.
    for value in (0.1, 1 / 3, 0.7, -2.5e6):
        for size in (2, 3, 6, 7):
            clusters = [i // 2 for i in range(size)]
            for grouped in (None, clusters if len(set(clusters)) > 1 else None):
                result = bootstrap_ci([value] * size, np.random.default_rng(0), clusters=grouped)
                assert result == (value, value, value, size)
    rng = np.random.default_rng(5)
    for _ in range(200):
        values = list(rng.choice([0.1, 0.2, 0.30000000000000004], size=int(rng.integers(2, 9))))
        mean, low, high, _ = bootstrap_ci(values, rng, resamples=50)
        assert low <= mean <= high


def test_report_of_a_one_seed_tournament(tmp_path: Path) -> None:
    """Issue 10, item 1: `seeds: 1` crashed the report ("'xerr' must not contain negative
    values") and left no report.md; now its intervals are n/a and every plot is written."""
    db = tmp_path / "one.sqlite"
    run_tournament(plan_tournament(_config(seeds=1)), db, workers=0, progress=False)
    out = tmp_path / "report"
    assert main(["report", str(db), "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "| n/a |" in text  # the mean return's 95% CI
    for png in ("ratings", "returns", "cohesion_by_usa"):
        assert (out / f"{png}.png").stat().st_size > 1000
    rows = json.loads((out / "tables.json").read_text())["roles"]["usa"]
    assert all(r["return_low"] is None and r["mean_return"] is not None for r in rows)


def test_report_writes_markdown_plots_and_tables(tmp_path: Path, capsys) -> None:
    config = _config()
    db = tmp_path / "r.sqlite"
    run_tournament(plan_tournament(config), db, workers=0, progress=False)
    out = tmp_path / "report"
    assert main(["report", str(db), "--out", str(out)]) == 0
    assert "report.md" in capsys.readouterr().out
    text = (out / "report.md").read_text()
    for heading in (
        "## Ratings",
        "## Cross-play: member policy x usa policy",
        "## Cohesion by US doctrine",
        "## Meta-game ranking",
        "## Provenance",
    ):
        assert heading in text
    stored = read_tournament(db)
    assert stored.scenario_hash[:16] in text and stored.code_version in text
    for png in ("ratings", "returns", "crossplay_member_usa", "cohesion_by_usa", "alpharank"):
        assert (out / f"{png}.png").stat().st_size > 1000
        assert f"({png}.png)" in text
    tables = json.loads((out / "tables.json").read_text())
    assert tables == analyse(stored)
    masses = [row["alpharank_mass"] for row in tables["roles"]["usa"]]
    assert sum(masses) == pytest.approx(1.0)
    cross = tables["crossplay"][0]
    assert (cross["rows"], cross["columns"]) == ("member", "usa")
    assert cross["metrics"]["contributors"][1] == [0.0, 0.0]  # free riders contribute nothing
    assert {row["policy"] for row in tables["cohesion_by_usa"]} == {
        "usa/disengaged",
        "usa/transactional(europe_share=0.5)",
    }


def test_sampled_tournament_ranks_the_played_profiles(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    plan = plan_tournament(_config(schedule={"sample": 6, "seed": 0}, seeds=1))
    run_tournament(plan, db, workers=0, progress=False)
    tables = analyse(read_tournament(db))
    ranked = tables["alpharank"]
    assert (ranked["profiles"], ranked["played"], ranked["complete"]) == (8, 6, False)
    assert ranked["ranked"] <= 6 and sum(p["mass"] for p in ranked["top_profiles"]) == (
        pytest.approx(1.0)
    )
    assert "replicator dynamics need every one" in tables["empirical"]["replicator_skipped"]
    out = tmp_path / "report"
    assert main(["report", str(db), "--out", str(out), "--no-plots"]) == 0
    assert "6 of 8 profiles played (a sampled" in (out / "report.md").read_text()


def test_mixed_coalition_report_rates_member_doctrines(tmp_path: Path) -> None:
    config = _config(
        population={**SMALL["population"], "member": ["leader", "free-rider", "home-defender"]},
        coalition={"uniform": True, "drawn": 4, "seed": 2},
    )
    db = tmp_path / "m.sqlite"
    run_tournament(plan_tournament(config), db, workers=0, progress=False)
    tables = analyse(read_tournament(db))
    block = tables["member_doctrines"]
    # 4 drawn mixes x 2 US x 2 Russia x 2 seeds: drawn mixes differ from the uniform ones, so
    # each of them mixes two doctrines or three
    assert block["contests"] == 4 * 2 * 2 * 2
    assert {r["policy"] for r in block["rows"]} == {
        "member/leader", "member/free-rider", "member/home-defender"
    }  # fmt: skip
    assert sum(r["seats"] for r in block["rows"]) == 7 * 8 * 3  # 7 mixes x 8 x 3 seats
    assert block["game"]["players"] == 3 and block["game"]["hpt_possible_rows"] == 10
    # Other match keys (as another code version gives): the same table.
    import dataclasses

    from reassurance.evaluation.analysis import member_doctrines

    stored = read_tournament(db)
    moved = [{**m, "key": m["key"][::-1]} for m in stored.matches]
    again = member_doctrines(dataclasses.replace(stored, matches=moved), 0, 200, 10.0, 50)
    assert json.loads(json.dumps(again)) == json.loads(json.dumps(block))
    out = tmp_path / "report"
    assert main(["report", str(db), "--out", str(out), "--no-plots"]) == 0
    text = (out / "report.md").read_text()
    assert "## Member doctrines beside each other" in text and "`mix-1` (drawn)" in text


def test_coalition_mixes_are_validated() -> None:
    def plan_error(coalition: dict) -> str:
        with pytest.raises(ValueError) as info:
            plan_tournament(_config(coalition=coalition))
        return str(info.value)

    assert "no mix" in _error({**SMALL, "coalition": {"uniform": False}})
    assert "unknown member seats ['poland']" in plan_error(
        {"named": {"x": {"poland": "leader", "others": "leader"}}}
    )
    assert "seat 'france' has no policy" in plan_error({"named": {"x": {"uk": "leader"}}})
    message = plan_error({"named": {"x": {"others": "hawk"}}})
    assert "'hawk' is not in population.member" in message and "member/leader" in message
    assert "only 6 distinct mixes" in plan_error({"drawn": 7})  # 2 ** 3 - 2 uniform ones
    plan = plan_tournament(_config(coalition={"uniform": False, "drawn": 6, "seed": 0}))
    mixes = {tuple(m.seats.values()) for m in plan.mixes}
    assert len(mixes) == 6 and len(plan.matches) == 6 * 2 * 2 * 2
    assert plan.strategies("member") == [f"mix-{i}" for i in range(1, 7)]


def test_a_database_of_the_old_schema_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    import sqlite3

    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE tournaments (name TEXT, env_version TEXT)")
        conn.execute("PRAGMA user_version = 1")
    assert main(["report", str(old), "--out", str(tmp_path / "r"), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schema 1, written by an older reassurance" in err
    assert main(["tournament", "classroom-heuristics", "--db", str(old)]) == 2
    assert "play the tournament again into a new --db" in capsys.readouterr().err


def test_batch_size_flag(tmp_path: Path, capsys) -> None:
    from reassurance.evaluation.cli import _BATCH_HELP
    from reassurance.evaluation.tournament import DEFAULT_BATCH, _task_size

    assert f"default: {DEFAULT_BATCH}," in _BATCH_HELP
    with pytest.raises(SystemExit):
        main(["tournament", "classroom-heuristics", "--db", str(tmp_path / "x"), "--batch-size",
              "0"])  # fmt: skip
    assert "0 is below 1" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    # Ray tasks: equal sizes, a multiple of the CPUs, at most the batch size
    assert _task_size(1920, 2, 1024) == 960 and _task_size(2688, 2, 1024) == 672
    assert _task_size(3, 8, 1024) == 1 and _task_size(10_000, 16, 1024) == 625


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["tournament", "atlantis", "--db", str(tmp_path / "x.sqlite")]) == 2
    assert "unknown tournament config 'atlantis'" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "none.sqlite"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    not_a_db = tmp_path / "notes.sqlite"
    not_a_db.write_text("these are notes, not a database\n" * 100)
    assert main(["report", str(not_a_db), "--out", str(tmp_path / "r")]) == 2
    assert "is not a SQLite results database" in capsys.readouterr().err


def test_a_damaged_database_is_refused(tmp_path: Path, capsys) -> None:
    """Issue 10, item 8: with 4 KiB overwritten in the middle of a results database, the
    tournament said its matches were already in and the report exited 0."""
    import sqlite3

    config = tmp_path / "small.yaml"
    config.write_text(json.dumps(SMALL))
    db = tmp_path / "r.sqlite"
    assert main(["tournament", str(config), "--db", str(db), "--workers", "0"]) == 0
    assert main(["report", str(db), "--out", str(tmp_path / "good"), "--no-plots"]) == 0
    capsys.readouterr()
    size = db.stat().st_size
    page = 4096
    assert size >= 6 * page, size
    with db.open("r+b") as f:  # one whole page in the middle, as a bad sector or a stray write
        f.seek(size // 2 // page * page)
        f.write(bytes(np.random.default_rng(0).integers(0, 256, page, dtype=np.uint8)))
    with sqlite3.connect(db) as conn:  # the damage the issue reported, seen by SQLite itself
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as err:
            verdict = [(str(err),)]
    assert verdict != [("ok",)]
    assert main(["tournament", str(config), "--db", str(db), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reassurance: results database {db} is damaged") and err.count("\n") == 1
    assert main(["report", str(db), "--out", str(tmp_path / "bad"), "--no-plots"]) == 2
    assert "is damaged" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "report.md").exists()


def test_checkpoint_policies_play_through_from_checkpoint(tmp_path: Path) -> None:
    run = _trained_run(tmp_path)
    latest = run / "checkpoints" / "iter_000002"
    raw = {
        "name": "learned",
        "population": {
            "member": [{"checkpoint": str(run), "role": "member"}, "member/free-rider"],
            "usa": ["disengaged", "committed-guarantor"],
        },
        "seeds": 2,
    }
    plan = plan_tournament(load_tournament_config(raw)[0])
    db = tmp_path / "learned.sqlite"
    run_report = run_tournament(plan, db, workers=0, progress=False)
    assert run_report.played == 8
    stored = read_tournament(db)
    assert stored.population["member"][0]["checkpoint_hash"] == hash_checkpoint(latest)
    from reassurance.evaluation.store import table_rows

    seats = table_rows(db, "seats", ["agent", "agent_id", "checkpoint_hash"])
    uk = {row for row in seats if row[0] == "uk"}
    assert ("uk", "checkpoint", hash_checkpoint(latest)) in uk
    assert ("uk", "member/free-rider", None) in uk

    # Files changed after planning, before play: a fresh worker refuses them. (A worker that
    # already loaded them keeps the copy it checked, which is the planned one.)
    from reassurance.evaluation import tournament

    stale = plan_tournament(load_tournament_config({**raw, "name": "stale", "seeds": 1})[0])
    (latest / "policies" / "member.pt").write_bytes(b"retrained")
    tournament._CHECKPOINT_CACHE.clear()
    with pytest.raises(ValueError, match="changed since the tournament was planned"):
        run_tournament(stale, tmp_path / "stale.sqlite", workers=0, progress=False)
