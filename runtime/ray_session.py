"""Start or join Ray the same way for every command: embedded on 127.0.0.1, or a cluster.

Embedded Ray (the default) binds to 127.0.0.1 only, starts no dashboard and uses no auth token:
a local session has nobody to authenticate. ``address`` (or the ``RAY_ADDRESS`` environment
variable) joins an existing cluster instead, with whatever security that cluster sets up.
"""

from __future__ import annotations

import logging
import os
from typing import Any

__all__ = ["init_ray", "cluster_address"]

LOCALHOST = "127.0.0.1"


def cluster_address(address: str | None = None) -> str | None:
    """The cluster to join: ``address``, else ``$RAY_ADDRESS``, else ``None`` (embedded)."""
    chosen = address or os.environ.get("RAY_ADDRESS") or None
    if chosen in ("local",):
        return None
    return chosen


def _keep_to_loopback() -> None:
    """Make Ray 2.60 bind every server of an embedded session to 127.0.0.1.

    ``ray.init(_node_ip_address="127.0.0.1")`` alone is not enough: Ray resolves a loopback
    address to the machine's routable one unless multi-node clusters are switched off, which is
    what ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` does (read at import, so the already-imported
    constant is set too; the GCS, raylet and workers inherit the variable).
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


def init_ray(
    address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None
) -> dict[str, Any]:
    """Initialise Ray once per process and return a description of where it runs.

    ``num_cpus``/``num_gpus`` size an embedded session (default: what the machine has) and are
    ignored when joining a cluster. Calling again while Ray is up does nothing.
    """
    import ray

    target = cluster_address(address)
    if ray.is_initialized():
        # Inside a Ray worker (a Tune trial) or a second call: say where Ray actually runs.
        return {"address": ray.get_runtime_context().gcs_address, "already_running": True}
    if target is None:
        # Embedded: loopback only, no dashboard, no token file under the home folder.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.pop("RAY_ADDRESS", None)
        _keep_to_loopback()
        context = ray.init(
            # "local" always starts a new embedded instance; with no address Ray would attach
            # to a cluster it finds recorded under /tmp/ray, even a dead one.
            address="local",
            _node_ip_address=LOCALHOST,
            include_dashboard=False,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            logging_level=logging.WARNING,
            log_to_driver=False,
            configure_logging=True,
        )
        return {"address": "embedded", "node_ip": LOCALHOST, "dashboard": context.dashboard_url}
    # Remote workers start their own interpreters: give them the driver's string-hash seed, which
    # fixes the order RLlib gives the agents of a step (see reassurance.cli).
    env_vars = (
        {"PYTHONHASHSEED": os.environ["PYTHONHASHSEED"]} if "PYTHONHASHSEED" in os.environ else {}
    )
    ray.init(address=target, logging_level=logging.WARNING, runtime_env={"env_vars": env_vars})
    return {"address": target}
