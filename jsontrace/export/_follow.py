"""The export loop: stream a directory through the run model, ship each run as a span when it ends.

::

    exporter = Exporter("logs", sink, state=State.load(path, target))
    summary = exporter.run(follow=True, stop=stop_event)

Memory stays bounded by the traces in progress, not by the directory: files
are read block by block (the viewer's :class:`~jsontrace.reader.DirectoryReader`),
each block goes into a :class:`~jsontrace.store.RunStore`, runs that ended
become spans, and trees with nothing left to ship are dropped from the store
(:meth:`RunStore.discard`). The run model keeps chunk values but not their
times, so the exporter keeps the first ``max_chunk_events`` chunk events of
each open run itself, decoding only those lines.

A run is exported once its start has been read and it is no longer running:
it ended, or its writer died (interrupted). Runs whose start was never read
(a deleted segment) are not exported. See :mod:`._state` for restarts.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from .. import format as fmt
from ..reader import Batch, DirectoryReader, FileState
from ..store import INTERRUPTED, RunRecord, RunStore
from ._otlp_map import STATUS_ERROR, MapOptions, Span, parse_ts_ns, span_of
from ._sink import Sink, SinkError
from ._state import FileMark, State

__all__ = ["DEFAULT_BATCH_SPANS", "Exporter", "Filters", "Summary", "trace_start_ns"]

#: Spans per batch handed to the sink (the OpenTelemetry SDK's BatchSpanProcessor uses 512).
DEFAULT_BATCH_SPANS: Final = 512

_PREFIX: Final = fmt.CHUNK_LINE_PREFIX
_ID_AT: Final = len(_PREFIX)
_loads = orjson.loads


@dataclass(frozen=True, slots=True)
class Filters:
    """Which runs to export: one trace, traces started since a time, traces with a failure."""

    trace_id: str | None = None
    since_ns: int | None = None
    errors_only: bool = False


@dataclass(slots=True)
class Summary:
    """What an export did."""

    spans: int = 0
    traces: int = 0
    rejected: int = 0
    batches: int = 0
    running: int = 0
    messages: list[str] = field(default_factory=list)


class _Open:
    """A run whose start was read and that is not shipped yet."""

    __slots__ = ("chunks", "ended", "file", "offset", "trace_id")

    def __init__(self, file: str, offset: int, trace_id: str, keep_chunks: bool) -> None:
        self.file = file
        self.offset = offset  # where the block holding its start begins (see _state)
        self.trace_id = trace_id
        self.ended = False
        self.chunks: list[tuple[int, int, Any]] | None = [] if keep_chunks else None


def trace_start_ns(trace_id: str) -> int | None:
    """When a trace began, from its UUIDv7 id (the first 48 bits are Unix milliseconds)."""
    digits = trace_id.replace("-", "")
    if len(digits) != 32 or digits[12] != "7":
        return None
    try:
        return int(digits[:12], 16) * 1_000_000
    except ValueError:
        return None


class Exporter:
    """Reads *directory* and ships spans to *sink*; see the module docstring.

    ``notify`` hears one-line notices (files that changed under a resumed state).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        sink: Sink,
        *,
        options: MapOptions | None = None,
        filters: Filters | None = None,
        state: State | None = None,
        batch_spans: int = DEFAULT_BATCH_SPANS,
        notify: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.directory = Path(directory)
        self.sink = sink
        self.options = options = options or MapOptions()
        self.filters = filters or Filters()
        self.state = state
        self.batch_spans = max(1, batch_spans)
        self.notify = notify
        self.summary = Summary()
        self._reader = DirectoryReader(self.directory, defer_chunks=True)
        self._store = RunStore()
        self._cap = max(0, options.max_chunk_events)
        self._open: dict[str, _Open] = {}
        # Per file: runs shipped (or filtered out after they started) since the watermark,
        # with the offset of their start's block (None: listed by a state, not read again yet).
        self._shipped: dict[str, dict[str, int | None]] = {}
        self._outbox: list[Span] = []
        # --status error holds a trace's spans until the trace is complete.
        self._held: dict[str, list[Span]] = {}
        self._failed: set[str] = set()
        self._unended: dict[str, int] = {}
        self._root_ended: set[str] = set()
        self._resumed = False

    # -- the loop --------------------------------------------------------------------

    def run(
        self, *, follow: bool = False, interval: float = 0.5, stop: threading.Event | None = None
    ) -> Summary:
        """Export what is there (and, with *follow*, what comes) until done or *stop* is set.

        Raises :class:`SinkError` when the receiver refuses a batch or cannot be
        reached; what was accepted before is recorded in the state first.
        """
        stop = stop or threading.Event()
        self.summary = Summary()  # what this call did
        if not self._resumed:
            self._resume()
            self._resumed = True
        with _fewer_collections():
            while True:
                progressed = self._round(stop, final=not follow)
                if not follow or stop.is_set():
                    break
                if not progressed:
                    stop.wait(interval)
                    if stop.is_set():
                        break
        self.summary.running = sum(1 for run in self._open.values() if not run.ended)
        return self.summary

    def _round(self, stop: threading.Event, *, final: bool) -> bool:
        """Read everything new, ship what ended; True if anything was read."""
        read = False
        # Leaving the loop early drops the only reference to the reader's generator, which
        # closes it (and its file) at once; the next poll reads on from there.
        for batch in self._reader.poll():
            read = True
            self._ingest(batch)
            if len(self._outbox) >= self.batch_spans:
                self._flush()
            self._sweep()
            if stop.is_set():
                break
        if not stop.is_set():
            self._find_interrupted()
        self._settle_held(final=final and not stop.is_set())
        self._flush()
        self._sweep()
        self._save()
        return read

    # -- reading -----------------------------------------------------------------------

    def _ingest(self, batch: Batch) -> None:
        file, offset = batch.source[0], batch.source[2]
        ends: list[str] = []
        for event in batch.events:
            if type(event) is not dict:
                continue
            kind = event.get(fmt.EVENT)
            if kind == fmt.START:
                self._started(event, file, offset)
            elif kind == fmt.END:
                run_id = event.get(fmt.RUN_ID)
                if isinstance(run_id, str) and run_id in self._open:
                    ends.append(run_id)
            elif kind == fmt.CHUNK and self._cap:
                self._chunk(event)
        if batch.chunk_lines and self._cap:
            self._raw_chunks(batch.chunk_lines)
        self._store.add_batch(batch)
        for run_id in ends:
            record = self._store.get(run_id)
            if record is not None and record.finished:
                self._ended(run_id, record)

    def _started(self, event: dict[str, Any], file: str, offset: int) -> None:
        run_id, trace_id = event.get(fmt.RUN_ID), event.get(fmt.TRACE_ID)
        if not isinstance(run_id, str) or run_id in self._open:
            return
        shipped = self._shipped.get(file)
        if shipped is not None and run_id in shipped:
            shipped[run_id] = offset  # shipped before a restart: now we know where it starts
            return
        trace_id = trace_id if isinstance(trace_id, str) else run_id
        if not self._wanted(trace_id, event):
            return
        self._open[run_id] = _Open(file, offset, trace_id, bool(self._cap))
        if self.filters.errors_only:
            self._unended[trace_id] = self._unended.get(trace_id, 0) + 1

    def _wanted(self, trace_id: str, event: dict[str, Any]) -> bool:
        filters = self.filters
        if filters.trace_id is not None and trace_id != filters.trace_id:
            return False
        if filters.since_ns is not None:
            began = trace_start_ns(trace_id) or parse_ts_ns(event.get(fmt.TS))
            if began is None or began < filters.since_ns:
                return False
        return True

    def _chunk(self, event: dict[str, Any]) -> None:
        run = self._open.get(event.get(fmt.RUN_ID))  # type: ignore[arg-type]
        if run is None or run.chunks is None or len(run.chunks) >= self._cap:
            return
        seq, ts = event.get(fmt.CHUNK_SEQ), parse_ts_ns(event.get(fmt.TS))
        if type(seq) is not int or seq < 0 or ts is None:
            return
        chunks = run.chunks
        # Chunks come in seq order: only one that does not is looked for among those kept.
        if chunks and chunks[-1][0] >= seq and any(kept[0] == seq for kept in chunks):
            return  # a repeated line
        chunks.append((seq, ts, event.get(fmt.CHUNK_VALUE)))

    def _raw_chunks(self, lines: list[bytes]) -> None:
        # Only lines of open runs that still want chunk events are decoded; the run id sits
        # at a fixed place in the writer's chunk lines.
        open_runs, cap = self._open, self._cap
        for line in lines:
            if line[_ID_AT + 36 : _ID_AT + 38] == b'",':
                run = open_runs.get(line[_ID_AT : _ID_AT + 36].decode("utf-8", "replace"))
                if run is None or run.chunks is None or len(run.chunks) >= cap:
                    continue
            try:
                event = _loads(line)
            except orjson.JSONDecodeError:
                continue  # the store counts it as bad
            if type(event) is dict:
                self._chunk(event)

    # -- runs that are done --------------------------------------------------------

    def _ended(self, run_id: str, record: RunRecord) -> None:
        run = self._open[run_id]
        if run.ended:
            return
        run.ended = True
        chunks = sorted(run.chunks) if run.chunks else ()
        span = span_of(record, chunks, self.options)
        run.chunks = None
        if not self.filters.errors_only:
            self._outbox.append(span)
            return
        trace = run.trace_id
        self._held.setdefault(trace, []).append(span)
        if span.status_code == STATUS_ERROR:
            self._failed.add(trace)
        self._unended[trace] -= 1
        if run_id == trace:
            self._root_ended.add(trace)

    def _find_interrupted(self) -> None:
        """Runs without an end whose writer is gone: after a full read nothing more will come."""
        for run_id, run in list(self._open.items()):
            if run.ended:
                continue
            record = self._store.get(run_id)
            if record is not None and record.status == INTERRUPTED:
                self._ended(run_id, record)

    def _settle_held(self, *, final: bool) -> None:
        """--status error: decide the traces with nothing still running (and a root that ended)."""
        if not self.filters.errors_only:
            return
        for trace in list(self._held):
            if self._unended.get(trace, 0) or not (final or trace in self._root_ended):
                continue
            spans = self._held.pop(trace)
            self._unended.pop(trace, None)
            self._root_ended.discard(trace)
            if trace in self._failed:
                self._failed.discard(trace)
                self._outbox.extend(spans)
            else:
                self._done(spans)  # no failure in it: nothing to send, nothing to redo

    # -- shipping ------------------------------------------------------------------------

    def _flush(self) -> None:
        while self._outbox:
            batch = self._outbox[: self.batch_spans]
            try:
                delivery = self.sink.send(batch)
            except SinkError as exc:
                self._done(batch[: exc.spans_accepted])
                self._count(batch[: exc.spans_accepted], exc.spans_accepted, 0)
                del self._outbox[: exc.spans_accepted]
                self._save()
                raise
            del self._outbox[: len(batch)]
            self._done(batch)
            self._count(batch, delivery.accepted, delivery.rejected)
            if delivery.message and len(self.summary.messages) < 20:
                self.summary.messages.append(delivery.message)
            self._save()

    def _count(self, batch: list[Span], accepted: int, rejected: int) -> None:
        summary = self.summary
        summary.spans += accepted
        summary.rejected += rejected
        summary.batches += 1
        summary.traces += sum(1 for span in batch if not span.parent_span_id)

    def _done(self, spans: list[Span]) -> None:
        for span in spans:
            run = self._open.pop(span.run_id, None)
            if run is not None:
                self._shipped.setdefault(run.file, {})[span.run_id] = run.offset

    def _sweep(self) -> None:
        """Drop from the store every tree with nothing left to ship."""
        store = self._store
        done = [root for root in store.traces(newest_first=False) if not self._has_open(root)]
        if done:
            store.discard(done)
        # Nobody reads these here: drain them so they do not grow.
        store.take_dirty()
        store.take_new_roots()

    def _has_open(self, root: RunRecord) -> bool:
        open_runs = self._open
        stack = [root]
        while stack:
            run = stack.pop()
            if run.run_id in open_runs:
                return True
            stack.extend(run.children)
        return False

    # -- the state file ------------------------------------------------------------

    def _resume(self) -> None:
        if self.state is None:
            return
        for name, mark in self.state.files.items():
            try:
                st = os.stat(self.directory / name)
            except OSError:
                continue  # gone: forgotten at the next save
            if st.st_ino != mark.inode or st.st_size < mark.offset:
                self.notify(
                    f"{name} changed since the last export; reading it again from the start"
                )
                continue
            _resume_reader(self._reader, name, mark.offset, mark.inode)
            self._shipped[name] = dict.fromkeys(mark.shipped)

    def _save(self) -> None:
        state = self.state
        if state is None:
            return
        low: dict[str, int] = {}
        for run in self._open.values():
            if run.offset < low.get(run.file, run.offset + 1):
                low[run.file] = run.offset
        files: dict[str, FileMark] = {}
        for name, read in self._reader.files.items():
            watermark = min(low.get(name, read.offset), read.offset)
            shipped = self._shipped.get(name, {})
            for run_id in [r for r, at in shipped.items() if at is not None and at < watermark]:
                del shipped[run_id]
            files[name] = FileMark(read.inode, watermark, set(shipped))
        for name in list(self._shipped):
            if name not in files:
                del self._shipped[name]
        state.files = files
        state.save()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while exporting (restored afterwards).

    Every event parsed is a new container, and the default young-generation threshold
    (700) made the collector a quarter of the export's time. Dropped trees hold
    cycles (parent and children), so it must still run: just not that often.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], 100_000), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _resume_reader(reader: DirectoryReader, name: str, offset: int, inode: int) -> None:
    """Make *reader* read file *name* on from *offset* (it was read that far before)."""
    with contextlib.suppress(OSError):
        size = os.stat(reader.directory / name).st_size
        reader.files[name] = FileState(name, offset=offset, inode=inode, size=size)
