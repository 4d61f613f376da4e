"""Environments of ``reassurance``.

Importing this package registers ``reassurance/coalition-v0`` in PettingZoo's registry, so that
``pettingzoo.make("parallel", "reassurance/coalition-v0", scenario=...)`` works.
"""

from __future__ import annotations

import pettingzoo

from reassurance.envs import coalition_v0
from reassurance.envs.coalition import ENV_VERSION, CoalitionEnv
from reassurance.envs.scenario import Scenario, ScenarioError, list_scenarios, load_scenario
from reassurance.envs.vector import CoalitionVectorEnv, VectorStep

__all__ = [
    "ENV_VERSION",
    "CoalitionEnv",
    "CoalitionVectorEnv",
    "Scenario",
    "ScenarioError",
    "coalition_v0",
    "list_scenarios",
    "load_scenario",
    "register",
    "VectorStep",
]

ENV_ID = "reassurance/coalition-v0"


def register() -> None:
    """Register ``reassurance/coalition-v0`` (both APIs) with PettingZoo; safe to call twice."""
    if ENV_ID not in pettingzoo.parallel_registry:
        pettingzoo.register(
            "parallel", ENV_ID, entry_point="reassurance.envs.coalition_v0:parallel_env"
        )
    if ENV_ID not in pettingzoo.aec_registry:
        pettingzoo.register("aec", ENV_ID, entry_point="reassurance.envs.coalition_v0:env")


register()
