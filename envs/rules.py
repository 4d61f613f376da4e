"""The rules of the coalition game as array functions over a batch of games.

Every array in :class:`State` has a leading batch axis ``B`` (games); member arrays are
``[B, M]``. :func:`step` advances all games at once from their actions; it never loops over
agents or games in Python. The PettingZoo env in :mod:`coalition` is a batch of one over these
functions. Units: troops are in thousands (``*_k``) inside the rules; money in USD bn per year;
the front is the share of Ukraine's territory Ukraine holds (0..1); one step is two weeks.

Randomness: :func:`step` draws the same fixed set of uniforms and normals from the generator it
is given on every call, whatever the phase, so one seed and one action sequence give one
trajectory bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from reassurance.envs.actions import (
    ESCALATION_KEYS,
    Commit,
    Condition,
    Demand,
    MemberResponse,
    PendingOffer,
    Phase,
    PledgeChange,
    Pressure,
    Role,
    RussiaCeasefire,
    Signal,
    TestAction,
    Threat,
    UkraineCeasefire,
    UsResponse,
    escalation_tables,
    nvec,
)
from reassurance.envs.scenario import Scenario

__all__ = [
    "Params",
    "State",
    "StepDraws",
    "draw_hidden",
    "draw_step",
    "StepResult",
    "compile_params",
    "init_state",
    "legal_masks",
    "step",
    "derived",
    "free_riding_index",
    "rank_correlation",
    "episode_summary",
]

_EPS = 1e-9
_CONTRIBUTION_KEYS = (
    "ground",
    "air",
    "maritime",
    "isr",
    "logistics",
    "training",
    "fortification",
)
_SIGNAL_INDEX = {"silent": 0, "verbal": 1, "conditional": 2, "formal": 3}


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
    escalation_scores: np.ndarray  # [6] by Escalation category
    escalation_category: dict[Role, np.ndarray]
    escalation_rung: dict[Role, np.ndarray]

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def threshold_k(self) -> float:
        return self.scenario.force.threshold_troops / 1000.0


def compile_params(scenario: Scenario) -> Params:
    """Turn a validated scenario into :class:`Params`."""
    members = scenario.members
    gdp = np.array([m.gdp_usd_bn for m in members], dtype=np.float64)
    types = scenario.contribution_types

    def by_type(field: str) -> np.ndarray:
        return np.array([getattr(getattr(types, k), field) for k in _CONTRIBUTION_KEYS])

    categories: dict[Role, np.ndarray] = {}
    rungs: dict[Role, np.ndarray] = {}
    for role in Role:
        categories[role], rungs[role] = escalation_tables(role)
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
        escalation_scores=np.array([scenario.escalation.scores[k] for k in ESCALATION_KEYS]),
        escalation_category=categories,
        escalation_rung=rungs,
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


def draw_hidden(rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms that draw the hidden US type and Russian resolve of ``batch_size`` games."""
    return rng.random(batch_size), rng.random(batch_size)


def _inverse_cdf(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category of each uniform ``u`` under probabilities ``p`` (as ``Generator.choice`` does)."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


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
    zeros_i, zeros_f, zeros_b = (
        np.zeros(B, np.int64),
        np.zeros(B, np.float64),
        np.zeros(B, bool),
    )
    us_type = _inverse_cdf(params.type_prior, type_u)
    resolve = _inverse_cdf(params.resolve_prior, resolve_u)
    return State(
        t=zeros_i.copy(),
        phase=np.full(B, Phase.WAR, np.int64),
        front=np.full(B, sc.dynamics.initial_front),
        fortification=np.full(B, sc.initial.fortification),
        pending=zeros_i.copy(),
        foreign_troops_allowed=np.ones(B, bool),
        talks_idle=zeros_i.copy(),
        deadline=zeros_i.copy(),
        pledge_level=np.zeros((B, M), np.int64),
        pledge_type=np.zeros((B, M), np.int64),
        pledge_condition=np.zeros((B, M), np.int64),
        deployed_k=np.zeros((B, M)),
        vote_passed=np.zeros((B, M), bool),
        vote_cooldown=np.zeros((B, M), np.int64),
        member_response=np.zeros((B, M), np.int64),
        member_aid=np.zeros((B, M), np.int64),
        us_signal=np.full(B, _SIGNAL_INDEX[sc.initial.us_signal], np.int64),
        us_enablers=np.full(B, sc.initial.us_enablers, np.int64),
        us_pressure=zeros_i.copy(),
        us_response=zeros_i.copy(),
        belief=np.tile(params.type_prior, (B, 1)),
        us_type=us_type.astype(np.int64),
        resolve=resolve.astype(np.int64),
        ua_defence=np.full(B, 2, np.int64),
        ua_demand=zeros_i.copy(),
        ru_offensive=np.full(B, 2, np.int64),
        ru_strikes=zeros_b.copy(),
        ru_test=zeros_i.copy(),
        ru_threat=zeros_i.copy(),
        violation_detected=zeros_b.copy(),
        violation_succeeded=zeros_b.copy(),
        gap_open=zeros_b.copy(),
        threshold_met=zeros_b.copy(),
        peak_force=zeros_f.copy(),
        peak_pledged_k=np.zeros((B, M)),
        peak_deployed_k=np.zeros((B, M)),
        ever_ground=np.zeros((B, M), bool),
        defected=np.zeros((B, M), bool),
        burden=np.zeros((B, M)),
        pledge_changes=np.zeros((B, M), np.int64),
        ceasefires=zeros_i.copy(),
        ceasefire_breaks=zeros_i.copy(),
        violations=zeros_i.copy(),
        detections=zeros_i.copy(),
        deadlines_met=zeros_i.copy(),
        deadlines=zeros_i.copy(),
        steps_to_force=np.full(B, -1, np.int64),
        escalation_sum=np.zeros((B, A)),
        escalation_max=np.full((B, A), -np.inf),
    )


# ----------------------------------------------------------------------------- derived figures


@dataclass(frozen=True)
class Derived:
    """Figures computed from a state; nothing here is stored."""

    ceasefire: np.ndarray  # [B] bool, ceasefire in force
    pledged_k: np.ndarray  # [B, M]
    location: np.ndarray  # [B, M] deterrence/exposure factor of where the troops stand
    force: np.ndarray  # [B] effective ground force F, troops
    pledged_force: np.ndarray  # [B] effective ground force pledged, troops
    member_enablers: np.ndarray  # [B] enabler units
    enablers: np.ndarray  # [B] E, 0..1
    monitoring: np.ndarray  # [B] monitoring units
    probe_detection: np.ndarray  # [B]
    kappa_c: np.ndarray  # [B] coalition credibility if every member fights
    reach: np.ndarray  # [B] how far a US response covers the force
    mu: np.ndarray  # [B] P(US type >= conditional)
    deterrence: np.ndarray  # [B] expected q against a limited violation
    condition_met: np.ndarray  # [B, M] bool


def _condition_met(
    condition: np.ndarray, us_signal: np.ndarray, ceasefire: np.ndarray
) -> np.ndarray:
    """[B, M] whether each pledge's condition holds (US signal and ceasefire are [B])."""
    return (
        (condition == Condition.UNCONDITIONAL)
        | ((condition == Condition.IF_US_BACKSTOP) & (us_signal >= Signal.CONDITIONAL)[:, None])
        | ((condition == Condition.AFTER_CEASEFIRE) & ceasefire[:, None])
    )


def derived(params: Params, s: State) -> Derived:
    """Force size, enablers, monitoring and credibility of a state (all vectorised)."""
    sc = params.scenario
    ceasefire = (s.phase == Phase.DEPLOYMENT) | (s.phase == Phase.TEST)
    pledged_k = params.pledge_shares[s.pledge_level] * params.capacity_k
    inside = params.in_ukraine[None, :] & s.foreign_troops_allowed[:, None]
    location = np.where(inside, 1.0, sc.force.outside_factor)
    ground = params.type_ground[s.pledge_type] * location
    force = 1000.0 * np.sum(s.deployed_k * ground, axis=1)
    pledged_force = 1000.0 * np.sum(pledged_k * ground, axis=1)
    member_enablers = np.sum(s.deployed_k * params.type_enabler[s.pledge_type], axis=1)
    us_level = s.us_enablers / 3.0
    enablers = np.minimum(
        1.0, member_enablers / sc.force.enabler_threshold + sc.usa.enabler_share * us_level
    )
    monitoring = (
        np.sum(s.deployed_k * params.type_monitoring[s.pledge_type], axis=1)
        + sc.usa.monitoring * us_level
    )
    d0 = sc.test.probe_detection
    probe_detection = 1.0 - (1.0 - d0) * np.exp(-monitoring / sc.test.monitoring_scale)
    size = np.minimum(1.0, force / sc.force.threshold_troops) ** sc.force.eta
    readiness = s.ua_defence / 3.0
    kappa_c = np.minimum(
        1.0, size * (0.5 + enablers / 2.0) * (1.0 + sc.force.ukraine_weight * readiness)
    )
    reach = np.minimum(1.0, force / sc.usa.tripwire_troops)
    mu = s.belief[:, 1] + s.belief[:, 2]
    deterrence = 1.0 - (1.0 - kappa_c) * (1.0 - mu * sc.usa.deterrence * reach)
    deterrence = np.where(s.gap_open, 0.0, deterrence)
    condition_met = _condition_met(s.pledge_condition, s.us_signal, ceasefire)
    return Derived(
        ceasefire=ceasefire,
        pledged_k=pledged_k,
        location=location,
        force=force,
        pledged_force=pledged_force,
        member_enablers=member_enablers,
        enablers=enablers,
        monitoring=monitoring,
        probe_detection=probe_detection,
        kappa_c=kappa_c,
        reach=reach,
        mu=mu,
        deterrence=deterrence,
        condition_met=condition_met,
    )


# ----------------------------------------------------------------------------- masks


def legal_masks(params: Params, s: State, d: Derived | None = None) -> dict[Role, list[np.ndarray]]:
    """Legal values per role and component.

    Returns, per role, one boolean array per component: ``[B, n]`` for the US, Ukraine and
    Russia and ``[B, M, n]`` for members. Value 0 of every component is always legal.
    ``d`` is ``derived(params, s)`` when the caller already has it.
    """
    d = derived(params, s) if d is None else d
    B, M = s.batch_size, params.n_members
    talks = (s.phase == Phase.WAR) | (s.phase == Phase.NEGOTIATION)
    no_pending = s.pending == PendingOffer.NONE
    russia_offered = (s.pending == PendingOffer.RUSSIA_NO_FOREIGN_TROOPS) | (
        s.pending == PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED
    )

    def ones(role: Role, per_member: bool = False) -> list[np.ndarray]:
        shape = (B, M) if per_member else (B,)
        return [np.ones((*shape, n), bool) for n in nvec(role)]

    member = ones(Role.MEMBER, per_member=True)
    has_troops = s.deployed_k > _EPS
    member[3][..., Commit.DEPLOY] = (
        (d.pledged_k > s.deployed_k + _EPS) & d.condition_met & (s.vote_cooldown == 0)
    )
    member[3][..., Commit.WITHDRAW] = has_troops
    member[4][..., MemberResponse.PROTEST :] = d.ceasefire[:, None, None]
    member[4][..., MemberResponse.REINFORCE :] &= has_troops[..., None]

    usa = ones(Role.USA)
    usa[3][:, UsResponse.STATEMENT :] = d.ceasefire[:, None]

    ukraine = ones(Role.UKRAINE)
    ukraine[2][:, UkraineCeasefire.OFFER] = talks & no_pending
    ukraine[2][:, UkraineCeasefire.ACCEPT] = russia_offered
    ukraine[4][:, 1] = talks | s.violation_detected

    russia = ones(Role.RUSSIA)
    russia[0][:, 1:] = talks[:, None]
    russia[1][:, 1] = talks
    offer = talks & no_pending
    russia[2][:, RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS] = offer
    russia[2][:, RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED] = offer
    russia[2][:, RussiaCeasefire.ACCEPT] = s.pending == PendingOffer.UKRAINE
    russia[3][:, 1:] = d.ceasefire[:, None]
    return {Role.MEMBER: member, Role.USA: usa, Role.UKRAINE: ukraine, Role.RUSSIA: russia}


def _apply_masks(actions: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """Replace every masked component value by 0, the component's no-op."""
    legal = np.stack(
        [
            np.take_along_axis(m, actions[..., i : i + 1], axis=-1)[..., 0]
            for i, m in enumerate(masks)
        ],
        axis=-1,
    )
    return np.where(legal, actions, 0)


# ----------------------------------------------------------------------------- step


@dataclass(frozen=True)
class StepResult:
    state: State
    rewards: dict[Role, np.ndarray]  # members [B, M], others [B]
    escalation: np.ndarray  # [B, A] score of each agent's action this step
    rung: np.ndarray  # [B, A]
    executed: dict[Role, np.ndarray]  # actions after masking
    terminated: np.ndarray  # [B] bool
    truncated: np.ndarray  # [B] bool


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


def _escalation(params: Params, role: Role, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    categories = params.escalation_category[role]
    rungs = params.escalation_rung[role]
    idx = np.arange(categories.shape[0])
    category = categories[idx, actions]
    score = params.escalation_scores[category].max(axis=-1)
    return score, rungs[idx, actions].max(axis=-1)


def step(
    params: Params,
    s: State,
    actions: dict[Role, np.ndarray],
    draws: StepDraws,
) -> StepResult:
    """Advance every game by one step.

    Args:
        params: compiled scenario.
        s: current state of ``B`` games.
        actions: per role, integer actions: members ``[B, M, 6]``, US ``[B, 4]``, Ukraine
            ``[B, 5]``, Russia ``[B, 5]``; values must lie inside each component's range
            (the PettingZoo adapter checks). Masked values are executed as no-ops.
        draws: every random number of this step (:func:`draw_step`).
    """
    sc = params.scenario
    B = s.batch_size
    d0 = derived(params, s)
    masks = legal_masks(params, s, d0)
    act = {role: _apply_masks(np.asarray(actions[role], np.int64), masks[role]) for role in Role}
    mem, usa, ua, ru = act[Role.MEMBER], act[Role.USA], act[Role.UKRAINE], act[Role.RUSSIA]
    talks = (s.phase == Phase.WAR) | (s.phase == Phase.NEGOTIATION)

    # --- US standing choices and Ukraine's stance
    us_signal, us_enablers, us_pressure, us_response = usa.T
    ua_defence, ua_fortify, ua_ceasefire, ua_demand, ua_retaliate = ua.T
    ru_offensive, ru_strikes, ru_ceasefire, ru_test, ru_threat = ru.T

    # --- pledges
    change = mem[..., 0]
    changing = change != PledgeChange.KEEP
    new_level = np.where(changing, change - 1, s.pledge_level)
    new_type = np.where(changing, mem[..., 1], s.pledge_type)
    new_condition = np.where(changing, mem[..., 2], s.pledge_condition)
    old_pledged = d0.pledged_k
    new_pledged = params.pledge_shares[new_level] * params.capacity_k
    type_switch = (new_type != s.pledge_type) & (s.deployed_k > _EPS)
    deployed = np.where(type_switch, 0.0, np.minimum(s.deployed_k, new_pledged))
    reneged = np.maximum(old_pledged - new_pledged, 0.0) + np.where(type_switch, s.deployed_k, 0.0)

    # --- deployments: the pledge as it stands after this step's change, if its condition holds
    condition_met = _condition_met(new_condition, s.us_signal, d0.ceasefire)
    wants = (mem[..., 3] == Commit.DEPLOY) & condition_met & (new_pledged > deployed + _EPS)
    needs_vote = wants & params.parliament_vote[None, :] & ~s.vote_passed
    p_pass = np.minimum(
        1.0,
        sc.force.parliament_pass
        + sc.force.parliament_backstop_bonus * d0.mu[:, None]
        + sc.force.parliament_declaration_bonus * params.declaration[None, :],
    )
    vote_ok = draws.vote < p_pass
    vote_failed = needs_vote & ~vote_ok
    vote_passed = s.vote_passed | (needs_vote & vote_ok)
    deploys = wants & ~vote_failed
    deployed = np.where(deploys, new_pledged, deployed)
    withdraw = mem[..., 3] == Commit.WITHDRAW
    reneged = reneged + np.where(withdraw, deployed, 0.0)
    deployed = np.where(withdraw, 0.0, deployed)
    vote_cooldown = np.where(
        vote_failed, sc.force.vote_cooldown, np.maximum(s.vote_cooldown - 1, 0)
    )

    mid = s.replace(
        pledge_level=new_level,
        pledge_type=new_type,
        pledge_condition=new_condition,
        deployed_k=deployed,
        us_enablers=us_enablers,
        ua_defence=ua_defence,
    )
    d = derived(params, mid)

    # --- the test: Russian probes and violations against the ceasefire
    test = np.where(d0.ceasefire, ru_test, TestAction.COMPLY)
    active = test != TestAction.COMPLY
    kind = np.maximum(test - 1, 0)  # 0 probe, 1 limited, 2 major
    p_detect = np.select(
        [test == TestAction.PROBE, test == TestAction.LIMITED_VIOLATION],
        [d.probe_detection, np.full(B, sc.test.violation_detection)],
        default=1.0,
    )
    detected = active & (draws.detect < p_detect)
    weight = deployed.sum(axis=1)
    member_force = np.array(sc.test.member_response_force)[mem[..., 4]]
    rho_c = np.sum(deployed * member_force, axis=1) / np.maximum(weight, _EPS)
    us_force = np.array(sc.usa.response_force)[us_response]
    us_term = us_force * sc.usa.deterrence * d.reach
    q = 1.0 - (1.0 - rho_c * d.kappa_c) * (1.0 - us_term)
    q = np.where(s.gap_open, 0.0, q)
    q = np.where(test == TestAction.MAJOR_OFFENSIVE, q * sc.test.major_resistance, q)
    succeeded = active & (~detected | (draws.outcome >= q))
    gains = np.array(sc.test.gains)[kind] * succeeded
    breaks = succeeded & (test >= TestAction.LIMITED_VIOLATION)
    clash = (
        detected
        & (test >= TestAction.LIMITED_VIOLATION)
        & (
            np.any((mem[..., 4] == MemberResponse.ENGAGE) & (deployed > _EPS), axis=1)
            | (us_response == UsResponse.STRIKES)
        )
    )

    # --- the front
    dyn = sc.dynamics
    intensity = np.select(
        [s.phase == Phase.WAR, s.phase == Phase.NEGOTIATION], [1.0, dyn.negotiation_intensity], 0.0
    )
    training = np.sum(deployed * params.type_strength[mid.pledge_type], axis=1)
    fortification = np.minimum(1.0, s.fortification + sc.ukraine.fortification_rate * ua_fortify)
    ua_strength = (
        sc.ukraine.strength
        + sc.ukraine.fortification_bonus * fortification
        + training
        - dyn.strike_damage * ru_strikes
    )
    aid = (
        dyn.aid_weight
        * np.sum((mem[..., 5] / 3.0) * params.gdp[None, :], axis=1)
        / params.gdp.sum()
    )
    aid = aid + sc.usa.aid * (us_pressure != Pressure.ON_UKRAINE)
    balance = (
        ua_strength * ua_defence / 3.0
        + aid
        + 0.1 * ua_retaliate * talks
        - sc.russia.strength * ru_offensive / 3.0
    )
    war_move = intensity * (dyn.front_rate * balance + dyn.front_noise * draws.front)
    front = np.clip(s.front + war_move - gains, 0.0, 1.0)

    # --- negotiation
    pending_russia = (s.pending == PendingOffer.RUSSIA_NO_FOREIGN_TROOPS) | (
        s.pending == PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED
    )
    terms_allow = s.pending != PendingOffer.RUSSIA_NO_FOREIGN_TROOPS
    location_if = np.where(
        params.in_ukraine[None, :] & terms_allow[:, None], 1.0, sc.force.outside_factor
    )
    pledged_if = 1000.0 * np.sum(
        d.pledged_k * params.type_ground[mid.pledge_type] * location_if, axis=1
    )
    demand_share = np.array(sc.ukraine.demand_force_share)[ua_demand]
    demand_met = (pledged_if >= demand_share * sc.force.threshold_troops - _EPS) & (
        (ua_demand != Demand.FORCE_AND_BACKSTOP) | (us_signal >= Signal.CONDITIONAL)
    )
    concluded = (pending_russia & (ua_ceasefire == UkraineCeasefire.ACCEPT) & demand_met) | (
        (s.pending == PendingOffer.UKRAINE) & (ru_ceasefire == RussiaCeasefire.ACCEPT)
    )
    russia_offer = (ru_ceasefire == RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS) | (
        ru_ceasefire == RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED
    )
    new_pending = np.select(
        [russia_offer, ua_ceasefire == UkraineCeasefire.OFFER],
        [ru_ceasefire, np.full(B, PendingOffer.UKRAINE)],
        default=PendingOffer.NONE,
    )
    offered = new_pending != PendingOffer.NONE

    # --- phases
    t_next = s.t + 1
    reach_deadline = (s.phase == Phase.DEPLOYMENT) & (t_next >= s.deadline) & ~breaks
    met_now = (d.force >= sc.force.threshold_troops - _EPS) & (d.enablers >= 1.0 - _EPS)
    gap_opens = reach_deadline & ~met_now & (draws.gap < sc.collective_risk.probability)
    talks_idle = np.where(offered, 0, s.talks_idle + (s.phase == Phase.NEGOTIATION))
    talks_fail = (s.phase == Phase.NEGOTIATION) & ~offered & (talks_idle >= dyn.talks_timeout)
    phase = np.select(
        [
            concluded,
            breaks,
            reach_deadline,
            (s.phase == Phase.WAR) & offered,
            talks_fail,
        ],
        [Phase.DEPLOYMENT, Phase.WAR, Phase.TEST, Phase.NEGOTIATION, Phase.WAR],
        default=s.phase,
    )
    foreign_troops_allowed = np.select(
        [concluded, breaks], [terms_allow, np.ones(B, bool)], default=s.foreign_troops_allowed
    )
    deadline = np.where(concluded, t_next + sc.force.deployment_window, s.deadline)
    pending = np.where(concluded | ~talks, PendingOffer.NONE, new_pending)
    gap_open = np.where(breaks, False, s.gap_open | gap_opens)
    threshold_met = np.where(reach_deadline, met_now, s.threshold_met)

    # --- public belief about the US type (Bayes' rule on events)
    likelihood = np.ones((B, 3))
    likelihood *= np.where(
        (us_signal != s.us_signal)[:, None], params.like_signal[:, us_signal].T, 1.0
    )
    likelihood *= np.where(
        (us_enablers != s.us_enablers)[:, None], params.like_enablers[:, us_enablers].T, 1.0
    )
    likelihood *= np.where(detected[:, None], params.like_response[:, us_response].T, 1.0)
    belief = s.belief * likelihood
    belief = belief / belief.sum(axis=1, keepdims=True)

    new = mid.replace(
        t=t_next,
        phase=phase,
        front=front,
        fortification=fortification,
        pending=pending,
        foreign_troops_allowed=foreign_troops_allowed,
        talks_idle=np.where(phase == Phase.NEGOTIATION, talks_idle, 0),
        deadline=deadline,
        vote_passed=vote_passed,
        vote_cooldown=vote_cooldown,
        member_response=mem[..., 4],
        member_aid=mem[..., 5],
        us_signal=us_signal,
        us_pressure=us_pressure,
        us_response=us_response,
        belief=belief,
        ua_demand=ua_demand,
        ru_offensive=ru_offensive,
        ru_strikes=ru_strikes.astype(bool),
        ru_test=test,
        ru_threat=ru_threat,
        violation_detected=detected,
        violation_succeeded=succeeded,
        gap_open=gap_open,
        threshold_met=threshold_met,
    )
    dn = derived(params, new)

    # --- rewards
    rw = sc.rewards
    in_force = dn.ceasefire
    public_good = rw.front_weight * front + rw.deterrence_weight * dn.deterrence * in_force
    rewards = _rewards(
        params,
        new,
        dn,
        act,
        public_good=public_good,
        reneged=reneged,
        gap_opens=gap_opens,
        test=test,
        detected=detected,
        succeeded=succeeded,
        gains=gains,
        clash=clash,
        intensity=intensity,
    )

    # --- escalation
    esc_m, rung_m = _escalation(params, Role.MEMBER, mem)
    esc = [_escalation(params, role, act[role]) for role in (Role.USA, Role.UKRAINE, Role.RUSSIA)]
    escalation = np.concatenate(
        [esc[0][0][:, None], esc_m, esc[1][0][:, None], esc[2][0][:, None]], axis=1
    )
    rung = np.concatenate(
        [esc[0][1][:, None], rung_m, esc[1][1][:, None], esc[2][1][:, None]], axis=1
    )

    # --- accumulators
    full_force = (dn.force >= sc.force.threshold_troops - _EPS) & (dn.enablers >= 1.0 - _EPS)
    new = new.replace(
        peak_force=np.maximum(s.peak_force, dn.force),
        peak_pledged_k=np.maximum(s.peak_pledged_k, dn.pledged_k),
        peak_deployed_k=np.maximum(s.peak_deployed_k, deployed),
        ever_ground=s.ever_ground | ((deployed > _EPS) & (params.type_ground[new.pledge_type] > 0)),
        defected=s.defected | (reneged > _EPS),
        burden=s.burden + deployed * params.type_cost[new.pledge_type] / 26.0,
        pledge_changes=s.pledge_changes + (changing & (new_level != s.pledge_level)),
        ceasefires=s.ceasefires + concluded,
        ceasefire_breaks=s.ceasefire_breaks + breaks,
        violations=s.violations + active,
        detections=s.detections + detected,
        deadlines_met=s.deadlines_met + (reach_deadline & met_now),
        deadlines=s.deadlines + reach_deadline,
        steps_to_force=np.where((s.steps_to_force < 0) & full_force, t_next, s.steps_to_force),
        escalation_sum=s.escalation_sum + escalation,
        escalation_max=np.maximum(s.escalation_max, escalation),
    )
    terminated = front <= dyn.collapse_front
    truncated = (t_next >= sc.horizon) & ~terminated
    return StepResult(
        state=new,
        rewards=rewards,
        escalation=escalation,
        rung=rung,
        executed=act,
        terminated=terminated,
        truncated=truncated,
    )


def _rewards(
    params: Params,
    s: State,
    d: Derived,
    act: dict[Role, np.ndarray],
    *,
    public_good: np.ndarray,
    reneged: np.ndarray,
    gap_opens: np.ndarray,
    test: np.ndarray,
    detected: np.ndarray,
    succeeded: np.ndarray,
    gains: np.ndarray,
    clash: np.ndarray,
    intensity: np.ndarray,
) -> dict[Role, np.ndarray]:
    sc = params.scenario
    rw = sc.rewards
    mem, usa, ua, ru = act[Role.MEMBER], act[Role.USA], act[Role.UKRAINE], act[Role.RUSSIA]
    deployed = s.deployed_k
    kind = np.maximum(test - 1, 0)
    active = test != TestAction.COMPLY
    war = s.phase == Phase.WAR

    # members
    m = rw.member
    exposed = deployed * params.type_exposure[s.pledge_type] * d.location
    backstop = 1.0 - (
        1.0 - d.mu * sc.usa.deterrence * np.array(sc.usa.backstop_credit)[s.us_signal]
    ) * (1.0 - sc.usa.air_defence * s.us_enablers / 3.0)
    exposure_mult = np.where(war, m.war_exposure_factor, 1.0) * (1.0 - backstop)
    casualty = (
        np.array(sc.test.casualty_severity)[kind]
        * np.where(succeeded, 1.0, sc.test.failed_casualty_share)
        * active
    )
    member = (
        m.security * params.gdp_weight[None, :] * public_good[:, None]
        + m.visible_role * params.leadership[None, :] * deployed / params.threshold_k
        - m.deployment_cost * deployed * params.type_cost[s.pledge_type] / params.budget[None, :]
        - m.home_readiness * params.home_threat[None, :] * deployed / params.capacity_k[None, :]
        - m.exposure * exposed * exposure_mult[:, None]
        - m.casualties * exposed * casualty[:, None]
        - m.renege * reneged * (1.0 + m.declaration_renege_bonus * params.declaration[None, :])
        - m.aid_cost * mem[..., 5] / 3.0
        - np.array(m.response_cost)[mem[..., 4]] * detected[:, None]
        - sc.collective_risk.loss * params.gdp_weight[None, :] * gap_opens[:, None]
    )

    # usa
    u = rw.usa
    us_type = s.us_type
    eu = d.force / sc.force.threshold_troops + d.member_enablers / sc.force.enabler_threshold
    us_part = sc.usa.enabler_share * usa[:, 1] / 3.0
    europe_share = np.where(eu + us_part > 0, eu / np.maximum(eu + us_part, _EPS), 0.0)
    us_force = np.array(sc.usa.response_force)[usa[:, 3]]
    us_score = _escalation(params, Role.USA, usa)[0]
    usa_r = (
        np.array(u.security)[us_type] * public_good
        - u.enabler_cost * usa[:, 1] / 3.0
        - np.array(u.intervention_cost)[us_type] * us_force * detected
        - u.audience_cost
        * (s.us_signal == Signal.FORMAL)
        * detected
        * (test >= TestAction.LIMITED_VIOLATION)
        * (usa[:, 3] < UsResponse.ISR_AIR_COVER)
        + u.burden_sharing * europe_share * d.ceasefire
        - u.escalation * np.maximum(us_score, 0.0) / params.escalation_scores.max()
    )

    # ukraine
    k = rw.ukraine
    ukraine = (
        k.territory * s.front
        + k.guarantee * d.deterrence * d.ceasefire
        - k.war_effort * ua[:, 0] / 3.0 * war
        - k.casualties * intensity * ru[:, 0] / 3.0
        - k.strikes * ru[:, 1]
    )

    # russia
    r = rw.russia
    resolve = params.resolve_levels[s.resolve]
    sanctioning = np.sum(
        params.gdp_weight[None, :] * (mem[..., 4] == MemberResponse.SANCTIONS), axis=1
    ) / params.n_members + (usa[:, 3] >= UsResponse.SANCTIONS)
    sanctions = (usa[:, 2] == Pressure.SANCTIONS_ON_RUSSIA) + detected * sanctioning
    russia = (
        r.territory * resolve * (1.0 - s.front)
        + r.gains * resolve * gains
        - r.war_cost * intensity * ru[:, 0] / 3.0
        - 0.5 * r.war_cost * ua[:, 4]
        - r.sanctions * sanctions
        - r.clash * clash
        - r.nuclear_risk * (ru[:, 4] == Threat.NUCLEAR_SIGNALLING)
        - r.failed_violation * (active & ~succeeded & (test >= TestAction.LIMITED_VIOLATION))
    )
    return {Role.MEMBER: member, Role.USA: usa_r, Role.UKRAINE: ukraine, Role.RUSSIA: russia}


# ----------------------------------------------------------------------------- metrics


def free_riding_index(gdp: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """Half the L1 distance between GDP shares and contribution shares (0 = proportional).

    Works on the last axis; ``nan`` where nobody contributed.
    """
    gdp = np.asarray(gdp, np.float64)
    contributions = np.asarray(contributions, np.float64)
    total = contributions.sum(axis=-1, keepdims=True)
    shares = np.divide(contributions, total, out=np.zeros_like(contributions), where=total > 0)
    gdp_shares = gdp / gdp.sum(axis=-1, keepdims=True)
    index = 0.5 * np.abs(gdp_shares - shares).sum(axis=-1)
    return np.where(total[..., 0] > 0, index, np.nan)


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two vectors (average ranks for ties); ``nan`` if constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for value in np.unique(v):
            tie = v == value
            r[tie] = r[tie].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if np.std(rx) == 0 or np.std(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def episode_summary(params: Params, s: State, index: int = 0) -> dict[str, float | int | bool]:
    """Cohesion and outcome metrics of game ``index`` (see docs/model.md for definitions)."""
    sc = params.scenario
    burden = s.burden[index]
    pledged = s.peak_pledged_k[index]
    deployed_peak = s.peak_deployed_k[index]
    ever_pledged = pledged > _EPS
    n_agents = s.escalation_sum.shape[1]
    steps = max(int(s.t[index]), 1)
    shares = burden / burden.sum() if burden.sum() > 0 else np.zeros_like(burden)
    gini = _gini(shares) if burden.sum() > 0 else float("nan")
    total_pledged = float(pledged.sum())
    return {
        "steps": int(s.t[index]),
        "contributors": int(np.sum(deployed_peak > _EPS)),
        "contributors_ground": int(np.sum(s.ever_ground[index])),
        "troops_deployed": float(s.peak_force[index]),
        "threshold": float(sc.force.threshold_troops),
        "threshold_met": bool(s.deadlines_met[index] > 0),
        "burden_gini": gini,
        "free_riding_index": float(free_riding_index(params.gdp, burden)),
        "oz_rank_correlation": rank_correlation(params.gdp, burden)
        if burden.sum() > 0
        else float("nan"),
        "pledge_conversion": float(deployed_peak.sum() / total_pledged)
        if total_pledged > 0
        else float("nan"),
        "defection_rate": float(s.defected[index][ever_pledged].mean())
        if ever_pledged.any()
        else float("nan"),
        "pledge_volatility": float(s.pledge_changes[index].mean()),
        "ceasefires": int(s.ceasefires[index]),
        "ceasefire_breaks": int(s.ceasefire_breaks[index]),
        "ceasefire_held": bool(
            s.ceasefires[index] > 0
            and s.ceasefire_breaks[index] == 0
            and s.phase[index] in (Phase.DEPLOYMENT, Phase.TEST)
        ),
        "violations": int(s.violations[index]),
        "violations_detected": int(s.detections[index]),
        "detection_rate": float(s.detections[index] / s.violations[index])
        if s.violations[index] > 0
        else float("nan"),
        "max_escalation": float(s.escalation_max[index].max()) if s.t[index] > 0 else 0.0,
        "mean_escalation": float(s.escalation_sum[index].sum() / (steps * n_agents)),
        "steps_to_force": int(s.steps_to_force[index]),
        "final_front": float(s.front[index]),
        "final_belief_us_backs": float(s.belief[index, 1] + s.belief[index, 2]),
        "us_type": int(s.us_type[index]),
        "russia_resolve": float(params.resolve_levels[s.resolve[index]]),
    }


def _gini(shares: np.ndarray) -> float:
    n = len(shares)
    if n < 2:
        return 0.0
    diff = np.abs(shares[:, None] - shares[None, :]).sum()
    return float(diff / (2.0 * n * shares.sum()))
