"""The package builds cleanly: no setuptools warnings, every shipped YAML file in the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_builds_without_warnings_and_ships_the_configs(tmp_path: Path) -> None:
    """Issue 10, item 12: setup printed about 120 lines of setuptools "Package would be ignored"
    warnings for the YAML folders under configs/ (data-only packages absent from `packages`)."""
    pytest.importorskip("setuptools", reason="builds the wheel with the installed setuptools")
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the working tree
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "*.egg-info", "build", "dist", "runs", "__pycache__", ".*_cache"
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "would be ignored" not in output, output[-3000:]
    assert "BuildBackendWarning" not in output, output[-3000:]
    (wheel,) = (tmp_path / "dist").glob("reassurance-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.endswith(".yaml")}
    expected = {
        f"reassurance/configs/{p.relative_to(ROOT / 'configs')}"
        for p in (ROOT / "configs").rglob("*.yaml")
    }
    assert expected and shipped == expected
