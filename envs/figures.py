"""Figures computed from a state, never stored: the force and what it deters.

:func:`derived` runs once per state: the rules compute it for the state a step ends in and hand
it on (:attr:`~reassurance.envs.rules.StepResult.figures`), so observations, masks, rewards and
the turn report all read the same figures. :func:`posture` is its first half, for the moment
inside a step after pledges and deployments change and before the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reassurance.envs.actions import Condition, Phase, Signal
from reassurance.envs.state import Params, State

__all__ = ["Derived", "Posture", "condition_met", "derived", "posture"]


@dataclass(frozen=True)
class Posture:
    """The force as pledged and deployed, where it stands, and how credible it is."""

    pledged_k: np.ndarray  # [B, M] troops pledged, thousands
    location: np.ndarray  # [B, M] deterrence/exposure factor of where the troops stand
    force: np.ndarray  # [B] effective ground force F, troops
    pledged_force: np.ndarray  # [B] effective ground force pledged, troops
    member_enablers: np.ndarray  # [B] enabler units
    enablers: np.ndarray  # [B] E, 0..1
    monitoring: np.ndarray  # [B] monitoring units
    probe_detection: np.ndarray  # [B] probability a probe is detected
    kappa_c: np.ndarray  # [B] coalition credibility if every member fights
    reach: np.ndarray  # [B] how far a US response covers the force, 0..1


@dataclass(frozen=True)
class Derived(Posture):
    """Every figure of a state: the :class:`Posture` plus the ceasefire, beliefs and deterrence."""

    ceasefire: np.ndarray  # [B] bool, ceasefire in force
    mu: np.ndarray  # [B] public P(US type >= conditional)
    deterrence: np.ndarray  # [B] expected q against a limited violation
    condition_met: np.ndarray  # [B, M] bool, each pledge's condition holds


def condition_met(
    condition: np.ndarray, us_signal: np.ndarray, ceasefire: np.ndarray
) -> np.ndarray:
    """[B, M] whether each pledge's condition holds (US signal and ceasefire are [B]).

    Unconditional always; ``if_us_backstop`` once the US signal is at least a conditional
    backstop (the one place the US signal gates a deployment: the member's own condition);
    ``after_ceasefire`` while a ceasefire is in force.
    """
    return (
        (condition == Condition.UNCONDITIONAL)
        | ((condition == Condition.IF_US_BACKSTOP) & (us_signal >= Signal.CONDITIONAL)[:, None])
        | ((condition == Condition.AFTER_CEASEFIRE) & ceasefire[:, None])
    )


def posture(
    params: Params,
    pledge_level: np.ndarray,
    pledge_type: np.ndarray,
    deployed_k: np.ndarray,
    foreign_troops_allowed: np.ndarray,
    us_enablers: np.ndarray,
    ua_defence: np.ndarray,
) -> Posture:
    """Force size, enablers, monitoring and credibility.

    - F = 1000 sum_i deployed_i ground(type_i) location_i (troops); location is 1 in Ukraine
      and ``force.outside_factor`` outside it (members that stay on NATO soil, or terms without
      foreign troops).
    - E = min(1, member enabler units / E* + ``usa.enabler_share`` US enablers / 3).
    - M = member monitoring units + ``usa.monitoring`` US enablers / 3; a probe is detected with
      1 - (1 - ``test.probe_detection``) exp(-M / ``test.monitoring_scale``).
    - kappa_C = min(1, min(1, F/F*)^eta ((1 - w_E) + w_E E)(1 + w_U defence/3)).
    - reach = min(1, F / ``usa.tripwire_troops``): how much force a US backstop has to cover.
    """
    sc = params.scenario
    pledged_k = params.pledge_shares[pledge_level] * params.capacity_k
    inside = params.in_ukraine[None, :] & foreign_troops_allowed[:, None]
    location = np.where(inside, 1.0, sc.force.outside_factor)
    ground = params.type_ground[pledge_type] * location
    force = 1000.0 * np.sum(deployed_k * ground, axis=1)
    pledged_force = 1000.0 * np.sum(pledged_k * ground, axis=1)
    member_enablers = np.sum(deployed_k * params.type_enabler[pledge_type], axis=1)
    us_level = us_enablers / 3.0
    enablers = np.minimum(
        1.0, member_enablers / sc.force.enabler_threshold + sc.usa.enabler_share * us_level
    )
    monitoring = (
        np.sum(deployed_k * params.type_monitoring[pledge_type], axis=1)
        + sc.usa.monitoring * us_level
    )
    base = sc.test.probe_detection
    probe_detection = 1.0 - (1.0 - base) * np.exp(-monitoring / sc.test.monitoring_scale)
    size = np.minimum(1.0, force / sc.force.threshold_troops) ** sc.force.eta
    readiness = ua_defence / 3.0
    weight = sc.force.enabler_weight
    kappa_c = np.minimum(
        1.0,
        size * ((1.0 - weight) + weight * enablers) * (1.0 + sc.force.ukraine_weight * readiness),
    )
    reach = np.minimum(1.0, force / sc.usa.tripwire_troops)
    return Posture(
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
    )


def derived(params: Params, s: State) -> Derived:
    """Every figure of a state (all games at once).

    Besides the :func:`posture`: mu = P(US type >= conditional) under the public belief, and the
    deterrence the public expects against a limited violation, q-hat = 1 - (1 - kappa_C)(1 - mu
    ``usa.deterrence`` reach), 0 while the collective-risk gap is open.
    """
    sc = params.scenario
    ceasefire = (s.phase == Phase.DEPLOYMENT) | (s.phase == Phase.TEST)
    force = posture(
        params,
        s.pledge_level,
        s.pledge_type,
        s.deployed_k,
        s.foreign_troops_allowed,
        s.us_enablers,
        s.ua_defence,
    )
    mu = s.belief[:, 1] + s.belief[:, 2]
    deterrence = 1.0 - (1.0 - force.kappa_c) * (1.0 - mu * sc.usa.deterrence * force.reach)
    return Derived(
        **vars(force),
        ceasefire=ceasefire,
        mu=mu,
        deterrence=np.where(s.gap_open, 0.0, deterrence),
        condition_met=condition_met(s.pledge_condition, s.us_signal, ceasefire),
    )
