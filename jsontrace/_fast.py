"""The events without the chain: a run's fixed bytes once, then a few C calls per chunk.

Used when the user configured no structlog processors of their own (the
default). A chunk line of one run differs from the previous one only in its
time stamp, ``seq`` and ``chunk``::

    {"event":"run.chunk","run_id":"…","trace_id":"…","v":1,"ts":"  <- the run's prefix, once
    2026-12-01T16:00:00                                           <- cached per second
    .123456Z","seq":7,"chunk":                                    <- formatted
    "token"}                                                      <- one orjson.dumps of the value

so the writer's line is assembled from those pieces (as pino does with a
child logger's bound fields) instead of stamping, redacting and rendering a
dict. Whatever the shortcut cannot vouch for, a value the redactor may have
to change, one orjson refuses, a line long enough to need cutting, goes the
general way: the event dict through the chain, which then writes it.

``run.start`` and ``run.end`` keep their dict (orjson renders one faster
than Python joins its pieces) but take the chain's steps in one function:
the redactor is asked about the payload fields alone (the rest is ours), and
rendered directly.

Both ways write the same bytes (``tests/test_fast.py`` checks it over random
values, ids and times).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from . import format as fmt
from ._serialize import default
from .processors import merge_contextvars, second_text, stamp_time

if TYPE_CHECKING:
    from ._redact import Redactor
    from .processors import Renderer

__all__ = ["ChunkEmit", "chunk_event", "chunk_prefix", "fast_chunk", "fast_event"]

#: ``(prefix, run_id, trace_id, ts_ns, seq, value)``: record one chunk of a run.
ChunkEmit = Callable[[bytes, str, str, int, int, Any], None]

# What the renderer renders with, but the newline: a value is rendered on its own.
_VALUE_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_SCALARS = (str, int, float, bool)
# Everything after the second: microseconds, the sequence number, the value.
_TAIL = f'.%06dZ","{fmt.CHUNK_SEQ}":%d,"{fmt.CHUNK_VALUE}":%b}}\n'.encode()
_LINE = b"%b%b" + _TAIL
_OPTIONS = _VALUE_OPTIONS | orjson.OPT_APPEND_NEWLINE  # the renderer's

_ENVELOPE = (fmt.EVENT, fmt.RUN_ID, fmt.TRACE_ID, fmt.VERSION, fmt.TS)
_START = frozenset(
    {*_ENVELOPE, fmt.PARENT_RUN_ID, fmt.NAME, fmt.RUN_TYPE, fmt.INPUTS, fmt.TAGS, fmt.METADATA,
     fmt.PID, fmt.HOST}
)  # fmt: skip
_END = frozenset({*_ENVELOPE, fmt.STATUS, fmt.OUTPUTS, fmt.ERROR, fmt.CHUNK_COUNT, fmt.DURATION_MS})
#: Per kind: the key sets whose every field but *payload* is the library's own, and that payload.
_SHAPES: dict[str, tuple[tuple[frozenset[str], ...], tuple[str, ...]]] = {
    fmt.START: ((_START,), (fmt.INPUTS, fmt.TAGS, fmt.METADATA)),
    fmt.END: ((_END, _END | {fmt.FIRST_CHUNK_MS}), (fmt.OUTPUTS, fmt.ERROR)),
}


def chunk_event(run_id: str, trace_id: str, ns: int, seq: int, value: Any) -> dict[str, Any]:
    """The ``run.chunk`` event dict the processor chain takes (``ts`` still in nanoseconds)."""
    # Literal keys: a dict display of them is built in one step (tests/test_fast.py checks
    # that the chain renders it as the fast path writes, format.py's names in order).
    return {
        "event": "run.chunk",
        "run_id": run_id,
        "trace_id": trace_id,
        "v": 1,
        "ts": ns,
        "seq": seq,
        "chunk": value,
    }


def chunk_prefix(run_id: str, trace_id: str) -> bytes:
    """The bytes every chunk line of this run starts with, up to the time stamp's text.

    ``b""`` for ids the shortcut cannot render: their chunks go through the chain.
    """
    # Rendered by orjson as the renderer renders the whole line, so ids needing
    # escapes come out the same; the empty ts and the closing '"}' are cut off.
    head = {
        fmt.EVENT: fmt.CHUNK,
        fmt.RUN_ID: run_id,
        fmt.TRACE_ID: trace_id,
        fmt.VERSION: fmt.FORMAT_VERSION,
        fmt.TS: "",
    }
    try:
        return orjson.dumps(head, default=default, option=_VALUE_OPTIONS)[:-2]
    except (TypeError, orjson.JSONEncodeError):  # ids orjson refuses: the chain copes
        return b""


def fast_chunk(
    redactor: Redactor | None,
    renderer: Renderer,
    general: Callable[[dict[str, Any]], None],
    write: Callable[[bytes], None],
) -> ChunkEmit:
    """A chunk emitter writing what *general* (the chain, then *write*) would write."""
    clean = redactor.clean_value if redactor is not None else None
    walk_above = renderer.walk_above
    dumps = orjson.dumps
    # (second, its text) in one tuple, as in stamp_time: threads share this cell.
    cached: list[tuple[int, bytes]] = [(-1, b"")]

    def emit_chunk(
        prefix: bytes, run_id: str, trace_id: str, ns: int, seq: int, value: Any
    ) -> None:
        if prefix and (clean is None or clean(value)):
            try:
                if type(value) in _SCALARS or value is None:
                    body = dumps(value)
                else:
                    # Inside a list, as inside the event dict: orjson's nesting limit
                    # counts the same levels, so a value too deep for one is for both.
                    body = dumps([value], default=default, option=_VALUE_OPTIONS)[1:-1]
            except (TypeError, orjson.JSONEncodeError):
                pass  # the renderer's careful walk
            else:
                second, rest = divmod(ns, 1_000_000_000)
                stamp = cached[0]
                if stamp[0] != second:
                    stamp = (second, second_text(second).encode())
                    cached[0] = stamp
                line = _LINE % (prefix, stamp[1], rest // 1000, seq, body)
                if len(line) <= walk_above:
                    write(line)
                    return
        general(chunk_event(run_id, trace_id, ns, seq, value))

    return emit_chunk


def fast_event(
    kind: str,
    redactor: Redactor | None,
    renderer: Renderer,
    general: Callable[[dict[str, Any]], None],
    write: Callable[[bytes], None],
) -> Callable[[dict[str, Any]], None]:
    """A ``run.start`` or ``run.end`` emitter writing what *general* (the chain) would write.

    An event of another shape (an end with usage, changed metadata or warnings)
    or one the redactor may have to change is given to *general* as it came.
    """
    shapes, payload = _SHAPES[kind]
    clean = redactor.clean_fields if redactor is not None else None
    merge = merge_contextvars if kind == fmt.START else None
    walk_above = renderer.walk_above
    careful = renderer.careful
    dumps = orjson.dumps

    def emit_event(event: dict[str, Any]) -> None:
        if merge is not None:  # first, as what it adds is redacted too
            merge(None, kind, event)
        if clean is not None and not (event.keys() in shapes and clean(event, payload)):
            general(event)  # which merges again, adding nothing: it keeps what is there
            return
        stamp_time(None, kind, event)
        try:
            line = dumps(event, default=default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            line = careful(event)
        else:
            if len(line) > walk_above:
                line = careful(event)
        write(line)

    return emit_event
