"""The tables the docs take from the code are up to date (scripts/docs_tables.py writes them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _docs_tables():
    spec = importlib.util.spec_from_file_location(
        "docs_tables", ROOT / "scripts" / "docs_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_up_to_date() -> None:
    stale = _docs_tables().update(check=True)
    assert not stale, f"run .venv/bin/python scripts/docs_tables.py: stale tables in {stale}"


def test_model_doc_shows_every_table_and_every_summary_figure() -> None:
    from reassurance.envs.metrics import SUMMARY

    text = (ROOT / "docs" / "model.md").read_text()
    for name in ("summary", "pieces", "parameters"):
        assert f"<!-- generated:{name} -->" in text
    for field in SUMMARY:
        assert f"| `{field.name}` |" in text
