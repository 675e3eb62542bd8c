"""``langsmith.run_helpers`` under jsontrace's name, so LangSmith's imports change one word.

::

    from jsontrace.run_helpers import get_current_run_tree, traceable, tracing_context

The names are jsontrace's own (declared in :mod:`jsontrace`); this module only
gives them the path LangSmith's documentation imports them from.
"""

from __future__ import annotations

from ._decorator import traceable
from ._manual import trace
from ._run_tree import get_current_run_tree, set_run_metadata
from ._tracing_context import get_tracing_context, tracing_context

__all__ = [
    "get_current_run_tree",
    "get_tracing_context",
    "set_run_metadata",
    "trace",
    "traceable",
    "tracing_context",
]
