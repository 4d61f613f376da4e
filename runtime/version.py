"""The package version, and a fingerprint of the code that decides a game."""

from __future__ import annotations

import hashlib
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["__version__", "code_version"]

try:
    __version__ = version("reassurance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"


def code_version() -> str:
    """``<package version>+<12 hex>``: the version plus a hash of the code that decides a match.

    The hash covers the source files of ``reassurance.envs`` and ``reassurance.agents`` (rules,
    observations, doctrines, the match runner), so an edited rule or doctrine gives new match
    keys and a new plan, and a rerun never mixes results of two versions of the game.
    """
    digest = hashlib.sha256()
    for package in ("reassurance.envs", "reassurance.agents"):
        root = resources.files(package)
        for path in sorted(Path(str(root)).rglob("*.py")):
            digest.update(f"{package}/{path.relative_to(str(root)).as_posix()}\n".encode())
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"
