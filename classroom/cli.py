"""The ``reassurance classroom`` command: serve the classroom web app.

Run: ``reassurance classroom`` and open the teacher link it prints; students open the address
it prints and type the game's join code. ``--db`` keeps every game (default
``classroom.sqlite``): stop the server and start it again with the same file, and every game
goes on where it was.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys

__all__ = ["host_warning", "is_loopback", "register", "serve"]

_CHECKPOINT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range; allowed: 1..65535")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: 0..100000")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``classroom`` subcommand to the ``reassurance`` parser."""
    parser = sub.add_parser(
        "classroom",
        help="serve a classroom in the browser: students take seats, bots play the rest",
        description=(
            "Serve the classroom web app. The teacher creates games (scenario, turns, seconds "
            "per turn, student seats, a bot for every other seat), shares the join code, runs "
            "the game from a live dashboard and opens the debrief; students join by code from "
            "a phone or laptop browser."
        ),
        epilog="example: reassurance classroom --db class.sqlite --checkpoint ppo=runs/classroom",
    )
    parser.add_argument(
        "--scenario",
        default="classroom",
        help="the scenario the new-game form offers first: an id or a YAML path (default "
        "classroom; the shipped scenarios are always offered)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets a "
        "class on the same network in, with a warning)",
    )
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--db", default="classroom.sqlite", help="SQLite file of the games (made if missing)"
    )
    parser.add_argument(
        "--simulations",
        type=_count,
        default=1000,
        help="simulated games the debrief compares each class with (default 1000; 0: none)",
    )
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a trained policy (run or checkpoint folder) a teacher may seat as a bot, as "
        "checkpoint:NAME; repeat for several",
    )
    parser.set_defaults(func=_cmd_classroom)


def _checkpoints(items: list[str]) -> dict[str, str]:
    from pathlib import Path

    from reassurance.agents.checkpoint import find_checkpoint

    out: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not _CHECKPOINT_NAME.fullmatch(name) or not path:
            raise ValueError(
                f"--checkpoint {item!r}: write NAME=PATH with NAME of lower-case letters, digits, "
                "_ or - (e.g. ppo=runs/classroom)"
            )
        if name in out:
            raise ValueError(f"--checkpoint: name {name!r} is given twice")
        out[name] = str(find_checkpoint(Path(path)).resolve())
    return out


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_warning(host: str, port: int) -> str | None:
    """The warning printed when the server listens beyond this machine, else None."""
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host}: anyone who can reach this machine on port {port} can "
        "open the join page, and the links travel unencrypted (plain http); share the teacher "
        "link with no one"
    )


def serve(
    *,
    db: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    scenario: str = "classroom",
    simulations: int = 1000,
    checkpoints: dict[str, str] | None = None,
) -> None:
    """Run the classroom server until interrupted."""
    import uvicorn

    from reassurance.classroom.app import MAX_MESSAGE_BYTES, Classroom, create_app
    from reassurance.classroom.store import Store
    from reassurance.envs import load_scenario

    load_scenario(scenario)  # a bad scenario fails here, with the scenario's own message
    store = Store(db)
    classroom = Classroom(
        store, scenarios=[scenario], checkpoints=checkpoints, simulations=simulations
    )
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    warning = host_warning(host, port)
    if warning:
        print(warning, file=sys.stderr)
    print(f"classroom on {base} (games in {db})")
    print(
        "teacher page (keep it private: it runs every game): "
        f"{base}/teacher/{classroom.teacher_token}"
    )
    print(f"students open {base}/ and type the game's join code", flush=True)
    uvicorn.run(
        create_app(classroom),
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=16 * MAX_MESSAGE_BYTES,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
    )


def _cmd_classroom(args: argparse.Namespace) -> int:
    serve(
        db=args.db,
        host=args.host,
        port=args.port,
        scenario=args.scenario,
        simulations=args.simulations,
        checkpoints=_checkpoints(args.checkpoint),
    )
    return 0
