"""The research answer: how US commitment changes the coalition, and what Russia does.

``reassurance experiment us-commitment`` sweeps US commitment two ways and measures each
incentive-driven population on the same evaluation seeds in every setting:

- **settings**: (a) the commitment axis ``usa.commitment`` with the US playing its private type
  (``usa/by-type``); (b) the US played by fixed doctrines, from disengaged to committed
  guarantor, at the scenario's recorded commitment (the public prior);
- **populations**:

  1. ``equilibrium``: members and Russia at the equilibria the analyser finds in the setting
     (:mod:`reassurance.evaluation.equilibrium`; every start's equilibrium counts once);
  2. ``equilibrium+trained-russia``: the same analysis with Russia also free to play the
     Russia policies trained in the setting (population 3's runs, played greedily): one step of
     policy-space response oracles, so that equilibria which only hold against Russia's
     doctrines show as such;
  2b. ``equilibrium+psro`` (not run unless ``--populations`` names it; ``--psro-steps``, default 2):
     policy-space response oracles in Russia's direction from population 1: each step trains
     Russia's best response (PPO, Russia alone learning) against the members of the last
     step's equilibrium, adds it to Russia's strategies and searches again; a setting stops
     when the members it would train against are unchanged;
  3. ``trained``: members, Russia and (on the axis) the US, trained by RLlib in the setting with
     the sweep machinery (:mod:`reassurance.training.sweep`), then played on the evaluation
     seeds, and tested: can a member gain by switching to a grid strategy, or Russia to a
     doctrine, against the others as trained? Also: can Russia gain by switching to its trained
     policy against population 1's equilibria (``challenges.json``)?
  4. ``doctrines``: coalitions mixing heuristic member doctrines (each member draws one), Russia
     drawing one of its doctrines, without the scripted ``member/conditional-on-us``;
  5. ``doctrines+conditional-on-us``: the same with ``member/conditional-on-us`` in the mix,
     reported apart because that doctrine is scripted to follow the US (a stance, not evidence).

- **paired seeds**: every setting and population uses the evaluation seeds ``10000 ..``: the same
  draws of Russia's resolve, the same votes, detections and noise (the US type follows the
  setting's prior from the same draw); differences between settings are paired.

Files in ``--out``: ``results.csv`` (population, us_commitment, us_policy, metric, mean, ci_low,
ci_high, n: bootstrap 95% CIs that resample seeds), ``plots/*.png`` (each key metric against
commitment, one line per population with its CI band; the doctrine settings beside them),
``headline.png``, ``summary.md`` (GAME.md's stylized facts per population with the evidence,
the tipping point with a CI, substitution and complementarity), and ``parts/`` (one JSON per
population and setting: a rerun skips finished parts, so a killed run resumes where it was);
``trained/`` and ``psro/`` hold the training runs (``psro/<setting>/step<k>.json``: each
finished step, so a killed run resumes at its step).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from reassurance import agents
from reassurance.agents import make
from reassurance.envs import load_scenario
from reassurance.envs.actions import Condition, Contribution
from reassurance.envs.metrics import SUMMARY
from reassurance.evaluation.equilibrium import (
    MEMBER_GRID,
    QUICK_MEMBER_GRID,
    RUSSIA_GRID,
    Game,
    GridMember,
    MemberStrategy,
    evaluate_profiles,
    find_equilibria,
    russia_label,
    trained_russia,
)
from reassurance.evaluation.findings import DEFAULT_POPULATIONS, POPULATIONS, write_outputs
from reassurance.runtime import BACKENDS
from reassurance.runtime import commit as commit_of_checkout

__all__ = [
    "POPULATIONS",
    "Options",
    "Part",
    "Setting",
    "register",
    "run_experiment",
    "settings_for",
]

EVAL_SEED = 10_000  # the first evaluation seed; search seeds start at 0
US_DOCTRINES = (
    "usa/disengaged",
    "usa/words-only",
    "usa/conditional-backstop",
    "usa/committed-guarantor",
)
"""The fixed US doctrines of settings (b), from disengaged to committed guarantor."""
MEMBER_DOCTRINES = (
    "member/unconditional",
    "member/free-rider",
    "member/leader",
    "member/home-defender",
    "member/reciprocator",
    "member/pledge-and-renege",
)
"""The member doctrines mixed in the doctrine population (``conditional-on-us`` apart)."""
RUSSIA_DOCTRINES = (
    "russia/opportunist",
    "russia/hawk",
    "russia/negotiator",
    "russia/salami-slicer",
)


@dataclass(frozen=True)
class Setting:
    """One setting: on the commitment axis (the US plays its type), a fixed US doctrine, a level
    of collective risk (fact 4: ``risk`` is ``collective_risk.probability``), or a token force
    facing Russia's best response (fact 5)."""

    kind: str  # "axis", "doctrine", "risk" or "token"
    us_commitment: float
    us_policy: str
    risk: float | None = None

    @property
    def key(self) -> str:
        if self.kind == "axis":
            return f"axis-c{self.us_commitment:.2f}"
        if self.kind == "risk":
            return f"risk-r{self.risk:.2f}"
        return f"{self.kind}-" + self.us_policy.replace("/", "-")

    def overrides(self) -> dict[str, float]:
        out = {"usa.commitment": self.us_commitment}
        if self.risk is not None:
            out["collective_risk.probability"] = self.risk
        return out


@dataclass(frozen=True)
class Options:
    """How big the experiment is. ``quick``: classroom-sized populations in minutes."""

    scenario: str = "classroom"
    quick: bool = False
    seeds: int | None = None
    populations: tuple[str, ...] = DEFAULT_POPULATIONS
    commitments: tuple[float, ...] | None = None
    checks: bool = True  # the targeted settings of facts 4 and 5
    grid: tuple[MemberStrategy, ...] | None = None  # the members' grid, if not the default
    psro_steps: int | None = None  # steps of equilibrium+psro (default 2; quick 1)

    @property
    def eval_seeds(self) -> list[int]:
        n = self.seeds or (8 if self.quick else 24)
        return list(range(EVAL_SEED, EVAL_SEED + n))

    @property
    def doctrine_seeds(self) -> list[int]:
        """The doctrine populations are cheap: more seeds, the first ones the paired ones."""
        n = max(self.seeds or 0, 64 if self.quick else 256)
        return list(range(EVAL_SEED, EVAL_SEED + n))

    @property
    def member_grid(self) -> tuple[MemberStrategy, ...]:
        if self.grid is not None:
            return self.grid
        return QUICK_MEMBER_GRID if self.quick else MEMBER_GRID

    @property
    def search_seeds(self) -> int:
        return 2 if self.quick else 4

    @property
    def train_iterations(self) -> int:
        return 4 if self.quick else 30

    @property
    def train_seeds(self) -> int:
        return 1 if self.quick else 2

    @property
    def psro_step_count(self) -> int:
        if self.psro_steps is not None:
            return self.psro_steps
        return 1 if self.quick else 2


def settings_for(options: Options) -> list[Setting]:
    """The settings of the sweep: the commitment axis, then the fixed US doctrines at the
    scenario's recorded commitment (the public prior)."""
    scenario = load_scenario(options.scenario)
    commitments = options.commitments or (
        (0.0, 0.5, 1.0) if options.quick else (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    axis = [Setting("axis", float(c), "usa/by-type") for c in commitments]
    doctrines = US_DOCTRINES[::3] if options.quick else US_DOCTRINES
    stance = float(scenario.usa.commitment)
    return axis + [Setting("doctrine", stance, d) for d in doctrines]


def checks_for(options: Options) -> list[Setting]:
    """The targeted settings of facts 4 and 5, played by the equilibrium population only:
    collective risk at three levels, and a token force against a disengaged or committed US."""
    stance = float(load_scenario(options.scenario).usa.commitment)
    risk = [Setting("risk", stance, "usa/by-type", r) for r in (0.1, 0.5, 0.9)]
    token = [Setting("token", stance, us) for us in ("usa/disengaged", "usa/committed-guarantor")]
    return risk + token


# ----------------------------------------------------------------------------- parts


@dataclass
class Part:
    """One population in one setting: per evaluation seed, every summary figure and, where the
    population has them, each member's figures; plus what produced them."""

    population: str
    setting: Setting
    seeds: list[int]
    metrics: dict[str, list[float]]
    members: dict[str, list[list[float]]] = field(default_factory=dict)
    member_ids: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    # the commit of the code that made this part (a resumed run may mix parts of several)
    commit: str = field(default_factory=commit_of_checkout)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> Part:
        data = json.loads(text)
        data["setting"] = Setting(**data["setting"])
        data.setdefault("commit", "unknown")  # parts written before parts kept their commit
        return cls(**data)


WITH_TRAINED_RUSSIA = "equilibrium+trained-russia"
"""The equilibrium population found with Russia also free to play the policies trained in the
setting (greedily), besides its doctrines."""


def _game(options: Options, setting: Setting, russia_runs: Sequence[str] = ()) -> Game:
    """The analyser's game of a setting: the members' grid (a token force only, in token
    settings), Russia's doctrines and the Russia policies of ``russia_runs`` (played greedily)."""
    grid = options.member_grid
    if setting.kind == "token":  # every member holds a token ground force; only Russia chooses
        grid = (MemberStrategy(1, Contribution.GROUND, Condition.UNCONDITIONAL),)
    return Game(
        scenario=options.scenario,
        usa=setting.us_policy,
        overrides=setting.overrides(),
        member_grid=grid,
        russia_grid=(*RUSSIA_GRID, *(trained_russia(run) for run in russia_runs)),
    )


def _equilibrium_part(
    options: Options,
    setting: Setting,
    population: str = "equilibrium",
    russia_runs: Sequence[str] = (),
) -> Part:
    started = time.perf_counter()
    game = _game(options, setting, russia_runs)
    grid = game.member_grid
    seeds = np.array(options.eval_seeds, np.int64)
    searches, equilibria = find_equilibria(
        game,
        search_seeds=np.arange(options.search_seeds, dtype=np.int64),
        eval_seeds=seeds,
        random_starts=0 if options.quick else 1,
        rounds=6,
        resamples=200,
    )
    # Only profiles where best response stopped are equilibria: a cycle's last profile is not one
    # and is reported, not pooled (unless no start converged, which the notes then say).
    converged = [eq for eq in equilibria if eq.status == "converged"]
    pool = converged or equilibria
    weights = np.array([len(eq.starts) for eq in pool], float)
    weights /= weights.sum()

    def pooled(values: Sequence[np.ndarray]) -> list[float]:
        stacked = np.stack([np.asarray(v, float) for v in values])  # [equilibria, seeds, ...]
        w = weights.reshape(-1, *([1] * (stacked.ndim - 1)))
        mask = ~np.isnan(stacked)
        total = (w * mask).sum(axis=0)
        with np.errstate(invalid="ignore"):
            mean = np.where(total > 0, np.nansum(stacked * w, axis=0) / total, np.nan)
        return mean.tolist()

    sc = load_scenario(options.scenario)
    member_ids = [m.id for m in sc.members]
    metrics = {f.name: pooled([eq.outcome.summaries[f.name] for eq in pool]) for f in SUMMARY}
    members = {
        name: pooled([eq.outcome.members[name] for eq in pool]) for name in pool[0].outcome.members
    }
    notes = {
        "equilibria": [
            {
                "starts": eq.starts,
                "status": eq.status,
                "members": eq.member_labels(member_ids),
                "russia": eq.russia_label,
                "epsilon": list(eq.epsilon),
                "epsilon_player": eq.epsilon_player,
                "pooled": any(eq is p for p in pool),
            }
            for eq in equilibria
        ],
        "pooled": "converged" if converged else "none converged: every profile reached",
        "searches": [{"start": s.start, "status": s.status, "rounds": s.rounds} for s in searches],
        "grid": len(grid),
        "search_seeds": options.search_seeds,
        "risk": setting.risk,
    }
    if russia_runs:
        notes["russia_runs"] = list(russia_runs)
    return Part(
        population,
        setting,
        list(options.eval_seeds),
        metrics,
        members,
        member_ids,
        notes,
        time.perf_counter() - started,
    )


def _doctrine_lineups(
    member_ids: Sequence[str], seeds: Sequence[int], population: Sequence[str], us: str
) -> list[dict[str, str]]:
    """Per game, each member's doctrine and Russia's, drawn from generators seeded by the game's
    seed (so a seed gives the same mix in every setting)."""
    lineups = []
    for seed in seeds:
        rng = np.random.default_rng([seed, 2025])
        lineup = {m: population[int(rng.integers(len(population)))] for m in member_ids}
        lineup["russia"] = RUSSIA_DOCTRINES[int(rng.integers(len(RUSSIA_DOCTRINES)))]
        lineup["usa"] = us
        lineups.append(lineup)
    return lineups


def _doctrine_part(options: Options, setting: Setting, population: str) -> Part:
    started = time.perf_counter()
    sc = load_scenario(options.scenario)
    member_ids = [m.id for m in sc.members]
    doctrines = MEMBER_DOCTRINES
    if population == "doctrines+conditional-on-us":
        doctrines = (*MEMBER_DOCTRINES, "member/conditional-on-us")
    seeds = options.doctrine_seeds
    lineups = _doctrine_lineups(member_ids, seeds, doctrines, setting.us_policy)
    results = agents.play_matches(options.scenario, lineups, seeds, overrides=setting.overrides())
    metrics = {f.name: [float(r.summary[f.name]) for r in results] for f in SUMMARY}
    notes = {"member_doctrines": list(doctrines), "russia_doctrines": list(RUSSIA_DOCTRINES)}
    return Part(
        population,
        setting,
        list(seeds),
        metrics,
        {},
        member_ids,
        notes,
        time.perf_counter() - started,
    )


# ----------------------------------------------------------------------------- trained


def _train_settings(options: Options, train: list[str], opponents: dict[str, Any]) -> Any:
    """The experiment's PPO settings: ``train`` learn, ``opponents`` are fixed."""
    from reassurance.training.config import load_settings

    return load_settings(
        "ppo",
        scenario=options.scenario,
        iterations=options.train_iterations,
        checkpoint_every=min(10, options.train_iterations),
        ppo={"train_batch_size": 256 if options.quick else 2048, "minibatch_size": 128},
        train=train,
        opponents=opponents,
    )


def training_groups(
    options: Options, settings: Sequence[Setting]
) -> list[tuple[str, list[Setting], Any]]:
    """How the trained population of ``settings`` is trained: ``(group, settings, training
    settings)`` per sweep, the runs of a group in ``OUT/trained/<group>/``. The axis settings
    form one group in which the members, Russia and the US (one policy over its types) learn;
    each fixed US doctrine is a group in which the members and Russia learn. Runs checkpoint
    every 10 iterations, so a killed run resumes from its last checkpoint."""

    def trainer(train: list[str], opponents: dict[str, Any]) -> Any:
        return _train_settings(options, train, opponents)

    axis = [s for s in settings if s.kind == "axis"]
    groups: list[tuple[str, list[Setting], Any]] = []
    if axis:
        groups.append(("axis", axis, trainer(["member", "russia", "usa"], {})))
    for setting in (s for s in settings if s.kind == "doctrine"):
        opponents = {"usa": {"agent": setting.us_policy}}
        groups.append((setting.key, [setting], trainer(["member", "russia"], opponents)))
    return groups


def _trained_parts(
    options: Options, settings: Sequence[Setting], out: Path, address: str | None
) -> Iterator[Part]:
    """Train every group of :func:`training_groups` as one Tune run, the groups' trials side by
    side as resources allow (on a cluster, all at once; Tune's state in ``OUT/trained/tune``),
    then play the trained policies of each setting on the evaluation seeds, yielding its part.
    A part's wall time is its share of the training (settings share it equally: each has as
    many trials) and its own evaluation."""
    from reassurance.training.sweep import Sweep, run_sweeps

    groups = training_groups(options, settings)
    specs = [
        Sweep(
            trained_settings,
            "usa.commitment",
            [s.us_commitment for s in chosen],
            options.train_seeds,
            out / "trained" / name,
        )
        for name, chosen, trained_settings in groups
    ]
    started = time.perf_counter()
    run_sweeps(specs, out / "trained", address=address, echo=lambda line: None)
    share = (time.perf_counter() - started) / sum(len(chosen) for _, chosen, _ in groups)
    for (_, chosen, _), spec in zip(groups, specs, strict=True):
        for setting in chosen:
            played = time.perf_counter()
            runs = sorted((spec.out / "trials").glob(f"commitment={setting.us_commitment}_seed=*"))
            part = _play_trained(options, setting, runs, 0.0)
            yield replace(part, wall_s=share + time.perf_counter() - played)


def _play_trained(options: Options, setting: Setting, runs: Sequence[Path], wall: float) -> Part:
    seeds = options.eval_seeds
    overrides = {"usa.commitment": setting.us_commitment}
    member_ids = [m.id for m in load_scenario(options.scenario).members]
    per_run, deviations = [], []
    for run in runs:
        lineup: dict[str, Any] = {
            "member": agents.from_checkpoint(run, role="member"),
            "russia": agents.from_checkpoint(run, role="russia"),
            "usa": setting.us_policy,
        }
        if setting.kind == "axis":
            lineup["usa"] = agents.from_checkpoint(run, role="usa")
        results = agents.play_matches(options.scenario, lineup, seeds, overrides=overrides)
        per_run.append({f.name: [float(r.summary[f.name]) for r in results] for f in SUMMARY})
        deviations.append(_deviation_gains(options, member_ids, lineup, results, overrides))
    with warnings.catch_warnings():  # a figure with nothing to measure in every run stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        metrics = {
            name: np.nanmean(np.array([r[name] for r in per_run], float), axis=0).tolist()
            if per_run
            else [math.nan] * len(seeds)
            for name in (f.name for f in SUMMARY)
        }
    notes: dict[str, Any] = {"runs": [str(r) for r in runs], "iterations": options.train_iterations}
    if deviations:
        notes["deviations"] = _best_deviations(member_ids, deviations)
    return Part("trained", setting, list(seeds), metrics, {}, [], notes, wall)


DEVIATION_GRID = QUICK_MEMBER_GRID
"""The strategies a trained member is tested against: staying out, and 5% or 20% of ground
troops or logistics on each condition (a lower bound on its best gain over all strategies)."""


def _deviation_gains(
    options: Options,
    member_ids: Sequence[str],
    lineup: dict[str, Any],
    trained: Sequence[agents.MatchResult],
    overrides: dict[str, float],
) -> dict[str, np.ndarray]:
    """What each player gains (return, reward units) on each evaluation seed by switching from
    its trained policy, the other seats keeping theirs: ``members`` ``[M, G, S]`` for each
    strategy of :data:`DEVIATION_GRID`, ``russia`` ``[R, S]`` for each of Russia's doctrines
    (:data:`~reassurance.evaluation.equilibrium.RUSSIA_GRID`). Paired: the same seed gives the
    same draws to every seat whatever one player plays."""
    seeds = list(options.eval_seeds)
    switches = [(member, GridMember(strategy)) for member in member_ids
                for strategy in DEVIATION_GRID]  # fmt: skip
    switches += [("russia", make(agent, **params)) for agent, params in RUSSIA_GRID]
    lineups = [{**lineup, seat: policy} for seat, policy in switches for _ in seeds]
    results = agents.play_matches(
        options.scenario, lineups, seeds * len(switches), overrides=overrides
    )
    gains = np.array(
        [
            results[i * len(seeds) + k].returns[seat] - trained[k].returns[seat]
            for i, (seat, _) in enumerate(switches)
            for k in range(len(seeds))
        ]
    ).reshape(len(switches), len(seeds))
    split_at = len(member_ids) * len(DEVIATION_GRID)
    return {
        "members": gains[:split_at].reshape(len(member_ids), len(DEVIATION_GRID), len(seeds)),
        "russia": gains[split_at:],
    }


def _best_deviations(
    member_ids: Sequence[str], runs: Sequence[dict[str, np.ndarray]]
) -> dict[str, Any]:
    """Per member and for Russia, the best switch against the trained others and its mean gain
    over seeds with a bootstrap 95% CI (the switch chosen on the same seeds, so the gain leans
    upward); gains are averaged over training runs first."""
    members = np.mean([r["members"] for r in runs], axis=0)  # [M, G, S]
    russia = np.mean([r["russia"] for r in runs], axis=0)  # [R, S]
    rng = np.random.default_rng(0)
    draws = rng.integers(0, russia.shape[-1], (1000, russia.shape[-1]))

    def best(gains: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
        means = gains.mean(axis=1)
        k = int(np.argmax(means))
        low, high = np.percentile(gains[k][draws].mean(axis=1), [2.5, 97.5])
        mean = float(means[k])
        return {
            "switch": labels[k],
            "gain": mean,
            "ci": [min(float(low), mean), max(float(high), mean)],
        }

    out = {
        member: best(members[m], [s.label for s in DEVIATION_GRID])
        for m, member in enumerate(member_ids)
    }
    out["russia"] = best(russia, [russia_label(entry) for entry in RUSSIA_GRID])
    return out


def _pledging(members: dict[str, str]) -> int:
    """Members of a profile (member id -> grid strategy label) that do not stay out."""
    return sum(label != "out" for label in members.values())


def russia_challenges(
    options: Options, parts: Sequence[Part], out: Path, previous: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Do the equilibria survive a trained Russia? Against each pooled equilibrium of a setting
    that also has a trained population, Russia's gain in return (reward units) from switching
    from its equilibrium doctrine to each trained Russia policy of that setting (averaged over
    training runs), paired on the evaluation seeds, with a bootstrap 95% CI; and the
    threshold-met rate and Russia's escalation under each. The equilibria were found with
    Russia choosing among its doctrines only: a clearly positive gain means the profile is no
    equilibrium once Russia may play what it learned. The runs are those of the experiment
    folder ``out`` (see :func:`trained_runs`); where a setting's runs are gone (a results
    folder kept without its 100 MB of checkpoints), its challenges in ``previous`` (the folder's
    last ``challenges.json``) are kept rather than lost."""
    trained = {p.setting for p in parts if p.population == "trained"}
    strategies = {s.label: s for s in (*MEMBER_GRID, *QUICK_MEMBER_GRID)}
    russia_entries = {russia_label(entry): entry for entry in RUSSIA_GRID}
    seeds = list(options.eval_seeds)
    rng = np.random.default_rng(0)
    draws = rng.integers(0, len(seeds), (1000, len(seeds)))
    found = []
    for part in parts:
        if part.population != "equilibrium" or part.setting not in trained:
            continue
        setting = part.setting
        runs = trained_runs(out, setting)
        if not runs:
            key = (setting.kind, setting.us_commitment, setting.us_policy)
            found += [c for c in previous if (c["kind"], c["us_commitment"], c["us_policy"]) == key]
            continue
        overrides = setting.overrides()
        for eq in part.notes["equilibria"]:
            if not eq.get("pooled", True):
                continue
            lineup: dict[str, Any] = {
                m: GridMember(strategies[label]) for m, label in eq["members"].items()
            }
            lineup["usa"] = setting.us_policy
            agent, params = russia_entries[eq["russia"]]
            base = agents.play_matches(
                options.scenario, {**lineup, "russia": make(agent, **params)}, seeds,
                overrides=overrides,
            )  # fmt: skip
            challengers = [
                agents.play_matches(
                    options.scenario,
                    {**lineup, "russia": agents.from_checkpoint(run, role="russia")},
                    seeds,
                    overrides=overrides,
                )
                for run in runs
            ]
            gains = np.mean(
                [[c.returns["russia"] - b.returns["russia"] for c, b in zip(results, base,
                  strict=True)] for results in challengers],
                axis=0,
            )  # fmt: skip
            low, high = np.percentile(gains[draws].mean(axis=1), [2.5, 97.5])
            mean = float(gains.mean())

            def rate(results: Sequence[agents.MatchResult], name: str) -> float:
                return float(np.mean([float(r.summary[name]) for r in results]))

            found.append(
                {
                    "kind": setting.kind,
                    "us_commitment": setting.us_commitment,
                    "us_policy": setting.us_policy,
                    "russia": eq["russia"],
                    "starts": list(eq.get("starts", [])),
                    "contributors": _pledging(eq["members"]),
                    "gain": mean,
                    "ci": [min(float(low), mean), max(float(high), mean)],
                    "threshold_met": [
                        rate(base, "threshold_met"),
                        float(np.mean([rate(c, "threshold_met") for c in challengers])),
                    ],
                    "russia_escalation": [
                        rate(base, "russia_escalation"),
                        float(np.mean([rate(c, "russia_escalation") for c in challengers])),
                    ],
                    "runs": len(runs),
                }
            )
    return found


# ----------------------------------------------------------------------------- psro

PSRO = "equilibrium+psro"
"""The equilibrium population that Russia's response oracle moves: policy-space response
oracles (PSRO) from the ``equilibrium`` population. Each step trains Russia's best response (PPO,
Russia alone learning) against the previous step's equilibrium (its members' strategies, the
setting's US and Ukraine), adds it to Russia's strategies and searches again; the members'
oracle is their exact best response on the grid. Step 1 starts from the equilibria Russia's
doctrines allow."""


def psro_target(part: Part) -> dict[str, Any]:
    """The equilibrium of ``part`` that Russia's next best response trains against: the pooled
    one that most starts reached (the first of those)."""
    pooled = [eq for eq in part.notes.get("equilibria", []) if eq.get("pooled", True)]
    if not pooled:
        raise ValueError(
            f"the {part.population} part of {part.setting.key} lists no pooled equilibrium to "
            "train Russia's best response against"
        )
    return max(pooled, key=lambda eq: len(eq["starts"]))


def psro_folder(out: Path, setting: Setting) -> Path:
    """Where ``equilibrium+psro`` keeps a setting's steps: ``step<k>/`` (Russia's training
    runs of step k) and ``step<k>.json`` (the search of step k, a part)."""
    return out / "psro" / setting.key


def psro_runs(out: Path, setting: Setting, step: int) -> list[Path]:
    """Russia's best responses of steps 1..``step`` (finished runs, step by step, in seed order)."""
    from reassurance.training.run import latest_checkpoint

    runs = [
        run
        for k in range(1, step + 1)
        for run in sorted((psro_folder(out, setting) / f"step{k}" / "trials").glob("*"))
    ]
    return [run for run in runs if latest_checkpoint(run) is not None]


def _check_psro_target(
    options: Options, setting: Setting, step: int, target: dict[str, Any], out: Path
) -> None:
    """Before step ``step`` of ``setting`` trains: the target's strategies are on the members'
    grid, and the step's folder, if a killed run left one, was made against the same target
    (else it is refused, naming both); a new folder records the target."""
    grid = {s.label for s in _game(options, setting).member_grid}
    off = sorted({label for label in target["members"].values()} - grid)
    if off:
        raise ValueError(
            f"{PSRO} step {step} of {setting.key}: the equilibrium to train against plays "
            f"{off}, not on the members' grid of this run ({len(grid)} strategies; were the "
            "equilibrium parts made with another grid?)"
        )
    folder = psro_folder(out, setting) / f"step{step}"
    record = folder / "target.json"
    wanted = {"members": target["members"], "russia": target["russia"]}
    if record.is_file():
        made = json.loads(record.read_text())
        if made != wanted:
            raise ValueError(
                f"{PSRO} step {step} of {setting.key}: {folder} was made against {made}, but "
                f"the equilibrium to train against is now {wanted} (were the equilibrium parts "
                f"made again?); delete {psro_folder(out, setting)} to run its steps again"
            )
        return
    done = psro_folder(out, setting) / f"step{step}.json"
    if done.is_file():  # a finished step made before target.json existed: read its notes
        note = Part.from_json(done.read_text()).notes["psro"]
        if note["target"]["members"] != wanted["members"]:
            raise ValueError(
                f"{PSRO} step {step} of {setting.key}: {done} was trained against "
                f"{note['target']['members']}, but the equilibrium to train against is now "
                f"{wanted['members']}; delete {psro_folder(out, setting)} to run its steps again"
            )
    folder.mkdir(parents=True, exist_ok=True)
    _save(record, json.dumps(wanted, indent=1))


def psro_training(options: Options, setting: Setting, target: dict[str, Any]) -> Any:
    """Training settings of Russia's best response to ``target`` (an equilibrium of the
    setting, as its part's notes hold it): Russia learns; the members play the target's
    strategies (``member/grid-profile``), the US and Ukraine play as in the analyser's game."""
    member_ids = [m.id for m in load_scenario(options.scenario).members]
    profile = [target["members"][m] for m in member_ids]
    return _train_settings(
        options,
        ["russia"],
        {
            "member": {"agent": "member/grid-profile", "params": {"strategies": profile}},
            "usa": {"agent": setting.us_policy},
            "ukraine": {"agent": Game.ukraine},
        },
    )


def _psro_step(
    options: Options,
    setting: Setting,
    step: int,
    target: dict[str, Any],
    runs: Sequence[str],
    new_runs: Sequence[str],
) -> str:
    """One step's part as JSON (a parallel job): the search with Russia's strategies grown by
    ``new_runs``, and how much those best responses gain Russia against ``target``, paired on the
    evaluation seeds (reward units, bootstrap 95% CI), with the threshold-met rate and Russia's
    escalation before and after. Its wall time includes that measure."""
    started = time.perf_counter()
    part = _equilibrium_part(options, setting, PSRO, runs)
    game = _game(options, setting, runs)
    labels = [russia_label(entry) for entry in game.russia_grid]
    grid = [s.label for s in game.member_grid]
    member_ids = part.member_ids
    profile = np.array([grid.index(target["members"][m]) for m in member_ids], np.int64)
    responses = [labels.index(russia_label(trained_russia(run))) for run in new_runs]
    russia = np.array([labels.index(target["russia"]), *responses], np.int64)
    seeds = np.array(options.eval_seeds, np.int64)
    n = len(seeds)
    outcome = evaluate_profiles(
        game,
        np.tile(profile, (len(russia) * n, 1)),
        np.repeat(russia, n),
        np.tile(seeds, len(russia)),
    )
    returns = outcome.russia_returns.reshape(len(russia), n)
    gains = (returns[1:] - returns[0]).mean(axis=0)
    draws = np.random.default_rng(0).integers(0, n, (1000, n))
    low, high = np.percentile(gains[draws].mean(axis=1), [2.5, 97.5])
    mean = float(gains.mean())

    def figure(name: str) -> list[float]:
        values = outcome.summaries[name].reshape(len(russia), n)
        return [float(values[0].mean()), float(values[1:].mean())]

    part.notes["psro"] = {
        "step": step,
        "target": {
            "russia": target["russia"],
            "starts": list(target["starts"]),
            "contributors": _pledging(target["members"]),
            "members": dict(target["members"]),
        },
        "new_runs": list(new_runs),
        "gain": mean,
        "ci": [min(float(low), mean), max(float(high), mean)],
        "threshold_met": figure("threshold_met"),
        "russia_escalation": figure("russia_escalation"),
        "found": [
            {
                "russia": eq["russia"],
                "starts": eq["starts"],
                "status": eq["status"],
                "pooled": eq.get("pooled", True),
                "contributors": _pledging(eq["members"]),
            }
            for eq in part.notes["equilibria"]
        ],
    }
    part.wall_s = time.perf_counter() - started
    return part.to_json()


def _psro_parts(
    options: Options,
    settings: Sequence[Setting],
    out: Path,
    *,
    address: str | None,
    workers: int | None,
    backend: str,
) -> Iterator[Part]:
    """Run the steps of :data:`PSRO` for ``settings`` (each step's trainings as one Tune run,
    then its searches in parallel), yielding each setting's final part, whose notes hold every
    step's. A setting stops early when the members of the equilibrium to train against are
    those of an earlier step (Russia's best response to them is already in its set; the
    training would repeat itself, seed for seed). Finished steps (``step<k>.json``) are not run
    again; training runs resume from their checkpoints. Each step's folder keeps the
    equilibrium it trains against (``target.json``): a rerun whose target differs (the
    equilibrium parts were made again, with other options) is refused rather than mixing the two.
    A part's wall time is its steps' searches and their share of the training this session ran
    (a run resumed after a kill counts what it trained after the kill)."""
    from reassurance.runtime import run_jobs
    from reassurance.training.sweep import Sweep, run_sweeps

    previous = {s: Part.from_json(_part_path(out, "equilibrium", s).read_text()) for s in settings}
    history: dict[Setting, list[dict[str, Any]]] = {s: [] for s in settings}
    walls = dict.fromkeys(settings, 0.0)  # each setting's steps' wall time (s)
    active = list(settings)
    for step in range(1, options.psro_step_count + 1):
        targets = {s: psro_target(previous[s]) for s in active}
        # Russia's best response to members it has met before is in its set already (the same
        # opponents and seeds train the same policy): the setting has converged.
        active = [
            s
            for s in active
            if all(note["target"]["members"] != targets[s]["members"] for note in history[s])
        ]
        done = {s: psro_folder(out, s) / f"step{step}.json" for s in active}
        for s in active:
            _check_psro_target(options, s, step, targets[s], out)
        need = [s for s in active if not done[s].is_file()]
        if need:
            specs = [
                Sweep(
                    psro_training(options, s, targets[s]),
                    "usa.commitment",
                    [s.us_commitment],
                    options.train_seeds,
                    psro_folder(out, s) / f"step{step}",
                )
                for s in need
            ]
            started = time.perf_counter()
            run_sweeps(specs, out / "psro" / f"tune-step{step}", address=address,
                       echo=lambda line: None)  # fmt: skip
            share = (time.perf_counter() - started) / len(need)
            jobs = {}
            for s in need:
                runs = psro_runs(out, s, step)
                new = [r for r in runs if r.parent.parent.name == f"step{step}"]
                if len(new) != options.train_seeds:
                    raise RuntimeError(
                        f"{PSRO} step {step} of {s.key}: {len(new)} of {options.train_seeds} "
                        f"training runs finished in {psro_folder(out, s) / f'step{step}'}"
                    )
                earlier = [run for note in history[s] for run in note["new_runs"]]
                lost = sorted(set(earlier) - {str(r) for r in runs})
                if lost:
                    raise RuntimeError(
                        f"{PSRO} step {step} of {s.key}: the best responses of earlier steps "
                        f"are gone ({', '.join(lost)}); restore them, or delete "
                        f"{psro_folder(out, s)} to run the steps again"
                    )
                jobs[s] = ((options, s, step, targets[s], [str(r) for r in runs],
                            [str(r) for r in new]), {})  # fmt: skip
            for s, part_json in run_jobs(
                _psro_step, jobs, workers=workers, backend=backend, address=address
            ):
                part = Part.from_json(part_json)
                _save(done[s], replace(part, wall_s=part.wall_s + share).to_json())
        for s in active:
            previous[s] = Part.from_json(done[s].read_text())
            history[s].append(previous[s].notes["psro"])
            walls[s] += previous[s].wall_s
    for s in settings:
        final = previous[s]
        final.wall_s = walls[s]
        final.notes["psro"] = history[s]
        final.notes["psro_steps"] = options.psro_step_count
        yield final


# ----------------------------------------------------------------------------- running


def _run_part(
    options: Options, population: str, setting: Setting, russia_runs: Sequence[str] = ()
) -> str:
    """One finished part as JSON (a Ray task, or called in this process)."""
    if population == "equilibrium":
        part = _equilibrium_part(options, setting)
    elif population == WITH_TRAINED_RUSSIA:
        part = _equilibrium_part(options, setting, population, russia_runs)
    else:
        part = _doctrine_part(options, setting, population)
    return part.to_json()


def _part_path(out: Path, population: str, setting: Setting) -> Path:
    return out / "parts" / population.replace("+", "_") / f"{setting.key}.json"


def _save(path: Path, part_json: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(part_json)
    partial.replace(path)  # a kill never leaves half a part


def _finished(out: Path, population: str, setting: Setting, options: Options) -> bool:
    """Whether the part is done: its file exists and, for :data:`PSRO`, was made with as many
    steps as asked (a rerun with more steps goes on from the steps it has)."""
    path = _part_path(out, population, setting)
    if not path.is_file():
        return False
    if population == PSRO:
        return json.loads(path.read_text())["notes"].get("psro_steps") == options.psro_step_count
    return True


def plan_parts(options: Options) -> list[tuple[str, Setting]]:
    """Every (population, setting) the experiment runs, trained ones last."""
    settings = settings_for(options)
    plan = [
        (population, setting)
        for population in options.populations
        if population not in ("trained", WITH_TRAINED_RUSSIA, PSRO)
        for setting in settings
    ]
    if "equilibrium" in options.populations and options.checks:
        plan += [("equilibrium", setting) for setting in checks_for(options)]
    if "trained" in options.populations:
        plan += [("trained", setting) for setting in settings]
    if WITH_TRAINED_RUSSIA in options.populations:  # needs the trained runs: after them
        plan += [(WITH_TRAINED_RUSSIA, setting) for setting in settings]
    if PSRO in options.populations:  # starts from the equilibrium parts: after them
        plan += [(PSRO, setting) for setting in settings]
    return plan


def trained_runs(out: Path, setting: Setting) -> list[Path]:
    """The finished training runs of ``setting`` in the experiment folder ``out`` (those with
    a checkpoint), in seed order."""
    from reassurance.training.run import latest_checkpoint

    group = "axis" if setting.kind == "axis" else setting.key
    runs = sorted((out / "trained" / group / "trials").glob(
        f"commitment={setting.us_commitment}_seed=*"
    ))  # fmt: skip
    return [run for run in runs if latest_checkpoint(run) is not None]


def run_experiment(
    options: Options,
    out: str | Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    backend: str = "ray",
    progress: bool = True,
    command: str | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run every missing part (finished parts in ``out/parts`` are not run again), then write
    ``results.csv``, the plots and ``summary.md``; return the summary's path. ``command`` is how
    the run was started, for the summary (default: the options)."""
    from tqdm import tqdm

    from reassurance.runtime import check_output_folder, run_jobs

    if PSRO in options.populations and "equilibrium" not in options.populations:
        raise ValueError(
            f"--populations {','.join(options.populations)}: {PSRO} starts from the "
            "equilibrium population's equilibria; add equilibrium"
        )
    if options.psro_step_count < 1:
        raise ValueError(f"--psro-steps {options.psro_step_count}: at least 1")
    out = check_output_folder(out, "--out")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    plan = plan_parts(options)
    missing = [(pop, s) for pop, s in plan if not _finished(out, pop, s, options)]
    bar = tqdm(
        total=len(plan),
        initial=len(plan) - len(missing),
        desc="settings",
        unit="part",
        disable=not progress,
        dynamic_ncols=True,
    )
    later = ("trained", WITH_TRAINED_RUSSIA, PSRO)
    to_train = {s for pop, s in missing if pop == "trained"}
    lacking = [s.key for pop, s in missing if pop == WITH_TRAINED_RUSSIA
               and s not in to_train and not trained_runs(out, s)]  # fmt: skip
    if lacking:  # Russia's grid would silently lack its trained policies
        if "trained" not in options.populations:
            fix = "add trained"
        else:  # the trained parts are there, made where the runs stayed
            fix = (
                f"copy those runs into {out / 'trained'}, or delete their parts in "
                f"{out / 'parts' / 'trained'} to train them again"
            )
        raise ValueError(
            f"--populations {WITH_TRAINED_RUSSIA} needs the trained population's runs in "
            f"{out / 'trained'}, missing for {', '.join(lacking)}: {fix}"
        )
    quick_parts = {(pop, s): ((options, pop, s), {}) for pop, s in missing if pop not in later}
    for (population, setting), part_json in run_jobs(
        _run_part, quick_parts, workers=workers, backend=backend, address=address
    ):
        _save(_part_path(out, population, setting), part_json)
        bar.update(1)
    trained = [s for pop, s in missing if pop == "trained"]
    if trained:
        for part in _trained_parts(options, trained, out, address):
            _save(_part_path(out, "trained", part.setting), part.to_json())
            bar.update(1)
    against_trained = {
        (pop, s): ((options, pop, s, [str(r) for r in trained_runs(out, s)]), {})
        for pop, s in missing
        if pop == WITH_TRAINED_RUSSIA
    }
    for (population, setting), part_json in run_jobs(
        _run_part, against_trained, workers=workers, backend=backend, address=address
    ):
        _save(_part_path(out, population, setting), part_json)
        bar.update(1)
    psro = [s for pop, s in missing if pop == PSRO]
    if psro:
        for part in _psro_parts(
            options, psro, out, address=address, workers=workers, backend=backend
        ):
            _save(_part_path(out, PSRO, part.setting), part.to_json())
            bar.update(1)
    bar.close()
    parts = [Part.from_json(_part_path(out, p, s).read_text()) for p, s in plan]
    wall = time.perf_counter() - started
    command = command or f"run_experiment({options})"
    kept = out / "challenges.json"
    previous = json.loads(kept.read_text()) if kept.is_file() else []
    challenges = russia_challenges(options, parts, out, previous)
    return write_outputs(
        options, parts, out, wall_s=wall, command=command, echo=echo, challenges=challenges
    )


# ----------------------------------------------------------------------------- command


def _commitments(text: str | None) -> tuple[float, ...] | None:
    """``--commitments 0,0.25,1`` as a sorted tuple of distinct values in [0, 1]."""
    if text is None:
        return None
    try:
        values = sorted({float(v) for v in text.split(",")})
    except ValueError:
        raise ValueError(
            f"--commitments {text!r}: comma-separated numbers in [0, 1], like 0,0.5,1"
        ) from None
    if len(values) < 2 or not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"--commitments {text!r}: at least two distinct values in [0, 1]")
    return tuple(values)


def _cmd_experiment(args: argparse.Namespace) -> int:
    if args.name != "us-commitment":
        raise ValueError(f"unknown experiment {args.name!r}; experiments: us-commitment")
    if args.seeds is not None and args.seeds < 2:
        raise ValueError(f"--seeds {args.seeds}: need at least 2")
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers {args.workers}: 0 (in this process) or more")
    populations = tuple(args.populations.split(",")) if args.populations else DEFAULT_POPULATIONS
    unknown = sorted(set(populations) - set(POPULATIONS))
    if unknown:
        raise ValueError(f"--populations: unknown {unknown}; populations: {', '.join(POPULATIONS)}")
    scenario = args.scenario or ("classroom" if args.quick else "brussels-2025-04")
    load_scenario(scenario)  # a bad name fails before anything runs
    options = Options(
        scenario=scenario,
        quick=args.quick,
        seeds=args.seeds,
        populations=populations,
        commitments=_commitments(args.commitments),
        psro_steps=args.psro_steps,
    )
    if args.psro_steps is not None and args.psro_steps < 1:
        raise ValueError(f"--psro-steps {args.psro_steps}: at least 1")
    if args.psro_steps is not None and PSRO not in populations:
        raise ValueError(
            f"--psro-steps needs {PSRO} in --populations (got {','.join(populations)})"
        )
    out = args.out or f"results/us-commitment-{Path(scenario).stem}"
    run_experiment(
        options,
        out,
        address=args.address,
        workers=args.workers,
        backend=args.backend,
        progress=not args.no_progress,
        command="reassurance " + " ".join(sys.argv[1:]),
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``experiment`` to the ``reassurance`` parser."""
    parser = sub.add_parser(
        "experiment",
        help="the research answer: how US commitment changes the coalition (us-commitment)",
        description="Sweep US commitment (the axis, and fixed US doctrines) and measure the "
        "equilibrium, trained and doctrine populations on paired seeds. Resumable.",
    )
    parser.add_argument("name", help="the experiment: us-commitment")
    parser.add_argument("--scenario", help="scenario (default brussels-2025-04; quick: classroom)")
    parser.add_argument("--quick", action="store_true", help="small populations, in minutes")
    parser.add_argument("--out", help="output folder (default results/us-commitment-SCENARIO)")
    parser.add_argument("--seeds", type=int, help="evaluation seeds (default 24; quick 8)")
    parser.add_argument(
        "--commitments",
        help="points of the commitment axis, comma-separated (default 0,0.25,0.5,0.75,1; "
        "quick 0,0.5,1)",
    )
    parser.add_argument("--address", help="Ray cluster (default: $RAY_ADDRESS, else embedded)")
    parser.add_argument("--workers", type=int, help="parallel parts (default: CPUs; 0: in-process)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="ray",
        help="where the equilibrium and doctrine parts run: Ray (default) or local processes "
        "(the trained population always trains on Ray)",
    )
    parser.add_argument(
        "--populations",
        help=f"comma-separated subset of {','.join(POPULATIONS)} (default: all but {PSRO})",
    )
    parser.add_argument(
        "--psro-steps",
        type=int,
        help=f"steps of {PSRO}: Russia's best response trained and added (default 2; quick 1)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cmd_experiment)
