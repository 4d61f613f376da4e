"""The classroom server over HTTP and WebSockets: faults, tokens, limits, escaping.

Each test runs ``reassurance classroom`` in a subprocess on 127.0.0.1 (see
``tests/classroom_support.py``) and stops it at the end.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from reassurance.classroom.app import MAX_MESSAGE_BYTES, RATE_BURST
from reassurance.classroom.cli import host_warning, is_loopback
from reassurance.classroom.engine import GameSpec, LiveGame
from tests.classroom_support import Client, Server, seat_tokens

HUMANS = {"human_france": "on", "human_germany": "on"}


@pytest.fixture
def server(tmp_path):
    with Server(tmp_path / "class.sqlite") as running:
        yield running


def _start(server: Server, game: str) -> None:
    with Client(server) as teacher:
        teacher.hello(server.teacher, game)
        teacher.send({"type": "resume", "token": server.teacher})
        teacher.until(lambda s: s["game"]["status"] == "running")


def _move(client: Client, token: str, turn: int, nonce: str, **move: str) -> dict:
    client.send({"type": "move", "token": token, "turn": turn, "nonce": nonce, "move": move})
    return client.reply()


def _rows(db, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def test_a_server_killed_mid_game_resumes_every_game_with_no_lost_or_doubled_move(tmp_path) -> None:
    db = tmp_path / "class.sqlite"
    server = Server(db).start()
    try:
        game = server.create_game(seed="11", **HUMANS)
        other = server.create_game(seed="12", human_uk="on")  # a second game runs beside it
        tokens = seat_tokens(server, game)
        _start(server, game)
        with Client(server) as france, Client(server) as germany:
            france.hello(tokens["france"])
            germany.hello(tokens["germany"])
            assert (
                _move(france, tokens["france"], 1, "f1", pledge="pct20", aid="low")["type"] == "ack"
            )
            assert _move(germany, tokens["germany"], 1, "g1", aid="medium")["type"] == "ack"
            france.until(lambda s: s["game"]["turn"] == 2)
            with Client(server) as teacher:
                teacher.hello(server.teacher, game)
                teacher.send(
                    {"type": "inject", "token": server.teacher, "event": "us_statement",
                     "params": {"signal": "conditional"}}
                )  # fmt: skip
                teacher.until(lambda s: len(s["events"]) == 1)
            ack = _move(france, tokens["france"], 2, "f2", commit="deploy")
            assert ack == {"type": "ack", "turn": 2, "nonce": "f2", "move": {"commit": "deploy"}}
        server.kill()  # turn 2 is open: france has moved, germany has not
        server = Server(db).start()
        with Client(server) as teacher:
            state = teacher.hello(server.teacher, game)
            assert state["game"]["turn"] == 2 and state["game"]["status"] == "running"
            assert [e["text"] for e in state["events"]][0].startswith("US statement")
            moved = {s["agent"]: s["moved"] for s in state["seats"] if s["human"]}
            assert moved == {"france": True, "germany": False}
            assert teacher.hello  # the other game is back too
        with Client(server) as teacher_other:
            assert teacher_other.hello(server.teacher, other)["game"]["status"] == "paused"
        with Client(server) as france, Client(server) as germany:
            view = france.hello(tokens["france"])
            assert view["moved"] and view["move"] == {"commit": "deploy"}  # the seat is back
            # the same move resent after the reconnect is acknowledged and recorded once
            assert _move(france, tokens["france"], 2, "f2", commit="deploy")["type"] == "ack"
            germany.hello(tokens["germany"])
            assert _move(germany, tokens["germany"], 2, "g2", aid="high")["type"] == "ack"
            france.until(lambda s: s["game"]["turn"] == 3)
        assert _rows(db, "SELECT turn, agent, nonce FROM moves ORDER BY turn, agent") == [
            (1, "france", "f1"), (1, "germany", "g1"), (2, "france", "f2"), (2, "germany", "g2"),
        ]  # fmt: skip
        assert _rows(db, f"SELECT turn FROM turns WHERE game = '{game}' ORDER BY turn") == [
            (1,),
            (2,),
        ]
    finally:
        server.stop()
    # the stored game is the game those moves and that event make, replayed from scratch
    (spec_json,) = _rows(db, f"SELECT spec_json FROM games WHERE id = '{game}'")[0]
    reference = LiveGame(GameSpec.from_json(json.loads(spec_json)))
    reference.submit("france", {"pledge": "pct20", "aid": "low"})
    reference.submit("germany", {"aid": "medium"})
    reference.resolve()
    reference.inject("us_statement", {"signal": "conditional"})
    reference.submit("france", {"commit": "deploy"})
    reference.submit("germany", {"aid": "high"})
    expected = reference.resolve().state
    (stored,) = _rows(db, f"SELECT state_json FROM turns WHERE game = '{game}' AND turn = 2")[0]
    assert json.loads(stored) == json.loads(json.dumps(expected))


def test_a_seat_token_acts_only_for_its_own_seat(server) -> None:
    game = server.create_game(**HUMANS)
    tokens = seat_tokens(server, game)
    _start(server, game)
    with Client(server) as france:
        view = france.hello(tokens["france"])
        assert view["seat"]["agent"] == "france"
        pieces = {p["name"] for p in view["pieces"]}
        assert "self_pledge" in pieces and not pieces & {"us_type", "resolve"}
        # germany's token on france's connection: refused, nothing recorded
        reply = _move(france, tokens["germany"], 1, "x", aid="low")
        assert reply == {"type": "error", "message": "token does not match this connection's seat"}
        # naming another seat in a message is not a thing a message can do
        france.send({"type": "move", "token": tokens["france"], "turn": 1, "nonce": "y",
                     "move": {"aid": "low"}, "agent": "germany"})  # fmt: skip
        assert "unknown fields ['agent']" in france.recv("error")["message"]
        # a seat cannot use the teacher's controls
        france.send({"type": "end_turn", "token": tokens["france"]})
        assert (
            france.recv("error")["message"] == "end_turn is for the teacher; a seat may only move"
        )
    # a seat token opens neither the teacher's pages nor another seat's debrief
    assert httpx.get(f"{server.base}/teacher/{tokens['france']}").status_code == 404
    assert httpx.get(f"{server.base}/teacher/{tokens['france']}/game/{game}").status_code == 404
    with Client(server) as stranger:
        assert stranger.hello("A" * 24)["message"] == "hello: unknown token"
        assert stranger.hello(server.teacher, "nope")["message"] == "hello: no game 'nope'"
    assert _rows(server.db, "SELECT COUNT(*) FROM moves") == [(0,)]


def test_malformed_and_oversized_messages_are_refused_with_one_clear_error(server) -> None:
    game = server.create_game(**HUMANS)
    tokens = seat_tokens(server, game)
    _start(server, game)
    with Client(server) as client:
        client.send("not json")
        assert client.recv("error")["message"].startswith("message is not JSON")
        client.send(
            {"type": "move", "token": tokens["france"], "turn": 1, "nonce": "a", "move": {}}
        )
        assert client.recv("error")["message"] == "say hello with your token first"
        client.hello(tokens["france"])
        bad = [
            ([1, 2], "a message is a JSON object, got list"),
            ({"type": "dance"}, "unknown message type 'dance'; types: hello, move, pause"),
            ({"type": "move", "token": tokens["france"], "turn": "1", "nonce": "a", "move": {}},
             "move: field 'turn' must be int, got str"),
            ({"type": "move", "token": tokens["france"], "turn": 1, "nonce": "a"},
             "move: missing field 'move'"),
            ({"type": "move", "token": tokens["france"], "turn": 7, "nonce": "a", "move": {}},
             "move for turn 7, but the open turn is 1"),
            ({"type": "move", "token": tokens["france"], "turn": 1, "nonce": "a",
              "move": {"pledge": "15%"}}, "pledge has no value '15%'; shares: 5%, 10%, 20%"),
            ({"type": "move", "token": tokens["france"], "turn": 1, "nonce": "a",
              "move": {"commit": "deploy"}}, "commit=deploy is not allowed now; commit may be"),
            ({"type": "move", "token": tokens["france"], "turn": 1, "nonce": "a",
              "move": {"aid": {"$gt": 1}}}, "cannot read 'aid'"),
        ]  # fmt: skip
        for message, error in bad:
            client.send(message)
            assert client.recv("error")["message"].startswith(error), message
        oversized = json.dumps(
            {"type": "move", "token": tokens["france"], "turn": 1, "nonce": "x" * MAX_MESSAGE_BYTES,
             "move": {}}
        )  # fmt: skip
        client.send(oversized)
        assert client.recv("error")["message"] == (
            f"message too large: {len(oversized):,} bytes; at most {MAX_MESSAGE_BYTES:,}"
        )
        client.ws.send(b"\x00\x01")
        assert client.recv("error")["message"] == "send text messages (JSON), not binary"
        # a flood is cut to the rate limit; the connection stays usable
        for _ in range(int(RATE_BURST) + 10):
            client.send({"type": "dance"})
        messages = [client.recv("error")["message"] for _ in range(int(RATE_BURST) + 10)]
        assert any(m.startswith("too many messages: at most") for m in messages)
        time.sleep(1.5)
        assert _move(client, tokens["france"], 1, "ok", aid="low")["type"] == "ack"
    with Client(server) as huge:
        huge.hello(tokens["germany"])
        huge.send("x" * (70 * 1024))  # beyond the server's frame limit: the socket is closed
        with pytest.raises(ConnectionClosed):
            huge.recv(timeout=10)
    assert _rows(server.db, "SELECT agent, nonce FROM moves") == [("france", "ok")]


def test_http_limits_and_escaped_user_text(server) -> None:
    title = "<script>alert('t')</script>"
    game = server.create_game(title=title, **HUMANS)
    with Client(server) as teacher:
        code = teacher.hello(server.teacher, game)["code"]
    name = '<img src=x onerror="alert(1)">'
    joined = httpx.post(
        f"{server.base}/join/{code}", data={"seat": "france", "name": name}, follow_redirects=True
    )
    assert joined.status_code == 200 and "You play france" in joined.text  # followed to the seat
    pages = [
        httpx.get(f"{server.base}/join/{code}").text,
        joined.text,
        httpx.get(f"{server.base}/teacher/{server.teacher}").text,
        httpx.get(f"{server.base}/teacher/{server.teacher}/game/{game}").text,
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in pages[0]
    page = httpx.get(f"{server.base}/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    # a second claim of the same seat is refused; an unknown seat names the free ones
    again = httpx.post(f"{server.base}/join/{code}", data={"seat": "france"})
    assert again.status_code == 400 and "Someone has already taken france" in again.text
    other = httpx.post(f"{server.base}/join/{code}", data={"seat": "usa"})
    assert "&#39;usa&#39; is not a student&#39;s seat; free seats: germany." in other.text
    big = httpx.post(f"{server.base}/join/{code}", content=b"a=" + b"x" * 20000,
                     headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert big.status_code == 413
    bad_form = httpx.post(
        f"{server.base}/teacher/{server.teacher}/new",
        data={"scenario": "classroom", "horizon": "4", "turn_seconds": "1", "seed": "1"},
    )
    assert bad_form.status_code == 400
    assert "seconds per turn 1 is out of range; allowed: 5..3600" in bad_form.text
    # guessing codes and links: 404s, then 429 for a while
    statuses = [httpx.get(f"{server.base}/join/ZZZZ{i:02d}").status_code for i in range(35)]
    assert statuses[0] == 404 and statuses[-1] == 429
    assert httpx.get(f"{server.base}/seat/{'B' * 24}").status_code == 429


def test_the_server_listens_on_loopback_unless_told_otherwise() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert host_warning("127.0.0.1", 8765) is None
    warning = host_warning("0.0.0.0", 8765)
    assert warning is not None and warning.startswith("warning: listening on 0.0.0.0")
