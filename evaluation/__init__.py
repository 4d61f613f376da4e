"""Evaluation tournaments: seeded, resumable, provenance-stamped, with ratings and reports.

>>> from reassurance.evaluation import load_tournament_config, plan_tournament, run_tournament
>>> config, base_dir = load_tournament_config("classroom-heuristics")
>>> plan = plan_tournament(config, base_dir)
>>> run_tournament(plan, "results.sqlite", workers=2)  # doctest: +SKIP
>>> write_report("results.sqlite", "report/")  # doctest: +SKIP

The command line does the same: ``reassurance tournament classroom-heuristics --db
results.sqlite`` then ``reassurance report results.sqlite --out report/``. See
``docs/evaluation.md`` for the tables, the rating method, the schedule, coalition mixes and the
database schema; :mod:`reassurance.evaluation.empirical` builds payoff tables from any samples.
Ray, matplotlib and OpenSpiel are imported only when a run, a plot or a ranking needs them.
"""

from reassurance.evaluation.config import (
    ROLES,
    Coalition,
    MatchSpec,
    Mix,
    Plan,
    ResolvedPolicy,
    TournamentConfig,
    list_tournament_configs,
    load_tournament_config,
    match_key,
    plan_tournament,
)
from reassurance.evaluation.hashing import hash_checkpoint, scenario_hash
from reassurance.evaluation.report import write_report
from reassurance.evaluation.store import read_tournament
from reassurance.evaluation.tournament import RunReport, run_tournament

__all__ = [
    "ROLES",
    "Coalition",
    "MatchSpec",
    "Mix",
    "Plan",
    "ResolvedPolicy",
    "RunReport",
    "TournamentConfig",
    "hash_checkpoint",
    "list_tournament_configs",
    "load_tournament_config",
    "match_key",
    "plan_tournament",
    "read_tournament",
    "run_tournament",
    "scenario_hash",
    "write_report",
]
