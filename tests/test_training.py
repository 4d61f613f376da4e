"""Training on RLlib with tiny budgets: train, resume (also after kill -9), load, sweep, league."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from reassurance import agents
from reassurance.agents.checkpoint import list_exports
from reassurance.configs import ConfigError
from reassurance.training.config import LeagueSettings, TrainSettings, load_settings

TINY = {
    "scenario": "classroom",
    "ppo": {"train_batch_size": 128, "minibatch_size": 64, "num_epochs": 1},
    "hidden": [16],
    "checkpoint_every": 1,
}


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return subprocess.run(
        [sys.executable, "-m", "reassurance.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _tensorboard_tags(folder: Path) -> set[str]:
    """Scalar tags in TensorBoard event files (TFRecord framing around Event protos)."""
    import struct

    from tensorboardX.proto import event_pb2

    tags = set()
    for path in folder.rglob("events.out.tfevents.*"):
        data = path.read_bytes()
        offset = 0
        while offset + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12 : offset + 12 + length])
            tags.update(value.tag for value in event.summary.value)
            offset += 12 + length + 4
    return tags


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_config: Path) -> Path:
    """Two iterations, then a new process resumes to iteration 3 (the issue's test)."""
    run = tmp_path_factory.mktemp("runs") / "classroom"
    first = _cli("train", "--config", str(tiny_config), "--iterations", "2", "--out", str(run))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "iter    2/2" in first.stdout
    assert [r["iteration"] for r in _rows(run)] == [1, 2]
    second = _cli("train", "--resume", str(run), "--iterations", "3")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resumed" in second.stdout and "iter    3/3" in second.stdout
    return run


def test_run_json_says_where_and_at_which_commit_the_run_trained(trained_run: Path) -> None:
    import ray
    import torch

    from reassurance.runtime import commit

    record = json.loads((trained_run / "run.json").read_text())
    for made_on in (record["made_on"], record["resumed"][0]["made_on"]):
        assert made_on["commit"] == commit() and made_on["cores"] >= 1 and made_on["cpu"]
        assert (made_on["torch"], made_on["ray"]) == (torch.__version__, ray.__version__)
        assert made_on["numpy"] == np.__version__
    assert [r["from_iteration"] for r in record["resumed"]] == [2]  # the one resume, at 2


def test_resume_continues_to_the_total(trained_run: Path) -> None:
    rows = _rows(trained_run)
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    steps = [r["env_steps"] for r in rows]
    assert steps == sorted(steps) and steps[2] > steps[1], "resumed run restarted its counters"
    checkpoints = sorted(p.name for p in (trained_run / "checkpoints").iterdir())
    assert checkpoints == ["iter_000001", "iter_000002", "iter_000003"]
    header = (trained_run / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("iteration", "module_return/member", "env/troops_deployed"):
        assert column in header
    tags = _tensorboard_tags(trained_run / "tensorboard")
    assert {"module_return/member", "env/troops_deployed"} <= tags
    assert any(t.startswith("rllib/learners/member/") for t in tags), "RLlib's own figures"
    assert all("env/contributors" in r and "learner/member/policy_loss" in r for r in rows)


def test_same_seed_same_metrics(trained_run: Path, tmp_path: Path, tiny_config: Path) -> None:
    again = tmp_path / "again"
    result = _cli("train", "--config", str(tiny_config), "--iterations", "1", "--out", str(again))
    assert result.returncode == 0, result.stderr[-3000:]
    first, repeat = _rows(trained_run)[0], _rows(again)[0]
    timeless = {k: v for k, v in first.items() if not k.startswith("time")}
    assert timeless == {k: v for k, v in repeat.items() if not k.startswith("time")}


def test_rllib_sampler_stays_selectable_repeatable_and_resumes_on_the_fast_one(
    trained_run: Path, tmp_path: Path, tiny_config: Path
) -> None:
    """``--sampler rllib`` (RLlib's MultiAgentEnvRunner, the reference) repeats with the seed,
    reports the figures the fast sampler reports, and its checkpoints resume on the fast one."""
    rows = []
    for name in ("a", "b"):
        args = ["train", "--config", str(tiny_config), "--iterations", "1", "--sampler", "rllib"]
        result = _cli(*args, "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr[-3000:]
        rows.append(
            {k: v for k, v in _rows(tmp_path / name)[0].items() if not k.startswith("time")}
        )
    assert rows[0] == rows[1]
    settings = json.loads((tmp_path / "a" / "run.json").read_text())["settings"]
    assert settings["sampler"] == "rllib"
    fast = _rows(trained_run)[0]
    # Env figures undefined in every episode of an iteration are absent, so compare the others.
    assert {k for k in rows[0] if not k.startswith("env/")} == {
        k for k in fast if not k.startswith("env/") and not k.startswith("time")
    }
    resumed = _cli(
        "train", "--resume", str(tmp_path / "a"), "--iterations", "2", "--sampler", "fast"
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [r["iteration"] for r in _rows(tmp_path / "a")] == [1, 2]
    assert _rows(tmp_path / "a")[1]["env_steps"] == 2 * rows[0]["env_steps"]


def test_finished_run_resumed_again_trains_nothing(trained_run: Path) -> None:
    again = _cli("train", "--resume", str(trained_run), "--iterations", "3")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing to train" in again.stdout
    assert [r["iteration"] for r in _rows(trained_run)] == [1, 2, 3]


def test_from_checkpoint_plays_an_episode(trained_run: Path) -> None:
    policy = agents.from_checkpoint(trained_run, role="member")
    assert policy.export.iteration == 3 and policy.role == "member"
    result = agents.play_match("classroom", {"member": policy}, seed=5)
    assert result.steps > 0 and result.policies["uk"].startswith("member/checkpoint:member@3")
    again = agents.play_match("classroom", {"member": policy}, seed=5)
    assert again.returns == result.returns
    with pytest.raises(ValueError, match="roles"):
        agents.from_checkpoint(trained_run, role="nato")
    with pytest.raises(ValueError, match="no trained module for role 'usa'"):
        agents.from_checkpoint(trained_run, role="usa")
    with pytest.raises(ValueError, match="observation values"):
        agents.play_match("brussels-2025-04", {"member": policy}, seed=0)


def test_checkpoint_policy_samples_each_row_as_generator_choice(trained_run: Path) -> None:
    """With one generator per row, row i's component c is ``g_i.choice(n_c, p=softmax)``, the
    components drawn in order, and each generator is left where those calls leave it (the
    batched sampling must not change any game already played)."""
    import torch

    policy = agents.from_checkpoint(trained_run, role="member")
    export, rng = policy.export, np.random.default_rng(3)
    rows = 257
    obs = rng.random((rows, export.obs_dim)).astype(np.float32)
    masks = rng.random((rows, int(sum(export.nvec)))) < 0.5
    for start in np.concatenate([[0], np.cumsum(export.nvec)[:-1]]):
        masks[:, start] = True  # value 0 of every component stays legal
    streams = [np.random.default_rng([7, i]) for i in range(rows)]
    picked = policy.act_batch(obs, masks, streams)

    with torch.no_grad():
        logits = policy.net.logits(
            torch.as_tensor(obs), torch.as_tensor(masks, dtype=torch.float32)
        )
    logits = logits.numpy().astype(np.float64)
    reference = []
    for i in range(rows):
        g = np.random.default_rng([7, i])
        row = []
        for part in np.split(logits[i], np.cumsum(export.nvec)[:-1]):
            p = np.exp(part - part.max())
            row.append(g.choice(len(part), p=p / p.sum()))
        reference.append(row)
        assert streams[i].random() == g.random(), f"row {i}: stream left elsewhere"
    np.testing.assert_array_equal(picked, np.array(reference, dtype=np.int64))
    assert picked.dtype == np.int64 and picked.shape == (rows, len(export.nvec))
    assert policy.act_batch(obs[:0], masks[:0], []).shape == (0, len(export.nvec))


def test_from_checkpoint_needs_no_ray(trained_run: Path) -> None:
    code = (
        "import sys\n"
        "from reassurance import agents\n"
        f"p = agents.from_checkpoint({str(trained_run)!r}, role='member', greedy=True)\n"
        "r = agents.play_match('classroom', {'member': p}, seed=1)\n"
        "assert r.steps > 0\n"
        "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if 'ray' in m)[:5]\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_resume_refuses_changed_settings_and_missing_runs(trained_run: Path, tmp_path) -> None:
    changed = _cli("train", "--resume", str(trained_run), "--seed", "9")
    assert changed.returncode == 2 and "['seed']" in changed.stderr
    missing = _cli("train", "--resume", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no run.json" in missing.stderr
    taken = _cli("train", "--scenario", "classroom", "--out", str(trained_run))
    assert taken.returncode == 2 and "--resume" in taken.stderr
    unknown = _cli("train", "--scenario", "atlantis", "--out", str(tmp_path / "atlantis"))
    assert unknown.returncode == 2 and "unknown scenario 'atlantis'" in unknown.stderr
    assert not (tmp_path / "atlantis").exists()


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the GPU message on a machine without"
)
def test_resource_requests_beyond_the_machine_are_one_clear_line(
    tmp_path: Path, tiny_config: Path
) -> None:
    args = ["train", "--config", str(tiny_config), "--num-gpus-per-learner", "1"]
    result = _cli(*args, "--out", str(tmp_path / "gpu"))
    assert result.returncode == 2
    assert "--num-gpus-per-learner 1.0: embedded Ray has 0 GPUs" in result.stderr
    assert "Traceback" not in result.stderr
    args = ["train", "--config", str(tiny_config), "--num-env-runners", "4096"]
    result = _cli(*args, "--out", str(tmp_path / "cpu"))
    assert result.returncode == 2 and "needs 4096 CPUs" in result.stderr
    assert not list(tmp_path.iterdir()), "a refused run left its folder behind"


def test_bad_flags_are_refused_before_ray_starts_and_leave_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Issue 10, item 9: `train --seed -3`, `--num-env-runners 99` and `--num-gpus-per-learner
    1` were refused only once Ray had started (10 to 15 s), leaving empty runs/train-* folders."""
    import ray

    from reassurance import runtime
    from reassurance.cli import main

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started before the flags were checked")

    monkeypatch.setattr(runtime, "init_ray", no_ray)
    monkeypatch.setattr(runtime, "embedded_cpus", lambda: 2.0)  # a 2-CPU machine
    monkeypatch.chdir(tmp_path)  # the default run folder is runs/train-SCENARIO-TIME
    for flags, message in (
        (["--seed", "-3"], "--seed: Input should be greater than or equal to 0 (got -3)"),
        (["--seed", str(2**32 - 1), "--num-env-runners", "1"], "must stay at most 4294967295"),
        (["--num-env-runners", "3"], "--num-env-runners 3 with 0 remote learners needs 3 CPUs"),
        (["--num-gpus-per-learner", "64"], "--num-gpus-per-learner 64.0: embedded Ray has"),
    ):
        assert main(["train", "--scenario", "classroom", *flags]) == 2, flags
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (flags, err)
    sweep = ["sweep", "--scenario", "classroom", "--param", "usa.commitment=0,1"]
    assert main([*sweep, "--num-env-runners", "2"]) == 2  # 3 CPUs a trial, with its driver
    assert "a trial needs 3 CPUs" in capsys.readouterr().err
    assert main([*sweep, "--seed", str(2**32 - 1), "--seeds", "2"]) == 2
    assert "trials use seeds up to 4294967296" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()

    # On a cluster, what it has is known only once joined: refused then, still with no folder.
    monkeypatch.setattr(runtime, "init_ray", lambda address=None, **kw: {"address": address})
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 64.0})
    run = tmp_path / "run"
    flags = ["--address", "10.1.2.3:6379", "--num-gpus-per-learner", "2", "--out", str(run)]
    assert main(["train", "--scenario", "classroom", *flags]) == 2
    assert "--num-gpus-per-learner 2.0: the Ray cluster has 0 GPUs" in capsys.readouterr().err
    assert not run.exists()


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path: Path, tiny_config: Path) -> None:
    run = tmp_path / "killed"
    args = ["train", "--config", str(tiny_config), "--iterations", "500", "--out", str(run)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "reassurance.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (run / "checkpoints" / "iter_000002").is_dir():
            assert proc.poll() is None, "training exited early"
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = max(r["iteration"] for r in _rows(run))
    resumed = _cli("train", "--resume", str(run), "--iterations", str(done + 1))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    iterations = [r["iteration"] for r in _rows(run)]
    assert iterations == list(range(1, done + 2)), "rows lost or repeated after kill -9"
    assert not list((run / "checkpoints").glob("*.partial"))


def test_sweep_writes_a_summary_table(tmp_path: Path, tiny_config: Path, monkeypatch) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "--config", str(tiny_config), "--iterations", "1", "--seeds", "1"]
    result = _cli(*args, "--param", "usa.commitment=0,1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    table = (out / "summary.csv").read_text().splitlines()
    assert len(table) == 3  # header + one row per trial
    assert "usa.commitment" in table[0] and "return/member" in table[0]
    assert "2 of 2 trials finished" in (out / "summary.md").read_text()
    for value in ("0", "1"):
        trial = out / "trials" / f"commitment={value}_seed=0"
        assert json.loads((trial / "run.json").read_text())["settings"]["overrides"] == {
            "usa.commitment": int(value)
        }
        assert agents.from_checkpoint(trial, role="member").export.iteration == 1
    # Rerun into the same directory: every trial is finished, so nothing trains again.
    summary = (out / "summary.csv").read_text()
    again = _cli(*args, "--param", "usa.commitment=0,1", "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "summary.csv").read_text() == summary
    for value in ("0", "1"):
        rows = _rows(out / "trials" / f"commitment={value}_seed=0")
        assert [r["iteration"] for r in rows] == [1]
    # ... and does not even start Ray (the experiment reruns finished groups this way)
    from reassurance.training import sweep as sweep_module
    from reassurance.training.config import load_settings

    def no_ray(*args, **kwargs):
        raise AssertionError("a sweep whose trials all finished started Ray")

    monkeypatch.setattr(sweep_module, "init_ray", no_ray)
    settings = load_settings(tiny_config, iterations=1)
    sweep_module.sweep(settings, "usa.commitment", [0, 1], 1, out, echo=lambda line: None)
    assert (out / "summary.csv").read_text() == summary


def test_sweeps_run_side_by_side_in_one_tune_run(tmp_path: Path, tiny_config: Path) -> None:
    """Two sweeps training other roles, as the experiment's groups: one Tune run holding both
    trials (which Tune starts together when CPUs allow), each sweep in its own folder with its
    own summary."""
    code = (
        "from pathlib import Path\n"
        "from reassurance.training.config import load_settings\n"
        "from reassurance.training.sweep import Sweep, run_sweeps\n"
        f"tiny, out = {str(tiny_config)!r}, Path({str(tmp_path)!r})\n"
        "a = Sweep(load_settings(tiny, iterations=1), 'usa.commitment', [0], 1, out / 'a')\n"
        "both = load_settings(tiny, iterations=1, train=['member', 'russia'])\n"
        "b = Sweep(both, 'usa.commitment', [1], 1, out / 'b')\n"
        "print(run_sweeps([a, b], out, echo=lambda line: None))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "tune").is_dir() and not (tmp_path / "a" / "tune").exists()
    a, b = (
        tmp_path / "a" / "trials" / "commitment=0_seed=0",
        tmp_path / "b" / "trials" / "commitment=1_seed=0",
    )
    assert agents.from_checkpoint(a, role="member").export.iteration == 1
    assert agents.from_checkpoint(b, role="russia").export.iteration == 1
    with pytest.raises(ValueError, match="no trained module for role 'russia'"):
        agents.from_checkpoint(a, role="russia")
    for sweep_dir in ("a", "b"):
        assert "1 of 1 trials finished" in (tmp_path / sweep_dir / "summary.md").read_text()
    # one Tune experiment with both trials (not two runs one after the other)
    trials = sorted(d.name for d in (tmp_path / "tune").iterdir() if d.name.startswith("_run_"))
    assert len(trials) == 2 and len({name.split("_")[3] for name in trials}) == 1, trials
    assert "train_member_opponents" in trials[0] and "train_member_russia" in trials[1], trials


def test_sweeps_side_by_side_refuse_shared_folders_and_mixed_resources(
    tmp_path: Path, tiny_config: Path, monkeypatch
) -> None:
    from reassurance.training import sweep as sweep_module

    def no_ray(*args, **kwargs):
        raise AssertionError("a refused run started Ray")

    monkeypatch.setattr(sweep_module, "init_ray", no_ray)
    Sweep = sweep_module.Sweep
    one = load_settings(tiny_config, iterations=1)
    two = load_settings(tiny_config, iterations=1, num_env_runners=1)
    same = [Sweep(one, "usa.commitment", [0], 1, tmp_path / "a")] * 2
    with pytest.raises(ValueError, match="need a folder each"):
        sweep_module.run_sweeps(same, tmp_path)
    mixed = [Sweep(one, "usa.commitment", [0], 1, tmp_path / "a"),
             Sweep(two, "usa.commitment", [0], 1, tmp_path / "b")]  # fmt: skip
    with pytest.raises(ValueError, match="same resources per trial"):
        sweep_module.run_sweeps(mixed, tmp_path)
    with pytest.raises(ValueError, match="no sweep to run"):
        sweep_module.run_sweeps([], tmp_path)
    assert not (tmp_path / "a").exists() and not (tmp_path / "tune").exists()


def test_sweep_rejects_unknown_parameters_before_training(tiny_config: Path) -> None:
    bad = _cli("sweep", "--config", str(tiny_config), "--param", "usa.committed_prio=0,1")
    assert bad.returncode == 2 and "committed_prio" in bad.stderr
    value = _cli("sweep", "--config", str(tiny_config), "--param", "usa.commitment=0,7")
    assert value.returncode == 2 and "commitment" in value.stderr
    shape = _cli("sweep", "--config", str(tiny_config), "--param", "usa.commitment")
    assert shape.returncode == 2 and "NAME=V1,V2" in shape.stderr


def test_unfinished_checkpoint_folders_are_never_the_latest(trained_run: Path, tmp_path) -> None:
    import shutil

    from reassurance.agents.checkpoint import find_checkpoint, run_checkpoints
    from reassurance.training.run import latest_checkpoint

    run = tmp_path / "copy"
    shutil.copytree(trained_run, run)
    # A kill during a save leaves iter_NNNNNN.partial, index included.
    shutil.copytree(
        run / "checkpoints" / "iter_000003", run / "checkpoints" / "iter_000004.partial"
    )
    assert latest_checkpoint(run).name == "iter_000003"
    assert find_checkpoint(run).name == "iter_000003"
    assert [p.name for p in run_checkpoints(run)] == ["iter_000001", "iter_000002", "iter_000003"]


def test_a_truncated_metrics_line_is_dropped_on_resume(tmp_path: Path) -> None:
    from reassurance.training.run import _Metrics

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"iteration": 1, "x": 1}\n{"iteration": 2, "x"')
    metrics = _Metrics(run, keep_until=1)
    metrics.write({"iteration": 2, "x": 2.0})
    metrics.close()
    assert [r["iteration"] for r in _rows(run)] == [1, 2]
    assert (run / "metrics.csv").read_text().splitlines() == ["iteration,x", "1,1", "2,2.0"]


def test_checkpoint_opponent_of_another_scenario_is_refused(trained_run: Path) -> None:
    from reassurance.training.algorithm import build_algo_config

    settings = load_settings(
        None,
        scenario="brussels-2025-04",
        train=["russia"],
        opponents={"member": {"checkpoint": str(trained_run)}},
    )
    with pytest.raises(ValueError, match="trained on 'classroom' with 86 observation values"):
        build_algo_config(settings)


def test_env_registers_under_its_name() -> None:
    from ray.tune.registry import ENV_CREATOR, _global_registry

    from reassurance.training.rllib_env import ENV_NAME, register

    assert register() == ENV_NAME == "reassurance-coalition-v0"
    env = _global_registry.get(ENV_CREATOR, ENV_NAME)({"scenario": "classroom"})
    assert env.possible_agents[0] == "usa"


def test_overrides_merge_into_nested_sections() -> None:
    settings = load_settings("classroom-members", ppo={"train_batch_size": 512})
    assert settings.ppo.train_batch_size == 512
    assert settings.ppo.lr == 0.001 and settings.ppo.num_epochs == 6  # kept from the file


def test_settings_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ppo.lrr"):
        load_settings(None, ppo={"lrr": 1})
    with pytest.raises(ValueError, match="usa/words-onli"):
        load_settings(None, opponents={"usa": "usa/words-onli"})
    with pytest.raises(ValueError, match="another role"):
        load_settings(None, opponents={"usa": "russia/hawk"})
    with pytest.raises(ValueError, match="both trained and fixed"):
        load_settings(None, train=["member", "usa"], opponents={"usa": "usa/words-only"})
    with pytest.raises(ValueError, match="mapping"):
        load_settings(None, mapping="per-country")
    with pytest.raises(ConfigError, match="unknown training config 'nope'; available: .*ppo"):
        load_settings("nope")
    with pytest.raises(ValueError, match=r"hidden.0.*\(got -3\)"):
        load_settings(None, hidden=[-3])
    with pytest.raises(ValueError, match="minibatch_size 512 is larger than train_batch_size 256"):
        load_settings(None, ppo={"train_batch_size": 256, "minibatch_size": 512})
    cycle = tmp_path / "a.yaml"
    cycle.write_text("base: a.yaml\n")
    with pytest.raises(ValueError, match="cycle"):
        load_settings(cycle)
    assert load_settings("ppo").scenario == "brussels-2025-04"


def test_training_configs_point_to_files_that_exist() -> None:
    """Issue 10, item 12: ppo.yaml said its keys were documented in a file that does not exist
    (reassurance/training/config.py; the source is training/config.py)."""
    import re

    from reassurance import configs

    root = Path(__file__).resolve().parents[1]
    named = []
    for name in configs.shipped("training"):
        text = configs.shipped_file("training", name).read_text()
        comments = " ".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
        named += [(name, path) for path in re.findall(r"[\w./-]+/[\w.-]+\.(?:py|md)", comments)]
    assert ("ppo", "training/config.py") in named
    missing = [(name, path) for name, path in named if not (root / path).is_file()]
    assert not missing, f"training configs name files that do not exist: {missing}"


def test_league_mapping_keeps_a_live_seat_and_repeats_with_the_seed() -> None:
    from reassurance.training.algorithm import LeagueMapping

    settings = TrainSettings(
        scenario="classroom",
        train=("member", "russia"),
        league=LeagueSettings(enabled=True, pool_size=2, opponent_prob=1.0),
    )
    roles = {"usa": "usa", "uk": "member", "france": "member", "germany": "member",
             "ukraine": "ukraine", "russia": "russia"}  # fmt: skip

    class Episode:
        def __init__(self, i: int):
            self.id_ = f"episode-{i}"

    def assignments(mapping: LeagueMapping) -> list[dict[str, str]]:
        return [{a: mapping(a, Episode(i)) for a in roles} for i in range(50)]

    first = assignments(LeagueMapping(settings, roles))
    assert first == assignments(LeagueMapping(settings, roles))
    for episode in first:
        assert episode["usa"] == "usa@fixed" and episode["ukraine"] == "ukraine@fixed"
        live = [m for a, m in episode.items() if m in ("member", "russia")]
        assert len(live) == 1, episode  # opponent_prob 1: all but one seat are snapshots
        assert all(
            m.split("@pool")[0] in ("member", "russia") for m in episode.values() if "@pool" in m
        )


def test_league_and_checkpoint_opponents_train(trained_run: Path, tmp_path: Path) -> None:
    """Russia learns against members frozen from a checkpoint, with a league of its snapshots;
    per-agent modules for Ukraine."""
    from reassurance.training.run import train

    settings = TrainSettings.model_validate(
        {
            **TINY,
            "mapping": "per-agent",
            "train": ["russia", "ukraine"],
            "opponents": {"member": {"checkpoint": str(trained_run)}},
            "league": {"enabled": True, "snapshot_every": 1, "pool_size": 2, "opponent_prob": 0.5},
            "iterations": 2,
        }
    )
    lines: list[str] = []
    final = train(settings, tmp_path / "league", echo=lines.append)
    rows = _rows(tmp_path / "league")
    assert [r.get("league_snapshots") for r in rows] == [1, 2]
    assert any(k.startswith("module_return/russia@pool") for r in rows for k in r)
    assert "module_return/member@fixed" in rows[-1]
    exports = {e.role: e for e in list_exports(final).values()}
    assert set(exports) == {"russia", "ukraine"} and exports["russia"].module_id == "russia"
    policy = agents.from_checkpoint(final, role="russia")
    result = agents.play_match("classroom", {"russia": policy}, seed=0)
    assert np.isfinite(result.returns["russia"])
