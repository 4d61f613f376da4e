"""Tournament configs: validation, and the plan of matches they stand for.

A config is a YAML file (``configs/tournaments/*.yaml``, or any path)::

    name: classroom-heuristics
    scenario: classroom            # scenario id or YAML path; ``overrides:`` as for envs
    population:                    # per role: the policies that take part
      member: [member/leader, free-rider, {agent: member/unconditional, params: {level: 2}}]
      usa: [usa/disengaged, usa/committed-guarantor]
      russia: [russia/opportunist]
      ukraine: [{checkpoint: runs/ppo/ckpt-10, role: ukraine, label: ukraine/ppo-10}]
    schedule: all                  # every seat assignment; or {sample: 40, seed: 3}
    seeds: 3                       # matches per assignment (seeds first_seed, first_seed + 1, ...)

An entry is a registered agent id (``role/name``; inside a role's list the ``role/`` may be left
out), a mapping ``{agent, params, label}``, or a checkpoint ``{checkpoint, role, module_id,
label}`` whose relative path is read from the config file's folder. A role the population leaves
out is played by its default bot (:data:`reassurance.agents.DEFAULT_BOTS`).

A *seat assignment* gives one policy to each role; every coalition member plays the member
policy of the assignment (a fresh instance per member seat), so a row of the cross-play table
is one coalition doctrine. :func:`plan_tournament` turns a config into the list of matches, each
with a deterministic key (see :func:`match_key`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reassurance import configs
from reassurance.agents import DEFAULT_BOTS, agent_class, make
from reassurance.envs import load_scenario
from reassurance.envs.actions import ROLE_IDS, RoleId
from reassurance.evaluation.hashing import canonical, hash_checkpoint, scenario_hash, sha256_json
from reassurance.runtime import code_version

__all__ = [
    "ROLES",
    "Analysis",
    "MatchSpec",
    "Plan",
    "PolicyEntry",
    "ResolvedPolicy",
    "Sample",
    "TournamentConfig",
    "config_path",
    "list_tournament_configs",
    "load_tournament_config",
    "match_key",
    "plan_tournament",
]

ROLES: tuple[str, ...] = ROLE_IDS
"""The roles, in the order used for assignments, tables and the alpha-rank meta-game."""

MEMBERS_MODE = "uniform"
"""How members are seated: every member of the coalition plays the assignment's member policy."""

CHECKPOINT_AGENT = "checkpoint"
"""The ``agent`` recorded for a policy restored from a checkpoint."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyEntry(_Strict):
    """One policy of a role's population: a registered agent with parameters, or a checkpoint."""

    agent: str | None = Field(
        default=None, description="registered agent id, e.g. 'usa/disengaged'"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="doctrine parameters")
    checkpoint: str | None = Field(default=None, description="checkpoint directory")
    role: RoleId | None = Field(default=None, description="role of a checkpoint policy")
    module_id: str | None = Field(default=None, description="RLlib module id in the checkpoint")
    label: str | None = Field(default=None, description="name in tables; default from the id")

    @model_validator(mode="after")
    def _one_source(self) -> PolicyEntry:
        if (self.agent is None) == (self.checkpoint is None):
            raise ValueError(
                "give exactly one of 'agent' (a registered id) or 'checkpoint' (a directory), "
                f"got agent={self.agent!r}, checkpoint={self.checkpoint!r}"
            )
        if self.agent is not None:
            if self.module_id is not None:
                raise ValueError("'module_id' belongs to checkpoint entries only")
            _check_agent(self.agent, self.params)
        elif self.params:
            raise ValueError("a checkpoint entry takes no 'params'")
        return self

    def default_label(self, role: str) -> str:
        if self.label:
            return self.label
        if self.agent is not None:
            if not self.params:
                return self.agent
            shown = ",".join(f"{k}={canonical(v)}" for k, v in sorted(self.params.items()))
            return f"{self.agent}({shown})"
        return f"{role}/ckpt:{Path(str(self.checkpoint)).name}"


class Sample(_Strict):
    """A seeded sample of ``sample`` distinct seat assignments, drawn without replacement."""

    sample: int = Field(ge=1, description="number of seat assignments to play")
    seed: int = Field(default=0, ge=0, description="seed of the draw")


class Analysis(_Strict):
    """How the report analyses the results (stored with the tournament, so reports reproduce)."""

    bootstrap: int = Field(default=1000, ge=100, le=100_000, description="bootstrap resamples")
    seed: int = Field(default=0, ge=0, description="seed of the bootstrap generator")
    alpha: float = Field(
        default=10.0,
        gt=0,
        le=500,
        description="alpha-rank selection intensity, on payoffs scaled to each role's range",
    )
    population_size: int = Field(default=50, ge=2, le=1000, description="alpha-rank m")


class TournamentConfig(_Strict):
    """A validated tournament config (see the module docstring)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="tournament name")
    description: str = ""
    scenario: str = Field(default="classroom", description="scenario id or YAML path")
    overrides: dict[str, Any] = Field(default_factory=dict, description="scenario overrides")
    population: dict[RoleId, list[PolicyEntry]] = Field(description="policies per role")
    schedule: Literal["all"] | Sample = "all"
    seeds: int | list[int] = Field(default=1, description="matches per assignment, or the seeds")
    first_seed: int = Field(default=0, ge=0, description="first seed when 'seeds' is a count")
    analysis: Analysis = Analysis()

    @field_validator("population", mode="before")
    @classmethod
    def _expand_entries(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        expanded: dict[Any, Any] = {}
        for role, entries in value.items():
            if not isinstance(entries, list):
                expanded[role] = entries
                continue
            expanded[role] = [_expand_entry(role, entry) for entry in entries]
        return expanded

    @field_validator("seeds")
    @classmethod
    def _check_seeds(cls, value: int | list[int]) -> int | list[int]:
        if isinstance(value, int):
            if value < 1:
                raise ValueError(f"seeds must be at least 1 match per assignment, got {value}")
            return value
        if not value or any(s < 0 for s in value) or len(set(value)) != len(value):
            raise ValueError(f"seeds must be distinct non-negative integers, got {value}")
        return value

    @model_validator(mode="after")
    def _check_population(self) -> TournamentConfig:
        for role, entries in self.population.items():
            if not entries:
                raise ValueError(f"population.{role} is empty; give at least one policy")
            labels: set[str] = set()
            for index, entry in enumerate(entries):
                where = f"population.{role}[{index}]"
                if entry.agent is not None:
                    agent_role = entry.agent.split("/", 1)[0]
                    if agent_role != role:
                        raise ValueError(
                            f"{where}: {entry.agent!r} plays role {agent_role!r}, not {role!r}"
                        )
                elif entry.role is not None and entry.role != role:
                    raise ValueError(f"{where}: checkpoint of role {entry.role!r} listed in {role}")
                label = entry.default_label(role)
                if label in labels:
                    raise ValueError(f"{where}: label {label!r} appears twice in population.{role}")
                labels.add(label)
        return self

    def seed_list(self) -> list[int]:
        """The seeds every seat assignment is played with."""
        if isinstance(self.seeds, int):
            return list(range(self.first_seed, self.first_seed + self.seeds))
        return list(self.seeds)


def _expand_entry(role: Any, entry: Any) -> Any:
    """``"leader"`` -> ``{"agent": "member/leader"}`` inside ``population.member``."""
    if isinstance(entry, str):
        entry = {"agent": entry}
    if isinstance(entry, Mapping) and isinstance(entry.get("agent"), str):
        agent = entry["agent"]
        if "/" not in agent and isinstance(role, str):
            entry = {**entry, "agent": f"{role}/{agent}"}
    return entry


def _check_agent(agent_id: str, params: Mapping[str, Any]) -> None:
    cls = agent_class(agent_id)  # ValueError listing the registered ids
    allowed = dict(getattr(cls, "defaults", {}))
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"{agent_id} has no parameters {unknown}; allowed: {sorted(allowed) or 'none'}"
        )


# ----------------------------------------------------------------------------- loading


def list_tournament_configs() -> list[str]:
    """Names of the tournament configs shipped in ``configs/tournaments``, sorted."""
    return configs.shipped("tournaments")


def config_path(config: str | Path) -> Path:
    """Resolve a shipped config name or a path to a YAML file."""
    return configs.resolve("tournaments", config)


def load_tournament_config(
    config: str | Path | Mapping[str, Any], *, origin: str | None = None
) -> tuple[TournamentConfig, Path]:
    """Read and validate a config; return it and the folder relative paths are read from.

    ``config`` is a shipped name, a path, or an already parsed mapping (then relative paths are
    read from the current folder). A config may start from another with ``base:``, as every
    config of the project can (:mod:`reassurance.configs`). Raises
    :class:`~reassurance.configs.ConfigError` naming the field, the value and what was allowed.
    """
    if isinstance(config, Mapping):
        raw, where = configs.read_config("tournaments", raw=config, origin=origin)
        base_dir = Path.cwd()
    else:
        path = config_path(config)
        raw, where = configs.read_config("tournaments", path, origin=origin)
        base_dir = path.parent
        raw.setdefault("name", path.stem)
    raw.pop("base", None)
    return configs.validate(TournamentConfig, raw, where, "tournament config"), base_dir


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class ResolvedPolicy:
    """A population entry made concrete: what plays, with which parameters, from which files.

    ``params`` are the full parameters the policy plays with (defaults filled in);
    ``checkpoint`` is an absolute path and ``checkpoint_hash`` the sha256 of its files.
    """

    role: str
    label: str
    agent: str
    params: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    checkpoint_hash: str | None = None
    module_id: str | None = None

    def identity(self) -> dict[str, Any]:
        """What decides how the policy plays (not its label or where its files lie)."""
        return {
            "agent": self.agent,
            "params": canonical(self.params),
            "checkpoint_hash": self.checkpoint_hash,
            "module_id": self.module_id,
        }


@dataclass(frozen=True)
class MatchSpec:
    """One match to play: its key, seat assignment (role -> policy) and seed."""

    key: str
    assignment: int
    seed: int
    lineup: dict[str, ResolvedPolicy]


@dataclass(frozen=True)
class Plan:
    """Everything a tournament will play, with the provenance stamped on every row."""

    config: TournamentConfig
    scenario: Any  # reassurance.envs.Scenario
    scenario_hash: str
    env_version: str
    population: dict[str, list[ResolvedPolicy]]
    matches: list[MatchSpec]
    config_hash: str

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def n_assignments(self) -> int:
        return len({m.assignment for m in self.matches})


def match_key(
    scenario_digest: str, env_version: str, lineup: Mapping[str, ResolvedPolicy], seed: int
) -> str:
    """Hex sha256 of what decides a match: scenario content, env version, lineup, seed."""
    return sha256_json(
        {
            "scenario_hash": scenario_digest,
            "env_version": env_version,
            "members": MEMBERS_MODE,
            "lineup": {role: lineup[role].identity() for role in sorted(lineup)},
            "seed": int(seed),
        }
    )


def _resolve(role: str, entry: PolicyEntry, base_dir: Path) -> ResolvedPolicy:
    label = entry.default_label(role)
    if entry.agent is not None:
        params = dict(make(entry.agent, **entry.params).params)
        return ResolvedPolicy(role=role, label=label, agent=entry.agent, params=params)
    from reassurance.agents.checkpoint import find_checkpoint, find_export  # torch: on demand

    path = Path(str(entry.checkpoint))
    if not path.is_absolute():
        path = base_dir / path
    # A run directory stands for its latest checkpoint; pin that one folder (and its hash).
    path = find_checkpoint(path.resolve()).resolve()
    find_export(path, role, entry.module_id)  # the checkpoint must have a module for the role
    return ResolvedPolicy(
        role=role,
        label=label,
        agent=CHECKPOINT_AGENT,
        checkpoint=str(path),
        checkpoint_hash=hash_checkpoint(path),
        module_id=entry.module_id,
    )


def resolve_population(
    config: TournamentConfig, base_dir: Path | None = None
) -> dict[str, list[ResolvedPolicy]]:
    """Each role's policies, in config order; a role left out gets its default bot."""
    base_dir = base_dir or Path.cwd()
    population: dict[str, list[ResolvedPolicy]] = {}
    for role in ROLES:
        entries = config.population.get(role) or [PolicyEntry(agent=DEFAULT_BOTS[role])]
        resolved = [_resolve(role, entry, base_dir) for entry in entries]
        seen: dict[str, str] = {}
        for policy in resolved:
            ident = sha256_json(policy.identity())
            if ident in seen:
                raise ValueError(
                    f"population.{role}: {policy.label!r} plays exactly like {seen[ident]!r} "
                    "(same agent, parameters and checkpoint); list each policy once"
                )
            seen[ident] = policy.label
        population[role] = resolved
    return population


def plan_tournament(config: TournamentConfig, base_dir: Path | None = None) -> Plan:
    """Every match of the tournament, in schedule order, with keys and provenance.

    Assignments are the cartesian product of the role populations in :data:`ROLES` order,
    numbered from 0; ``schedule: {sample: N, seed: S}`` keeps N of them drawn without
    replacement by ``numpy.random.default_rng(S)``. Each kept assignment is played once per seed.
    """
    version = code_version()  # stamped on every match: package version + hash of the game code

    scenario_ref: str | Path = config.scenario
    if base_dir is not None and config.scenario.endswith((".yaml", ".yml")):
        candidate = Path(config.scenario)
        if not candidate.is_absolute() and (base_dir / candidate).is_file():
            scenario_ref = base_dir / candidate
    scenario = load_scenario(scenario_ref, config.overrides or None)
    digest = scenario_hash(scenario)
    population = resolve_population(config, base_dir)
    sizes = [len(population[role]) for role in ROLES]
    total = int(np.prod(sizes))
    if isinstance(config.schedule, Sample):
        if config.schedule.sample > total:
            raise ValueError(
                f"schedule.sample is {config.schedule.sample} but the population has only "
                f"{total} seat assignments ({' x '.join(map(str, sizes))}); use 'all' or fewer"
            )
        rng = np.random.default_rng(config.schedule.seed)
        kept = sorted(int(i) for i in rng.choice(total, size=config.schedule.sample, replace=False))
    else:
        kept = list(range(total))
    product = list(itertools.product(*(range(n) for n in sizes)))
    matches = []
    for assignment in kept:
        lineup = {
            role: population[role][index]
            for role, index in zip(ROLES, product[assignment], strict=True)
        }
        for seed in config.seed_list():
            key = match_key(digest, version, lineup, seed)
            matches.append(MatchSpec(key=key, assignment=assignment, seed=seed, lineup=lineup))
    config_hash = sha256_json(
        {
            "config": config.model_dump(mode="json"),
            "scenario_hash": digest,
            "env_version": version,
            "population": {
                role: [{"label": p.label, **p.identity()} for p in population[role]]
                for role in ROLES
            },
            "matches": [m.key for m in matches],
        }
    )
    return Plan(
        config=config,
        scenario=scenario,
        scenario_hash=digest,
        env_version=version,
        population=population,
        matches=matches,
        config_hash=config_hash,
    )
