"""Checks on the files and folders a command is told to write, made before any work starts."""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_output_folder"]


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
