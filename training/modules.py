"""RLlib modules: the masked PPO module that learns, and fixed policies from ``agents/``.

:class:`MaskedPPOModule` wraps :class:`~reassurance.agents.networks.MaskedActorCritic`; its
action distribution is RLlib's ``TorchMultiCategorical`` over the masked, concatenated logits, so
illegal values are never sampled and never get gradient. :class:`FixedPolicyModule` plays any
registered agent (a heuristic or a random policy) as a module that is never trained, so the
same mapping machinery seats heuristic opponents, league snapshots and learners.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchMultiCategorical
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.core.rl_module.torch import TorchRLModule

from reassurance.agents.checkpoint import load_export
from reassurance.agents.networks import MaskedActorCritic
from reassurance.agents.policy import Seat
from reassurance.agents.registry import make
from reassurance.envs.actions import Role
from reassurance.envs.observation import layouts

__all__ = ["MaskedPPOModule", "FixedPolicyModule"]


class MaskedPPOModule(TorchRLModule, ValueFunctionAPI):
    """PPO module over ``{"observations", "action_mask"}`` observations.

    ``model_config``: ``hidden`` (list of hidden layer sizes, default ``[64, 64]``),
    ``init_seed`` (seed of the initial weights, so they do not depend on the order in which
    RLlib builds modules) and optionally ``weights``, an exported policy file
    (``agents.checkpoint``) to start from, used for frozen opponents from earlier runs.
    """

    def setup(self) -> None:
        hidden = list(self.model_config.get("hidden", [64, 64]))
        nvec = [int(n) for n in self.action_space.nvec]
        with torch.random.fork_rng():
            torch.manual_seed(int(self.model_config.get("init_seed", 0)))
            self.net = MaskedActorCritic(
                self.observation_space["observations"].shape[0], nvec, hidden
            )
        self.action_dist_cls = TorchMultiCategorical.get_partial_dist_cls(input_lens=nvec)
        if self.model_config.get("weights"):
            self.net.load_state_dict(load_export(self.model_config["weights"])[0].state_dict())

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        return {
            Columns.ACTION_DIST_INPUTS: self.net.logits(obs["observations"], obs["action_mask"])
        }

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        return self.net.value(batch[Columns.OBS]["observations"])


class FixedPolicyModule(RLModule):
    """A registered ``agents/`` policy as a module that is never trained.

    ``model_config``: ``agent`` (registered id, e.g. ``"usa/words-only"``), ``params`` (its
    parameters), ``n_members`` (members in the scenario, for the observation layout) and
    ``seed`` (of the generator behind the policy's random draws).
    """

    def setup(self) -> None:
        config = self.model_config
        self.policy = make(config["agent"], **dict(config.get("params") or {}))
        role = Role.named(self.policy.role)
        self.policy.bind(
            Seat(agent=self.policy.role, role=role, layout=layouts(config["n_members"])[role])
        )
        self.rng = np.random.default_rng(int(config.get("seed", 0)))

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        vectors = _numpy(obs["observations"])
        masks = _numpy(obs["action_mask"]) > 0.5
        return {Columns.ACTIONS: self.policy.act_batch(vectors, masks, self.rng)}

    def _forward_train(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError(f"{self.model_config['agent']} is a fixed policy, never trained")

    def get_state(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        pass

    def compile(self, *args: Any, **kwargs: Any) -> None:
        pass


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
