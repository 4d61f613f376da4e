"""A training run: iterate PPO, log metrics, checkpoint, resume.

A run directory holds::

    run.json              settings, start time, commit, machine and library versions
                          (and, per resume, when, from which iteration and where)
    metrics.jsonl         one JSON object per iteration (every figure below)
    metrics.csv           the same, as a table
    tensorboard/          the same, plus every number of RLlib's result (rllib/...), for TensorBoard
    checkpoints/iter_000010/   RLlib checkpoint + policies/ (exports for agents.from_checkpoint)

``resume=True`` restores the latest checkpoint of the directory and trains on to
``settings.iterations`` in total; metrics rows after that checkpoint (from the interrupted
part) are dropped and written again.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from reassurance.agents.checkpoint import run_checkpoints, write_export
from reassurance.agents.networks import MaskedActorCritic
from reassurance.agents.registry import role_of
from reassurance.runtime import __version__, check_output_folder, machine
from reassurance.training.config import TrainSettings

__all__ = ["train", "latest_checkpoint", "flatten_result", "rllib_scalars", "RESUMABLE_CHANGES"]

RESUMABLE_CHANGES = frozenset(
    {"iterations", "checkpoint_every", "num_env_runners", "num_envs_per_env_runner",
     "num_learners", "num_gpus_per_learner", "torch_threads", "sampler", "games_per_env_runner"}
)  # fmt: skip
"""Settings a resumed run may change; anything else must match the run's ``run.json``."""


def quiet_rllib() -> None:
    """Keep RLlib's notices (new API stack, deprecations inside RLlib, gputil) off the terminal,
    so the progress lines stay readable; errors still show. ``REASSURANCE_DEBUG=1`` keeps all."""
    if os.environ.get("REASSURANCE_DEBUG") == "1":
        return
    for name in ("ray.rllib", "ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.ERROR)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest finished checkpoint of a run directory, or ``None``."""
    found = run_checkpoints(run_dir)
    return found[-1] if found else None


def flatten_result(result: dict[str, Any]) -> dict[str, float]:
    """The figures of one RLlib result worth a column: progress, returns, env metrics, losses."""
    runners = result.get("env_runners", {})
    row: dict[str, float] = {
        "iteration": int(result["training_iteration"]),
        "time_iter_s": float(result.get("time_this_iter_s", math.nan)),
        "time_total_s": float(result.get("time_total_s", math.nan)),
        "env_steps": int(result.get("num_env_steps_sampled_lifetime", 0)),
        "episodes": int(runners.get("num_episodes_lifetime", 0)),
        "episode_return_mean": float(runners.get("episode_return_mean", math.nan)),
    }
    for module, value in sorted(runners.get("module_episode_returns_mean", {}).items()):
        row[f"module_return/{module}"] = float(value)
    for agent, value in sorted(runners.get("agent_episode_returns_mean", {}).items()):
        row[f"agent_return/{agent}"] = float(value)
    for key, value in sorted(runners.get("reassurance", {}).items()):
        row[f"env/{key}"] = float(value)
    for module, stats in sorted(result.get("learners", {}).items()):
        if module == "__all_modules__" or not isinstance(stats, dict):
            continue
        for key in ("policy_loss", "vf_loss", "entropy", "mean_kl_loss", "vf_explained_var"):
            if key in stats:
                row[f"learner/{module}/{key}"] = float(stats[key])
    if "league_snapshots" in result:
        row["league_snapshots"] = int(result["league_snapshots"])
    return row


def rllib_scalars(result: dict[str, Any], prefix: str = "rllib") -> dict[str, float]:
    """Every finite number in an RLlib result, as ``rllib/<path>`` (for TensorBoard)."""
    out: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}/{key}"
        if isinstance(value, dict):
            out.update(rllib_scalars(value, name))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float) and math.isfinite(float(value)):
            out[name] = float(value)
        elif hasattr(value, "item") and getattr(value, "size", 0) == 1:  # numpy and torch scalars
            number = float(value.item())
            if math.isfinite(number):
                out[name] = number
    return out


class _Metrics:
    """Appends iteration rows to metrics.jsonl, metrics.csv and TensorBoard."""

    def __init__(self, run_dir: Path, keep_until: int | None):
        self.jsonl = run_dir / "metrics.jsonl"
        self.csv = run_dir / "metrics.csv"
        self.rows: list[dict[str, Any]] = []
        if keep_until is not None and self.jsonl.exists():
            self.rows = [r for r in _read_rows(self.jsonl) if r["iteration"] <= keep_until]
        # Rewritten whole and swapped in, so a kill now loses nothing already checkpointed.
        partial = self.jsonl.with_suffix(".jsonl.partial")
        partial.write_text("".join(json.dumps(r) + "\n" for r in self.rows))
        os.replace(partial, self.jsonl)
        self._write_csv()
        from tensorboardX import SummaryWriter

        self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=(keep_until or 0) + 1)

    def write(self, row: dict[str, Any], extra: dict[str, float] | None = None) -> None:
        """Append ``row`` to every output; ``extra`` scalars go to TensorBoard only."""
        self.rows.append(row)
        with self.jsonl.open("a") as f:
            f.write(json.dumps(row) + "\n")
        self._write_csv()
        for key, value in row.items():
            if key != "iteration" and isinstance(value, int | float) and math.isfinite(value):
                self.tb.add_scalar(key, value, row["iteration"])
        for key, value in (extra or {}).items():
            self.tb.add_scalar(key, value, row["iteration"])
        self.tb.flush()

    def _write_csv(self) -> None:
        columns = list(dict.fromkeys(k for r in self.rows for k in r)) or ["iteration"]
        partial = self.csv.with_suffix(".csv.partial")
        with partial.open("w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(partial, self.csv)

    def close(self) -> None:
        self.tb.close()


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a metrics.jsonl; a last line cut short by a kill is dropped."""
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def progress_line(row: dict[str, Any], total: int) -> str:
    """One terminal line per iteration."""
    parts = [f"iter {row['iteration']:>4}/{total}", f"steps {row['env_steps']:>8,}"]
    returns = [(k.split("/", 1)[1], v) for k, v in row.items() if k.startswith("module_return/")]
    trained = [(m, v) for m, v in returns if "@" not in m]
    parts += [f"R[{m}] {v:+7.2f}" for m, v in trained]
    for key, label in (("troops_deployed", "troops"), ("contributors", "contrib"),
                       ("mean_escalation", "escal")):  # fmt: skip
        value = row.get(f"env/{key}")
        if value is not None:
            parts.append(f"{label} {value:,.1f}")
    parts.append(f"{row['time_iter_s']:.1f}s")
    return "  ".join(parts)


def _save(algo: Any, settings: TrainSettings, run_dir: Path, iteration: int) -> Path:
    """Write checkpoint ``iter_<n>`` atomically: into a temporary folder, then renamed."""
    final = run_dir / "checkpoints" / f"iter_{iteration:06d}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    algo.save_to_path(str(partial.resolve()))
    agents = _agents(algo)
    trained = list(algo.config.policies_to_train)
    weights = algo.learner_group.get_weights(module_ids=trained)
    for module in trained:
        spec = algo.config.rl_module_spec.rl_module_specs[module]
        net = MaskedActorCritic(
            spec.observation_space["observations"].shape[0],
            [int(n) for n in spec.action_space.nvec],
            settings.hidden,
        )
        state = {k.removeprefix("net."): torch.as_tensor(v) for k, v in weights[module].items()}
        net.load_state_dict(state)
        played = [a for a, m in agents.items() if m == module]
        write_export(
            partial,
            module,
            net,
            role=role_of(played[0]),
            agents=played,
            scenario=settings.scenario,
            iteration=iteration,
        )
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return final


def _agents(algo: Any) -> dict[str, str]:
    """Agent -> live module of a built algorithm."""
    mapping = algo.config.policy_mapping_fn
    return {agent: mapping.live[agent] for agent in mapping.live}


def _check_resources(
    settings: TrainSettings, *, cpus: float, gpus: float, session: str, embedded: bool
) -> None:
    """Refuse settings a Ray session cannot meet, before RLlib fails on them deep inside or,
    for CPUs, waits forever. ``cpus``/``gpus``: what the session has (``session`` says which, for
    the message). A cluster may add nodes, so CPUs are checked when embedded only."""
    needed_cpus = settings.num_env_runners + settings.num_learners
    if embedded and needed_cpus > cpus:
        raise ValueError(
            f"--num-env-runners {settings.num_env_runners} with {settings.num_learners} remote "
            f"learners needs {needed_cpus} CPUs for its actors; {session} has {cpus:g} "
            "here. Use fewer (0 samples in the driver) or join a cluster (--address)"
        )
    if not settings.num_gpus_per_learner:
        return
    needed = settings.num_gpus_per_learner * max(1, settings.num_learners)
    local = settings.num_learners == 0
    if needed > gpus or (local and not torch.cuda.is_available()):
        raise ValueError(
            f"--num-gpus-per-learner {settings.num_gpus_per_learner}: {session} has "
            f"{gpus:g} GPUs and this process's torch {torch.__version__} "
            f"{'sees' if torch.cuda.is_available() else 'sees no'} CUDA device; install a CUDA "
            "build of torch (README, Quick start) or join a cluster with GPUs (--address)"
        )


def _check_resources_before_ray(settings: TrainSettings, address: str | None) -> None:
    """The resource check of an embedded session, from what this machine has, before Ray starts
    (10 to 15 s saved on a refusal); a cluster, or the session a Tune trial runs in, is checked
    once joined."""
    import ray

    from reassurance.runtime import cluster_address, embedded_cpus

    if not ray.is_initialized() and cluster_address(address) is None:
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        _check_resources(
            settings, cpus=embedded_cpus(), gpus=gpus, session="embedded Ray", embedded=True
        )


def _check_resources_of_session(settings: TrainSettings, *, embedded: bool) -> None:
    import ray

    resources = ray.cluster_resources()
    _check_resources(
        settings,
        cpus=resources.get("CPU", 0),
        gpus=resources.get("GPU", 0),
        session="embedded Ray" if embedded else "the Ray cluster",
        embedded=embedded,
    )


def pin_opponents(settings: TrainSettings) -> TrainSettings:
    """Replace each checkpoint opponent's path by the exact checkpoint folder it stands for (a
    run directory means its latest checkpoint now), so run.json records which one played and a
    resumed run plays the same one."""
    from reassurance.agents.checkpoint import find_checkpoint

    pinned = {
        role: opponent.model_copy(
            update={"checkpoint": str(find_checkpoint(opponent.checkpoint).resolve())}
        )
        if opponent.checkpoint is not None
        else opponent
        for role, opponent in settings.opponents.items()
    }
    return settings.model_copy(update={"opponents": pinned})


def made_on() -> dict[str, Any]:
    """Where this process trains: the commit, CPU and cores (see
    :func:`reassurance.runtime.machine`) and the versions of Python, numpy, torch and Ray."""
    import ray

    return {**machine(), "torch": torch.__version__, "ray": ray.__version__}


def _check_resumable(run_dir: Path, settings: TrainSettings) -> None:
    saved = TrainSettings.model_validate(json.loads((run_dir / "run.json").read_text())["settings"])
    changed = sorted(
        name
        for name in TrainSettings.model_fields
        if name not in RESUMABLE_CHANGES and getattr(saved, name) != getattr(settings, name)
    )
    if changed:
        raise ValueError(
            f"--resume {run_dir}: settings {changed} differ from the run's run.json; a resumed "
            f"run may change only {sorted(RESUMABLE_CHANGES)}"
        )


def train(
    settings: TrainSettings,
    out: str | Path,
    *,
    resume: bool = False,
    address: str | None = None,
    echo: Callable[[str], None] = print,
    report: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Train to ``settings.iterations`` in total; return the final checkpoint folder.

    ``echo`` gets one progress line per iteration; ``report`` (Tune's) gets each metrics row.
    Repeatability: with embedded Ray and sampling in the driver (``num_env_runners: 0``, the
    default), the same settings and seed give the same metrics when ``PYTHONHASHSEED`` is fixed
    (the ``reassurance`` command fixes it to 0), because RLlib orders the agents of a step
    through sets. Remote env runners add timing to the order of samples; a resumed run's league
    draws start again from the seed.
    """
    from reassurance.envs import load_scenario
    from reassurance.runtime import init_ray
    from reassurance.training.algorithm import build_algo_config

    run_dir = check_output_folder(out, "--resume" if resume else "--out")
    start = 0
    checkpoint = None
    if not resume:
        settings = pin_opponents(settings)
    if resume:
        if not (run_dir / "run.json").is_file():
            raise FileNotFoundError(f"--resume {run_dir}: not a training run (no run.json)")
        _check_resumable(run_dir, settings)
        checkpoint = latest_checkpoint(run_dir)
    elif (run_dir / "run.json").exists():
        raise ValueError(
            f"{run_dir} already holds a training run; continue it with --resume {run_dir} or "
            "choose another --out"
        )
    load_scenario(settings.scenario, overrides=settings.overrides)  # bad names fail before Ray
    if checkpoint is not None and int(checkpoint.name.split("_")[1]) >= settings.iterations:
        echo(f"{checkpoint} is at iteration {settings.iterations} or later: nothing to train")
        return checkpoint
    _check_resources_before_ray(settings, address)
    torch.set_num_threads(settings.torch_threads)
    quiet_rllib()
    where = init_ray(address)
    # Made only once Ray is up and has what the run needs: a refusal leaves no empty folder.
    _check_resources_of_session(settings, embedded=where.get("address") == "embedded")
    made = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    for unfinished in run_dir.glob("checkpoints/iter_*.partial"):  # left by a kill during a save
        shutil.rmtree(unfinished, ignore_errors=True)
    try:
        algo = build_algo_config(settings).build_algo()
    except BaseException:
        if made and not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise
    try:
        if checkpoint is not None:
            algo.restore_from_path(str(checkpoint.resolve()))
            start = algo.iteration
            echo(f"resumed {checkpoint} at iteration {start}")
        elif resume:
            echo(f"no checkpoint in {run_dir} yet: starting from iteration 0")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if not resume or checkpoint is None:
            (run_dir / "run.json").write_text(
                json.dumps(
                    {
                        "settings": settings.model_dump(mode="json", by_alias=True),
                        "settings_digest": settings.digest(),
                        "reassurance": __version__,
                        "started": now,
                        "ray": where,
                        "made_on": made_on(),
                    },
                    indent=2,
                )
            )
        else:  # a resumed run may go on at another commit, on another machine: say so
            record = json.loads((run_dir / "run.json").read_text())
            record.setdefault("resumed", []).append(
                {"at": now, "from_iteration": start, "ray": where, "made_on": made_on()}
            )
            (run_dir / "run.json").write_text(json.dumps(record, indent=2))
        metrics = _Metrics(run_dir, keep_until=start if resume else None)
        final = checkpoint
        for iteration in range(start + 1, settings.iterations + 1):
            t0 = time.perf_counter()
            result = algo.train()
            row = flatten_result(result)
            row["time_iter_s"] = time.perf_counter() - t0
            metrics.write(row, extra=rllib_scalars(result))
            echo(progress_line(row, settings.iterations))
            if report is not None:
                report(row)
            if iteration % settings.checkpoint_every == 0 or iteration == settings.iterations:
                final = _save(algo, settings, run_dir, iteration)
        metrics.close()
    finally:
        algo.stop()
    if final is None:
        raise RuntimeError(f"no checkpoint was written in {run_dir}")
    echo(f"checkpoint: {final}")
    return final
