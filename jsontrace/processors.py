"""The structlog processors that turn a jsontrace event into one line of bytes.

A processor is structlog's ``(logger, method_name, event_dict) -> event_dict``;
the chain jsontrace builds for each event (see ``_pipeline``) is::

    stamp_time -> merge_contextvars (run.start only) -> your processors -> Redactor -> Renderer

Without processors of yours, events take a shortcut that writes the same
bytes (``_fast``: chunks assembled from a run's prepared prefix, starts and
ends rendered directly, the chain only for what must be redacted or cut);
with them, every event runs the whole chain through structlog, which costs a
few microseconds more per event.

Your own processors (``jsontrace.configure(processors=[...])``) run after
jsontrace's fields are set, with ``ts`` already text, and before redaction and
rendering: what they add is redacted and cut like everything else. They must
return the event dict (or raise ``structlog.DropEvent`` to drop the event).

Each class does its set-up in ``__init__`` so that ``__call__`` does the
least work per event. Rough costs per event on a 2-core machine (see
``docs/performance.md``): ``stamp_time`` ~0.3 µs; ``Redactor`` ~0.3 µs for a
chunk holding a short string, ~1 µs for a start event with small inputs (one
orjson rendering and three short byte searches), when nothing looks secret;
``Renderer`` ~0.3 µs for a small event. The careful slow paths run only for
the events that need them.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson

from . import format as fmt
from ._redact import ENVELOPE, REDACTED, Redactor
from ._serialize import default, to_jsonable

__all__ = ["REDACTED", "Redactor", "Renderer", "merge_contextvars", "second_text", "stamp_time"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE

_modules = sys.modules

# (second, its text) in one tuple: threads stamp concurrently, and a pair of globals
# could be read half-updated, giving an event the text of another second.
_second_cache: tuple[int, str] = (-1, "")


def second_text(second: int) -> str:
    """RFC 3339 UTC text of a whole Unix second, without the fraction: the slow part of a stamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def stamp_time(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replace the ``ts`` nanosecond count by RFC 3339 UTC text with microseconds and ``Z``.

    The run code stores ``time.time_ns()`` so durations need no parsing; the
    text for the whole second is cached because strftime is the slow part.
    """
    global _second_cache
    second, rest = divmod(event_dict["ts"], 1_000_000_000)
    cached = _second_cache
    if cached[0] != second:
        cached = (second, second_text(second))
        _second_cache = cached
    # %-formatting is measurably cheaper than an f-string with a format spec here.
    event_dict["ts"] = "%s.%06dZ" % (cached[1], rest // 1000)  # noqa: UP031
    return event_dict


def merge_contextvars(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Add what the app bound with ``structlog.contextvars.bind_contextvars`` to a run's metadata.

    Request ids, user ids: what structlog users already bind for their logs
    reach the run that starts in that context. The run's own metadata wins
    over a bound value of the same key. The run's metadata is updated in place,
    so that a ``run.end`` repeating the metadata (after ``add_metadata``) keeps them.
    """
    # Nothing can be bound before the app imports structlog; jsontrace itself does not
    # import it for this (get_contextvars walks the whole context, about a microsecond).
    module = _modules.get("structlog.contextvars")
    if module is not None:
        bound = module.get_contextvars()
        if bound:
            metadata = event_dict[fmt.METADATA]
            for key, value in bound.items():
                metadata.setdefault(key, value)
    return event_dict


class Renderer:
    """Render the event dict to one JSON line (bytes ending in ``\\n``), whatever it holds.

    orjson renders the common case directly. Only if it refuses (a cycle, a
    huge int, a lone surrogate, nesting past its limit) or the line is long
    enough that a string or list in it may exceed the limits, the payload is
    walked with :func:`~jsontrace._serialize.to_jsonable` and rendered again.
    """

    def __init__(self, *, max_chars: int, max_items: int) -> None:
        self._max_chars = max_chars
        self._max_items = max_items
        # A line shorter than this cannot hold a string longer than max_chars
        # (one byte or more per character) nor a list longer than max_items
        # (two bytes or more per item), so it needs no walk.
        self.walk_above = min(max_chars, 2 * max_items)

    def __call__(self, _logger: Any, _method: str, event_dict: dict[str, Any]) -> bytes:
        try:
            line = orjson.dumps(event_dict, default=default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return self.careful(event_dict)
        if len(line) > self.walk_above:
            return self.careful(event_dict)
        return line

    def careful(self, event_dict: dict[str, Any]) -> bytes:
        """The line of *event_dict* with every payload value converted, cut to the limits."""
        clean = {
            key: value
            if key in ENVELOPE
            else to_jsonable(value, max_chars=self._max_chars, max_items=self._max_items)
            for key, value in event_dict.items()
        }
        return orjson.dumps(clean, option=_OPTIONS)
