"""The ``reassurance tournament and report`` commands."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommands to the ``reassurance`` parser."""
