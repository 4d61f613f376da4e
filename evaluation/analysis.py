"""Tables from a tournament's results: returns, ratings, cross-play, cohesion, alpha-rank.

Every table is computed from the matches sorted by (assignment, seed), and every random draw
(bootstrap resamples) comes from a generator seeded by the config's ``analysis.seed`` and the
table's names, so the same matches give the same tables, however the run was interrupted.

Units: returns are summed rewards over an episode (reward units of GAME.md); ``troops_deployed``
is troops; rates and shares are in [0, 1]; alpha-rank masses sum to 1 over profiles.

*Role return* of a match: the return of the role's seat; for ``member``, the mean return of the
coalition members (all play the assignment's member policy).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from openskill.models import PlackettLuce

from reassurance.envs.actions import Role, agent_role
from reassurance.envs.metrics import headline, summary_field
from reassurance.evaluation.alpharank import alpharank, scale_to_unit_range
from reassurance.evaluation.config import ROLES
from reassurance.evaluation.hashing import canonical, sha256_json
from reassurance.evaluation.store import StoredTournament

__all__ = [
    "COHESION_METRICS",
    "analyse",
    "bootstrap_ci",
    "cohesion_by",
    "crossplay",
    "meta_game",
    "ratings",
    "role_return",
]

COHESION_METRICS: tuple[tuple[str, str], ...] = tuple(
    (name, summary_field(name).description) for name in headline()
)
"""Episode-summary figures shown as cohesion metrics (the schema's headline figures), with what
they measure."""

CROSSPLAY_METRICS: tuple[tuple[str, str], ...] = (
    *COHESION_METRICS,
    *((f"return:{role}", f"{role} return (members: mean over members)") for role in ROLES),
)
"""Cells of the cross-play tables: the headline figures, and ``return:ROLE``."""

CROSSPLAY_PAIRS: tuple[tuple[str, str], ...] = (("member", "usa"), ("russia", "usa"))
"""Cross-play tables built: (row role, column role)."""


def _rng(seed: int, *names: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and names (sha256, so stable across processes)."""
    words = [int.from_bytes(hashlib.sha256(n.encode()).digest()[:4], "little") for n in names]
    return np.random.default_rng([seed, *words])


def role_return(match: Mapping[str, Any], role: str) -> float:
    """The return of ``role`` in a match; for members, the mean over the member seats."""
    returns = match["returns"]
    if role != "member":
        return float(returns[role])
    values = [v for agent, v in returns.items() if agent_role(agent) is Role.MEMBER]
    return float(np.mean(values))


def _value(match: Mapping[str, Any], metric: str) -> float:
    if metric.startswith("return:"):
        return role_return(match, metric.split(":", 1)[1])
    value = match["summary"].get(metric, math.nan)
    return math.nan if value is None else float(value)


def bootstrap_ci(
    values: Sequence[float],
    rng: np.random.Generator,
    resamples: int = 1000,
    level: float = 0.95,
    clusters: Sequence[Any] | None = None,
) -> tuple[float, float, float, int]:
    """Mean and percentile bootstrap interval of the non-NaN ``values``: (mean, low, high, n).

    With ``clusters`` (one label per value, e.g. the match seed) whole clusters are resampled:
    matches that share a seed share its hidden draws (the US type, Russia's resolve), so they
    are not independent, and resampling them one by one would give intervals far too narrow.
    The interval then rests on the number of clusters, not of matches.
    """
    keep = [i for i, v in enumerate(values) if not math.isnan(v)]
    x = np.asarray([values[i] for i in keep], dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan, 0
    if x.size == 1:
        return float(x[0]), float(x[0]), float(x[0]), 1
    tail = (1.0 - level) / 2.0 * 100.0
    if clusters is None:
        means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    else:
        labels = [clusters[i] for i in keep]
        groups = sorted(set(labels), key=str)
        index = {g: k for k, g in enumerate(groups)}
        which = np.asarray([index[g] for g in labels])
        sums = np.bincount(which, weights=x, minlength=len(groups))
        counts = np.bincount(which, minlength=len(groups)).astype(float)
        draws = rng.integers(0, len(groups), size=(resamples, len(groups)))
        means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(x.mean()), float(low), float(high), int(x.size)


def _labels(tournament: StoredTournament, role: str) -> list[str]:
    return [entry["label"] for entry in tournament.population[role]]


def ratings(
    matches: Sequence[Mapping[str, Any]],
    role: str,
    labels: Sequence[str],
    identity: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, float]]:
    """PlackettLuce (openskill) ratings of one role's policies from duplicate contests.

    A *contest* is a set of matches with the same policies in every other role and the same
    seed, which differ only in this role's policy: the same opponents, partners and random
    draws. Its entrants are ranked by their role return (equal returns tie).

    openskill updates one contest at a time, so the order matters. Contests are rated in the
    order of a hash of what defines them (the other roles' policies, by ``identity`` of each
    label: agent id, parameters, checkpoint hash; and the seed). So the result depends neither
    on the order matches were played nor on the labels, and no opponent or seed comes first
    systematically. Returns label -> ``mu``, ``sigma``, ``contests``.
    """
    model = PlackettLuce()
    current = {label: model.rating(name=label) for label in labels}
    counts = dict.fromkeys(labels, 0)
    contests: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)
    for match in matches:
        others = tuple(match["lineup"][r] for r in ROLES if r != role)
        contests[(*others, match["seed"])][match["lineup"][role]] = role_return(match, role)
    identity = identity or {}

    def order(key: tuple[Any, ...]) -> str:
        *others, seed = key
        return sha256_json([[identity.get(label, label) for label in others], seed])

    for key in sorted(contests, key=order):
        entrants = [label for label in labels if label in contests[key]]
        if len(entrants) < 2:
            continue
        teams = [[current[label]] for label in entrants]
        scores = [contests[key][label] for label in entrants]
        for label, (rated,) in zip(entrants, model.rate(teams, scores=scores), strict=True):
            current[label] = rated
            counts[label] += 1
    return {
        label: {"mu": float(r.mu), "sigma": float(r.sigma), "contests": counts[label]}
        for label, r in current.items()
    }


def _role_table(
    tournament: StoredTournament, role: str, seed: int, resamples: int
) -> list[dict[str, Any]]:
    labels = _labels(tournament, role)
    identity = {
        entry["label"]: {k: v for k, v in entry.items() if k != "label"}
        for entries in tournament.population.values()
        for entry in entries
    }
    rated = ratings(tournament.matches, role, labels, identity)
    rows = []
    for label in labels:
        chosen = [m for m in tournament.matches if m["lineup"][role] == label]
        values = [role_return(m, role) for m in chosen]
        mean, low, high, n = bootstrap_ci(
            values,
            _rng(seed, "return", role, label),
            resamples,
            clusters=[m["seed"] for m in chosen],
        )
        r = rated[label]
        rows.append(
            {
                "policy": label,
                "matches": n,
                "mean_return": mean,
                "return_low": low,
                "return_high": high,
                "mu": r["mu"],
                "sigma": r["sigma"],
                "rating_low": r["mu"] - 1.96 * r["sigma"],
                "rating_high": r["mu"] + 1.96 * r["sigma"],
                "contests": r["contests"],
            }
        )
    rows.sort(key=lambda row: (-row["mu"], row["policy"]))
    return rows


def crossplay(
    matches: Iterable[Mapping[str, Any]],
    row_role: str,
    col_role: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    metric: str,
) -> list[list[float]]:
    """Mean of ``metric`` (summary figure or ``return:ROLE``) per (row policy, column policy).

    Averaged over every match with that pair, whatever the other roles played; NaN figures
    (e.g. no pledges to convert) are left out; a pair never played is NaN.
    """
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for match in matches:
        value = _value(match, metric)
        if not math.isnan(value):
            cells[(match["lineup"][row_role], match["lineup"][col_role])].append(value)
    return [
        [float(np.mean(cells[(r, c)])) if cells[(r, c)] else math.nan for c in col_labels]
        for r in row_labels
    ]


def cohesion_by(
    tournament: StoredTournament, role: str, seed: int, resamples: int
) -> list[dict[str, Any]]:
    """Cohesion metrics (:data:`COHESION_METRICS`) with bootstrap CIs per policy of ``role``."""
    present = {k for m in tournament.matches for k in m["summary"]}
    rows = []
    for label in _labels(tournament, role):
        chosen = [m for m in tournament.matches if m["lineup"][role] == label]
        row: dict[str, Any] = {"policy": label, "matches": len(chosen)}
        for metric, _ in COHESION_METRICS:
            if metric not in present:
                continue
            values = [_value(m, metric) for m in chosen]
            mean, low, high, n = bootstrap_ci(
                values,
                _rng(seed, "cohesion", role, label, metric),
                resamples,
                clusters=[m["seed"] for m in chosen],
            )
            row[metric] = {"mean": mean, "low": low, "high": high, "n": n}
        rows.append(row)
    return rows


def meta_game(tournament: StoredTournament) -> tuple[list[np.ndarray], list[list[str]], int]:
    """The role meta-game: one payoff table per role over all seat assignments.

    Entry ``[i_member, i_usa, i_ukraine, i_russia]`` of role ``k``'s table is role ``k``'s mean
    return over the seeds of that assignment (NaN where it was not played). Also returns the
    labels per role and the number of assignments never played.
    """
    labels = [_labels(tournament, role) for role in ROLES]
    index = [{label: i for i, label in enumerate(ls)} for ls in labels]
    shape = tuple(len(ls) for ls in labels)
    sums = np.zeros((len(ROLES), *shape))
    counts = np.zeros(shape)
    for match in tournament.matches:
        profile = tuple(index[k][match["lineup"][role]] for k, role in enumerate(ROLES))
        counts[profile] += 1
        for k, role in enumerate(ROLES):
            sums[(k, *profile)] += role_return(match, role)
    with np.errstate(invalid="ignore", divide="ignore"):
        tables = [np.where(counts > 0, sums[k] / np.maximum(counts, 1), np.nan) for k in range(4)]
    return tables, labels, int(np.sum(counts == 0))


def _alpharank_table(tournament: StoredTournament, alpha: float, m: int) -> dict[str, Any]:
    tables, labels, missing = meta_game(tournament)
    if missing:
        return {
            "skipped": (
                f"{missing} of {tables[0].size} seat assignments were not played (a sampled "
                "or unfinished schedule); alpha-rank needs every one"
            )
        }
    result = alpharank(
        [scale_to_unit_range(t) for t in tables],
        alpha=alpha,
        population_size=m,
        populations=ROLES,
        strategies=labels,
    )
    return {
        "alpha": alpha,
        "population_size": m,
        "payoff_scaling": "each role's table mapped onto [0, 1]",
        "marginals": {role: result.marginal(role) for role in ROLES},
        "top_profiles": [
            {"profile": dict(zip(ROLES, names, strict=True)), "mass": mass}
            for names, mass in result.top_profiles(10)
        ],
    }


def analyse(tournament: StoredTournament) -> dict[str, Any]:
    """Every table of the report, as plain JSON-ready data (NaN as ``None``)."""
    options = tournament.config.get("analysis", {})
    seed = int(options.get("seed", 0))
    resamples = int(options.get("bootstrap", 1000))
    roles = {role: _role_table(tournament, role, seed, resamples) for role in ROLES}
    try:
        ranked = _alpharank_table(
            tournament,
            float(options.get("alpha", 10.0)),
            int(options.get("population_size", 50)),
        )
    except ValueError as err:
        ranked = {"skipped": str(err)}
    if "marginals" in ranked:
        for role in ROLES:
            for row in roles[role]:
                row["alpharank_mass"] = ranked["marginals"][role][row["policy"]]
    cross = []
    for row_role, col_role in CROSSPLAY_PAIRS:
        row_labels, col_labels = _labels(tournament, row_role), _labels(tournament, col_role)
        cross.append(
            {
                "rows": row_role,
                "columns": col_role,
                "row_labels": row_labels,
                "column_labels": col_labels,
                "metrics": {
                    metric: crossplay(
                        tournament.matches, row_role, col_role, row_labels, col_labels, metric
                    )
                    for metric, _ in CROSSPLAY_METRICS
                },
            }
        )
    return canonical(
        {
            "provenance": _provenance(tournament),
            "roles": roles,
            "crossplay": cross,
            "cohesion_by_usa": cohesion_by(tournament, "usa", seed, resamples),
            "alpharank": ranked,
        }
    )


def _provenance(tournament: StoredTournament) -> dict[str, Any]:
    seeds = sorted({m["seed"] for m in tournament.matches})
    assignments = {m["assignment"] for m in tournament.matches}
    return {
        "tournament": tournament.name,
        "scenario_id": tournament.scenario_id,
        "scenario_hash": tournament.scenario_hash,
        "env_version": tournament.env_version,
        "config_hash": tournament.config_hash,
        "planned_matches": tournament.planned_matches,
        "matches": len(tournament.matches),
        "assignments": len(assignments),
        "seeds": seeds,
        "population": {
            role: [_describe(entry) for entry in tournament.population[role]] for role in ROLES
        },
    }


def _describe(entry: Mapping[str, Any]) -> dict[str, Any]:
    out = {"label": entry["label"], "agent": entry["agent"], "params": entry["params"]}
    if entry.get("checkpoint"):
        out["checkpoint"] = entry["checkpoint"]
        out["checkpoint_hash"] = entry["checkpoint_hash"]
    return out
