"""A classroom server in a subprocess, and a WebSocket client, for the classroom tests."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

STARTUP_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``reassurance classroom`` on 127.0.0.1 in a subprocess; :meth:`kill` is ``kill -9``."""

    def __init__(self, db: Path, *, simulations: int = 0, extra: tuple[str, ...] = ()) -> None:
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.simulations = simulations
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.teacher = ""
        self.log = db.with_suffix(f".{self.port}.log")

    def start(self) -> Server:
        args = [
            sys.executable, "-m", "reassurance.cli", "classroom", "--db", str(self.db),
            "--port", str(self.port), "--simulations", str(self.simulations), *self.extra,
        ]  # fmt: skip
        self._out = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"classroom server exited: {self.log.read_text()}")
            found = re.search(r"/teacher/([A-Za-z0-9_-]{24})", self.log.read_text())
            if found:
                try:
                    httpx.get(self.base + "/", timeout=2.0)
                except httpx.HTTPError:
                    time.sleep(0.1)
                    continue
                self.teacher = found.group(1)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"classroom server did not start in {STARTUP_S} s: {self.log.read_text()}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        if getattr(self, "_out", None) is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_game(self, **fields: str) -> str:
        """Create a game through the teacher's form; return its id."""
        form = {"scenario": "classroom", "horizon": "4", "turn_seconds": "600", "seed": "1"}
        form.update(fields)
        response = httpx.post(
            f"{self.base}/teacher/{self.teacher}/new", data=form, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        return response.headers["location"].rsplit("/", 1)[1]


class Client:
    """One WebSocket connection to the server's ``/ws``."""

    def __init__(self, server: Server) -> None:
        self._connection = connect(
            f"ws://127.0.0.1:{server.port}/ws", open_timeout=10, max_size=2**22
        )
        self.ws: ClientConnection = self._connection.__enter__()

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, kind: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The next message (of type ``kind``, skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind or 'message'} in {timeout} s")
            message = json.loads(self.ws.recv(timeout=left))
            if kind is None or message["type"] == kind:
                return message

    def until(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first state message that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv("state", timeout=max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    def hello(self, token: str, game: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "hello", "token": token}
        if game is not None:
            message["game"] = game
        self.send(message)
        return self.recv()

    def reply(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next ``ack`` or ``error`` (state broadcasts in between are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            if message["type"] in ("ack", "error"):
                return message

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seat_tokens(server: Server, game: str) -> dict[str, str]:
    """The seat tokens of a game's student seats, read from the teacher's dashboard."""
    with Client(server) as teacher:
        state = teacher.hello(server.teacher, game)
    return {s["agent"]: s["link"].rsplit("/", 1)[1] for s in state["seats"] if s["human"]}
