"""The ``reassurance play`` command."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand to the ``reassurance`` parser."""
