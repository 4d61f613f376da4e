"""``coalition_v0``: the coalition wargame, versioned as PettingZoo environments are.

>>> from reassurance.envs import coalition_v0
>>> env = coalition_v0.parallel_env(scenario="classroom")
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec
from pettingzoo.utils.env import AECEnv

from reassurance.envs.coalition import CoalitionEnv

__all__ = ["env", "parallel_env", "raw_env"]

raw_env = CoalitionEnv


def parallel_env(**kwargs: Any) -> CoalitionEnv:
    """The native Parallel API env; keyword arguments as :class:`CoalitionEnv`."""
    return CoalitionEnv(**kwargs)


def env(**kwargs: Any) -> AECEnv:
    """The AEC env, through PettingZoo's conversion, with its order-enforcing wrapper."""
    return wrappers.OrderEnforcingWrapper(parallel_to_aec(CoalitionEnv(**kwargs)))
