"""The structlog pipeline jsontrace writes through, built from the configuration.

jsontrace never touches structlog's global configuration: it builds its own
bound logger around its own processors and sink, so users who configure
structlog for their own logs neither affect our events nor receive them.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections.abc import Callable
from types import FunctionType
from typing import TYPE_CHECKING, Any, Protocol

from ._config import CONFIG, Config
from ._errors import report_once
from ._writer import SegmentWriter, forget_writer

if TYPE_CHECKING:
    import structlog

__all__ = ["Sink", "check_config", "emit", "processors_for", "rebuild", "set_sink"]


class Sink(Protocol):
    """Where rendered lines go: the segment writer, or memory in ``jsontrace.testing``."""

    def write(self, line: bytes) -> None: ...


def _event_logger(sink: Sink, processors: list[Processor]) -> structlog.BoundLoggerBase:
    """A structlog bound logger with one method, ``emit``: run an event through the chain.

    structlog (and through it rich) is imported here, on the first event, not
    at ``import jsontrace``: it is most of our import time.
    """
    import structlog

    class EventLogger(structlog.BoundLoggerBase):
        def emit(self, event: dict[str, Any]) -> None:
            # The chain is run here rather than by _process_event, which copies the
            # (always empty) context and then the event into a new dict: two dict
            # copies per event that this hot path cannot afford.
            result: Any = event
            for processor in self._processors:
                result = processor(self._logger, "emit", result)
            self._logger.write(result)

    return EventLogger(sink, processors, {})


def _unrolled(logger: Any) -> Callable[[dict[str, Any]], None]:
    """``logger.emit`` as one closure over its processors: no loop, no attribute lookups.

    Equivalent to ``EventLogger.emit`` (tests check both give the same bytes);
    it saves about half a microsecond per event, which is a third of our
    budget above the raw write.
    """
    # Bound __call__ methods: calling an instance goes through the type's slot and
    # builds a bound method on every call, ~0.1 µs each.
    chain = [p if isinstance(p, FunctionType) else p.__call__ for p in logger._processors]
    sink = logger._logger
    write = sink.write
    if len(chain) == 3:
        first, second, third = chain

        def emit3(event: dict[str, Any]) -> None:
            write(third(sink, "emit", second(sink, "emit", first(sink, "emit", event))))

        return emit3
    if len(chain) == 2:
        first, second = chain

        def emit2(event: dict[str, Any]) -> None:
            write(second(sink, "emit", first(sink, "emit", event)))

        return emit2
    emit: Callable[[dict[str, Any]], None] = logger.emit
    return emit


# Each step takes what the previous returned: a dict at first, then the rendered bytes.
Processor = Callable[[Any, str, Any], Any]


def processors_for(config: Config) -> list[Processor]:
    """The processor chain for *config*; see :mod:`jsontrace.processors` for each step."""
    from .processors import Redactor, Renderer, stamp_time

    chain: list[Processor] = [stamp_time]
    if config.redact:
        chain.append(Redactor(keys=config.redact_keys, patterns=config.redact_patterns))
    chain.append(Renderer(max_chars=config.max_chars, max_items=config.max_items))
    return chain


def check_config(config: Config) -> None:
    """Raise ``ValueError`` for settings that cannot work, before they take effect."""
    from .processors import Redactor

    for pattern in config.redact_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"configure(redact_patterns=...): {pattern!r} is invalid: {exc}"
            ) from None
    try:
        # The patterns are joined into one expression, where a global flag like "(?i)"
        # that was fine alone is an error (Python 3.10 only warns, and then applies
        # the flag to every pattern: make that an error too).
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            Redactor(keys=config.redact_keys, patterns=config.redact_patterns)
    except (re.error, DeprecationWarning) as exc:
        raise ValueError(
            f"configure(redact_patterns=...): {exc}; write flags scoped, as '(?i:...)'"
        ) from None


_writer: SegmentWriter | None = None
_sink_override: Sink | None = None
_logger: Any = None  # built on the first event
_emit: Callable[[dict[str, Any]], None] | None = None  # _logger.emit, unrolled
_build_lock = threading.Lock()  # taken only while building, never per event
# Set while this thread builds the chain: an event it emits meanwhile (a generator
# collected by the GC during the build ends its run) waits in _reentrant instead
# of blocking on _build_lock, which this thread already holds.
_building = threading.local()
_reentrant: list[dict[str, Any]] = []


def _new_lock_in_child() -> None:
    global _build_lock
    _build_lock = threading.Lock()


def _release_in_parent() -> None:
    _build_lock.release()


if hasattr(os, "register_at_fork"):
    # A fork waits for a build in progress: the build imports structlog, and a child
    # forked mid-import would inherit the import lock held by a thread it does not
    # have, and hang on its first event.
    os.register_at_fork(
        before=lambda: _build_lock.acquire(),
        after_in_parent=_release_in_parent,
        after_in_child=_new_lock_in_child,
    )


def rebuild() -> None:
    """Forget the chain (rebuilt on the next event) after the configuration changed.

    The writer is kept while its directory is unchanged (new limits apply to it),
    so reconfiguring other settings neither starts a new segment file nor loses
    track of the old ones that retention must delete.
    """
    global _writer, _logger, _emit
    with _build_lock:
        if _writer is not None:
            if _writer.directory == CONFIG.dir:
                _writer.set_limits(max_bytes=CONFIG.max_bytes, max_segments=CONFIG.max_segments)
            else:
                _writer.close()
                forget_writer(_writer)
                _writer = None
        _logger = _emit = None


def _build() -> Callable[[dict[str, Any]], None]:
    global _logger, _writer, _emit
    # Threads tracing their first events at once must share one writer: two would
    # open the same segment name and each delete the other's files on retention.
    with _build_lock:
        if _emit is not None:
            return _emit
        _building.active = True
        try:
            if _writer is None:
                _writer = _new_writer()
            sink: Sink = _sink_override if _sink_override is not None else _writer
            _logger = _event_logger(sink, processors_for(CONFIG))
            emit_now = _emit = _unrolled(_logger)
        finally:
            _building.active = False
    while _reentrant:
        emit_now(_reentrant.pop(0))
    return emit_now


def _build_or_defer(event: dict[str, Any]) -> None:
    if getattr(_building, "active", False):
        _reentrant.append(event)
        return
    _build()(event)


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


def emit(event: dict[str, Any]) -> None:
    """Record one event. Never raises: tracing must not harm the traced code."""
    try:
        (_emit or _build_or_defer)(event)
    except Exception as exc:
        if sys.is_finalizing():  # a generator ended by interpreter shutdown: nothing to tell
            return
        report_once(
            f"emit:{type(exc).__name__}",
            f"could not record a {event.get('event')} event ({type(exc).__name__}: {exc})",
        )
