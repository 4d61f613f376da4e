"""Calibration to what was observed, and only that.

The targets (:data:`TARGETS`) are what the seed articles and ``shared/design/COUNTRIES.md``
report at the moment each scenario records, at the US stance of that moment
(``brussels-2025-04``: the US absent and its backing doubtful; ``paris-2026-01``: US envoys
present, no promise). The counterfactual, what the coalition would do under another US, is the
model's output and never a target.

Procedure (:func:`calibrate`): the free parameters (:data:`FREE`, the reward weights and model
choices with no real-world source, each over a documented box) are searched by a seeded Latin
hypercube, then a second, narrower hypercube around the best point. Each candidate is scored by
the equilibrium analyser (:mod:`reassurance.evaluation.equilibrium`): in each target scenario,
at its recorded commitment, iterated best response starts from the doctrine profile (the UK and
France lead, the others wait for the US) and the equilibrium it reaches is scored on the
targets; the candidate's score is the mean target score (1 = every target met). So a candidate
scores well when the observed behaviour is (near) an equilibrium of its incentives. The best
candidate's values go into ``configs/scenarios/brussels-2025-04.yaml`` by hand, with the run
that chose them.

Run: ``reassurance calibrate --out results/calibration [--candidates 24] [--workers 2]
[--backend processes]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.envs import load_scenario
from reassurance.envs.actions import Condition, Contribution
from reassurance.evaluation.equilibrium import (
    QUICK_MEMBER_GRID,
    Game,
    MemberStrategy,
    best_response_dynamics,
    doctrine_profile,
    evaluate_profile,
)
from reassurance.runtime import BACKENDS, write_csv

__all__ = ["FREE", "TARGETS", "Observed", "Target", "calibrate", "score", "register"]


@dataclass(frozen=True)
class Observed:
    """What a candidate produced in one scenario: each member's strategy at the equilibrium the
    search reached, and the summary figures there (means over evaluation seeds)."""

    scenario: str
    strategies: dict[str, MemberStrategy]
    figures: dict[str, float]
    home_threat: dict[str, float]


def _leads(strategy: MemberStrategy) -> bool:
    """Sends ground troops without waiting for the US."""
    return (
        strategy.level >= 2
        and strategy.kind == Contribution.GROUND
        and strategy.condition != Condition.IF_US_BACKSTOP
    )


def _ground(strategy: MemberStrategy) -> bool:
    return strategy.level > 0 and strategy.kind == Contribution.GROUND


def _within(value: float, low: float, high: float) -> float:
    """1 inside [low, high], falling linearly to 0 at half the interval's width outside."""
    if math.isnan(value):
        return 0.0
    width = (high - low) / 2.0
    gap = max(low - value, value - high, 0.0)
    return max(0.0, 1.0 - gap / width)


@dataclass(frozen=True)
class Target:
    """One observed fact: where and when it was observed, its source, and how a candidate's
    equilibrium is scored on it (0 .. 1, 1 = met)."""

    name: str
    scenario: str
    source: str
    statement: str
    check: Callable[[Observed], float]


def _share(observed: Observed, members: Sequence[str], ok: Callable[[MemberStrategy], bool]):
    chosen = [m for m in members if m in observed.strategies]
    return sum(ok(observed.strategies[m]) for m in chosen) / max(len(chosen), 1)


def _others(observed: Observed) -> list[str]:
    return [m for m in observed.strategies if m not in ("uk", "france")]


TARGETS: tuple[Target, ...] = (
    Target(
        "leaders", "brussels-2025-04", "seed000, seed002, seed004",
        "The UK and France lead: both are ready to send ground troops, without a US promise.",
        lambda o: _share(o, ["uk", "france"], _leads),
    ),
    Target(
        "others-wait", "brussels-2025-04", "seed000, seed001, seed003",
        "Most other members wait or offer enablers: at most a third send ground troops "
        "without waiting for the US.",
        lambda o: _within(_share(o, _others(o), _leads), 0.0, 1 / 3),
    ),
    Target(
        "home-threat", "brussels-2025-04", "seed001; COUNTRIES.md (borders)",
        "Members under home threat (Poland, the Baltics, Finland, Norway, Greece) send no "
        "ground troops to Ukraine.",
        lambda o: _share(
            o, [m for m, h in o.home_threat.items() if h >= 0.7], lambda s: not _ground(s)
        ),
    ),
    Target(
        "us-essential", "brussels-2025-04", "seed000, seed001, seed003",
        "Finland, Sweden and the Netherlands call a US role essential: none sends ground "
        "troops without it.",
        lambda o: _share(o, ["finland", "sweden", "netherlands"], lambda s: not _leads(s)),
    ),
    Target(
        "force-size", "brussels-2025-04", "seed000, seed004",
        "The force discussed is 10,000 to 30,000 troops.",
        lambda o: _within(o.figures["troops_deployed"], 10_000, 30_000),
    ),
    Target(
        "hard-to-assemble", "brussels-2025-04", "seed000, seed004",
        "Assembling it is hard: the force meets its thresholds in some games, not in most "
        "(between 10% and 80% of them).",
        lambda o: _within(o.figures["threshold_met"], 0.1, 0.8),
    ),
    Target(
        "signed-lead", "paris-2026-01", "seed002",
        "France and the UK, who signed the declaration of intent, send ground troops.",
        lambda o: _share(o, ["uk", "france"], _leads),
    ),
    Target(
        "germany-nato-soil", "paris-2026-01", "seed002",
        "Germany offers forces, on NATO soil only (its troops stay outside Ukraine by the "
        "scenario).",
        lambda o: float(o.strategies["germany"].level > 0),
    ),
)  # fmt: skip
"""The observed facts, by scenario; each scenario is played at its recorded commitment."""


@dataclass(frozen=True)
class Free:
    """A free parameter: a scenario field, its box, and why it has no real-world value."""

    field: str
    low: float
    high: float
    why: str


FREE: tuple[Free, ...] = (
    Free("rewards.member.visible_role", 0.1, 1.0, "weight of the benefit of a visible role"),
    Free("rewards.member.exposure", 0.003, 0.03, "cost of troops exposed without a backstop"),
    Free("rewards.member.deployment_cost", 0.3, 2.0, "weight of the cost of deploying"),
    Free("rewards.member.security", 0.01, 0.15, "weight of the public good (security)"),
    Free("collective_risk.loss", 0.0, 3.0, "loss when the deterrence gap opens"),
    Free("force.parliament_risk", 0.2, 1.0, "how much a mission's risk costs its vote"),
)  # fmt: skip
"""The parameters calibration fits: reward weights and model choices with no source."""


def _observe(scenario: str, overrides: Mapping[str, float], seeds: int, rounds: int) -> Observed:
    sc = load_scenario(scenario, overrides)
    game = Game(scenario=scenario, overrides=dict(overrides), member_grid=QUICK_MEMBER_GRID)
    member_ids = [m.id for m in sc.members]
    leaders = [m.id for m in sc.members if m.leadership >= 0.8]
    start = doctrine_profile(game, member_ids, leaders)
    search = best_response_dynamics(
        game, start, np.arange(seeds, dtype=np.int64), rounds=rounds, label="doctrines"
    )
    figures = evaluate_profile(
        game,
        search.profile,
        np.arange(10_000, 10_000 + seeds, dtype=np.int64),
        member_ids=member_ids,
        resamples=200,
    ).figures
    return Observed(
        scenario=scenario,
        strategies={
            m: game.member_grid[i] for m, i in zip(member_ids, search.profile.members, strict=True)
        },
        figures={k: v[0] for k, v in figures.items()},
        home_threat={m.id: m.home_threat for m in sc.members},
    )


def score(overrides: Mapping[str, float], *, seeds: int = 2, rounds: int = 4) -> dict[str, Any]:
    """Every target's score for one candidate (see the module docs), and their mean."""
    observed = {
        scenario: _observe(scenario, overrides, seeds, rounds)
        for scenario in dict.fromkeys(t.scenario for t in TARGETS)
    }
    scores = {t.name: float(t.check(observed[t.scenario])) for t in TARGETS}
    return {
        "score": float(np.mean(list(scores.values()))),
        **{f"target/{k}": v for k, v in scores.items()},
        **{
            f"{scenario}/{fig}": o.figures[fig]
            for scenario, o in observed.items()
            for fig in ("contributors_ground", "troops_deployed", "threshold_met")
        },
        **{
            f"{scenario}/profile": " ".join(f"{m}={s.label}" for m, s in o.strategies.items())
            for scenario, o in observed.items()
        },
    }


def _hypercube(box: Sequence[tuple[float, float]], n: int, seed: int) -> list[list[float]]:
    from scipy.stats import qmc

    sample = qmc.LatinHypercube(d=len(box), seed=seed).random(n)
    low = np.array([b[0] for b in box])
    high = np.array([b[1] for b in box])
    return (low + sample * (high - low)).tolist()


def calibrate(
    out: str | Path,
    *,
    candidates: int = 24,
    refine: int = 12,
    seed: int = 0,
    seeds: int = 2,
    rounds: int = 4,
    workers: int = 2,
    backend: str = "ray",
    address: str | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run the search (module docs); write ``calibration.csv`` and ``calibration.md`` in
    ``out``; rerunning skips candidates already in the CSV. ``backend``/``workers``/``address``:
    where candidates run (:func:`reassurance.runtime.run_jobs`). Returns the report's path."""
    from reassurance.runtime import run_jobs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "calibration.csv"
    done = {}
    if table.is_file():
        for row in csv.DictReader(table.open()):
            done[row["candidate"]] = row
    started = time.perf_counter()
    rows = list(done.values())

    def run(stage: str, points: list[list[float]]) -> None:
        jobs = {}
        for k, point in enumerate(points):
            name = f"{stage}-{k:03d}"
            if name in done:
                continue
            overrides = {f.field: round(v, 6) for f, v in zip(FREE, point, strict=True)}
            jobs[name] = ((overrides,), {"seeds": seeds, "rounds": rounds})
        for name, result in run_jobs(
            score, jobs, workers=workers, backend=backend, address=address
        ):
            row = {"candidate": name, **jobs[name][0][0], **result}
            rows.append(row)
            write_csv(table, rows)
            echo(f"{name}: score {result['score']:.3f}")

    box = [(f.low, f.high) for f in FREE]
    run("search", _hypercube(box, candidates, seed))
    best = max(rows, key=lambda r: float(r["score"]))
    narrow = []
    for f in FREE:
        centre, half = float(best[f.field]), (f.high - f.low) / 8.0
        narrow.append((max(f.low, centre - half), min(f.high, centre + half)))
    run("refine", _hypercube(narrow, refine, seed + 1))
    _shutdown_ray(backend, workers)
    report = out / "calibration.md"
    report.write_text(_markdown(rows, time.perf_counter() - started))
    return report


def _shutdown_ray(backend: str, workers: int | None) -> None:
    if backend == "ray" and workers != 0:
        import ray

        ray.shutdown()


def _markdown(rows: Sequence[Mapping[str, Any]], wall_s: float) -> str:
    ranked = sorted(rows, key=lambda r: -float(r["score"]))
    best = ranked[0]
    lines = [
        "# Calibration",
        "",
        f"{len(rows)} candidates; the last run took {wall_s:.0f} s.",
        "",
        "## Targets (observed, at the recorded US stance)",
        "",
        "| target | scenario | source | observation | best candidate's score |",
        "|---|---|---|---|---|",
    ]
    for t in TARGETS:
        lines.append(
            f"| {t.name} | {t.scenario} | {t.source} | {t.statement} | "
            f"{float(best[f'target/{t.name}']):.2f} |"
        )
    lines += ["", "## Best candidates", ""]
    head = ["candidate", "score", *(f.field for f in FREE)]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ranked[:8]:
        lines.append("| " + " | ".join(_fmt(r[h]) for h in head) + " |")
    lines += ["", "Best candidate's equilibria:", ""]
    for key in sorted(k for k in best if k.endswith("/profile")):
        lines.append(f"- {key.split('/')[0]}: {best[key]}")
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.3g}"


def _cmd_calibrate(args: argparse.Namespace) -> int:
    report = calibrate(
        args.out,
        candidates=args.candidates,
        refine=args.refine,
        seed=args.seed,
        seeds=args.seeds,
        rounds=args.rounds,
        workers=args.workers,
        backend=args.backend,
        address=args.address,
    )
    print(f"wrote {report}")
    print(json.dumps({f.field: (f.low, f.high) for f in FREE}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` to the ``reassurance`` parser."""
    parser = sub.add_parser(
        "calibrate",
        help="fit the free parameters to what was observed (equilibria at the observed stance)",
        description="Latin-hypercube search of the free parameters, scored on the observed "
        "targets by the equilibrium analyser; resumable.",
    )
    parser.add_argument("--out", default="results/calibration", help="output folder")
    parser.add_argument("--candidates", type=int, default=24, help="first-stage candidates")
    parser.add_argument("--refine", type=int, default=12, help="second-stage candidates")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hypercube")
    parser.add_argument("--seeds", type=int, default=2, help="game seeds per evaluation")
    parser.add_argument("--rounds", type=int, default=4, help="best-response rounds at most")
    parser.add_argument("--workers", type=int, default=2, help="parallel candidates")
    parser.add_argument(
        "--backend", choices=BACKENDS, default="ray", help="Ray (default) or local processes"
    )
    parser.add_argument("--address", help="Ray cluster (default: embedded)")
    parser.set_defaults(func=_cmd_calibrate)
