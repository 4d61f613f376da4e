"""reassurance: a multi-agent negotiation and wargame environment about a reassurance force for
Ukraine and whether the United States backs it.

This package is the face of the project: the version and the ``reassurance`` command. The
libraries live beside it: ``reassurance.envs``, ``.agents``, ``.training``, ``.evaluation``,
``.configs`` and ``.runtime``.
"""

from reassurance.runtime.version import __version__

__all__ = ["__version__"]
