"""Provenance hashes: canonical JSON, scenario content, checkpoint directories.

Every hash here is a hex sha256 that depends only on content, never on the order a dict was
built in, the machine, or Python's per-process ``hash()`` salt.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

__all__ = ["canonical", "canonical_json", "sha256_json", "scenario_hash", "hash_checkpoint"]

_CHUNK_BYTES = 1 << 20


def canonical(value: Any) -> Any:
    """``value`` as plain JSON types: enums by value, tuples as lists, NaN as ``None``."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return canonical(value.item())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} {value!r} in canonical JSON")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same content gives the same text."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_json(value: Any) -> str:
    """Hex sha256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def scenario_hash(scenario: Any) -> str:
    """Hex sha256 of a resolved :class:`~reassurance.envs.Scenario` (every field, after merges)."""
    return sha256_json(scenario.model_dump(mode="json"))


def hash_checkpoint(path: str | Path) -> str:
    """Hex sha256 over every file under a checkpoint directory (or of one file).

    Files are visited in sorted order of their relative POSIX paths; each contributes its path,
    its size in bytes and its content, so renaming, moving or editing any file changes the hash.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"checkpoint {root} does not exist")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    files_by_name = {(p.name if p == root else p.relative_to(root).as_posix()): p for p in files}
    digest = hashlib.sha256()
    for name in sorted(files_by_name):
        file = files_by_name[name]
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(str(file.stat().st_size).encode("ascii") + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()
