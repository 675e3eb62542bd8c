"""jsontrace: offline tracing for LLM apps, as JSON lines in local files.

::

    from jsontrace import traceable

    @traceable(reduce_fn="".join)
    def stream():
        yield from ["Hello", "World", "!"]

Every call is appended to ``./logs`` (``configure(dir=...)`` or
``JSONTRACE_DIR``) as ``run.start`` / ``run.chunk`` / ``run.end`` events;
``jsontrace-view ./logs`` shows them live. The format is in ``docs/format.md``.
"""

from __future__ import annotations

from ._config import configure, reset_defaults
from ._context import ContextThreadPoolExecutor, copy_context, get_current_run
from ._decorator import traceable
from ._errors import JsonTraceWarning
from ._manual import trace
from ._run import Run
from ._version import __version__

__all__ = [
    "ContextThreadPoolExecutor",
    "JsonTraceWarning",
    "Run",
    "__version__",
    "configure",
    "copy_context",
    "get_current_run",
    "reset_defaults",
    "trace",
    "traceable",
]
