"""reassurance: a multi-agent negotiation and wargame environment about a reassurance force for
Ukraine and whether the United States backs it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reassurance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
