"""Warnings jsontrace raises.

Tracing never raises into the traced code; it reports its own problems once,
as warnings::

    UserWarning
     └── JsonTraceWarning        any problem inside jsontrace
"""

from __future__ import annotations

import threading
import warnings

__all__ = ["JsonTraceWarning", "forget_report", "forget_reports", "report_once"]


class JsonTraceWarning(UserWarning):
    """A problem inside jsontrace: the traced code went on, the trace may be incomplete."""


_reported: set[str] = set()
_lock = threading.Lock()


def report_once(key: str, message: str) -> None:
    """Warn about *key* the first time only; never raise, even under ``-W error``."""
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
    try:
        warnings.warn(f"jsontrace: {message}", JsonTraceWarning, stacklevel=2)
    except Exception:  # noqa: BLE001 - "-W error" must not turn tracing trouble into app trouble
        pass


def forget_report(key: str) -> None:
    """Allow *key* to be reported again (after the problem went away)."""
    with _lock:
        _reported.discard(key)


def forget_reports() -> None:
    """Forget every report (for tests)."""
    with _lock:
        _reported.clear()
