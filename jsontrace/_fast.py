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

import sys
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import orjson

from . import format as fmt
from ._serialize import default
from .processors import merge_contextvars, second_text

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
# The same, but OPT_NON_STR_KEYS (see fast_event).
_QUICK = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
_QUICK_VALUE = orjson.OPT_SERIALIZE_NUMPY
# A stamp's microseconds as two groups of three digits, the second with the "Z".
_DIGITS = [f"{n:03d}" for n in range(1000)]
_DIGITS_Z = [f"{n:03d}Z" for n in range(1000)]
_modules = sys.modules

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


def _reraise(_kind: Any, exc: Exception) -> None:
    raise exc


def _nothing() -> None:
    pass


def fast_chunk(
    redactor: Redactor | None,
    renderer: Renderer,
    general: Callable[[dict[str, Any]], None],
    write: Callable[[bytes], None],
    failed: Callable[[Any, Exception], None] = _reraise,
    lost: Collection[str] = (),
    again: Callable[[], None] = _nothing,
) -> ChunkEmit:
    """A chunk emitter writing what *general* (the chain, then *write*) would write.

    It is the pipeline's ``record_chunk`` itself, so it never raises: a failure is
    given to *failed* (with the event kind), and after a line is written while
    *lost* is not empty, *again* is called (see :mod:`jsontrace._pipeline`).
    """
    clean = redactor.clean_value if redactor is not None else None
    gated = redactor is not None and redactor.gated
    walk_above = renderer.walk_above
    dumps = orjson.dumps
    # (the second's first nanosecond, its text) in one tuple, as in stamp_time: threads
    # share this cell. The first chunk's second is never within a second of this start.
    cached: list[tuple[int, bytes]] = [(-(10**30), b"")]

    def emit_chunk(
        prefix: bytes, run_id: str, trace_id: str, ns: int, seq: int, value: Any
    ) -> None:
        try:
            kind = type(value)
            # clean_value's one-character gates for text inlined: most chunks are tokens.
            if prefix and (
                clean is None
                or (
                    gated
                    and kind is str
                    and not (
                        "-" in value
                        or "_" in value
                        or "A" in value
                        or "@" in value
                        or "b" in value
                        or "B" in value
                    )
                )
                or clean(value)
            ):
                try:
                    if kind in _SCALARS or value is None:
                        body = dumps(value)
                    else:
                        # Inside a list, as inside the event dict: orjson's nesting limit
                        # counts the same levels, so a value too deep for one is for both.
                        # Without OPT_NON_STR_KEYS first, as in fast_event.
                        try:
                            body = dumps([value], default, _QUICK_VALUE)[1:-1]
                        except (TypeError, orjson.JSONEncodeError):
                            body = dumps([value], default, _VALUE_OPTIONS)[1:-1]
                except (TypeError, orjson.JSONEncodeError):
                    pass  # the renderer's careful walk
                else:
                    base, text = cached[0]
                    rest = ns - base  # cheaper than a divmod of the 61-bit count
                    if rest < 0 or rest >= 1_000_000_000:
                        second = ns // 1_000_000_000
                        base = second * 1_000_000_000
                        text = second_text(second).encode()
                        cached[0] = (base, text)
                        rest = ns - base
                    line = _LINE % (prefix, text, rest // 1000, seq, body)
                    if len(line) <= walk_above:
                        write(line)
                        if lost:
                            again()
                        return
            general(chunk_event(run_id, trace_id, ns, seq, value))
        except Exception as exc:  # never into the traced code (see _pipeline.record_chunk)
            failed(fmt.CHUNK, exc)
            return
        if lost:
            again()

    return emit_chunk


def fast_event(
    kind: str,
    redactor: Redactor | None,
    renderer: Renderer,
    general: Callable[[dict[str, Any]], None],
    write: Callable[[bytes], None],
    failed: Callable[[Any, Exception], None] = _reraise,
    lost: Collection[str] = (),
    again: Callable[[], None] = _nothing,
) -> tuple[Callable[[dict[str, Any]], None], Callable[[dict[str, Any]], None]]:
    """``run.start`` or ``run.end`` emitters writing what *general* (the chain) would write.

    Two of them: the first takes events of the shape :class:`~jsontrace._run.Run`
    builds (every start; an end without optional fields), the second any event,
    giving one of another shape (an end with usage, changed metadata or
    warnings) to *general* as it came. Either gives *general* an event the
    redactor may have to change. Neither raises: see :func:`fast_chunk`.
    """
    shapes, payload = _SHAPES[kind]
    clean = redactor.clean_fields if redactor is not None else None
    start = kind == fmt.START
    walk_above = renderer.walk_above
    careful = renderer.careful
    dumps = orjson.dumps
    # (the second's first nanosecond, its text with the "."), as stamp_time caches it;
    # the first event's second is never within a second of this start.
    cached: list[tuple[int, str]] = [(-(10**30), "")]

    def emit_known(event: dict[str, Any]) -> None:
        try:
            # merge_contextvars first, as what it adds is redacted too; without structlog's
            # contextvars module imported, nothing can have been bound.
            if start and _modules.get("structlog.contextvars") is not None:
                merge_contextvars(None, kind, event)
            if clean is not None and not clean(event, payload):
                general(event)  # which merges again, adding nothing: it keeps what is there
                if lost:
                    again()
                return
            # stamp_time, with less arithmetic on the 61-bit nanosecond count: the same text.
            ns = event[fmt.TS]
            base, text = cached[0]
            rest = ns - base
            if rest < 0 or rest >= 1_000_000_000:
                second = ns // 1_000_000_000
                base = second * 1_000_000_000
                text = second_text(second) + "."
                cached[0] = (base, text)
                rest = ns - base
            micros = rest // 1000
            event[fmt.TS] = f"{text}{_DIGITS[micros // 1000]}{_DIGITS_Z[micros % 1000]}"
            try:
                # Without OPT_NON_STR_KEYS first: it makes orjson take a slower way through
                # every dict, and is needed only for keys that are not strings, which then fail.
                line = dumps(event, default, _QUICK)
            except (TypeError, orjson.JSONEncodeError):
                try:
                    line = dumps(event, default, _OPTIONS)
                except (TypeError, orjson.JSONEncodeError):
                    line = careful(event)
                else:
                    if len(line) > walk_above:
                        line = careful(event)
            else:
                if len(line) > walk_above:
                    line = careful(event)
            write(line)
        except Exception as exc:  # never into the traced code (see _pipeline.record_start)
            failed(kind, exc)
            return
        if lost:
            again()

    def emit_event(event: dict[str, Any]) -> None:
        # Without redaction the shape does not matter: nothing is looked at.
        if clean is None or event.keys() in shapes:
            emit_known(event)
            return
        try:
            general(event)  # which merges the contextvars itself
        except Exception as exc:
            failed(kind, exc)
            return
        if lost:
            again()

    return emit_known, emit_event
