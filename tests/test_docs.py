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


def test_every_relative_link_in_the_docs_resolves() -> None:
    """A link or image in the README or docs/ that names a file of this repository must find
    it in a fresh checkout (committed results, not files left in someone's working tree)."""
    import re
    import subprocess

    tracked = None
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        tracked = {Path(p) for p in listed}
        tracked |= {parent for p in list(tracked) for parent in p.parents}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    pages += sorted((ROOT / "docs" / "results").rglob("*.md"))
    missing = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor
            path = (page.parent / target.split("#")[0]).resolve()
            relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else None
            if not path.exists() or (tracked is not None and relative not in tracked):
                missing.append(f"{page.relative_to(ROOT)}: {target}")
    assert not missing, f"links to files not in the repository: {missing}"
