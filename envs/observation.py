"""Observations: one flat vector per agent, built from named pieces.

A :class:`Layout` lists the pieces of a role's observation in order; :class:`ObservationView`
reads a vector by piece name, so heuristics write ``view["front"]`` and never ``obs[17]``.
Every piece is scaled to ``[0, 1]`` except ``force_ratio`` and ``pledged_ratio`` (``[0, 2]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from reassurance.envs.actions import Contribution, Phase, Role
from reassurance.envs.rules import Derived, Params, State, derived

__all__ = [
    "Layout",
    "ObservationView",
    "layouts",
    "build_observations",
    "state_vector",
    "PIECE_DOCS",
]

# name -> (doc, high). Sizes depend on the scenario (M members) and are set in `layouts`.
PIECE_DOCS: dict[str, tuple[str, float]] = {
    "time": ("steps played / horizon", 1.0),
    "phase": ("one-hot war, negotiation, deployment, test", 1.0),
    "front": ("share of its territory Ukraine holds", 1.0),
    "fortification": ("Ukraine's fortification stock, 0..1", 1.0),
    "pending_offer": (
        "one-hot none, Russia (no foreign troops), Russia (troops allowed), Ukraine",
        1.0,
    ),
    "foreign_troops_allowed": ("1 if the ceasefire terms admit foreign troops in Ukraine", 1.0),
    "deployment_time_left": ("steps to the deployment deadline / window", 1.0),
    "force_ratio": ("deployed effective ground force F / threshold F*, capped at 2", 2.0),
    "pledged_ratio": ("pledged effective ground force / F*, capped at 2", 2.0),
    "enablers": ("enabler level E, 0..1 (1 = threshold E* reached)", 1.0),
    "probe_detection": ("probability a grey-zone probe is detected", 1.0),
    "deterrence": ("expected credibility q against a limited violation", 1.0),
    "threshold_met": ("1 if F >= F* and E >= E* at the last deployment deadline", 1.0),
    "deterrence_gap": ("1 if the collective-risk gap is open", 1.0),
    "us_belief": ("public P(US type) disengaged, conditional, committed", 1.0),
    "us_signal": ("one-hot silent, verbal, conditional backstop, formal guarantee", 1.0),
    "us_enablers": ("US enablers in place / 3", 1.0),
    "us_pressure": ("one-hot none, on Ukraine, sanctions on Russia", 1.0),
    "us_response": ("US standing response / 4 (none .. strikes)", 1.0),
    "russia_offensive": ("Russia's offensive intensity / 3, last step", 1.0),
    "russia_strikes": ("1 if Russia struck infrastructure last step", 1.0),
    "russia_test": ("one-hot comply, probe, limited violation, major offensive, last step", 1.0),
    "russia_threat": ("Russia's threat level / 2", 1.0),
    "violation_detected": ("1 if a probe or violation was detected last step", 1.0),
    "violation_succeeded": ("1 if a probe or violation succeeded last step", 1.0),
    "ukraine_defence": ("Ukraine's defence effort / 3", 1.0),
    "ukraine_demand": ("Ukraine's guarantee demand / 2", 1.0),
    "members_pledged": ("per member: pledge / (20% of its capacity)", 1.0),
    "members_deployed": ("per member: deployed / (20% of its capacity)", 1.0),
    "members_conditional": ("per member: 1 if its pledge waits for a US backstop", 1.0),
    "members_defected": ("per member: 1 if it ever reneged or withdrew", 1.0),
    "coalition_contributors": ("share of members with troops deployed", 1.0),
    "coalition_aid": ("members' mean aid to Ukraine / 3", 1.0),
    # member-private
    "self_id": ("member: one-hot of this member among the members", 1.0),
    "self_gdp": ("member: GDP / largest member GDP", 1.0),
    "self_capacity": ("member: deployable troops / F*, capped at 1", 1.0),
    "self_home_threat": ("member: home threat 0..1", 1.0),
    "self_parliament": ("member: 1 if a deployment needs a vote", 1.0),
    "self_leadership": ("member: private benefit of a visible role 0..1", 1.0),
    "self_troops_in_ukraine": ("member: 1 if its ground troops may go to Ukraine", 1.0),
    "self_declaration": ("member: 1 if it signed a declaration of intent", 1.0),
    "self_pledge": ("member: one-hot pledge level none, token, 5%, 10%, 20%", 1.0),
    "self_contribution": ("member: one-hot contribution type of its pledge", 1.0),
    "self_condition": ("member: one-hot unconditional, if US backstop, after ceasefire", 1.0),
    "self_deployed": ("member: deployed / pledged (0 if nothing pledged)", 1.0),
    "self_condition_met": ("member: 1 if its pledge's condition holds now", 1.0),
    "self_vote": ("member: 1 if its parliament has approved a deployment", 1.0),
    "self_vote_blocked": ("member: 1 while a failed vote blocks deployment", 1.0),
    # hidden, seen only by their owner
    "us_type": ("usa: own type one-hot disengaged, conditional, committed", 1.0),
    "resolve": ("russia: own resolve one-hot low, medium, high", 1.0),
}

_PUBLIC = (
    "time", "phase", "front", "fortification", "pending_offer", "foreign_troops_allowed",
    "deployment_time_left", "force_ratio", "pledged_ratio", "enablers", "probe_detection",
    "deterrence", "threshold_met", "deterrence_gap", "us_belief", "us_signal", "us_enablers",
    "us_pressure", "us_response", "russia_offensive", "russia_strikes", "russia_test",
    "russia_threat", "violation_detected", "violation_succeeded", "ukraine_defence",
    "ukraine_demand", "members_pledged", "members_deployed", "members_conditional",
    "members_defected", "coalition_contributors", "coalition_aid",
)  # fmt: skip
_MEMBER = (
    "self_id", "self_gdp", "self_capacity", "self_home_threat", "self_parliament",
    "self_leadership", "self_troops_in_ukraine", "self_declaration", "self_pledge",
    "self_contribution", "self_condition", "self_deployed", "self_condition_met", "self_vote",
    "self_vote_blocked",
)  # fmt: skip
_PRIVATE = {
    Role.MEMBER: _MEMBER,
    Role.USA: ("us_type",),
    Role.UKRAINE: (),
    Role.RUSSIA: ("resolve",),
}


@dataclass(frozen=True)
class Layout:
    """Names, sizes and offsets of the pieces of one role's observation vector."""

    names: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def size(self) -> int:
        return sum(self.sizes)

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in zip(self.names, self.sizes, strict=True):
            out[name] = slice(start, start + size)
            start += size
        return out

    def high(self) -> np.ndarray:
        return np.concatenate(
            [
                np.full(n, PIECE_DOCS[name][1], np.float32)
                for name, n in zip(self.names, self.sizes, strict=True)
            ]
        )


class ObservationView(Mapping[str, np.ndarray]):
    """Read an observation vector by piece name: ``view["front"]`` is an array of its piece."""

    def __init__(self, layout: Layout, vector: np.ndarray) -> None:
        self._slices = layout.slices()
        self._vector = np.asarray(vector)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._vector[..., self._slices[name]]
        except KeyError:
            raise KeyError(f"no observation piece {name!r}; pieces: {list(self._slices)}") from None

    def scalar(self, name: str) -> float:
        """The value of a one-number piece of one observation as a float."""
        return float(self.value(name))

    def value(self, name: str) -> np.ndarray:
        """A one-number piece as float64, without its last axis: ``[N]`` for a batch of ``N``
        observations, a 0-d array for one."""
        piece = self[name]
        if piece.shape[-1] != 1:
            raise ValueError(f"piece {name!r} has {piece.shape[-1]} numbers, not one")
        return piece[..., 0].astype(np.float64)

    def index(self, name: str) -> np.ndarray:
        """The position of the 1 in a one-hot piece (``int64``, ``[N]`` for a batch)."""
        return np.argmax(self[name], axis=-1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._slices)

    def __len__(self) -> int:
        return len(self._slices)


def _size(name: str, n_members: int) -> int:
    sizes = {
        "phase": 4, "pending_offer": 4, "us_belief": 3, "us_signal": 4, "us_pressure": 3,
        "russia_test": 4, "self_pledge": 5, "self_contribution": len(Contribution),
        "self_condition": 3, "us_type": 3, "resolve": 3,
    }  # fmt: skip
    if name.startswith("members_") or name == "self_id":
        return n_members
    return sizes.get(name, 1)


def layouts(n_members: int) -> dict[Role, Layout]:
    """The observation layout of each role in a game with ``n_members`` members."""
    out = {}
    for role in Role:
        names = _PUBLIC + _PRIVATE[role]
        out[role] = Layout(names, tuple(_size(n, n_members) for n in names))
    return out


def _one_hot(index: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float64)[index]


def _col(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64)[..., None]


def _public(params: Params, s: State, d: Derived) -> dict[str, np.ndarray]:
    sc = params.scenario
    top = params.pledge_shares[-1] * params.capacity_k
    window = sc.force.deployment_window
    left = np.where(s.phase == Phase.DEPLOYMENT, (s.deadline - s.t) / window, 0.0)
    return {
        "time": _col(s.t / sc.horizon),
        "phase": _one_hot(s.phase, 4),
        "front": _col(s.front),
        "fortification": _col(s.fortification),
        "pending_offer": _one_hot(s.pending, 4),
        "foreign_troops_allowed": _col(s.foreign_troops_allowed),
        "deployment_time_left": _col(np.clip(left, 0.0, 1.0)),
        "force_ratio": _col(np.minimum(d.force / sc.force.threshold_troops, 2.0)),
        "pledged_ratio": _col(np.minimum(d.pledged_force / sc.force.threshold_troops, 2.0)),
        "enablers": _col(d.enablers),
        "probe_detection": _col(d.probe_detection),
        "deterrence": _col(d.deterrence),
        "threshold_met": _col(s.threshold_met),
        "deterrence_gap": _col(s.gap_open),
        "us_belief": s.belief,
        "us_signal": _one_hot(s.us_signal, 4),
        "us_enablers": _col(s.us_enablers / 3.0),
        "us_pressure": _one_hot(s.us_pressure, 3),
        "us_response": _col(s.us_response / 4.0),
        "russia_offensive": _col(s.ru_offensive / 3.0),
        "russia_strikes": _col(s.ru_strikes),
        "russia_test": _one_hot(s.ru_test, 4),
        "russia_threat": _col(s.ru_threat / 2.0),
        "violation_detected": _col(s.violation_detected),
        "violation_succeeded": _col(s.violation_succeeded),
        "ukraine_defence": _col(s.ua_defence / 3.0),
        "ukraine_demand": _col(s.ua_demand / 2.0),
        "members_pledged": d.pledged_k / top,
        "members_deployed": s.deployed_k / top,
        "members_conditional": (s.pledge_condition == 1) & (s.pledge_level > 0),
        "members_defected": s.defected.astype(np.float64),
        "coalition_contributors": _col(np.mean(s.deployed_k > 0, axis=1)),
        "coalition_aid": _col(np.mean(s.member_aid, axis=1) / 3.0),
    }


def _member(params: Params, s: State, d: Derived) -> dict[str, np.ndarray]:
    """Member-private pieces, shaped ``[B, M, size]``."""
    B, M = s.batch_size, params.n_members

    def trait(values: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(values, np.float64)[None, :, None], (B, M, 1))

    return {
        "self_id": np.broadcast_to(np.eye(M), (B, M, M)),
        "self_gdp": trait(params.gdp / params.gdp.max()),
        "self_capacity": trait(np.minimum(params.capacity_k / params.threshold_k, 1.0)),
        "self_home_threat": trait(params.home_threat),
        "self_parliament": trait(params.parliament_vote),
        "self_leadership": trait(params.leadership),
        "self_troops_in_ukraine": trait(params.in_ukraine),
        "self_declaration": trait(params.declaration),
        "self_pledge": _one_hot(s.pledge_level, 5),
        "self_contribution": _one_hot(s.pledge_type, len(Contribution)),
        "self_condition": _one_hot(s.pledge_condition, 3),
        "self_deployed": _col(
            np.divide(
                s.deployed_k, d.pledged_k, out=np.zeros_like(s.deployed_k), where=d.pledged_k > 0
            )
        ),
        "self_condition_met": _col(d.condition_met),
        "self_vote": _col(s.vote_passed),
        "self_vote_blocked": _col(s.vote_cooldown > 0),
    }


_PRIVATE_BUILDERS: dict[Role, Callable[[Params, State, Derived], dict[str, np.ndarray]]] = {
    Role.USA: lambda p, s, d: {"us_type": _one_hot(s.us_type, 3)},
    Role.RUSSIA: lambda p, s, d: {"resolve": _one_hot(s.resolve, 3)},
    Role.UKRAINE: lambda p, s, d: {},
}


def build_observations(
    params: Params, s: State, layout: dict[Role, Layout]
) -> dict[Role, np.ndarray]:
    """Observation vectors: members ``[B, M, size]``, every other role ``[B, size]`` (float32)."""
    d = derived(params, s)
    public = _public(params, s, d)
    B, M = s.batch_size, params.n_members
    out: dict[Role, np.ndarray] = {}
    for role in (Role.USA, Role.UKRAINE, Role.RUSSIA):
        pieces = {**public, **_PRIVATE_BUILDERS[role](params, s, d)}
        out[role] = np.concatenate(
            [np.asarray(pieces[n], np.float64).reshape(B, -1) for n in layout[role].names], axis=1
        ).astype(np.float32)
    private = _member(params, s, d)
    parts = []
    for name in layout[Role.MEMBER].names:
        if name in private:
            parts.append(np.asarray(private[name], np.float64).reshape(B, M, -1))
        else:
            piece = np.asarray(public[name], np.float64).reshape(B, 1, -1)
            parts.append(np.broadcast_to(piece, (B, M, piece.shape[-1])))
    out[Role.MEMBER] = np.concatenate(parts, axis=2).astype(np.float32)
    return out


def state_vector(params: Params, s: State, layout: dict[Role, Layout]) -> np.ndarray:
    """Global state for centralised critics ``[B, size]``: the public pieces, the hidden types
    and every member's private pieces."""
    obs = build_observations(params, s, layout)
    B = s.batch_size
    public_size = sum(layout[Role.UKRAINE].sizes)
    return np.concatenate(
        [
            obs[Role.UKRAINE],
            obs[Role.USA][:, public_size:],
            obs[Role.RUSSIA][:, public_size:],
            obs[Role.MEMBER][:, :, public_size:].reshape(B, -1),
        ],
        axis=1,
    )
