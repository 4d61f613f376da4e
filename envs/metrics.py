"""Cohesion and outcome metrics: the episode summary, declared once.

:data:`SUMMARY` is the schema of the summary every finished episode reports (the final
``infos[agent]["episode_summary"]`` of the PettingZoo env, :attr:`VectorStep.summaries` of the
batched core): each field's name, unit, meaning, whether it can be NaN and when, and the group
it belongs to. Everything that shows these metrics reads this table: the README's and
``docs/model.md``'s tables (:func:`markdown_table`), the training metrics, sweep summaries,
tournament reports and the debrief of ``reassurance play``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

from reassurance.envs.actions import Phase
from reassurance.envs.state import Params, State

__all__ = [
    "SUMMARY",
    "SummaryField",
    "episode_summary",
    "figures",
    "free_riding_index",
    "headline",
    "markdown_table",
    "rank_correlation",
    "summaries",
    "summary_field",
]

_EPS = 1e-9  # troops (thousands) below which a pledge or deployment counts as none

Group = Literal["cohesion", "conflict", "context"]


@dataclass(frozen=True)
class SummaryField:
    """One figure of the episode summary.

    ``compute`` maps (params, states of ``n`` games) to ``[n]`` values; ``kind`` is the Python
    type a one-game summary holds; ``nan_when`` says when the value is NaN (empty: never);
    ``headline`` marks the figures reports and sweeps show first.
    """

    name: str
    unit: str
    description: str
    kind: type
    group: Group
    compute: Callable[[Params, State], np.ndarray]
    nan_when: str = ""
    headline: bool = False

    @property
    def can_be_nan(self) -> bool:
        return bool(self.nan_when)


def free_riding_index(gdp: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """Half the L1 distance between GDP shares and contribution shares (0 = proportional).

    Works on the last axis; ``nan`` where nobody contributed.
    """
    gdp = np.asarray(gdp, np.float64)
    contributions = np.asarray(contributions, np.float64)
    total = contributions.sum(axis=-1, keepdims=True)
    shares = np.divide(contributions, total, out=np.zeros_like(contributions), where=total > 0)
    gdp_shares = gdp / gdp.sum(axis=-1, keepdims=True)
    index = 0.5 * np.abs(gdp_shares - shares).sum(axis=-1)
    return np.where(total[..., 0] > 0, index, np.nan)


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two vectors (average ranks for ties); ``nan`` if constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for value in np.unique(v):
            tie = v == value
            r[tie] = r[tie].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if np.std(rx) == 0 or np.std(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _gini(shares: np.ndarray) -> float:
    n = len(shares)
    if n < 2:
        return 0.0
    diff = np.abs(shares[:, None] - shares[None, :]).sum()
    return float(diff / (2.0 * n * shares.sum()))


def _per_game(function: Callable[[np.ndarray], float]) -> Callable[[Params, State], np.ndarray]:
    """A figure computed game by game from the burden row, NaN where nobody bore a burden."""

    def compute(params: Params, s: State) -> np.ndarray:
        return np.array(
            [function(row) if row.sum() > 0 else math.nan for row in s.burden], dtype=np.float64
        )

    return compute


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), math.nan)


def _defection_rate(params: Params, s: State) -> np.ndarray:
    pledged = s.peak_pledged_k > _EPS
    return _ratio(np.sum(s.defected & pledged, axis=1), np.sum(pledged, axis=1))


def _pledge_conversion(params: Params, s: State) -> np.ndarray:
    total = s.peak_pledged_k.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, s.peak_deployed_k.sum(axis=1) / total, math.nan)


def _mean_escalation(params: Params, s: State) -> np.ndarray:
    steps = np.maximum(s.t, 1)
    return s.escalation_sum.sum(axis=1) / (steps * s.escalation_sum.shape[1])


def _ceasefire_held(params: Params, s: State) -> np.ndarray:
    in_force = (s.phase == Phase.DEPLOYMENT) | (s.phase == Phase.TEST)
    return (s.ceasefires > 0) & (s.ceasefire_breaks == 0) & in_force


SUMMARY: tuple[SummaryField, ...] = (
    SummaryField("steps", "steps", "steps played", int, "context", lambda p, s: s.t),
    SummaryField(
        "contributors", "members", "members that deployed anything at some point", int,
        "cohesion", lambda p, s: np.sum(s.peak_deployed_k > _EPS, axis=1), headline=True,
    ),
    SummaryField(
        "contributors_ground", "members", "members that deployed ground troops", int, "cohesion",
        lambda p, s: np.sum(s.ever_ground, axis=1), headline=True,
    ),
    SummaryField(
        "troops_deployed", "troops", "the largest effective ground force F during the episode",
        float, "cohesion", lambda p, s: s.peak_force.astype(np.float64), headline=True,
    ),
    SummaryField(
        "threshold", "troops", "the force threshold F* of the scenario", float, "context",
        lambda p, s: np.full(s.batch_size, float(p.scenario.force.threshold_troops)),
    ),
    SummaryField(
        "threshold_met", "yes/no", "F >= F* and E >= E* at some deployment deadline", bool,
        "cohesion", lambda p, s: s.deadlines_met > 0, headline=True,
    ),
    SummaryField(
        "burden_gini", "0..1", "Gini of members' burden shares (burden: USD bn spent deploying)",
        float, "cohesion", _per_game(lambda row: _gini(row / row.sum())),
        nan_when="nobody bore a burden",
    ),
    SummaryField(
        "free_riding_index", "0..1",
        "half the L1 distance of GDP shares and burden shares (0 = burden by GDP)", float,
        "cohesion", lambda p, s: free_riding_index(p.gdp, s.burden),
        nan_when="nobody bore a burden", headline=True,
    ),
    SummaryField(
        "oz_rank_correlation", "-1..1",
        "Spearman rank correlation of GDP and burden (Olson-Zeckhauser test)", float, "cohesion",
        lambda p, s: _per_game(lambda row: rank_correlation(p.gdp, row))(p, s),
        nan_when="nobody bore a burden, or all burdens are equal",
    ),
    SummaryField(
        "pledge_conversion", "share", "sum of peak deployed / sum of peak pledged troops", float,
        "cohesion", _pledge_conversion, nan_when="nothing was pledged", headline=True,
    ),
    SummaryField(
        "defection_rate", "share", "members that reneged or withdrew / members that ever pledged",
        float, "cohesion", _defection_rate, nan_when="nobody pledged", headline=True,
    ),
    SummaryField(
        "pledge_volatility", "changes per member", "pledge-level changes per member", float,
        "cohesion", lambda p, s: s.pledge_changes.mean(axis=1),
    ),
    SummaryField(
        "ceasefires", "count", "ceasefires concluded", int, "conflict", lambda p, s: s.ceasefires
    ),
    SummaryField(
        "ceasefire_breaks", "count", "ceasefires broken by a violation", int, "conflict",
        lambda p, s: s.ceasefire_breaks,
    ),
    SummaryField(
        "ceasefire_held", "yes/no", "a ceasefire was concluded, never broken, in force at the end",
        bool, "conflict", _ceasefire_held, headline=True,
    ),
    SummaryField(
        "violations", "count", "probes and violations Russia attempted", int, "conflict",
        lambda p, s: s.violations, headline=True,
    ),
    SummaryField(
        "violations_detected", "count", "of them detected", int, "conflict",
        lambda p, s: s.detections,
    ),
    SummaryField(
        "detection_rate", "share", "detected / attempted probes and violations", float,
        "conflict", lambda p, s: _ratio(s.detections, s.violations),
        nan_when="nothing was attempted",
    ),
    SummaryField(
        "max_escalation", "score", "highest step score of any agent (Rivera et al. scale)", float,
        "conflict",
        lambda p, s: np.where(s.t > 0, s.escalation_max.max(axis=1), 0.0), headline=True,
    ),
    SummaryField(
        "mean_escalation", "score", "mean step score over agents and steps", float, "conflict",
        _mean_escalation,
    ),
    SummaryField(
        "steps_to_force", "steps", "first step with F >= F* and E >= E*; -1 if never", int,
        "cohesion", lambda p, s: s.steps_to_force,
    ),
    SummaryField(
        "final_front", "share", "share of its territory Ukraine holds at the end", float,
        "conflict", lambda p, s: s.front.astype(np.float64),
    ),
    SummaryField(
        "final_belief_us_backs", "probability",
        "public belief at the end that the US backs the force (type conditional or committed)",
        float, "cohesion", lambda p, s: s.belief[:, 1] + s.belief[:, 2], headline=True,
    ),
    SummaryField(
        "us_type", "0..2", "the hidden US type: 0 disengaged, 1 conditional, 2 committed", int,
        "context", lambda p, s: s.us_type,
    ),
    SummaryField(
        "russia_resolve", "weight", "the hidden resolve of Russia (russia.resolve_levels)", float,
        "context", lambda p, s: p.resolve_levels[s.resolve],
    ),
)  # fmt: skip

_BY_NAME = {f.name: f for f in SUMMARY}


def summary_field(name: str) -> SummaryField:
    """The schema entry of a summary figure."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no summary figure {name!r}; figures: {list(_BY_NAME)}") from None


def headline() -> tuple[str, ...]:
    """Names of the figures reports, sweeps and experiments show first."""
    return tuple(f.name for f in SUMMARY if f.headline)


def figures(*groups: Group) -> tuple[SummaryField, ...]:
    """The schema entries of the given groups (all by default), in schema order."""
    return tuple(f for f in SUMMARY if not groups or f.group in groups)


def _rows(s: State, games: np.ndarray) -> State:
    return State(**{f.name: getattr(s, f.name)[games] for f in fields(State)})


def summaries(
    params: Params, s: State, games: Sequence[int] | np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Every summary figure for the games ``games`` of ``s`` (all by default), ``[n]`` each."""
    if games is not None:
        s = _rows(s, np.asarray(games, np.int64))
    return {f.name: np.asarray(f.compute(params, s)) for f in SUMMARY}


def episode_summary(params: Params, s: State, index: int = 0) -> dict[str, float | int | bool]:
    """The summary of game ``index`` as plain Python values (see :data:`SUMMARY`)."""
    values = summaries(params, s, [index])
    return {f.name: f.kind(values[f.name][0]) for f in SUMMARY}


def markdown_table(names: Sequence[str] | None = None) -> str:
    """The schema as a Markdown table (the README and docs/model.md show it)."""
    chosen = [summary_field(n) for n in names] if names else list(SUMMARY)
    lines = ["| figure | unit | definition | NaN when |", "|---|---|---|---|"]
    for f in chosen:
        lines.append(f"| `{f.name}` | {f.unit} | {f.description} | {f.nan_when or 'never'} |")
    return "\n".join(lines)
