"""One classroom game: the env, a bot in every seat the class does not play, and the turn loop.

A :class:`LiveGame` is plain, synchronous Python: the web app (``classroom.app``) calls it from
its event loop and writes each turn to SQLite (``classroom.store``) before announcing it. Nothing
here knows about HTTP or time.

Randomness and equivalence: the env is reset with the game's seed and seat ``i`` draws from
``numpy.random.default_rng([seed, i])``, exactly as :func:`reassurance.agents.play_match`. A
human seat's generator feeds its *shadow*: the bot that would play the seat, asked each turn what
it would do on the same observation (for the debrief). So a game whose students always play the
shadow's suggestion is the same game, bit for bit, as ``play_match`` with bots in every seat.

Human moves follow ``reassurance play``: a move names some components; the others keep the
seat's standing order from the last turn; ``pledge`` is played once and goes back to ``keep``;
an order the mask forbids this turn is played as the no-op and kept; a seat that has not moved
when the turn ends plays its standing orders.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reassurance import agents
from reassurance.agents.human import MoveError, parse_move
from reassurance.classroom.events import apply_event, validate_event
from reassurance.envs import coalition_v0, list_scenarios, load_scenario
from reassurance.envs.actions import COMPONENTS, Role
from reassurance.envs.figures import derived
from reassurance.envs.masks import legal_masks
from reassurance.envs.observation import build_observations
from reassurance.envs.state import State

__all__ = [
    "CHECKPOINT_PREFIX",
    "GameSpec",
    "LiveGame",
    "RestoreError",
    "TurnRecord",
    "dashboard",
    "fingerprint",
    "masks_of",
    "observe",
    "state_from_json",
    "state_to_json",
]

CHECKPOINT_PREFIX = "checkpoint:"
"""Bot ids ``checkpoint:NAME`` play the server's ``--checkpoint NAME=PATH`` policies."""

MAX_TURN_SECONDS = 3600
MIN_TURN_SECONDS = 5
MAX_HORIZON = 100
_WORD = re.compile(r"[A-Za-z0-9_%-]{1,40}")
_ONE_OFF = {Role.MEMBER: frozenset({"pledge"})}  # a choice of these is played once


class RestoreError(RuntimeError):
    """A stored game does not replay to the states it recorded (the game code changed?)."""


# ----------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class GameSpec:
    """What the teacher chose when creating a game.

    ``humans`` are the seats students play; ``bots`` maps *every* seat to a bot id: the bot
    that plays it, or, for a human seat, the bot the student is compared with in the debrief
    (and that plays the seat in the simulated games). ``turn_seconds`` is the time for one
    turn, in seconds; ``horizon`` the number of turns (two weeks each).
    """

    scenario: str
    horizon: int
    turn_seconds: int
    seed: int
    humans: tuple[str, ...]
    bots: dict[str, str]
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "horizon": self.horizon,
            "turn_seconds": self.turn_seconds,
            "seed": self.seed,
            "humans": list(self.humans),
            "bots": dict(self.bots),
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GameSpec:
        return cls(
            scenario=data["scenario"],
            horizon=int(data["horizon"]),
            turn_seconds=int(data["turn_seconds"]),
            seed=int(data["seed"]),
            humans=tuple(data["humans"]),
            bots=dict(data["bots"]),
            title=str(data.get("title", "")),
        )

    def overrides(self) -> dict[str, Any]:
        """Scenario overrides of the game (the horizon)."""
        return {"horizon": self.horizon}


def _int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} {value!r} is not a whole number; allowed: {low}..{high}"
        ) from None
    if not low <= number <= high:
        raise ValueError(f"{name} {number} is out of range; allowed: {low}..{high}")
    return number


def make_spec(
    *,
    scenario: str,
    horizon: Any,
    turn_seconds: Any,
    seed: Any,
    humans: Sequence[str],
    bots: Mapping[str, str],
    title: str = "",
    scenarios: Sequence[str] | None = None,
    checkpoints: Mapping[str, str] | None = None,
) -> GameSpec:
    """Check a teacher's choices and return the :class:`GameSpec`.

    ``scenarios`` are the scenarios this server offers (default: the shipped ones);
    ``checkpoints`` the names of its ``--checkpoint`` policies. Raises ``ValueError`` naming
    the bad value and what is allowed.
    """
    offered = list(scenarios if scenarios is not None else list_scenarios())
    if scenario not in offered:
        raise ValueError(f"scenario {scenario!r} is not offered; scenarios: {', '.join(offered)}")
    loaded = load_scenario(scenario)
    horizon = _int("horizon", horizon, 1, MAX_HORIZON)
    turn_seconds = _int("seconds per turn", turn_seconds, MIN_TURN_SECONDS, MAX_TURN_SECONDS)
    seed = _int("seed", seed, 0, 2**31 - 1)
    seats = ["usa", *(m.id for m in loaded.members), "ukraine", "russia"]
    unknown = [h for h in humans if h not in seats]
    if unknown:
        raise ValueError(f"unknown seats {unknown}; seats of {scenario}: {', '.join(seats)}")
    if not humans:
        raise ValueError(f"choose at least one seat for the students; seats: {', '.join(seats)}")
    if len(set(humans)) != len(humans):
        raise ValueError(f"a seat is given twice in {list(humans)}")
    extra = sorted(set(bots) - set(seats))
    if extra:
        raise ValueError(f"bots for unknown seats {extra}; seats: {', '.join(seats)}")
    names = dict(checkpoints or {})
    chosen: dict[str, str] = {}
    for seat in seats:
        role = agents.role_of(seat)
        bot = bots.get(seat) or agents.DEFAULT_BOTS[role]
        if bot.startswith(CHECKPOINT_PREFIX):
            if bot.removeprefix(CHECKPOINT_PREFIX) not in names:
                offered_ckpt = ", ".join(CHECKPOINT_PREFIX + n for n in names) or "none"
                raise ValueError(
                    f"bot {bot!r} for {seat} is not a checkpoint of this server; "
                    f"checkpoints: {offered_ckpt}"
                )
        elif bot not in agents.list_agents(role=role):
            raise ValueError(
                f"bot {bot!r} cannot play {seat}; {role} bots: "
                f"{', '.join(agents.list_agents(role=role))}"
            )
        chosen[seat] = bot
    title = " ".join(str(title).split())
    if len(title) > 80:
        raise ValueError(f"title has {len(title)} characters; at most 80")
    return GameSpec(
        scenario=scenario,
        horizon=horizon,
        turn_seconds=turn_seconds,
        seed=seed,
        humans=tuple(h for h in seats if h in humans),
        bots=chosen,
        title=title,
    )


def make_bot(bot: str, role: str, checkpoints: Mapping[str, str]) -> agents.Policy:
    """A new policy for a bot id: a registered agent, or ``checkpoint:NAME`` of this server."""
    if bot.startswith(CHECKPOINT_PREFIX):
        name = bot.removeprefix(CHECKPOINT_PREFIX)
        if name not in checkpoints:
            raise ValueError(f"no checkpoint {name!r} on this server; it has {sorted(checkpoints)}")
        return agents.from_checkpoint(checkpoints[name], role=role)
    return agents.make(bot)


# ----------------------------------------------------------------------------- state


def state_to_json(state: State) -> dict[str, Any]:
    """Every field of a rules state as lists (exact: floats round-trip, ``-inf`` included)."""
    return {
        name: {"dtype": str(value.dtype), "data": value.tolist()}
        for name, value in vars(state).items()
    }


def state_from_json(data: Mapping[str, Any]) -> State:
    """The inverse of :func:`state_to_json`."""
    return State(
        **{name: np.asarray(entry["data"], dtype=entry["dtype"]) for name, entry in data.items()}
    )


def fingerprint(state_json: Mapping[str, Any]) -> str:
    """sha256 of a state's canonical JSON: equal states, equal fingerprints."""
    text = json.dumps(state_json, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _per_agent(env: Any, arrays: Mapping[Role, Any], agent: str) -> Any:
    """An agent's row of a per-role batch of one (members are indexed by their position)."""
    role = env.role(agent)
    if role is Role.MEMBER:
        i = list(env.member_ids).index(agent)
        return (
            [a[0, i] for a in arrays[role]]
            if isinstance(arrays[role], list)
            else arrays[role][0, i]
        )
    return [a[0] for a in arrays[role]] if isinstance(arrays[role], list) else arrays[role][0]


def masks_of(env: Any, state: State) -> dict[str, tuple[np.ndarray, ...]]:
    """Every agent's action mask (one int8 vector per component) in ``state``."""
    masks = legal_masks(env.params, state, derived(env.params, state))
    return {
        agent: tuple(m.astype(np.int8) for m in _per_agent(env, masks, agent))
        for agent in env.possible_agents
    }


def observe(env: Any) -> dict[str, dict[str, Any]]:
    """Every live agent's observation of the env's game as it stands (after an injected event).

    The same dicts ``env.step`` returns (``observations`` and the per-component
    ``action_mask``), built with the env's public observation and mask functions.
    """
    state = env.game_state
    layouts = {env.role(a): env.observation_layout(a) for a in env.possible_agents}
    vectors = build_observations(env.params, state, derived(env.params, state), layouts)
    masks = masks_of(env, state)
    return {
        agent: {"observations": _per_agent(env, vectors, agent), "action_mask": masks[agent]}
        for agent in env.agents
    }


def dashboard(env: Any) -> dict[str, Any]:
    """The public figures of the game as it stands, for the teacher's dashboard and replays.

    Troops are people; ``enablers`` is E (1 = the threshold E* reached); ``belief`` the public
    P(US type) disengaged, conditional, committed; ``mu`` P(type >= conditional).
    """
    s = env.game_state
    d = derived(env.params, s)
    sc = env.scenario
    phases = ("war", "negotiation", "deployment", "test")
    return {
        "t": int(s.t[0]),
        "phase": phases[int(s.phase[0])],
        "front": float(s.front[0]),
        "force": float(d.force[0]),
        "pledged_force": float(d.pledged_force[0]),
        "threshold": float(sc.force.threshold_troops),
        "enablers": float(d.enablers[0]),
        "deterrence": float(d.deterrence[0]),
        "mu": float(d.mu[0]),
        "belief": [float(x) for x in s.belief[0]],
        "gap_open": bool(s.gap_open[0]),
        "threshold_met": bool(s.threshold_met[0]),
        "pending": int(s.pending[0]),
        "us_signal": int(s.us_signal[0]),
        "us_enablers": int(s.us_enablers[0]),
        "members": {
            m: {
                "pledged": float(1000.0 * d.pledged_k[0, i]),
                "deployed": float(1000.0 * s.deployed_k[0, i]),
                "level": int(s.pledge_level[0, i]),
                "type": int(s.pledge_type[0, i]),
                "condition": int(s.pledge_condition[0, i]),
                "defected": bool(s.defected[0, i]),
            }
            for i, m in enumerate(env.member_ids)
        },
    }


# ----------------------------------------------------------------------------- the game


@dataclass
class TurnRecord:
    """One resolved turn, as stored: what was played, what the bots suggested, what followed.

    ``moves`` are the human seats' submitted moves (component index -> value) and ``timed_out``
    the human seats that did not move; ``actions`` every seat's action as chosen (human seats:
    their orders), ``executed`` after the mask (a forbidden value is played as the no-op);
    ``shadow`` what each human seat's bot would have played on the same observation;
    ``rewards`` per agent (reward units of GAME.md); ``infos`` the env's per-agent step infos
    (phase, escalation score and rung, troops pledged and deployed); ``summary`` the episode
    summary on the last turn; ``report`` the env's full turn report (for the teacher);
    ``state`` the rules state after the turn (:func:`state_to_json`); ``dash`` its public
    figures (:func:`dashboard`); ``orders`` the human seats' standing orders after the turn.
    """

    turn: int
    moves: dict[str, dict[int, int]]
    timed_out: list[str]
    actions: dict[str, list[int]]
    executed: dict[str, list[int]]
    shadow: dict[str, list[int]]
    rewards: dict[str, float]
    infos: dict[str, dict[str, Any]]
    summary: dict[str, Any] | None
    report: str
    state: dict[str, Any]
    dash: dict[str, Any]
    orders: dict[str, list[int]]
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_row(self) -> dict[str, str]:
        """The JSON columns of the ``turns`` table."""
        return {
            "moves_json": json.dumps(
                {a: {str(k): v for k, v in m.items()} for a, m in self.moves.items()}
            ),
            "timed_out_json": json.dumps(self.timed_out),
            "actions_json": json.dumps(self.actions),
            "executed_json": json.dumps(self.executed),
            "shadow_json": json.dumps(self.shadow),
            "rewards_json": json.dumps(self.rewards),
            "infos_json": json.dumps(self.infos),
            "summary_json": json.dumps(self.summary),
            "report": self.report,
            "state_json": json.dumps(self.state),
            "dash_json": json.dumps(self.dash),
            "orders_json": json.dumps(self.orders),
        }


def _clean_info(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k != "episode_summary"}


class LiveGame:
    """A game in progress. ``checkpoints`` maps ``--checkpoint`` names to paths."""

    def __init__(self, spec: GameSpec, checkpoints: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self.env = coalition_v0.parallel_env(
            scenario=spec.scenario, overrides=spec.overrides(), render_mode="ansi"
        )
        env = self.env
        self.members: tuple[str, ...] = tuple(env.member_ids)
        self.seats: tuple[str, ...] = tuple(env.possible_agents)
        checkpoints = dict(checkpoints or {})
        self.bots: dict[str, agents.Policy] = {}
        for agent in self.seats:
            policy = make_bot(spec.bots[agent], agents.role_of(agent), checkpoints)
            policy.bind(agents.Seat.of(env, agent))
            policy.reset()
            self.bots[agent] = policy  # plays the seat, or shadows the student in it
        self.rngs = {
            agent: np.random.default_rng([spec.seed, index])
            for index, agent in enumerate(self.seats)
        }
        self.obs, _ = env.reset(seed=spec.seed)
        self.turn = 0  # turns resolved
        self.orders = {
            agent: np.zeros(len(COMPONENTS[env.role(agent)]), np.int64) for agent in spec.humans
        }
        self.pending: dict[str, dict[int, int]] = {}
        self.events_this_turn: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None
        self.initial_state = state_to_json(env.game_state)
        self.initial_dash = dashboard(env)

    # -------------------------------------------------------------- queries

    @property
    def finished(self) -> bool:
        return not self.env.agents

    def role(self, agent: str) -> Role:
        return self.env.role(agent)

    def components(self, agent: str) -> list[tuple[str, tuple[str, ...]]]:
        return self.env.action_labels(agent)

    def waiting_for(self) -> list[str]:
        """Human seats that have not moved this turn."""
        return [a for a in self.spec.humans if a not in self.pending]

    # -------------------------------------------------------------- moves

    def check_move(self, agent: str, move: Mapping[str, Any]) -> dict[int, int]:
        """Validate a human seat's move (``{component: value}``, names as in ``play``).

        Returns ``{component index: value index}``. Raises :class:`MoveError` with one clear
        message, the same checks as ``reassurance play``: unknown components or values, a value
        the mask forbids this turn.
        """
        if self.finished:
            raise MoveError("the game is over")
        if agent not in self.spec.humans:
            raise MoveError(f"{agent} is not a student's seat")
        if not isinstance(move, Mapping):
            raise MoveError(f"a move is an object of component: value, got {move!r}")
        components = self.components(agent)
        parts = []
        for key, value in move.items():
            word = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            if not (isinstance(key, str) and _WORD.fullmatch(key)) or not (
                isinstance(word, str) and _WORD.fullmatch(word)
            ):
                raise MoveError(
                    f"cannot read {key!r}: {value!r}; components and values are single words "
                    f"(letters, digits, _ - %), e.g. {components[0][0]}: {components[0][1][-1]}"
                )
            parts.append(f"{key}={word}")
        return parse_move(" ".join(parts), components, self.obs[agent]["action_mask"])

    def submit(self, agent: str, move: Mapping[str, Any]) -> dict[int, int]:
        """Record a validated move for this turn (a new move replaces the seat's earlier one)."""
        chosen = self.check_move(agent, move)
        self.pending[agent] = chosen
        return chosen

    def describe(self, agent: str, action: Sequence[int]) -> dict[str, str]:
        """An action as ``{component: value label}``."""
        return {
            name: labels[int(v)]
            for (name, labels), v in zip(self.components(agent), action, strict=True)
        }

    # -------------------------------------------------------------- events

    def inject(self, kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a facilitator's event now (see :mod:`classroom.events`); return its record."""
        if self.finished:
            raise ValueError("the game is over; events can only change a game in progress")
        params = validate_event(self.env, kind, params)
        text = apply_event(self.env, kind, params)
        self.obs = observe(self.env)
        record = {"before_turn": self.turn + 1, "kind": kind, "params": params, "text": text}
        self.events_this_turn.append(record)
        return record

    # -------------------------------------------------------------- turns

    def resolve(self) -> TurnRecord:
        """Play the turn: bots act, students' moves (or standing orders) apply, the env steps."""
        if self.finished:
            raise RuntimeError("the game is over")
        env = self.env
        obs = self.obs
        actions: dict[str, np.ndarray] = {}
        shadow: dict[str, list[int]] = {}
        moves = {a: dict(m) for a, m in self.pending.items()}
        timed_out = [a for a in self.spec.humans if a not in moves]
        for agent in env.agents:
            suggestion = self.bots[agent].act(obs[agent], self.rngs[agent])
            if agent not in self.spec.humans:
                actions[agent] = suggestion
                continue
            shadow[agent] = [int(v) for v in suggestion]
            orders = self.orders[agent]
            for index, value in moves.get(agent, {}).items():
                orders[index] = value
            mask = obs[agent]["action_mask"]
            allowed = np.array([bool(m[v]) for m, v in zip(mask, orders, strict=True)])
            actions[agent] = np.where(allowed, orders, 0).astype(np.int64)
            for index, (name, _) in enumerate(self.components(agent)):
                if name in _ONE_OFF.get(env.role(agent), ()):
                    orders[index] = 0
        executed = {
            agent: [
                int(v) if obs[agent]["action_mask"][i][int(v)] else 0 for i, v in enumerate(action)
            ]
            for agent, action in actions.items()
        }
        self.obs, rewards, _, _, infos = env.step(actions)
        self.turn += 1
        summary = None
        if self.finished:
            summary = next(iter(infos.values()))["episode_summary"]
            self.summary = summary
        record = TurnRecord(
            turn=self.turn,
            moves=moves,
            timed_out=timed_out,
            actions={a: [int(v) for v in act] for a, act in actions.items()},
            executed=executed,
            shadow=shadow,
            rewards={a: float(r) for a, r in rewards.items()},
            infos={a: _clean_info(i) for a, i in infos.items()},
            summary=summary,
            report=env.render() or "",
            state=state_to_json(env.game_state),
            dash=dashboard(env),
            orders={a: [int(v) for v in o] for a, o in self.orders.items()},
            events=list(self.events_this_turn),
        )
        self.pending = {}
        self.events_this_turn = []
        return record

    # -------------------------------------------------------------- restore

    @classmethod
    def restore(
        cls,
        spec: GameSpec,
        turns: Sequence[Mapping[str, Any]],
        events: Sequence[Mapping[str, Any]],
        pending: Mapping[str, Mapping[int, int]],
        checkpoints: Mapping[str, str] | None = None,
        game_id: str = "",
    ) -> LiveGame:
        """Rebuild a game from its stored turns, events and this turn's moves.

        Replays every turn with the stored moves; bots and shadows act again, so their
        generators and memories are where they were. Raises :class:`RestoreError` when a
        replayed turn's state differs from the stored one.
        """
        game = cls(spec, checkpoints)
        by_turn: dict[int, list[Mapping[str, Any]]] = {}
        for event in events:
            by_turn.setdefault(int(event["before_turn"]), []).append(event)
        for stored in turns:
            number = int(stored["turn"])
            for event in by_turn.get(number, []):
                game.inject(event["kind"], event["params"])
            game.pending = {a: dict(m) for a, m in stored["moves"].items()}
            record = game.resolve()
            if fingerprint(record.state) != fingerprint(stored["state"]):
                raise RestoreError(
                    f"game {game_id}: turn {number} does not replay to the stored state "
                    "(the game code or a checkpoint changed since it was played)"
                )
        for event in by_turn.get(game.turn + 1, []):
            game.inject(event["kind"], event["params"])
        if not game.finished:
            game.pending = {a: dict(m) for a, m in pending.items()}
        return game


def nan_to_none(value: Any) -> Any:
    """A summary value fit for strict JSON (NaN and infinities become ``None``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
