"""The run store: the one reading model of traces, built from events, tolerant of disorder and garbage.

::

    store, reader = load_directory("logs")   # or: RunStore().add_batch(batch) per batch
    for root in store.traces():              # newest trace first: RunRecord objects
        print(root.name, root.status, root.duration_ms())
    summary = store.summary(reader)          # counts for ``jsontrace doctor``

The viewer, ``jsontrace-view --print`` (through :mod:`jsontrace.render`), the
doctor's counts and :mod:`jsontrace.testing` all read traces through it, so a
test sees what the viewer shows. A :class:`RunRecord` is what the files say of
one run; the writing side's :class:`jsontrace.Run` is the live run being recorded.

Why this shape:

* Ingest is the hot path (a million events must load in about the time
  ``orjson`` takes to parse them), so :meth:`RunStore.add_batch` only files
  each event under its run: a start or end event is kept as the dict it was
  parsed into, a chunk keeps only its value. Everything else (types checked,
  statuses, durations, timestamps parsed) is worked out when a :class:`RunRecord`
  property is read, i.e. at display time, and never raises on bad data.
* Chunk lines a reader deferred (``DirectoryReader(defer_chunks=True)``) are
  filed undecoded, by the run id at a fixed place in the line, and decoded the
  first time that run's chunks are read. A finished run's output is in its end
  event, so the chunks of most runs are never decoded at all. Until then a
  chunk line counts as an event; one found bad or repeated when decoded is
  counted then (:meth:`RunStore.settle` decodes everything, for exact counts).
* Events may come in any order: a chunk or an end before its start, a child
  before its parent (a placeholder parent is made and filled in when the
  parent's start arrives). Repeated lines are counted and ignored; a chunk
  ``seq`` seen before is a repeat. A parent link that would make a cycle
  (a run its own parent, A under B under A) is dropped and the run becomes a
  root.
* A run without an end whose writer process is gone (same host, pid no longer
  alive) is ``interrupted`` rather than running forever.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

import orjson

from . import format as fmt
from . import pricing
from ._host import process_alive
from ._llm import normalize_usage
from .reader import Batch, DirectoryReader

if TYPE_CHECKING:
    from .format import Usage
    from .reader import Source

__all__ = [
    "CANCELLED",
    "ERROR",
    "INTERRUPTED",
    "OK",
    "RUNNING",
    "RunRecord",
    "RunStore",
    "Summary",
    "bulk_load",
    "load_directory",
    "root_order",
]

RUNNING: Final = "running"
OK: Final = fmt.OK
ERROR: Final = fmt.ERROR_STATUS
CANCELLED: Final = fmt.CANCELLED
INTERRUPTED: Final = "interrupted"

_MAX_SAMPLES = 20
_NO_TOTALS: Final = pricing.Totals()
_EMPTY: Final[Mapping[str, Any]] = {}
#: Where a deferred chunk line keeps its run id: after the prefix, through the '",'
#: that closes it (36 characters for the writer's UUIDs).
_RAW_ID: Final = (len(fmt.CHUNK_LINE_PREFIX), len(fmt.CHUNK_LINE_PREFIX) + 36 + 2)
_raw_id = itemgetter(slice(*_RAW_ID))
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


def _parse_ts(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        # fromisoformat accepts "Z" only from Python 3.11 on.
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _number(value: object) -> float | None:
    """A finite number as a float, else ``None`` (NaN, infinities, ints too big for a float)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def _str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


class _Reject(Exception):
    """An event that cannot be filed (raised and caught inside ingest only)."""


class RunRecord:
    """One run as seen in the files so far. Every property is total: bad data gives defaults.

    ``start`` and ``end`` are the raw event dicts (``None`` until seen);
    ``chunks`` holds the chunk values received in ``seq`` order without gaps,
    later ones wait in ``pending`` until the gap fills. ``raw`` holds chunk lines
    not decoded yet; reading ``chunks``, ``pending`` or ``last_ts`` decodes them
    (through the :class:`RunStore` that filed them, which counts what is bad).
    """

    __slots__ = (
        "_chunks",
        "_last_ts",
        "_pending",
        "_start_s",
        "_store",
        "children",
        "cycle",
        "end",
        "error_below",
        "parent",
        "raw",
        "run_id",
        "sources",
        "start",
        "trace_id",
    )

    def __init__(self, run_id: str, trace_id: str = "", store: RunStore | None = None) -> None:
        self.run_id = run_id
        self.trace_id = trace_id
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self._chunks: list[Any] = []
        self._pending: dict[int, Any] | None = None
        self.raw: list[bytes] | None = None
        self.parent: RunRecord | None = None
        self.children: list[RunRecord] = []
        self.sources: list[Source] = []
        self.error_below = False
        self.cycle = False
        self._last_ts: object = None
        self._start_s: float | None = None
        self._store = store

    def __repr__(self) -> str:
        return f"<RunRecord {self.run_id!r} {self.name!r} {self.status}>"

    # -- chunks -----------------------------------------------------------------

    @property
    def chunks(self) -> list[Any]:
        """Chunk values in ``seq`` order, up to the first missing one."""
        if self.raw is not None:
            self._decode()
        return self._chunks

    @property
    def pending(self) -> dict[int, Any] | None:
        """Chunks after a missing ``seq``, by seq (``None`` when there are none)."""
        if self.raw is not None:
            self._decode()
        return self._pending

    @property
    def last_ts(self) -> object:
        """The ``ts`` of the last chunk filed, as written (ends an interrupted run)."""
        if self.raw is not None:
            self._decode()
        return self._last_ts

    def _decode(self) -> None:
        if self._store is not None:
            self._store._decode(self)
        else:  # only a store fills ``raw``; a hand-made run just drops it
            self.raw = None

    # -- identity and tree ------------------------------------------------------

    @property
    def seen(self) -> bool:
        """Whether any event of this run was read (else it is only someone's parent)."""
        return (
            self.start is not None
            or self.end is not None
            or bool(self._chunks or self._pending or self.raw)
        )

    @property
    def parent_run_id(self) -> str | None:
        """The parent id the start event names (even if that parent was never seen)."""
        value = (self.start or _EMPTY).get(fmt.PARENT_RUN_ID)
        return value if isinstance(value, str) else None

    @property
    def is_orphan(self) -> bool:
        """Started with a parent id, but that parent's start was never read."""
        return self.parent is not None and self.parent.start is None

    def sorted_children(self) -> list[RunRecord]:
        """Children in start order (timestamp, then id: UUIDv7 ids sort by time)."""
        return sorted(self.children, key=_start_order)

    @property
    def root(self) -> RunRecord:
        """The top of this run's tree (the run itself when it has no parent)."""
        run = self
        while run.parent is not None:  # parent links never form a cycle (see _link)
            run = run.parent
        return run

    def walk(self) -> Iterator[RunRecord]:
        """This run and all its descendants, depth first, children in start order."""
        stack = [self]
        while stack:
            run = stack.pop()
            yield run
            stack.extend(reversed(run.sorted_children()))

    # -- fields from the start event --------------------------------------------

    def _s(self, key: str) -> Any:
        return (self.start or _EMPTY).get(key)

    def _e(self, key: str) -> Any:
        return (self.end or _EMPTY).get(key)

    @property
    def name(self) -> str:
        """The run's name; ``"?"`` until its start event is read."""
        name = self._s(fmt.NAME)
        return name if isinstance(name, str) else "?"

    @property
    def run_type(self) -> str:
        """``chain``, ``llm``, ``tool``, ... (``""`` when unknown)."""
        return _str(self._s(fmt.RUN_TYPE))

    @property
    def inputs(self) -> Any:
        """The inputs as recorded (any JSON value; ``None`` before the start event)."""
        return self._s(fmt.INPUTS)

    @property
    def outputs(self) -> Any:
        """The outputs from the end event (``None`` until it arrives)."""
        return self._e(fmt.OUTPUTS)

    @property
    def tags(self) -> list[str]:
        """Tags: the end event's complete list if it has one, else the start's."""
        tags = self._e(fmt.TAGS)
        if not isinstance(tags, list):
            tags = self._s(fmt.TAGS)
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    @property
    def metadata(self) -> dict[str, Any]:
        """Metadata: the end event's complete object if it has one, else the start's."""
        meta = self._e(fmt.METADATA)
        if not isinstance(meta, dict):
            meta = self._s(fmt.METADATA)
        return meta if isinstance(meta, dict) else {}

    @property
    def pid(self) -> int | None:
        """The writer's process id (``None`` if missing or not a positive int)."""
        pid = self._s(fmt.PID)
        return pid if type(pid) is int and pid > 0 else None

    @property
    def host(self) -> str:
        """The writer's host name."""
        return _str(self._s(fmt.HOST))

    @property
    def start_ts(self) -> str | None:
        """The start event's timestamp as written."""
        ts = self._s(fmt.TS)
        return ts if isinstance(ts, str) else None

    @property
    def end_ts(self) -> str | None:
        """The end event's timestamp as written."""
        ts = self._e(fmt.TS)
        return ts if isinstance(ts, str) else None

    @property
    def started_at(self) -> float | None:
        """The start time in seconds since the epoch, parsed once."""
        if self._start_s is None and self.start is not None:
            self._start_s = _parse_ts(self.start.get(fmt.TS))
        return self._start_s

    @property
    def ended_at(self) -> float | None:
        """The end event's time in seconds since the epoch."""
        return _parse_ts(self._e(fmt.TS))

    @property
    def redacted(self) -> list[str]:
        """Dotted paths the secret scrubber replaced, over all of this run's kept events."""
        paths: list[str] = []
        for event in (self.start, self.end):
            value = (event or _EMPTY).get(fmt.REDACTED)
            if isinstance(value, list):
                paths.extend(p for p in value if isinstance(p, str) and p not in paths)
        return paths

    # -- fields from the end event ----------------------------------------------

    @property
    def status(self) -> str:
        """One of ``running``, ``ok``, ``error``, ``cancelled``, ``interrupted``.

        An end event with an unknown status counts as ``error`` if it carries an
        error, else ``ok``. Without an end event, a run is ``interrupted`` when its
        writer ran on this host and that process is gone.
        """
        end = self.end
        if end is not None:
            status = end.get(fmt.STATUS)
            if isinstance(status, str) and status in fmt.STATUSES:
                return status
            return ERROR if end.get(fmt.ERROR) else OK
        if process_alive(self.host, self.pid) is False:
            return INTERRUPTED
        return RUNNING

    @property
    def finished(self) -> bool:
        """Whether the end event was read."""
        return self.end is not None

    @property
    def error(self) -> dict[str, Any] | None:
        """The end event's ``error`` object (``type``, ``message``, ``traceback``), if any."""
        error = self._e(fmt.ERROR)
        if isinstance(error, dict):
            return error
        if error is not None and error is not False:
            return {"message": error}  # a writer that put a bare value there
        return None

    @property
    def error_summary(self) -> str:
        """``"Type: message"`` for an error, else ``""``."""
        error = self.error
        if error is None:
            return ""
        kind, message = error.get("type"), error.get("message")
        kind = kind if isinstance(kind, str) else ""
        message = message if isinstance(message, str) else ("" if message is None else str(message))
        return f"{kind}: {message}" if kind and message else kind or message or "error"

    @property
    def traceback(self) -> str:
        """The error's traceback text, or ``""``."""
        return _str((self.error or _EMPTY).get("traceback"))

    @property
    def trace_warnings(self) -> list[str]:
        """Problems jsontrace itself met while recording this run."""
        value = self._e(fmt.TRACE_WARNINGS)
        return [w for w in value if isinstance(w, str)] if isinstance(value, list) else []

    @property
    def declared_chunk_count(self) -> int | None:
        """The ``chunk_count`` the end event claims."""
        value = self._e(fmt.CHUNK_COUNT)
        return value if type(value) is int else None

    @property
    def chunk_count(self) -> int:
        """Chunks read so far (after gaps too); the end's count when it says more."""
        declared = self.declared_chunk_count
        if declared is not None and self.raw is not None:
            # Undecoded lines can only be fewer chunks once repeats are dropped: when
            # the end's count covers them all, it is the answer without decoding.
            most = len(self._chunks) + len(self._pending or ()) + len(self.raw)
            if declared >= most:
                return declared
        seen = len(self.chunks) + len(self.pending or ())
        return max(seen, declared) if declared is not None else seen

    @property
    def first_chunk_ms(self) -> float | None:
        """Milliseconds from start to the first chunk, for generators."""
        return _number(self._e(fmt.FIRST_CHUNK_MS))

    # -- llm calls: model, tokens, cost ------------------------------------------

    @property
    def usage(self) -> Usage | None:
        """The token usage the end event records, normalised (``None`` without one)."""
        return normalize_usage(self._e(fmt.USAGE))

    @property
    def model(self) -> str | None:
        """The model's name: the end event's ``model``, else metadata ``ls_model_name``."""
        model = self._e(fmt.MODEL)
        if not isinstance(model, str) or not model:
            model = self.metadata.get("ls_model_name")
        return model if isinstance(model, str) and model else None

    @property
    def provider(self) -> str | None:
        """LangSmith's metadata ``ls_provider`` (``openai``, ``anthropic`` ...), if given."""
        provider = self.metadata.get("ls_provider")
        return provider if isinstance(provider, str) and provider else None

    @property
    def cost(self) -> float | None:
        """US dollars, worked out now from the usage and :mod:`jsontrace.pricing`'s table (None if unknown)."""
        found = pricing.cost(self.model, self.usage)
        return None if found is None else found.total

    def totals(self) -> pricing.Totals:
        """Tokens and cost of this run and everything below it (what a trace's line shows)."""
        # Read for every trace line the viewer draws: the raw value first, as most runs have none.
        stack: list[RunRecord] = [self]
        calls = []
        key = fmt.USAGE
        while stack:
            run = stack.pop()
            if run.children:
                stack.extend(run.children)
            if run._e(key) is not None:
                usage = run.usage
                if usage is not None:
                    calls.append((run.model, usage))
        return pricing.total(calls) if calls else _NO_TOTALS

    def duration_ms(self, now: float | None = None) -> float | None:
        """The run's duration; for a running run, time since its start until *now*.

        An interrupted run lasts until its last event read. ``now`` is seconds since
        the epoch (default: the current time).
        """
        if self.end is not None:
            duration = _number(self.end.get(fmt.DURATION_MS))
            if duration is not None:
                return duration
            end = _parse_ts(self.end.get(fmt.TS))
        elif self.status == INTERRUPTED:
            end = _parse_ts(self.last_ts) or self.started_at
        else:
            end = time.time() if now is None else now
        started = self.started_at
        if started is None or end is None:
            return None
        return max(0.0, (end - started) * 1000)

    def streamed(self) -> tuple[bool, Any]:
        """``(True, "joined text")`` when every chunk so far is a string, else ``(False, chunks)``."""
        chunks = self.chunks
        if chunks and all(type(c) is str for c in chunks):
            return True, "".join(chunks)
        return False, list(chunks)

    def seq_gaps(self) -> list[tuple[int, int]]:
        """Missing chunk ``seq`` ranges (inclusive), up to the last seq or the declared count."""
        gaps: list[tuple[int, int]] = []
        expected = len(self.chunks)
        for seq in sorted(self.pending or ()):
            if seq > expected:
                gaps.append((expected, seq - 1))
            expected = seq + 1
        declared = self.declared_chunk_count
        if declared is not None and declared > expected:
            gaps.append((expected, declared - 1))
        return gaps

    def events(self, reader: DirectoryReader | None = None) -> tuple[list[Any], bool]:
        """This run's events: re-read from the files, or rebuilt if they are gone.

        Returns ``(events, exact)``; ``exact`` is False when some source was gone
        and the list was rebuilt from what the model kept (chunk timestamps lost).
        """
        if reader is not None and self.sources:
            needle = self.run_id.encode()
            found: list[Any] = []
            for source in self.sources:
                data = reader.read_range(source)
                if data is None:
                    break
                found.extend(_events_of(data, needle, self.run_id))
            else:
                return found, True
        rebuilt: list[Any] = [self.start] if self.start is not None else []
        for seq, chunk in enumerate(self.chunks):
            rebuilt.append({fmt.EVENT: fmt.CHUNK, fmt.CHUNK_SEQ: seq, fmt.CHUNK_VALUE: chunk})
        for seq, chunk in sorted((self.pending or {}).items()):
            rebuilt.append({fmt.EVENT: fmt.CHUNK, fmt.CHUNK_SEQ: seq, fmt.CHUNK_VALUE: chunk})
        if self.end is not None:
            rebuilt.append(self.end)
        return rebuilt, False

    def text(self) -> str:
        """Lower-cased name, inputs, outputs and error, for text search."""
        parts = [self.name, self.run_type, self.error_summary]
        for value in (self.inputs, self.outputs):
            if isinstance(value, str):
                parts.append(value)
            elif value is not None:
                try:
                    parts.append(orjson.dumps(value).decode())
                except (TypeError, orjson.JSONEncodeError):
                    parts.append(repr(value))
        if self.end is None:
            ok, text = self.streamed()
            if ok:
                parts.append(text)
        return "\n".join(parts).lower()


def _start_order(run: RunRecord) -> tuple[str, str]:
    return (run.start_ts or "", run.run_id)


def _events_of(data: bytes, needle: bytes, run_id: str) -> list[Any]:
    found = []
    for line in data.split(b"\n"):
        if needle in line:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict) and event.get(fmt.RUN_ID) == run_id:
                found.append(event)
    return found


@dataclass(frozen=True)
class Summary:
    """Counts for a health check (``jsontrace doctor``) and the viewer's status bar."""

    files: int
    bytes_read: int
    lines: int
    events: int
    runs: int
    traces: int
    finished: int
    unfinished: int
    running: int
    interrupted: int
    errors: int
    orphans: int
    cycles: int
    duplicate_events: int
    conflicting_events: int
    unknown_events: int
    unsupported_version: int
    invalid_events: int
    bad_lines: int
    bad_line_samples: tuple[str, ...]
    truncated_files: int
    deleted_files: int
    seq_gaps: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


class RunStore:
    """All runs read so far, indexed by id, with the roots of the trace forest.

    Not thread-safe by itself: the viewer holds one lock around ingest and reads.
    Counters: :attr:`events` (accepted), :attr:`duplicates` (a line seen twice),
    :attr:`conflicts` (a second, different start or end for one run id),
    :attr:`unknown` (other event kinds), :attr:`unsupported` (other format
    versions), :attr:`invalid` (not an object, or missing/ill-typed ``event``,
    ``run_id`` or ``seq``; the first few kept in :attr:`invalid_samples`),
    :attr:`cycles` (parent links dropped to avoid a cycle), :attr:`undecodable`
    (deferred chunk lines that turned out not to be JSON: bad lines the reader
    did not see).
    """

    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.roots: dict[str, RunRecord] = {}
        self.events = 0
        self.duplicates = 0
        self.conflicts = 0
        self.unknown = 0
        self.unsupported = 0
        self.invalid = 0
        self.cycles = 0
        self.undecodable = 0
        self.invalid_samples: list[str] = []
        self._dirty: set[RunRecord] = set()
        self._new_roots: list[RunRecord] = []
        # A deferred chunk line's bytes from the run id to its closing '",' -> its run,
        # once a first line with those bytes was decoded and its run id matched them.
        self._by_raw_id: dict[bytes, RunRecord] = {}
        # Runs given undecoded lines since they were last decoded (some may be decoded
        # since, when something read their chunks): what settle() works through.
        self._unsettled: list[RunRecord] = []

    # -- ingest -----------------------------------------------------------------

    def add_batch(self, batch: Batch) -> None:
        """File every event of a batch under its run (the hot path: keep it lean)."""
        self._add(batch.events, batch.source, batch)
        if batch.chunk_lines:
            self._add_raw(batch.chunk_lines, batch.source)

    def _add_raw(self, lines: list[bytes], source: Source) -> None:
        """File undecoded chunk lines under the run id they start with.

        The first line with given id bytes is decoded and filed like any event; if
        its run id is exactly those bytes, later lines with the same bytes are the
        same run's (the id is followed by '",', so it cannot run on). Ids that are
        not stored literally in JSON (escapes) never enter the index: their lines
        are always decoded.
        """
        index = self._by_raw_id
        touched: set[RunRecord] = set()
        filed = 0
        # A stream's lines mostly come one after another: take them a run at a time.
        for key, same in groupby(lines, _raw_id):
            run = index.get(key)
            if run is None:
                group = list(same)
                self._decode_now(group[0], source)
                run = index.get(key)
                if run is None:  # not indexable: decode every line
                    for line in group[1:]:
                        self._decode_now(line, source)
                    continue
                del group[0]
                if not group:
                    continue
            else:
                group = list(same)
            if run.raw is None:
                run.raw = group
                self._unsettled.append(run)
            else:
                run.raw += group
            touched.add(run)
            filed += len(group)
        self.events += filed
        for run in touched:
            if not run.sources or run.sources[-1] is not source:
                run.sources.append(source)
        self._dirty |= touched

    def _decode_now(self, line: bytes, source: Source) -> None:
        """Decode and file one chunk line; index its id bytes if the id is written literally."""
        try:
            event = _loads(line)
        except _JSONDecodeError as exc:
            self._bad_raw(line, source[0], exc)
            return
        self._add([event], source, None)
        run_id = event.get(fmt.RUN_ID) if isinstance(event, dict) else None
        run = self.runs.get(run_id) if isinstance(run_id, str) else None
        key = _raw_id(line)
        if run is not None and key == orjson.dumps(run_id)[1:] + b",":
            self._by_raw_id[key] = run

    def _decode(self, run: RunRecord) -> None:
        """Decode and file a run's deferred chunk lines (they were counted as events).

        Only this run's chunks and the counters change: a line that decodes to
        anything else (a repeated key overriding ``event`` or ``run_id``) is
        invalid, so that decoding, which may happen while the forest is being
        walked, never adds, moves or re-parents a run.
        """
        lines, run.raw = run.raw, None
        if not lines:
            return
        self.events -= len(lines)  # counted when filed; _add counts the good ones again
        events: list[Any] = []
        run_id = run.run_id
        for line in lines:
            try:
                event = _loads(line)
            except _JSONDecodeError as exc:
                self._bad_raw(line, f"run {run_id}", exc)
                continue
            if (
                type(event) is dict
                and event.get(fmt.EVENT) == fmt.CHUNK
                and event.get(fmt.RUN_ID) == run_id
            ):
                events.append(event)
                continue
            self.invalid += 1
            if len(self.invalid_samples) < _MAX_SAMPLES:
                self.invalid_samples.append(
                    f"a line that starts as a chunk of run {run_id} is something else:"
                    f" {_excerpt(line.decode('utf-8', 'backslashreplace'))}"
                )
        self._add(events, None, None)
        self._dirty.add(run)  # its counts may differ now (a bad line, a repeat)

    def _bad_raw(self, line: bytes, where: str, exc: Exception) -> None:
        # Where: the file for a line decoded as it was read, else the run it was filed
        # under (its file and line number are not kept; ``jsontrace doctor`` gives them).
        self.undecodable += 1
        if len(self.invalid_samples) < _MAX_SAMPLES:
            excerpt = _excerpt(line.decode("utf-8", "backslashreplace"))
            self.invalid_samples.append(f"{where}: chunk line is not JSON ({exc}): {excerpt}")

    def settle(self, runs: int | None = None) -> bool:
        """Decode the deferred chunk lines of every run (or of up to *runs* runs).

        Afterwards every counter is exact. Returns whether some runs still wait
        (a caller with time to spare, the viewer's reader, settles a slice at a time).
        """
        unsettled = self._unsettled
        # From the end: the runs filed last are the likeliest to be looked at next.
        count = len(unsettled) if runs is None else min(runs, len(unsettled))
        for run in unsettled[len(unsettled) - count :]:
            if run.raw is not None:
                self._decode(run)
        del unsettled[len(unsettled) - count :]
        return bool(unsettled)

    @property
    def unsettled(self) -> int:
        """How many runs may hold undecoded chunk lines (see :meth:`settle`)."""
        return len(self._unsettled)

    def add_events(self, events: Iterable[Any], source: Source | None = None) -> None:
        """File events that did not come from a reader (tests, in-memory captures)."""
        self._add(list(events), source, None)

    def _add(self, events: list[Any], source: Source | None, batch: Batch | None) -> None:
        runs = self.runs
        dirty = self._dirty
        added = 0
        for event in events:
            try:
                kind = event[fmt.EVENT]
                run_id = event[fmt.RUN_ID]
                if type(run_id) is not str or event[fmt.VERSION] != fmt.FORMAT_VERSION:
                    raise _Reject
                run = runs.get(run_id)
                if kind == fmt.CHUNK:
                    seq = event[fmt.CHUNK_SEQ]
                    if run is None:
                        run = self._placeholder(run_id, event)
                    if run.raw is not None:  # chunk lines of this run wait: file them first
                        self._decode(run)
                    chunks = run._chunks
                    if seq == len(chunks) and run._pending is None and type(seq) is int:
                        chunks.append(event[fmt.CHUNK_VALUE])
                    elif not self._odd_chunk(run, seq, event):
                        continue
                    run._last_ts = event.get(fmt.TS)
                elif kind == fmt.START:
                    run = self._start(run, run_id, event)
                elif kind == fmt.END:
                    run = self._end(run, run_id, event)
                else:
                    self.unknown += 1
                    continue
                if run is None:
                    continue
                if source is not None and (not run.sources or run.sources[-1] is not source):
                    run.sources.append(source)
                dirty.add(run)
                added += 1
            except Exception:  # any malformed event is counted, never raised
                self._reject(event, events, batch)
        self.events += added

    def _reject(self, event: Any, events: list[Any], batch: Batch | None) -> None:
        version = event.get(fmt.VERSION, None) if isinstance(event, dict) else None
        if (
            isinstance(event, dict)
            and isinstance(event.get(fmt.RUN_ID), str)
            and (version != fmt.FORMAT_VERSION and version is not None)
        ):
            self.unsupported += 1
            return
        self.invalid += 1
        if len(self.invalid_samples) < _MAX_SAMPLES:
            where = ""
            if batch is not None:
                index = next((i for i, e in enumerate(events) if e is event), None)
                line = batch.line_of(index) if index is not None else "?"
                where = f"{batch.file}:{line}: "
            self.invalid_samples.append(f"{where}not a valid event: {_excerpt(event)}")

    def _placeholder(self, run_id: str, event: Mapping[str, Any]) -> RunRecord:
        trace_id = event.get(fmt.TRACE_ID)
        run = RunRecord(run_id, trace_id if isinstance(trace_id, str) else "", self)
        self.runs[run_id] = run
        self.roots[run_id] = run
        self._new_roots.append(run)
        return run

    def _odd_chunk(self, run: RunRecord, seq: Any, event: dict[str, Any]) -> bool:
        """A chunk off the fast path: a repeat, early, or with a bad seq. True if kept."""
        if type(seq) is not int or seq < 0:
            raise _Reject
        value = event[fmt.CHUNK_VALUE]
        pending = run._pending
        chunks = run._chunks
        if seq < len(chunks) or (pending is not None and seq in pending):
            self.duplicates += 1
            return False
        if pending is None:
            pending = run._pending = {}
        pending[seq] = value
        while len(chunks) in pending:
            chunks.append(pending.pop(len(chunks)))
        if not pending:
            run._pending = None
        return True

    def _second(self, first: dict[str, Any], event: dict[str, Any]) -> None:
        """A run's start or end seen again: a repeated line, or a different one (a conflict)."""
        if first == event:
            self.duplicates += 1
        else:
            self.conflicts += 1

    def _start(self, run: RunRecord | None, run_id: str, event: dict[str, Any]) -> RunRecord | None:
        if run is None:
            run = self._placeholder(run_id, event)
        elif run.start is not None:
            self._second(run.start, event)
            return None
        run.start = event
        run._start_s = None
        trace_id = event.get(fmt.TRACE_ID)
        if isinstance(trace_id, str):
            run.trace_id = trace_id
        parent_id = event.get(fmt.PARENT_RUN_ID)
        if isinstance(parent_id, str):
            self._link(run, parent_id)
        return run

    def _link(self, run: RunRecord, parent_id: str) -> None:
        parent = self.runs.get(parent_id)
        ancestor = parent
        while ancestor is not None:
            if ancestor is run:
                run.cycle = True
                self.cycles += 1
                return  # stays a root
            ancestor = ancestor.parent
        if parent is None:
            parent = self._placeholder(parent_id, {fmt.TRACE_ID: run.trace_id})
        run.parent = parent
        parent.children.append(run)
        self.roots.pop(run.run_id, None)
        self._dirty.add(parent)
        if run.error_below or (run.end is not None and run.status == ERROR):
            self._mark_error(parent)

    def _end(self, run: RunRecord | None, run_id: str, event: dict[str, Any]) -> RunRecord | None:
        if run is None:
            run = self._placeholder(run_id, event)
        elif run.end is not None:
            self._second(run.end, event)
            return None
        run.end = event
        if run.parent is not None and run.status == ERROR:
            self._mark_error(run.parent)
        return run

    def _mark_error(self, run: RunRecord | None) -> None:
        while run is not None and not run.error_below:
            run.error_below = True
            self._dirty.add(run)
            run = run.parent

    # -- reading the model --------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        """The run with this id, if any event mentioned it."""
        return self.runs.get(run_id)

    def traces(self, *, newest_first: bool = True) -> list[RunRecord]:
        """The roots of the forest (trace roots, orphaned subtrees, runs seen without a start)."""
        return sorted(self.roots.values(), key=root_order, reverse=newest_first)

    def take_dirty(self) -> set[RunRecord]:
        """Runs changed since the last call (for the viewer's batched updates)."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def take_new_roots(self) -> list[RunRecord]:
        """Roots created since the last call (some may since have found a parent)."""
        new, self._new_roots = self._new_roots, []
        return new

    def seq_gaps(self) -> dict[str, list[tuple[int, int]]]:
        """Every run with missing chunk seqs, with the missing ranges."""
        gaps = {}
        for run_id, run in list(self.runs.items()):
            if run.pending or run.declared_chunk_count is not None:
                found = run.seq_gaps()
                if found:
                    gaps[run_id] = found
        return gaps

    def summary(self, reader: DirectoryReader | None = None) -> Summary:
        """Counts over everything read so far (walks every run: not for every frame)."""
        self.settle()
        seen = [run for run in self.runs.values() if run.seen]
        statuses = [run.status for run in seen]
        samples = [str(bad) for bad in reader.bad_samples] if reader else []
        return Summary(
            files=len(reader.files) if reader else 0,
            bytes_read=reader.bytes_read if reader else 0,
            lines=reader.lines if reader else 0,
            events=self.events,
            runs=len(seen),
            traces=len(self.roots),
            finished=sum(run.end is not None for run in seen),
            unfinished=sum(run.end is None for run in seen),
            running=statuses.count(RUNNING),
            interrupted=statuses.count(INTERRUPTED),
            errors=statuses.count(ERROR),
            orphans=sum(run.is_orphan for run in seen),
            cycles=self.cycles,
            duplicate_events=self.duplicates,
            conflicting_events=self.conflicts,
            unknown_events=self.unknown,
            unsupported_version=self.unsupported,
            invalid_events=self.invalid,
            bad_lines=(reader.bad_lines if reader else 0) + self.invalid + self.undecodable,
            bad_line_samples=tuple(samples + self.invalid_samples),
            truncated_files=reader.truncations if reader else 0,
            deleted_files=reader.deleted_files if reader else 0,
            seq_gaps=self.seq_gaps(),
        )

    def discard(self, roots: Iterable[RunRecord]) -> int:
        """Forget whole trees (each root and everything below it); returns the runs dropped.

        For readers that stream a directory through the store and are done with
        finished traces (``jsontrace export``): memory then holds the traces still
        in progress, not every trace read. Events read later for a forgotten run
        file it anew, as if it had never been seen. Counters are left as they are.
        The forgotten runs are cut from one another (no parent, no children), so
        they are freed as soon as the caller lets go of them, without waiting for
        the cyclic garbage collector.
        """
        gone: set[RunRecord] = set()
        for root in roots:
            if root in gone:
                continue
            if root.parent is not None:  # not a root after all: cut it from its parent
                root.parent.children = [c for c in root.parent.children if c is not root]
                root.parent = None
            stack = [root]
            while stack:
                run = stack.pop()
                gone.add(run)
                stack.extend(run.children)
        if not gone:
            return 0
        for run in gone:
            if self.runs.get(run.run_id) is run:
                del self.runs[run.run_id]
            if self.roots.get(run.run_id) is run:
                del self.roots[run.run_id]
            key = orjson.dumps(run.run_id)[1:] + b","  # as _decode_now indexes it
            if self._by_raw_id.get(key) is run:
                del self._by_raw_id[key]
            run.parent = None
            run.children = []
        self._dirty -= gone
        self._new_roots = [run for run in self._new_roots if run not in gone]
        self._unsettled = [run for run in self._unsettled if run not in gone]
        return len(gone)


def root_order(run: RunRecord) -> tuple[str, str]:
    """Sort key of a root: its start time (else its id: UUIDv7 ids sort by time)."""
    return (run.start_ts or _str(run.last_ts) or "", run.run_id)


@contextlib.contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the cyclic garbage collector while a directory is loaded, then freeze the result.

    Loading creates hundreds of thousands of long-lived objects; each full
    collection would walk all of them again, and on a million events that was
    half the load time. Afterwards ``gc.freeze()`` moves what was loaded out
    of the collector's sight for good: the runs live as long as the viewer.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()


def load_directory(directory: str | os.PathLike[str]) -> tuple[RunStore, DirectoryReader]:
    """Read every segment file of *directory* once into a new store."""
    reader = DirectoryReader(directory, defer_chunks=True)
    store = RunStore()
    with bulk_load():
        for batch in reader.poll():
            store.add_batch(batch)
    return store, reader


def _excerpt(value: Any, limit: int = 120) -> str:
    # Raw text from the files: whoever shows it makes it printable (jsontrace.render).
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
