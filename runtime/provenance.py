"""What a figure was made on: the machine and the commit, for every report and benchmark."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["commit", "cpu_name", "machine", "machine_line"]

_REPO = Path(__file__).resolve().parent.parent


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit(short: int = 7) -> str:
    """The checkout's commit (``short`` hex digits), ``+changes`` when tracked files differ from
    it; ``unknown`` outside a git checkout (an installed package)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", f"--short={short}", "HEAD"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + ("+changes" if dirty else "")


def machine() -> dict[str, Any]:
    """CPU, cores this process may use, Python and numpy versions, and the commit."""
    import numpy as np

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_name(),
        "cores": cores,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "commit": commit(),
    }


def machine_line() -> str:
    """:func:`machine` as one line of prose, without the commit."""
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, numpy {m['numpy']}"
