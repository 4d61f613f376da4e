"""Episode-summary metrics of training runs, logged the same way by both samplers.

RLlib's default sampler logs them from :class:`~reassurance.training.algorithm.ReassuranceCallbacks`
at the end of each episode; the fast sampler (:mod:`reassurance.training.fast_sampler`) logs them
for the episodes its games finished. Either way each figure is a mean over the last 100 episodes,
under ``env_runners/reassurance/<name>`` in RLlib's result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reassurance.envs.metrics import figures

__all__ = ["SUMMARY_METRICS", "SUMMARY_WINDOW", "log_summaries"]

SUMMARY_METRICS = tuple(f.name for f in figures("cohesion", "conflict"))
"""Episode-summary figures averaged per iteration under ``env_runners/reassurance/...``: every
cohesion and conflict figure of :data:`reassurance.envs.metrics.SUMMARY`."""

SUMMARY_WINDOW = 100
"""Episodes each summary figure is averaged over (a sliding window across iterations)."""


def log_summaries(metrics_logger: Any, summary: Mapping[str, Any]) -> None:
    """Log one episode's summary (``episode_summary`` of the env); NaN figures (undefined for
    this episode, e.g. a detection rate without violations) are left out of the mean."""
    for key in SUMMARY_METRICS:
        value = float(summary[key])
        if math.isfinite(value):
            metrics_logger.log_value(
                ("reassurance", key), value, reduce="mean", window=SUMMARY_WINDOW
            )
