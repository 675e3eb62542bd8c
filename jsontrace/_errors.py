"""Warnings jsontrace raises.

Tracing never raises into the traced code; it reports its own problems once,
as warnings::

    UserWarning
     └── JsonTraceWarning        any problem inside jsontrace
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings

__all__ = [
    "JsonTraceWarning",
    "forget_report",
    "forget_reports",
    "report_once",
    "safe_repr",
]


class JsonTraceWarning(UserWarning):
    """A problem inside jsontrace: the traced code went on, the trace may be incomplete."""


_reported: set[str] = set()
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # Another thread may have held the lock at the fork; in the child it would never
    # be released, and the child's first report would hang forever.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def report_once(key: str, message: str) -> None:
    """Warn about *key* the first time only; never raise, even under ``-W error``."""
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
    # "-W error" must not turn tracing trouble into app trouble.
    with contextlib.suppress(Exception):
        warnings.warn(f"jsontrace: {message}", JsonTraceWarning, stacklevel=2)


def forget_report(key: str) -> None:
    """Allow *key* to be reported again (after the problem went away)."""
    with _lock:
        _reported.discard(key)


def forget_reports() -> None:
    """Forget every report (for tests)."""
    with _lock:
        _reported.clear()


def safe_repr(value: object) -> str:
    """``repr(value)``, or a description of the value when its ``__repr__`` raises.

    Anything, ``KeyboardInterrupt`` and ``SystemExit`` included: jsontrace calls
    ``__repr__`` only to record a value, and a trace is no reason to stop the app.
    """
    try:
        return repr(value)
    except BaseException:
        return f"<{type(value).__qualname__} object (repr failed)>"
