"""The structlog processors that turn a jsontrace event into one line of bytes.

A processor is structlog's ``(logger, method_name, event_dict) -> event_dict``;
the chain jsontrace builds (see ``_pipeline``) is::

    stamp_time -> Renderer -> Redactor -> segment writer

Each class does its set-up in ``__init__`` so that ``__call__`` does the
least work per event. Measured costs per event on a 2-core machine (see
``docs/performance.md``): ``stamp_time`` ~0.2 µs, ``Renderer`` ~0.3 µs for a
small event (orjson), ``Redactor`` ~0.2 µs when the line holds nothing that
looks secret (one regular-expression scan of the bytes); the careful slow
paths run only for events that need them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

import orjson

from . import format as fmt
from ._serialize import default, to_jsonable

__all__ = ["REDACTED", "Redactor", "Renderer", "stamp_time"]

REDACTED = "[REDACTED]"

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
_ENVELOPE = frozenset(
    {
        fmt.EVENT,
        fmt.RUN_ID,
        fmt.TRACE_ID,
        fmt.VERSION,
        fmt.TS,
        fmt.PARENT_RUN_ID,
        fmt.PID,
        fmt.HOST,
        fmt.CHUNK_SEQ,
        fmt.STATUS,
        fmt.CHUNK_COUNT,
        fmt.DURATION_MS,
        fmt.FIRST_CHUNK_MS,
        fmt.REDACTED,
    }
)

_second = -1
_second_text = ""


def stamp_time(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replace the ``ts`` nanosecond count by RFC 3339 UTC text with microseconds and ``Z``.

    The run code stores ``time.time_ns()`` so durations need no parsing; the
    text for the whole second is cached because strftime is the slow part.
    """
    global _second, _second_text
    ns = event_dict[fmt.TS]
    second, rest = divmod(ns, 1_000_000_000)
    if second != _second:
        _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = second
    event_dict[fmt.TS] = f"{_second_text}.{rest // 1000:06d}Z"
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
        self._walk_above = min(max_chars, 2 * max_items)

    def __call__(self, _logger: Any, _method: str, event_dict: dict[str, Any]) -> bytes:
        try:
            line = orjson.dumps(event_dict, default=default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return self._careful(event_dict)
        if len(line) > self._walk_above:
            return self._careful(event_dict)
        return line

    def _careful(self, event_dict: dict[str, Any]) -> bytes:
        clean = {
            key: value
            if key in _ENVELOPE
            else to_jsonable(value, max_chars=self._max_chars, max_items=self._max_items)
            for key, value in event_dict.items()
        }
        return orjson.dumps(clean, option=_OPTIONS)


# Key names whose values are secrets: matched against the last "_", "-" or "."
# separated part, so "openai_api_key" and "X-Api-Key" match but "max_tokens" does not.
_SECRET_KEYS = (
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "cookie",
    "set-cookie",
    "credentials",
    "private_key",
)
# Shapes of tokens inside free text.
_SECRET_PATTERNS = (
    r"sk-[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic ("sk-ant-..."), project keys
    r"(?i:bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*",  # HTTP bearer tokens
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack tokens
    r"AKIA[0-9A-Z]{16}",  # AWS access key ids
    r"AIza[0-9A-Za-z\-_]{35}",  # Google API keys
)


class Redactor:
    """Replace secrets by ``[REDACTED]`` and list the dotted paths of what was replaced.

    It runs on the rendered bytes: one scan of the line for anything that
    looks like a secret key or token decides, so that ordinary events cost a
    single regular-expression search. Only a line with a hit is parsed,
    walked (every key and string, whatever Python objects it came from) and
    rendered again with a ``redacted`` field.
    """

    def __init__(self, *, keys: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        names = sorted({*(_SECRET_KEYS), *(k.lower() for k in keys)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(name).replace("_", "[_-]?") for name in names)
        self._key = re.compile(rf"(?:^|[_.\-])(?:{alternatives})$", re.IGNORECASE)
        shapes = [*_SECRET_PATTERNS, *patterns]
        self._text = re.compile("|".join(f"(?:{p})" for p in shapes))
        # The gate over bytes: a JSON key ending in a secret name, or a token shape.
        key_gate = rf'"(?:[^"\\]*[_.\-])?(?:{alternatives})":'
        try:
            self._gate: re.Pattern[bytes] | None = re.compile(
                f"{key_gate}|{self._text.pattern}".encode(), re.IGNORECASE
            )
        except re.error:  # a user pattern that only works on str: always take the slow path
            self._gate = None

    def __call__(self, _logger: Any, _method: str, line: bytes) -> bytes:
        if self._gate is not None and self._gate.search(line) is None:
            return line
        event = orjson.loads(line)
        paths: list[str] = []
        for key in list(event):
            if key not in _ENVELOPE:
                event[key] = self._scrub(event[key], key, paths)
        if not paths:
            return line
        event[fmt.REDACTED] = paths
        return orjson.dumps(event, option=_OPTIONS)

    def _scrub(self, value: Any, path: str, paths: list[str]) -> Any:
        if isinstance(value, str):
            scrubbed = self._text.sub(REDACTED, value)
            if scrubbed != value:
                paths.append(path)
            return scrubbed
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                where = f"{path}.{key}"
                if self._key.search(key) and item not in (None, ""):
                    out[key] = REDACTED
                    paths.append(where)
                else:
                    out[key] = self._scrub(item, where, paths)
            return out
        if isinstance(value, list):
            return [self._scrub(item, f"{path}[{i}]", paths) for i, item in enumerate(value)]
        return value
