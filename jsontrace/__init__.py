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

from importlib import import_module

from ._forklock import LOCK as _LOCK
from ._version import __version__

# Not `from typing import TYPE_CHECKING`: typing alone is most of the cost of a bare
# `import jsontrace`. Type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._config import configure, reset_defaults
    from ._context import ContextThreadPoolExecutor, copy_context, get_current_run
    from ._decorator import traceable
    from ._errors import JsonTraceWarning
    from ._manual import trace
    from ._run import Run
    from ._run_tree import RunTree, get_current_run_tree, set_run_metadata
    from ._tracing_context import get_tracing_context, tracing_context

__all__ = [
    "ContextThreadPoolExecutor",
    "JsonTraceWarning",
    "Run",
    "RunTree",
    "__version__",
    "configure",
    "copy_context",
    "get_current_run",
    "get_current_run_tree",
    "get_tracing_context",
    "reset_defaults",
    "set_run_metadata",
    "trace",
    "traceable",
    "tracing_context",
]

# Where each public name lives. They are imported on first use (PEP 562), as
# langsmith does, so that `import jsontrace` in a command-line tool that may
# never trace costs a few milliseconds; `from jsontrace import traceable` loads
# what tracing needs (see docs/performance.md for both numbers).
_HOMES = {
    "ContextThreadPoolExecutor": "._context",
    "JsonTraceWarning": "._errors",
    "Run": "._run",
    "RunTree": "._run_tree",
    "configure": "._config",
    "copy_context": "._context",
    "get_current_run": "._context",
    "get_current_run_tree": "._run_tree",
    "get_tracing_context": "._tracing_context",
    "reset_defaults": "._config",
    "set_run_metadata": "._run_tree",
    "trace": "._manual",
    "traceable": "._decorator",
    "tracing_context": "._tracing_context",
}


# Standard modules ours import whose own import takes logging's lock (a
# logging.getLogger at import time). Imported before _LOCK is taken: a fork holds
# logging's lock in logging's at-fork hook, possibly while it waits for _LOCK.
_IMPORTED_FIRST = ("concurrent.futures",)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'jsontrace' has no attribute {name!r}")
    for module in _IMPORTED_FIRST:
        import_module(module)
    # Held while the module loads, so that a fork in another thread waits for it
    # instead of leaving the child with a module lock that is never released.
    with _LOCK:
        value = getattr(import_module(home, __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
