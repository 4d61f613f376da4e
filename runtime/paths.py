"""Checks on the files and folders a command is told to write, made before any work starts, and
the atomic write of a table that a resumable command rereads."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["check_output_folder", "write_csv"]


def check_output_folder(path: str | Path, what: str) -> Path:
    """``path`` as a Path if it is a folder or can be made one; else a one-line ValueError.

    Refused: an existing file, or a path under one (``notes.txt/run``). ``what`` names the
    option in the message (``--out``). Nothing is created.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {path} is a file, not a folder; name a folder (made if missing)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{what} {path}: {parent} is a file, not a folder")
            break
    return path


def write_csv(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (columns: every key, in order of first appearance) to ``path`` through a
    ``.partial`` file renamed at the end, so a killed run never leaves half a table."""
    path = Path(path)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)
