"""The shipped YAML files (package data): ``scenarios/``, ``training/`` and ``tournaments/``.

Commands take either a shipped name (``classroom``) or a path to a YAML file; these helpers are
the one place that tells the two apart and lists what is shipped.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["is_path", "shipped", "shipped_file"]


def is_path(text: str) -> bool:
    """Whether ``text`` names a file (``.yaml``/``.yml`` or with a folder) rather than a name."""
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


def shipped_file(kind: str, name: str) -> Path:
    """Where the shipped ``kind`` (``scenarios``, ``training``, ``tournaments``) ``name`` lives."""
    return Path(str(resources.files("reassurance.configs") / kind)) / f"{name}.yaml"


def shipped(kind: str) -> list[str]:
    """Names of the shipped files of ``kind``, sorted."""
    return sorted(p.stem for p in shipped_file(kind, "x").parent.glob("*.yaml"))
