"""Replays: any finished game as one self-contained HTML file that opens offline, with no server.

The file holds the game as JSON (one frame per turn: the rules state, the dashboard figures,
each agent's moves, escalation scores and rungs, the turn report and injected events) and a
small script that shows it with a turn slider. It loads nothing: no script, style, font or
image comes from anywhere else, and it contains no URL.

Three sources:

- a classroom game, from the classroom database: :func:`classroom_replay`;
- any :func:`reassurance.agents.play_match` game, recorded with :class:`Recorder` (``reassurance
  demo --replay FILE.html`` uses it);
- a tournament match by its key: :func:`tournament_replay` plays the match again from the
  results database's stored scenario, lineup and seed, checks that it gives the stored
  summary, and records it (``reassurance report DB --replay KEY``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from reassurance.classroom.engine import dashboard, masks_of, state_to_json

__all__ = [
    "Recorder",
    "classroom_replay",
    "frame",
    "json_safe",
    "record_match",
    "check_replay_path",
    "render_replay",
    "replay_data",
    "tournament_replay",
    "write_replay",
]

_US_TYPES = ("disengaged", "conditional", "committed")


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None`` (strict JSON, as browsers read)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _labels(env: Any, agent: str, action: Sequence[int]) -> dict[str, str]:
    return {
        name: labels[int(v)]
        for (name, labels), v in zip(env.action_labels(agent), action, strict=True)
    }


def frame(
    *,
    turn: int,
    state: Mapping[str, Any],
    dash: Mapping[str, Any],
    actions: Mapping[str, Mapping[str, str]] | None = None,
    infos: Mapping[str, Mapping[str, Any]] | None = None,
    report: str = "",
    events: Sequence[str] = (),
) -> dict[str, Any]:
    """One turn of a replay: the state after it and what was played (turn 0: the start)."""
    infos = infos or {}
    return json_safe(
        {
            "turn": turn,
            "state": {name: entry["data"] for name, entry in state.items()},
            "dash": dict(dash),
            "actions": {a: dict(v) for a, v in (actions or {}).items()},
            "escalation": {a: i["escalation"] for a, i in infos.items()},
            "rung": {a: i["rung"] for a, i in infos.items()},
            "report": report,
            "events": list(events),
        }
    )


class Recorder:
    """Records a :func:`~reassurance.agents.play_match` game as replay frames.

    Pass it as ``play_match(..., on_step=recorder)`` with the same scenario, overrides and seed
    it was made with; use ``render_mode="ansi"`` to keep the env's turn reports.
    """

    def __init__(
        self, scenario: Any, seed: int, overrides: Mapping[str, Any] | None = None
    ) -> None:
        from reassurance.envs import coalition_v0

        start = coalition_v0.parallel_env(scenario=scenario, overrides=overrides)
        start.reset(seed=seed)
        self.frames = [frame(turn=0, state=state_to_json(start.game_state), dash=dashboard(start))]
        self._masks = masks_of(start, start.game_state)

    def __call__(self, env: Any, actions: Mapping[str, Any], infos: Mapping[str, Any]) -> None:
        executed = {
            agent: [int(v) if self._masks[agent][i][int(v)] else 0 for i, v in enumerate(action)]
            for agent, action in actions.items()
        }
        self.frames.append(
            frame(
                turn=len(self.frames),
                state=state_to_json(env.game_state),
                dash=dashboard(env),
                actions={a: _labels(env, a, act) for a, act in executed.items()},
                infos=infos,
                report=env.render() or "",
            )
        )
        self._masks = masks_of(env, env.game_state)


def _meta(env: Any, **extra: Any) -> dict[str, Any]:
    sc = env.scenario
    return {
        "scenario": sc.id,
        "scenario_title": sc.title,
        "horizon": env.horizon,
        "agents": list(env.possible_agents),
        "members": list(env.member_ids),
        "threshold": float(sc.force.threshold_troops),
        **extra,
    }


def replay_data(
    recorder: Recorder,
    result: Any,
    scenario: Any,
    seed: int,
    *,
    overrides: Mapping[str, Any] | None = None,
    title: str = "",
) -> dict[str, Any]:
    """The replay of a recorded :func:`~reassurance.agents.play_match` game (its ``result``)."""
    from reassurance.envs import coalition_v0

    env = coalition_v0.parallel_env(scenario=scenario, overrides=overrides)
    summary = dict(result.summary)
    data = _meta(
        env,
        title=title or f"{env.scenario.title}, seed {seed}",
        seed=seed,
        policies=result.policies,
        humans=[],
        summary=summary,
        hidden={
            "us_type": _US_TYPES[int(summary["us_type"])],
            "russia_resolve": summary["russia_resolve"],
        },
        returns=result.returns,
        frames=recorder.frames,
    )
    return json_safe(data)


def record_match(
    scenario: Any,
    lineup: Mapping[str, Any] | None,
    seed: int,
    *,
    overrides: Mapping[str, Any] | None = None,
    title: str = "",
) -> tuple[dict[str, Any], Any]:
    """Play a match with a :class:`Recorder`; return the replay data and the ``MatchResult``."""
    from reassurance import agents

    recorder = Recorder(scenario, seed, overrides)
    result = agents.play_match(
        scenario, lineup, seed=seed, overrides=overrides, render_mode="ansi", on_step=recorder
    )
    data = replay_data(recorder, result, scenario, seed, overrides=overrides, title=title)
    return data, result


def classroom_replay(store: Any, game_id: str) -> dict[str, Any]:
    """The replay data of a classroom game, from its stored turns (the states the database holds).

    Hidden types are included once the teacher has revealed them.
    """
    from reassurance.classroom.engine import LiveGame

    row = store.game(game_id)
    turns = store.turns(game_id)
    events = store.events(game_id)
    if row.status != "finished":
        raise ValueError(f"game {game_id} is not finished (turn {row.turn} of {row.spec.horizon})")
    game = LiveGame(row.spec)  # for the start state, labels and layout only
    env = game.env
    frames = [frame(turn=0, state=game.initial_state, dash=game.initial_dash)]
    for t in turns:
        frames.append(
            frame(
                turn=t["turn"],
                state=t["state"],
                dash=t["dash"],
                actions={a: _labels(env, a, act) for a, act in t["executed"].items()},
                infos=t["infos"],
                report=t["report"],
                events=[e["text"] for e in events if e["before_turn"] == t["turn"]],
            )
        )
    summary = turns[-1]["summary"]
    hidden = None
    if row.revealed:
        hidden = {
            "us_type": _US_TYPES[int(summary["us_type"])],
            "russia_resolve": summary["russia_resolve"],
        }
    else:
        summary = {k: v for k, v in summary.items() if k not in ("us_type", "russia_resolve")}
    seat_names = {a: s["name"] for a, s in row.seats.items() if s["human"]}
    data = _meta(
        env,
        title=row.spec.title or f"Classroom game {row.code}",
        seed=row.spec.seed,
        policies={
            a: ("student" + (f" ({seat_names[a]})" if seat_names.get(a) else ""))
            if a in row.spec.humans
            else row.spec.bots[a]
            for a in env.possible_agents
        },
        humans=list(row.spec.humans),
        summary=summary,
        hidden=hidden,
        returns={a: sum(t["rewards"].get(a, 0.0) for t in turns) for a in env.possible_agents},
        frames=frames,
    )
    return json_safe(data)


def tournament_replay(db: str | Path, key: str) -> dict[str, Any]:
    """Play a tournament match again by its key and record it.

    The scenario, lineup (with each policy's parameters or checkpoint) and seed come from the
    results database; the replayed episode summary must equal the stored one, else
    ``ValueError`` (the game code changed since the tournament ran).
    """
    import sqlite3
    from contextlib import closing

    from reassurance import agents
    from reassurance.envs import Scenario

    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"results file {str(path)!r} does not exist")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute(
                "SELECT m.tournament, m.seed, m.lineup_json, m.summary_json, t.scenario_json, "
                "t.population_json FROM matches m JOIN tournaments t ON t.name = m.tournament "
                "WHERE m.match_key = ?",
                (key,),
            ).fetchall()
        except sqlite3.DatabaseError as err:
            raise ValueError(f"{path} is not a tournament results file ({err})") from None
        if not rows:
            near = [
                r[0]
                for r in conn.execute(
                    "SELECT match_key FROM matches WHERE match_key LIKE ? LIMIT 5", (key[:8] + "%",)
                )
            ]
            hint = f"; keys starting alike: {', '.join(near)}" if near else ""
            raise ValueError(f"no match with key {key!r} in {path}{hint}")
    tournament, seed, lineup_json, summary_json, scenario_json, population_json = rows[0]
    scenario = Scenario.model_validate(json.loads(scenario_json))
    population = json.loads(population_json)
    labels = json.loads(lineup_json)
    lineup: dict[str, Any] = {}
    for role, label in labels.items():
        entry = next((p for p in population[role] if p["label"] == label), None)
        if entry is None:
            raise ValueError(f"match {key}: policy {label!r} is not in the tournament's population")
        if entry.get("checkpoint"):
            lineup[role] = agents.from_checkpoint(
                entry["checkpoint"], role=role, module_id=entry.get("module_id")
            )
        else:
            lineup[role] = agents.make(entry["agent"], **entry.get("params", {}))
    data, result = record_match(
        scenario, lineup, int(seed), title=f"Tournament {tournament}, match {key[:12]}"
    )
    stored = json.loads(summary_json)
    replayed = json_safe(result.summary)
    differs = [
        k
        for k, v in stored.items()
        if not (
            v == replayed.get(k)
            or (isinstance(v, float) and math.isclose(v, replayed.get(k) or math.nan, rel_tol=1e-9))
        )
    ]
    if differs:
        raise ValueError(
            f"match {key} replays differently from the stored result ({', '.join(differs[:5])}): "
            "the game code or a checkpoint changed since the tournament ran"
        )
    data["lineup"] = labels
    return data


def _asset(name: str) -> str:
    return resources.files("reassurance.classroom").joinpath("static", name).read_text("utf-8")


def _script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(json_safe(data), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_replay(data: Mapping[str, Any]) -> str:
    """The replay as one HTML document: styles, script and data inline."""
    from reassurance.classroom.pages import templates

    return (
        templates()
        .get_template("replay.html")
        .render(
            data=data,
            data_json=_script_json(data),
            style=_asset("classroom.css"),
            script="\n".join(_asset(name) for name in ("dom.js", "charts.js", "replay.js")),
        )
    )


def check_replay_path(path: str | Path) -> Path:
    """A replay file's path; raises ``ValueError`` unless it ends in ``.html``."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"replay file {str(path)!r} must end in .html")
    return path


def write_replay(data: Mapping[str, Any], path: str | Path) -> Path:
    """Write the replay file; return its path."""
    path = check_replay_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_replay(data), encoding="utf-8")
    return path
