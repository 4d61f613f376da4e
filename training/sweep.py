"""Sweeps on Ray Tune: one training run per value of a scenario parameter and per seed.

>>> sweep(settings, "usa.commitment", [0.0, 1.0], seeds=3, out="runs/s")  # doctest: +SKIP

Every trial is an ordinary training run (``training.run.train``) in ``OUT/trials/<name>/``, with
its metrics, TensorBoard scalars and checkpoints; Tune schedules the trials (in parallel, as
resources allow) and keeps its own state in ``OUT/tune/``. When all trials end, ``OUT/summary.csv``
and ``OUT/summary.md`` hold the final figures of each trial, and the mean over seeds per value.

:func:`run_sweeps` runs several sweeps (say, other trained roles or opponents) as one Tune run,
all their trials side by side as resources allow; each sweep keeps its own folder and summary.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ray import tune

from reassurance.envs import load_scenario
from reassurance.envs.metrics import headline
from reassurance.runtime import check_output_folder, cluster_address, embedded_cpus, init_ray
from reassurance.training.config import MAX_SEED, TrainSettings
from reassurance.training.run import train

__all__ = [
    "parse_param",
    "run_sweeps",
    "Sweep",
    "sweep",
    "SUMMARY_COLUMNS",
    "summary_rows",
    "TrialsFailed",
]

SUMMARY_COLUMNS = tuple(f"env/{name}" for name in headline())
"""Env figures of the last iteration in the summary table (besides the trained modules' returns):
the headline figures of :data:`reassurance.envs.metrics.SUMMARY`."""


def parse_param(text: str, scenario: str) -> tuple[str, list[Any]]:
    """``"usa.commitment=0,0.5,1"`` -> ``("usa.commitment", [0, 0.5, 1])``.

    The name is a dotted scenario field (``members.<id>.<field>`` for a member); every value is
    checked against the scenario schema, so a bad name or value fails before any training.
    """
    name, sep, values_text = text.partition("=")
    name = name.strip()
    if not sep or not name or not values_text.strip():
        raise ValueError(
            f"--param {text!r}: expected NAME=V1,V2,... with NAME a scenario field, "
            "e.g. usa.commitment=0,0.5,1"
        )
    values = [yaml.safe_load(v.strip()) for v in values_text.split(",") if v.strip()]
    if len(set(map(json.dumps, values))) != len(values):
        raise ValueError(f"--param {text!r}: values repeat")
    for value in values:
        load_scenario(scenario, overrides={name: value})  # ScenarioError names field and value
    return name, values


def _trial_name(name: str, value: Any, seed: int) -> str:
    return f"{name.split('.')[-1]}={value}_seed={seed}"


def _run_trial(config: dict[str, Any]) -> None:
    """Tune function trainable: one ordinary training run, reporting every iteration."""
    trial = config["trial"]
    settings = TrainSettings.model_validate(trial["settings"])
    run_dir = Path(trial["out"]) / "trials" / trial["trial"]
    resume = (run_dir / "run.json").is_file()
    train(settings, run_dir, resume=resume, echo=lambda line: None, report=tune.report)


class TrialsFailed(RuntimeError):
    """Some trials of a sweep raised; the summary holds the others."""


def summary_rows(
    out: str | Path, name: str, trials: Sequence[str], iterations: int
) -> list[dict[str, Any]]:
    """One row per finished trial among ``trials`` (names under ``OUT/trials``): parameter
    value, seed, returns and env figures of its last iteration. A trial that has not reached
    ``iterations`` is left out, and so are folders of other sweeps in the same directory."""
    rows = []
    for trial in trials:
        run_json = Path(out, "trials", trial, "run.json")
        metrics = run_json.parent / "metrics.jsonl"
        if not run_json.is_file() or not metrics.is_file():
            continue
        run = json.loads(run_json.read_text())
        lines = metrics.read_text().splitlines()
        if not lines:
            continue
        last = json.loads(lines[-1])
        if last["iteration"] < iterations:
            continue
        settings = run["settings"]
        row: dict[str, Any] = {
            "trial": run_json.parent.name,
            name: settings["overrides"].get(name),
            "seed": settings["seed"],
            "iterations": last["iteration"],
        }
        for key, value in last.items():
            if key.startswith("module_return/") and "@" not in key:
                row["return/" + key.split("/", 1)[1]] = value
        for key in SUMMARY_COLUMNS:
            row[key.removeprefix("env/")] = last.get(key, math.nan)
        rows.append(row)
    return rows


def _by_value(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    out = []
    values = list(dict.fromkeys(json.dumps(r[name]) for r in rows))
    for text in values:
        group = [r for r in rows if json.dumps(r[name]) == text]
        merged: dict[str, Any] = {name: group[0][name], "seeds": len(group)}
        for key in group[0]:
            if key in (name, "trial", "seed", "iterations"):
                continue
            numbers = [float(r[key]) for r in group if not math.isnan(float(r[key]))]
            merged[key] = statistics.fmean(numbers) if numbers else math.nan
        out.append(merged)
    return out


def _markdown(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no finished trials)\n"
    columns = list(dict.fromkeys(k for r in rows for k in r))

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "n/a" if math.isnan(value) else f"{value:,.3f}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Sweep:
    """One sweep: ``settings`` trained once per value of the scenario field ``name`` and per
    seed (``settings.seed`` and the next ``seeds - 1``), the trials in ``OUT/trials/``."""

    settings: TrainSettings
    name: str
    values: Sequence[Any]
    seeds: int
    out: Path

    def trials(self) -> list[tuple[str, dict[str, Any]]]:
        """``(trial name, Tune config)`` of every trial, values first, then seeds."""
        combos = [(v, self.settings.seed + k) for v in self.values for k in range(self.seeds)]
        return [
            (
                _trial_name(self.name, value, seed),
                {
                    "settings": self.settings.model_copy(
                        update={
                            "overrides": {**self.settings.overrides, self.name: value},
                            "seed": seed,
                        }
                    ).model_dump(mode="json", by_alias=True),
                    "out": str(self.out),
                    "trial": _trial_name(self.name, value, seed),
                },
            )
            for value, seed in combos
        ]

    def finished(self) -> bool:
        names = [name for name, _ in self.trials()]
        return len(summary_rows(self.out, self.name, names, self.settings.iterations)) == len(names)


def _bundles(settings: TrainSettings) -> list[dict[str, float]]:
    """A trial's placement: its driver (which also learns when num_learners is 0), then its
    learner and env-runner actors. Tune reserves them together so trials never starve each
    other."""
    learner = {
        "CPU": 1,
        **({"GPU": settings.num_gpus_per_learner} if settings.num_gpus_per_learner else {}),
    }
    if settings.num_learners == 0:
        bundles = [learner]
    else:
        bundles = [{"CPU": 1}] + [dict(learner) for _ in range(settings.num_learners)]
    return bundles + [{"CPU": 1} for _ in range(settings.num_env_runners)]


def _check(spec: Sweep, address: str | None) -> Sweep:
    if spec.seeds < 1:
        raise ValueError(f"--seeds {spec.seeds}: need at least 1")
    settings = spec.settings
    last_seed = settings.seed + spec.seeds - 1
    if last_seed + settings.num_env_runners > MAX_SEED:
        raise ValueError(
            f"--seed {settings.seed} with --seeds {spec.seeds}: trials use seeds up to "
            f"{last_seed}, and env runner i of a trial seed + i, which must stay at most {MAX_SEED}"
        )
    per_trial = len(_bundles(settings))
    if cluster_address(address) is None and per_trial > embedded_cpus():
        raise ValueError(
            f"--num-env-runners {settings.num_env_runners}: a trial needs {per_trial} CPUs (its "
            f"driver, {settings.num_learners} remote learners and the env runners); embedded "
            f"Ray has {embedded_cpus():g} here, so no trial could start. Use fewer or join a "
            "cluster (--address)"
        )
    out = check_output_folder(spec.out, "--out").resolve()
    return Sweep(spec.settings, spec.name, list(spec.values), spec.seeds, out)


def run_sweeps(
    sweeps: Sequence[Sweep],
    storage: str | Path,
    *,
    address: str | None = None,
    max_concurrent: int | None = None,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Run several sweeps as one Tune run, their trials side by side as resources allow (on a
    cluster, all at once), Tune's state in ``storage/tune``; return each sweep's ``summary.md``.
    Rerunning resumes unfinished trials; when every trial has finished, neither Ray nor a trial
    starts. Every trial must need the same resources. If trials fail, every summary is still
    written (with the others), then :class:`TrialsFailed` is raised."""
    sweeps = [_check(spec, address) for spec in sweeps]
    if not sweeps:
        raise ValueError("no sweep to run")
    if len({spec.out for spec in sweeps}) < len(sweeps):
        raise ValueError(
            f"sweeps run side by side need a folder each; got {[str(s.out) for s in sweeps]}"
        )
    placements = {json.dumps(_bundles(spec.settings)) for spec in sweeps}
    if len(placements) > 1:
        raise ValueError(
            f"sweeps run side by side need the same resources per trial; got {sorted(placements)}"
        )
    errors: list[str] = []
    if not all(spec.finished() for spec in sweeps):  # else: no Ray, no trial
        init_ray(address)
        storage = check_output_folder(storage, "--out").resolve()
        trials = [config for spec in sweeps for _, config in spec.trials()]
        for spec in sweeps:  # once Ray is up: a refusal leaves no empty folder
            spec.out.mkdir(parents=True, exist_ok=True)
        storage.mkdir(parents=True, exist_ok=True)
        bundles = _bundles(sweeps[0].settings)
        trainable = tune.with_resources(_run_trial, tune.PlacementGroupFactory(bundles))
        what = (
            f"{sweeps[0].name} x {len(sweeps[0].values)} values x {sweeps[0].seeds} seeds"
            if len(sweeps) == 1
            else f"{len(sweeps)} sweeps side by side"
        )
        echo(f"sweep: {len(trials)} trials ({what}) in {storage}")
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search(trials)},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent),
            run_config=tune.RunConfig(name="tune", storage_path=str(storage), verbose=0),
        )
        errors = [str(r.error) for r in tuner.fit() if r.error is not None]
    summaries = [
        _write_summary(spec.settings, spec.name, spec.out, [n for n, _ in spec.trials()], echo)
        for spec in sweeps
    ]
    if errors:
        total = sum(len(spec.trials()) for spec in sweeps)
        raise TrialsFailed(
            f"{len(errors)} of {total} trials failed (the summaries have the others); "
            f"first error: {errors[0]}"
        )
    return summaries


def sweep(
    settings: TrainSettings,
    name: str,
    values: Sequence[Any],
    seeds: int,
    out: str | Path,
    *,
    address: str | None = None,
    max_concurrent: int | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run the sweep; return the path of ``summary.md``. Rerunning resumes unfinished trials."""
    spec = Sweep(settings, name, values, seeds, Path(out))
    (summary,) = run_sweeps([spec], out, address=address, max_concurrent=max_concurrent, echo=echo)
    return summary


def _write_summary(
    settings: TrainSettings,
    name: str,
    out: Path,
    trials: Sequence[str],
    echo: Callable[[str], None] = print,
) -> Path:
    """``summary.csv`` and ``summary.md`` of the finished trials."""
    rows = summary_rows(out, name, trials, settings.iterations)
    with (out / "summary.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    text = (
        f"# Sweep over `{name}` on `{settings.scenario}`\n\n"
        f"{len(rows)} of {len(trials)} trials finished, {settings.iterations} iterations each.\n\n"
        "## Per trial (last iteration)\n\n" + _markdown(rows) + "\n"
        "## Mean over seeds\n\n" + _markdown(_by_value(rows, name))
    )
    summary = out / "summary.md"
    summary.write_text(text)
    echo(text)
    return summary
