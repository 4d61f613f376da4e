"""Scenario files: the schema every number of the game lives in, with its unit and range.

A scenario is a YAML file under ``configs/scenarios/`` (or any path), read by the project's one
config loader (:mod:`reassurance.configs`: shipped names or paths, ``base:`` chains read relative
to the file, dotted overrides) and validated into frozen pydantic models. Unknown fields are
errors; every number must be finite and inside its documented range (``docs/model.md`` lists
them); a boolean is never taken for a number; tables that the rules read in order are checked for
the order they rely on. ``members`` may be overridden as a mapping from member id to fields::

    load_scenario("brussels-2025-04", overrides={"usa.committed_prior": 0.5,
                                                 "members.germany.troops_in_ukraine": True})
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from reassurance import configs
from reassurance.envs.actions import COMPONENTS, ESCALATION_KEYS, RUNG_NAMES, Role

__all__ = [
    "Member",
    "Scenario",
    "ScenarioError",
    "list_scenarios",
    "load_scenario",
    "scenario_path",
]


class ScenarioError(configs.ConfigError):
    """A scenario file or override is wrong; the message names the file, the field and why."""


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


Real = Annotated[float, BeforeValidator(_not_bool)]
"""A finite number (``true``/``false`` are refused, NaN and infinities too)."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""An integer (``true``/``false`` are refused)."""
Share = Annotated[Real, Field(ge=0, le=1)]
Probability = Share
Positive = Annotated[Real, Field(gt=0)]
NonNegative = Annotated[Real, Field(ge=0)]
Likelihood = Annotated[Real, Field(gt=0, le=1)]
Rung = Annotated[Whole, Field(ge=0, le=len(RUNG_NAMES) - 1)]
Category = Literal["de_escalation", "status_quo", "posturing", "non_violent", "violent", "nuclear"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _probabilities(values: tuple[float, ...], name: str) -> None:
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, got {list(values)} (sum {sum(values):g})")


def _ordered(values: tuple[float, ...], name: str, *, falling: bool = False) -> None:
    pairs = zip(values[:-1], values[1:], strict=True)
    if any((b > a) if falling else (b < a) for a, b in pairs):
        order = "non-increasing" if falling else "non-decreasing"
        raise ValueError(f"{name} must be {order} (the rules read it in order), got {list(values)}")


class Member(_Frozen):
    """Static traits of one coalition member (figures from shared/design/COUNTRIES.md)."""

    id: str = Field(pattern=r"^[a-z][a-z_]*$", description="lower-case agent id, e.g. 'uk'")
    name: str
    gdp_usd_bn: Positive = Field(description="GDP, current USD bn")
    defence_usd_bn: Positive = Field(description="defence spending, current USD bn per year")
    active_personnel_k: Positive = Field(description="active military personnel, thousands")
    deployable_k: Positive | None = Field(
        default=None,
        description="troops (thousands) this member could send; default personnel x share",
    )
    home_threat: Share = Field(description="0 none .. 1 border with Russia/Belarus")
    parliament_vote: bool = Field(description="a deployment needs a parliamentary vote")
    leadership: Share = Field(description="private benefit of a visible role, 0..1")
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

    committed_prior: Probability = Field(description="P(type = committed)")
    conditional_share: Probability = Field(description="P(type = conditional | not committed)")
    aid: NonNegative = Field(description="US aid to Ukraine's front strength while not pressuring")
    enabler_share: Share = Field(description="E contributed by US enablers at level 3")
    air_defence: Share = Field(description="exposure cut by US enablers at level 3")
    monitoring: NonNegative = Field(description="monitoring units added by US enablers at level 3")
    deterrence: Share = Field(description="kappa_US: deterrence of a US strike response")
    tripwire_troops: Positive = Field(
        description="force size (troops) at which the US backstop fully covers the force"
    )
    backstop_credit: tuple[Share, Share, Share, Share] = Field(
        description="weight of the US backstop in members' exposure, by signal silent..formal"
    )
    response_force: tuple[Share, Share, Share, Share, Share] = Field(
        description="military weight of a US response none..strikes"
    )

    @model_validator(mode="after")
    def _check(self) -> UsaConfig:
        _ordered(self.backstop_credit, "usa.backstop_credit")
        _ordered(self.response_force, "usa.response_force")
        return self

    def type_prior(self) -> tuple[float, float, float]:
        """P(disengaged), P(conditional), P(committed)."""
        rest = 1.0 - self.committed_prior
        return (
            rest * (1.0 - self.conditional_share),
            rest * self.conditional_share,
            self.committed_prior,
        )


class RussiaConfig(_Frozen):
    resolve_levels: tuple[NonNegative, NonNegative, NonNegative] = Field(
        description="weight on territory and gains, low/mid/high resolve"
    )
    resolve_prior: tuple[Probability, Probability, Probability] = Field(
        description="P(resolve low/mid/high)"
    )
    strength: Positive = Field(description="S_R, offensive strength")

    @model_validator(mode="after")
    def _check(self) -> RussiaConfig:
        _probabilities(self.resolve_prior, "russia.resolve_prior")
        _ordered(self.resolve_levels, "russia.resolve_levels")
        return self


class UkraineConfig(_Frozen):
    strength: Positive = Field(description="S_U, defensive strength")
    fortification_rate: Share = Field(description="stock added per fortify step")
    fortification_bonus: NonNegative = Field(description="S_U added at full fortification")
    demand_force_share: tuple[NonNegative, NonNegative, NonNegative] = Field(
        description="pledged force / threshold Ukraine requires at demand none/force/backstop"
    )

    @model_validator(mode="after")
    def _check(self) -> UkraineConfig:
        _ordered(self.demand_force_share, "ukraine.demand_force_share")
        return self


class ForceConfig(_Frozen):
    threshold_troops: Positive = Field(description="F*: credible force size, troops")
    enabler_threshold: Positive = Field(description="E*: enabler units members need alone")
    eta: Positive = Field(description="deterrence curvature; >1 small forces deter little")
    enabler_weight: Share = Field(
        description="weight of enablers E in the coalition's credibility: "
        "kappa_C is proportional to (1 - w) + w E"
    )
    ukraine_weight: NonNegative = Field(description="w: weight of Ukraine's readiness in kappa_C")
    outside_factor: Share = Field(description="deterrence of troops outside Ukraine")
    pledge_shares: tuple[Share, Share, Share, Share, Share] = Field(
        description="share of deployable capacity for pledge none/token/5%/10%/20%"
    )
    deployment_window: Whole = Field(ge=1, le=100, description="steps from ceasefire to deadline")
    deployable_share: Annotated[Real, Field(gt=0, le=1)] = Field(
        description="default deployable / active personnel"
    )
    parliament_pass: Probability = Field(description="base probability a vote passes")
    parliament_backstop_bonus: Probability = Field(description="added times belief mu")
    parliament_declaration_bonus: Probability = Field(description="added if signed")
    vote_cooldown: Whole = Field(
        ge=0, le=100, description="steps before a failed vote can be retried"
    )

    @model_validator(mode="after")
    def _check(self) -> ForceConfig:
        shares = self.pledge_shares
        if shares[0] != 0 or any(b <= a for a, b in zip(shares[:-1], shares[1:], strict=True)):
            raise ValueError(
                "force.pledge_shares must start at 0 and rise strictly (a lower level is a "
                f"smaller pledge; at most 1, the whole capacity), got {list(shares)}"
            )
        return self


class ContributionEffect(_Frozen):
    """What one thousand deployed troops of a contribution type do."""

    ground: Share = Field(description="counts toward force size F (share)")
    enabler: NonNegative = Field(description="enabler units per thousand")
    monitoring: NonNegative = Field(description="monitoring units per thousand")
    strength: NonNegative = Field(description="Ukraine strength added per thousand")
    cost: NonNegative = Field(description="USD bn per thousand per year")
    exposure: Share = Field(description="share exposed to attack in Ukraine")


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

    probe_detection: Probability = Field(description="detection of a probe, no monitoring")
    monitoring_scale: Positive = Field(description="monitoring units for 63% extra detection")
    violation_detection: Probability = Field(description="detection of a limited violation")
    major_resistance: Share = Field(description="q multiplier against a major one")
    gains: tuple[Share, Share, Share] = Field(
        description="share of territory taken if a probe/limited/major violation works"
    )
    casualty_severity: tuple[NonNegative, NonNegative, NonNegative] = Field(
        description="casualties per exposed thousand, probe/limited/major"
    )
    member_response_force: tuple[Share, Share, Share, Share, Share] = Field(
        description="military weight of a member response none..engage"
    )
    failed_casualty_share: Share = Field(description="casualties when repelled")

    @model_validator(mode="after")
    def _check(self) -> TestConfig:
        _ordered(self.gains, "test.gains")
        _ordered(self.casualty_severity, "test.casualty_severity")
        return self


class CollectiveRiskConfig(_Frozen):
    probability: Probability = Field(description="r: chance a gap opens below threshold")
    loss: NonNegative = Field(description="one-off loss each member pays, scaled by GDP")


class DynamicsConfig(_Frozen):
    initial_front: Share = Field(description="share of territory Ukraine holds")
    front_rate: NonNegative = Field(description="kappa: front change per step per unit balance")
    front_noise: NonNegative = Field(description="std dev of the front's step noise")
    negotiation_intensity: Share = Field(description="fighting during talks")
    talks_timeout: Whole = Field(
        ge=1, le=100, description="steps without an offer before talks end"
    )
    aid_weight: NonNegative = Field(description="front strength of full European aid")
    strike_damage: NonNegative = Field(
        description="Ukraine strength lost to infrastructure strikes"
    )
    retaliation_weight: NonNegative = Field(
        description="front strength of Ukraine's retaliation strikes during war and talks"
    )
    collapse_front: Share = Field(description="episode ends if the front falls below")


class BeliefConfig(_Frozen):
    """Public observer model: P(observed level | US type), rows disengaged/conditional/committed.

    Every likelihood is positive: an event the observer model calls impossible would leave
    Bayes' rule undefined once it is seen (a zero likelihood is refused when the file loads).
    """

    signal: tuple[tuple[Likelihood, ...], ...] = Field(description="3 x 4, silent..formal")
    enablers: tuple[tuple[Likelihood, ...], ...] = Field(description="3 x 4, level 0..3")
    response: tuple[tuple[Likelihood, ...], ...] = Field(description="3 x 5, none..strikes")

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
    security: NonNegative
    visible_role: NonNegative
    deployment_cost: NonNegative
    home_readiness: NonNegative
    exposure: NonNegative
    war_exposure_factor: NonNegative = Field(description="exposure multiplier during war")
    casualties: NonNegative
    renege: NonNegative
    declaration_renege_bonus: NonNegative
    aid_cost: NonNegative
    response_cost: tuple[NonNegative, NonNegative, NonNegative, NonNegative, NonNegative]


class UsaRewards(_Frozen):
    security: tuple[NonNegative, NonNegative, NonNegative] = Field(
        description="by type dis/cond/committed"
    )
    enabler_cost: NonNegative
    intervention_cost: tuple[NonNegative, NonNegative, NonNegative] = Field(description="by type")
    audience_cost: NonNegative
    burden_sharing: NonNegative
    escalation: NonNegative

    @model_validator(mode="after")
    def _check(self) -> UsaRewards:
        _ordered(self.security, "rewards.usa.security (by type, disengaged to committed)")
        _ordered(
            self.intervention_cost,
            "rewards.usa.intervention_cost (by type, disengaged to committed)",
            falling=True,
        )
        return self


class UkraineRewards(_Frozen):
    territory: NonNegative
    guarantee: NonNegative
    war_effort: NonNegative
    casualties: NonNegative
    strikes: NonNegative


class RussiaRewards(_Frozen):
    territory: NonNegative
    gains: NonNegative
    war_cost: NonNegative
    retaliation_cost: NonNegative = Field(description="cost of Ukraine's retaliation strikes")
    sanctions: NonNegative
    clash: NonNegative
    nuclear_risk: NonNegative
    failed_violation: NonNegative


class Rewards(_Frozen):
    front_weight: NonNegative = Field(description="weight of the front in the public good G")
    deterrence_weight: NonNegative = Field(description="weight of deterrence in G")
    member: MemberRewards
    usa: UsaRewards
    ukraine: UkraineRewards
    russia: RussiaRewards


class ValueEscalation(_Frozen):
    """The escalation of each value of one action component, in value order."""

    category: tuple[Category, ...] = Field(description="Rivera et al. (2024) category")
    rung: tuple[Rung, ...] = Field(description="rung on the Kahn-style ladder, 0..7")


class EscalationConfig(_Frozen):
    """Rivera et al. (2024) category scores, and the category and rung of every action value."""

    scores: dict[Category, Real]
    actions: dict[Literal["member", "usa", "ukraine", "russia"], dict[str, ValueEscalation]]

    @model_validator(mode="after")
    def _check(self) -> EscalationConfig:
        missing = sorted(set(ESCALATION_KEYS) - set(self.scores))
        if missing:
            raise ValueError(f"escalation.scores lacks {missing}; give all of {ESCALATION_KEYS}")
        for role in Role:
            name = role.name.lower()
            table = self.actions.get(name)
            if table is None:
                raise ValueError(f"escalation.actions lacks role {name!r}")
            expected = {c.name: c for c in COMPONENTS[role]}
            if set(table) != set(expected):
                raise ValueError(
                    f"escalation.actions.{name} must name the components {list(expected)}, "
                    f"got {list(table)}"
                )
            for component, values in table.items():
                n = expected[component].n
                if len(values.category) != n or len(values.rung) != n:
                    raise ValueError(
                        f"escalation.actions.{name}.{component} needs {n} categories and {n} "
                        f"rungs (values {', '.join(expected[component].labels)})"
                    )
        return self


class InitialConfig(_Frozen):
    us_signal: Literal["silent", "verbal", "conditional", "formal"] = "silent"
    us_enablers: Whole = Field(default=0, ge=0, le=3)
    fortification: Share = 0.0
    ukraine_defence: Whole = Field(default=2, ge=0, le=3, description="Ukraine's effort at step 0")
    russia_offensive: Whole = Field(
        default=2, ge=0, le=3, description="Russia's offensive at step 0"
    )


class Scenario(_Frozen):
    """One validated scenario. Every number the rules use lives here."""

    id: str = Field(min_length=1)
    title: str
    description: str = ""
    base: str | None = None
    horizon: Whole = Field(ge=1, le=1000, description="steps of two weeks")
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
    try:
        return configs.resolve("scenarios", scenario)
    except configs.ConfigError as err:
        raise ScenarioError(str(err)) from None


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
    try:
        if isinstance(scenario, Scenario):
            if not overrides:
                return scenario
            raw, origin = configs.read_config(
                "scenarios",
                raw=scenario.model_dump(exclude={"base"}),
                origin=f"scenario {scenario.id!r}",
                overrides=overrides,
                by_id=("members",),
            )
            raw["base"] = scenario.base
        else:
            raw, origin = configs.read_config(
                "scenarios", scenario, overrides=overrides, by_id=("members",)
            )
        return configs.validate(Scenario, raw, origin, "scenario")
    except ScenarioError:
        raise
    except configs.ConfigError as err:
        raise ScenarioError(str(err)) from None
