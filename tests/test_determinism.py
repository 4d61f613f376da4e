"""Same seed and same actions give the same episode, bit for bit, also in another process."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import play


def _digest(trace) -> str:
    h = hashlib.sha256()
    for actions, obs, rewards, infos in trace:
        for agent in sorted(actions):
            h.update(agent.encode())
            h.update(np.asarray(actions[agent]).tobytes())
        for agent in sorted(obs):
            h.update(obs[agent]["observations"].tobytes())
            for m in obs[agent]["action_mask"]:
                h.update(m.tobytes())
            h.update(np.float64(rewards[agent]).tobytes())
            h.update(repr(sorted(infos[agent].items())).encode())
    return h.hexdigest()


def test_multi_step_determinism(scenario: str) -> None:
    _, first = play(scenario, seed=11)
    _, second = play(scenario, seed=11)
    assert len(first) == len(second) > 1
    assert _digest(first) == _digest(second)
    _, other = play(scenario, seed=12)
    assert _digest(other) != _digest(first)


def test_determinism_across_processes() -> None:
    code = (
        "from tests.conftest import play; from tests.test_determinism import _digest;"
        "print(_digest(play('brussels-2025-04', seed=7)[1]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.strip()
    assert out == _digest(play("brussels-2025-04", seed=7)[1])
