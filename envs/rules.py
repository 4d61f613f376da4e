"""The rules of the coalition game: one step as a sequence of named phases, over a batch of games.

:func:`step` reads as the table of contents of a turn. Each phase is a function below, with
the formula it applies in its docstring, and returns a small frozen record that the later
phases read by name:

1. :func:`execute`: the actions as played, illegal values replaced by no-ops.
2. :func:`pledge_and_deploy` -> :class:`Deployment`: pledges change, conditional deployments,
   parliamentary votes, withdrawals, reneging.
3. :func:`run_test` -> :class:`TestOutcome`: Russia's probe or violation against the ceasefire,
   its detection and the coalition's and the US's deterrence.
4. :func:`move_front` -> :class:`FrontMove`: the front in war and talks.
5. :func:`negotiate` -> :class:`Talks`: ceasefire offers and acceptances.
6. :func:`change_phases` -> :class:`PhaseChange`: war, negotiation, deployment, test; the
   deployment deadline and the collective-risk gap.
7. :func:`update_belief`: the public belief about the US type, by Bayes' rule on events.
8. :func:`next_state`, then :func:`~reassurance.envs.figures.derived` of it (once).
9. :func:`reward`: every role's reward.
10. :func:`score_escalation`: each agent's escalation score and rung.
11. :func:`accumulate`: the counters of the episode summary.

Every array has a leading batch axis ``B`` (games); member arrays are ``[B, M]``; nothing loops
over agents or games. Units: troops in thousands (``*_k``) inside the rules, money in USD bn per
year, the front as the share of Ukraine's territory Ukraine holds. The random numbers come in as
:class:`~reassurance.envs.state.StepDraws`, the same ones every step whatever happens, so one
seed and one action sequence give one trajectory bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reassurance.envs.actions import (
    ActionView,
    Commit,
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
)
from reassurance.envs.figures import Derived, Posture, condition_met, derived, posture
from reassurance.envs.masks import apply_masks, legal_masks
from reassurance.envs.state import STEPS_PER_YEAR, Params, State, StepDraws

__all__ = ["StepResult", "step"]

_EPS = 1e-9  # tolerance of the rules' comparisons (troops in thousands, shares)

Played = dict[Role, ActionView]


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Deployment:
    """Pledges and deployments after this step's orders ([B, M] unless said)."""

    level: np.ndarray  # pledge level 0 none .. 4 twenty per cent
    kind: np.ndarray  # Contribution of the pledge
    condition: np.ndarray  # Condition of the pledge
    changing: np.ndarray  # bool, the member changed its pledge
    deployed_k: np.ndarray  # troops deployed, thousands
    reneged_k: np.ndarray  # troops pledged or deployed and taken back, thousands
    vote_passed: np.ndarray  # bool
    vote_cooldown: np.ndarray  # steps before a new vote
    posture: Posture  # the force as it now stands, before the test


@dataclass(frozen=True)
class TestOutcome:
    """Russia's test of the ceasefire this step ([B])."""

    __test__ = False  # not a pytest class

    test: np.ndarray  # TestAction played (comply outside a ceasefire)
    active: np.ndarray  # bool, a probe or violation was attempted
    kind: np.ndarray  # 0 probe, 1 limited violation, 2 major offensive
    detected: np.ndarray  # bool
    succeeded: np.ndarray  # bool
    gains: np.ndarray  # share of territory Russia took
    breaks: np.ndarray  # bool, the ceasefire broke
    clash: np.ndarray  # bool, NATO forces or US strikes met Russian forces


@dataclass(frozen=True)
class FrontMove:
    """The front after this step ([B])."""

    front: np.ndarray  # share of its territory Ukraine holds
    fortification: np.ndarray  # Ukraine's fortification stock, 0..1
    intensity: np.ndarray  # fighting: 1 in war, dynamics.negotiation_intensity in talks, 0


@dataclass(frozen=True)
class Talks:
    """Ceasefire offers and acceptances this step ([B])."""

    concluded: np.ndarray  # bool, a ceasefire was agreed
    offer: np.ndarray  # PendingOffer made this step
    terms_allow: np.ndarray  # bool, the pending offer's terms admit foreign troops


@dataclass(frozen=True)
class PhaseChange:
    """Phases and the deployment deadline after this step ([B])."""

    phase: np.ndarray
    foreign_troops_allowed: np.ndarray
    deadline: np.ndarray
    pending: np.ndarray
    talks_idle: np.ndarray
    reach_deadline: np.ndarray  # bool, a deployment deadline came this step
    met_now: np.ndarray  # bool, F >= F* and E >= E* at that moment
    gap_opens: np.ndarray  # bool, the collective-risk gap opened this step
    gap_open: np.ndarray
    threshold_met: np.ndarray


@dataclass(frozen=True)
class StepResult:
    """A step's outcome. ``figures`` is ``derived(params, state)``: hand it to the next step."""

    state: State
    figures: Derived
    rewards: dict[Role, np.ndarray]  # members [B, M], others [B]
    escalation: np.ndarray  # [B, A] score of each agent's action this step
    rung: np.ndarray  # [B, A]
    executed: dict[Role, np.ndarray]  # actions after masking
    terminated: np.ndarray  # [B] bool
    truncated: np.ndarray  # [B] bool


# ----------------------------------------------------------------------------- the step


def step(
    params: Params,
    s: State,
    d: Derived,
    actions: dict[Role, np.ndarray],
    draws: StepDraws,
) -> StepResult:
    """Advance every game by one step.

    Args:
        params: compiled scenario.
        s: current state of ``B`` games, and ``d`` its figures (``derived(params, s)``, or the
            ``figures`` of the step that made ``s``).
        actions: per role, integer actions: members ``[B, M, 6]``, US ``[B, 4]``, Ukraine
            ``[B, 5]``, Russia ``[B, 5]``; values must lie inside each component's range
            (the adapters check). Masked values are executed as no-ops.
        draws: every random number of this step.
    """
    executed = execute(params, s, d, actions)
    act = {role: ActionView(role, executed[role]) for role in Role}
    forces = pledge_and_deploy(params, s, d, act, draws)
    test = run_test(params, s, d, act, forces, draws)
    front = move_front(params, s, act, forces, test, draws)
    talks = negotiate(params, s, act, forces)
    phases = change_phases(params, s, forces, test, talks, draws)
    belief = update_belief(params, s, act, test)
    new = next_state(s, act, forces, test, front, phases, belief)
    figures = derived(params, new)
    rewards = reward(params, new, figures, act, forces, test, front, phases)
    escalation, rung = score_escalation(params, executed)
    new = accumulate(params, s, new, figures, forces, test, talks, phases, escalation)
    terminated = front.front <= params.scenario.dynamics.collapse_front
    truncated = (new.t >= params.scenario.horizon) & ~terminated
    return StepResult(
        state=new,
        figures=figures,
        rewards=rewards,
        escalation=escalation,
        rung=rung,
        executed=executed,
        terminated=terminated,
        truncated=truncated,
    )


# ----------------------------------------------------------------------------- phases


def execute(
    params: Params, s: State, d: Derived, actions: dict[Role, np.ndarray]
) -> dict[Role, np.ndarray]:
    """The actions as played: a value the state's masks forbid becomes the no-op (0)."""
    masks = legal_masks(params, s, d)
    return {role: apply_masks(np.asarray(actions[role], np.int64), masks[role]) for role in Role}


def pledge_and_deploy(
    params: Params, s: State, d: Derived, act: Played, draws: StepDraws
) -> Deployment:
    """Pledges change, then deployments follow the pledge as it now stands.

    - A pledge change sets level, type and condition; pledged = share[level] capacity. Lowering
      the pledge cuts deployed troops to it; changing the type of deployed troops sends them
      home. Both are reneging (pledged or deployed troops taken back, thousands).
    - ``deploy`` moves the whole pledge into place if its condition holds (with the US signal
      and the ceasefire at the start of the step), no failed vote blocks it and, for members
      whose deployments need a vote, the vote passes. A parliament votes on the mission's
      expected risk: the share of the member's troops exposed to an attack that is neither
      deterred nor covered by a backstop, risk = exposure(type) location (1 - q-hat)
      (1 - backstop) (see :func:`backstop`). It passes with probability clip(
      ``parliament_pass`` - ``parliament_risk`` risk + ``parliament_declaration_bonus``
      [declaration signed], 0, 1). The US reaches the vote only through q-hat and the
      backstop, as it reaches the exposure cost. A failed vote blocks deployment for
      ``force.vote_cooldown`` steps.
    - ``withdraw`` brings every deployed troop home (reneging).
    """
    force = params.scenario.force
    member = act[Role.MEMBER]
    changing = member.pledge != PledgeChange.KEEP
    level = np.where(changing, member.pledge - 1, s.pledge_level)
    kind = np.where(changing, member.contribution, s.pledge_type)
    condition = np.where(changing, member.condition, s.pledge_condition)
    pledged = params.pledge_shares[level] * params.capacity_k
    type_switch = (kind != s.pledge_type) & (s.deployed_k > _EPS)
    deployed = np.where(type_switch, 0.0, np.minimum(s.deployed_k, pledged))
    reneged = np.maximum(d.pledged_k - pledged, 0.0) + np.where(type_switch, s.deployed_k, 0.0)

    met = condition_met(condition, s.us_signal, d.ceasefire)
    wants = (member.commit == Commit.DEPLOY) & met & (pledged > deployed + _EPS)
    needs_vote = wants & params.parliament_vote[None, :] & ~s.vote_passed
    risk = (
        params.type_exposure[kind]
        * d.location
        * ((1.0 - d.deterrence) * (1.0 - backstop(params, s, d)))[:, None]
    )
    p_pass = np.clip(
        force.parliament_pass
        - force.parliament_risk * risk
        + force.parliament_declaration_bonus * params.declaration[None, :],
        0.0,
        1.0,
    )
    vote_ok = draws.vote < p_pass
    vote_failed = needs_vote & ~vote_ok
    deployed = np.where(wants & ~vote_failed, pledged, deployed)
    withdraw = member.commit == Commit.WITHDRAW
    reneged = reneged + np.where(withdraw, deployed, 0.0)
    deployed = np.where(withdraw, 0.0, deployed)
    return Deployment(
        level=level,
        kind=kind,
        condition=condition,
        changing=changing,
        deployed_k=deployed,
        reneged_k=reneged,
        vote_passed=s.vote_passed | (needs_vote & vote_ok),
        vote_cooldown=np.where(
            vote_failed, force.vote_cooldown, np.maximum(s.vote_cooldown - 1, 0)
        ),
        posture=posture(
            params,
            level,
            kind,
            deployed,
            s.foreign_troops_allowed,
            act[Role.USA].enablers,
            act[Role.UKRAINE].defence,
        ),
    )


def run_test(
    params: Params, s: State, d: Derived, act: Played, forces: Deployment, draws: StepDraws
) -> TestOutcome:
    """Russia's test during a ceasefire, against the force as it now stands.

    - Detection: a probe with the posture's probe detection, a limited violation with
      ``test.violation_detection``, a major offensive always.
    - Deterrence: rho_C = the force-weighted military weight of the members' standing
      responses; the US term u = ``usa.response_force``[response] ``usa.deterrence`` reach;
      q = 1 - (1 - rho_C kappa_C)(1 - u), 0 while the deterrence gap is open, times
      ``test.major_resistance`` against a major offensive.
    - An undetected move succeeds; a detected one succeeds with probability 1 - q. A success
      takes ``test.gains`` of territory; a successful violation breaks the ceasefire.
    - A clash: a detected violation met by members engaging with troops in place or US strikes.
    """
    sc = params.scenario
    member, usa = act[Role.MEMBER], act[Role.USA]
    deployed, force = forces.deployed_k, forces.posture
    test = np.where(d.ceasefire, act[Role.RUSSIA].test, TestAction.COMPLY)
    active = test != TestAction.COMPLY
    kind = np.maximum(test - 1, 0)
    p_detect = np.select(
        [test == TestAction.PROBE, test == TestAction.LIMITED_VIOLATION],
        [force.probe_detection, np.full(s.batch_size, sc.test.violation_detection)],
        default=1.0,
    )
    detected = active & (draws.detect < p_detect)
    weight = deployed.sum(axis=1)
    member_force = params.member_response_force[member.response]
    rho_c = np.sum(deployed * member_force, axis=1) / np.maximum(weight, _EPS)
    us_term = params.us_response_force[usa.response] * sc.usa.deterrence * force.reach
    q = 1.0 - (1.0 - rho_c * force.kappa_c) * (1.0 - us_term)
    q = np.where(s.gap_open, 0.0, q)
    q = np.where(test == TestAction.MAJOR_OFFENSIVE, q * sc.test.major_resistance, q)
    succeeded = active & (~detected | (draws.outcome >= q))
    engaged = np.any((member.response == MemberResponse.ENGAGE) & (deployed > _EPS), axis=1)
    return TestOutcome(
        test=test,
        active=active,
        kind=kind,
        detected=detected,
        succeeded=succeeded,
        gains=params.gains[kind] * succeeded,
        breaks=succeeded & (test >= TestAction.LIMITED_VIOLATION),
        clash=detected
        & (test >= TestAction.LIMITED_VIOLATION)
        & (engaged | (usa.response == UsResponse.STRIKES)),
    )


def move_front(
    params: Params,
    s: State,
    act: Played,
    forces: Deployment,
    test: TestOutcome,
    draws: StepDraws,
) -> FrontMove:
    """The front moves in war (intensity 1) and talks (``negotiation_intensity``):

    dx = intensity (``front_rate`` (S_U defence/3 + aid + ``retaliation_weight`` retaliation
    - S_R offensive/3) + ``front_noise`` eps) - gains, with S_U = ``ukraine.strength`` +
    ``fortification_bonus`` fortification + training contributions - ``strike_damage``
    [strikes] and aid = ``aid_weight`` x GDP-weighted member aid/3 + ``usa.aid`` unless the US
    presses Ukraine. During a ceasefire only successful probes and violations move it.
    """
    sc = params.scenario
    dyn = sc.dynamics
    usa, ukraine, russia = act[Role.USA], act[Role.UKRAINE], act[Role.RUSSIA]
    talks = (s.phase == Phase.WAR) | (s.phase == Phase.NEGOTIATION)
    intensity = np.select(
        [s.phase == Phase.WAR, s.phase == Phase.NEGOTIATION], [1.0, dyn.negotiation_intensity], 0.0
    )
    training = np.sum(forces.deployed_k * params.type_strength[forces.kind], axis=1)
    fortification = np.minimum(
        1.0, s.fortification + sc.ukraine.fortification_rate * ukraine.fortify
    )
    ua_strength = (
        sc.ukraine.strength
        + sc.ukraine.fortification_bonus * fortification
        + training
        - dyn.strike_damage * russia.strikes
    )
    member_aid = act[Role.MEMBER].aid
    aid = (
        dyn.aid_weight * np.sum((member_aid / 3.0) * params.gdp[None, :], axis=1) / params.gdp.sum()
    )
    aid = aid + sc.usa.aid * (usa.pressure != Pressure.ON_UKRAINE)
    balance = (
        ua_strength * ukraine.defence / 3.0
        + aid
        + dyn.retaliation_weight * ukraine.retaliate * talks
        - sc.russia.strength * russia.offensive / 3.0
    )
    war_move = intensity * (dyn.front_rate * balance + dyn.front_noise * draws.front)
    return FrontMove(
        front=np.clip(s.front + war_move - test.gains, 0.0, 1.0),
        fortification=fortification,
        intensity=intensity,
    )


def negotiate(params: Params, s: State, act: Played, forces: Deployment) -> Talks:
    """Offers live one step; the other side may accept in the next.

    Ukraine's acceptance of Russia's offer binds only if its standing demand is met: pledged
    effective ground force (under the offer's terms) >= ``ukraine.demand_force_share``[demand]
    F*, and for the highest demand also a US signal of at least a conditional backstop.
    Russia's acceptance of Ukraine's offer always binds. A new offer replaces the pending one.
    """
    force = params.scenario.force
    ukraine, russia, usa = act[Role.UKRAINE], act[Role.RUSSIA], act[Role.USA]
    pending_russia = (s.pending == PendingOffer.RUSSIA_NO_FOREIGN_TROOPS) | (
        s.pending == PendingOffer.RUSSIA_FOREIGN_TROOPS_ALLOWED
    )
    terms_allow = s.pending != PendingOffer.RUSSIA_NO_FOREIGN_TROOPS
    location_if = np.where(
        params.in_ukraine[None, :] & terms_allow[:, None], 1.0, force.outside_factor
    )
    pledged_if = 1000.0 * np.sum(
        forces.posture.pledged_k * params.type_ground[forces.kind] * location_if, axis=1
    )
    demand_share = params.demand_force_share[ukraine.demand]
    demand_met = (pledged_if >= demand_share * force.threshold_troops - _EPS) & (
        (ukraine.demand != Demand.FORCE_AND_BACKSTOP) | (usa.signal >= Signal.CONDITIONAL)
    )
    concluded = (pending_russia & (ukraine.ceasefire == UkraineCeasefire.ACCEPT) & demand_met) | (
        (s.pending == PendingOffer.UKRAINE) & (russia.ceasefire == RussiaCeasefire.ACCEPT)
    )
    russia_offer = (russia.ceasefire == RussiaCeasefire.OFFER_NO_FOREIGN_TROOPS) | (
        russia.ceasefire == RussiaCeasefire.OFFER_FOREIGN_TROOPS_ALLOWED
    )
    offer = np.select(
        [russia_offer, ukraine.ceasefire == UkraineCeasefire.OFFER],
        [russia.ceasefire, np.full(s.batch_size, PendingOffer.UKRAINE)],
        default=PendingOffer.NONE,
    )
    return Talks(concluded=concluded, offer=offer, terms_allow=terms_allow)


def change_phases(
    params: Params,
    s: State,
    forces: Deployment,
    test: TestOutcome,
    talks: Talks,
    draws: StepDraws,
) -> PhaseChange:
    """War -> negotiation (an offer) -> deployment (a ceasefire; deadline in
    ``force.deployment_window`` steps) -> test (the deadline), and back to war when a violation
    breaks the ceasefire or ``dynamics.talks_timeout`` steps of talks pass without an offer.

    Collective risk: at a deadline with F < F* or E < 1, the deterrence gap opens with
    probability ``collective_risk.probability`` (Russia's violations then face no deterrence).
    """
    sc = params.scenario
    force = forces.posture
    offered = talks.offer != PendingOffer.NONE
    in_talks = (s.phase == Phase.WAR) | (s.phase == Phase.NEGOTIATION)
    t_next = s.t + 1
    reach_deadline = (s.phase == Phase.DEPLOYMENT) & (t_next >= s.deadline) & ~test.breaks
    met_now = (force.force >= sc.force.threshold_troops - _EPS) & (force.enablers >= 1.0 - _EPS)
    gap_opens = reach_deadline & ~met_now & (draws.gap < sc.collective_risk.probability)
    talks_idle = np.where(offered, 0, s.talks_idle + (s.phase == Phase.NEGOTIATION))
    talks_fail = (
        (s.phase == Phase.NEGOTIATION) & ~offered & (talks_idle >= sc.dynamics.talks_timeout)
    )
    phase = np.select(
        [
            talks.concluded,
            test.breaks,
            reach_deadline,
            (s.phase == Phase.WAR) & offered,
            talks_fail,
        ],
        [Phase.DEPLOYMENT, Phase.WAR, Phase.TEST, Phase.NEGOTIATION, Phase.WAR],
        default=s.phase,
    )
    return PhaseChange(
        phase=phase,
        foreign_troops_allowed=np.select(
            [talks.concluded, test.breaks],
            [talks.terms_allow, np.ones(s.batch_size, bool)],
            default=s.foreign_troops_allowed,
        ),
        deadline=np.where(talks.concluded, t_next + sc.force.deployment_window, s.deadline),
        pending=np.where(talks.concluded | ~in_talks, PendingOffer.NONE, talks.offer),
        talks_idle=np.where(phase == Phase.NEGOTIATION, talks_idle, 0),
        reach_deadline=reach_deadline,
        met_now=met_now,
        gap_opens=gap_opens,
        gap_open=np.where(test.breaks, False, s.gap_open | gap_opens),
        threshold_met=np.where(reach_deadline, met_now, s.threshold_met),
    )


def update_belief(params: Params, s: State, act: Played, test: TestOutcome) -> np.ndarray:
    """The public belief about the US type [B, 3], by Bayes' rule on events: a change of US
    signal, a change of US enablers, and the US response whenever a violation is detected
    (likelihoods ``belief.*``: P(level | type)). A standing signal is not evidence again."""
    usa = act[Role.USA]
    likelihood = np.ones((s.batch_size, 3))
    likelihood *= np.where(
        (usa.signal != s.us_signal)[:, None], params.like_signal[:, usa.signal].T, 1.0
    )
    likelihood *= np.where(
        (usa.enablers != s.us_enablers)[:, None], params.like_enablers[:, usa.enablers].T, 1.0
    )
    likelihood *= np.where(test.detected[:, None], params.like_response[:, usa.response].T, 1.0)
    belief = s.belief * likelihood
    return belief / belief.sum(axis=1, keepdims=True)


def next_state(
    s: State,
    act: Played,
    forces: Deployment,
    test: TestOutcome,
    front: FrontMove,
    phases: PhaseChange,
    belief: np.ndarray,
) -> State:
    """The state after the step's phases (the summary's counters follow in :func:`accumulate`)."""
    member, usa, ukraine, russia = (act[r] for r in Role)
    return s.replace(
        t=s.t + 1,
        phase=phases.phase,
        front=front.front,
        fortification=front.fortification,
        pending=phases.pending,
        foreign_troops_allowed=phases.foreign_troops_allowed,
        talks_idle=phases.talks_idle,
        deadline=phases.deadline,
        pledge_level=forces.level,
        pledge_type=forces.kind,
        pledge_condition=forces.condition,
        deployed_k=forces.deployed_k,
        vote_passed=forces.vote_passed,
        vote_cooldown=forces.vote_cooldown,
        member_response=member.response,
        member_aid=member.aid,
        us_signal=usa.signal,
        us_enablers=usa.enablers,
        us_pressure=usa.pressure,
        us_response=usa.response,
        belief=belief,
        ua_defence=ukraine.defence,
        ua_demand=ukraine.demand,
        ru_offensive=russia.offensive,
        ru_strikes=russia.strikes.astype(bool),
        ru_test=test.test,
        ru_threat=russia.threat,
        violation_detected=test.detected,
        violation_succeeded=test.succeeded,
        gap_open=phases.gap_open,
        threshold_met=phases.threshold_met,
    )


# ----------------------------------------------------------------------------- rewards


def reward(
    params: Params,
    s: State,
    d: Derived,
    act: Played,
    forces: Deployment,
    test: TestOutcome,
    front: FrontMove,
    phases: PhaseChange,
) -> dict[Role, np.ndarray]:
    """Every role's reward this step (``s`` and ``d``: the state after the step).

    The public good G = ``front_weight`` x + ``deterrence_weight`` q-hat [ceasefire] enters
    every role's reward; the terms of each role are in :func:`member_reward`,
    :func:`usa_reward`, :func:`ukraine_reward` and :func:`russia_reward`.
    """
    rw = params.scenario.rewards
    public_good = rw.front_weight * front.front + rw.deterrence_weight * d.deterrence * d.ceasefire
    return {
        Role.MEMBER: member_reward(params, s, d, act, forces, test, phases, public_good),
        Role.USA: usa_reward(params, s, d, act, test, public_good),
        Role.UKRAINE: ukraine_reward(params, s, d, act, front),
        Role.RUSSIA: russia_reward(params, s, act, test, front),
    }


def member_reward(
    params: Params,
    s: State,
    d: Derived,
    act: Played,
    forces: Deployment,
    test: TestOutcome,
    phases: PhaseChange,
    public_good: np.ndarray,
) -> np.ndarray:
    """[B, M]: ``security`` (GDP_i / mean GDP) G + ``visible_role`` leadership_i visible_i / F*
    [ceasefire] - ``deployment_cost`` cost of deployed / defence budget - ``home_readiness``
    home threat deployed / capacity - ``exposure`` exposed (1 - backstop) (x
    ``war_exposure_factor`` in war) - ``casualties`` exposed severity - ``renege`` reneged
    (1 + bonus if signed) - ``aid_cost`` aid/3 - response costs when a violation is detected
    - collective-risk loss (GDP-weighted). visible_i = deployed_i visibility(type) location: the
    private benefit of a visible role in the mission, earned while a ceasefire holds (the
    mission exists); exposed_i = deployed_i exposure(type) location."""
    sc = params.scenario
    m = sc.rewards.member
    member = act[Role.MEMBER]
    deployed = s.deployed_k
    exposed = deployed * params.type_exposure[s.pledge_type] * d.location
    visible = deployed * params.type_visibility[s.pledge_type] * d.location * d.ceasefire[:, None]
    exposure_mult = np.where(s.phase == Phase.WAR, m.war_exposure_factor, 1.0) * (
        1.0 - backstop(params, s, d)
    )
    casualty = (
        params.casualty_severity[test.kind]
        * np.where(test.succeeded, 1.0, sc.test.failed_casualty_share)
        * test.active
    )
    renege_weight = 1.0 + m.declaration_renege_bonus * params.declaration[None, :]
    return (
        m.security * params.gdp_weight[None, :] * public_good[:, None]
        + m.visible_role * params.leadership[None, :] * visible / params.threshold_k
        - m.deployment_cost * deployed * params.type_cost[s.pledge_type] / params.budget[None, :]
        - m.home_readiness * params.home_threat[None, :] * deployed / params.capacity_k[None, :]
        - m.exposure * exposed * exposure_mult[:, None]
        - m.casualties * exposed * casualty[:, None]
        - m.renege * forces.reneged_k * renege_weight
        - m.aid_cost * member.aid / 3.0
        - params.member_response_cost[member.response] * test.detected[:, None]
        - sc.collective_risk.loss * params.gdp_weight[None, :] * phases.gap_opens[:, None]
    )


def backstop(params: Params, s: State, d: Derived) -> np.ndarray:
    """[B] how much of the exposure of troops in the mission the US covers, 0..1:
    1 - (1 - mu ``usa.deterrence`` ``backstop_credit``[signal])(1 - ``air_defence`` US
    enablers / 3). Words count only as far as the public believes the US backs the force (mu)
    and as the signal commits it; enablers in place (air defence) count whatever the belief."""
    sc = params.scenario
    credible = d.mu * sc.usa.deterrence * params.backstop_credit[s.us_signal]
    return 1.0 - (1.0 - credible) * (1.0 - sc.usa.air_defence * s.us_enablers / 3.0)


def usa_reward(
    params: Params, s: State, d: Derived, act: Played, test: TestOutcome, public_good: np.ndarray
) -> np.ndarray:
    """[B]: ``security``[type] G - ``enabler_cost`` enablers/3 - ``intervention_cost``[type]
    response weight (when a violation is detected) - ``audience_cost`` [a formal guarantee
    meets a detected violation without at least ISR/air cover] + ``burden_sharing`` Europe's
    share of the force [ceasefire] - ``escalation`` its escalation score / the top score."""
    sc = params.scenario
    u = sc.rewards.usa
    usa = act[Role.USA]
    eu = d.force / sc.force.threshold_troops + d.member_enablers / sc.force.enabler_threshold
    us_part = sc.usa.enabler_share * usa.enablers / 3.0
    europe_share = np.where(eu + us_part > 0, eu / np.maximum(eu + us_part, _EPS), 0.0)
    us_force = params.us_response_force[usa.response]
    us_score = _escalation(params, Role.USA, usa.array)[0]
    return (
        params.usa_security[s.us_type] * public_good
        - u.enabler_cost * usa.enablers / 3.0
        - params.usa_intervention_cost[s.us_type] * us_force * test.detected
        - u.audience_cost
        * (s.us_signal == Signal.FORMAL)
        * test.detected
        * (test.test >= TestAction.LIMITED_VIOLATION)
        * (usa.response < UsResponse.ISR_AIR_COVER)
        + u.burden_sharing * europe_share * d.ceasefire
        - u.escalation * np.maximum(us_score, 0.0) / params.escalation_scores.max()
    )


def ukraine_reward(
    params: Params, s: State, d: Derived, act: Played, front: FrontMove
) -> np.ndarray:
    """[B]: ``territory`` x + ``guarantee`` q-hat [ceasefire] - ``war_effort`` defence/3 [war]
    - ``casualties`` intensity offensive/3 - ``strikes`` [infrastructure strikes]."""
    k = params.scenario.rewards.ukraine
    ukraine, russia = act[Role.UKRAINE], act[Role.RUSSIA]
    war = s.phase == Phase.WAR
    return (
        k.territory * s.front
        + k.guarantee * d.deterrence * d.ceasefire
        - k.war_effort * ukraine.defence / 3.0 * war
        - k.casualties * front.intensity * russia.offensive / 3.0
        - k.strikes * russia.strikes
    )


def russia_reward(
    params: Params, s: State, act: Played, test: TestOutcome, front: FrontMove
) -> np.ndarray:
    """[B]: resolve (``territory`` (1 - x) + ``gains`` front taken by violations) - ``war_cost``
    intensity offensive/3 - ``retaliation_cost`` [Ukraine retaliates] - ``sanctions`` sanctions
    - ``clash`` [clash with NATO forces or US strikes] - ``nuclear_risk`` [nuclear signalling]
    - ``failed_violation`` [a violation repelled]."""
    r = params.scenario.rewards.russia
    member, usa, russia = act[Role.MEMBER], act[Role.USA], act[Role.RUSSIA]
    resolve = params.resolve_levels[s.resolve]
    sanctioning = np.sum(
        params.gdp_weight[None, :] * (member.response == MemberResponse.SANCTIONS), axis=1
    ) / params.n_members + (usa.response >= UsResponse.SANCTIONS)
    sanctions = (usa.pressure == Pressure.SANCTIONS_ON_RUSSIA) + test.detected * sanctioning
    repelled = test.active & ~test.succeeded & (test.test >= TestAction.LIMITED_VIOLATION)
    return (
        r.territory * resolve * (1.0 - s.front)
        + r.gains * resolve * test.gains
        - r.war_cost * front.intensity * russia.offensive / 3.0
        - r.retaliation_cost * act[Role.UKRAINE].retaliate
        - r.sanctions * sanctions
        - r.clash * test.clash
        - r.nuclear_risk * (russia.threat == Threat.NUCLEAR_SIGNALLING)
        - r.failed_violation * repelled
    )


# ----------------------------------------------------------------------------- escalation


def _escalation(params: Params, role: Role, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and rung of each agent's move: the highest of its components' values."""
    categories = params.escalation_category[role]
    idx = np.arange(categories.shape[0])
    scores = params.escalation_scores[categories]  # [components, choices], a small table
    return _max_last(scores[idx, actions]), _max_last(params.escalation_rung[role][idx, actions])


def _max_last(values: np.ndarray) -> np.ndarray:
    """``values.max(axis=-1)`` for a short last axis, a few times faster: numpy's reduction
    pays its per-row overhead on every row of a 6-long axis, elementwise maximum does not."""
    out = values[..., 0].copy()
    for k in range(1, values.shape[-1]):
        np.maximum(out, values[..., k], out=out)
    return out


def score_escalation(
    params: Params, executed: dict[Role, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Escalation score (Rivera et al. scale, ``escalation.scores``) and rung [B, A] of each
    agent's move, agents in env order (usa, members, ukraine, russia). A move with several parts
    is as escalatory as its most escalatory part."""
    member_score, member_rung = _escalation(params, Role.MEMBER, executed[Role.MEMBER])
    scores, rungs = {}, {}
    for role in (Role.USA, Role.UKRAINE, Role.RUSSIA):
        score, rung = _escalation(params, role, executed[role])
        scores[role], rungs[role] = score[:, None], rung[:, None]
    score = np.concatenate(
        [scores[Role.USA], member_score, scores[Role.UKRAINE], scores[Role.RUSSIA]], axis=1
    )
    rung = np.concatenate(
        [rungs[Role.USA], member_rung, rungs[Role.UKRAINE], rungs[Role.RUSSIA]], axis=1
    )
    return score, rung


# ----------------------------------------------------------------------------- accumulators


def accumulate(
    params: Params,
    s: State,
    new: State,
    d: Derived,
    forces: Deployment,
    test: TestOutcome,
    talks: Talks,
    phases: PhaseChange,
    escalation: np.ndarray,
) -> State:
    """``new`` with the episode summary's counters advanced (``s``: the state before the step).
    Burden is USD bn spent on deployments: cost per year / :data:`STEPS_PER_YEAR` per step."""
    sc = params.scenario
    deployed = forces.deployed_k
    full_force = (d.force >= sc.force.threshold_troops - _EPS) & (d.enablers >= 1.0 - _EPS)
    ground = params.type_ground[new.pledge_type] > 0
    return new.replace(
        peak_force=np.maximum(s.peak_force, d.force),
        peak_pledged_k=np.maximum(s.peak_pledged_k, d.pledged_k),
        peak_deployed_k=np.maximum(s.peak_deployed_k, deployed),
        ever_ground=s.ever_ground | ((deployed > _EPS) & ground),
        defected=s.defected | (forces.reneged_k > _EPS),
        burden=s.burden + deployed * params.type_cost[new.pledge_type] / float(STEPS_PER_YEAR),
        pledge_changes=s.pledge_changes + (forces.changing & (forces.level != s.pledge_level)),
        ceasefires=s.ceasefires + talks.concluded,
        ceasefire_breaks=s.ceasefire_breaks + test.breaks,
        violations=s.violations + test.active,
        tests=s.tests + (np.arange(3) == test.kind[:, None]) * test.active[:, None],
        detections=s.detections + test.detected,
        deadlines_met=s.deadlines_met + (phases.reach_deadline & phases.met_now),
        deadlines=s.deadlines + phases.reach_deadline,
        steps_to_force=np.where((s.steps_to_force < 0) & full_force, new.t, s.steps_to_force),
        escalation_sum=s.escalation_sum + escalation,
        escalation_max=np.maximum(s.escalation_max, escalation),
    )
