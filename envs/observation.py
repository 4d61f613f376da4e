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

import functools
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
    "Observer",
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
# plain ints: numpy compares arrays with IntEnum members slowly
_DEPLOYMENT = int(Phase.DEPLOYMENT)
_IF_US_BACKSTOP = int(Condition.IF_US_BACKSTOP)
_PLEDGES = ("none", "token", "pct5", "pct10", "pct20")


@dataclass(frozen=True)
class Piece:
    """One named part of an observation.

    Its values come from one of three functions: ``value(params, state, figures)`` gives
    ``[B, size]`` (``[B, M, size]`` for member-private pieces); ``hot(params, state, figures)``
    gives the position of the 1 of a one-hot piece (``[B]``, or ``[B, M]``); ``trait(params)``
    gives a member-private piece that only the scenario decides (``[M]`` or ``[M, size]``: the
    member's static traits, written once per buffer). ``size`` is a number of values, or
    ``None`` for one per member. ``show`` says how a person reads it: a one-hot over
    ``labels``, a yes/no flag, a percentage, a level (``value x top``, named by ``labels`` if
    given), a plain number, one number per member, the member's own id, or a distribution over
    ``labels``.
    """

    name: str
    owner: Owner
    doc: str
    value: Callable[[Params, State, Derived], np.ndarray] | None = None
    size: int | None = 1
    high: float = 1.0
    show: Show = "number"
    labels: tuple[str, ...] = ()
    top: int = 0
    hot: Callable[[Params, State, Derived], np.ndarray] | None = None
    trait: Callable[[Params], np.ndarray] | None = None

    def __post_init__(self) -> None:
        given = [f for f in (self.value, self.hot, self.trait) if f is not None]
        if len(given) != 1:
            raise TypeError(f"piece {self.name!r} needs exactly one of value, hot or trait")
        if self.trait is not None and self.owner != "member":
            raise TypeError(f"piece {self.name!r}: only member-private pieces are traits")

    def width(self, n_members: int) -> int:
        return n_members if self.size is None else self.size

    def compute(self, params: Params, s: State, d: Derived) -> np.ndarray:
        """The piece's values as float64: ``[B, size]``, or ``[B, M, size]`` if member-private."""
        if self.value is not None:
            return np.asarray(self.value(params, s, d), np.float64)
        if self.hot is not None:
            return np.eye(self.width(params.n_members))[self.hot(params, s, d)]
        column = _trait_values(self, params)
        return np.broadcast_to(column, (s.batch_size, *column.shape)).astype(np.float64)


def _trait_values(piece: Piece, params: Params) -> np.ndarray:
    """``[M, size]`` float64 values of a trait piece."""
    assert piece.trait is not None
    values = np.asarray(piece.trait(params), np.float64)
    return values.reshape(params.n_members, piece.width(params.n_members))


def _col(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64)[..., None]


def _names(enum: type) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in enum)


def _time_left(p: Params, s: State, d: Derived) -> np.ndarray:
    window = p.scenario.force.deployment_window
    left = np.where(s.phase == _DEPLOYMENT, (s.deadline - s.t) / window, 0.0)
    return _col(np.clip(left, 0.0, 1.0))


def _top_pledge(p: Params) -> np.ndarray:
    return p.pledge_shares[-1] * p.capacity_k


def _own_deployed(p: Params, s: State, d: Derived) -> np.ndarray:
    pledged = d.pledged_k > 0
    share = np.where(pledged, s.deployed_k / np.where(pledged, d.pledged_k, 1.0), 0.0)
    return _col(share)


def _member_mean(x: np.ndarray) -> np.ndarray:
    """``[B]`` mean over members of small whole numbers or flags ``[B, M]`` (a product with
    ones: the sums are exact, so this is ``np.mean(x, axis=1)`` to the bit, and faster)."""
    return (x @ np.ones(x.shape[1])) / x.shape[1]


PIECES: tuple[Piece, ...] = (
    Piece("time", "public", "steps played / horizon",
          lambda p, s, d: _col(s.t / p.scenario.horizon), show="percent"),
    Piece("phase", "public", "one-hot war, negotiation, deployment, test",
          hot=lambda p, s, d: s.phase, size=4, show="onehot", labels=_names(Phase)),
    Piece("front", "public", "share of its territory Ukraine holds",
          lambda p, s, d: _col(s.front), show="percent"),
    Piece("fortification", "public", "Ukraine's fortification stock, 0..1",
          lambda p, s, d: _col(s.fortification), show="percent"),
    Piece("pending_offer", "public",
          "one-hot none, Russia (no foreign troops), Russia (troops allowed), Ukraine",
          hot=lambda p, s, d: s.pending, size=4, show="onehot", labels=_names(PendingOffer)),
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
          hot=lambda p, s, d: s.us_signal, size=4, show="onehot", labels=_names(Signal)),
    Piece("us_enablers", "public", "US enablers in place / 3",
          lambda p, s, d: _col(s.us_enablers / 3.0), show="level", top=3),
    Piece("us_pressure", "public", "one-hot none, on Ukraine, sanctions on Russia",
          hot=lambda p, s, d: s.us_pressure, size=3, show="onehot", labels=_names(Pressure)),
    Piece("us_response", "public", "US standing response / 4 (none .. strikes)",
          lambda p, s, d: _col(s.us_response / 4.0), show="level", labels=_names(UsResponse),
          top=4),
    Piece("russia_offensive", "public", "Russia's offensive intensity / 3, last step",
          lambda p, s, d: _col(s.ru_offensive / 3.0), show="level", top=3),
    Piece("russia_strikes", "public", "1 if Russia struck infrastructure last step",
          lambda p, s, d: _col(s.ru_strikes), show="flag"),
    Piece("russia_test", "public",
          "one-hot comply, probe, limited violation, major offensive, last step",
          hot=lambda p, s, d: s.ru_test, size=4, show="onehot", labels=_names(TestAction)),
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
          lambda p, s, d: (s.pledge_condition == _IF_US_BACKSTOP) & (s.pledge_level > 0),
          None, show="per_member"),
    Piece("members_defected", "public", "per member: 1 if it ever reneged or withdrew",
          lambda p, s, d: s.defected.astype(np.float64), None, show="per_member"),
    Piece("coalition_contributors", "public", "share of members with troops deployed",
          lambda p, s, d: _col(_member_mean(s.deployed_k > 0)), show="percent"),
    Piece("coalition_aid", "public", "members' mean aid to Ukraine / 3",
          lambda p, s, d: _col(_member_mean(s.member_aid) / 3.0)),
    # member-private
    Piece("self_id", "member", "member: one-hot of this member among the members",
          trait=lambda p: np.eye(p.n_members), size=None, show="member_id"),
    Piece("self_gdp", "member", "member: GDP / largest member GDP",
          trait=lambda p: p.gdp / p.gdp.max()),
    Piece("self_capacity", "member", "member: deployable troops / F*, capped at 1",
          trait=lambda p: np.minimum(p.capacity_k / p.threshold_k, 1.0)),
    Piece("self_home_threat", "member", "member: home threat 0..1",
          trait=lambda p: p.home_threat),
    Piece("self_parliament", "member", "member: 1 if a deployment needs a vote",
          trait=lambda p: p.parliament_vote, show="flag"),
    Piece("self_leadership", "member", "member: private benefit of a visible role 0..1",
          trait=lambda p: p.leadership),
    Piece("self_troops_in_ukraine", "member", "member: 1 if its ground troops may go to Ukraine",
          trait=lambda p: p.in_ukraine, show="flag"),
    Piece("self_declaration", "member", "member: 1 if it signed a declaration of intent",
          trait=lambda p: p.declaration, show="flag"),
    Piece("self_pledge", "member", "member: one-hot pledge level none, token, 5%, 10%, 20%",
          hot=lambda p, s, d: s.pledge_level, size=5, show="onehot", labels=_PLEDGES),
    Piece("self_contribution", "member", "member: one-hot contribution type of its pledge",
          hot=lambda p, s, d: s.pledge_type, size=len(Contribution),
          show="onehot", labels=_names(Contribution)),
    Piece("self_condition", "member",
          "member: one-hot unconditional, if US backstop, after ceasefire",
          hot=lambda p, s, d: s.pledge_condition, size=3, show="onehot",
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
          hot=lambda p, s, d: s.us_type, size=3, show="onehot", labels=_TYPES),
    Piece("resolve", "russia", "russia: own resolve one-hot low, medium, high",
          hot=lambda p, s, d: s.resolve, size=3, show="onehot",
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


class Observer:
    """Writes every role's observations of a batch of games into float32 arrays.

    Made once per compiled scenario. :meth:`allocate` makes the arrays (members ``[B, M, D]``,
    the others ``[B, D_role]``) and writes the trait pieces (static member traits, ``self_id``)
    once; :meth:`write` fills every other column from a state and its figures. The public
    pieces are computed once per game, into Ukraine's vector (which holds only them), and copied
    from there into the other roles' vectors (members: broadcast over the member axis). The
    member pieces that change are built side by side in a small array and copied into the large
    one in one pass, their one-hots set by position.
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self.layouts = layouts(params.n_members)
        self.public_size = self.layouts[Role.UKRAINE].size
        slices = {role: layout.slices() for role, layout in self.layouts.items()}
        self._public = [
            (piece, slices[Role.UKRAINE][piece.name]) for piece in PIECES if piece.owner == "public"
        ]
        self._private = {
            role: [
                (piece, slices[role][piece.name])
                for piece in PIECES
                if piece.owner == _OWNER[role] and piece.trait is None
            ]
            for role in (Role.USA, Role.RUSSIA, Role.MEMBER)
        }
        self._traits = [
            (slices[Role.MEMBER][piece.name], _trait_values(piece, params).astype(np.float32))
            for piece in PIECES
            if piece.trait is not None
        ]
        widths = {piece.width(params.n_members) for piece in PIECES if piece.hot is not None}
        self._eyes = {n: np.eye(n, dtype=np.float32) for n in widths}
        changing = self._private[Role.MEMBER]
        start = min(where.start for _, where in changing)
        self._changing_width = max(where.stop for _, where in changing) - start
        self._changing = [
            (piece, slice(where.start - start, where.stop - start)) for piece, where in changing
        ]
        self._changing_runs = [
            (slice(start + a, start + b), slice(a, b))
            for a, b in _runs(sorted((w.start, w.stop) for _, w in self._changing))
        ]

    def allocate(self, batch_size: int) -> dict[Role, np.ndarray]:
        """Observation arrays for ``batch_size`` games, trait columns written (the rest 0)."""
        B, M = batch_size, self.params.n_members
        out = {role: np.zeros((B, self.layouts[role].size), np.float32) for role in Role}
        out[Role.MEMBER] = np.zeros((B, M, self.layouts[Role.MEMBER].size), np.float32)
        for where, values in self._traits:
            out[Role.MEMBER][:, :, where] = values
        return out

    def write(self, s: State, d: Derived, out: dict[Role, np.ndarray]) -> dict[Role, np.ndarray]:
        """Fill ``out`` (from :meth:`allocate`, ``B`` rows) with the observations of ``s``, ``d``
        being ``derived(params, s)``; trait columns are left as they are. Returns ``out``."""
        public = out[Role.UKRAINE]
        self._fill(public, self._public, s, d)
        for role in (Role.USA, Role.RUSSIA):
            out[role][:, : self.public_size] = public
            self._fill(out[role], self._private[role], s, d)
        members = out[Role.MEMBER]
        _copy_rows(members[:, :, : self.public_size], public[:, None, :])
        changing = self._member_changes(s, d)
        for where, source in self._changing_runs:
            _copy_rows(members[:, :, where], changing[:, :, source])
        return out

    def build(self, s: State, d: Derived) -> dict[Role, np.ndarray]:
        """New observation arrays for the games of ``s`` (see :func:`build_observations`)."""
        return self.write(s, d, self.allocate(s.batch_size))

    def _fill(
        self, out: np.ndarray, pieces: list[tuple[Piece, slice]], s: State, d: Derived
    ) -> None:
        p = self.params
        for piece, where in pieces:
            if piece.hot is not None:
                eye = self._eyes[where.stop - where.start]
                out[..., where] = np.take(eye, piece.hot(p, s, d), axis=0)
            else:
                out[..., where] = piece.value(p, s, d)  # type: ignore[misc]

    def _member_changes(self, s: State, d: Derived) -> np.ndarray:
        """``[B, M, width]``: the member pieces that change, side by side."""
        p, M = self.params, self.params.n_members
        changing = np.zeros((s.batch_size, M, self._changing_width), np.float32)
        rows = _row_starts(s.batch_size * M, self._changing_width)
        for piece, where in self._changing:
            if piece.hot is not None:
                hot = piece.hot(p, s, d).reshape(-1)
                changing.reshape(-1)[rows + (where.start + hot)] = 1.0
            else:
                changing[..., where] = piece.value(p, s, d)  # type: ignore[misc]
        return changing


def _copy_rows(target: np.ndarray, source: np.ndarray) -> None:
    """``target[...] = source`` for float32 arrays whose last axes are contiguous rows (``source``
    may broadcast on the others): each row is copied as one block of bytes, which numpy does with
    one memcpy per row instead of element by element (2 to 3 times faster for these short rows)."""
    width = target.shape[-1]
    if target.strides[-1] != 4 or source.strides[-1] != 4 or target.dtype != np.float32:
        target[...] = source
        return
    row = np.dtype((np.void, 4 * width))
    target.view(row)[..., 0] = np.broadcast_to(source, target.shape).view(row)[..., 0]


def _runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ``(start, stop)`` spans merged where they touch."""
    runs: list[tuple[int, int]] = []
    for a, b in spans:
        if runs and runs[-1][1] == a:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


@functools.lru_cache(maxsize=8)
def _row_starts(rows: int, width: int) -> np.ndarray:
    """``[rows]``: the flat position where each row of a ``[rows, width]`` array starts."""
    starts = np.arange(rows, dtype=np.int64) * width
    starts.flags.writeable = False
    return starts


def build_observations(
    params: Params, s: State, d: Derived, layout: Mapping[Role, Layout] | None = None
) -> dict[Role, np.ndarray]:
    """Observation vectors (float32): members ``[B, M, size]``, every other role ``[B, size]``;
    ``d`` is ``derived(params, s)``; ``layout``, if given, must be the game's (:func:`layouts`).
    Envs keep an :class:`Observer` instead."""
    observer = Observer(params)
    if layout is not None and dict(layout) != observer.layouts:
        raise ValueError("layout is not this game's observation layout (see layouts())")
    return observer.build(s, d)


def state_vector(observations: dict[Role, np.ndarray]) -> np.ndarray:
    """Global state for centralised critics ``[B, size]`` from every role's observations: the
    public pieces, the hidden types and every member's private pieces."""
    obs = observations
    B = obs[Role.UKRAINE].shape[0]
    public_size = obs[Role.UKRAINE].shape[1]
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
