"""A ``parent=`` in any form LangSmith users pass one, as the run to nest under.

Accepted: a :class:`~jsontrace.Run`, a :class:`~jsontrace.RunTree` (ours, or
LangSmith's own: anything with ``to_headers()`` or a ``dotted_order``),
request headers (a mapping or a list of pairs holding ``langsmith-trace`` /
``traceparent``, and ``baggage``), a dotted order, a ``traceparent`` value or a
run id as text (or a ``uuid.UUID``). ``False`` and ``"ignore"`` mean "no parent:
start a new trace". Anything else is reported once and ignored.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import report_once, safe_repr
from ._headers import (
    RemoteParent,
    parse_dotted_order,
    parse_headers,
    parse_traceparent,
    segment,
)

if TYPE_CHECKING:
    import re

    from ._context import Parent

__all__ = ["DETACHED", "canonical_uuid", "resolve"]


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # Compiled on first use: importing re is a noticeable part of `from jsontrace
    # import traceable` when nothing else has loaded it.
    import re

    return re.compile(pattern)


class _Detached:
    """The parent of a run that must start a new trace (``parent=False``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DETACHED"


DETACHED: Final = _Detached()

_TRACEPARENT_START = r"[0-9a-f]{2}-[0-9a-f]{32}-"
_UUID_TEXT = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\Z"


def canonical_uuid(value: object) -> str | None:
    """*value* (a ``uuid.UUID`` or its text) as a lowercase hyphenated UUID, or None."""
    text = str(value).strip().lower().removeprefix("urn:uuid:").strip("{}")
    if not _compiled(_UUID_TEXT).match(text):
        return None
    hex32 = text.replace("-", "")
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def resolve(value: object, where: str) -> Parent | _Detached | None:
    """The run *value* names, :data:`DETACHED`, or None (no parent given, or not usable here).

    *where* says where the value came from, for the warning
    (``"langsmith_extra['parent']"``, ``"tracing_context(parent=...)"``).
    """
    from ._run import Run
    from ._run_tree import RunTree

    if value is None:
        return None
    if value is False or (isinstance(value, str) and value == "ignore"):
        return DETACHED
    if isinstance(value, (Run, RemoteParent)):
        return value
    if isinstance(value, RunTree):
        return value._node
    if isinstance(value, str):
        return _from_text(value, where)
    if isinstance(value, Mapping):
        # Request headers without ours are a request that starts a trace, not a mistake.
        return parse_headers(value)
    if type(value).__name__ == "UUID":
        return _from_text(str(value), where)
    if hasattr(value, "to_headers") or hasattr(value, "dotted_order"):
        # Before the pairs below: LangSmith's RunTree (a pydantic model) iterates as pairs too.
        return _from_object(value, where)
    if isinstance(value, (list, tuple)):  # ASGI's raw [(name, value), ...]
        return parse_headers(value)
    return _from_object(value, where)


def _from_text(text: str, where: str) -> RemoteParent | None:
    text = text.strip()
    run_id = canonical_uuid(text)
    if run_id is not None:
        # A bare run id says nothing of its trace: it is taken as the trace's root.
        return RemoteParent(
            trace_id=run_id, run_id=run_id, dotted_order=segment(time.time_ns(), run_id)
        )
    if _compiled(_TRACEPARENT_START).match(text):
        return parse_traceparent(text)
    return parse_dotted_order(text)


def _from_object(value: Any, where: str) -> RemoteParent | None:
    """LangSmith's own RunTree (or anything like it): by its headers, else its dotted order."""
    try:
        to_headers = getattr(value, "to_headers", None)
        if callable(to_headers):
            return parse_headers(to_headers())
        dotted = getattr(value, "dotted_order", None)
        if isinstance(dotted, str) and dotted:
            return parse_dotted_order(dotted)
    except Exception as exc:
        report_once(f"parent:{where}", f"{where}: could not read the parent: {safe_repr(exc)}")
        return None
    report_once(
        f"parent:{where}",
        f"{where} must be a run, a RunTree, request headers, a dotted order or a run id, "
        f"not {type(value).__name__}; ignored",
    )
    return None
