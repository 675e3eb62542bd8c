"""LangSmith's call-time ``langsmith_extra``, checked once per call.

A key or value that cannot work is reported once (per key) and ignored: the
call is traced with what is left, never refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import report_once, safe_repr
from ._parents import _Detached, canonical_uuid, resolve

if TYPE_CHECKING:
    from ._context import Parent

__all__ = ["UNSET", "Call", "parse_extra", "tag_list"]

UNSET: Final[Any] = object()

#: Keys LangSmith accepts that concern its server only (where to send, which client):
#: accepted, and nothing to record.
_SERVER_ONLY = frozenset({"client", "replicas", "address", "run_extra", "_on_success"})
_KNOWN = (
    "name",
    "tags",
    "metadata",
    "parent",
    "run_tree",
    "run_id",
    "on_end",
    "project_name",
    "reference_example_id",
)


class Call:
    """What one call's ``langsmith_extra`` asks for (``parent`` is :data:`UNSET` when not given)."""

    __slots__ = (
        "metadata",
        "name",
        "on_end",
        "parent",
        "project_name",
        "reference_example_id",
        "run_id",
        "tags",
    )

    def __init__(self) -> None:
        self.name: str | None = None
        self.tags: list[str] = []
        self.metadata: dict[str, Any] | None = None
        self.parent: Parent | _Detached | Any = UNSET
        self.run_id: str | None = None
        self.on_end: Callable[[Any], Any] | None = None
        self.project_name: str | None = None
        self.reference_example_id: str | None = None


def _warn(key: str, message: str) -> None:
    report_once(f"extra:{key}", f"langsmith_extra[{key!r}] {message}; ignored")


def tag_list(value: object, label: str) -> list[str] | None:
    """*value* as a list of tags (a lone string is one tag), or None (reported once) if it is not one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        tags = list(value)
        if all(isinstance(tag, str) for tag in tags):
            return tags
    report_once(
        f"tags:{label}", f"{label} must be a list of strings, got {safe_repr(value)}; ignored"
    )
    return None


def parse_extra(extra: object) -> Call | None:
    """*extra* checked; None when it asks for nothing (or is not a mapping, reported once)."""
    if not isinstance(extra, Mapping):
        report_once("extra", f"langsmith_extra must be a dict, got {type(extra).__name__}; ignored")
        return None
    call = Call()
    for key, value in extra.items():
        if value is None or key in _SERVER_ONLY:
            continue
        if key == "name":
            if isinstance(value, str):
                call.name = value
            else:
                _warn(key, f"must be a string, got {type(value).__name__}")
        elif key == "tags":
            call.tags = tag_list(value, "langsmith_extra['tags']") or []
        elif key == "metadata":
            if isinstance(value, Mapping):
                call.metadata = dict(value)
            else:
                _warn(key, f"must be a dict, got {type(value).__name__}")
        elif key in ("parent", "run_tree"):  # run_tree: LangSmith's older name for it
            parent = resolve(value, f"langsmith_extra[{key!r}]")
            if parent is not None:
                call.parent = parent
        elif key == "run_id":
            call.run_id = canonical_uuid(value)
            if call.run_id is None:
                _warn(key, f"must be a UUID, got {safe_repr(value)}")
        elif key == "on_end":
            if callable(value):
                call.on_end = value
            else:
                _warn(key, f"must be callable, got {type(value).__name__}")
        elif key == "project_name":
            if isinstance(value, str):
                call.project_name = value or None
            else:
                _warn(key, f"must be a string, got {type(value).__name__}")
        elif key == "reference_example_id":
            call.reference_example_id = str(value)
        else:
            report_once(
                f"extra-key:{key}",
                f"langsmith_extra key {key!r} is not one jsontrace knows "
                f"({', '.join(_KNOWN)}); ignored",
            )
    return call
