"""Tables from a tournament's results: returns, ratings, cross-play, cohesion, alpha-rank, the
empirical game and member doctrines rated beside each other.

Every table is computed from the matches sorted by (assignment, seed), and every random draw
(bootstrap resamples) comes from a generator seeded by the config's ``analysis.seed`` and the
table's names, so the same matches give the same tables, however the run was interrupted.

Units: returns are summed rewards over an episode (reward units of GAME.md); ``troops_deployed``
is troops; rates and shares are in [0, 1]; alpha-rank masses sum to 1 over profiles.

*Role return* of a match: the return of the role's seat; for ``member``, the mean return of the
coalition members. The member role's "policy" in the role tables is the coalition mix (for a
uniform mix, the one member policy all members play); :func:`member_doctrines` rates the member
policies seat by seat.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from openskill.models import PlackettLuce

from reassurance.envs.metrics import headline, summary_field
from reassurance.evaluation.alpharank import alpharank, scale_to_unit_range
from reassurance.evaluation.config import ROLES
from reassurance.evaluation.empirical import (
    alpharank_game,
    coalition_samples,
    heuristic_payoff_table,
    mean_field_matrix,
    replicator_game,
    replicator_symmetric,
    role_game,
    role_return,
)
from reassurance.evaluation.hashing import canonical, sha256_json
from reassurance.evaluation.store import StoredTournament

__all__ = [
    "COHESION_METRICS",
    "analyse",
    "bootstrap_ci",
    "cohesion_by",
    "crossplay",
    "member_doctrines",
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

    Always ``low <= mean <= high``; a constant series (a policy with the same return on every
    seed) gives exactly ``low == mean == high``, its value. (The resampled means are sums in
    another order, a rounding away from the mean: the percentile of a zero-width spread could
    land one ulp beyond the mean, so the bounds are clamped to it.) With fewer than two
    resampling units (one value; with ``clusters``, one cluster, as in a tournament of one seed)
    there is nothing to resample: ``low`` and ``high`` are NaN (no interval). No value (or only
    NaN) gives NaN for all three and ``n = 0``.
    """
    keep = [i for i, v in enumerate(values) if not math.isnan(v)]
    x = np.asarray([values[i] for i in keep], dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan, 0
    labels = None if clusters is None else [clusters[i] for i in keep]
    units = x.size if labels is None else len(set(labels))
    constant = bool(np.all(x == x[0]))
    mean = float(x[0]) if constant else float(x.mean())  # a constant's mean exactly, unrounded
    if units < 2:
        return mean, math.nan, math.nan, int(x.size)
    if constant:
        return mean, mean, mean, int(x.size)
    tail = (1.0 - level) / 2.0 * 100.0
    if labels is None:
        means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    else:
        groups = sorted(set(labels), key=str)
        index = {g: k for k, g in enumerate(groups)}
        which = np.asarray([index[g] for g in labels])
        sums = np.bincount(which, weights=x, minlength=len(groups))
        counts = np.bincount(which, minlength=len(groups)).astype(float)
        draws = rng.integers(0, len(groups), size=(resamples, len(groups)))
        means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return mean, min(mean, float(low)), max(mean, float(high)), int(x.size)


def _labels(tournament: StoredTournament, role: str) -> list[str]:
    return tournament.strategies(role)


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
    identity = _identities(tournament)
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


def _alpharank_table(tournament: StoredTournament, alpha: float, m: int) -> dict[str, Any]:
    """Alpha-rank of the role meta-game (every profile, or the played ones of a sampled
    schedule), with the best played deviation of each role from the top profile."""
    game = role_game(tournament)
    ranked = alpharank_game(game, alpha=alpha, population_size=m)
    result = ranked.result
    top = result.top_profiles(10)
    gains = game.deviation_gains(top[0][0])
    return {
        "alpha": alpha,
        "population_size": m,
        "payoff_scaling": "each role's table mapped onto [0, 1] over its played profiles",
        "profiles": int(game.counts.size),
        "played": ranked.played,
        "ranked": ranked.ranked,
        "groups": ranked.groups,
        "complete": ranked.complete,
        "marginals": {role: result.marginal(role) for role in ROLES},
        "top_profiles": [
            {"profile": dict(zip(ROLES, names, strict=True)), "mass": mass}
            for names, mass in top
            if mass > 0
        ],
        "top_deviations": {role: {"to": to, "gain": gain} for role, (to, gain) in gains.items()},
    }


def _empirical_table(tournament: StoredTournament) -> dict[str, Any]:
    """The role meta-game's size and coverage, and where replicator dynamics end on it."""
    game = role_game(tournament)
    played = game.counts[game.played]
    out: dict[str, Any] = {
        "players": list(game.players),
        "strategies": {
            role: list(s) for role, s in zip(game.players, game.strategies, strict=True)
        },  # fmt: skip
        "profiles": int(game.counts.size),
        "played": int(game.played.sum()),
        "samples_per_profile": [int(played.min()), int(played.max())],
        "payoffs": {role: _nested(game.payoffs[k]) for k, role in enumerate(game.players)},
    }
    if game.complete:
        out["replicator"] = replicator_game(game)
    else:
        out["replicator_skipped"] = (
            f"{out['profiles'] - out['played']} of {out['profiles']} profiles were not played; "
            "replicator dynamics need every one"
        )
    return out


def _nested(array: np.ndarray) -> Any:
    return array.tolist()


def _identities(tournament: StoredTournament) -> dict[str, Any]:
    """Label -> what decides how the policy plays (agent id, parameters, checkpoint hash)."""
    return {
        entry["label"]: {k: v for k, v in entry.items() if k != "label"}
        for entries in tournament.population.values()
        for entry in entries
    }


def _contest_order(match: Mapping[str, Any], identity: Mapping[str, Any]) -> str:
    """A hash of what defines a coalition contest (every seat's policy, by identity, and the
    seed): the rating order depends neither on labels nor on the code version in the keys."""
    seats = {agent: identity.get(label, label) for agent, label in match["seats"].items()}
    return sha256_json([seats, match["seed"]])


def member_doctrines(
    tournament: StoredTournament, seed: int, resamples: int, alpha: float, m: int
) -> dict[str, Any]:
    """Member doctrines rated from seats where they played beside other doctrines.

    ``rows``: per doctrine, the member seats it played, its mean *seat-relative* return (the
    seat's return minus that agent's mean over the tournament) with a bootstrap CI over seeds,
    and an openskill rating from *coalition contests*: each match whose coalition mixed
    doctrines ranks the doctrines present by the mean seat-relative return of their seats.
    ``game``: the coalition as a symmetric game (:mod:`~reassurance.evaluation.empirical`): the
    heuristic payoff table's coverage, the mean-field matrix, its replicator rest point and its
    alpha-rank.
    """
    labels = [entry["label"] for entry in tournament.population["member"]]
    samples = coalition_samples(tournament)
    seeds = [match["seed"] for match in tournament.matches]
    per_doctrine: dict[str, list[float]] = defaultdict(list)
    clusters: dict[str, list[int]] = defaultdict(list)
    contests: list[tuple[str, dict[str, float]]] = []
    identity = _identities(tournament)
    for match, (names, values), match_seed in zip(tournament.matches, samples, seeds,
                                                  strict=True):  # fmt: skip
        by_doctrine: dict[str, list[float]] = defaultdict(list)
        for name, value in zip(names, values, strict=True):
            per_doctrine[name].append(value)
            clusters[name].append(match_seed)
            by_doctrine[name].append(value)
        if len(by_doctrine) > 1:
            scores = {name: float(np.mean(v)) for name, v in by_doctrine.items()}
            contests.append((_contest_order(match, identity), scores))
    model = PlackettLuce()
    current = {label: model.rating(name=label) for label in labels}
    counts = dict.fromkeys(labels, 0)
    for _, scores in sorted(contests, key=lambda contest: contest[0]):
        entrants = [label for label in labels if label in scores]
        rated = model.rate([[current[e]] for e in entrants], scores=[scores[e] for e in entrants])
        for label, (rating,) in zip(entrants, rated, strict=True):
            current[label] = rating
            counts[label] += 1
    rows = []
    for label in labels:
        mean, low, high, n = bootstrap_ci(
            per_doctrine.get(label, []),
            _rng(seed, "member-doctrine", label),
            resamples,
            clusters=clusters.get(label, []),
        )
        r = current[label]
        rows.append(
            {
                "policy": label,
                "seats": n,
                "relative_return": mean,
                "relative_low": low,
                "relative_high": high,
                "mu": float(r.mu),
                "sigma": float(r.sigma),
                "contests": counts[label],
            }
        )
    rows.sort(key=lambda row: (-row["mu"], row["policy"]))
    hpt = heuristic_payoff_table(samples, labels)
    matrix, errors, n_fit = mean_field_matrix(samples, labels)
    game: dict[str, Any] = {
        "players": hpt.players,
        "strategies": labels,
        "hpt_rows": int(hpt.table.shape[0]),
        "hpt_possible_rows": hpt.possible_rows,
        "mean_field": _nested(matrix),
        "mean_field_se": _nested(errors),
        "mean_field_samples": [int(v) for v in n_fit],
    }
    if np.all(np.isfinite(matrix)):
        game["replicator"] = replicator_symmetric(matrix, labels)
        ranked = alpharank([scale_to_unit_range(matrix)], alpha=alpha, population_size=m,
                           strategies=[labels])  # fmt: skip
        game["alpharank"] = ranked.marginal(0)
    else:
        game["skipped"] = (
            "some doctrine never met some other (a NaN in the mean-field matrix); add drawn mixes"
        )
    return {"contests": len(contests), "rows": rows, "game": game}


def analyse(tournament: StoredTournament) -> dict[str, Any]:
    """Every table of the report, as plain JSON-ready data (NaN as ``None``)."""
    options = tournament.config.get("analysis", {})
    seed = int(options.get("seed", 0))
    resamples = int(options.get("bootstrap", 1000))
    roles = {role: _role_table(tournament, role, seed, resamples) for role in ROLES}
    alpha = float(options.get("alpha", 10.0))
    m = int(options.get("population_size", 50))
    try:
        ranked = _alpharank_table(tournament, alpha, m)
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
    tables = {
        "provenance": _provenance(tournament),
        "roles": roles,
        "crossplay": cross,
        "cohesion_by_usa": cohesion_by(tournament, "usa", seed, resamples),
        "alpharank": ranked,
        "empirical": _empirical_table(tournament),
    }
    if tournament.mixed:
        tables["member_doctrines"] = member_doctrines(tournament, seed, resamples, alpha, m)
    return canonical(tables)


def _provenance(tournament: StoredTournament) -> dict[str, Any]:
    seeds = sorted({m["seed"] for m in tournament.matches})
    assignments = {m["assignment"] for m in tournament.matches}
    return {
        "tournament": tournament.name,
        "scenario_id": tournament.scenario_id,
        "scenario_hash": tournament.scenario_hash,
        "code_version": tournament.code_version,
        "config_hash": tournament.config_hash,
        "planned_matches": tournament.planned_matches,
        "matches": len(tournament.matches),
        "assignments": len(assignments),
        "seeds": seeds,
        "population": {
            role: [_describe(entry) for entry in tournament.population[role]] for role in ROLES
        },
        "mixes": tournament.mixes,
    }


def _describe(entry: Mapping[str, Any]) -> dict[str, Any]:
    out = {"label": entry["label"], "agent": entry["agent"], "params": entry["params"]}
    if entry.get("checkpoint"):
        out["checkpoint"] = entry["checkpoint"]
        out["checkpoint_hash"] = entry["checkpoint_hash"]
    return out
