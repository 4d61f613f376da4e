"""Start or join Ray the same way for every command: embedded on 127.0.0.1, or a cluster.

Embedded Ray (the default) binds to 127.0.0.1 only, starts no dashboard and uses no auth token:
a local session has nobody to authenticate. ``address`` (or the ``RAY_ADDRESS`` environment
variable) joins an existing cluster instead, with whatever security that cluster sets up.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

__all__ = ["RayUnreachableError", "cluster_address", "embedded_cpus", "init_ray"]

LOCALHOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a cluster's port to accept a TCP connection before giving up."""
_CLIENT_PORT = 10001  # Ray Client's default port, for ``ray://host`` without one
_GCS_ATTEMPTS = "1"
"""Attempts of ``ray.init`` to reach a cluster's GCS (about 40 s each when nothing answers)."""
_GCS_ATTEMPTS_VARIABLE = "RAY_gcs_server_port_wait_time_s"  # read by Ray 2.60's Node


class RayUnreachableError(ConnectionError):
    """No Ray cluster answers at the address to join (one line naming it)."""


def cluster_address(address: str | None = None) -> str | None:
    """The cluster to join: ``address``, else ``$RAY_ADDRESS``, else ``None`` (embedded)."""
    chosen = address or os.environ.get("RAY_ADDRESS") or None
    if chosen in ("local",):
        return None
    return chosen


def embedded_cpus() -> float:
    """CPUs an embedded session started here with the default size would have (as Ray counts
    them, container limits included), without starting one."""
    from ray._private.utils import get_num_cpus

    return float(get_num_cpus())


def _where(address: str | None) -> str:
    return "" if address else " (from $RAY_ADDRESS)"


def _check_reachable(target: str, source: str) -> None:
    """Fail within :data:`CONNECT_TIMEOUT_S` if nothing accepts a connection at ``target``.

    Ray 2.60 retries a cluster it cannot reach for many minutes (20 attempts of about 40 s,
    "Failed to connect to GCS"), so a wrong ``--address`` or a stale ``RAY_ADDRESS`` looked like
    a hang. The address probed is the one Ray would connect to: ``auto`` is resolved from the
    cluster recorded under Ray's temp folder, and a loopback host as Ray resolves it.
    """
    from ray._common.network_utils import parse_address
    from ray._private.services import canonicalize_bootstrap_address

    hint = "start it (ray start --head) or leave out --address and unset RAY_ADDRESS"
    if target.startswith("ray://"):
        host_port = target.removeprefix("ray://").split("/", 1)[0]
        parsed = parse_address(host_port) or (host_port, str(_CLIENT_PORT))
    else:
        try:
            bootstrap = canonicalize_bootstrap_address(target)
        except (ConnectionError, ValueError) as err:
            raise RayUnreachableError(f"Ray cluster {target!r}{source}: {err}") from None
        parsed = parse_address(bootstrap) if bootstrap else None
    if parsed is None:
        raise RayUnreachableError(
            f"Ray cluster address {target!r}{source} is not HOST:PORT or ray://HOST[:PORT]"
        )
    host, port = parsed
    resolved = "" if f"{host}:{port}" in target else f" (resolved to {host}:{port})"
    try:
        port_number = int(port)
        with socket.create_connection((host, port_number), timeout=CONNECT_TIMEOUT_S):
            pass
    except ValueError:
        raise RayUnreachableError(
            f"Ray cluster address {target!r}{source}: port {port!r} is not a number"
        ) from None
    except OSError as err:
        reason = (
            f"no answer within {CONNECT_TIMEOUT_S:g} s"
            if isinstance(err, TimeoutError)
            else (err.strerror or str(err)).lower()
        )
        raise RayUnreachableError(
            f"no Ray cluster at {target}{resolved}{source}: {reason}; {hint}"
        ) from None


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

    Raises:
        RayUnreachableError: nothing answers at the cluster address (``address`` or
            ``$RAY_ADDRESS``), within :data:`CONNECT_TIMEOUT_S` seconds when its port is closed
            or filtered, about 40 s when the port is open but no GCS answers.
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
    source = _where(address)
    _check_reachable(target, source)
    # Something accepts connections there; if it is no GCS (or a dead one's port reused), Ray's
    # default of 20 connection attempts would wait many minutes: one attempt fails in about
    # 40 s. An operator's own RAY_gcs_server_port_wait_time_s wins.
    saved = os.environ.get(_GCS_ATTEMPTS_VARIABLE)
    os.environ.setdefault(_GCS_ATTEMPTS_VARIABLE, _GCS_ATTEMPTS)
    try:
        ray.init(address=target, logging_level=logging.WARNING, runtime_env={"env_vars": env_vars})
    except ConnectionError as err:
        raise RayUnreachableError(
            f"no Ray cluster answers at {target}{source}: {str(err).splitlines()[0]}"
        ) from None
    finally:
        if saved is None:
            os.environ.pop(_GCS_ATTEMPTS_VARIABLE, None)
    return {"address": target}
