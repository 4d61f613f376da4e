"""Replays (classroom, demo, tournament match) and the debrief's data and simulated games."""

from __future__ import annotations

import json
import math
import re

import yaml

from reassurance import agents
from reassurance.classroom import debrief
from reassurance.classroom.engine import LiveGame, make_spec
from reassurance.classroom.replay import classroom_replay, render_replay, tournament_replay
from reassurance.classroom.store import Store
from reassurance.cli import main
from reassurance.demo import demo_lineup
from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament

# Anything a browser would fetch: a URL, a src/href to a file, CSS url()/@import, a request API.
_LOADS = re.compile(
    r"https?:|wss?:|//[a-z0-9.-]+\.[a-z]{2,}|\bsrc\s*=|\bhref\s*=\s*[\"']?(?!#)|url\(|@import|"
    r"<link|<iframe|<object|<embed|\bfetch\(|XMLHttpRequest|WebSocket|EventSource|import\(",
    re.IGNORECASE,
)


def _embedded(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="replay-data">(.*?)</script>', html, re.S
    )
    assert found, "no replay data in the file"
    return json.loads(found.group(1))


def _finished_game(db) -> tuple[Store, str]:
    """A classroom game played to the end through the store, as the app does."""
    store = Store(db)
    spec = make_spec(
        scenario="classroom", horizon=6, turn_seconds=30, seed=4, humans=["france", "germany"],
        bots={"russia": "russia/hawk"}, title="Period 3 <b>bold</b>",
    )  # fmt: skip
    row = store.create_game(spec)
    game = LiveGame(spec)
    moves = {1: {"france": {"pledge": "pct20", "aid": "low"}}, 3: {"germany": {"aid": "high"}}}
    for turn in range(1, 7):
        if turn == 2:
            record = game.inject("us_statement", {"signal": "formal"})
            store.save_event(row.id, record)
        for agent, move in moves.get(turn, {}).items():
            store.save_move(row.id, turn, agent, game.submit(agent, move), f"n{turn}")
        record = game.resolve()
        store.save_turn(row.id, record, "finished" if game.finished else "running", None, None)
    store.set_revealed(row.id)
    return store, row.id


def test_a_classroom_replay_loads_nothing_and_replays_the_databases_states(tmp_path) -> None:
    store, game_id = _finished_game(tmp_path / "class.sqlite")
    html = render_replay(classroom_replay(store, game_id))
    assert not _LOADS.search(html), _LOADS.search(html)
    assert "<b>bold</b>" not in html  # the teacher's title is escaped, in the page and the JSON
    data = _embedded(html)
    turns = store.turns(game_id)
    assert [f["turn"] for f in data["frames"]] == list(range(7))
    for frame, stored in zip(data["frames"][1:], turns, strict=True):
        expected = {
            name: json.loads(json.dumps(entry["data"]).replace("-Infinity", "null"))
            for name, entry in stored["state"].items()
        }
        assert frame["state"] == expected
        assert frame["dash"] == json.loads(json.dumps(stored["dash"]))
    assert data["frames"][2]["events"][0].startswith("US statement: the US says formal")
    assert data["hidden"]["us_type"] in ("disengaged", "conditional", "committed")
    assert data["policies"]["russia"] == "russia/hawk" and data["policies"]["france"] == "student"
    assert data["frames"][1]["actions"]["france"]["pledge"] == "pct20"
    store.close()


def test_demo_replay_writes_the_demo_game(tmp_path, capsys) -> None:
    path = tmp_path / "demo.html"
    assert (
        main(["demo", "--scenario", "classroom", "--seed", "3", "--json", "--replay", str(path)])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    html = path.read_text()
    assert not _LOADS.search(html)
    data = _embedded(html)
    expected = agents.play_match("classroom", demo_lineup("classroom"), seed=3).summary
    assert (
        summary["troops_deployed"]
        == expected["troops_deployed"]
        == data["summary"]["troops_deployed"]
    )
    assert len(data["frames"]) == expected["steps"] + 1
    assert main(["demo", "--scenario", "classroom", "--replay", str(tmp_path / "x.txt")]) == 2
    assert "must end in .html" in capsys.readouterr().err


def test_a_tournament_match_replays_by_its_key_through_report(tmp_path, capsys) -> None:
    config = {
        "name": "tiny",
        "scenario": "classroom",
        "population": {"member": ["leader", "free-rider"], "usa": ["words-only"]},
        "seeds": 2,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded, base = load_tournament_config(path)
    db = tmp_path / "results.sqlite"
    run_tournament(plan_tournament(loaded, base), db, workers=0, progress=False)
    import sqlite3

    with sqlite3.connect(db) as conn:
        key, summary_json = conn.execute(
            "SELECT match_key, summary_json FROM matches ORDER BY match_key LIMIT 1"
        ).fetchone()
    out = tmp_path / "report"
    assert main(["report", str(db), "--replay", key, "--out", str(out)]) == 0
    written = out / f"replay-{key[:12]}.html"
    assert str(written) in capsys.readouterr().out
    html = written.read_text()
    assert not _LOADS.search(html)
    data = _embedded(html)
    stored = json.loads(summary_json)
    assert data["summary"]["troops_deployed"] == stored["troops_deployed"]
    assert data["lineup"]["member"] in ("member/leader", "member/free-rider")
    assert main(["report", str(db), "--replay", "beef", "--out", str(out)]) == 2
    assert "no match with key 'beef'" in capsys.readouterr().err
    assert tournament_replay(db, key)["frames"] == data["frames"]


def test_the_debrief_compares_each_student_with_the_bot_and_the_class_with_simulations(
    tmp_path,
) -> None:
    store, game_id = _finished_game(tmp_path / "class.sqlite")
    row = store.game(game_id)
    game = LiveGame(row.spec)
    sims = debrief.simulate_chunk(
        row.spec.scenario, row.spec.overrides(), row.spec.bots, {}, range(12)
    )
    again = debrief.simulate_chunk(
        row.spec.scenario, row.spec.overrides(), row.spec.bots, {}, range(12)
    )
    assert json.dumps(sims) == json.dumps(again)  # seeded: the same games every time
    reference = agents.play_match(
        row.spec.scenario, dict(row.spec.bots), seed=5, overrides=row.spec.overrides()
    )
    assert sims[5]["troops_deployed"] == reference.summary["troops_deployed"]
    data = debrief.debrief_data(
        spec=row.spec,
        members=game.members,
        components={a: game.components(a) for a in row.spec.humans},
        turns=store.turns(game_id),
        events=store.events(game_id),
        names={"france": "Ann"},
        revealed=False,
        simulations=sims,
        simulations_wanted=12,
    )
    assert data["hidden"] is None and "us_type" not in data["summary"]
    assert not any("Hidden types" in sentence for sentence in data["outcome"])
    france = next(c for c in data["comparisons"] if c["seat"] == "france")
    assert france["name"] == "Ann" and len(france["rows"]) == 6
    first = {cell["component"]: cell for cell in france["rows"][0]["cells"]}
    assert first["pledge"]["human"] == "pct20" and first["aid"]["human"] == "low"
    assert france["rows"][1]["timed_out"] and not france["rows"][0]["timed_out"]
    assert 0.0 <= france["agreement"] <= 1.0
    assert [p["key"] for p in data["plots"]] == [key for key, _, _ in debrief.SIM_METRICS]
    troops = data["plots"][0]
    assert troops["svg"].startswith("<svg") and "your class" in troops["svg"]
    assert math.isclose(troops["sim_mean"], sum(s["troops_deployed"] for s in sims) / len(sims))
    assert data["timeline"][1]["events"][0].startswith("US statement")
    revealed = debrief.debrief_data(
        spec=row.spec, members=game.members,
        components={a: game.components(a) for a in row.spec.humans}, turns=store.turns(game_id),
        events=[], names={}, revealed=True, simulations=[], simulations_wanted=12,
    )  # fmt: skip
    assert revealed["hidden"].startswith("Hidden types: the US was")
    store.close()
