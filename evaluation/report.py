"""The tournament report: Markdown, PNG plots and every table as JSON, in one folder.

>>> from reassurance.evaluation import write_report
>>> write_report("results.sqlite", "report/")  # doctest: +SKIP

Files: ``report.md`` (open it in any Markdown viewer; the plots are relative links),
``tables.json`` (the output of :func:`~reassurance.evaluation.analysis.analyse`),
``ratings.png``, ``returns.png``, ``crossplay_<rows>_<columns>.png``, ``cohesion_by_usa.png``,
``alpharank.png`` (when every seat assignment was played).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reassurance.evaluation.analysis import COHESION_METRICS, CROSSPLAY_METRICS, analyse
from reassurance.evaluation.config import ROLES
from reassurance.evaluation.store import read_tournament
from reassurance.runtime import check_output_folder

__all__ = ["write_report", "render_markdown"]

_METRIC_TITLES = dict(CROSSPLAY_METRICS) | dict(COHESION_METRICS)
_DPI = 100


def _short(label: str) -> str:
    """``usa/words-only`` -> ``words-only`` (the role is on the axis)."""
    return label.split("/", 1)[1] if "/" in label else label


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def _interval(low: Any, high: Any, digits: int = 3, sep: str = " .. ") -> str:
    """``low .. high``, or ``n/a`` where there is no interval (e.g. a tournament of one seed)."""
    if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "n/a"
    return f"{_fmt(low, digits)}{sep}{_fmt(high, digits)}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _nan(values: Any) -> np.ndarray:
    return np.array([[math.nan if v is None else v for v in row] for row in values], dtype=float)


# ----------------------------------------------------------------------------- plots


def _plot_intervals(tables: dict[str, Any], out: Path, key: str, title: str) -> Path:
    import matplotlib.pyplot as plt

    low_key, high_key = {"mu": ("rating_low", "rating_high")}.get(
        key, ("return_low", "return_high")
    )
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    for ax, role in zip(axes.ravel(), ROLES, strict=True):
        rows = sorted(tables["roles"][role], key=lambda r: (r[key] is None, r[key] or 0.0))
        names = [_short(r["policy"]) for r in rows]
        centre = np.array([math.nan if r[key] is None else r[key] for r in rows], dtype=float)
        low = np.array([math.nan if r[low_key] is None else r[low_key] for r in rows], float)
        high = np.array([math.nan if r[high_key] is None else r[high_key] for r in rows], float)
        y = np.arange(len(rows))
        ax.errorbar(
            centre,
            y,
            xerr=np.vstack([centre - low, high - centre]),
            fmt="o",
            color="tab:blue",
            capsize=3,
        )
        ax.set_yticks(y, names)
        ax.set_title(role)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    path = out / ("ratings.png" if key == "mu" else "returns.png")
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def _plot_crossplay(block: dict[str, Any], out: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(block["metrics"])
    cols = 4
    rows_n = math.ceil(len(metrics) / cols)
    n_rows, n_cols = len(block["row_labels"]), len(block["column_labels"])
    width = max(14.0, cols * (1.0 + 0.55 * n_cols))
    height = rows_n * (1.2 + 0.38 * n_rows)
    fig, axes = plt.subplots(
        rows_n, cols, figsize=(width, height), constrained_layout=True, squeeze=False
    )
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        grid = _nan(block["metrics"][metric])
        image = ax.imshow(grid, cmap="viridis", aspect="auto")
        ax.set_xticks(
            range(n_cols),
            [_short(c) for c in block["column_labels"]],
            rotation=45,
            ha="right",
            fontsize=8,
        )
        ax.set_yticks(range(n_rows), [_short(r) for r in block["row_labels"]], fontsize=8)
        ax.set_title(_METRIC_TITLES.get(metric, metric), fontsize=9)
        finite = grid[np.isfinite(grid)]
        middle = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
        for (i, j), value in np.ndenumerate(grid):
            if math.isfinite(value) and n_rows * n_cols <= 80:
                text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="black" if value > middle else "white",
                )
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(
        f"Cross-play: {block['rows']} policy (rows) x {block['columns']} policy (columns), "
        "mean over matches"
    )
    path = out / f"crossplay_{block['rows']}_{block['columns']}.png"
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def _plot_cohesion(rows: list[dict[str, Any]], out: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = [m for m, _ in COHESION_METRICS if any(m in r for r in rows)]
    cols = 3
    fig, axes = plt.subplots(
        math.ceil(len(metrics) / cols),
        cols,
        figsize=(13, 3.2 * math.ceil(len(metrics) / cols)),
        constrained_layout=True,
        squeeze=False,
    )
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    names = [_short(r["policy"]) for r in rows]
    x = np.arange(len(rows))
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        cells = [r.get(metric) or {} for r in rows]
        mean = np.array([math.nan if c.get("mean") is None else c["mean"] for c in cells])
        low = np.array([math.nan if c.get("low") is None else c["low"] for c in cells])
        high = np.array([math.nan if c.get("high") is None else c["high"] for c in cells])
        ax.bar(x, np.nan_to_num(mean), color="tab:green", alpha=0.8)
        ax.errorbar(
            x, mean, yerr=np.vstack([mean - low, high - mean]), fmt="none", color="black", capsize=3
        )
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(_METRIC_TITLES.get(metric, metric), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Coalition cohesion by US doctrine (mean, bootstrap 95% CI)")
    path = out / "cohesion_by_usa.png"
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def _plot_alpharank(ranked: dict[str, Any], out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), constrained_layout=True)
    for ax, role in zip(axes, ROLES, strict=True):
        masses = ranked["marginals"][role]
        names = list(masses)
        ax.barh(range(len(names)), [masses[n] for n in names], color="tab:purple")
        ax.set_yticks(range(len(names)), [_short(n) for n in names], fontsize=8)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_title(role)
    fig.suptitle(
        f"Alpha-rank mass per role (alpha = {ranked['alpha']:g}, m = {ranked['population_size']})"
    )
    path = out / "alpharank.png"
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- markdown


def render_markdown(tables: dict[str, Any], config: dict[str, Any], images: dict[str, str]) -> str:
    """The report text; ``images`` maps a section (ratings, returns, ...) to a relative path."""
    prov = tables["provenance"]
    parts = [
        f"# Tournament `{prov['tournament']}`",
        "",
        _table(
            ["", ""],
            [
                ["scenario", f"`{prov['scenario_id']}` (sha256 `{prov['scenario_hash'][:16]}`)"],
                ["code version", prov["code_version"]],
                [
                    "matches",
                    f"{prov['matches']} of {prov['planned_matches']} planned; "
                    f"{prov['assignments']} seat assignments x seeds "
                    f"{', '.join(map(str, prov['seeds']))}",
                ],
                ["config hash", f"`{prov['config_hash'][:16]}`"],
            ],
        ),
        "",
        "Returns are summed rewards over a game (member: mean over the coalition's members). "
        "Ratings are PlackettLuce (openskill) from duplicate contests: policies of one role "
        "that met the same opponents with the same seed, ranked by return. Intervals are "
        "95%: mu +- 1.96 sigma for ratings, percentile bootstrap over seeds for means (n/a "
        "with a single seed: nothing to resample). "
        "See docs/evaluation.md.",
        "",
        "## Ratings and mean returns",
        "",
    ]
    for role in ROLES:
        rows = tables["roles"][role]
        parts += [f"### {role}", ""]
        parts.append(
            _table(
                [
                    "policy",
                    "rating mu",
                    "95% interval",
                    "mean return",
                    "95% CI",
                    "matches",
                    "alpha-rank mass",
                ],
                [
                    [
                        f"`{r['policy']}`",
                        r["mu"],
                        _interval(r["rating_low"], r["rating_high"], 2),
                        r["mean_return"],
                        _interval(r["return_low"], r["return_high"]),
                        r["matches"],
                        r.get("alpharank_mass"),
                    ]
                    for r in rows
                ],
            )
        )
        parts.append("")
    for key in ("ratings", "returns"):
        if key in images:
            parts += [f"![{key}]({images[key]})", ""]
    for block in tables["crossplay"]:
        rows_role, cols_role = block["rows"], block["columns"]
        parts += [f"## Cross-play: {rows_role} policy x {cols_role} policy", ""]
        for metric in ("contributors", f"return:{rows_role}", f"return:{cols_role}"):
            grid = block["metrics"].get(metric)
            if grid is None:
                continue
            parts += [f"Mean {_METRIC_TITLES.get(metric, metric)}:", ""]
            header = [f"{rows_role} \\ {cols_role}", *map(_short, block["column_labels"])]
            parts.append(
                _table(
                    header,
                    [[_short(r), *g] for r, g in zip(block["row_labels"], grid, strict=True)],
                )
            )
            parts.append("")
        image = images.get(f"crossplay_{rows_role}_{cols_role}")
        if image:
            parts += [f"![cross-play {rows_role} x {cols_role}]({image})", ""]
    cohesion = tables["cohesion_by_usa"]
    metrics = [m for m, _ in COHESION_METRICS if any(m in r for r in cohesion)]
    parts += ["## Cohesion by US doctrine", ""]
    parts.append(
        _table(
            ["US policy", "matches", *metrics],
            [
                [f"`{r['policy']}`", r["matches"]]
                + [
                    f"{_fmt(r[m]['mean'], 2)} ({_interval(r[m]['low'], r[m]['high'], 2, '..')})"
                    if m in r
                    else "n/a"
                    for m in metrics
                ]
                for r in cohesion
            ],
        )
    )
    parts += ["", "Mean (bootstrap 95% CI) over the matches with that US policy.", ""]
    if "cohesion" in images:
        parts += [f"![cohesion by US doctrine]({images['cohesion']})", ""]
    parts += _alpharank_section(tables["alpharank"], images)
    parts += _empirical_section(tables["empirical"])
    if "member_doctrines" in tables:
        parts += _member_section(tables["member_doctrines"])
    parts += ["## Provenance", "", "Population (full parameters as played):", ""]
    for role in ROLES:
        for entry in prov["population"][role]:
            extra = (
                f", checkpoint sha256 `{entry['checkpoint_hash'][:16]}`"
                if entry.get("checkpoint_hash")
                else ""
            )
            params = json.dumps(entry["params"], sort_keys=True)
            parts.append(f"- {role}: `{entry['label']}` = `{entry['agent']}` {params}{extra}")
    parts += ["", "Coalition mixes (member seats per policy; every seat in tables.json):", ""]
    for mix in prov["mixes"]:
        counts: dict[str, int] = {}
        for label in mix["seats"].values():
            counts[label] = counts.get(label, 0) + 1
        shown = ", ".join(f"{_short(label)} x{n}" for label, n in counts.items())
        parts.append(f"- `{mix['label']}` ({mix['kind']}): {shown}")
    parts += [
        "",
        "Config:",
        "",
        "```json",
        json.dumps(config, indent=2, sort_keys=True),
        "```",
        "",
    ]
    return "\n".join(parts)


def _alpharank_section(ranked: dict[str, Any], images: dict[str, str]) -> list[str]:
    parts = ["## Meta-game ranking (alpha-rank)", ""]
    if "skipped" in ranked:
        return [*parts, f"Not computed: {ranked['skipped']}.", ""]
    if ranked["complete"]:
        coverage = f"all {ranked['profiles']} profiles played"
    else:
        coverage = (
            f"{ranked['played']} of {ranked['profiles']} profiles played (a sampled or "
            "unfinished schedule): the chain runs over played profiles only, a deviation to an "
            f"unplayed one is rejected; ranked: the {ranked['ranked']} profiles joined by "
            f"single-role deviations ({ranked['groups']} such set(s) among the played ones)"
        )
    parts += [
        "One population per role (the coalition's strategy is its mix); a profile is a seat "
        "assignment, its payoff to each role the role's mean return there, scaled to [0, 1] "
        f"over that role's played profiles; alpha = {ranked['alpha']:g}, m = "
        f"{ranked['population_size']} (Omidshafiei et al. 2019); {coverage}. Profiles with "
        "most mass:",
        "",
        _table(
            ["mass", *ROLES],
            [
                [p["mass"], *(_short(p["profile"][r]) for r in ROLES)]
                for p in ranked["top_profiles"]
            ],
        ),
        "",
        "Best played unilateral deviation from the top profile (gain in the role's return "
        "units; <= 0: none pays):",
        "",
        _table(
            ["role", "deviate to", "gain"],
            [[r, _short(d["to"]), d["gain"]] for r, d in ranked["top_deviations"].items()],
        ),
        "",
    ]
    if "alpharank" in images:
        parts += [f"![alpha-rank]({images['alpharank']})", ""]
    return parts


def _shares(mixture: dict[str, float]) -> str:
    kept = sorted(((v, k) for k, v in mixture.items() if v >= 0.01), reverse=True)
    return ", ".join(f"{_short(k)} {v:.2f}" for v, k in kept)


def _empirical_section(block: dict[str, Any]) -> list[str]:
    low, high = block["samples_per_profile"]
    parts = [
        "## Empirical game",
        "",
        f"The role meta-game as a table (`tables.json`: `empirical.payoffs[role]`, one axis per "
        f"role in the order {', '.join(block['players'])}): {block['played']} of "
        f"{block['profiles']} profiles played, {low} to {high} matches each. Replicator "
        "dynamics (each role's table scaled to [0, 1], from uniform mixtures, "
        "`evaluation/empirical.py`), shares at the end (>= 0.01):",
        "",
    ]
    if "replicator" not in block:
        return [*parts, f"Not computed: {block['replicator_skipped']}.", ""]
    rows = [[role, _shares(block["replicator"][role])] for role in block["players"]]
    return [*parts, _table(["role", "shares"], rows), ""]


def _plus_minus(value: Any, error: Any) -> str:
    if error is None or (isinstance(error, float) and math.isnan(error)):
        return _fmt(value, 2)
    return f"{_fmt(value, 2)} +- {_fmt(error, 2)}"


def _member_section(block: dict[str, Any]) -> list[str]:
    game = block["game"]
    labels = [_short(label) for label in game["strategies"]]
    parts = [
        "## Member doctrines beside each other",
        "",
        "From the member seats of every match, coalition mixes included. *Relative return*: a "
        "seat's return minus that country's mean return over the tournament (countries differ in "
        "size and exposure), mean and bootstrap 95% CI over seeds. *Rating*: openskill from "
        f"the {block['contests']} matches whose coalition mixed doctrines, each ranking the "
        "doctrines present by the mean relative return of their seats.",
        "",
        _table(
            [
                "doctrine",
                "rating mu",
                "95% interval",
                "relative return",
                "95% CI",
                "seats",
                "contests",
            ],
            [
                [
                    f"`{r['policy']}`",
                    r["mu"],
                    _interval(r["mu"] - 1.96 * r["sigma"], r["mu"] + 1.96 * r["sigma"], 2),
                    r["relative_return"],
                    _interval(r["relative_low"], r["relative_high"]),
                    r["seats"],
                    r["contests"],
                ]
                for r in block["rows"]
            ],
        ),  # fmt: skip
        "",
        f"The coalition as a symmetric {game['players']}-player game: {game['hpt_rows']} of "
        f"its {game['hpt_possible_rows']:,} distributions of doctrines over seats were played "
        "(OpenSpiel's heuristic payoff table). Mean-field payoffs, +- an OLS standard error "
        "(it treats seats as independent, which seats of one match are not: too narrow): the "
        "relative return of a seat playing the row's doctrine when the other members all play "
        "the column's, by least squares on the shares of doctrines among the other members (a "
        "linear model; drawn mixes sit near equal shares, so a corner far from them rests on "
        "extrapolation and has a wide error):",
        "",
        _table(
            ["doctrine \\ others", *labels],
            [
                [label, *(_plus_minus(v, e) for v, e in zip(row, errors, strict=True))]
                for label, row, errors in zip(
                    labels, game["mean_field"], game["mean_field_se"], strict=True
                )
            ],
        ),
        "",
    ]
    if "skipped" in game:
        return [*parts, f"Replicator dynamics and alpha-rank not computed: {game['skipped']}.", ""]
    return [
        *parts,
        f"Replicator dynamics on it from equal shares end at: {_shares(game['replicator'])}; "
        f"alpha-rank mass: {_shares(game['alpharank']) or 'spread below 0.01 each'}.",
        "",
    ]


def write_report(
    db: str | Path, out: str | Path, *, tournament: str | None = None, plots: bool = True
) -> Path:
    """Analyse a tournament in ``db`` and write the report into folder ``out``; return report.md.

    With ``plots=False`` only ``report.md`` and ``tables.json`` are written (no matplotlib).
    """
    out = check_output_folder(out, "--out")
    stored = read_tournament(db, tournament)
    if not stored.matches:
        raise ValueError(f"tournament {stored.name!r} in {db} has no finished match yet")
    tables = analyse(stored)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables.json").write_text(json.dumps(tables, indent=1, sort_keys=True) + "\n")
    images: dict[str, str] = {}
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        images["ratings"] = _plot_intervals(tables, out, "mu", "Ratings (mu, 95% interval)").name
        images["returns"] = _plot_intervals(
            tables, out, "mean_return", "Mean return (bootstrap 95% CI)"
        ).name
        for block in tables["crossplay"]:
            images[f"crossplay_{block['rows']}_{block['columns']}"] = _plot_crossplay(
                block, out
            ).name
        images["cohesion"] = _plot_cohesion(tables["cohesion_by_usa"], out).name
        if "marginals" in tables["alpharank"]:
            images["alpharank"] = _plot_alpharank(tables["alpharank"], out).name
    report = out / "report.md"
    report.write_text(render_markdown(tables, stored.config, images), encoding="utf-8")
    return report
