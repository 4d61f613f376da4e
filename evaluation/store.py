"""The results database: one SQLite file, one row per match and one per agent seat.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`):

``tournaments``
    one row per tournament: ``name``, ``config_hash`` (the plan's identity), ``config_json``,
    ``scenario_id``, ``scenario_hash``, ``scenario_json`` (the full resolved scenario),
    ``code_version`` (package version + hash of the game's code,
    :func:`reassurance.runtime.code_version`), ``population_json`` (labels, agent ids, full
    parameters, checkpoint paths and hashes), ``mixes_json`` (the coalition mixes: label, kind
    and member agent -> policy label), ``planned_matches``, ``created_at``.
``matches``
    one row per finished match, key ``(tournament, match_key)``: ``assignment`` (index of the
    seat assignment in the cartesian product of the coalition mixes and the other roles'
    populations), ``seed``, ``scenario_id``, ``scenario_hash``, ``code_version``,
    ``lineup_json`` (role -> label; for ``member`` the coalition mix), ``steps``,
    ``returns_json`` (agent -> summed reward), ``summary_json`` (the env's episode summary,
    NaN as null), ``wall_s`` (seconds of play: a batch's time shared equally by its matches),
    ``played_at`` (UTC, ISO 8601).
``seats``
    one row per agent of each match, key ``(tournament, match_key, agent)``: ``role``,
    ``policy`` (label of the policy that played this seat), ``agent_id`` (registered id or
    ``checkpoint``), ``params_json`` (full parameters), ``checkpoint``, ``checkpoint_hash``,
    ``module_id``, ``return`` (summed reward).
``metrics``
    every numeric figure of the episode summary, long format, key ``(tournament, match_key,
    metric)``; ``value`` is NULL where the summary has NaN (e.g. conversion with no pledges).

The matches of a batch, with all their seat and metric rows, are written in one transaction, so
a process killed at any moment (``kill -9`` included) leaves whole matches or none; a rerun
finds the finished keys and plays only the others. A file of an older schema is refused with
one line (schema 1 named the code hash ``env_version`` and had no mixes).

Opening an existing database runs SQLite's ``PRAGMA quick_check`` and refuses a damaged file
(overwritten pages, a truncated copy) with one line, instead of reading a partial set of
finished keys or rows. The check reads the whole file once, in time linear in its size: about
25 ms for the 16 MB of ``classroom-heuristics`` and 0.6 s for 500 MB, with the file in the page
cache. (``integrity_check`` also compares every index with its table: about 1.5 times as long.)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reassurance.evaluation.config import ROLES, MatchSpec, Plan
from reassurance.evaluation.hashing import canonical, canonical_json

__all__ = [
    "SCHEMA_VERSION",
    "MatchOutcome",
    "StoredTournament",
    "connect",
    "finished_keys",
    "list_tournaments",
    "read_tournament",
    "register_tournament",
    "table_rows",
    "write_match",
    "write_matches",
]

SCHEMA_VERSION = 2
"""2: ``env_version`` renamed ``code_version`` (it is a hash of the code, not the env's
version), ``tournaments.mixes_json`` added, a seat's policy may differ between members."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tournaments (
    name TEXT PRIMARY KEY,
    config_hash TEXT NOT NULL,
    config_json TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    code_version TEXT NOT NULL,
    population_json TEXT NOT NULL,
    mixes_json TEXT NOT NULL,
    planned_matches INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    tournament TEXT NOT NULL REFERENCES tournaments(name),
    match_key TEXT NOT NULL,
    assignment INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    code_version TEXT NOT NULL,
    lineup_json TEXT NOT NULL,
    steps INTEGER NOT NULL,
    returns_json TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    wall_s REAL NOT NULL,
    played_at TEXT NOT NULL,
    PRIMARY KEY (tournament, match_key)
);
CREATE TABLE IF NOT EXISTS seats (
    tournament TEXT NOT NULL,
    match_key TEXT NOT NULL,
    agent TEXT NOT NULL,
    role TEXT NOT NULL,
    policy TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    params_json TEXT NOT NULL,
    checkpoint TEXT,
    checkpoint_hash TEXT,
    module_id TEXT,
    return REAL NOT NULL,
    PRIMARY KEY (tournament, match_key, agent),
    FOREIGN KEY (tournament, match_key) REFERENCES matches(tournament, match_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (
    tournament TEXT NOT NULL,
    match_key TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (tournament, match_key, metric),
    FOREIGN KEY (tournament, match_key) REFERENCES matches(tournament, match_key)
) WITHOUT ROWID;
"""

_BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class MatchOutcome:
    """What a worker sends back for one match.

    ``returns``: agent -> summed reward (reward units of GAME.md); ``summary``: the episode
    summary; ``wall_s``: seconds spent playing it.
    """

    key: str
    returns: dict[str, float]
    summary: dict[str, Any]
    steps: int
    wall_s: float


@dataclass(frozen=True)
class StoredTournament:
    """A tournament as read back from the database, matches in (assignment, seed) order.

    Each match is a dict with ``key``, ``assignment``, ``seed``, ``lineup`` (role -> label; for
    ``member`` the coalition mix), ``seats`` (agent -> label of the policy that played it),
    ``returns`` (agent -> float), ``summary`` (NaN restored) and ``steps``. ``mixes`` lists the
    coalition mixes: ``label``, ``kind`` and ``seats`` (member agent -> policy label).
    """

    name: str
    config: dict[str, Any]
    config_hash: str
    scenario_id: str
    scenario_hash: str
    code_version: str
    population: dict[str, list[dict[str, Any]]]
    mixes: list[dict[str, Any]]
    planned_matches: int
    created_at: str
    matches: list[dict[str, Any]]

    def strategies(self, role: str) -> list[str]:
        """The labels of the schedule's axis for ``role``: mixes for members, else policies."""
        if role == "member":
            return [mix["label"] for mix in self.mixes]
        return [entry["label"] for entry in self.population[role]]

    @property
    def mixed(self) -> bool:
        """Whether some coalition mix seats more than one member policy."""
        return any(len(set(mix["seats"].values())) > 1 for mix in self.mixes)


def connect(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and with ``create`` make) the results database at ``path``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"results database {path} is a folder; name a file (made if missing)")
    if not create and not path.is_file():
        raise FileNotFoundError(f"results database {path} does not exist")
    if create:
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"results database {path}: {parent} is a file, not a folder")
                break
        path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.is_file() and path.stat().st_size > 0
    try:
        conn = sqlite3.connect(str(path), timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error as err:
        raise ValueError(f"cannot open results database {path} ({err})") from None
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        conn.close()
        raise ValueError(f"{path} is not a SQLite results database ({err})") from None
    if existed:
        try:
            _check_intact(conn, path)
        except ValueError:
            conn.close()
            raise
    if create and version == 0:
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    elif existed or not create:
        try:
            _check_schema(conn, path)
        except ValueError:
            conn.close()
            raise
    return conn


def _check_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged database file: SQLite's quick_check, first problem only."""
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as err:  # some damage stops the check itself
        rows = [(str(err),)]
    if rows != [("ok",)]:
        problem = " ".join(str(rows[0][0]).replace("*** in database main ***", "").split())
        raise ValueError(
            f"results database {path} is damaged (SQLite quick_check: {problem}); restore it "
            "from a copy, or play the tournament again into a new --db"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _population_record(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    return {
        role: [
            {"label": p.label, "checkpoint": p.checkpoint, **p.identity()}
            for p in plan.population[role]
        ]
        for role in ROLES
    }


def register_tournament(conn: sqlite3.Connection, plan: Plan) -> bool:
    """Record the tournament once; ``True`` if it is new.

    A database already holding a tournament of the same name with another plan (config,
    scenario content, code version or checkpoint files changed) is an error: results of two
    different experiments never mix under one name.
    """
    row = conn.execute(
        "SELECT config_hash, scenario_hash, code_version FROM tournaments WHERE name = ?",
        (plan.name,),
    ).fetchone()
    if row is not None:
        stored_hash, stored_scenario, stored_version = row
        if stored_hash == plan.config_hash:
            return False
        reasons = []
        if stored_scenario != plan.scenario_hash:
            reasons.append(f"scenario content {stored_scenario[:12]} -> {plan.scenario_hash[:12]}")
        if stored_version != plan.code_version:
            reasons.append(f"code version {stored_version} -> {plan.code_version}")
        reasons = reasons or ["the config (population, mixes, schedule, seeds or analysis) changed"]
        raise ValueError(
            f"the database already holds tournament {plan.name!r} with another plan "
            f"({'; '.join(reasons)}); use a new --db or give the config another name"
        )
    with conn:
        inserted = conn.execute(
            "INSERT OR IGNORE INTO tournaments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                plan.name,
                plan.config_hash,
                canonical_json(plan.config.model_dump(mode="json")),
                plan.scenario.id,
                plan.scenario_hash,
                canonical_json(plan.scenario.model_dump(mode="json")),
                plan.code_version,
                canonical_json(_population_record(plan)),
                canonical_json(
                    [{"label": m.label, "kind": m.kind, "seats": m.seats} for m in plan.mixes]
                ),
                len(plan.matches),
                _now(),
            ),
        ).rowcount
    if not inserted:  # another process registered it between our check and insert
        return register_tournament(conn, plan)
    return True


def finished_keys(conn: sqlite3.Connection, tournament: str) -> set[str]:
    """Keys of the matches of ``tournament`` already in the database."""
    rows = conn.execute("SELECT match_key FROM matches WHERE tournament = ?", (tournament,))
    return {key for (key,) in rows}


def _metric_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) or hasattr(value, "item"):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def write_matches(
    conn: sqlite3.Connection, plan: Plan, finished: Iterable[tuple[MatchSpec, MatchOutcome]]
) -> int:
    """Write finished matches, each with its seat and metric rows, in one transaction.

    Returns how many were new; a match already there (e.g. written by a second process running
    the same tournament) is skipped, its rows untouched.
    """
    written = 0
    with conn:
        for spec, outcome in finished:
            written += _insert_match(conn, plan, spec, outcome)
    return written


def write_match(
    conn: sqlite3.Connection, plan: Plan, spec: MatchSpec, outcome: MatchOutcome
) -> bool:
    """Write one finished match (see :func:`write_matches`); ``False`` if it was there."""
    return write_matches(conn, plan, [(spec, outcome)]) == 1


def _insert_match(
    conn: sqlite3.Connection, plan: Plan, spec: MatchSpec, outcome: MatchOutcome
) -> bool:
    if set(outcome.returns) != set(spec.seats):
        raise ValueError(
            f"match {spec.key[:12]}: returns for {sorted(outcome.returns)} but the plan seats "
            f"{sorted(spec.seats)}"
        )
    inserted = conn.execute(
        "INSERT OR IGNORE INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            plan.name,
            spec.key,
            spec.assignment,
            spec.seed,
            plan.scenario.id,
            plan.scenario_hash,
            plan.code_version,
            canonical_json(spec.lineup),
            outcome.steps,
            canonical_json(outcome.returns),
            canonical_json(canonical(outcome.summary)),
            float(outcome.wall_s),
            _now(),
        ),
    ).rowcount
    if not inserted:
        return False
    seat_rows = [
        (
            plan.name,
            spec.key,
            agent,
            policy.role,
            policy.label,
            policy.agent,
            canonical_json(policy.params),
            policy.checkpoint,
            policy.checkpoint_hash,
            policy.module_id,
            float(outcome.returns[agent]),
        )
        for agent, policy in spec.seats.items()
    ]
    conn.executemany("INSERT INTO seats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", seat_rows)
    conn.executemany(
        "INSERT INTO metrics VALUES (?, ?, ?, ?)",
        [
            (plan.name, spec.key, name, _metric_value(value))
            for name, value in outcome.summary.items()
            if _metric_value(value) is not None or _is_nan(value)
        ],
    )
    return True


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def list_tournaments(path: str | Path) -> list[str]:
    """Names of the tournaments in a results database, oldest first."""
    with closing(connect(path, create=False)) as conn:
        return _tournament_names(conn, path)


def _tournament_names(conn: sqlite3.Connection, path: str | Path) -> list[str]:
    _check_schema(conn, path)
    rows = conn.execute("SELECT name FROM tournaments ORDER BY created_at, name")
    return [name for (name,) in rows]


def _check_schema(conn: sqlite3.Connection, path: str | Path) -> None:
    """Refuse a file of another schema with one line saying what to do."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if 0 < version < SCHEMA_VERSION:
        raise ValueError(
            f"{path} holds results of schema {version}, written by an older reassurance; this "
            f"version reads schema {SCHEMA_VERSION} (code_version, coalition mixes): play the "
            "tournament again into a new --db"
        )
    raise ValueError(
        f"{path} is not a results database of schema {SCHEMA_VERSION} (user_version {version})"
    )


def _restore_nan(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (math.nan if v is None else v) for k, v in summary.items()}


def read_tournament(path: str | Path, name: str | None = None) -> StoredTournament:
    """Read one tournament (by default the only one, else name it) with all its matches."""
    with closing(connect(path, create=False)) as conn:
        names = _tournament_names(conn, path)
        if not names:
            raise ValueError(f"{path} holds no tournament yet")
        if name is None:
            if len(names) > 1:
                raise ValueError(f"{path} holds several tournaments {names}; name one")
            name = names[0]
        if name not in names:
            raise ValueError(f"{path} holds no tournament {name!r}; it holds {names}")
        row = conn.execute(
            "SELECT config_json, config_hash, scenario_id, scenario_hash, code_version, "
            "population_json, mixes_json, planned_matches, created_at FROM tournaments "
            "WHERE name = ?",
            (name,),
        ).fetchone()
        seats: dict[str, dict[str, str]] = {}
        for key, agent, policy in conn.execute(
            "SELECT match_key, agent, policy FROM seats WHERE tournament = ?", (name,)
        ):
            seats.setdefault(key, {})[agent] = policy
        matches = []
        for key, assignment, seed, lineup, returns, summary, steps in conn.execute(
            "SELECT match_key, assignment, seed, lineup_json, returns_json, summary_json, steps "
            "FROM matches WHERE tournament = ? ORDER BY assignment, seed, match_key",
            (name,),
        ):
            returns_map = json.loads(returns)
            matches.append(
                {
                    "key": key,
                    "assignment": assignment,
                    "seed": seed,
                    "lineup": json.loads(lineup),
                    "seats": {agent: seats[key][agent] for agent in returns_map},
                    "returns": returns_map,
                    "summary": _restore_nan(json.loads(summary)),
                    "steps": steps,
                }
            )
    (config_json, config_hash, scenario_id, scenario_digest, version, population, mixes,
     planned, at) = row  # fmt: skip
    return StoredTournament(
        name=name,
        config=json.loads(config_json),
        config_hash=config_hash,
        scenario_id=scenario_id,
        scenario_hash=scenario_digest,
        code_version=version,
        population=json.loads(population),
        mixes=json.loads(mixes),
        planned_matches=planned,
        created_at=at,
        matches=matches,
    )


def table_rows(path: str | Path, table: str, columns: Iterable[str] | None = None) -> list[tuple]:
    """Every row of ``table`` sorted by its columns (for tests and audits)."""
    if table not in ("tournaments", "matches", "seats", "metrics"):
        raise ValueError(f"unknown table {table!r}; tables: tournaments, matches, seats, metrics")
    with closing(connect(path, create=False)) as conn:
        if columns is None:
            columns = [info[1] for info in conn.execute(f"PRAGMA table_info({table})")]
        cols = ", ".join(columns)
        return conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
