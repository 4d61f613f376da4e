"""The debrief of a classroom game, and the simulated games it is compared with.

:func:`debrief_data` turns a finished game's stored turns into what the debrief page shows:
the outcome (the sentences of ``reassurance play``'s debrief), each member's pledges and
deployments, the escalation timeline, the cohesion metrics, each student's moves beside what the
bot in that seat would have played on the same observation, and the class's figures beside the
distribution of simulated games of the same scenario and bots (histograms as inline SVG).

The simulated games are :func:`reassurance.agents.play_match` with the game's bot in every seat,
seeds ``0 .. n-1``, played in chunks of :data:`CHUNK` seeds by :func:`simulate_chunk` in a
worker process and cached in the classroom database under :func:`simulation_key` (scenario
content, horizon, bots, checkpoint files, code version), so every game with the same scenario
and bots reuses them.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.envs.actions import RUNG_NAMES, Condition, Contribution

__all__ = [
    "CHUNK",
    "SIM_METRICS",
    "debrief_data",
    "simulate_chunk",
    "simulation_key",
    "svg_histogram",
    "svg_lines",
]

CHUNK = 50
"""Seeds per simulation task (and per cached row)."""

SIM_METRICS: tuple[tuple[str, str, str], ...] = (
    ("troops_deployed", "Largest ground force", "troops"),
    ("contributors", "Members that deployed", "members"),
    ("pledge_conversion", "Pledge-to-deployment conversion", "peak deployed / peak pledged"),
    ("mean_escalation", "Mean escalation", "score per agent and turn"),
    ("final_front", "Territory Ukraine holds at the end", "share"),
    ("final_belief_us_backs", "Belief that the US backs the force", "probability"),
)
"""(summary key, title, unit) of the figures plotted against the simulated games."""

_US_TYPES = ("disengaged", "conditional", "committed")


# ----------------------------------------------------------------------------- simulations


def _checkpoint_digest(path: str) -> str:
    digest = hashlib.sha256()
    for file in sorted(Path(path).rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(path)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def simulation_key(
    scenario: str,
    overrides: Mapping[str, Any],
    bots: Mapping[str, str],
    checkpoints: Mapping[str, str],
) -> str:
    """Cache key of the simulated games: what decides them, hashed (hex sha256)."""
    from reassurance.envs import load_scenario
    from reassurance.runtime import code_version

    loaded = load_scenario(scenario, overrides)
    used = {
        name: _checkpoint_digest(path)
        for name, path in checkpoints.items()
        if f"checkpoint:{name}" in bots.values()
    }
    payload = {
        "scenario": json.loads(loaded.model_dump_json()),
        "bots": dict(sorted(bots.items())),
        "checkpoints": used,
        "code": code_version(),
        "chunk": CHUNK,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def simulate_chunk(
    scenario: str,
    overrides: Mapping[str, Any],
    bots: Mapping[str, str],
    checkpoints: Mapping[str, str],
    seeds: Sequence[int],
) -> list[dict[str, Any]]:
    """Play one game per seed with ``bots`` in every seat; return their episode summaries.

    Runs in a worker process (picklable arguments only). Each game is
    ``play_match(scenario, lineup, seed, overrides=overrides)``.
    """
    from reassurance import agents
    from reassurance.classroom.engine import make_bot

    out = []
    for seed in seeds:
        lineup = {
            seat: make_bot(bot, agents.role_of(seat), checkpoints) for seat, bot in bots.items()
        }
        result = agents.play_match(scenario, lineup, seed=int(seed), overrides=overrides)
        out.append(dict(result.summary))
    return out


# ----------------------------------------------------------------------------- SVG plots


def _num(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}"


def svg_histogram(
    values: Sequence[float], marker: float | None, title: str, unit: str, *, bins: int = 20
) -> str:
    """A histogram of ``values`` with a vertical line at ``marker`` (the class's game), as SVG.

    NaN values are left out. Every text is escaped; the SVG loads nothing.
    """
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    width, height, pad = 360, 170, 28
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="14" class="plot-title">{html.escape(title)}</text>',
    ]
    if data.size == 0:
        parts.append(f'<text x="{pad}" y="{height // 2}">no values</text></svg>')
        return "".join(parts)
    low, high = float(data.min()), float(data.max())
    if marker is not None and math.isfinite(marker):
        low, high = min(low, marker), max(high, marker)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(data, bins=bins, range=(low, high))
    top = max(int(counts.max()), 1)
    plot_w, plot_h = width - 2 * pad, height - 2 * pad - 6
    bar_w = plot_w / bins

    def x_of(v: float) -> float:
        return pad + (v - low) / (high - low) * plot_w

    for i, count in enumerate(counts):
        h = plot_h * count / top
        parts.append(
            f'<rect class="bar" x="{pad + i * bar_w:.1f}" y="{pad + plot_h - h:.1f}" '
            f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}"/>'
        )
    base = pad + plot_h
    parts.append(f'<line class="axis" x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}"/>')
    parts.append(f'<text x="{pad}" y="{base + 14}" class="tick">{html.escape(_num(low))}</text>')
    parts.append(
        f'<text x="{width - pad}" y="{base + 14}" class="tick" text-anchor="end">'
        f"{html.escape(_num(high))}</text>"
    )
    parts.append(
        f'<text x="{width // 2}" y="{base + 26}" class="tick" text-anchor="middle">'
        f"{html.escape(unit)} ({data.size:,} games; most common: {top})</text>"
    )
    if marker is not None and math.isfinite(marker):
        x = x_of(marker)
        parts.append(f'<line class="marker" x1="{x:.1f}" y1="{pad - 4}" x2="{x:.1f}" y2="{base}"/>')
        anchor = "start" if x < width / 4 else "end" if x > 3 * width / 4 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{pad - 6}" class="marker-label" text-anchor="{anchor}">'
            f"your class: {html.escape(_num(marker))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_lines(
    series: Mapping[str, Sequence[float]], title: str, *, highlight: Sequence[str] = ()
) -> str:
    """Line chart of one value per turn for each named series (escalation by agent), as SVG."""
    width, height, pad = 560, 200, 30
    turns = max((len(v) for v in series.values()), default=0)
    top = max((max(v) for v in series.values() if len(v)), default=1.0) or 1.0
    parts = [
        f'<svg class="plot wide" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="14" class="plot-title">{html.escape(title)}</text>',
    ]
    plot_w, plot_h = width - 2 * pad - 70, height - 2 * pad
    base = pad + plot_h
    parts.append(f'<line class="axis" x1="{pad}" y1="{base}" x2="{pad + plot_w}" y2="{base}"/>')
    parts.append(
        f'<text x="{pad - 4}" y="{pad + 4}" class="tick" text-anchor="end">{_num(top)}</text>'
    )
    parts.append(f'<text x="{pad - 4}" y="{base}" class="tick" text-anchor="end">0</text>')
    for i, (name, values) in enumerate(series.items()):
        if not len(values):
            continue
        step = plot_w / max(turns - 1, 1)
        points = " ".join(
            f"{pad + t * step:.1f},{base - plot_h * float(v) / top:.1f}"
            for t, v in enumerate(values)
        )
        css = "line hl" if name in highlight else f"line c{i % 8}"
        parts.append(f'<polyline class="{css}" points="{points}"/>')
        y = pad + 12 * i
        parts.append(
            f'<text x="{pad + plot_w + 8}" y="{y + 4}" class="legend {css}">'
            f"{html.escape(name)}</text>"
        )
    parts.append(
        f'<text x="{pad + plot_w / 2:.0f}" y="{base + 16}" class="tick" text-anchor="middle">'
        f"turn 1 .. {turns}</text></svg>"
    )
    return "".join(parts)


# ----------------------------------------------------------------------------- debrief


def _first_turn(series: Sequence[float]) -> int | None:
    return next((t + 1 for t, v in enumerate(series) if v > 0), None)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    value = float(value)
    return value if math.isfinite(value) else None


def _percentile(values: Sequence[float], marker: float) -> float:
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if data.size == 0:
        return math.nan
    return float(100.0 * (np.sum(data < marker) + 0.5 * np.sum(data == marker)) / data.size)


def debrief_data(
    *,
    spec: Any,
    members: Sequence[str],
    components: Mapping[str, Sequence[tuple[str, Sequence[str]]]],
    turns: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    names: Mapping[str, str | None],
    revealed: bool,
    simulations: Sequence[Mapping[str, Any]] | None,
    simulations_wanted: int,
) -> dict[str, Any]:
    """Everything the debrief page shows, from the stored turns of a finished game.

    ``components`` maps each human seat to its ``(component, labels)``; ``names`` the
    students' display names by seat; ``simulations`` the summaries of the simulated games
    so far (None: not started). Hidden types appear only when ``revealed``.
    """
    from reassurance.play import COHESION_METRICS, CONFLICT_METRICS, outcome_sentences

    last = turns[-1]
    summary = {k: (math.nan if v is None else v) for k, v in last["summary"].items()}
    final_phase = last["dash"]["phase"]
    outcome = outcome_sentences(summary, final_phase, spec.horizon)
    head, _, hidden = outcome[-1].partition(" Hidden types:")
    outcome[-1] = head
    hidden_text = f"Hidden types:{hidden}" if revealed else None

    state = last["state"]
    member_rows = []
    for i, m in enumerate(members):
        pledged = [t["infos"][m]["pledge_troops"] for t in turns]
        deployed = [t["infos"][m]["deployed_troops"] for t in turns]
        level = state["pledge_level"]["data"][0][i]
        kind = Contribution(state["pledge_type"]["data"][0][i]).name.lower()
        condition = Condition(state["pledge_condition"]["data"][0][i]).name.lower()
        member_rows.append(
            {
                "member": m,
                "human": m in spec.humans,
                "name": names.get(m),
                "pledged": max(pledged, default=0.0),
                "pledged_turn": _first_turn(pledged),
                "deployed": max(deployed, default=0.0),
                "deployed_turn": _first_turn(deployed),
                "at_end": deployed[-1] if deployed else 0.0,
                "pledge": f"{kind}/{condition}" if level else "-",
                "reneged": bool(state["defected"]["data"][0][i]),
            }
        )

    seats = list(turns[0]["infos"])
    timeline = []
    for t in turns:
        rungs = {a: t["infos"][a]["rung"] for a in seats}
        scores = {a: t["infos"][a]["escalation"] for a in seats}
        top = max(rungs.values())
        timeline.append(
            {
                "turn": t["turn"],
                "phase": t["infos"][seats[0]]["phase"],
                "mean": sum(scores.values()) / len(scores),
                "max": max(scores.values()),
                "rung": top,
                "rung_name": RUNG_NAMES[top],
                "who": [a for a, r in rungs.items() if r == top],
                "events": [e["text"] for e in events if e["before_turn"] == t["turn"]],
            }
        )
    escalation_svg = svg_lines(
        {a: [t["infos"][a]["escalation"] for t in turns] for a in seats},
        "Escalation score by turn (Rivera et al. scale)",
        highlight=spec.humans,
    )

    metrics = [
        {"key": key, "what": what, "value": summary.get(key)}
        for key, what in (*COHESION_METRICS, *CONFLICT_METRICS)
    ]

    comparisons = []
    for seat in spec.humans:
        labels = components[seat]
        rows, agree, total = [], 0, 0
        for t in turns:
            if seat not in t["executed"]:
                continue
            played = t["executed"][seat]
            bot = t["shadow"][seat]
            cells = []
            for (name, values), mine, theirs in zip(labels, played, bot, strict=True):
                same = int(mine) == int(theirs)
                agree += same
                total += 1
                cells.append(
                    {"component": name, "human": values[int(mine)], "bot": values[int(theirs)],
                     "same": same}
                )  # fmt: skip
            rows.append({"turn": t["turn"], "timed_out": seat in t["timed_out"], "cells": cells})
        comparisons.append(
            {
                "seat": seat,
                "name": names.get(seat),
                "bot": spec.bots[seat],
                "agreement": agree / total if total else math.nan,
                "score": sum(t["rewards"].get(seat, 0.0) for t in turns),
                "rows": rows,
            }
        )

    returns = {a: sum(t["rewards"].get(a, 0.0) for t in turns) for a in seats}
    sims = list(simulations or [])
    plots = []
    for key, title, unit in SIM_METRICS:
        marker = _finite(summary.get(key))
        values = [_finite(s.get(key)) for s in sims]
        finite = [v for v in values if v is not None]
        plots.append(
            {
                "key": key,
                "title": title,
                "class_value": marker,
                "sim_mean": float(np.mean(finite)) if finite else None,
                "percentile": _percentile(finite, marker)
                if marker is not None and finite
                else None,
                "svg": svg_histogram(finite, marker, title, unit) if sims else "",
            }
        )
    met = [bool(s.get("threshold_met")) for s in sims]
    return {
        "outcome": outcome,
        "hidden": hidden_text,
        "summary": {
            k: v for k, v in summary.items() if revealed or k not in ("us_type", "russia_resolve")
        },
        "members": member_rows,
        "timeline": timeline,
        "escalation_svg": escalation_svg,
        "metrics": metrics,
        "comparisons": comparisons,
        "returns": returns,
        "plots": plots,
        "threshold_rate": (sum(met) / len(met)) if met else None,
        "class_threshold_met": bool(summary.get("threshold_met")),
        "simulated": len(sims),
        "simulations_wanted": simulations_wanted,
        "us_type": _US_TYPES[int(summary["us_type"])] if revealed else None,
    }
