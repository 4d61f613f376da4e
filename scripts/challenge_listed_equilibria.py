"""Challenge the equilibria listed in one experiment's ``summary.md`` with the trained Russia
policies of another experiment folder.

Run: ``.venv/bin/python scripts/challenge_listed_equilibria.py SUMMARY OUT [--write DIR]``

``reassurance experiment us-commitment`` challenges the equilibria it found with the Russia it
trained (``challenges.json``) when one folder holds both. When the equilibrium parts were made
in a run whose folder is gone, its ``summary.md`` still lists every equilibrium of the
commitment axis ("Equilibria found": the starts that reached it, its status, whether it was
pooled, epsilon, Russia's doctrine and each contributing member's strategy). This script reads
that list back, checks that it renders the same lines again (so nothing was lost in the
reading), and plays :func:`reassurance.evaluation.experiment.russia_challenges` against the
trained runs of ``OUT`` (a folder of the same scenario, seeds and settings, with the trained
population's parts and runs). ``--write DIR`` writes ``challenges.json`` and ``challenges.md``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from reassurance.envs import load_scenario
from reassurance.evaluation.experiment import Options, Part, Setting, russia_challenges
from reassurance.evaluation.findings import challenge_lines, equilibrium_lines

LINE = re.compile(
    r"^- c=(?P<c>[0-9.]+) \((?P<starts>[^;]+); (?P<status>[^;]+?)"
    r"(?P<unpooled>; not pooled: no equilibrium)?; "
    r"epsilon (?P<e0>-?[0-9.]+), CI (?P<e1>-?[0-9.]+)\.\.(?P<e2>-?[0-9.]+)\): "
    r"Russia `(?P<russia>[^`]+)`; (?P<members>.*)$"
)


def listed_equilibria(summary: str, member_ids: list[str]) -> dict[float, list[dict[str, Any]]]:
    """The "Equilibria found" list of a summary, per commitment, as a part's notes hold it."""
    section = summary.split("## Equilibria found", 1)
    if len(section) < 2:
        raise ValueError("the summary lists no equilibria (no '## Equilibria found' section)")
    found: dict[float, list[dict[str, Any]]] = {}
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if not line.startswith("- c="):
            continue
        m = LINE.match(line)
        if m is None:
            raise ValueError(f"cannot read the equilibrium line {line[:120]!r}")
        members = dict.fromkeys(member_ids, "out")
        if m["members"] != "every member stays out":
            for pair in m["members"].split(" "):
                member, strategy = pair.split("=", 1)
                if member not in members:
                    raise ValueError(f"unknown member {member!r} in {line[:120]!r}")
                members[member] = strategy
        found.setdefault(float(m["c"]), []).append(
            {
                "starts": m["starts"].split(", "),
                "status": m["status"],
                "members": members,
                "russia": m["russia"],
                "epsilon": [float(m["e0"]), float(m["e1"]), float(m["e2"])],
                "pooled": m["unpooled"] is None,
            }
        )
    return found


def equilibrium_parts(summary: str, options: Options) -> list[Part]:
    """The listed equilibria as parts of the equilibrium population (notes only), checked to
    render the very lines the summary holds."""
    member_ids = [m.id for m in load_scenario(options.scenario).members]
    parts = [
        Part(
            "equilibrium",
            Setting("axis", c, "usa/by-type"),
            options.eval_seeds,
            {},
            notes={"equilibria": eqs},
        )  # fmt: skip
        for c, eqs in listed_equilibria(summary, member_ids).items()
    ]
    original = summary.split("## Equilibria found", 1)[1].split("\n## ", 1)[0]
    if [x for x in equilibrium_lines(parts) if x.startswith("- c=")] != [
        x for x in original.splitlines() if x.startswith("- c=")
    ]:
        raise ValueError("the equilibria read back render other lines than the summary's")
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", help="summary.md that lists the equilibria")
    parser.add_argument("out", help="experiment folder with the trained population's runs")
    parser.add_argument("--scenario", default="brussels-2025-04")
    parser.add_argument("--write", help="write challenges.json and challenges.md here")
    args = parser.parse_args()
    options = Options(scenario=args.scenario)
    parts = equilibrium_parts(Path(args.summary).read_text(), options)
    trained = sorted((Path(args.out) / "parts" / "trained").glob("axis-*.json"))
    parts += [Part.from_json(p.read_text()) for p in trained]
    challenges = russia_challenges(options, parts, Path(args.out))
    md = "\n".join(challenge_lines(challenges)).strip() + "\n"
    print(md)
    if args.write:
        folder = Path(args.write)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "challenges.json").write_text(json.dumps(challenges, indent=1))
        (folder / "challenges.md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
