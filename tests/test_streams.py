"""The counter-based random numbers: the documented formula, independence of the batch, and
the distributions the rules assume."""

from __future__ import annotations

import numpy as np

from reassurance.envs.state import GameStreams

_MASK = 2**64 - 1
_GAMMA = 0x9E3779B97F4A7C15


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _uniform(seed: int, episode: int, block: int, slot: int) -> float:
    """The docstring's formula, in plain Python integers."""
    base = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])
    key = _mix((base + (episode + 1) * _GAMMA) & _MASK)
    return (_mix((key + (4096 * block + slot + 1) * _GAMMA) & _MASK) >> 11) * 2.0**-53


def test_numbers_follow_the_documented_formula() -> None:
    streams = GameStreams.seeded([3, 2**40 + 7])
    streams.next_episode(np.array([1]))
    u = streams.uniforms(np.array([5, 0], np.uint64), 24)
    for game, (seed, episode, block) in enumerate([(3, 0, 5), (2**40 + 7, 1, 0)]):
        for slot in (0, 1, 23):
            assert u[game, slot] == _uniform(seed, episode, block, slot)


def test_a_game_draws_the_same_numbers_in_any_batch() -> None:
    alone = GameStreams.seeded([11])
    batch = GameStreams.seeded([4, 11, 9])
    batch.next_episode(np.array([0, 2]))  # the other games move on; game 1 does not
    t = np.array([7])
    one = alone.step(t, 19)
    many = batch.step(np.array([3, 7, 1]), 19)
    for name in ("vote", "detect", "outcome", "gap", "front"):
        np.testing.assert_array_equal(getattr(one, name)[0], getattr(many, name)[1])
    assert alone.hidden()[0][0] == batch.hidden(np.array([1]))[0][0]


def test_episodes_and_steps_draw_different_numbers() -> None:
    streams = GameStreams.seeded([5])
    first = streams.step(np.array([0]), 4).vote
    assert not np.array_equal(first, streams.step(np.array([1]), 4).vote)
    streams.next_episode(np.array([0]))
    assert not np.array_equal(first, streams.step(np.array([0]), 4).vote)


def test_distributions() -> None:
    streams = GameStreams.seeded(list(range(4000)))
    draws = [streams.step(np.full(4000, t), 5) for t in range(10)]
    u = np.concatenate([d.vote.ravel() for d in draws] + [d.gap for d in draws])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 0.09 * u.size
    z = np.concatenate([d.front for d in draws])
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    assert abs(np.mean(np.abs(z) < 1.0) - 0.6827) < 0.01
    # neighbouring games and slots are uncorrelated
    assert abs(np.corrcoef(draws[0].vote[:-1, 0], draws[0].vote[1:, 0])[0, 1]) < 0.05
    assert abs(np.corrcoef(draws[0].vote[:, 0], draws[0].vote[:, 1])[0, 1]) < 0.05
