"""Tournament matches per second: one game at a time against the batched match runner.

Run: ``.venv/bin/python benchmarks/tournament_speed.py [--json FILE] [--tournament NAME]``
(about 2 minutes on 2 cores). For classroom and brussels-2025-04 it takes a seeded sample of the
matches of the shipped tournament (``classroom-heuristics``, ``brussels-heuristics``: every
doctrine and the random policies of every role) and plays it both ways the tournament can, in
this process, interleaved in two rounds so that a change in the machine's load hits both alike:

- **per game**: each match alone with ``play_match`` on the PettingZoo env
  (``reassurance tournament --batch-size 1``, the path tournaments took before issue 13);
- **batched**: ``play_matches`` on the batched core in batches of the tournament's default size
  (``reassurance tournament``'s default).

It checks that the matches played both ways gave the same returns, summaries and steps, and
prints matches/s with the ratio ``batched_vs_per_game_matches`` (the lower of the two
scenarios; issue 13's goal: 50). ``--tournament brussels-heuristics`` also times the whole
``reassurance tournament`` command (embedded Ray on this machine's CPUs), and with
``--compare`` plays it again one game at a time and compares every result row. ``--json FILE``
writes every figure and the machine (CPU, cores, Python, numpy, git commit).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.evaluation import load_tournament_config, plan_tournament
from reassurance.evaluation.tournament import DEFAULT_BATCH, play_batch, play_one
from reassurance.runtime import machine

CONFIGS = {"classroom": "classroom-heuristics", "brussels-2025-04": "brussels-heuristics"}
GOAL = 50.0
REPO = Path(__file__).resolve().parent.parent


def _comparable(outcome: Any) -> tuple:
    summary = tuple(
        (k, None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in outcome.summary.items()
    )
    return outcome.key, tuple(sorted(outcome.returns.items())), summary, outcome.steps


def match_rates(scenario: str, per_game: int, batched: int, seed: int = 0) -> dict[str, Any]:
    """Matches/s of both paths on a seeded sample of the scenario's shipped tournament."""
    config, base = load_tournament_config(CONFIGS[scenario])
    plan = plan_tournament(config, base)
    rng = np.random.default_rng(seed)
    sample = [plan.matches[i] for i in rng.permutation(len(plan.matches))[:batched]]
    alone = sample[:per_game]
    play_batch(plan.scenario, sample[:8])  # warm up imports and caches of both paths
    play_one(plan.scenario, sample[0])
    times = {"per_game": 0.0, "batched": 0.0}
    results: dict[str, list[Any]] = {"per_game": [], "batched": []}
    halves = {
        "per_game": [alone[: per_game // 2], alone[per_game // 2 :]],
        "batched": [sample[: batched // 2], sample[batched // 2 :]],
    }
    for round_ in range(2):
        start = time.perf_counter()
        results["per_game"] += [play_one(plan.scenario, s) for s in halves["per_game"][round_]]
        times["per_game"] += time.perf_counter() - start
        start = time.perf_counter()
        chunk = halves["batched"][round_]
        for at in range(0, len(chunk), DEFAULT_BATCH):
            results["batched"] += play_batch(plan.scenario, chunk[at : at + DEFAULT_BATCH])
        times["batched"] += time.perf_counter() - start
    batched_by_key = {o.key: _comparable(o) for o in results["batched"]}
    same = all(batched_by_key[o.key] == _comparable(o) for o in results["per_game"])
    rate_one = len(alone) / times["per_game"]
    rate_batch = len(sample) / times["batched"]
    return {
        "config": CONFIGS[scenario],
        "per_game_matches": len(alone),
        "per_game_s": times["per_game"],
        "per_game_matches_per_s": rate_one,
        "batched_matches": len(sample),
        "batch_size": DEFAULT_BATCH,
        "batched_s": times["batched"],
        "batched_matches_per_s": rate_batch,
        "ratio": rate_batch / rate_one,
        "same_results": same,
    }


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = []
        for table, columns in (
            ("matches", "match_key, assignment, seed, lineup_json, steps, returns_json, "
                        "summary_json"),
            ("seats", "*"),
            ("metrics", "*"),
        ):  # fmt: skip
            rows += conn.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2, 3").fetchall()
        return rows


def whole_tournament(name: str, compare: bool) -> dict[str, Any]:
    """Wall time of ``reassurance tournament NAME`` (and of its one-game path with
    ``compare``, whose result rows must be the same)."""
    out: dict[str, Any] = {"tournament": name}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("batched", [])] + ([("per_game", ["--batch-size", "1"])] if compare else [])
        for label, extra in runs:
            db = Path(tmp) / f"{label}.sqlite"
            command = [sys.executable, "-m", "reassurance.cli", "tournament", name, "--db",
                       str(db), "--no-progress", *extra]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(command, check=True, env=env, capture_output=True)
            out[f"{label}_wall_s"] = time.perf_counter() - start
            out[f"{label}_rows"] = _rows(db) if compare else None
        if compare:
            out["same_rows"] = out.pop("batched_rows") == out.pop("per_game_rows")
        else:
            out.pop("batched_rows")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-game", type=int, default=40, help="matches played one by one")
    parser.add_argument("--batched", type=int, default=1024, help="matches played batched")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--tournament", default=None, help="also time this whole tournament")
    parser.add_argument("--compare", action="store_true", help="and its one-game path's rows")
    args = parser.parse_args()
    begun = time.perf_counter()
    info = machine()  # reassurance.runtime.machine
    print(
        f"machine: {info['cpu']}, {info['cores']} cores; python {info['python']}, numpy "
        f"{info['numpy']}; commit {info['commit']}",
        flush=True,
    )
    scenarios = {sc: match_rates(sc, args.per_game, args.batched) for sc in CONFIGS}
    header = ("scenario", "tournament", "per game", "batched", "batched / per game", "same")
    rows = [
        (
            sc,
            r["config"],
            f"{r['per_game_matches_per_s']:,.1f} matches/s",
            f"{r['batched_matches_per_s']:,.1f} matches/s",
            f"x{r['ratio']:.1f}",
            "yes" if r["same_results"] else "NO",
        )
        for sc, r in scenarios.items()
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    ratio = min(r["ratio"] for r in scenarios.values())
    verdict = "met" if ratio >= GOAL else "missed"
    print(f"batched_vs_per_game_matches: {ratio:.1f} (goal {GOAL:g}: {verdict})")
    out: dict[str, Any] = {
        "machine": info,
        "scenarios": scenarios,
        "batched_vs_per_game_matches": ratio,
        "goal": GOAL,
    }
    if args.tournament:
        whole = whole_tournament(args.tournament, args.compare)
        out["whole_tournament"] = whole
        line = f"reassurance tournament {args.tournament}: {whole['batched_wall_s']:.1f} s"
        if args.compare:
            line += (
                f"; one game at a time (--batch-size 1): {whole['per_game_wall_s']:.1f} s; "
                f"same result rows: {'yes' if whole['same_rows'] else 'NO'}"
            )
        print(line)
    out["seconds"] = time.perf_counter() - begun
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
