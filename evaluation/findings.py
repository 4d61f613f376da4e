"""What the us-commitment experiment found, from its finished parts: the statistics (bootstrap
intervals over paired seeds, the tipping point, the change between neighbouring commitments),
GAME.md's five stylized facts checked in each population, and the files (``results.csv``, the
plots, ``summary.md``). See :mod:`reassurance.evaluation.experiment` for how the parts are made.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reassurance.envs import load_scenario
from reassurance.runtime import commit, machine_line

if TYPE_CHECKING:
    from reassurance.evaluation.experiment import Options, Part

__all__ = [
    "Fact",
    "DEFAULT_POPULATIONS",
    "POPULATIONS",
    "KEY_METRICS",
    "bootstrap",
    "result_rows",
    "slopes",
    "stylized_facts",
    "tipping_point",
    "write_outputs",
]

POPULATIONS = (
    "equilibrium",
    "equilibrium+trained-russia",
    "equilibrium+psro",
    "trained",
    "doctrines",
    "doctrines+conditional-on-us",
)
"""The populations of the experiment, in the order tables and plots show them."""
DEFAULT_POPULATIONS = tuple(p for p in POPULATIONS if p != "equilibrium+psro")
"""The populations a run measures unless ``--populations`` names others: all but
``equilibrium+psro``, which trains Russia and searches again at every step (on
brussels-2025-04, about 40 minutes of 2 cores per step, nearly all of it search)."""
KEY_METRICS = (
    "contributors",
    "contributors_ground",
    "troops_deployed",
    "threshold_met",
    "free_riding_index",
    "pledge_conversion",
    "defection_rate",
    "violations",
    "probes",
    "ceasefire_held",
    "max_escalation",
    "russia_escalation",
)
"""The metrics plotted against commitment (every summary figure is in results.csv)."""


# ----------------------------------------------------------------------------- statistics


def bootstrap(values: np.ndarray, rng: np.random.Generator, resamples: int = 1000):
    """Mean, 95% percentile interval and n of the non-NaN values (one per seed)."""
    x = np.asarray(values, float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean, 1
    means = x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return mean, min(float(low), mean), max(float(high), mean), int(x.size)


def result_rows(parts: Sequence[Part], seed: int = 0) -> list[dict[str, Any]]:
    """The rows of ``results.csv``: every metric of every part, with a bootstrap CI over seeds."""
    rows = []
    for part in parts:
        for metric, values in part.metrics.items():
            rng = np.random.default_rng([seed, hash_name(part.population), hash_name(metric)])
            mean, low, high, n = bootstrap(np.array(values, float), rng)
            rows.append(
                {
                    "population": part.population,
                    "us_commitment": part.setting.us_commitment,
                    "us_policy": part.setting.us_policy,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                }
            )
    return rows


def hash_name(name: str) -> int:
    """A stable 32-bit number for a name (a seed component that does not vary by process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def _axis(parts: Sequence[Part], population: str) -> list[Part]:
    chosen = [p for p in parts if p.population == population and p.setting.kind == "axis"]
    return sorted(chosen, key=lambda p: p.setting.us_commitment)


def tipping_point(
    parts: Sequence[Part],
    population: str,
    metric: str = "threshold_met",
    level: float = 0.5,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Where ``metric`` (mean over seeds) first crosses ``level`` along the commitment axis (linear
    interpolation between settings), with a bootstrap 95% CI that resamples the paired seeds
    jointly in every setting; ``found`` is the share of resamples with a crossing."""
    axis = _axis(parts, population)
    if len(axis) < 2:
        return {"point": None, "low": None, "high": None, "found": 0.0}
    c = np.array([p.setting.us_commitment for p in axis])
    values = np.array([p.metrics[metric] for p in axis], float)  # [settings, seeds]

    def crossing(means: np.ndarray) -> float | None:
        for i in range(len(c) - 1):
            a, b = means[i] - level, means[i + 1] - level
            if a == 0:
                return float(c[i])
            if a * b < 0:
                return float(c[i] + (c[i + 1] - c[i]) * a / (a - b))
        return None

    point = crossing(np.nanmean(values, axis=1))
    rng = np.random.default_rng(seed)
    n = values.shape[1]
    draws = [
        crossing(np.nanmean(values[:, rng.integers(0, n, n)], axis=1)) for _ in range(resamples)
    ]
    found = [d for d in draws if d is not None]
    low, high = np.percentile(found, [2.5, 97.5]).tolist() if found else (None, None)
    return {"point": point, "low": low, "high": high, "found": len(found) / resamples}


def slopes(
    parts: Sequence[Part], population: str, metric: str, resamples: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """Paired change of ``metric`` between consecutive commitments on the axis, with a bootstrap
    95% CI over seeds: positive where more commitment raises it (complementarity for
    contributions), negative where it lowers it (substitution)."""
    axis = _axis(parts, population)
    rng = np.random.default_rng(seed)
    out = []
    for left, right in zip(axis[:-1], axis[1:], strict=False):
        diff = np.array(right.metrics[metric], float) - np.array(left.metrics[metric], float)
        mean, low, high, n = bootstrap(diff, rng, resamples)
        out.append(
            {
                "from": left.setting.us_commitment,
                "to": right.setting.us_commitment,
                "change": mean,
                "low": low,
                "high": high,
                "n": n,
            }
        )
    return out


# ----------------------------------------------------------------------------- facts


@dataclass
class Fact:
    """One stylized fact of GAME.md in one population: holds, fails, mixed or not testable."""

    number: int
    statement: str
    population: str
    verdict: str
    evidence: str


def _means(part: Part, metric: str) -> float:
    values = np.array(part.metrics[metric], float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def _fact_one(parts: Sequence[Part], population: str) -> Fact:
    statement = (
        "As US commitment falls, contributors, the force and the threshold-met rate fall, with "
        "a tipping point rather than a straight line."
    )
    axis = _axis(parts, population)
    if len(axis) < 3:
        return Fact(1, statement, population, "not testable", "fewer than three settings")
    lines, verdicts = [], []
    for metric in ("contributors", "troops_deployed", "threshold_met"):
        series = [_means(p, metric) for p in axis]
        steps = slopes(parts, population, metric)
        total = series[-1] - series[0]
        biggest = max((abs(s["change"]) for s in steps), default=0.0)
        spread = sum(abs(s["change"]) for s in steps)
        rising = all(s["change"] >= -1e-9 for s in steps) and total > 0
        tipping = spread > 0 and biggest / spread >= 0.6
        verdicts.append((total > 0, rising, tipping))
        shown = ", ".join(f"{v:,.2f}" for v in series)
        lines.append(
            f"{metric}: {shown} at commitment "
            f"{', '.join(f'{p.setting.us_commitment:g}' for p in axis)}; "
            f"largest step {biggest / spread:.0%} of the total change"
            if spread
            else f"{metric}: {shown} (no change)"
        )
    tip = tipping_point(parts, population)
    if tip["point"] is not None:
        lines.append(
            f"threshold-met rate crosses 1/2 at commitment {tip['point']:.2f} "
            f"(95% CI {tip['low']:.2f}..{tip['high']:.2f}; a crossing in {tip['found']:.0%} of "
            "resamples)"
        )
    if all(up and tip_ for up, _, tip_ in verdicts):
        verdict = "holds"
    elif not any(up for up, _, _ in verdicts):
        verdict = "fails"
    else:
        verdict = "mixed"
    return Fact(1, statement, population, verdict, "; ".join(lines))


def _member_share(part: Part, figure: str) -> np.ndarray:
    """Per member, the mean over seeds of its share of the coalition's total ``figure``."""
    values = np.array(part.members[figure], float)  # [seeds, M]
    totals = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, values / totals, np.nan)
    return np.nanmean(shares, axis=0) if np.isfinite(shares).any() else shares[0]


def _strategies(part: Part) -> list[dict[str, str]]:
    return [eq["members"] for eq in part.notes.get("equilibria", [])]


def _fact_two(parts: Sequence[Part], population: str, scenario: Any) -> Fact:
    statement = (
        "Large leaders (UK, France) carry burdens above their GDP share; small members give "
        "enablers."
    )
    axis = [p for p in _axis(parts, population) if p.members]
    if not axis:
        return Fact(
            2, statement, population, "not testable", "no per-member figures in this population"
        )
    gdp = np.array([m.gdp_usd_bn for m in scenario.members], float)
    ids = axis[0].member_ids
    leaders = [ids.index(m) for m in ("uk", "france") if m in ids]
    gdp_share = float(gdp[leaders].sum() / gdp.sum())
    above, lines = [], []
    for part in axis:
        share = _member_share(part, "burden")
        if not np.isfinite(share).any():
            lines.append(f"c={part.setting.us_commitment:g}: nobody bears a burden")
            continue
        leaders_share = float(np.nansum(share[leaders]))
        above.append(leaders_share > gdp_share)
        lines.append(
            f"c={part.setting.us_commitment:g}: the UK and France bear {leaders_share:.0%} of "
            f"the burden with {gdp_share:.0%} of the GDP"
        )
    small = [m.id for m in scenario.members if m.gdp_usd_bn < np.median(gdp)]
    kinds = [
        s[m].split("/")[1]
        for part in axis
        for s in _strategies(part)
        for m in small
        if m in s and s[m] != "out"
    ]
    enablers = sum(k != "ground" for k in kinds)
    lines.append(
        f"members below the median GDP ({len(small)}): {enablers} enabler and "
        f"{len(kinds) - enablers} ground strategies over the equilibria found"
    )
    if not above:
        verdict = "not testable"
    elif all(above) and (not kinds or enablers >= len(kinds) / 2):
        verdict = "holds"
    elif not any(above):
        verdict = "fails"
    else:
        verdict = "mixed"
    return Fact(2, statement, population, verdict, "; ".join(lines))


def _fact_three(parts: Sequence[Part], population: str, scenario: Any) -> Fact:
    statement = (
        "Members under home threat substitute: enablers, logistics or basing on NATO soil "
        "instead of troops in Ukraine."
    )
    axis = [p for p in _axis(parts, population) if p.notes.get("equilibria")]
    if not axis:
        return Fact(
            3, statement, population, "not testable", "no strategies per member in this population"
        )
    threatened = [m.id for m in scenario.members if m.home_threat >= 0.7]
    if not threatened:
        return Fact(3, statement, population, "not testable", "no member under home threat")
    counts = {"ground": 0, "enablers": 0, "out": 0}
    for part in axis:
        for strategies in _strategies(part):
            for m in threatened:
                label = strategies.get(m, "out")
                kind = "out" if label == "out" else label.split("/")[1]
                counts[
                    "out" if kind == "out" else "ground" if kind == "ground" else "enablers"
                ] += 1
    evidence = (
        f"{', '.join(threatened)}: {counts['ground']} ground, {counts['enablers']} enabler and "
        f"{counts['out']} stay-out strategies over the equilibria at every commitment"
    )
    if counts["ground"] == 0 and counts["enablers"] > 0:
        verdict = "holds"
    elif counts["ground"] == 0:
        verdict = "mixed"  # no troops, but no substitute contribution either
    else:
        verdict = "fails" if counts["ground"] > counts["enablers"] else "mixed"
    return Fact(3, statement, population, verdict, evidence)


def _fact_four(parts: Sequence[Part]) -> Fact:
    statement = (
        "Higher collective risk raises pledges; intermediate risk gives the most failures and "
        "variance."
    )
    risk = sorted((p for p in parts if p.setting.kind == "risk"), key=lambda p: p.notes["risk"])
    if len(risk) < 3:
        return Fact(4, statement, "equilibrium", "not testable", "fewer than three risk levels")
    pledged = [
        float(np.nanmean(np.array(p.members["peak_pledged_k"], float).sum(axis=1))) * 1000
        for p in risk
    ]
    failures = [1.0 - _means(p, "threshold_met") for p in risk]
    spread = [float(np.nanstd(np.array(p.metrics["troops_deployed"], float))) for p in risk]
    levels = [p.notes["risk"] for p in risk]
    rising = pledged[-1] > pledged[0]
    middle = len(risk) // 2
    hump = failures[middle] >= max(failures) - 1e-9 and spread[middle] >= max(spread) - 1e-9
    evidence = "; ".join(
        f"r={r:g}: pledged {p:,.0f} troops, threshold missed in {f:.0%}, sd of the force {s:,.0f}"
        for r, p, f, s in zip(levels, pledged, failures, spread, strict=True)
    )
    verdict = "holds" if rising and hump else "fails" if not rising and not hump else "mixed"
    return Fact(4, statement, "equilibrium", verdict, evidence)


def _fact_five(parts: Sequence[Part], population: str, scenario: Any) -> Fact:
    statement = (
        "Pledges stay vague until a ceasefire; defection at conversion is highest where a "
        "parliament must vote (and lower after a signed declaration); a token force without a "
        "backstop does not stop Russian probing."
    )
    axis = [p for p in _axis(parts, population) if p.members]
    if not axis:
        return Fact(
            5, statement, population, "not testable", "no per-member figures in this population"
        )
    labels = [s[m] for part in axis for s in _strategies(part) for m in s if s[m] != "out"]
    conditional = sum(not label.split("/")[2].startswith("unconditional") for label in labels)
    voting = np.array([m.parliament_vote for m in scenario.members])
    conversion = {True: [], False: []}
    for part in axis:
        pledged = np.array(part.members["peak_pledged_k"], float)
        deployed = np.array(part.members["peak_deployed_k"], float)
        for vote in (True, False):
            cols = np.flatnonzero(voting == vote)
            p, d = pledged[:, cols].sum(), deployed[:, cols].sum()
            if p > 0:
                conversion[vote].append(d / p)
    vague = bool(labels) and conditional >= len(labels) / 2
    with_vote = float(np.mean(conversion[True])) if conversion[True] else math.nan
    without = float(np.mean(conversion[False])) if conversion[False] else math.nan
    # defection "highest where a parliament votes": conversion at least 5 points lower there
    votes_defect = with_vote < without - 0.05 if np.isfinite([with_vote, without]).all() else None
    token = [p for p in parts if p.setting.kind == "token" and p.population == population]
    probing = None
    token_text = "token-force check not run in this population"
    if token:
        by = {
            p.setting.us_policy: _means(p, "probes") + _means(p, "limited_violations")
            for p in token
        }
        bare = by.get("usa/disengaged", math.nan)
        backed = by.get("usa/committed-guarantor", math.nan)
        probing = bare > backed
        token_text = (
            f"with a token force and Russia at its best response, {bare:.2f} probes and "
            f"violations a game against a disengaged US, {backed:.2f} against a committed one"
        )
    evidence = (
        f"{conditional} of {len(labels)} pledging strategies wait for a ceasefire or the US; "
        f"conversion of pledges {with_vote:.0%} where a parliament votes, {without:.0%} where "
        f"none does (lower by 5 points or more counts); signed declarations: "
        + (
            "not in this scenario"
            if not any(m.declaration_signed for m in scenario.members)
            else "see the paris scenario"
        )
        + f"; {token_text}"
    )
    checks = [vague, votes_defect, probing]
    known = [c for c in checks if c is not None]
    verdict = "holds" if known and all(known) else "fails" if known and not any(known) else "mixed"
    return Fact(5, statement, population, verdict, evidence)


def stylized_facts(parts: Sequence[Part], scenario: Any) -> list[Fact]:
    """Every fact of GAME.md in every population that ran (see each check's evidence)."""
    populations = [p for p in POPULATIONS if any(x.population == p for x in parts)]
    facts = []
    for population in populations:
        facts.append(_fact_one(parts, population))
        facts.append(_fact_two(parts, population, scenario))
        facts.append(_fact_three(parts, population, scenario))
        facts.append(_fact_five(parts, population, scenario))
    if any(p.setting.kind == "risk" for p in parts):
        facts.append(_fact_four(parts))
    return sorted(facts, key=lambda f: (f.number, POPULATIONS.index(f.population)))


# ----------------------------------------------------------------------------- outputs


def write_outputs(
    options: Options,
    parts: Sequence[Part],
    out: Path,
    *,
    wall_s: float,
    command: str,
    echo: Callable[[str], None] = print,
    challenges: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """``results.csv``, ``plots/``, ``headline.png`` and ``summary.md`` from finished parts;
    ``challenges`` (see :func:`~reassurance.evaluation.experiment.russia_challenges`) go to
    ``challenges.json`` and a section of the summary."""
    main_parts = [p for p in parts if p.setting.kind in ("axis", "doctrine")]
    rows = result_rows(main_parts)
    columns = [
        "population",
        "us_commitment",
        "us_policy",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    _plots(main_parts, rows, out)
    scenario = load_scenario(options.scenario)
    facts = stylized_facts(parts, scenario)
    text = _summary(options, parts, rows, facts, wall_s, command, challenges)
    partial = out / "challenges.json.partial"  # read back by the next run: never half a file
    partial.write_text(json.dumps(list(challenges), indent=1))
    partial.replace(out / "challenges.json")
    summary = out / "summary.md"
    summary.write_text(text)
    (out / "facts.json").write_text(json.dumps([asdict(f) for f in facts], indent=1))
    echo(f"wrote {out / 'results.csv'}, {summary} and plots in {out / 'plots'}")
    return summary


def _cell(row: Mapping[str, Any] | None) -> str:
    if row is None or not np.isfinite(row["mean"]):
        return "n/a"
    fmt = "{:,.0f}" if abs(row["mean"]) >= 100 else "{:.2f}"
    return f"{fmt.format(row['mean'])} ({fmt.format(row['ci_low'])}..{fmt.format(row['ci_high'])})"


def _part_commits(parts: Sequence[Part]) -> str:
    """A sentence naming the commits the parts were made at, where any differs from this one."""
    made = sorted({p.commit for p in parts})
    if made == [commit()]:
        return ""
    counts = ", ".join(f"`{c}` ({sum(p.commit == c for p in parts)})" for c in made)
    return f" This run resumed parts made at other commits; parts per commit: {counts}."


def _summary(
    options: Options,
    parts: Sequence[Part],
    rows: Sequence[Mapping[str, Any]],
    facts: Sequence[Fact],
    wall_s: float,
    command: str,
    challenges: Sequence[Mapping[str, Any]] = (),
) -> str:
    index = {(r["population"], r["us_policy"], r["us_commitment"], r["metric"]): r for r in rows}
    populations = [p for p in POPULATIONS if any(x.population == p for x in parts)]
    axis = sorted({p.setting.us_commitment for p in parts if p.setting.kind == "axis"})
    doctrines = [p.setting for p in parts if p.setting.kind == "doctrine"]
    doctrines = list(dict.fromkeys(doctrines))
    lines = [
        f"# How US commitment changes the coalition: `{options.scenario}`",
        "",
        f"Command: `{command.strip()}`; commit `{commit()}`; {machine_line()}; wall time of this "
        f"run {wall_s:,.0f} s (the parts it ran), {sum(p.wall_s for p in parts):,.0f} s of "
        f"work in all parts.{_part_commits(parts)}",
        "",
        f"Evaluation seeds {options.eval_seeds[0]}..{options.eval_seeds[-1]} in every setting "
        "(paired: the same draws of Russia's resolve and the same noise); 95% bootstrap "
        "intervals over seeds. The equilibrium population averages the hidden US type and "
        "Russian resolve exactly per seed; the others draw them. For the equilibrium "
        "populations the intervals cover the evaluation seeds only, not which equilibrium is "
        "played (each start's counts once; see Equilibria found): a figure no random draw "
        "moves, such as the number of contributors, has an interval of zero width.",
        "",
        "![headline](headline.png)",
        "",
        "## The commitment axis (the US plays its type)",
        "",
    ]
    shown = (
        "contributors",
        "contributors_ground",
        "troops_deployed",
        "threshold_met",
        "violations",
        "probes",
        "russia_escalation",
    )
    for population in populations:
        lines += [
            f"### {population}",
            "",
            "| commitment | " + " | ".join(shown) + " |",
            "|" + "---|" * (len(shown) + 1),
        ]
        for c in axis:
            cells = [_cell(index.get((population, "usa/by-type", c, m))) for m in shown]
            lines.append(f"| {c:g} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Fixed US doctrines (at the scenario's recorded commitment)", ""]
    for population in populations:
        lines += [
            f"### {population}",
            "",
            "| US doctrine | " + " | ".join(shown) + " |",
            "|" + "---|" * (len(shown) + 1),
        ]
        for s in doctrines:
            cells = [_cell(index.get((population, s.us_policy, s.us_commitment, m))) for m in shown]
            lines.append(f"| `{s.us_policy}` | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Tipping point",
        "",
        "Where the threshold-met rate crosses 1/2 along the commitment axis (linear "
        "interpolation; the CI resamples the paired seeds in every setting at once).",
        "",
        "| population | crossing | 95% CI | resamples with a crossing |",
        "|---|---|---|---|",
    ]
    for population in populations:
        tip = tipping_point(parts, population)
        if tip["point"] is None:
            lines.append(f"| {population} | none | | {tip['found']:.0%} |")
        else:
            interval = f"{tip['low']:.2f}..{tip['high']:.2f}" if tip["low"] is not None else ""
            lines.append(f"| {population} | {tip['point']:.2f} | {interval} | {tip['found']:.0%} |")
    lines += [
        "",
        "## Substitution or complementarity",
        "",
        "Paired change of European contributions between neighbouring commitments (95% CI): "
        "complementarity where more commitment raises them, substitution where it lowers "
        "them.",
        "",
        "| population | metric | interval | change | 95% CI | reading |",
        "|---|---|---|---|---|---|",
    ]
    for population in populations:
        for metric in ("contributors", "troops_deployed"):
            for s in slopes(parts, population, metric):
                if not np.isfinite(s["change"]):
                    continue
                reading = (
                    "complementarity"
                    if s["low"] > 0
                    else "substitution"
                    if s["high"] < 0
                    else "no clear effect"
                )
                lines.append(
                    f"| {population} | {metric} | {s['from']:g} -> {s['to']:g} | "
                    f"{s['change']:.2f} | {s['low']:.2f}..{s['high']:.2f} | {reading} |"
                )
    lines += [
        "",
        "## The stylized facts of GAME.md, checked",
        "",
        "| fact | population | verdict | evidence |",
        "|---|---|---|---|",
    ]
    for fact in facts:
        lines.append(
            f"| {fact.number} | {fact.population} | **{fact.verdict}** | {fact.evidence} |"
        )
    lines += [
        "",
        "Facts: "
        + " ".join(f"({n}) {s}" for n, s in sorted({(f.number, f.statement) for f in facts})),
    ]
    lines += equilibrium_lines(parts)
    lines += _deviation_lines(parts)
    lines += challenge_lines(challenges)
    lines += psro_lines(parts)
    lines += [
        "",
        "`member/conditional-on-us` is scripted to follow the US signal: the "
        "`doctrines+conditional-on-us` population shows that stance, not evidence.",
    ]
    return "\n".join(lines) + "\n"


def equilibrium_lines(parts: Sequence[Part]) -> list[str]:
    """The summary's "Equilibria found": every equilibrium of the commitment axis, one line
    each (its starts, status, whether pooled, epsilon with its CI, Russia's doctrine and each
    contributing member's strategy)."""
    equilibria = [p for p in parts if p.population == "equilibrium" and p.setting.kind == "axis"]
    if not equilibria:
        return []
    lines = ["", "## Equilibria found", ""]
    for part in equilibria:
        for eq in part.notes["equilibria"]:
            members = " ".join(f"{m}={s}" for m, s in eq["members"].items() if s != "out")
            eps = eq["epsilon"]
            pooled = "" if eq.get("pooled", True) else "; not pooled: no equilibrium"
            lines.append(
                f"- c={part.setting.us_commitment:g} ({', '.join(eq['starts'])}; "
                f"{eq['status']}{pooled}; "
                f"epsilon {eps[0]:.3f}, CI {eps[1]:.3f}..{eps[2]:.3f}): "
                f"Russia `{eq['russia']}`; {members or 'every member stays out'}"
            )
    return lines


def psro_lines(parts: Sequence[Part]) -> list[str]:
    """The summary's "Policy-space response oracles": per setting and step, the equilibrium
    Russia's best response trained against, what switching to it gains Russia (with its CI,
    the threshold-met rate and Russia's escalation before and after), and the equilibria the
    search then found."""
    steps = [p for p in parts if p.population == "equilibrium+psro" and p.notes.get("psro")]
    if not steps:
        return []
    lines = [
        "",
        "## Policy-space response oracles (`equilibrium+psro`)",
        "",
        "Each step trains Russia's best response (PPO, Russia alone learning) against the "
        "previous step's equilibrium (the one most starts reached; step 1: the `equilibrium` "
        "population's), adds it to Russia's strategies and searches again. A gain whose CI "
        "is above 0 means that equilibrium did not survive a Russia that learned against it.",
        "",
        "| setting | step | trained against | Russia's gain (95% CI) | threshold met | "
        "Russia escalation | equilibria found (pooled) |",
        "|---|---|---|---|---|---|---|",
    ]
    for part in steps:
        s = part.setting
        where = f"c={s.us_commitment:g}" if s.kind == "axis" else f"`{s.us_policy}`"
        for note in part.notes["psro"]:
            target = note["target"]
            found = "; ".join(
                f"`{eq['russia']}`, {eq['contributors']} contributing ({len(eq['starts'])} starts)"
                for eq in note["found"]
                if eq["pooled"]
            )
            met, esc = note["threshold_met"], note["russia_escalation"]
            lines.append(
                f"| {where} | {note['step']} | `{target['russia']}`, {target['contributors']} "
                f"contributing | {_gain(note)} | {met[0]:.2f} -> {met[1]:.2f} | "
                f"{esc[0]:.1f} -> {esc[1]:.1f} | {found} |"
            )
    stopped = [
        p for p in steps if len(p.notes["psro"]) < p.notes.get("psro_steps", len(p.notes["psro"]))
    ]
    if stopped:
        lines += [
            "",
            "Stopped before the last step, because the equilibrium to train against had members "
            "Russia had trained against at an earlier step (its best response to them is already "
            "in its set): "
            + ", ".join(f"{p.setting.key} after step {len(p.notes['psro'])}" for p in stopped)
            + ".",
        ]
    return lines


def _gain(d: Mapping[str, Any]) -> str:
    """A switch's mean gain with its CI, as the summary's tables show it."""
    return f"{d['gain']:.3f} ({d['ci'][0]:.3f}..{d['ci'][1]:.3f})"


def _deviation_lines(parts: Sequence[Part]) -> list[str]:
    """The trained population's test: could one player gain by switching alone?"""
    tested = [p for p in parts if p.population == "trained" and "deviations" in p.notes]
    if not tested:
        return []
    lines = [
        "",
        "## Is the trained population at an equilibrium?",
        "",
        "Against the trained others (every training run of the setting, on the evaluation "
        "seeds): the member with the most to gain by switching alone to a strategy of the quick "
        "grid (stay out, or 5% or 20% of ground troops or logistics on each condition, "
        "reinforcing), and Russia's best switch to one of its doctrines; mean gain in return "
        "(reward units) with a 95% bootstrap CI over seeds. The switch is chosen on those seeds, "
        "so gains lean upward, and the grids are small, so a gain near 0 bounds nothing beyond "
        "them. A gain clearly above 0 means the trained profile is no equilibrium: the learners "
        "missed a better reply. Gains near 0 for every player mean it is one, on these grids.",
        "",
        "| setting | member | its best switch | gain (95% CI) | members who gain (CI above 0) "
        "| Russia's best switch | gain (95% CI) |",
        "|---|---|---|---|---|---|---|",
    ]
    for part in tested:
        setting = part.setting
        label = (
            f"c={setting.us_commitment:g}" if setting.kind == "axis" else f"`{setting.us_policy}`"
        )
        deviations = dict(part.notes["deviations"])
        russia = deviations.pop("russia")
        member, best = max(deviations.items(), key=lambda item: item[1]["gain"])
        gaining = sum(d["ci"][0] > 0 for d in deviations.values())
        lines.append(
            f"| {label} | {member} | `{best['switch']}` | {_gain(best)} | {gaining} of "
            f"{len(deviations)} | `{russia['switch']}` | {_gain(russia)} |"
        )
    return lines


def challenge_lines(challenges: Sequence[Mapping[str, Any]]) -> list[str]:
    """Do the equilibria survive a trained Russia? (see ``russia_challenges``)."""
    if not challenges:
        return []
    lines = [
        "",
        "## Do the equilibria survive a trained Russia?",
        "",
        "The equilibria above let Russia choose among its doctrines only. Here each pooled "
        "equilibrium's members play their strategies and Russia switches from its doctrine to "
        "the Russia policy trained in the same setting (the trained population's runs, "
        "averaged): Russia's mean gain in return (reward units, 95% bootstrap CI over the "
        "paired evaluation seeds), and the threshold-met rate and Russia's escalation before "
        "and after. A gain clearly above 0 means the profile is no equilibrium once Russia may "
        "play what it learned.",
        "",
        "| setting | equilibrium (its starts) | Russia's doctrine | members in | Russia's gain "
        "(95% CI) | threshold met | Russia's escalation | reading |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in challenges:
        label = f"c={c['us_commitment']:g}" if c["kind"] == "axis" else f"`{c['us_policy']}`"
        low, high = c["ci"]
        reading = (
            "breaks: Russia gains"
            if low > 0
            else "holds: Russia loses"
            if high < 0
            else "no clear gain"
        )
        met, escalation = c["threshold_met"], c["russia_escalation"]
        lines.append(
            f"| {label} | {', '.join(c.get('starts', [])) or 'n/a'} | `{c['russia']}` | "
            f"{c['contributors']} | {c['gain']:.2f} "
            f"({low:.2f}..{high:.2f}) | {met[0]:.2f} -> {met[1]:.2f} | "
            f"{escalation[0]:.1f} -> {escalation[1]:.1f} | {reading} |"
        )
    return lines


def _plots(parts: Sequence[Part], rows: Sequence[Mapping[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = out / "plots"
    folder.mkdir(exist_ok=True)
    populations = [p for p in POPULATIONS if any(x.population == p for x in parts)]
    colours = dict(
        zip(
            POPULATIONS,
            ("tab:blue", "tab:purple", "tab:red", "tab:green", "tab:orange", "tab:gray"),
            strict=True,
        )
    )

    def draw(ax_axis, ax_doctrine, metric: str) -> None:
        for population in populations:
            chosen = sorted(
                (
                    r
                    for r in rows
                    if r["population"] == population
                    and r["metric"] == metric
                    and r["us_policy"] == "usa/by-type"
                ),
                key=lambda r: r["us_commitment"],
            )
            if chosen:
                x = [r["us_commitment"] for r in chosen]
                ax_axis.plot(
                    x,
                    [r["mean"] for r in chosen],
                    "o-",
                    color=colours[population],
                    label=population,
                )
                ax_axis.fill_between(
                    x,
                    [r["ci_low"] for r in chosen],
                    [r["ci_high"] for r in chosen],
                    color=colours[population],
                    alpha=0.2,
                )
            fixed = [
                r
                for r in rows
                if r["population"] == population
                and r["metric"] == metric
                and r["us_policy"] != "usa/by-type"
            ]
            if fixed and ax_doctrine is not None:
                names = [r["us_policy"].split("/")[1] for r in fixed]
                means = np.array([r["mean"] for r in fixed])
                err = np.array(
                    [[m - r["ci_low"], r["ci_high"] - m] for m, r in zip(means, fixed, strict=True)]
                ).T
                ax_doctrine.errorbar(
                    names,
                    means,
                    yerr=np.nan_to_num(err),
                    fmt="o",
                    color=colours[population],
                    capsize=3,
                )
        ax_axis.set_xlabel("US commitment (prior that the US backs the force)")
        ax_axis.set_title(metric)
        ax_axis.grid(alpha=0.3)
        if ax_doctrine is not None:
            ax_doctrine.set_title(f"{metric}: fixed US doctrines")
            ax_doctrine.tick_params(axis="x", rotation=20)
            ax_doctrine.grid(alpha=0.3)

    for metric in KEY_METRICS:
        fig, (left, right) = plt.subplots(
            1, 2, figsize=(11, 4), constrained_layout=True, gridspec_kw={"width_ratios": [3, 2]}
        )
        draw(left, right, metric)
        left.legend(fontsize=8)
        fig.savefig(folder / f"{metric}.png", dpi=100)
        plt.close(fig)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    for ax, metric in zip(
        axes.ravel(),
        ("contributors_ground", "troops_deployed", "threshold_met", "violations"),
        strict=True,
    ):
        draw(ax, None, metric)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("US commitment and the coalition (mean, 95% CI over paired seeds)")
    fig.savefig(out / "headline.png", dpi=100)
    plt.close(fig)
