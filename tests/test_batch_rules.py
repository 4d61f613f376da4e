"""The rules run on a batch of games at once; the env is a batch of one over them."""

from __future__ import annotations

import numpy as np

from reassurance.envs import load_scenario
from reassurance.envs.actions import Role
from reassurance.envs.figures import derived
from reassurance.envs.masks import legal_masks
from reassurance.envs.rules import step
from reassurance.envs.state import compile_params, draw_step, init_state


def _random_batch_actions(masks, rng: np.random.Generator) -> dict[Role, np.ndarray]:
    actions = {}
    for role, role_masks in masks.items():
        parts = []
        for mask in role_masks:  # [..., n] booleans
            scores = rng.random(mask.shape) * mask
            parts.append(np.argmax(scores, axis=-1))
        actions[role] = np.stack(parts, axis=-1)
    return actions


def test_batched_step_keeps_shapes_and_invariants() -> None:
    params = compile_params(load_scenario("brussels-2025-04"))
    B, M = 256, params.n_members
    rng = np.random.default_rng(0)
    state = init_state(params, B, rng)
    figures = derived(params, state)
    assert state.pledge_level.shape == (B, M)
    for _ in range(params.scenario.horizon):
        actions = _random_batch_actions(legal_masks(params, state, figures), rng)
        result = step(params, state, figures, actions, draw_step(rng, B, M))
        state, figures = result.state, result.figures
        assert result.rewards[Role.MEMBER].shape == (B, M)
        assert result.rewards[Role.USA].shape == (B,)
        assert result.escalation.shape == (B, M + 3)
        assert np.all(np.isfinite(result.rewards[Role.MEMBER]))
        pledged = params.pledge_shares[state.pledge_level] * params.capacity_k
        assert np.all(state.deployed_k <= pledged + 1e-9)
        np.testing.assert_allclose(state.belief.sum(axis=1), 1.0)
    # random play reaches every phase somewhere in the batch: ceasefires, deadlines, breaks
    assert state.ceasefires.sum() > 0
    assert state.deadlines.sum() > 0
    assert state.ceasefire_breaks.sum() > 0


def test_batch_of_one_matches_the_env() -> None:
    from reassurance.envs import coalition_v0

    env = coalition_v0.parallel_env(scenario="classroom")
    env.reset(seed=4)
    params = compile_params(load_scenario("classroom"))
    state = init_state(params, 1, np.random.default_rng(4))
    for name in ("us_type", "resolve", "front", "belief", "phase"):
        np.testing.assert_array_equal(getattr(state, name), getattr(env.game_state, name))
