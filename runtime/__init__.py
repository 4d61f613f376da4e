"""What every library of ``reassurance`` shares at run time, below them all: the package version,
the fingerprint of the game's code, the Ray session (embedded on 127.0.0.1, or a cluster), parallel
jobs on Ray or local processes, and the check of an output folder.

``reassurance.training`` and ``reassurance.evaluation`` import from here, never from the
command-line package ``reassurance``; this package imports nothing else of the project, and Ray
only when a session starts.
"""

from reassurance.runtime.parallel import BACKENDS, Backend, run_jobs
from reassurance.runtime.paths import check_output_folder, write_csv
from reassurance.runtime.provenance import commit, machine, machine_line
from reassurance.runtime.ray_session import (
    RayUnreachableError,
    cluster_address,
    embedded_cpus,
    init_ray,
)
from reassurance.runtime.version import __version__, code_version

__all__ = [
    "BACKENDS",
    "Backend",
    "RayUnreachableError",
    "__version__",
    "check_output_folder",
    "cluster_address",
    "code_version",
    "commit",
    "embedded_cpus",
    "init_ray",
    "machine",
    "machine_line",
    "run_jobs",
    "write_csv",
]
