"""Observations: one flat vector per agent, built from named pieces declared once.

:data:`PIECES` is the one table of observation pieces. Each row gives the piece's name, who
sees it (everyone, members, or only the US or Russia: their hidden types), what it means, how
it is computed from the state and its figures, its upper bound (every piece is scaled to
``[0, 1]`` except ``force_ratio`` and ``pledged_ratio``, ``[0, 2]``) and how a person reads it.
From it come the layout of each role's vector (:func:`layouts`: public pieces first, in table
order, then the role's own), the observation space's bounds, the piece table of the env's
docstring and ``docs/model.md``, and the text a human player sees (:func:`describe`).

:class:`ObservationView` reads a vector (or a batch of them) by piece name, so heuristics write
``view["front"]`` and never ``obs[17]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reassurance.envs.actions import (
    Condition,
    Contribution,
    Demand,
    PendingOffer,
    Phase,
    Pressure,
    Role,
    Signal,
    TestAction,
    Threat,
    UsResponse,
)
from reassurance.envs.figures import Derived
from reassurance.envs.state import Params, State

__all__ = [
    "PIECES",
    "Layout",
    "ObservationView",
    "Piece",
    "build_observations",
    "describe",
    "layouts",
    "markdown_table",
    "state_vector",
]

Owner = Literal["public", "member", "usa", "russia"]
Show = Literal["onehot", "flag", "percent", "level", "number", "per_member", "member_id", "belief"]

_TYPES = ("disengaged", "conditional", "committed")
_PLEDGES = ("none", "token", "pct5", "pct10", "pct20")


@dataclass(frozen=True)
class Piece:
    """One named part of an observation.

    ``value(params, state, figures)`` gives ``[B, size]`` (``[B, M, size]`` for member-private
    pieces); ``size`` is a number of values, or ``None`` for one per member. ``show`` says how a
    person reads it: a one-hot over ``labels``, a yes/no flag, a percentage, a level (``value x
    top``, named by ``labels`` if given), a plain number, one number per member, the member's
    own id, or a distribution over ``labels``.
    """

    name: str
    owner: Owner
    doc: str
    value: Callable[[Params, State, Derived], np.ndarray]
    size: int | None = 1
    high: float = 1.0
    show: Show = "number"
    labels: tuple[str, ...] = ()
    top: int = 0

    def width(self, n_members: int) -> int:
        return n_members if self.size is None else self.size


def _col(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64)[..., None]


def _one_hot(index: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float64)[index]


def _names(enum: type) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in enum)


def _time_left(p: Params, s: State, d: Derived) -> np.ndarray:
    window = p.scenario.force.deployment_window
    left = np.where(s.phase == Phase.DEPLOYMENT, (s.deadline - s.t) / window, 0.0)
    return _col(np.clip(left, 0.0, 1.0))


def _top_pledge(p: Params) -> np.ndarray:
    return p.pledge_shares[-1] * p.capacity_k


def _trait(
    values: Callable[[Params], np.ndarray],
) -> Callable[[Params, State, Derived], np.ndarray]:
    """A static member trait as a member-private piece ``[B, M, 1]``."""

    def value(p: Params, s: State, d: Derived) -> np.ndarray:
        column = np.asarray(values(p), np.float64)[None, :, None]
        return np.broadcast_to(column, (s.batch_size, p.n_members, 1))

    return value


def _own_deployed(p: Params, s: State, d: Derived) -> np.ndarray:
    share = np.divide(
        s.deployed_k, d.pledged_k, out=np.zeros_like(s.deployed_k), where=d.pledged_k > 0
    )
    return _col(share)


PIECES: tuple[Piece, ...] = (
    Piece("time", "public", "steps played / horizon",
          lambda p, s, d: _col(s.t / p.scenario.horizon), show="percent"),
    Piece("phase", "public", "one-hot war, negotiation, deployment, test",
          lambda p, s, d: _one_hot(s.phase, 4), 4, show="onehot", labels=_names(Phase)),
    Piece("front", "public", "share of its territory Ukraine holds",
          lambda p, s, d: _col(s.front), show="percent"),
    Piece("fortification", "public", "Ukraine's fortification stock, 0..1",
          lambda p, s, d: _col(s.fortification), show="percent"),
    Piece("pending_offer", "public",
          "one-hot none, Russia (no foreign troops), Russia (troops allowed), Ukraine",
          lambda p, s, d: _one_hot(s.pending, 4), 4, show="onehot", labels=_names(PendingOffer)),
    Piece("foreign_troops_allowed", "public",
          "1 if the ceasefire terms admit foreign troops in Ukraine",
          lambda p, s, d: _col(s.foreign_troops_allowed), show="flag"),
    Piece("deployment_time_left", "public", "steps to the deployment deadline / window",
          _time_left),
    Piece("force_ratio", "public",
          "deployed effective ground force F / threshold F*, capped at 2",
          lambda p, s, d: _col(np.minimum(d.force / p.scenario.force.threshold_troops, 2.0)),
          high=2.0),
    Piece("pledged_ratio", "public", "pledged effective ground force / F*, capped at 2",
          lambda p, s, d: _col(
              np.minimum(d.pledged_force / p.scenario.force.threshold_troops, 2.0)),
          high=2.0),
    Piece("enablers", "public", "enabler level E, 0..1 (1 = threshold E* reached)",
          lambda p, s, d: _col(d.enablers)),
    Piece("probe_detection", "public", "probability a grey-zone probe is detected",
          lambda p, s, d: _col(d.probe_detection)),
    Piece("deterrence", "public", "expected credibility q against a limited violation",
          lambda p, s, d: _col(d.deterrence)),
    Piece("threshold_met", "public", "1 if F >= F* and E >= E* at the last deployment deadline",
          lambda p, s, d: _col(s.threshold_met), show="flag"),
    Piece("deterrence_gap", "public", "1 if the collective-risk gap is open",
          lambda p, s, d: _col(s.gap_open), show="flag"),
    Piece("us_belief", "public", "public P(US type) disengaged, conditional, committed",
          lambda p, s, d: s.belief, 3, show="belief", labels=_TYPES),
    Piece("us_signal", "public", "one-hot silent, verbal, conditional backstop, formal guarantee",
          lambda p, s, d: _one_hot(s.us_signal, 4), 4, show="onehot", labels=_names(Signal)),
    Piece("us_enablers", "public", "US enablers in place / 3",
          lambda p, s, d: _col(s.us_enablers / 3.0), show="level", top=3),
    Piece("us_pressure", "public", "one-hot none, on Ukraine, sanctions on Russia",
          lambda p, s, d: _one_hot(s.us_pressure, 3), 3, show="onehot", labels=_names(Pressure)),
    Piece("us_response", "public", "US standing response / 4 (none .. strikes)",
          lambda p, s, d: _col(s.us_response / 4.0), show="level", labels=_names(UsResponse),
          top=4),
    Piece("russia_offensive", "public", "Russia's offensive intensity / 3, last step",
          lambda p, s, d: _col(s.ru_offensive / 3.0), show="level", top=3),
    Piece("russia_strikes", "public", "1 if Russia struck infrastructure last step",
          lambda p, s, d: _col(s.ru_strikes), show="flag"),
    Piece("russia_test", "public",
          "one-hot comply, probe, limited violation, major offensive, last step",
          lambda p, s, d: _one_hot(s.ru_test, 4), 4, show="onehot", labels=_names(TestAction)),
    Piece("russia_threat", "public", "Russia's threat level / 2",
          lambda p, s, d: _col(s.ru_threat / 2.0), show="level", labels=_names(Threat), top=2),
    Piece("violation_detected", "public", "1 if a probe or violation was detected last step",
          lambda p, s, d: _col(s.violation_detected), show="flag"),
    Piece("violation_succeeded", "public", "1 if a probe or violation succeeded last step",
          lambda p, s, d: _col(s.violation_succeeded), show="flag"),
    Piece("ukraine_defence", "public", "Ukraine's defence effort / 3",
          lambda p, s, d: _col(s.ua_defence / 3.0), show="level", top=3),
    Piece("ukraine_demand", "public", "Ukraine's guarantee demand / 2",
          lambda p, s, d: _col(s.ua_demand / 2.0), show="level", labels=_names(Demand), top=2),
    Piece("members_pledged", "public", "per member: pledge / (20% of its capacity)",
          lambda p, s, d: d.pledged_k / _top_pledge(p), None, show="per_member"),
    Piece("members_deployed", "public", "per member: deployed / (20% of its capacity)",
          lambda p, s, d: s.deployed_k / _top_pledge(p), None, show="per_member"),
    Piece("members_conditional", "public", "per member: 1 if its pledge waits for a US backstop",
          lambda p, s, d: (s.pledge_condition == Condition.IF_US_BACKSTOP) & (s.pledge_level > 0),
          None, show="per_member"),
    Piece("members_defected", "public", "per member: 1 if it ever reneged or withdrew",
          lambda p, s, d: s.defected.astype(np.float64), None, show="per_member"),
    Piece("coalition_contributors", "public", "share of members with troops deployed",
          lambda p, s, d: _col(np.mean(s.deployed_k > 0, axis=1)), show="percent"),
    Piece("coalition_aid", "public", "members' mean aid to Ukraine / 3",
          lambda p, s, d: _col(np.mean(s.member_aid, axis=1) / 3.0)),
    # member-private
    Piece("self_id", "member", "member: one-hot of this member among the members",
          lambda p, s, d: np.broadcast_to(np.eye(p.n_members), (s.batch_size, p.n_members,
                                                                p.n_members)),
          None, show="member_id"),
    Piece("self_gdp", "member", "member: GDP / largest member GDP",
          _trait(lambda p: p.gdp / p.gdp.max())),
    Piece("self_capacity", "member", "member: deployable troops / F*, capped at 1",
          _trait(lambda p: np.minimum(p.capacity_k / p.threshold_k, 1.0))),
    Piece("self_home_threat", "member", "member: home threat 0..1",
          _trait(lambda p: p.home_threat)),
    Piece("self_parliament", "member", "member: 1 if a deployment needs a vote",
          _trait(lambda p: p.parliament_vote), show="flag"),
    Piece("self_leadership", "member", "member: private benefit of a visible role 0..1",
          _trait(lambda p: p.leadership)),
    Piece("self_troops_in_ukraine", "member", "member: 1 if its ground troops may go to Ukraine",
          _trait(lambda p: p.in_ukraine), show="flag"),
    Piece("self_declaration", "member", "member: 1 if it signed a declaration of intent",
          _trait(lambda p: p.declaration), show="flag"),
    Piece("self_pledge", "member", "member: one-hot pledge level none, token, 5%, 10%, 20%",
          lambda p, s, d: _one_hot(s.pledge_level, 5), 5, show="onehot", labels=_PLEDGES),
    Piece("self_contribution", "member", "member: one-hot contribution type of its pledge",
          lambda p, s, d: _one_hot(s.pledge_type, len(Contribution)), len(Contribution),
          show="onehot", labels=_names(Contribution)),
    Piece("self_condition", "member",
          "member: one-hot unconditional, if US backstop, after ceasefire",
          lambda p, s, d: _one_hot(s.pledge_condition, 3), 3, show="onehot",
          labels=_names(Condition)),
    Piece("self_deployed", "member", "member: deployed / pledged (0 if nothing pledged)",
          _own_deployed),
    Piece("self_condition_met", "member", "member: 1 if its pledge's condition holds now",
          lambda p, s, d: _col(d.condition_met), show="flag"),
    Piece("self_vote", "member", "member: 1 if its parliament has approved a deployment",
          lambda p, s, d: _col(s.vote_passed), show="flag"),
    Piece("self_vote_blocked", "member", "member: 1 while a failed vote blocks deployment",
          lambda p, s, d: _col(s.vote_cooldown > 0), show="flag"),
    # hidden, seen only by their owner
    Piece("us_type", "usa", "usa: own type one-hot disengaged, conditional, committed",
          lambda p, s, d: _one_hot(s.us_type, 3), 3, show="onehot", labels=_TYPES),
    Piece("resolve", "russia", "russia: own resolve one-hot low, medium, high",
          lambda p, s, d: _one_hot(s.resolve, 3), 3, show="onehot",
          labels=("low", "medium", "high")),
)  # fmt: skip

_BY_NAME = {piece.name: piece for piece in PIECES}
_OWNER = {Role.MEMBER: "member", Role.USA: "usa", Role.UKRAINE: None, Role.RUSSIA: "russia"}


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
                np.full(n, _BY_NAME[name].high, np.float32)
                for name, n in zip(self.names, self.sizes, strict=True)
            ]
        )


class ObservationView(Mapping[str, np.ndarray]):
    """Read an observation vector (or a batch ``[N, D]``) by piece name: ``view["front"]`` is
    the piece's values, ``view.value("front")`` a one-number piece without its last axis."""

    def __init__(self, layout: Layout, vector: np.ndarray) -> None:
        self._slices = layout.slices()
        self._vector = np.asarray(vector)
        if self._vector.shape[-1:] != (layout.size,):
            raise ValueError(
                f"an observation of this seat has {layout.size} values, got an array of shape "
                f"{self._vector.shape}"
            )

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


def layouts(n_members: int) -> dict[Role, Layout]:
    """The observation layout of each role in a game with ``n_members`` members."""
    out = {}
    for role in Role:
        chosen = [p for p in PIECES if p.owner in ("public", _OWNER[role])]
        out[role] = Layout(tuple(p.name for p in chosen), tuple(p.width(n_members) for p in chosen))
    return out


def build_observations(
    params: Params, s: State, d: Derived, layout: dict[Role, Layout]
) -> dict[Role, np.ndarray]:
    """Observation vectors (float32): members ``[B, M, size]``, every other role ``[B, size]``;
    ``d`` is ``derived(params, s)``."""
    B, M = s.batch_size, params.n_members
    values = {
        piece.name: np.asarray(piece.value(params, s, d), np.float64)
        for piece in PIECES
        if piece.name in layout[Role.MEMBER].names or piece.owner != "member"
    }
    out: dict[Role, np.ndarray] = {}
    for role in (Role.USA, Role.UKRAINE, Role.RUSSIA):
        buffer = np.empty((B, layout[role].size), np.float32)
        for name, where in layout[role].slices().items():
            buffer[:, where] = values[name].reshape(B, -1)
        out[role] = buffer
    members = np.empty((B, M, layout[Role.MEMBER].size), np.float32)
    for name, where in layout[Role.MEMBER].slices().items():
        value = values[name]
        if _BY_NAME[name].owner == "member":
            members[:, :, where] = value.reshape(B, M, -1)
        else:
            members[:, :, where] = value.reshape(B, 1, -1)
    out[Role.MEMBER] = members
    return out


def state_vector(params: Params, s: State, d: Derived, layout: dict[Role, Layout]) -> np.ndarray:
    """Global state for centralised critics ``[B, size]``: the public pieces, the hidden types
    and every member's private pieces."""
    obs = build_observations(params, s, d, layout)
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


# ----------------------------------------------------------------------------- for people


def describe(name: str, values: np.ndarray, members: Sequence[str] = ()) -> str:
    """A piece of one observation as a person reads it (``phase`` -> ``negotiation``).

    ``members`` names the members in env order, for per-member pieces and ``self_id``.
    """
    piece = _BY_NAME[name]
    values = np.asarray(values, np.float64)
    if piece.show == "onehot":
        return piece.labels[int(np.argmax(values))]
    ids = tuple(members) or tuple(f"m{i + 1}" for i in range(values.size))
    if piece.show == "member_id":
        return ids[int(np.argmax(values))]
    if piece.show in ("belief", "per_member"):
        names = piece.labels if piece.show == "belief" else ids
        return ",".join(f"{n}:{v:.2f}" for n, v in zip(names, values, strict=True))
    value = float(values.reshape(-1)[0])
    if piece.show == "flag":
        return "yes" if value >= 0.5 else "no"
    if piece.show == "percent":
        return f"{100 * value:.1f}%"
    if piece.show == "level":
        level = round(value * piece.top)
        return piece.labels[level] if piece.labels else f"{level}/{piece.top}"
    return f"{value:.2f}"


def markdown_table(owner: Owner | None = None, indent: str = "") -> str:
    """The pieces (of one owner, or all) as a Markdown table: name, size, meaning."""
    lines = [f"{indent}| piece | values | meaning |", f"{indent}|---|---|---|"]
    for piece in PIECES:
        if owner is None or piece.owner == owner:
            size = "one per member" if piece.size is None else str(piece.size)
            lines.append(f"{indent}| ``{piece.name}`` | {size} | {piece.doc} |")
    return "\n".join(lines)
