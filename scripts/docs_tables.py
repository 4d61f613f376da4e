"""Write the tables the docs take from the code: run it after changing a schema.

Run: ``.venv/bin/python scripts/docs_tables.py`` (``--check`` exits 1 if a table is stale).

Each table stands in README.md or docs/model.md between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; this script rewrites what lies between. ``tests/test_docs.py``
checks that every table is up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "docs" / "model.md")


def _summary() -> str:
    from reassurance.envs.metrics import markdown_table

    return markdown_table()


def _pieces() -> str:
    from reassurance.envs.observation import markdown_table

    return markdown_table()


def _parameters() -> str:
    from reassurance.envs import load_scenario
    from reassurance.envs.scenario import number_fields

    raw = load_scenario("brussels-2025-04").model_dump()
    lines = ["| field | range | brussels-2025-04 | meaning |", "|---|---|---|---|"]
    for field in number_fields():
        node = raw
        for part in re.findall(r"[^.\[\]]+", field.path):
            node = node[int(part)] if isinstance(node, list | tuple) else node[part]
        value = f"{node:g}" if isinstance(node, float) else str(node)
        lines.append(f"| `{field.path}` | {field.range_text()} | {value} | {field.description} |")
    return "\n".join(lines)


def _targets() -> str:
    from reassurance.evaluation.calibration import TARGETS

    lines = ["| target | scenario (recorded US commitment) | source | what was observed |",
             "|---|---|---|---|"]  # fmt: skip
    from reassurance.envs import load_scenario

    for t in TARGETS:
        c = load_scenario(t.scenario).usa.commitment
        lines.append(f"| {t.name} | `{t.scenario}` ({c:g}) | {t.source} | {t.statement} |")
    return "\n".join(lines)


def _free() -> str:
    from reassurance.evaluation.calibration import FREE

    lines = ["| free parameter | box | why it is free |", "|---|---|---|"]
    lines += [f"| `{f.field}` | {f.low:g} .. {f.high:g} | {f.why} |" for f in FREE]
    return "\n".join(lines)


TABLES: dict[str, Callable[[], str]] = {
    "summary": _summary,
    "pieces": _pieces,
    "parameters": _parameters,
    "targets": _targets,
    "free": _free,
}


def update(check: bool = False) -> list[str]:
    """Rewrite every generated table; return the names of those that changed (or were stale)."""
    changed = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        new = text
        for name, make in TABLES.items():
            pattern = re.compile(
                rf"(<!-- generated:{name} -->\n)(.*?)(<!-- /generated:{name} -->)", re.S
            )
            if pattern.search(new):
                new = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(3), new)
        if new != text:
            changed.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    args = parser.parse_args()
    changed = update(check=args.check)
    if changed:
        print(("stale: " if args.check else "rewrote: ") + ", ".join(changed))
    sys.exit(1 if args.check and changed else 0)


if __name__ == "__main__":
    main()
