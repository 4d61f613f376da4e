"""The shape the code promises (docs/architecture.md): readable rules, figures once per state,
layers that import one way."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from reassurance.envs import CoalitionVectorEnv, coalition_v0
from reassurance.envs import coalition as coalition_module
from reassurance.envs import figures as figures_module
from reassurance.envs import rules as rules_module
from reassurance.envs import vector as vector_module
from tests.conftest import random_actions

ROOT = Path(__file__).resolve().parents[1]


def _functions(folder: str) -> list[tuple[str, int]]:
    out = []
    for path in sorted((ROOT / folder).glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((f"{path.name}:{node.name}", node.end_lineno - node.lineno + 1))
    return out


def test_step_is_short_and_no_env_function_is_long() -> None:
    lengths = dict(_functions("envs"))
    assert lengths["rules.py:step"] < 60
    long = {name: n for name, n in lengths.items() if n > 80}
    assert not long, f"functions in envs/ over 80 lines: {long}"


@pytest.fixture
def count_derived(monkeypatch):
    calls = []
    original = figures_module.derived

    def counted(params, state):
        calls.append(state.batch_size)
        return original(params, state)

    for module in (rules_module, coalition_module, vector_module):
        monkeypatch.setattr(module, "derived", counted)
    return calls


@pytest.mark.parametrize("render_mode", [None, "ansi"])
def test_derived_runs_once_per_state(count_derived, render_mode) -> None:
    env = coalition_v0.parallel_env(scenario="classroom", render_mode=render_mode)
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(2)
    steps = 0
    while env.agents:
        obs, *_ = env.step(random_actions(env, obs, rng))
        env.render()
        env.state()
        steps += 1
    assert len(count_derived) == steps + 1  # the state at reset, then the state of each step


def test_derived_runs_once_per_step_in_the_batched_core(count_derived) -> None:
    venv = CoalitionVectorEnv("classroom", 4)
    out = venv.reset(seed=0)
    zeros = {role: np.zeros((*m.shape[:-1], len(venv.nvec[role])), np.int64)
             for role, m in out.masks.items()}  # fmt: skip
    for _ in range(20):  # episodes end at 16 and restart
        out = venv.step(zeros)
    resets = 1 + 1  # the first reset, and the reset of the games that ended together at step 16
    assert len(count_derived) == 20 + resets


def test_layers_import_one_way() -> None:
    """envs imports no other library of the project; agents imports envs only; training and
    evaluation never import the command-line package."""
    allowed = {
        "envs": {"envs", "configs"},
        "agents": {"agents", "envs", "configs"},
        "runtime": {"runtime"},
        "configs": {"configs"},
        "training": {"training", "agents", "envs", "configs", "runtime"},
        "evaluation": {"evaluation", "agents", "envs", "configs", "runtime"},
    }
    problems = []
    for layer, ok in allowed.items():
        for path in sorted((ROOT / layer).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[0] != "reassurance":
                        continue
                    target = parts[1] if len(parts) > 1 else "reassurance"
                    if target == "reassurance":
                        names = {a.name for a in node.names}
                        target = next(iter(names)) if names <= {"configs", "agents"} else "face"
                    if target not in ok:
                        problems.append(f"{layer}/{path.name} imports {node.module}")
    assert not problems, problems
