"""Load benchmark of the classroom server: 30 students and a teacher over WebSockets on loopback.

Starts ``reassurance classroom`` in a subprocess on 127.0.0.1, creates one game with 30 student
seats (a benchmark scenario: the 19 members of brussels-2025-04 and 8 copies of small members,
with the US, Ukraine and Russia: 30 seats), and plays it to the end: each turn every student
sends a random legal move after a short seeded delay and times the move's acknowledgement; a
tenth of the moves are sent twice with the same nonce (a client retrying), which must not be
recorded twice. The teacher's dashboard is connected throughout. At the end the database must
hold exactly one move per student and turn, equal to what the student sent, and every turn.

Run: ``.venv/bin/python benchmarks/classroom_load.py [--turns 12] [--simulations 1000]``.
Prints the machine, then the p50/p95/max time from a move to its acknowledgement and from the
last move of a turn to the next turn's view, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
import yaml

from reassurance.runtime import commit, machine_line

STUDENTS = 30


def _scenario(folder: Path) -> Path:
    """brussels-2025-04 with 8 more (fictional) small members: 27 members, 30 seats."""
    from reassurance.envs import load_scenario

    base = load_scenario("brussels-2025-04")
    members = [m.model_dump() for m in base.members]
    small = sorted(members, key=lambda m: m["gdp_usd_bn"])[:8]
    for letter, member in zip("abcdefgh", small, strict=True):
        members.append({**member, "id": f"load_{letter}", "name": f"Benchmark member {letter}"})
    path = folder / "load-30.yaml"
    path.write_text(
        yaml.safe_dump(
            {"base": "brussels-2025-04", "id": "load_thirty", "title": "Load benchmark, 30 seats",
             "members": members}
        )
    )  # fmt: skip
    return path


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {p50:7.1f}  p95 {p95:7.1f}  max {ordered[-1]:7.1f}  (n={len(ordered)})"


async def _student(port: int, token: str, seed: int, turns: int, log: dict) -> None:
    rng = random.Random(seed)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        state = await _next_state(ws, lambda s: True)
        while not state["game"]["finished"]:
            turn = state["game"]["turn"]
            while state["game"]["status"] != "running":
                state = await _next_state(ws, lambda s: True, log)
            move = {}
            for component in state["components"]:
                legal = [v["label"] for v in component["values"] if v["legal"]]
                if rng.random() < 0.5:
                    move[component["name"]] = rng.choice(legal)
            nonce = f"{seed}-{turn}"
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            message = json.dumps(
                {"type": "move", "token": token, "turn": turn, "nonce": nonce, "move": move}
            )
            sent = time.perf_counter()
            await ws.send(message)
            if rng.random() < 0.1:  # a client that retries at once: the same move, same nonce
                await ws.send(message)
                log["resent"] += 1
            while True:
                reply = json.loads(await ws.recv())
                if reply["type"] == "ack" and reply["nonce"] == nonce:
                    log["ack_ms"].append(1000 * (time.perf_counter() - sent))
                    break
                _check(reply, log)
            log["sent"][(turn, token)] = (nonce, move)
            last_move = time.perf_counter()
            state = await _next_state(ws, lambda s, t=turn: s["game"]["resolved"] >= t, log)
            log["turn_ms"].append(1000 * (time.perf_counter() - last_move))
        log["finished"] += 1
        del turns


_LATE = re.compile(r"move for turn \d+, but the open turn is \d+")


def _check(reply: dict, log: dict) -> None:
    """Errors stop the benchmark, except a retried move that came after its turn ended."""
    if reply["type"] != "error":
        return
    if _LATE.fullmatch(reply["message"]):
        log["late_retries"] += 1
        return
    raise RuntimeError(f"move refused: {reply['message']}")


async def _next_state(ws, predicate, log: dict | None = None) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "state" and predicate(message):
            return message
        if log is not None:
            _check(message, log)


async def _teacher(port: int, token: str, game: str, done: asyncio.Event, log: dict) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "game": game}))
        await _next_state(ws, lambda s: True)
        await ws.send(json.dumps({"type": "resume", "token": token}))
        while not done.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                continue
            if message["type"] == "state":
                log["teacher_updates"] += 1


async def _run(port: int, teacher: str, game: str, tokens: dict[str, str], turns: int) -> dict:
    log = {
        "ack_ms": [],
        "turn_ms": [],
        "sent": {},
        "resent": 0,
        "late_retries": 0,
        "finished": 0,
        "teacher_updates": 0,
    }
    done = asyncio.Event()
    watcher = asyncio.create_task(_teacher(port, teacher, game, done, log))
    await asyncio.sleep(0.5)
    students = [
        _student(port, token, seed, turns, log)
        for seed, token in enumerate(sorted(tokens.values()))
    ]
    await asyncio.gather(*students)
    done.set()
    await watcher
    return log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=12, help="turns of the game (default 12)")
    parser.add_argument(
        "--simulations", type=int, default=1000, help="the server's simulated games (default 1000)"
    )
    args = parser.parse_args()
    print(f"machine: {machine_line()}, commit {commit()}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        scenario = _scenario(folder)
        db = folder / "load.sqlite"
        port = _port()
        log_path = folder / "server.log"
        with open(log_path, "w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "reassurance.cli", "classroom", "--db", str(db), "--port",
                 str(port), "--scenario", str(scenario), "--simulations", str(args.simulations)],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                teacher = ""
                for _ in range(600):
                    found = re.search(r"/teacher/([A-Za-z0-9_-]{24})", log_path.read_text())
                    if found:
                        teacher = found.group(1)
                        break
                    time.sleep(0.1)
                base = f"http://127.0.0.1:{port}"
                for _ in range(100):
                    try:
                        httpx.get(base + "/", timeout=2)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                from reassurance.envs import load_scenario

                seats = [
                    "usa",
                    *(m.id for m in load_scenario(scenario).members),
                    "ukraine",
                    "russia",
                ]
                assert len(seats) == STUDENTS, len(seats)
                form = {"scenario": str(scenario), "horizon": str(args.turns),
                        "turn_seconds": "600", "seed": "1"}  # fmt: skip
                form.update({f"human_{s}": "on" for s in seats})
                created = httpx.post(f"{base}/teacher/{teacher}/new", data=form, timeout=60)
                if created.status_code != 303:
                    raise RuntimeError(
                        f"game not created: {created.status_code} {created.text[:300]}"
                    )
                game = created.headers["location"].rsplit("/", 1)[1]
                with sqlite3.connect(db) as conn:
                    tokens = dict(
                        conn.execute("SELECT agent, token FROM seats WHERE game = ?", (game,))
                    )
                start = time.perf_counter()
                log = asyncio.run(_run(port, teacher, game, tokens, args.turns))
                wall = time.perf_counter() - start
            finally:
                server.terminate()
                server.wait(timeout=30)
        with sqlite3.connect(db) as conn:
            moves = conn.execute("SELECT turn, agent, nonce, move_json FROM moves").fetchall()
            turns = conn.execute("SELECT COUNT(*) FROM turns WHERE game = ?", (game,)).fetchone()[0]
    by_token = {token: agent for agent, token in tokens.items()}
    sent = {(turn, by_token[token]): nonce for (turn, token), (nonce, _) in log["sent"].items()}
    recorded = {(turn, agent): nonce for turn, agent, nonce, _ in moves}
    exactly_once = len(moves) == len(recorded) == len(sent) == STUDENTS * args.turns
    assert exactly_once and recorded == sent, "moves lost, doubled or changed"
    assert turns == args.turns and log["finished"] == STUDENTS
    print(
        f"{STUDENTS} students, 1 teacher, {args.turns} turns, {len(moves)} moves recorded exactly "
        f"once ({log['resent']} sent twice, {log['late_retries']} of them after their turn had "
        f"ended and refused), server --simulations {args.simulations}, "
        f"wall {wall:.1f} s, teacher updates {log['teacher_updates']}"
    )
    print(f"move -> ack (ms):            {_percentiles(log['ack_ms'])}")
    print(f"move -> next turn view (ms): {_percentiles(log['turn_ms'])}  (waits for all 30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
