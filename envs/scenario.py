"""Scenario files: loading, inheritance, overrides and validation.

A scenario is a YAML file under ``configs/scenarios/`` read with ``yaml.safe_load`` and validated
into frozen pydantic models (unknown fields are errors). A file may name a ``base:`` scenario and
override some of its fields; nested mappings merge, lists replace, and ``members`` may be given as
a mapping from member id to the fields to change on that member.

Overrides from Python use the same merge, with dotted keys allowed::

    load_scenario("brussels-2025-04", overrides={"usa.committed_prior": 0.5,
                                                 "members.germany.troops_in_ukraine": True})
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reassurance import configs

__all__ = [
    "Scenario",
    "ScenarioError",
    "Member",
    "list_scenarios",
    "load_scenario",
    "scenario_path",
]


class ScenarioError(ValueError):
    """A scenario file or override is wrong; the message names the file, the field and why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _probabilities(values: tuple[float, ...], name: str) -> None:
    if any(v < 0 for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"{name} must be non-negative and sum to 1, got {list(values)}")


class Member(_Frozen):
    """Static traits of one coalition member (figures from shared/design/COUNTRIES.md)."""

    id: str = Field(pattern=r"^[a-z][a-z_]*$", description="lower-case agent id, e.g. 'uk'")
    name: str
    gdp_usd_bn: float = Field(gt=0, description="GDP, current USD bn")
    defence_usd_bn: float = Field(gt=0, description="defence spending, current USD bn per year")
    active_personnel_k: float = Field(gt=0, description="active military personnel, thousands")
    deployable_k: float | None = Field(
        default=None,
        gt=0,
        description="troops (thousands) this member could send; default personnel x share",
    )
    home_threat: float = Field(ge=0, le=1, description="0 none .. 1 border with Russia/Belarus")
    parliament_vote: bool = Field(description="a deployment needs a parliamentary vote")
    leadership: float = Field(ge=0, le=1, description="private benefit of a visible role, 0..1")
    troops_in_ukraine: bool = Field(
        default=True, description="ground troops go to Ukraine (False: NATO soil only)"
    )
    declaration_signed: bool = Field(default=False, description="signed a declaration of intent")
    stance: str = ""
    sources: dict[str, str] = Field(default_factory=dict, description="field -> source tag")

    @model_validator(mode="after")
    def _sources_name_fields(self) -> Member:
        unknown = sorted(set(self.sources) - set(type(self).model_fields))
        if unknown:
            allowed = sorted(type(self).model_fields)
            raise ValueError(f"sources names unknown fields {unknown}; allowed: {allowed}")
        return self


class UsaConfig(_Frozen):
    """The US: a private type drawn at reset; the prior is public."""

    committed_prior: float = Field(ge=0, le=1, description="P(type = committed)")
    conditional_share: float = Field(
        ge=0, le=1, description="P(type = conditional | not committed)"
    )
    aid: float = Field(ge=0, description="US aid to Ukraine's front strength while not pressuring")
    enabler_share: float = Field(ge=0, le=1, description="E contributed by US enablers at level 3")
    air_defence: float = Field(ge=0, le=1, description="exposure cut by US enablers at level 3")
    monitoring: float = Field(ge=0, description="monitoring units added by US enablers at level 3")
    deterrence: float = Field(
        ge=0, le=1, description="kappa_US: deterrence of a US strike response"
    )
    tripwire_troops: float = Field(
        gt=0, description="force size (troops) at which the US backstop fully covers the force"
    )
    backstop_credit: tuple[float, float, float, float] = Field(
        description="weight of the US backstop in members' exposure, by signal silent..formal"
    )
    response_force: tuple[float, float, float, float, float] = Field(
        description="military weight of a US response none..strikes"
    )

    def type_prior(self) -> tuple[float, float, float]:
        """P(disengaged), P(conditional), P(committed)."""
        rest = 1.0 - self.committed_prior
        return (
            rest * (1.0 - self.conditional_share),
            rest * self.conditional_share,
            self.committed_prior,
        )


class RussiaConfig(_Frozen):
    resolve_levels: tuple[float, float, float] = Field(description="weight on gains, low/mid/high")
    resolve_prior: tuple[float, float, float]
    strength: float = Field(gt=0, description="S_R, offensive strength")

    @model_validator(mode="after")
    def _check(self) -> RussiaConfig:
        _probabilities(self.resolve_prior, "russia.resolve_prior")
        return self


class UkraineConfig(_Frozen):
    strength: float = Field(gt=0, description="S_U, defensive strength")
    fortification_rate: float = Field(ge=0, le=1, description="stock added per fortify step")
    fortification_bonus: float = Field(ge=0, description="S_U added at full fortification")
    demand_force_share: tuple[float, float, float] = Field(
        description="pledged force / threshold Ukraine requires at demand none/force/backstop"
    )


class ForceConfig(_Frozen):
    threshold_troops: float = Field(gt=0, description="F*: credible force size, troops")
    enabler_threshold: float = Field(gt=0, description="E*: enabler units members need alone")
    eta: float = Field(gt=0, description="deterrence curvature; >1 small forces deter little")
    ukraine_weight: float = Field(ge=0, description="w: weight of Ukraine's readiness in kappa_C")
    outside_factor: float = Field(ge=0, le=1, description="deterrence of troops outside Ukraine")
    pledge_shares: tuple[float, float, float, float, float] = Field(
        description="share of deployable capacity for pledge none/token/5%/10%/20%"
    )
    deployment_window: int = Field(ge=1, description="steps from ceasefire to deadline")
    deployable_share: float = Field(gt=0, le=1, description="default deployable / active")
    parliament_pass: float = Field(ge=0, le=1, description="base probability a vote passes")
    parliament_backstop_bonus: float = Field(ge=0, le=1, description="added times belief mu")
    parliament_declaration_bonus: float = Field(ge=0, le=1, description="added if signed")
    vote_cooldown: int = Field(ge=0, description="steps before a failed vote can be retried")


class ContributionEffect(_Frozen):
    """What one thousand deployed troops of a contribution type do."""

    ground: float = Field(ge=0, description="counts toward force size F (share)")
    enabler: float = Field(ge=0, description="enabler units per thousand")
    monitoring: float = Field(ge=0, description="monitoring units per thousand")
    strength: float = Field(ge=0, description="Ukraine strength added per thousand")
    cost: float = Field(ge=0, description="USD bn per thousand per year")
    exposure: float = Field(ge=0, le=1, description="share exposed to attack in Ukraine")


class ContributionTypes(_Frozen):
    ground: ContributionEffect
    air: ContributionEffect
    maritime: ContributionEffect
    isr: ContributionEffect
    logistics: ContributionEffect
    training: ContributionEffect
    fortification: ContributionEffect


class TestConfig(_Frozen):
    """The test phase: detection, deterrence and outcomes of Russian probes and violations."""

    __test__ = False  # not a pytest class

    probe_detection: float = Field(ge=0, le=1, description="detection of a probe, no monitoring")
    monitoring_scale: float = Field(gt=0, description="monitoring units for 63% extra detection")
    violation_detection: float = Field(ge=0, le=1, description="detection of a limited violation")
    major_resistance: float = Field(ge=0, le=1, description="q multiplier against a major one")
    gains: tuple[float, float, float] = Field(description="front lost if probe/limited/major works")
    casualty_severity: tuple[float, float, float] = Field(description="per probe/limited/major")
    member_response_force: tuple[float, float, float, float, float] = Field(
        description="military weight of a member response none..engage"
    )
    failed_casualty_share: float = Field(ge=0, le=1, description="casualties when repelled")


class CollectiveRiskConfig(_Frozen):
    probability: float = Field(ge=0, le=1, description="r: chance a gap opens below threshold")
    loss: float = Field(ge=0, description="one-off loss each member pays, scaled by GDP")


class DynamicsConfig(_Frozen):
    initial_front: float = Field(ge=0, le=1, description="share of territory Ukraine holds")
    front_rate: float = Field(ge=0, description="kappa: front change per step per unit balance")
    front_noise: float = Field(ge=0, description="std dev of the front's step noise")
    negotiation_intensity: float = Field(ge=0, le=1, description="fighting during talks")
    talks_timeout: int = Field(ge=1, description="steps without an offer before talks end")
    aid_weight: float = Field(ge=0, description="front strength of full European aid")
    strike_damage: float = Field(
        ge=0, description="Ukraine strength lost to infrastructure strikes"
    )
    collapse_front: float = Field(ge=0, le=1, description="episode ends if the front falls below")


class BeliefConfig(_Frozen):
    """Public observer model: P(observed level | US type), rows disengaged/conditional/committed."""

    signal: tuple[tuple[float, ...], ...] = Field(description="3 x 4, silent..formal")
    enablers: tuple[tuple[float, ...], ...] = Field(description="3 x 4, level 0..3")
    response: tuple[tuple[float, ...], ...] = Field(description="3 x 5, none..strikes")

    @model_validator(mode="after")
    def _check(self) -> BeliefConfig:
        for name, table, width in (
            ("signal", self.signal, 4),
            ("enablers", self.enablers, 4),
            ("response", self.response, 5),
        ):
            if len(table) != 3 or any(len(row) != width for row in table):
                raise ValueError(f"belief.{name} must be 3 rows of {width}, got {table}")
            for row in table:
                _probabilities(row, f"belief.{name} row")
        return self


class MemberRewards(_Frozen):
    security: float
    visible_role: float
    deployment_cost: float
    home_readiness: float
    exposure: float
    war_exposure_factor: float = Field(ge=0, description="exposure multiplier during war")
    casualties: float
    renege: float
    declaration_renege_bonus: float
    aid_cost: float
    response_cost: tuple[float, float, float, float, float]


class UsaRewards(_Frozen):
    security: tuple[float, float, float] = Field(description="by type dis/cond/committed")
    enabler_cost: float
    intervention_cost: tuple[float, float, float] = Field(description="by type")
    audience_cost: float
    burden_sharing: float
    escalation: float


class UkraineRewards(_Frozen):
    territory: float
    guarantee: float
    war_effort: float
    casualties: float
    strikes: float


class RussiaRewards(_Frozen):
    territory: float
    gains: float
    war_cost: float
    sanctions: float
    clash: float
    nuclear_risk: float
    failed_violation: float


class Rewards(_Frozen):
    front_weight: float = Field(description="weight of the front in the public good G")
    deterrence_weight: float = Field(description="weight of deterrence in G")
    member: MemberRewards
    usa: UsaRewards
    ukraine: UkraineRewards
    russia: RussiaRewards


class EscalationConfig(_Frozen):
    """Rivera et al. (2024) category scores."""

    scores: dict[
        Literal["de_escalation", "status_quo", "posturing", "non_violent", "violent", "nuclear"],
        float,
    ]


class InitialConfig(_Frozen):
    us_signal: Literal["silent", "verbal", "conditional", "formal"] = "silent"
    us_enablers: int = Field(default=0, ge=0, le=3)
    fortification: float = Field(default=0.0, ge=0, le=1)


class Scenario(_Frozen):
    """One validated scenario. Every number the rules use lives here."""

    id: str
    title: str
    description: str = ""
    base: str | None = None
    horizon: int = Field(ge=1, le=1000, description="steps of two weeks")
    members: tuple[Member, ...] = Field(min_length=1)
    usa: UsaConfig
    russia: RussiaConfig
    ukraine: UkraineConfig
    force: ForceConfig
    contribution_types: ContributionTypes
    test: TestConfig
    collective_risk: CollectiveRiskConfig
    dynamics: DynamicsConfig
    belief: BeliefConfig
    rewards: Rewards
    escalation: EscalationConfig
    initial: InitialConfig = InitialConfig()
    sources: dict[str, str] = Field(default_factory=dict, description="source key -> citation")

    @model_validator(mode="after")
    def _check_members(self) -> Scenario:
        ids = [m.id for m in self.members]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate member ids {dupes}")
        reserved = {"usa", "ukraine", "russia"} & set(ids)
        if reserved:
            raise ValueError(f"member ids {sorted(reserved)} are reserved for other roles")
        return self

    def deployable_k(self, member: Member) -> float:
        """Deployable troops of a member, thousands."""
        if member.deployable_k is not None:
            return member.deployable_k
        return member.active_personnel_k * self.force.deployable_share


# ----------------------------------------------------------------------------- loading


def list_scenarios() -> list[str]:
    """Ids of the scenarios shipped in ``configs/scenarios``, sorted."""
    return configs.shipped("scenarios")


def scenario_path(scenario: str | Path) -> Path:
    """Resolve a scenario id or a path to a YAML file."""
    text = str(scenario)
    if configs.is_path(text):
        path = Path(text)
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} does not exist")
        return path
    path = configs.shipped_file("scenarios", text)
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {text!r}; available: {list_scenarios()}")
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ScenarioError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top, got {type(data).__name__}")
    return data


def _merge(base: Any, override: Any, where: str) -> Any:
    """Deep-merge ``override`` into ``base``: mappings merge, everything else replaces."""
    if where == "members" and isinstance(override, Mapping) and isinstance(base, list):
        by_id = {m.get("id"): i for i, m in enumerate(base) if isinstance(m, Mapping)}
        merged = [copy.deepcopy(m) for m in base]
        for member_id, fields in override.items():
            if member_id not in by_id:
                raise ScenarioError(
                    f"members.{member_id}: no member with that id; members are {sorted(by_id)}"
                )
            if not isinstance(fields, Mapping):
                raise ScenarioError(f"members.{member_id}: expected a mapping of fields")
            merged[by_id[member_id]] = _merge(merged[by_id[member_id]], fields, where)
        return merged
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for key, value in override.items():
            child = f"{where}.{key}" if where else str(key)
            out[key] = _merge(base[key], value, child) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def _expand_dotted(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1}`` into ``{"a": {"b": 1}}`` so it merges like a file."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ScenarioError(f"override keys must be non-empty strings, got {key!r}")
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"override {key!r} conflicts with another override")
        node[parts[-1]] = _expand_dotted(value) if isinstance(value, Mapping) else value
    return nested


def _raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ScenarioError(f"{path}: base scenarios form a cycle: {chain}")
    data = _read_yaml(path)
    base_name = data.get("base")
    if base_name is None:
        return data
    try:
        base_path = scenario_path(base_name)
    except ScenarioError as err:
        raise ScenarioError(f"{path}: field 'base': {err}") from err
    base = _raw(base_path, (*seen, resolved))
    override = {k: v for k, v in data.items() if k != "base"}
    merged = _merge(base, override, "")
    merged["base"] = base_name
    return merged


def _format_errors(err: ValidationError, raw: Mapping[str, Any]) -> str:
    members = raw.get("members") if isinstance(raw.get("members"), list) else []
    lines = []
    for e in err.errors():
        loc = list(e["loc"])
        if (
            len(loc) > 1
            and loc[0] == "members"
            and isinstance(loc[1], int)
            and loc[1] < len(members)
        ):
            member = members[loc[1]]
            if isinstance(member, Mapping) and "id" in member:
                loc[1] = member["id"]
        field = ".".join(str(p) for p in loc) or "(top level)"
        got = e.get("input")
        shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
        lines.append(f"  field '{field}': {e['msg']} (got {shown})")
    return "\n".join(lines)


def load_scenario(
    scenario: str | Path | Scenario = "brussels-2025-04",
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Load, merge and validate a scenario.

    Args:
        scenario: a scenario id (see :func:`list_scenarios`), a path to a YAML file, or an
            already loaded :class:`Scenario` (then only ``overrides`` are applied).
        overrides: fields to change, nested or with dotted keys; validated like the file.

    Raises:
        ScenarioError: naming the file, the field and what was expected.
    """
    if isinstance(scenario, Scenario):
        origin = f"scenario {scenario.id!r}"
        raw = scenario.model_dump()
    else:
        path = scenario_path(scenario)
        origin = str(path)
        raw = _raw(path)
    if overrides:
        origin += " with overrides " + ", ".join(sorted(map(str, overrides)))
        raw = _merge(raw, _expand_dotted(overrides), "")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(f"{origin}: invalid scenario:\n{_format_errors(err, raw)}") from None
