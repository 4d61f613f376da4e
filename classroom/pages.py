"""The Jinja2 templates of the classroom's pages (autoescaped: user text is never raw HTML)."""

from __future__ import annotations

import functools
import math
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = ["templates"]


def _number(value: Any, digits: int = 2) -> str:
    """A figure for a table: thousands separated, NaN as n/a, booleans as yes/no."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if abs(value) >= 1000 or value.is_integer():
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


@functools.cache
def templates() -> Environment:
    """The template environment (one per process)."""
    env = Environment(
        loader=PackageLoader("reassurance.classroom", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = _number
    return env
