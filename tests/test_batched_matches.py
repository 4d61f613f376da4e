"""``play_matches`` on the batched core gives, game by game, what ``play_match`` gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reassurance import agents
from reassurance.agents import play_match, play_matches
from reassurance.envs import coalition_v0

# The front collapses early in some of these games (episodes of 1 to 16 steps), so the batch
# holds games that end while others play on.
OVERRIDES = {"dynamics.collapse_front": 0.78}


def _lineups(scenario: str, count: int, seed: int) -> list[dict[str, object]]:
    """Random lineups: per seat, any registered policy of its role (random ones included);
    some lineups by role, some by agent, one empty (all default bots)."""
    env = coalition_v0.parallel_env(scenario=scenario)
    rng = np.random.default_rng(seed)
    by_role = {role: agents.list_agents(role=role) for role in ("member", "usa", "ukraine",
                                                                 "russia")}  # fmt: skip
    out: list[dict[str, object]] = [{}]
    for i in range(count - 1):
        if i % 3 == 0:
            out.append({role: str(rng.choice(ids)) for role, ids in by_role.items()})
        else:
            out.append(
                {a: str(rng.choice(by_role[agents.role_of(a)])) for a in env.possible_agents}
            )
    return out


def _same(batched: agents.MatchResult, alone: agents.MatchResult) -> None:
    assert batched.returns == alone.returns  # exact: the same rewards summed in the same order
    assert batched.steps == alone.steps and batched.seed == alone.seed
    assert batched.policies == alone.policies
    assert list(batched.summary) == list(alone.summary)
    for name, value in alone.summary.items():
        other = batched.summary[name]
        assert type(other) is type(value), name
        assert other == value or (math.isnan(value) and math.isnan(other)), name


def test_batched_matches_equal_one_game_matches() -> None:
    lineups = _lineups("classroom", 18, seed=3)
    seeds = [int(s) for s in np.random.default_rng(4).integers(0, 50, len(lineups))]
    seeds[1] = seeds[2]  # one seed, two lineups, in one batch
    # batches of 10: the last one is shorter
    batched = play_matches("classroom", lineups, seeds, overrides=OVERRIDES, batch_size=10)
    assert len({r.steps for r in batched}) > 3, "some games should end early"
    for lineup, seed, result in zip(lineups, seeds, batched, strict=True):
        _same(result, play_match("classroom", lineup, seed, overrides=OVERRIDES))


def test_batched_matches_on_the_main_scenario() -> None:
    lineups = _lineups("brussels-2025-04", 3, seed=5)
    batched = play_matches("brussels-2025-04", lineups, [7, 8, 7])
    for lineup, seed, result in zip(lineups, [7, 8, 7], batched, strict=True):
        _same(result, play_match("brussels-2025-04", lineup, seed))


def test_policy_objects_act_for_every_seat_they_are_given() -> None:
    random_member = agents.make("member/random")
    leader = agents.make("member/leader")
    lineups = [{"member": random_member, "uk": leader}, {"member": leader}, {"uk": random_member}]
    batched = play_matches("classroom", lineups, [0, 1, 2])
    for lineup, seed, result in zip(lineups, [0, 1, 2], batched, strict=True):
        _same(result, play_match("classroom", lineup, seed))


def test_bad_calls_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="got 2 lineups for 3 seeds"):
        play_matches("classroom", [{}, {}], [0, 1, 2])
    with pytest.raises(ValueError, match="seeds must be integers >= 0, got -1"):
        play_matches("classroom", {}, [0, -1])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        play_matches("classroom", {}, [0], batch_size=0)
    with pytest.raises(ValueError, match="unknown seats"):
        play_matches("classroom", {"poland": "member/leader"}, [0])
    human = agents.HumanPolicy(role="usa")
    with pytest.raises(ValueError, match="keeps state between steps .* play_match"):
        play_matches("classroom", {"usa": human}, [0])
    usa = agents.make("usa/disengaged")
    with pytest.raises(ValueError, match="plays role 'usa', not the seat of 'uk'"):
        play_matches("classroom", {"uk": usa}, [0])
    assert play_matches("classroom", {}, []) == []
