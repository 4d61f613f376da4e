"""The policy network of trained roles, in plain torch (no Ray), so checkpoints load anywhere.

One :class:`MaskedActorCritic` per module: an MLP policy head that emits the concatenated logits
of every ``MultiDiscrete`` component, with illegal values pushed to a large negative number by
the concatenated action mask, and a separate MLP value head.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MaskedActorCritic", "mask_logits", "MASKED_LOGIT"]

MASKED_LOGIT = -1e9
"""Logit given to a masked value: its probability underflows to 0 without NaNs."""


def _mlp(sizes: Sequence[int], activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def mask_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Keep the logits of legal values (``mask`` 1) and set the others to :data:`MASKED_LOGIT`."""
    return torch.where(mask > 0.5, logits, torch.full_like(logits, MASKED_LOGIT))


class MaskedActorCritic(nn.Module):
    """Policy and value MLPs over the flat observation vector.

    ``obs_dim``: length of the observation vector; ``nvec``: values per action component;
    ``hidden``: sizes of the hidden layers (tanh), shared by the two heads' shapes, not weights.
    """

    def __init__(self, obs_dim: int, nvec: Sequence[int], hidden: Sequence[int] = (64, 64)):
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.nvec = [int(n) for n in nvec]
        self.hidden = [int(h) for h in hidden]
        self.pi = _mlp([self.obs_dim, *self.hidden, sum(self.nvec)], nn.Tanh)
        self.vf = _mlp([self.obs_dim, *self.hidden, 1], nn.Tanh)
        # Small last-layer weights: a near-uniform policy at the start, as in CleanRL's PPO.
        with torch.no_grad():
            self.pi[-1].weight.mul_(0.01)
            self.pi[-1].bias.zero_()

    def logits(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked logits, shape ``[B, sum(nvec)]``."""
        return mask_logits(self.pi(obs), mask)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values, shape ``[B]`` (reward units of the role)."""
        return self.vf(obs).squeeze(-1)
