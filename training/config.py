"""Training settings (a validated YAML file) and the RLlib PPO config built from them.

>>> settings = load_settings("ppo", scenario="classroom", iterations=2)
>>> algo_config = build_algo_config(settings)  # doctest: +SKIP

Settings files live in ``configs/training/`` (``ppo`` names ``configs/training/ppo.yaml``) or at
any path. Every field is documented on :class:`TrainSettings`; unknown keys are errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reassurance import configs
from reassurance.agents.match import DEFAULT_BOTS
from reassurance.agents.registry import agent_class
from reassurance.envs.actions import ROLE_IDS, RoleId

__all__ = [
    "MAX_SEED",
    "TrainSettings",
    "LeagueSettings",
    "PPOSettings",
    "Opponent",
    "load_settings",
    "validate_settings",
    "settings_path",
    "module_ids",
    "agent_module",
]

MAX_SEED = 2**32 - 1
"""Largest seed numpy's global generator takes (RLlib seeds it in every env runner)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PPOSettings(_Model):
    """PPO hyperparameters (RLlib names). ``train_batch_size`` counts env-steps (one step of the
    whole game, every agent acting); ``minibatch_size`` counts one module's agent-steps."""

    lr: float = Field(3e-4, gt=0)
    gamma: float = Field(0.99, ge=0, le=1)
    lambda_: float = Field(0.95, ge=0, le=1, alias="lambda")
    clip_param: float = Field(0.2, gt=0)
    entropy_coeff: float = Field(0.01, ge=0)
    vf_loss_coeff: float = Field(0.5, ge=0)
    grad_clip: float | None = Field(0.5, gt=0)
    train_batch_size: int = Field(1024, ge=16, description="env-steps per iteration")
    minibatch_size: int = Field(256, ge=8)
    num_epochs: int = Field(5, ge=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _minibatch_fits(self) -> PPOSettings:
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size {self.minibatch_size} is larger than train_batch_size "
                f"{self.train_batch_size}"
            )
        return self


class Opponent(_Model):
    """A fixed (never trained) policy for a role: a registered agent, or a trained checkpoint."""

    agent: str | None = Field(None, description="registered agent id, e.g. usa/words-only")
    params: dict[str, Any] = Field(default_factory=dict)
    checkpoint: str | None = Field(None, description="run or checkpoint directory")
    module: str | None = Field(None, description="module id inside the checkpoint")

    @model_validator(mode="after")
    def _one_source(self) -> Opponent:
        if (self.agent is None) == (self.checkpoint is None):
            raise ValueError("give exactly one of 'agent' (a registered id) or 'checkpoint'")
        if self.agent is not None:
            cls = agent_class(self.agent)  # raises with the list of registered ids
            cls(**self.params)  # validates the parameters, naming a bad one
        return self


class LeagueSettings(_Model):
    """League self-play: trained modules are snapshotted into a pool of frozen opponents.

    Every ``snapshot_every`` iterations each trained module is copied into one of its
    ``pool_size`` pool slots (round robin; at the start every slot holds the initial policy). In
    each episode every seat of a trained role is played by a pool snapshot, drawn uniformly, with
    probability ``opponent_prob``, else by the live module; at least one seat stays live.
    """

    enabled: bool = False
    snapshot_every: int = Field(5, ge=1, description="iterations")
    pool_size: int = Field(3, ge=1)
    opponent_prob: float = Field(0.5, ge=0, le=1)


class TrainSettings(_Model):
    """Everything a training run needs. CLI flags override the matching fields."""

    scenario: str = "brussels-2025-04"
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="scenario overrides, dotted keys"
    )
    mapping: Literal["per-role", "per-agent"] = Field(
        "per-role",
        description="per-role: one module per role, members share parameters (their identity "
        "and traits are in the observation); per-agent: one module per agent",
    )
    train: tuple[RoleId, ...] = ("member",)
    opponents: dict[RoleId, Opponent] = Field(
        default_factory=dict,
        description="fixed policies for roles not trained; roles neither trained nor named "
        "here get agents.DEFAULT_BOTS",
    )
    league: LeagueSettings = LeagueSettings()
    ppo: PPOSettings = PPOSettings()
    hidden: tuple[Annotated[int, Field(ge=1)], ...] = Field(
        (64, 64), min_length=1, description="hidden layer sizes of both heads"
    )
    iterations: int = Field(20, ge=1, description="total training iterations")
    checkpoint_every: int = Field(5, ge=1, description="iterations between checkpoints")
    seed: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="seed of the run; env runner i seeds numpy with seed + i, below 2**32",
    )
    sampler: Literal["fast", "rllib"] = Field(
        "fast",
        description="fast: each env runner steps many games at once on the batched core, one "
        "forward pass per module per step (training.fast_sampler); rllib: RLlib's "
        "MultiAgentEnvRunner, one game and one agent at a time (the reference)",
    )
    games_per_env_runner: int | None = Field(
        None,
        ge=1,
        description="games the fast sampler steps at once in each env runner; None: enough "
        "for about one episode of each game per iteration (at most 256)",
    )
    num_env_runners: int = Field(0, ge=0, description="0 samples in the driver process")
    num_envs_per_env_runner: int = Field(
        1, ge=1, description="games each env runner of the rllib sampler steps one by one"
    )
    num_learners: int = Field(0, ge=0, description="0 learns in the driver process")
    num_gpus_per_learner: float = Field(0, ge=0)
    torch_threads: int = Field(
        1, ge=1, description="torch threads of the driver; 1 is fastest for these small nets"
    )

    @field_validator("opponents", mode="before")
    @classmethod
    def _strings_are_agents(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: {"agent": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _roles(self) -> TrainSettings:
        if not self.train:
            raise ValueError("'train' names no role; train at least one of " + ", ".join(ROLE_IDS))
        both = sorted(set(self.train) & set(self.opponents))
        if both:
            raise ValueError(f"roles {both} are both trained and fixed opponents; pick one")
        for role, opponent in self.opponents.items():
            if opponent.agent is not None and not opponent.agent.startswith(role + "/"):
                raise ValueError(
                    f"opponent for role {role!r} is {opponent.agent!r}, an agent of another role"
                )
        if self.seed + self.num_env_runners > MAX_SEED:
            raise ValueError(
                f"seed {self.seed} with {self.num_env_runners} env runners: runner i seeds "
                f"with seed + i, which must stay at most {MAX_SEED}"
            )
        return self

    def opponent(self, role: str) -> Opponent:
        """The fixed policy of an untrained role (configured, else the default bot)."""
        return self.opponents.get(role) or Opponent(agent=DEFAULT_BOTS[role])

    def digest(self) -> str:
        """A short hash of the settings, for provenance."""
        blob = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def settings_path(name: str | Path) -> Path:
    """Path of a shipped training config (``ppo``) or of a YAML file."""
    return configs.resolve("training", name)


def load_settings(config: str | Path | None = "ppo", **overrides: Any) -> TrainSettings:
    """Read a training config and apply ``overrides`` (fields set to ``None`` are left alone;
    nested sections such as ``ppo`` merge key by key; ``opponents`` is replaced whole).

    A config may start from another with ``base: NAME`` (a shipped name, or a path read from
    the config's folder); its own keys win, nested mappings merge. Errors name the file, the
    field and what was expected (:class:`reassurance.configs.ConfigError`).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if config is None:
        raw, origin = configs.read_config(
            "training", raw={}, origin="defaults", overrides=given, replace=("opponents",)
        )
    else:
        raw, origin = configs.read_config(
            "training", config, overrides=given, replace=("opponents",)
        )
    return validate_settings(raw, origin, flags=given)


def validate_settings(
    raw: Mapping[str, Any], source: str, *, flags: Mapping[str, Any] | None = None
) -> TrainSettings:
    """Settings from a mapping; a :class:`~reassurance.configs.ConfigError` names ``source``,
    each bad field and its value. ``flags``: the fields a command-line flag set
    (``num_env_runners``), named as the flag (``--num-env-runners``) in the message."""
    shown = {name: "--" + name.replace("_", "-") for name in flags or {}}
    return configs.validate(
        TrainSettings,
        {k: v for k, v in raw.items() if k != "base"},
        source,
        "training settings",
        labels=shown,
    )


def agent_module(settings: TrainSettings, agent: str, role: str) -> str:
    """The module id that plays ``agent`` when no league snapshot replaces it."""
    if role in settings.train:
        return agent if settings.mapping == "per-agent" else role
    return f"{role}@fixed"


def module_ids(settings: TrainSettings, agents: Mapping[str, str]) -> dict[str, list[str]]:
    """Module ids for ``agents`` (id -> role): ``{"trained", "fixed", "pool"}`` lists."""
    trained = sorted(
        {agent_module(settings, a, r) for a, r in agents.items() if r in settings.train}
    )
    fixed = sorted({f"{r}@fixed" for r in agents.values() if r not in settings.train})
    pool = (
        [f"{m}@pool{k}" for m in trained for k in range(settings.league.pool_size)]
        if settings.league.enabled
        else []
    )
    return {"trained": trained, "fixed": fixed, "pool": pool}
