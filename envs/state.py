"""What the rules work on: the compiled scenario (:class:`Params`), the state of a batch of games
(:class:`State`) and the random numbers of a step (:class:`StepDraws`).

Every array in :class:`State` has a leading batch axis ``B`` (games); member arrays are
``[B, M]``. Units: troops are in thousands (``*_k``) inside the rules; money in USD bn per year;
the front is the share of Ukraine's territory Ukraine holds (0..1); one step is two weeks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from reassurance.envs.actions import COMPONENTS, ESCALATION_KEYS, Phase, Role, Signal
from reassurance.envs.scenario import Scenario

__all__ = [
    "Params",
    "State",
    "StepDraws",
    "compile_params",
    "draw_hidden",
    "draw_step",
    "init_state",
]

STEPS_PER_YEAR = 26
"""Steps in a year: one step is two weeks by the model's definition (GAME.md), not a parameter.
Costs given per year (USD bn) are paid at 1/26 per step."""

_CONTRIBUTION_KEYS = ("ground", "air", "maritime", "isr", "logistics", "training", "fortification")


@dataclass(frozen=True)
class Params:
    """A scenario compiled into arrays the rules index directly."""

    scenario: Scenario
    member_ids: tuple[str, ...]
    gdp: np.ndarray  # [M] USD bn
    gdp_weight: np.ndarray  # [M] GDP / mean member GDP
    budget: np.ndarray  # [M] USD bn per year
    capacity_k: np.ndarray  # [M] deployable troops, thousands
    home_threat: np.ndarray  # [M]
    parliament_vote: np.ndarray  # [M] bool
    leadership: np.ndarray  # [M]
    in_ukraine: np.ndarray  # [M] bool
    declaration: np.ndarray  # [M] bool
    pledge_shares: np.ndarray  # [5]
    type_ground: np.ndarray  # [7] per contribution type
    type_enabler: np.ndarray
    type_monitoring: np.ndarray
    type_strength: np.ndarray
    type_cost: np.ndarray
    type_exposure: np.ndarray
    type_prior: np.ndarray  # [3]
    resolve_levels: np.ndarray  # [3]
    resolve_prior: np.ndarray  # [3]
    like_signal: np.ndarray  # [3, 4]
    like_enablers: np.ndarray  # [3, 4]
    like_response: np.ndarray  # [3, 5]
    backstop_credit: np.ndarray  # [4] by US signal
    us_response_force: np.ndarray  # [5] by US response
    member_response_force: np.ndarray  # [5] by member response
    member_response_cost: np.ndarray  # [5] by member response
    gains: np.ndarray  # [3] probe, limited, major
    casualty_severity: np.ndarray  # [3]
    demand_force_share: np.ndarray  # [3] by Ukraine's demand
    usa_security: np.ndarray  # [3] by US type
    usa_intervention_cost: np.ndarray  # [3] by US type
    escalation_scores: np.ndarray  # [6] by Escalation category
    escalation_category: dict[Role, np.ndarray]  # [components, widest] category per value
    escalation_rung: dict[Role, np.ndarray]  # [components, widest] rung per value

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def agents(self) -> tuple[str, ...]:
        """Agent ids in env order: the US, the members in scenario order, Ukraine, Russia."""
        return ("usa", *self.member_ids, "ukraine", "russia")

    def horizon(self, max_cycles: int | None = None) -> int:
        """Steps an episode lasts: the scenario's horizon, or ``max_cycles`` if fewer."""
        if max_cycles is not None and (
            isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1
        ):
            raise ValueError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
        return min(self.scenario.horizon, max_cycles or self.scenario.horizon)

    @property
    def threshold_k(self) -> float:
        return self.scenario.force.threshold_troops / 1000.0


def _escalation_tables(scenario: Scenario, role: Role) -> tuple[np.ndarray, np.ndarray]:
    """Padded tables ``[n_components, max_n]`` of escalation category and rung per value."""
    components = COMPONENTS[role]
    table = scenario.escalation.actions[role.name.lower()]
    width = max(c.n for c in components)
    category = np.zeros((len(components), width), dtype=np.int64)
    rung = np.zeros((len(components), width), dtype=np.int64)
    for i, c in enumerate(components):
        category[i, : c.n] = [ESCALATION_KEYS.index(k) for k in table[c.name].category]
        rung[i, : c.n] = table[c.name].rung
    return category, rung


def compile_params(scenario: Scenario) -> Params:
    """Turn a validated scenario into :class:`Params`."""
    members = scenario.members
    gdp = np.array([m.gdp_usd_bn for m in members], dtype=np.float64)
    types = scenario.contribution_types

    def by_type(field: str) -> np.ndarray:
        return np.array([getattr(getattr(types, k), field) for k in _CONTRIBUTION_KEYS])

    tables = {role: _escalation_tables(scenario, role) for role in Role}
    rewards = scenario.rewards
    return Params(
        scenario=scenario,
        member_ids=tuple(m.id for m in members),
        gdp=gdp,
        gdp_weight=gdp / gdp.mean(),
        budget=np.array([m.defence_usd_bn for m in members]),
        capacity_k=np.array([scenario.deployable_k(m) for m in members]),
        home_threat=np.array([m.home_threat for m in members]),
        parliament_vote=np.array([m.parliament_vote for m in members]),
        leadership=np.array([m.leadership for m in members]),
        in_ukraine=np.array([m.troops_in_ukraine for m in members]),
        declaration=np.array([m.declaration_signed for m in members]),
        pledge_shares=np.array(scenario.force.pledge_shares),
        type_ground=by_type("ground"),
        type_enabler=by_type("enabler"),
        type_monitoring=by_type("monitoring"),
        type_strength=by_type("strength"),
        type_cost=by_type("cost"),
        type_exposure=by_type("exposure"),
        type_prior=np.array(scenario.usa.type_prior()),
        resolve_levels=np.array(scenario.russia.resolve_levels),
        resolve_prior=np.array(scenario.russia.resolve_prior),
        like_signal=np.array(scenario.belief.signal),
        like_enablers=np.array(scenario.belief.enablers),
        like_response=np.array(scenario.belief.response),
        backstop_credit=np.array(scenario.usa.backstop_credit),
        us_response_force=np.array(scenario.usa.response_force),
        member_response_force=np.array(scenario.test.member_response_force),
        member_response_cost=np.array(rewards.member.response_cost),
        gains=np.array(scenario.test.gains),
        casualty_severity=np.array(scenario.test.casualty_severity),
        demand_force_share=np.array(scenario.ukraine.demand_force_share),
        usa_security=np.array(rewards.usa.security),
        usa_intervention_cost=np.array(rewards.usa.intervention_cost),
        escalation_scores=np.array([scenario.escalation.scores[k] for k in ESCALATION_KEYS]),
        escalation_category={role: tables[role][0] for role in Role},
        escalation_rung={role: tables[role][1] for role in Role},
    )


@dataclass(frozen=True)
class State:
    """The state of ``B`` games. Hidden parts: ``us_type`` and ``resolve``."""

    t: np.ndarray  # [B] int, steps played
    phase: np.ndarray  # [B] Phase
    front: np.ndarray  # [B] share of territory Ukraine holds
    fortification: np.ndarray  # [B] 0..1
    pending: np.ndarray  # [B] PendingOffer made last step
    foreign_troops_allowed: np.ndarray  # [B] bool, terms of the ceasefire in force
    talks_idle: np.ndarray  # [B] steps in negotiation without a new offer
    deadline: np.ndarray  # [B] step at which the deployment phase ends
    pledge_level: np.ndarray  # [B, M] 0 none .. 4 twenty per cent
    pledge_type: np.ndarray  # [B, M] Contribution
    pledge_condition: np.ndarray  # [B, M] Condition
    deployed_k: np.ndarray  # [B, M] troops deployed, thousands
    vote_passed: np.ndarray  # [B, M] bool
    vote_cooldown: np.ndarray  # [B, M] steps before a new vote
    member_response: np.ndarray  # [B, M] standing response
    member_aid: np.ndarray  # [B, M] 0..3
    us_signal: np.ndarray  # [B] Signal
    us_enablers: np.ndarray  # [B] 0..3
    us_pressure: np.ndarray  # [B] Pressure
    us_response: np.ndarray  # [B] UsResponse
    belief: np.ndarray  # [B, 3] public P(US type)
    us_type: np.ndarray  # [B] hidden: 0 disengaged, 1 conditional, 2 committed
    resolve: np.ndarray  # [B] hidden: index into resolve levels
    ua_defence: np.ndarray  # [B] 0..3
    ua_demand: np.ndarray  # [B] Demand
    ru_offensive: np.ndarray  # [B] 0..3
    ru_strikes: np.ndarray  # [B] bool
    ru_test: np.ndarray  # [B] TestAction, last step
    ru_threat: np.ndarray  # [B] Threat
    violation_detected: np.ndarray  # [B] bool, last step
    violation_succeeded: np.ndarray  # [B] bool, last step
    gap_open: np.ndarray  # [B] bool, collective-risk deterrence gap
    threshold_met: np.ndarray  # [B] bool, at the last deployment deadline
    # accumulators for the episode summary
    peak_force: np.ndarray  # [B] troops
    peak_pledged_k: np.ndarray  # [B, M]
    peak_deployed_k: np.ndarray  # [B, M]
    ever_ground: np.ndarray  # [B, M] bool
    defected: np.ndarray  # [B, M] bool, reneged or withdrew
    burden: np.ndarray  # [B, M] USD bn spent on deployments
    pledge_changes: np.ndarray  # [B, M]
    ceasefires: np.ndarray  # [B]
    ceasefire_breaks: np.ndarray  # [B]
    violations: np.ndarray  # [B] probes and violations attempted
    detections: np.ndarray  # [B]
    deadlines_met: np.ndarray  # [B]
    deadlines: np.ndarray  # [B]
    steps_to_force: np.ndarray  # [B] first step with F >= F* and E >= E*, -1 if never
    escalation_sum: np.ndarray  # [B, A] agents: usa, members..., ukraine, russia
    escalation_max: np.ndarray  # [B, A]

    @property
    def batch_size(self) -> int:
        return int(self.t.shape[0])

    def replace(self, **changes: np.ndarray) -> State:
        return dataclasses.replace(self, **changes)


# ----------------------------------------------------------------------------- randomness


def draw_hidden(rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms that draw the hidden US type and Russian resolve of ``batch_size`` games."""
    return rng.random(batch_size), rng.random(batch_size)


def _inverse_cdf(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category of each uniform ``u`` under probabilities ``p`` (as ``Generator.choice`` does)."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


@dataclass(frozen=True)
class StepDraws:
    """The random numbers one step uses: uniforms on [0, 1) and one standard normal per game."""

    vote: np.ndarray  # [B, M] parliamentary votes
    detect: np.ndarray  # [B] detection of a probe or violation
    outcome: np.ndarray  # [B] outcome of a detected violation
    gap: np.ndarray  # [B] collective-risk gap at a missed deadline
    front: np.ndarray  # [B] noise of the front


def draw_step(rng: np.random.Generator, batch_size: int, n_members: int) -> StepDraws:
    """Every draw of one step, always the same ones in the same order whatever happens, so one
    seed and one action sequence give one trajectory bit for bit."""
    B, M = batch_size, n_members
    return StepDraws(
        vote=rng.random((B, M)),
        detect=rng.random(B),
        outcome=rng.random(B),
        gap=rng.random(B),
        front=rng.standard_normal(B),
    )


# ----------------------------------------------------------------------------- start


def init_state(
    params: Params,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    hidden: tuple[np.ndarray, np.ndarray] | None = None,
) -> State:
    """Draw the hidden types and set up ``batch_size`` games at step 0.

    The hidden draws come from ``rng`` (:func:`draw_hidden`) or are given as ``hidden`` (two
    ``[batch_size]`` uniform arrays), so a batch can hold games with their own generators.
    """
    sc = params.scenario
    B, M = batch_size, params.n_members
    A = M + 3
    if hidden is None:
        if rng is None:
            raise TypeError("init_state needs a generator or the hidden draws")
        hidden = draw_hidden(rng, B)
    type_u, resolve_u = hidden

    def zeros(dtype: type, *shape: int) -> np.ndarray:
        return np.zeros((B, *shape), dtype)

    return State(
        t=zeros(np.int64),
        phase=np.full(B, Phase.WAR, np.int64),
        front=np.full(B, sc.dynamics.initial_front),
        fortification=np.full(B, sc.initial.fortification),
        pending=zeros(np.int64),
        foreign_troops_allowed=np.ones(B, bool),
        talks_idle=zeros(np.int64),
        deadline=zeros(np.int64),
        pledge_level=zeros(np.int64, M),
        pledge_type=zeros(np.int64, M),
        pledge_condition=zeros(np.int64, M),
        deployed_k=zeros(np.float64, M),
        vote_passed=zeros(bool, M),
        vote_cooldown=zeros(np.int64, M),
        member_response=zeros(np.int64, M),
        member_aid=zeros(np.int64, M),
        us_signal=np.full(B, Signal[sc.initial.us_signal.upper()], np.int64),
        us_enablers=np.full(B, sc.initial.us_enablers, np.int64),
        us_pressure=zeros(np.int64),
        us_response=zeros(np.int64),
        belief=np.tile(params.type_prior, (B, 1)),
        us_type=_inverse_cdf(params.type_prior, type_u),
        resolve=_inverse_cdf(params.resolve_prior, resolve_u),
        ua_defence=np.full(B, sc.initial.ukraine_defence, np.int64),
        ua_demand=zeros(np.int64),
        ru_offensive=np.full(B, sc.initial.russia_offensive, np.int64),
        ru_strikes=zeros(bool),
        ru_test=zeros(np.int64),
        ru_threat=zeros(np.int64),
        violation_detected=zeros(bool),
        violation_succeeded=zeros(bool),
        gap_open=zeros(bool),
        threshold_met=zeros(bool),
        peak_force=zeros(np.float64),
        peak_pledged_k=zeros(np.float64, M),
        peak_deployed_k=zeros(np.float64, M),
        ever_ground=zeros(bool, M),
        defected=zeros(bool, M),
        burden=zeros(np.float64, M),
        pledge_changes=zeros(np.int64, M),
        ceasefires=zeros(np.int64),
        ceasefire_breaks=zeros(np.int64),
        violations=zeros(np.int64),
        detections=zeros(np.int64),
        deadlines_met=zeros(np.int64),
        deadlines=zeros(np.int64),
        steps_to_force=np.full(B, -1, np.int64),
        escalation_sum=zeros(np.float64, A),
        escalation_max=np.full((B, A), -np.inf),
    )
