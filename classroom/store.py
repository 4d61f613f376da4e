"""The classroom database: one SQLite file holds every game, so a restarted server resumes them.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`):

``meta``
    ``key``, ``value``: the teacher's token (made on first start).
``games``
    one row per game: ``id``, ``code`` (the join code), ``spec_json`` (:class:`GameSpec`),
    ``status`` (running, paused, finished), ``turn`` (turns resolved), ``deadline`` (Unix
    time the open turn ends, NULL while paused or finished), ``remaining_s`` (seconds left
    when paused), ``revealed`` (hidden types shown), ``created_at``.
``seats``
    one row per seat: ``token`` (unguessable, the seat link), ``human``, ``bot``,
    ``name`` (the student's display name, user text), ``claimed_at``.
``moves``
    one row per human seat and turn, ``(game, turn, agent)``: the seat's move this turn
    (component index -> value), ``nonce`` (the client's id for the move, so a resent move is
    recognised), ``submitted_at``. A new move in the same turn replaces the row.
``turns``
    one row per resolved turn: every column of :meth:`TurnRecord.to_row` and ``resolved_at``.
``events``
    one row per injected event: ``seq``, ``before_turn``, ``kind``, ``params_json``, ``text``.
``simulations``
    the debrief's simulated games, ``(key, chunk)`` -> the episode summaries of a chunk of
    seeds (see :mod:`classroom.debrief`).

Every write is one transaction; a turn's row and the game's new ``turn``/``status`` commit
together, before the web app announces the turn. Journal in WAL mode with ``synchronous=FULL``,
so a committed turn survives a crash of the process or the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reassurance.classroom.engine import GameSpec, TurnRecord

__all__ = ["SCHEMA_VERSION", "GameRow", "Store", "new_token", "new_code"]

SCHEMA_VERSION = 1
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_CODE_LENGTH = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    spec_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'finished')),
    turn INTEGER NOT NULL,
    deadline REAL,
    remaining_s REAL,
    revealed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    game TEXT NOT NULL REFERENCES games(id),
    agent TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    human INTEGER NOT NULL,
    bot TEXT NOT NULL,
    name TEXT,
    claimed_at TEXT,
    PRIMARY KEY (game, agent)
);
CREATE TABLE IF NOT EXISTS moves (
    game TEXT NOT NULL REFERENCES games(id),
    turn INTEGER NOT NULL,
    agent TEXT NOT NULL,
    move_json TEXT NOT NULL,
    nonce TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (game, turn, agent)
);
CREATE TABLE IF NOT EXISTS turns (
    game TEXT NOT NULL REFERENCES games(id),
    turn INTEGER NOT NULL,
    moves_json TEXT NOT NULL,
    timed_out_json TEXT NOT NULL,
    actions_json TEXT NOT NULL,
    executed_json TEXT NOT NULL,
    shadow_json TEXT NOT NULL,
    rewards_json TEXT NOT NULL,
    infos_json TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    report TEXT NOT NULL,
    state_json TEXT NOT NULL,
    dash_json TEXT NOT NULL,
    orders_json TEXT NOT NULL,
    resolved_at TEXT NOT NULL,
    PRIMARY KEY (game, turn)
);
CREATE TABLE IF NOT EXISTS events (
    game TEXT NOT NULL REFERENCES games(id),
    seq INTEGER NOT NULL,
    before_turn INTEGER NOT NULL,
    kind TEXT NOT NULL,
    params_json TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (game, seq)
);
CREATE TABLE IF NOT EXISTS simulations (
    key TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    summaries_json TEXT NOT NULL,
    PRIMARY KEY (key, chunk)
);
"""


def new_token() -> str:
    """An unguessable token: 144 random bits, URL-safe (24 characters)."""
    return secrets.token_urlsafe(18)


def new_code() -> str:
    """A join code a student can type: 6 characters without look-alikes (about 10^9 codes)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class GameRow:
    """A game's row with its seats: ``seats`` maps agent -> dict(token, human, bot, name)."""

    id: str
    code: str
    spec: GameSpec
    status: str
    turn: int
    deadline: float | None
    remaining_s: float | None
    revealed: bool
    created_at: str
    seats: dict[str, dict[str, Any]]


class Store:
    """The classroom's SQLite file; one connection, used from the web app's event loop."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise ValueError(f"--db {self.path} is not a file")
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise ValueError(f"--db {self.path} is not a SQLite file ({err})") from None
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if version == 0 and tables - {"sqlite_sequence"}:
            self.conn.close()
            raise ValueError(f"--db {self.path} is another program's database; use a new file")
        if version not in (0, SCHEMA_VERSION):
            self.conn.close()
            raise ValueError(
                f"--db {self.path} has schema {version}; this version reads {SCHEMA_VERSION}"
            )
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(_SCHEMA)
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -------------------------------------------------------------- meta

    def teacher_token(self) -> str:
        """The teacher's token, made on first use and kept in the file."""
        with self._tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'teacher_token'").fetchone()
            if row:
                return row[0]
            token = new_token()
            c.execute("INSERT INTO meta VALUES ('teacher_token', ?)", (token,))
            return token

    # -------------------------------------------------------------- games

    def create_game(self, spec: GameSpec) -> GameRow:
        """Insert a new game with a fresh id, join code and seat tokens.

        A new game waits, paused, with a full first turn, until the teacher starts it.
        """
        with self._tx() as c:
            while True:
                code = new_code()
                if not c.execute("SELECT 1 FROM games WHERE code = ?", (code,)).fetchone():
                    break
            game_id = secrets.token_hex(6)
            c.execute(
                "INSERT INTO games VALUES (?, ?, ?, 'paused', 0, NULL, ?, 0, ?)",
                (game_id, code, json.dumps(spec.to_json()), float(spec.turn_seconds), _now()),
            )
            for agent, bot in spec.bots.items():
                c.execute(
                    "INSERT INTO seats VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                    (game_id, agent, new_token(), int(agent in spec.humans), bot),
                )
        return self.game(game_id)

    def game(self, game_id: str) -> GameRow:
        row = self.conn.execute(
            "SELECT id, code, spec_json, status, turn, deadline, remaining_s, revealed, "
            "created_at FROM games WHERE id = ?",
            (game_id,),
        ).fetchone()
        if row is None:
            raise KeyError(game_id)
        seats = {
            agent: {"token": token, "human": bool(human), "bot": bot, "name": name,
                    "claimed": claimed is not None}
            for agent, token, human, bot, name, claimed in self.conn.execute(
                "SELECT agent, token, human, bot, name, claimed_at FROM seats WHERE game = ?",
                (game_id,),
            )
        }  # fmt: skip
        return GameRow(
            id=row[0],
            code=row[1],
            spec=GameSpec.from_json(json.loads(row[2])),
            status=row[3],
            turn=row[4],
            deadline=row[5],
            remaining_s=row[6],
            revealed=bool(row[7]),
            created_at=row[8],
            seats=seats,
        )

    def game_ids(self) -> list[str]:
        """Every game, oldest first."""
        return [r[0] for r in self.conn.execute("SELECT id FROM games ORDER BY created_at, id")]

    def set_timer(
        self, game_id: str, status: str, deadline: float | None, remaining_s: float | None
    ) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE games SET status = ?, deadline = ?, remaining_s = ? WHERE id = ?",
                (status, deadline, remaining_s, game_id),
            )

    def set_revealed(self, game_id: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE games SET revealed = 1 WHERE id = ?", (game_id,))

    def claim_seat(self, game_id: str, agent: str, name: str | None) -> bool:
        """Mark a free human seat as taken; False if someone took it first."""
        with self._tx() as c:
            cursor = c.execute(
                "UPDATE seats SET claimed_at = ?, name = ? WHERE game = ? AND agent = ? "
                "AND human = 1 AND claimed_at IS NULL",
                (_now(), name, game_id, agent),
            )
            return cursor.rowcount == 1

    # -------------------------------------------------------------- moves and turns

    def save_move(
        self, game_id: str, turn: int, agent: str, move: Mapping[int, int], nonce: str
    ) -> None:
        """Record (or replace) a seat's move of the open turn ``turn`` (1-based)."""
        with self._tx() as c:
            c.execute(
                "INSERT INTO moves VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (game, turn, agent) "
                "DO UPDATE SET move_json = excluded.move_json, nonce = excluded.nonce, "
                "submitted_at = excluded.submitted_at",
                (game_id, turn, agent, json.dumps({str(k): v for k, v in move.items()}), nonce,
                 _now()),
            )  # fmt: skip

    def move_nonce(self, game_id: str, turn: int, agent: str) -> str | None:
        row = self.conn.execute(
            "SELECT nonce FROM moves WHERE game = ? AND turn = ? AND agent = ?",
            (game_id, turn, agent),
        ).fetchone()
        return row[0] if row else None

    def pending_moves(self, game_id: str, turn: int) -> dict[str, dict[int, int]]:
        """The moves recorded for the open turn ``turn``."""
        return {
            agent: {int(k): int(v) for k, v in json.loads(move).items()}
            for agent, move in self.conn.execute(
                "SELECT agent, move_json FROM moves WHERE game = ? AND turn = ?", (game_id, turn)
            )
        }

    def save_turn(
        self,
        game_id: str,
        record: TurnRecord,
        status: str,
        deadline: float | None,
        remaining_s: float | None,
    ) -> None:
        """Commit a resolved turn with the game's new turn count, status and timer."""
        row = record.to_row()
        with self._tx() as c:
            c.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    game_id, record.turn, row["moves_json"], row["timed_out_json"],
                    row["actions_json"], row["executed_json"], row["shadow_json"],
                    row["rewards_json"], row["infos_json"], row["summary_json"], row["report"],
                    row["state_json"], row["dash_json"], row["orders_json"], _now(),
                ),
            )  # fmt: skip
            c.execute(
                "UPDATE games SET turn = ?, status = ?, deadline = ?, remaining_s = ? WHERE id = ?",
                (record.turn, status, deadline, remaining_s, game_id),
            )

    def turns(self, game_id: str) -> list[dict[str, Any]]:
        """Every resolved turn of a game, in order, with its JSON columns decoded."""
        out = []
        for row in self.conn.execute(
            "SELECT turn, moves_json, timed_out_json, actions_json, executed_json, shadow_json, "
            "rewards_json, infos_json, summary_json, report, state_json, dash_json, orders_json, "
            "resolved_at FROM turns WHERE game = ? ORDER BY turn",
            (game_id,),
        ):
            moves = json.loads(row[1])
            out.append(
                {
                    "turn": row[0],
                    "moves": {a: {int(k): v for k, v in m.items()} for a, m in moves.items()},
                    "timed_out": json.loads(row[2]),
                    "actions": json.loads(row[3]),
                    "executed": json.loads(row[4]),
                    "shadow": json.loads(row[5]),
                    "rewards": json.loads(row[6]),
                    "infos": json.loads(row[7]),
                    "summary": json.loads(row[8]),
                    "report": row[9],
                    "state": json.loads(row[10]),
                    "dash": json.loads(row[11]),
                    "orders": json.loads(row[12]),
                    "resolved_at": row[13],
                }
            )
        return out

    # -------------------------------------------------------------- events

    def save_event(self, game_id: str, record: Mapping[str, Any]) -> None:
        with self._tx() as c:
            seq = c.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE game = ?", (game_id,)
            ).fetchone()[0]
            c.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (game_id, seq, record["before_turn"], record["kind"],
                 json.dumps(record["params"]), record["text"], _now()),
            )  # fmt: skip

    def events(self, game_id: str) -> list[dict[str, Any]]:
        return [
            {"seq": seq, "before_turn": before, "kind": kind, "params": json.loads(params),
             "text": text}
            for seq, before, kind, params, text in self.conn.execute(
                "SELECT seq, before_turn, kind, params_json, text FROM events WHERE game = ? "
                "ORDER BY seq",
                (game_id,),
            )
        ]  # fmt: skip

    # -------------------------------------------------------------- simulations

    def simulation_chunks(self, key: str) -> dict[int, list[dict[str, Any]]]:
        return {
            chunk: json.loads(text)
            for chunk, text in self.conn.execute(
                "SELECT chunk, summaries_json FROM simulations WHERE key = ?", (key,)
            )
        }

    def simulation_chunk_ids(self, key: str) -> set[int]:
        """The chunks of simulated games stored under ``key``."""
        return {
            r[0] for r in self.conn.execute("SELECT chunk FROM simulations WHERE key = ?", (key,))
        }

    def save_simulation_chunk(self, key: str, chunk: int, summaries: list[dict[str, Any]]) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO simulations VALUES (?, ?, ?)",
                (key, chunk, json.dumps(summaries)),
            )
