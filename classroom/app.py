"""The classroom web app: Starlette pages and one WebSocket for live play.

Pages (every token is 24 URL-safe characters from :func:`classroom.store.new_token`):

| path | who | what |
|---|---|---|
| ``/`` | anyone | join a game by its code |
| ``/join/{code}`` | anyone with the code | the free seats; taking one leads to the seat link |
| ``/seat/{token}`` | the seat's student | turn report, own observation, the move form |
| ``/seat/{token}/debrief``, ``/seat/{token}/replay.html`` | the seat's student | after the game |
| ``/teacher/{token}`` | the teacher | the games, and a new game (scenario first) |
| ``/teacher/{token}/game/{id}`` | the teacher | live dashboard and the facilitator's controls |
| ``/teacher/{token}/game/{id}/debrief``, ``.../replay.html`` | the teacher | after the game |
| ``/ws`` | both | live updates; every message carries its token |

WebSocket messages are JSON objects of at most :data:`MAX_MESSAGE_BYTES` bytes, at most
:data:`RATE_PER_S` a second per connection (bursts of :data:`RATE_BURST`); each has a ``type``
and the ``token`` of its sender, checked on every message. A seat token acts only for its own
seat: no message names a seat. Client to server: ``hello`` (``token``, and ``game`` for the
teacher), ``move`` (``turn``, ``nonce``, ``move``: component -> value), and the teacher's
``pause``, ``resume``, ``extend`` (``seconds``), ``end_turn``, ``inject`` (``event``,
``params``), ``reveal``. Server to client: ``state`` (the sender's own view), ``ack`` (a move
recorded: ``turn``, ``nonce``, ``move``), ``error`` (``message``: one sentence saying what was
wrong and what is allowed).

Faults: each resolved turn is committed to SQLite before it is announced; a move is committed
before it is acknowledged; on start the app restores every unfinished game from the database
(:meth:`LiveGame.restore`), and a running turn whose deadline passed while the server was down
gets :data:`RESUME_GRACE_S` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from reassurance import agents
from reassurance.agents.human import MoveError
from reassurance.classroom import debrief, seatview
from reassurance.classroom.engine import (
    CHECKPOINT_PREFIX,
    GameSpec,
    LiveGame,
    RestoreError,
    dashboard,
    make_spec,
)
from reassurance.classroom.events import EVENTS
from reassurance.classroom.pages import templates
from reassurance.classroom.replay import classroom_replay, render_replay
from reassurance.classroom.store import GameRow, Store
from reassurance.envs import list_scenarios, load_scenario

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_MESSAGE_BYTES",
    "RATE_BURST",
    "RATE_PER_S",
    "Classroom",
    "create_app",
]

log = logging.getLogger("reassurance.classroom")

MAX_MESSAGE_BYTES = 4096
"""Largest WebSocket message the app reads; a larger one gets an error (over 64 KiB: closed)."""
MAX_BODY_BYTES = 16384
"""Largest HTTP request body (forms); a larger one gets 413."""
RATE_PER_S = 5.0
RATE_BURST = 15.0
MAX_FAILED_LOOKUPS_PER_MIN = 30
"""Wrong join codes or tokens one address may try per minute before it gets 429."""
RESUME_GRACE_S = 20.0
TICK_S = 0.2
HELLO_TIMEOUT_S = 10.0
MAX_EXTEND_S = 600
_NAME_LIMIT = 40
_NONCE_LIMIT = 40


# ----------------------------------------------------------------------------- limits


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst``; :meth:`take` spends one."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.stamp = self.clock()

    def peek(self) -> bool:
        """Whether :meth:`take` would succeed now (spends nothing)."""
        now = self.clock()
        return min(self.burst, self.tokens + (now - self.stamp) * self.rate) >= 1.0

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class BodyLimit:
    """ASGI middleware: refuse HTTP request bodies over ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = Response(
            f"request body too large: at most {self.limit:,} bytes",
            status_code=413,
            media_type="text/plain",
        )
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await too_big(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await too_big(scope, receive, send)


class _TooLarge(Exception):
    pass


_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """ASGI middleware: a strict Content-Security-Policy (nothing from elsewhere) and friends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# ----------------------------------------------------------------------------- sessions


@dataclass
class Session:
    """A game on this server: its row, the live game and the sockets watching it."""

    row: GameRow
    game: LiveGame
    last: dict[str, Any] | None = None  # the last resolved turn: turn, executed, timed_out, report
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sockets: dict[str, set[WebSocket]] = field(default_factory=dict)
    nonces: dict[str, str] = field(default_factory=dict)
    broken: str | None = None

    @property
    def id(self) -> str:
        return self.row.id


def _history_entry(turn: int, infos: Mapping[str, Any], dash: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "turn": turn,
        "phase": dash["phase"],
        "front": dash["front"],
        "force": dash["force"],
        "enablers": dash["enablers"],
        "mu": dash["mu"],
        "escalation": {a: i["escalation"] for a, i in infos.items()},
    }


def _simulate_in_worker(args: tuple) -> list[dict[str, Any]]:
    """Worker-process entry of the simulated games (low priority, so play stays responsive)."""
    with contextlib.suppress(OSError):
        os.nice(10)
    return debrief.simulate_chunk(*args)


class Simulations:
    """Plays the debrief's simulated games in one worker process and caches them in the store."""

    def __init__(self, store: Store, wanted: int, checkpoints: Mapping[str, str]) -> None:
        self.store = store
        self.wanted = wanted
        self.checkpoints = dict(checkpoints)
        self._pool: Any = None
        self._running: set[tuple[str, int]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keys: dict[str, str] = {}

    def key(self, spec: GameSpec) -> str:
        """The cache key of ``spec``'s simulated games (hashing it reads files: once per spec)."""
        memo = json.dumps([spec.scenario, spec.overrides(), sorted(spec.bots.items())])
        if memo not in self._keys:
            self._keys[memo] = debrief.simulation_key(
                spec.scenario, spec.overrides(), spec.bots, self.checkpoints
            )
        return self._keys[memo]

    def ready(self, spec: GameSpec) -> int:
        """How many of ``spec``'s simulated games are played (without reading them)."""
        done = self.store.simulation_chunk_ids(self.key(spec))
        count = 0
        for chunk in self.chunks():
            if chunk not in done:
                break
            count += 1
        return min(self.wanted, count * debrief.CHUNK)

    def chunks(self) -> range:
        return range(math.ceil(self.wanted / debrief.CHUNK))

    def results(self, spec: GameSpec) -> list[dict[str, Any]]:
        """The summaries played so far for ``spec`` (up to :attr:`wanted`), in seed order."""
        stored = self.store.simulation_chunks(self.key(spec))
        out: list[dict[str, Any]] = []
        for chunk in self.chunks():
            if chunk not in stored:
                break
            out.extend(stored[chunk])
        return [
            {k: (math.nan if v is None else v) for k, v in s.items()} for s in out[: self.wanted]
        ]

    def ensure(self, spec: GameSpec) -> None:
        """Start playing the chunks of ``spec``'s simulated games that are not cached."""
        if self.wanted <= 0:
            return
        key = self.key(spec)
        stored = self.store.simulation_chunks(key)
        missing = [c for c in self.chunks() if c not in stored and (key, c) not in self._running]
        if not missing:
            return
        if self._pool is None:
            self._loop = asyncio.get_running_loop()
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        for chunk in missing:
            seeds = list(range(chunk * debrief.CHUNK, (chunk + 1) * debrief.CHUNK))
            args = (spec.scenario, spec.overrides(), dict(spec.bots), self.checkpoints, seeds)
            self._running.add((key, chunk))
            self._pool.apply_async(
                _simulate_in_worker,
                (args,),
                callback=lambda result, k=key, c=chunk: self._done(k, c, result),
                error_callback=lambda err, k=key, c=chunk: self._failed(k, c, err),
            )

    def _done(self, key: str, chunk: int, result: list[dict[str, Any]]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._store, key, chunk, result)

    def _store(self, key: str, chunk: int, result: list[dict[str, Any]]) -> None:
        self._running.discard((key, chunk))
        self.store.save_simulation_chunk(key, chunk, result)

    def _failed(self, key: str, chunk: int, err: BaseException) -> None:
        log.error("simulated games %s chunk %d failed: %s", key[:12], chunk, err)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._running.discard, (key, chunk))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


class Classroom:
    """Everything the server holds: the store, the games, the tokens and the sockets.

    Args:
        store: the SQLite store.
        scenarios: scenario ids (or YAML paths) a teacher may choose; the first is the default.
        checkpoints: ``--checkpoint`` name -> path of trained policies a teacher may seat.
        simulations: simulated games per debrief (0: none).
        clock: Unix time in seconds (tests may pass their own).
    """

    def __init__(
        self,
        store: Store,
        *,
        scenarios: Sequence[str] | None = None,
        checkpoints: Mapping[str, str] | None = None,
        simulations: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.scenarios = list(scenarios or ["classroom"])
        for extra in list_scenarios():
            if extra not in self.scenarios:
                self.scenarios.append(extra)
        self.checkpoints = dict(checkpoints or {})
        self.clock = clock
        self.teacher_token = store.teacher_token()
        self.sessions: dict[str, Session] = {}
        self.seat_tokens: dict[str, tuple[str, str]] = {}
        self.codes: dict[str, str] = {}
        self.simulations = Simulations(store, simulations, self.checkpoints)
        self.failed_lookups: dict[str, Bucket] = {}
        self._ticker: asyncio.Task | None = None

    # -------------------------------------------------------------- start and stop

    def load(self) -> None:
        """Restore every game of the store (unfinished ones replayed to where they were)."""
        now = self.clock()
        for game_id in self.store.game_ids():
            row = self.store.game(game_id)
            turns = self.store.turns(game_id)
            events = self.store.events(game_id)
            pending = self.store.pending_moves(game_id, row.turn + 1)
            try:
                game = LiveGame.restore(
                    row.spec, turns, events, pending, self.checkpoints, game_id=game_id
                )
            except (RestoreError, ValueError, FileNotFoundError) as err:
                log.error("cannot restore game %s: %s", game_id, err)
                continue
            session = Session(row=row, game=game, events=events)
            self._index(session, turns)
            if row.status == "running" and row.deadline is not None and row.deadline < now:
                row.deadline = now + RESUME_GRACE_S
                self.store.set_timer(game_id, row.status, row.deadline, None)
            for agent in pending:
                nonce = self.store.move_nonce(game_id, row.turn + 1, agent)
                if nonce:
                    session.nonces[agent] = nonce

    def _index(self, session: Session, turns: Sequence[Mapping[str, Any]]) -> None:
        row = session.row
        self.sessions[row.id] = session
        self.codes[row.code] = row.id
        for agent, seat in row.seats.items():
            if seat["human"]:
                self.seat_tokens[seat["token"]] = (row.id, agent)
        session.history = [_history_entry(t["turn"], t["infos"], t["dash"]) for t in turns]
        session.last = turns[-1] if turns else None

    async def start(self) -> None:
        self.load()
        for session in self.sessions.values():
            if session.row.status != "finished" or not self._simulations_complete(session):
                self.simulations.ensure(session.row.spec)
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.simulations.close()
        self.store.close()

    def _simulations_complete(self, session: Session) -> bool:
        return self.simulations.ready(session.row.spec) >= self.simulations.wanted

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = self.clock()
            for session in list(self.sessions.values()):
                row = session.row
                if row.status == "running" and row.deadline is not None and now >= row.deadline:
                    try:
                        await self.resolve(session)
                    except Exception:  # keep the other games going; the error is logged
                        log.exception("turn of game %s failed", row.id)

    # -------------------------------------------------------------- games

    def create_game(self, spec: GameSpec) -> Session:
        game = LiveGame(spec, self.checkpoints)
        row = self.store.create_game(spec)  # paused until the teacher starts it
        session = Session(row=row, game=game)
        self._index(session, [])
        self.simulations.ensure(spec)
        return session

    async def resolve(self, session: Session) -> None:
        """End the open turn: play it, commit it, then announce it."""
        game, row = session.game, session.row
        if game.finished:
            return
        record = game.resolve()
        status = "finished" if game.finished else row.status
        deadline = remaining = None
        if status == "running":
            deadline = self.clock() + row.spec.turn_seconds
        elif status == "paused":
            remaining = float(row.spec.turn_seconds)
        try:
            self.store.save_turn(row.id, record, status, deadline, remaining)
        except Exception:
            self._reload(session)
            raise
        row.turn, row.status, row.deadline, row.remaining_s = (
            record.turn,
            status,
            deadline,
            remaining,
        )
        session.last = {
            "turn": record.turn,
            "executed": record.executed,
            "timed_out": record.timed_out,
            "report": record.report,
        }
        session.history.append(_history_entry(record.turn, record.infos, record.dash))
        session.nonces = {}
        await self.broadcast(session)

    def _reload(self, session: Session) -> None:
        """Put a game back to what the database holds (after a failed write)."""
        game_id = session.id
        row = self.store.game(game_id)
        turns = self.store.turns(game_id)
        events = self.store.events(game_id)
        pending = self.store.pending_moves(game_id, row.turn + 1)
        session.row = row
        session.game = LiveGame.restore(
            row.spec, turns, events, pending, self.checkpoints, game_id=game_id
        )
        session.events = events
        self._index(session, turns)

    # -------------------------------------------------------------- payloads

    def _deadline_in(self, row: GameRow) -> float | None:
        if row.status == "running" and row.deadline is not None:
            return max(0.0, row.deadline - self.clock())
        if row.status == "paused":
            return row.remaining_s
        return None

    def _game_header(self, session: Session) -> dict[str, Any]:
        row, game = session.row, session.game
        return {
            "id": row.id,
            "title": row.spec.title,
            "scenario": game.env.scenario.title,
            "horizon": row.spec.horizon,
            "turn": min(row.turn + 1, row.spec.horizon),
            "resolved": row.turn,
            "status": row.status,
            "finished": game.finished,
            "deadline_in": self._deadline_in(row),
            "turn_seconds": row.spec.turn_seconds,
        }

    def seat_payload(self, session: Session, agent: str, token: str) -> dict[str, Any]:
        """What the student in ``agent``'s seat sees: only that agent's own observation."""
        game = session.game
        env = game.env
        role = env.role(agent)
        payload: dict[str, Any] = {
            "type": "state",
            "game": self._game_header(session),
            "seat": {
                "agent": agent,
                "role": role.name.lower(),
                "name": session.row.seats[agent]["name"],
            },
            "links": {"debrief": f"/seat/{token}/debrief", "replay": f"/seat/{token}/replay.html"},
        }
        last = session.last
        if last is not None:
            played = last["executed"].get(agent)
            payload["last"] = {
                "turn": last["turn"],
                "played": game.describe(agent, played) if played is not None else None,
                "timed_out": agent in last["timed_out"],
            }
        payload["events"] = [
            e["text"] for e in session.events if e["before_turn"] == session.row.turn + 1
        ]
        if game.finished:
            return payload
        obs = game.obs[agent]
        view = env.view(agent, obs)
        members = list(game.members)
        orders = game.orders[agent]
        pending = game.pending.get(agent)
        payload.update(
            {
                "report": seatview.turn_report(
                    view,
                    horizon=env.horizon,
                    threshold_troops=float(env.scenario.force.threshold_troops),
                    members=members,
                ),
                "pieces": seatview.piece_entries(view, role, members),
                "members": seatview.member_table(view, members),
                "components": seatview.component_entries(role, obs["action_mask"], view, orders),
                "moved": pending is not None,
                "move": (
                    {
                        game.components(agent)[i][0]: game.components(agent)[i][1][v]
                        for i, v in pending.items()
                    }
                    if pending is not None
                    else None
                ),
            }
        )
        return payload

    def teacher_payload(self, session: Session) -> dict[str, Any]:
        """The teacher's dashboard: public figures, who has moved, the controls' state."""
        row, game = session.row, session.game
        sockets = session.sockets
        seats = []
        for agent in game.seats:
            seat = row.seats[agent]
            seats.append(
                {
                    "agent": agent,
                    "human": seat["human"],
                    "bot": seat["bot"],
                    "name": seat["name"],
                    "claimed": seat["claimed"],
                    "connected": bool(sockets.get(agent)),
                    "moved": agent in game.pending,
                    "link": f"/seat/{seat['token']}" if seat["human"] else None,
                }
            )
        report = session.last["report"] if session.last is not None else ""
        payload = {
            "type": "state",
            "game": self._game_header(session),
            "code": row.code,
            "dash": dashboard(game.env),
            "enabler_threshold": float(game.env.scenario.force.enabler_threshold),
            "history": session.history,
            "seats": seats,
            "events": [
                {"before_turn": e["before_turn"], "text": e["text"]} for e in session.events
            ],
            "report": report,
            "revealed": row.revealed,
            "hidden": None,
            "simulated": self.simulations.ready(row.spec),
            "simulations_wanted": self.simulations.wanted,
        }
        if row.revealed and game.summary is not None:
            payload["hidden"] = {
                "us_type": ("disengaged", "conditional", "committed")[int(game.summary["us_type"])],
                "russia_resolve": game.summary["russia_resolve"],
            }
        return payload

    async def broadcast(self, session: Session) -> None:
        """Send every socket of the game its own view."""
        tokens = {agent: session.row.seats[agent]["token"] for agent in session.row.seats}
        for who, sockets in list(session.sockets.items()):
            for ws in list(sockets):
                if who == "teacher":
                    payload = self.teacher_payload(session)
                else:
                    payload = self.seat_payload(session, who, tokens[who])
                await _send(ws, payload)

    async def notify_teacher(self, session: Session) -> None:
        """Send the teacher's sockets of the game a fresh dashboard (a seat moved or connected)."""
        for ws in list(session.sockets.get("teacher", ())):
            await _send(ws, self.teacher_payload(session))

    # -------------------------------------------------------------- lookups

    def too_many_failures(self, client: str) -> bool:
        """Whether ``client`` has used up its wrong codes and tokens for now."""
        bucket = self.failed_lookups.get(client)
        return bucket is not None and not bucket.peek()

    def failed_lookup(self, client: str) -> None:
        bucket = self.failed_lookups.setdefault(
            client, Bucket(MAX_FAILED_LOOKUPS_PER_MIN / 60.0, MAX_FAILED_LOOKUPS_PER_MIN)
        )
        bucket.take()

    def seat(self, token: str) -> tuple[Session, str] | None:
        found = self.seat_tokens.get(token)
        if found is None:
            return None
        return self.sessions[found[0]], found[1]

    def is_teacher(self, token: str) -> bool:
        return len(token) == len(self.teacher_token) and _same(token, self.teacher_token)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


async def _send(ws: WebSocket, payload: Mapping[str, Any]) -> None:
    with contextlib.suppress(Exception):  # a socket that went away is dropped on its next read
        await ws.send_text(json.dumps(payload, allow_nan=False, default=_json_default))


def _json_default(value: Any) -> Any:
    raise TypeError(f"not JSON: {value!r}")


# ----------------------------------------------------------------------------- HTTP pages


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form body as ``{field: value}`` (the last value of a repeated field).

    The body is at most :data:`MAX_BODY_BYTES` (:class:`BodyLimit`); other content types and
    bodies that are not UTF-8 read as an empty form, which the page then reports as missing.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    try:
        text = (await request.body()).decode("utf-8")
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=200))
    except ValueError:  # not UTF-8, or too many fields
        return {}


def _client(request: Request | WebSocket) -> str:
    return request.client.host if request.client else "unknown"


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates().get_template(name).render(**context), status_code=status)


def _not_found(classroom: Classroom, request: Request, what: str) -> Response:
    classroom.failed_lookup(_client(request))
    return _page("error.html", 404, title="Not found", message=f"No such {what}.")


def _throttled(classroom: Classroom, request: Request) -> Response | None:
    if classroom.too_many_failures(_client(request)):
        return _page(
            "error.html",
            429,
            title="Too many tries",
            message=f"Too many wrong codes or links from this address; at most "
            f"{MAX_FAILED_LOOKUPS_PER_MIN} a minute. Wait a minute and try again.",
        )
    return None


def _bot_choices(classroom: Classroom) -> dict[str, list[dict[str, str]]]:
    choices = {}
    for role in sorted(agents.DEFAULT_BOTS):
        entries = [
            {"id": a, "doctrine": agents.agent_class(a).doctrine}
            for a in agents.list_agents(role=role)
        ]
        entries += [
            {"id": CHECKPOINT_PREFIX + name, "doctrine": f"trained policy from {path}"}
            for name, path in classroom.checkpoints.items()
        ]
        choices[role] = entries
    return choices


def build_routes(classroom: Classroom) -> list:
    """The app's routes, bound to ``classroom``."""

    async def index(request: Request) -> Response:
        return _page("index.html", code=request.query_params.get("code", "")[:12])

    async def join_lookup(request: Request) -> Response:
        form = await _form(request)
        code = str(form.get("code", "")).strip().upper()[:12]
        return RedirectResponse(f"/join/{code or '-'}", status_code=303)

    async def join(request: Request) -> Response:
        if (limited := _throttled(classroom, request)) is not None:
            return limited
        code = request.path_params["code"].strip().upper()
        game_id = classroom.codes.get(code)
        if game_id is None:
            classroom.failed_lookup(_client(request))
            return _page("index.html", 404, code="", error=f"No game has the code {code!r}.")
        session = classroom.sessions[game_id]
        error = None
        if request.method == "POST":
            form = await _form(request)
            agent = str(form.get("seat", ""))
            name = " ".join(str(form.get("name", "")).split())[:_NAME_LIMIT] or None
            seat = session.row.seats.get(agent)
            if session.game.finished:
                error = "This game is over."
            elif seat is None or not seat["human"]:
                free = [a for a, s in session.row.seats.items() if s["human"] and not s["claimed"]]
                error = (
                    f"{agent!r} is not a student's seat; free seats: {', '.join(free) or 'none'}."
                )
            elif seat["claimed"] or not classroom.store.claim_seat(game_id, agent, name):
                error = f"Someone has already taken {agent}; choose another seat."
            else:
                seat["claimed"], seat["name"] = True, name
                await classroom.broadcast(session)
                return RedirectResponse(f"/seat/{seat['token']}", status_code=303)
        free = [
            {"agent": a, "role": agents.role_of(a)}
            for a, s in session.row.seats.items()
            if s["human"] and not s["claimed"]
        ]
        return _page(
            "join.html",
            400 if error else 200,
            code=code,
            title=session.row.spec.title,
            scenario=session.game.env.scenario.title,
            free=free,
            error=error,
            finished=session.game.finished,
        )

    async def seat_page(request: Request) -> Response:
        if (limited := _throttled(classroom, request)) is not None:
            return limited
        token = request.path_params["token"]
        found = classroom.seat(token)
        if found is None:
            return _not_found(classroom, request, "seat link")
        session, agent = found
        seat = session.row.seats[agent]
        if not seat["claimed"] and classroom.store.claim_seat(session.id, agent, None):
            seat["claimed"] = True  # the teacher handed out the link itself
            await classroom.broadcast(session)
        return _page(
            "seat.html",
            token=token,
            agent=agent,
            role=agents.role_of(agent),
            title=session.row.spec.title,
            scenario=session.game.env.scenario.title,
        )

    def _debrief(session: Session, viewer: str | None) -> Response:
        row, game = session.row, session.game
        if not game.finished:
            return _page(
                "error.html",
                409,
                title="Not yet",
                message=f"The debrief opens when the game ends (turn {row.turn} of "
                f"{row.spec.horizon}).",
            )
        classroom.simulations.ensure(row.spec)
        data = debrief.debrief_data(
            spec=row.spec,
            members=game.members,
            components={a: game.components(a) for a in row.spec.humans},
            turns=classroom.store.turns(row.id),
            events=session.events,
            names={a: s["name"] for a, s in row.seats.items()},
            revealed=row.revealed,
            simulations=classroom.simulations.results(row.spec),
            simulations_wanted=classroom.simulations.wanted,
        )
        return _page(
            "debrief.html",
            d=data,
            viewer=viewer,
            title=row.spec.title,
            scenario=game.env.scenario.title,
            horizon=row.spec.horizon,
            seed=row.spec.seed,
            code=row.code,
        )

    def _replay(session: Session) -> Response:
        if not session.game.finished:
            return _page(
                "error.html",
                409,
                title="Not yet",
                message="The replay is ready when the game ends.",
            )
        text = render_replay(classroom_replay(classroom.store, session.id))
        name = f"replay-{session.row.code}.html"
        return HTMLResponse(text, headers={"content-disposition": f'attachment; filename="{name}"'})

    async def seat_debrief(request: Request) -> Response:
        found = classroom.seat(request.path_params["token"])
        if found is None:
            return _not_found(classroom, request, "seat link")
        return _debrief(found[0], found[1])

    async def seat_replay(request: Request) -> Response:
        found = classroom.seat(request.path_params["token"])
        if found is None:
            return _not_found(classroom, request, "seat link")
        return _replay(found[0])

    def _teacher(request: Request) -> bool:
        return classroom.is_teacher(request.path_params["token"])

    def _teacher_session(request: Request) -> Session | None:
        if not _teacher(request):
            return None
        return classroom.sessions.get(request.path_params["game"])

    async def teacher_home(request: Request) -> Response:
        if (limited := _throttled(classroom, request)) is not None:
            return limited
        if not _teacher(request):
            return _not_found(classroom, request, "teacher link")
        games = []
        for session in classroom.sessions.values():
            row = session.row
            games.append(
                {
                    "id": row.id,
                    "code": row.code,
                    "title": row.spec.title,
                    "scenario": row.spec.scenario,
                    "status": row.status,
                    "turn": row.turn,
                    "horizon": row.spec.horizon,
                    "humans": len(row.spec.humans),
                    "broken": session.broken,
                }
            )
        return _page("teacher_home.html", token=request.path_params["token"], games=games,
                     scenarios=classroom.scenarios)  # fmt: skip

    async def new_game(request: Request) -> Response:
        if not _teacher(request):
            return _not_found(classroom, request, "teacher link")
        token = request.path_params["token"]
        if request.method == "GET":
            scenario = request.query_params.get("scenario", classroom.scenarios[0])
            return _new_game_form(token, scenario, {}, None)
        form = await _form(request)
        scenario = str(form.get("scenario", ""))
        seats = _seat_ids(scenario)
        try:
            spec = make_spec(
                scenario=scenario,
                horizon=form.get("horizon", ""),
                turn_seconds=form.get("turn_seconds", ""),
                seed=form.get("seed", ""),
                humans=[s for s in seats if form.get(f"human_{s}") == "on"],
                bots={s: str(form.get(f"bot_{s}", "")) for s in seats},
                title=str(form.get("title", "")),
                scenarios=classroom.scenarios,
                checkpoints=classroom.checkpoints,
            )
            session = classroom.create_game(spec)
        except (ValueError, FileNotFoundError) as err:
            return _new_game_form(token, scenario, dict(form), str(err), status=400)
        return RedirectResponse(f"/teacher/{token}/game/{session.id}", status_code=303)

    def _new_game_form(
        token: str, scenario: str, values: Mapping[str, Any], error: str | None, status: int = 200
    ) -> Response:
        if scenario not in classroom.scenarios:
            error = (
                f"scenario {scenario!r} is not offered; scenarios: {', '.join(classroom.scenarios)}"
            )
            scenario = classroom.scenarios[0]
            status = 400
        loaded = load_scenario(scenario)
        seats = [
            {
                "agent": s,
                "role": agents.role_of(s),
                "default": agents.DEFAULT_BOTS[agents.role_of(s)],
            }
            for s in _seat_ids(scenario)
        ]
        return _page(
            "new_game.html",
            status,
            token=token,
            scenario=scenario,
            scenario_title=loaded.title,
            horizon=loaded.horizon,
            seats=seats,
            bots=_bot_choices(classroom),
            values=values,
            default_seed=secrets.randbelow(1_000_000),
            error=error,
            scenarios=classroom.scenarios,
        )

    async def teacher_game(request: Request) -> Response:
        session = _teacher_session(request)
        if session is None:
            return _not_found(classroom, request, "game")
        members = list(session.game.members)
        voters = [m.id for m in session.game.env.scenario.members if m.parliament_vote]
        return _page(
            "teacher_game.html",
            token=request.path_params["token"],
            game_id=session.id,
            code=session.row.code,
            title=session.row.spec.title,
            scenario=session.game.env.scenario.title,
            events=EVENTS,
            members=members,
            voters=voters,
        )

    async def teacher_debrief(request: Request) -> Response:
        session = _teacher_session(request)
        if session is None:
            return _not_found(classroom, request, "game")
        return _debrief(session, "teacher")

    async def teacher_replay(request: Request) -> Response:
        session = _teacher_session(request)
        if session is None:
            return _not_found(classroom, request, "game")
        return _replay(session)

    async def websocket(ws: WebSocket) -> None:
        await SocketHandler(classroom, ws).run()

    static = StaticFiles(packages=[("reassurance.classroom", "static")])
    return [
        Route("/", index),
        Route("/join", join_lookup, methods=["POST"]),
        Route("/join/{code}", join, methods=["GET", "POST"]),
        Route("/seat/{token}", seat_page),
        Route("/seat/{token}/debrief", seat_debrief),
        Route("/seat/{token}/replay.html", seat_replay),
        Route("/teacher/{token}", teacher_home),
        Route("/teacher/{token}/new", new_game, methods=["GET", "POST"]),
        Route("/teacher/{token}/game/{game}", teacher_game),
        Route("/teacher/{token}/game/{game}/debrief", teacher_debrief),
        Route("/teacher/{token}/game/{game}/replay.html", teacher_replay),
        WebSocketRoute("/ws", websocket),
        Mount("/static", app=static, name="static"),
    ]


def _seat_ids(scenario: str) -> list[str]:
    try:
        loaded = load_scenario(scenario)
    except ValueError:
        return []
    return ["usa", *(m.id for m in loaded.members), "ukraine", "russia"]


# ----------------------------------------------------------------------------- WebSocket


_TEACHER_ACTIONS = ("pause", "resume", "extend", "end_turn", "inject", "reveal")
_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "hello": {"token": str, "game": str},
    "move": {"token": str, "turn": int, "nonce": str, "move": dict},
    "pause": {"token": str},
    "resume": {"token": str},
    "extend": {"token": str, "seconds": int},
    "end_turn": {"token": str},
    "inject": {"token": str, "event": str, "params": dict},
    "reveal": {"token": str},
}
_OPTIONAL = {"hello": {"game"}}


class ProtocolError(ValueError):
    """A message the app refuses; the text goes back to the sender as one ``error``."""


def check_message(text: str) -> dict[str, Any]:
    """Parse and validate one client message; raise :class:`ProtocolError` with what is wrong."""
    size = len(text.encode())
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message too large: {size:,} bytes; at most {MAX_MESSAGE_BYTES:,}")
    try:
        message = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProtocolError(f"message is not JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message is a JSON object, got {type(message).__name__}")
    kind = message.get("type")
    if kind not in _FIELDS:
        raise ProtocolError(f"unknown message type {kind!r}; types: {', '.join(_FIELDS)}")
    fields = _FIELDS[kind]
    extra = sorted(set(message) - set(fields) - {"type"})
    if extra:
        raise ProtocolError(f"{kind}: unknown fields {extra}; it takes {sorted(fields)}")
    for name, expected in fields.items():
        if name not in message:
            if name in _OPTIONAL.get(kind, ()):
                continue
            raise ProtocolError(f"{kind}: missing field {name!r}")
        value = message[name]
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ProtocolError(
                f"{kind}: field {name!r} must be {getattr(expected, '__name__', expected)}, "
                f"got {type(value).__name__}"
            )
    if "nonce" in message and not 1 <= len(message["nonce"]) <= _NONCE_LIMIT:
        raise ProtocolError(f"move: nonce must have 1..{_NONCE_LIMIT} characters")
    return message


class SocketHandler:
    """One WebSocket connection: authenticate, then handle messages until it closes."""

    def __init__(self, classroom: Classroom, ws: WebSocket) -> None:
        self.classroom = classroom
        self.ws = ws
        self.bucket = Bucket(RATE_PER_S, RATE_BURST)
        self.token: str | None = None
        self.session: Session | None = None
        self.who: str | None = None  # "teacher" or the seat's agent id
        self.refused = 0

    async def run(self) -> None:
        await self.ws.accept()
        try:
            while True:
                timeout = HELLO_TIMEOUT_S if self.who is None else None
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout)
                except TimeoutError:
                    await self.ws.close(code=1008, reason="no hello")
                    return
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    await self.error("send text messages (JSON), not binary")
                    continue
                if not self.bucket.take():
                    self.refused += 1
                    if self.refused > 100:
                        await self.ws.close(code=1008, reason="too many messages")
                        return
                    await self.error(f"too many messages: at most {RATE_PER_S:g} a second")
                    continue
                try:
                    await self.handle(check_message(text))
                except (ProtocolError, MoveError, ValueError) as err:
                    await self.error(str(err))
        except WebSocketDisconnect:
            return
        finally:
            self.leave()
            if self.session is not None and self.who not in (None, "teacher"):
                await self.classroom.notify_teacher(self.session)  # the seat went offline

    async def error(self, message: str) -> None:
        await _send(self.ws, {"type": "error", "message": message})

    def leave(self) -> None:
        if self.session is not None and self.who is not None:
            self.session.sockets.get(self.who, set()).discard(self.ws)

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        classroom = self.classroom
        if kind == "hello":
            if self.who is not None:
                raise ProtocolError("hello: this connection is already open for " + self.who)
            await self.hello(message)
            return
        if self.who is None or self.session is None:
            raise ProtocolError("say hello with your token first")
        token = message["token"]
        if token != self.token:
            raise ProtocolError("token does not match this connection's seat")
        # Checked again on every message: a token the server no longer knows acts for nobody.
        if self.who == "teacher":
            if not classroom.is_teacher(token):
                raise ProtocolError("unknown teacher token")
            if kind == "move":
                raise ProtocolError("the teacher does not move; students do")
            await self.teacher_action(kind, message)
            return
        found = classroom.seat(token)
        if found is None or found[0] is not self.session or found[1] != self.who:
            raise ProtocolError("unknown seat token")
        if kind != "move":
            raise ProtocolError(f"{kind} is for the teacher; a seat may only move")
        await self.move(message)

    async def hello(self, message: dict[str, Any]) -> None:
        classroom = self.classroom
        client = _client(self.ws)
        if classroom.too_many_failures(client):
            await self.ws.close(code=1008, reason="too many wrong tokens")
            return
        token = message["token"]
        if classroom.is_teacher(token):
            session = classroom.sessions.get(message.get("game", ""))
            if session is None:
                classroom.failed_lookup(client)
                raise ProtocolError(f"hello: no game {message.get('game')!r}")
            who = "teacher"
        else:
            found = classroom.seat(token)
            if found is None:
                classroom.failed_lookup(client)
                raise ProtocolError("hello: unknown token")
            if "game" in message and message["game"] != found[0].id:
                raise ProtocolError("hello: this seat belongs to another game")
            session, who = found
        self.token, self.session, self.who = token, session, who
        session.sockets.setdefault(who, set()).add(self.ws)
        await self.send_state()
        if who != "teacher":
            await classroom.notify_teacher(session)

    async def send_state(self) -> None:
        assert self.session is not None and self.who is not None
        if self.who == "teacher":
            payload = self.classroom.teacher_payload(self.session)
        else:
            payload = self.classroom.seat_payload(self.session, self.who, self.token or "")
        await _send(self.ws, payload)

    async def move(self, message: dict[str, Any]) -> None:
        classroom, session, agent = self.classroom, self.session, self.who
        assert session is not None and agent is not None
        row, game = session.row, session.game
        turn = row.turn + 1
        nonce = message["nonce"]
        if game.finished:
            raise ProtocolError("the game is over")
        if message["turn"] != turn:
            raise ProtocolError(f"move for turn {message['turn']}, but the open turn is {turn}")
        if session.nonces.get(agent) == nonce:  # a resent move: acknowledge, record nothing
            await self.ack(turn, nonce)
            return
        if row.status == "paused":
            raise ProtocolError("the game is paused; wait for the teacher to resume it")
        chosen = game.check_move(agent, message["move"])
        classroom.store.save_move(row.id, turn, agent, chosen, nonce)
        game.pending[agent] = chosen
        session.nonces[agent] = nonce
        await self.ack(turn, nonce)
        if not game.waiting_for():
            await classroom.resolve(session)
        else:
            await classroom.notify_teacher(session)

    async def ack(self, turn: int, nonce: str) -> None:
        assert self.session is not None and self.who is not None
        game = self.session.game
        chosen = game.pending.get(self.who, {})
        components = game.components(self.who)
        move = {components[i][0]: components[i][1][v] for i, v in chosen.items()}
        await _send(self.ws, {"type": "ack", "turn": turn, "nonce": nonce, "move": move})

    async def teacher_action(self, kind: str, message: dict[str, Any]) -> None:
        classroom, session = self.classroom, self.session
        assert session is not None
        row, game = session.row, session.game
        now = classroom.clock()
        if kind == "reveal":
            if not game.finished:
                raise ProtocolError("reveal: the hidden types are revealed when the game has ended")
            classroom.store.set_revealed(row.id)
            row.revealed = True
        elif game.finished:
            raise ProtocolError(f"{kind}: the game is over")
        elif kind == "pause":
            if row.status != "running":
                raise ProtocolError("pause: the game is not running")
            remaining = max(0.0, (row.deadline or now) - now)
            classroom.store.set_timer(row.id, "paused", None, remaining)
            row.status, row.deadline, row.remaining_s = "paused", None, remaining
        elif kind == "resume":
            if row.status != "paused":
                raise ProtocolError("resume: the game is not paused")
            deadline = now + (row.remaining_s or 0.0)
            classroom.store.set_timer(row.id, "running", deadline, None)
            row.status, row.deadline, row.remaining_s = "running", deadline, None
        elif kind == "extend":
            seconds = message["seconds"]
            if not 1 <= seconds <= MAX_EXTEND_S:
                raise ProtocolError(
                    f"extend: seconds {seconds} out of range; allowed: 1..{MAX_EXTEND_S}"
                )
            if row.status == "running":
                row.deadline = (row.deadline or now) + seconds
            else:
                row.remaining_s = (row.remaining_s or 0.0) + seconds
            classroom.store.set_timer(row.id, row.status, row.deadline, row.remaining_s)
        elif kind == "end_turn":
            await classroom.resolve(session)
            return
        elif kind == "inject":
            record = game.inject(message["event"], message["params"])
            classroom.store.save_event(row.id, record)
            session.events.append(record)
        await classroom.broadcast(session)


# ----------------------------------------------------------------------------- the app


def create_app(classroom: Classroom) -> Starlette:
    """The ASGI app serving ``classroom`` (start and stop run with the app's lifespan)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await classroom.start()
        try:
            yield
        finally:
            await classroom.stop()

    app = Starlette(routes=build_routes(classroom), lifespan=lifespan)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.state.classroom = classroom
    return app
