"""Property test: random valid scenarios (every numeric field drawn inside its documented range)
played with random actions, masked and unmasked; the game's invariants hold after every step."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from reassurance.envs import ScenarioError, coalition_v0, list_scenarios, load_scenario
from reassurance.envs.scenario import NumberField, number_fields

OVERRIDE_SETS = 12  # per scenario; two episodes each (masked and unmasked actions)
MAX_HORIZON = 30  # steps, to keep the budget at a few thousand steps in all

_FALLING = ("rewards.usa.intervention_cost",)
_SUM_TO_ONE = ("russia.resolve_prior", "belief.")


def _draw(field: NumberField, default: float, rng: np.random.Generator) -> float:
    low = field.low if field.low is not None else default - 10.0
    high = field.high if field.high is not None else max(2.0 * abs(default), low + 1.0)
    if field.integer:
        return int(rng.integers(int(np.ceil(low)), int(np.floor(high)) + 1))
    value = float(rng.uniform(low, high))
    if field.low_strict and value <= low:
        value = low + 1e-6
    return value


def _get(raw: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+", path):
        raw = raw[int(part)] if isinstance(raw, list | tuple) else raw[part]
    return raw


def random_overrides(scenario: str, rng: np.random.Generator) -> dict[str, Any]:
    """Overrides of a random third of the numeric fields (and two members' traits), each inside
    its documented range; tuples and tables are drawn whole, in the order or with the sum their
    validators require."""
    raw = load_scenario(scenario).model_dump()
    groups: dict[str, list[NumberField]] = defaultdict(list)
    for field in number_fields():
        groups[re.sub(r"\[.*$", "", field.path)].append(field)
    overrides: dict[str, Any] = {}
    for name, fields in groups.items():
        if rng.random() > 1 / 3:
            continue
        values = [_draw(f, float(_get(raw, f.path)), rng) for f in fields]
        if "[" not in fields[0].path:
            value = values[0]
            if name == "horizon":
                value = int(rng.integers(1, MAX_HORIZON + 1))
            overrides[name] = value
            continue
        cells = np.array(values, dtype=float)
        if name.startswith(_SUM_TO_ONE):
            width = 5 if name.endswith("response") else (4 if name.startswith("belief") else 3)
            cells = cells.reshape(-1, width)
            cells = cells / cells.sum(axis=1, keepdims=True)
            overrides[name] = cells.tolist() if name.startswith("belief") else cells[0].tolist()
        elif name == "force.pledge_shares":
            overrides[name] = [0.0, *np.sort(rng.uniform(0.001, 1.0, 4))]
        else:
            cells = np.sort(cells)[::-1] if name in _FALLING else np.sort(cells)
            overrides[name] = cells.tolist()
    overrides.setdefault("horizon", int(rng.integers(1, MAX_HORIZON + 1)))
    if overrides["horizon"] > MAX_HORIZON:
        overrides["horizon"] = MAX_HORIZON
    members = [m["id"] for m in raw["members"]]
    for member in rng.choice(members, size=min(2, len(members)), replace=False):
        overrides[f"members.{member}.leadership"] = float(rng.random())
        overrides[f"members.{member}.home_threat"] = float(rng.random())
        overrides[f"members.{member}.active_personnel_k"] = float(rng.uniform(1, 500))
        overrides[f"members.{member}.parliament_vote"] = bool(rng.random() < 0.5)
    return overrides


def _check_invariants(env, obs, rewards) -> None:
    s = env.game_state
    p = env.params
    pledged = p.pledge_shares[s.pledge_level] * p.capacity_k
    assert np.all(s.deployed_k >= 0)
    assert np.all(s.deployed_k <= pledged + 1e-9)
    assert np.all(pledged <= p.capacity_k + 1e-9)
    assert np.all(np.isfinite(s.belief)) and np.all(s.belief >= 0)
    np.testing.assert_allclose(s.belief.sum(axis=1), 1.0)
    assert all(np.isfinite(r) for r in rewards.values()), rewards
    for agent, o in obs.items():
        space = env.observation_space(agent)
        assert space["observations"].contains(o["observations"]), agent
        assert space["action_mask"].contains(o["action_mask"]), agent


@pytest.mark.parametrize("scenario", list_scenarios())
def test_random_valid_scenarios_keep_the_invariants(scenario: str) -> None:
    rng = np.random.default_rng(list_scenarios().index(scenario))
    played = steps = 0
    for _ in range(OVERRIDE_SETS):
        overrides = random_overrides(scenario, rng)
        try:
            env = coalition_v0.parallel_env(scenario=scenario, overrides=overrides)
        except ScenarioError as err:  # a draw that breaks a cross-field rule: say which
            pytest.fail(f"random overrides inside the documented ranges were refused: {err}")
        for masked in (True, False):
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
            while env.agents:
                actions = {}
                for agent in env.agents:
                    space = env.action_space(agent)
                    if masked:
                        actions[agent] = space.sample(mask=obs[agent]["action_mask"])
                    else:
                        actions[agent] = rng.integers(0, space.nvec)
                obs, rewards, *_ = env.step(actions)
                _check_invariants(env, obs, rewards)
                steps += 1
            played += 1
    assert played == 2 * OVERRIDE_SETS and steps >= 50, steps  # a real budget of steps
