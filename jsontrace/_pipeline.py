"""The processor chains events run through, built from the configuration, and the sink they end in.

Each event kind has its own chain of structlog processors (see
:mod:`jsontrace.processors`)::

    run.start:  stamp_time -> merge_contextvars -> [user processors] -> Redactor -> Renderer
    run.chunk:  stamp_time ->                      [user processors] -> Redactor -> Renderer
    run.end:    stamp_time ->                      [user processors] -> Redactor -> Renderer

then the sink: this process's segment writer, or memory in ``jsontrace.testing``.

Two ways to run a chain, with the same result:

* with processors of the user's (``configure(processors=[...])``), through
  structlog's own machinery: a ``BoundLoggerBase`` whose ``_proxy_to_logger``
  runs the chain, so ``structlog.DropEvent`` and everything else structlog
  promises its processors hold here too. The method name processors see is
  the event kind: ``"start"``, ``"chunk"`` or ``"end"``.
* without them (the default), as one closure calling each processor in turn:
  the same calls minus structlog's two dict copies per event, which this hot
  path cannot afford (tests check that both write the same bytes). Each kind
  then takes a shortcut past it (:mod:`jsontrace._fast`): a run's chunk lines
  are assembled from bytes prepared once per run, starts and ends are
  rendered directly; only an event the redactor or the renderer must change
  goes through the chain.

jsontrace never touches structlog's global configuration, so users who
configure structlog for their own logs neither affect our events nor receive
them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import FunctionType
from typing import TYPE_CHECKING, Any, Protocol

from . import format as fmt
from ._config import CONFIG, Config, on_change
from ._errors import forget_report, report_once
from ._forklock import LOCK
from ._writer import SegmentWriter, forget_writer

if TYPE_CHECKING:  # _fast (orjson, the processors) is imported when the chains are built
    from ._fast import ChunkEmit

__all__ = [
    "Sink",
    "chains_for",
    "current_writer",
    "emit",
    "emit_chunk",
    "emit_end",
    "emit_start",
    "prepare",
    "rebuild",
    "record_chunk",
    "record_end",
    "record_start",
    "set_sink",
]

# Each step takes what the previous returned: a dict at first, then the rendered bytes.
Processor = Callable[[Any, str, Any], Any]
Emit = Callable[[dict[str, Any]], None]

#: The method name each event kind is run under (structlog's ``method_name``).
_METHODS = {fmt.START: "start", fmt.CHUNK: "chunk", fmt.END: "end"}


class Sink(Protocol):
    """Where rendered lines go: the segment writer, or memory in ``jsontrace.testing``."""

    def write(self, line: bytes) -> None: ...


def chains_for(config: Config) -> dict[str, list[Processor]]:
    """The processor chain of each event kind under *config* (one Redactor and Renderer for all)."""
    from .processors import Redactor, Renderer, merge_contextvars, stamp_time

    last: list[Processor] = []
    if config.redact:
        last.append(
            Redactor(
                keys=config.redact_keys,
                patterns=config.redact_patterns,
                max_chars=config.max_chars,
                max_items=config.max_items,
            )
        )
    last.append(Renderer(max_chars=config.max_chars, max_items=config.max_items))
    user = list(config.processors)
    return {
        fmt.START: [stamp_time, merge_contextvars, *user, *last],
        fmt.CHUNK: [stamp_time, *user, *last],
        fmt.END: [stamp_time, *user, *last],
    }


def _direct(chain: list[Processor], method: str, sink: Sink) -> Emit:
    """The chain as one closure: each processor called in turn, then the sink."""
    # Bound __call__ methods: calling an instance goes through the type's slot and
    # builds a bound method on every call, ~0.1 µs each.
    calls: list[Processor] = [
        p if isinstance(p, FunctionType) else p.__call__  # type: ignore[operator]  # mypy: Callable.__call__
        for p in chain
    ]
    write = sink.write
    if len(calls) == 3:  # stamp_time -> Redactor -> Renderer: every chunk and end
        first, second, third = calls

        def emit3(event: dict[str, Any]) -> None:
            write(third(sink, method, second(sink, method, first(sink, method, event))))

        return emit3
    if len(calls) == 4:  # the same with merge_contextvars: every start
        first, second, third, fourth = calls

        def emit4(event: dict[str, Any]) -> None:
            write(
                fourth(
                    sink,
                    method,
                    third(sink, method, second(sink, method, first(sink, method, event))),
                )
            )

        return emit4

    def emit_any(event: dict[str, Any]) -> None:
        result: Any = event
        for call in calls:
            result = call(sink, method, result)
        write(result)

    return emit_any


def _through_structlog(chain: list[Processor], method: str, sink: Sink) -> Emit:
    """The chain run by structlog itself: what user processors expect."""
    import structlog

    class SinkLogger:
        """The wrapped logger: structlog calls the event kind's method with the rendered line."""

        def __init__(self) -> None:
            setattr(self, method, sink.write)

    class EventLogger(structlog.BoundLoggerBase):
        def emit(self, event: dict[str, Any]) -> None:
            fields = dict(event)
            kind = fields.pop(fmt.EVENT)
            self._proxy_to_logger(method, kind, **fields)

    # structlog starts each event dict as a copy of the context and sets "event" after
    # the other keys; an "event" key already in the context keeps it first, where the
    # format wants it.
    logger = EventLogger(SinkLogger(), processors=chain, context={fmt.EVENT: None})
    return logger.emit


def _build_chains(sink: Sink) -> tuple[dict[str, Emit], dict[str, Emit], ChunkEmit]:
    """Each kind's emit function, the start and end emitters for events of the shape a
    :class:`~jsontrace._run.Run` builds, and the chunk recorder (each without the chain
    when it can be). None of them raises: each reports its failures itself (_failed)
    and, once it wrote, ends an outage (_written_again)."""
    from ._fast import fast_chunk, fast_event
    from .processors import Redactor, Renderer

    processors = chains_for(CONFIG)
    run = _through_structlog if CONFIG.processors else _direct
    raw = {kind: run(chain, _METHODS[kind], sink) for kind, chain in processors.items()}
    chains = {kind: _total(kind, chain) for kind, chain in raw.items()}
    if CONFIG.processors:
        known = {kind: chains[kind] for kind in (fmt.START, fmt.END)}
        return chains, known, _chunk_through(raw[fmt.CHUNK])
    # chains_for ends every chain with [Redactor (when on), Renderer].
    *_, before_last, last = processors[fmt.CHUNK]
    assert isinstance(last, Renderer)
    redactor = before_last if isinstance(before_last, Redactor) else None
    guard = (_failed, _lost, _written_again)
    chunk = fast_chunk(redactor, last, raw[fmt.CHUNK], sink.write, *guard)
    known = {}
    for kind in (fmt.START, fmt.END):
        known[kind], chains[kind] = fast_event(kind, redactor, last, raw[kind], sink.write, *guard)
    return chains, known, chunk


def _total(kind: str, emit: Emit) -> Emit:
    """*emit* made to never raise, as the fast emitters are."""

    def total(event: dict[str, Any]) -> None:
        try:
            emit(event)
        except Exception as exc:
            _failed(kind, exc)
            return
        if _lost:
            _written_again()

    return total


def _chunk_through(general: Emit) -> ChunkEmit:
    """The chunk recorder for user processors: the event dict through the whole chain."""
    from ._fast import chunk_event

    def record(prefix: bytes, run_id: str, trace_id: str, ns: int, seq: int, value: Any) -> None:
        try:
            general(chunk_event(run_id, trace_id, ns, seq, value))
        except Exception as exc:
            _failed(fmt.CHUNK, exc)
            return
        if _lost:
            _written_again()

    return record


_writer: SegmentWriter | None = None
_sink_override: Sink | None = None
_chains: dict[str, Emit] | None = None  # built at decoration, or on the first event after a change
# Each kind's built chain, in a one-item list its emit function holds: reading it
# costs that function no more than a global would (a dict lookup per event did).
_ready: dict[str, list[Emit | None]] = {kind: [None] for kind in _METHODS}
# The same for record_start and record_end (events of the shape a Run builds).
_known_ready: dict[str, list[Emit | None]] = {kind: [None] for kind in (fmt.START, fmt.END)}
_chunk_ready: list[ChunkEmit | None] = [None]  # the same for record_chunk
# Taken only while building, never per event. It is the lock a fork waits for: the
# build imports modules (structlog for user processors), and a child forked mid-import
# would inherit an import lock held by a thread it does not have, and hang.
_build_lock = LOCK
# Set while this thread builds the chains: an event it emits meanwhile (a generator
# collected by the GC during the build ends its run) waits in _reentrant instead
# of building again inside the build.
_building = threading.local()
_reentrant: list[dict[str, Any]] = []
# The report keys of events lost since the last event written: forgotten once an
# event is written again, so that the next loss is reported too (once per outage).
_lost: set[str] = set()


def rebuild() -> None:
    """Forget the chains (rebuilt on the next event) after the configuration changed.

    The writer is kept while its directory is unchanged (new limits apply to it),
    so reconfiguring other settings neither starts a new segment file nor loses
    track of the old ones that retention must delete.
    """
    global _writer, _chains, record_start, record_end, record_chunk
    with _build_lock:
        if _writer is not None:
            if _writer.directory == CONFIG.dir:
                _writer.set_limits(max_bytes=CONFIG.max_bytes, max_segments=CONFIG.max_segments)
            else:
                _writer.close()
                forget_writer(_writer)
                _writer = None
        _chains = None
        for cell in (*_ready.values(), *_known_ready.values()):
            cell[0] = None
        _chunk_ready[0] = None
        record_start, record_end, record_chunk = _FIRST


on_change(rebuild)


def _build() -> dict[str, Emit]:
    global _writer, _chains, record_start, record_end, record_chunk
    # Threads tracing their first events at once must share one writer: two would
    # open the same segment name and each delete the other's files on retention.
    with _build_lock:
        if _chains is not None:
            return _chains
        _building.active = True
        try:
            if _writer is None:
                _writer = _new_writer()
            sink: Sink = _sink_override if _sink_override is not None else _writer
            chains, known, chunk = _build_chains(sink)
            _chains = chains
            for kind, chain in chains.items():
                _ready[kind][0] = chain
            for kind, chain in known.items():
                _known_ready[kind][0] = chain
            _chunk_ready[0] = chunk
            # The built emitters themselves, without the first ones' frame in between.
            record_start, record_end, record_chunk = known[fmt.START], known[fmt.END], chunk
        finally:
            _building.active = False
    while _reentrant:
        event = _reentrant.pop(0)
        chains[event[fmt.EVENT]](event)
    return chains


def prepare() -> None:
    """Build the chains now, if they are not built: before a first run's clock starts.

    Called when a function is decorated, so that the first traced call neither
    records the library's start-up (imports, compiled patterns) as its own time
    nor makes the app wait for it. Nothing is written or created on disk.
    """
    if _chains is None:
        try:
            _build()
        except Exception as exc:
            report_once(f"emit:{type(exc).__name__}", f"could not prepare tracing: {exc}")


def _new_writer() -> SegmentWriter:
    return SegmentWriter(CONFIG.dir, max_bytes=CONFIG.max_bytes, max_segments=CONFIG.max_segments)


def set_sink(sink: Sink | None) -> Sink | None:
    """Send lines to *sink* instead of the files (None: back to the files); returns the old one."""
    global _sink_override
    previous, _sink_override = _sink_override, sink
    rebuild()
    return previous


def current_writer() -> SegmentWriter | None:
    """The segment writer (for tests and diagnostics)."""
    return _writer


def _chain_now(kind: str) -> Emit:
    """The chain of *kind*, built now; or, while this thread builds, a deferral."""
    if getattr(_building, "active", False):
        return _reentrant.append
    return _build()[kind]


def _emitter(kind: str, cell: list[Emit | None], name: str, shape: str) -> Emit:
    def emit_kind(event: dict[str, Any]) -> None:
        try:
            # Before the build, the event goes through the chain (any shape is welcome
            # there). Either reports its own failures: this one catches the build's.
            (cell[0] or _chain_now(kind))(event)
        except Exception as exc:
            _failed(event.get(fmt.EVENT), exc)

    emit_kind.__name__ = name
    emit_kind.__doc__ = (
        f"Record one {kind} event{shape}. Never raises: tracing must not harm the traced code."
    )
    return emit_kind


emit_start = _emitter(fmt.START, _ready[fmt.START], "emit_start", "")
emit_chunk = _emitter(fmt.CHUNK, _ready[fmt.CHUNK], "emit_chunk", "")
emit_end = _emitter(fmt.END, _ready[fmt.END], "emit_end", "")
_AS_BUILT = " as Run builds it (its keys and no others, in order)"
record_start = _emitter(fmt.START, _known_ready[fmt.START], "record_start", _AS_BUILT)
#: Only for an end without the optional fields (first_chunk_ms aside): others go to emit_end.
record_end = _emitter(fmt.END, _known_ready[fmt.END], "record_end", _AS_BUILT)


def _record_now(prefix: bytes, run_id: str, trace_id: str, ns: int, seq: int, value: Any) -> None:
    """record_chunk before the chains are built (or while this thread builds them)."""
    if getattr(_building, "active", False):
        from ._fast import chunk_event

        _reentrant.append(chunk_event(run_id, trace_id, ns, seq, value))
        return
    _build()
    chunk = _chunk_ready[0]
    assert chunk is not None  # set by _build
    chunk(prefix, run_id, trace_id, ns, seq, value)


def _record_chunk(prefix: bytes, run_id: str, trace_id: str, ns: int, seq: int, value: Any) -> None:
    """Record one chunk of a run (*prefix*: its :func:`~jsontrace._fast.chunk_prefix`). Never raises."""
    try:
        (_chunk_ready[0] or _record_now)(prefix, run_id, trace_id, ns, seq, value)
    except Exception as exc:  # the build's: the recorder reports its own
        _failed(fmt.CHUNK, exc)


# record_start, record_end and record_chunk are these until the chains are built, then
# the built emitters (which never raise either): callers look them up in this module
# (``_pipeline.record_chunk(...)``) on every call, which costs less than a call in between.
record_chunk: ChunkEmit = _record_chunk
_FIRST: tuple[Emit, Emit, ChunkEmit] = (record_start, record_end, record_chunk)


_BY_KIND = {fmt.START: emit_start, fmt.CHUNK: emit_chunk, fmt.END: emit_end}


def emit(event: dict[str, Any]) -> None:
    """Record one event of any kind (the run code calls the per-kind functions directly)."""
    emitter = _BY_KIND.get(event.get(fmt.EVENT))  # type: ignore[arg-type]
    if emitter is None:
        report_once("emit:kind", f"not an event kind jsontrace writes: {event.get(fmt.EVENT)!r}")
        return
    emitter(event)


def _failed(kind: Any, exc: Exception) -> None:
    if sys.is_finalizing():  # a generator ended by interpreter shutdown: nothing to tell
        return
    key = f"emit:{type(exc).__name__}"
    _lost.add(key)
    report_once(key, f"could not record a {kind} event ({type(exc).__name__}: {exc})")


def _written_again() -> None:
    for key in list(_lost):
        _lost.discard(key)
        forget_report(key)
