"""The run store: the one reading model of traces, an index over the files, tolerant of disorder.

::

    store, reader = load_directory("logs")    # or: RunStore().add_batch(batch) per batch
    for root in store.traces():               # newest trace first: RunRecord objects
        print(root.name, root.status, root.duration_ms())   # from the index: no file read
        print(root.inputs)                    # a value: read from the file now (and cached)
    summary = store.summary(reader)           # counts for ``jsontrace doctor`` and ``--print``

The viewer, ``jsontrace-view --print`` (through :mod:`jsontrace.render`), the
doctor and :mod:`jsontrace.testing` all read traces through it, so a test sees
what the viewer shows and every output counts bad lines and corruption the same
way. A :class:`RunRecord` is what the files say of one run; the writing side's
:class:`jsontrace.Run` is the live run being recorded.

What is kept in memory, and how values are loaded:

* **An index, not the events.** Per run a :class:`RunRecord` keeps its ids, its
  parent and children, name, type, host and pid, status, start and end times,
  duration, chunk counts, the first line of an error, and *where its lines are*:
  a few ``(file id, start, end)`` byte spans (lines of one run that lie close
  together share one span). That is a few hundred bytes per run, tens per event.
  Names, types, hosts and pids are shared: a directory has few of each.
* **Values are read from the files when asked for.** ``inputs``, ``outputs``,
  ``error``, ``metadata``, ``tags``, ``chunks`` and the ``start``/``end`` event
  dicts come from :meth:`RunStore.values`: the run's spans are read again
  (:meth:`jsontrace.reader.DirectoryReader.read_span`), its lines picked out and
  decoded, with the same checks as when they were first read, so the start and
  end used are the ones the index filed. The last runs loaded are cached
  (:data:`CACHE_BYTES` of lines at most); a run that grew since (a running
  stream) is topped up by reading only its new bytes. If a file was replaced or
  deleted since, what can no longer be read is missing (``RunValues.exact`` is
  False).
* **Events with no file** (:meth:`RunStore.add_events`: :mod:`jsontrace.testing`,
  tests) keep their values in memory, in the run itself.
* **Finished traces beyond a window can leave memory.** With ``window=N`` (the
  viewer), :meth:`RunStore.evict` moves the oldest traces beyond the newest ``N``
  whose runs have all ended out of the index into a compact table (under a
  hundred bytes per trace: time, id, status, byte spans). :meth:`RunStore.traces`
  and :meth:`RunStore.iter_traces` rebuild such a trace from its spans when it is
  asked for; an event that arrives later for it brings it back first.

Why this shape:

* Ingest is the hot path (a million events must load in about twice the time
  ``orjson`` takes to parse them), so :meth:`RunStore.add_batch` parses start and
  end events, checks them, copies a few fields into the run's record and drops
  the dict; chunk lines deferred by the reader (``defer_chunks=True``) are not
  decoded at all: they are filed by the run id at a fixed place in the line and
  counted, and decoded once later (:meth:`RunStore.settle`) for exact counts.
  ``--print`` and the doctor settle everything before they count; the viewer
  settles a slice at a time while idle.
* **One judgement of what is valid**, used by every output: an event is a JSON
  object with ``event`` and ``run_id`` strings, ``v`` 1, a ``trace_id`` string and
  a ``ts`` that is an ISO 8601 time with an offset; a start needs a ``name``
  string and a ``parent_run_id`` (string or null), and ``run_type``, ``host``
  (strings) and ``pid`` (an int) when present; a chunk a whole-number ``seq`` and
  a ``chunk``; an end a ``status`` string, and ``chunk_count`` (a whole number),
  ``duration_ms`` and ``first_chunk_ms`` (numbers or null) when present. Anything
  else is a *bad line* (counted, a few kept as samples with file, line and what
  is wrong), never a run. Other ``v`` values and other event kinds are skipped
  (the format's compatibility rules), not bad.
* **Corruption** is bad lines plus repeated events (a second start or end of a
  run like the first; a chunk ``seq`` seen before), conflicting events (a second,
  different start or end), runs with missing chunk ``seq`` numbers, and ends whose
  ``chunk_count`` disagrees with the chunks read. :class:`Summary` and the live
  counters (:attr:`RunStore.corruption`) say the same.
* Events may come in any order: a chunk or an end before its start, a child
  before its parent (a placeholder parent is made and filled in when the
  parent's start arrives). A parent link that would make a cycle (a run its own
  parent, A under B under A) is dropped and the run becomes a root.
* A run without an end whose writer process is gone (same host, pid no longer
  alive) is ``interrupted`` rather than running forever; it lasts until the last
  event seen of it or of anything below it. A running run lasts until now, and
  never less than what was seen below it.

For code built on the index (search, waterfalls, statistics):
:meth:`RunStore.iter_traces` yields every trace root, newest first, with index
fields only (``name``, ``run_type``, ``status``, ``started_at``,
``duration_ms()``, ``chunk_count``, ``error_below``, ``children``); reading a
value property, or :meth:`RunStore.values` / :meth:`RunStore.preload` for a
whole trace, loads values.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import math
import os
import sys
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final, NoReturn

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
    "CACHE_BYTES",
    "CANCELLED",
    "ERROR",
    "INTERRUPTED",
    "OK",
    "RUNNING",
    "RunRecord",
    "RunStore",
    "RunValues",
    "Summary",
    "bulk_load",
    "load_directory",
    "parse_ts",
    "root_order",
]

RUNNING: Final = "running"
OK: Final = fmt.OK
ERROR: Final = fmt.ERROR_STATUS
CANCELLED: Final = fmt.CANCELLED
INTERRUPTED: Final = "interrupted"

#: Loaded values kept for the runs read last, by bytes of their lines (the newest always stays).
CACHE_BYTES: Final = 64 << 20
#: Lines of one run closer than this share one span (read together, a little extra read).
MERGE_GAP: Final = 64 << 10
_MAX_SAMPLES = 20
_EXCERPT = 120
_ERROR_LINE = 200
_NO_TOTALS: Final = pricing.Totals()
_EMPTY: Final[Mapping[str, Any]] = {}
_MISSING: Final = object()
#: Where a deferred chunk line keeps its run id: after the prefix, through the '",'
#: that closes it (36 characters for the writer's UUIDs).
_ID_AT: Final = len(fmt.CHUNK_LINE_PREFIX)
_raw_id = itemgetter(slice(_ID_AT, _ID_AT + 38))
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_intern = sys.intern
#: Each status's one string object (a run keeps this one, not the event's copy).
_STATUSES: Final = {OK: OK, ERROR: ERROR, CANCELLED: CANCELLED}
_STATUS_CODES: Final = {OK: 1, ERROR: 2, CANCELLED: 3}
# RunRecord._flags
_F_START, _F_END, _F_CYCLE, _F_ERROR_BELOW = 1, 2, 4, 8
# RunRecord extra problems (_Extra.flagged)
_GAP, _MISMATCH = 1, 2
# Problem kinds, in the order samples are listed.
_KINDS: Final = ("bad line", "repeated event", "conflicting event")

# -- timestamps ----------------------------------------------------------------------------

if sys.version_info >= (3, 11):
    _fromisoformat = datetime.fromisoformat
else:  # fromisoformat accepts "Z" only from 3.11 on

    def _fromisoformat(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))


#: What parsing a time can raise (TypeError: not a string).
_TS_ERRORS: Final = (TypeError, ValueError, OverflowError, OSError, AttributeError)


def parse_ts(value: object) -> float | None:
    """An ISO 8601 time with an offset (RFC 3339) as seconds since the epoch, else ``None``.

    A time without an offset is refused: a local time means nothing to a reader
    on another machine. (Ingest inlines this: it runs for every event.)
    """
    try:
        parsed = _fromisoformat(value)  # type: ignore[arg-type]
        return parsed.timestamp() if parsed.tzinfo is not None else None
    except _TS_ERRORS:
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


# -- what makes an event valid (one judgement for every reader) ----------------------------


class _Reject(Exception):
    """An event that cannot be filed, and why (raised and caught inside ingest only)."""


class _Repeated(Exception):
    """An event seen before (``kind`` "repeated event") or clashing with the first one
    ("conflicting event"): already counted; raised so that the caller, which knows
    where the line is, can keep a sample."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind


def _ids_and_time(event: dict[str, Any]) -> tuple[str, str, float]:
    """``(run_id, trace_id, time)`` of an event, or :class:`_Reject`."""
    run_id = event.get(fmt.RUN_ID)
    if type(run_id) is not str or not run_id:
        raise _Reject("run_id is not a string")
    trace_id = event.get(fmt.TRACE_ID)
    if type(trace_id) is not str:
        raise _Reject("trace_id is not a string")
    seconds = parse_ts(event.get(fmt.TS))
    if seconds is None:
        raise _Reject("ts is not an ISO 8601 time with an offset")
    return run_id, trace_id, seconds


def _check_start(event: dict[str, Any]) -> None:
    get = event.get
    if type(get(fmt.NAME)) is not str:
        raise _Reject("run.start without a name string")
    parent = get(fmt.PARENT_RUN_ID, _MISSING)
    if parent is not None and type(parent) is not str:
        raise _Reject("run.start without parent_run_id (a string or null)")
    if type(get(fmt.RUN_TYPE, "")) is not str:
        raise _Reject("run_type is not a string")
    if type(get(fmt.HOST, "")) is not str:
        raise _Reject("host is not a string")
    pid = get(fmt.PID)
    if pid is not None and type(pid) is not int:
        raise _Reject("pid is not a whole number")


def _check_chunk(event: dict[str, Any]) -> int:
    seq = event.get(fmt.CHUNK_SEQ)
    if type(seq) is not int or seq < 0:
        raise _Reject("run.chunk without a whole-number seq")
    if fmt.CHUNK_VALUE not in event:
        raise _Reject("run.chunk without a chunk")
    return seq


def _check_end(event: dict[str, Any]) -> None:
    get = event.get
    if type(get(fmt.STATUS)) is not str:
        raise _Reject("run.end without a status string")
    count = get(fmt.CHUNK_COUNT)
    if count is not None and (type(count) is not int or count < 0):
        raise _Reject("chunk_count is not a whole number")
    for key in (fmt.DURATION_MS, fmt.FIRST_CHUNK_MS):
        value = get(key)
        if value is not None and type(value) is not float and type(value) is not int:
            raise _Reject(f"{key} is not a number")


def _valid(event: Any, run_id: str) -> str | None:
    """The kind of a valid event of *run_id* (``run.start``, ...), else ``None``."""
    try:
        if type(event) is not dict or event.get(fmt.RUN_ID) != run_id:
            return None
        version = event.get(fmt.VERSION)
        if version != fmt.FORMAT_VERSION or type(version) is not int:
            return None
        kind = event.get(fmt.EVENT)
        _ids_and_time(event)
        if kind == fmt.START:
            _check_start(event)
        elif kind == fmt.CHUNK:
            _check_chunk(event)
        elif kind == fmt.END:
            _check_end(event)
        else:
            return None
    except _Reject:
        return None
    return kind  # type: ignore[no-any-return]


def _error_summary(error: object) -> str:
    """``"Type: message"`` for an end event's ``error`` value, else ``""``."""
    if error is None or error is False:
        return ""
    if not isinstance(error, dict):
        error = {"message": error}  # a writer that put a bare value there
    kind, message = error.get("type"), error.get("message")
    kind = kind if isinstance(kind, str) else ""
    message = message if isinstance(message, str) else ("" if message is None else str(message))
    return f"{kind}: {message}" if kind and message else kind or message or "error"


# -- values --------------------------------------------------------------------------------


class RunValues:
    """A run's values, decoded from its lines: the start and end events, the chunks.

    ``chunks`` holds the chunk values in ``seq`` order up to the first missing
    one; later ones wait in ``pending`` (by seq). ``last_ts`` is the ``ts`` of the
    last chunk, as written. ``exact`` is False when some of the run's lines could
    not be read again (the file was replaced or deleted since).
    """

    __slots__ = (
        "chunks", "counted", "end", "exact", "last_ts", "nbytes", "pending", "spans", "start",
    )  # fmt: skip

    def __init__(self) -> None:
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.chunks: list[Any] = []
        self.pending: dict[int, Any] | None = None
        self.last_ts: object = None
        self.exact = True
        self.nbytes = 0  # bytes of lines decoded
        self.counted = 0  # what the cache counted for it
        self.spans = b""  # the run's spans when loaded (to top up a growing run)

    def add_chunk(self, seq: int, value: Any, ts: object) -> bool:
        """File a chunk value by seq; False if that seq is there already."""
        chunks = self.chunks
        pending = self.pending
        if seq < len(chunks) or (pending is not None and seq in pending):
            return False
        if seq == len(chunks) and pending is None:
            chunks.append(value)
        else:
            if pending is None:
                pending = self.pending = {}
            pending[seq] = value
            while len(chunks) in pending:
                chunks.append(pending.pop(len(chunks)))
            if not pending:
                self.pending = None
        self.last_ts = ts
        return True


class _Extra:
    """What few runs need, kept out of every record: out-of-order seqs, deferred lines, ..."""

    __slots__ = (
        "end_model", "error_line", "flagged", "last_chunk_s", "mem", "seq_early", "start_model",
        "usage",
    )  # fmt: skip

    def __init__(self) -> None:
        self.seq_early: set[int] | None = None  # chunk seqs seen past a missing one
        self.mem: RunValues | None = None  # values of events that had no file
        self.flagged = 0  # _GAP | _MISMATCH, as counted by the store
        self.error_line: str | None = None
        self.last_chunk_s: float | None = None  # while unfinished: ends an interrupted run
        # LLM calls (index fields, so a trace's line needs no values): the end's usage,
        # normalised; the model the end names ("" when its metadata names none), and the
        # one the start's metadata names.
        self.usage: Usage | None = None
        self.end_model: str | None = None
        self.start_model: str | None = None

    def empty(self) -> bool:
        return (
            self.seq_early is None
            and self.mem is None
            and not self.flagged
            and self.error_line is None
            and self.last_chunk_s is None
            and self.usage is None
            and self.end_model is None
            and self.start_model is None
        )


# -- one run -------------------------------------------------------------------------------


class RunRecord:
    """One run as seen in the files so far. Every property is total: bad data gives defaults.

    Index fields (kept in memory, cheap): ``run_id``, ``trace_id``, ``parent``,
    ``children``, ``name``, ``run_type``, ``host``, ``pid``, ``status``,
    ``started_at``, ``ended_at``, ``duration_ms()``, ``first_chunk_ms``,
    ``chunk_count``, ``error_line``, ``error_below``, ``cycle``, ``has_start``,
    ``has_end``. Value properties (``start``, ``end``, ``inputs``, ``outputs``,
    ``error``, ``metadata``, ``tags``, ``chunks``, ...) load the run's lines from
    the files (see the module notes).
    """

    __slots__ = (
        "_children",
        "_declared",
        "_duration",
        "_end_s",
        "_first_chunk",
        "_flags",
        "_order",
        "_raw",
        "_raw_spans",
        "_seq_next",
        "_spans",
        "_status",
        "_store",
        "_x",
        "host",
        "name",
        "parent",
        "pid",
        "run_id",
        "run_type",
        "trace_id",
    )

    def __init__(self, run_id: str, trace_id: str = "", store: RunStore | None = None) -> None:
        self.run_id = run_id
        self.trace_id = trace_id
        self._store = store
        self.parent: RunRecord | None = None
        self._children: list[RunRecord] | None = None
        self.name = "?"
        self.run_type = ""
        self.host = ""
        self.pid: int | None = None
        self._flags = 0
        # The start time once the start is read; before, the first time seen (for sorting).
        self._order = 0.0
        self._end_s: float | None = None
        self._duration: float | None = None
        self._first_chunk: float | None = None
        self._declared: int | None = None
        self._status: str | None = None
        self._seq_next = 0  # chunk seqs 0 .. _seq_next - 1 have been read
        self._raw = 0  # chunk lines filed undecoded (counted as events until decoded)
        self._raw_spans: array[int] | None = None  # where those lines are
        self._spans: array[int] | None = None
        self._x: _Extra | None = None

    def __repr__(self) -> str:
        return f"<RunRecord {self.run_id!r} {self.name!r} {self.status}>"

    # -- flags ------------------------------------------------------------------

    @property
    def has_start(self) -> bool:
        """Whether the start event was read."""
        return bool(self._flags & _F_START)

    @property
    def has_end(self) -> bool:
        """Whether the end event was read."""
        return bool(self._flags & _F_END)

    finished = has_end

    @property
    def cycle(self) -> bool:
        """Whether the start named a parent that would have made a cycle (the link was dropped)."""
        return bool(self._flags & _F_CYCLE)

    @property
    def error_below(self) -> bool:
        """Whether a run somewhere below this one failed."""
        return bool(self._flags & _F_ERROR_BELOW)

    # -- identity and tree ------------------------------------------------------

    @property
    def children(self) -> list[RunRecord]:
        """The runs that name this one as their parent, in the order they were read."""
        children = self._children
        return children if children is not None else []

    @property
    def seen(self) -> bool:
        """Whether any event of this run was read (else it is only someone's parent)."""
        x = self._x
        return bool(self._flags & 3 or self._seq_next or self._raw or (x and x.seq_early))

    @property
    def parent_run_id(self) -> str | None:
        """The parent id the start event names (even if that parent was never seen)."""
        if self.parent is not None:
            return self.parent.run_id
        if self._flags & _F_CYCLE:
            value = (self.start or _EMPTY).get(fmt.PARENT_RUN_ID)
            return value if isinstance(value, str) else None
        return None

    @property
    def is_orphan(self) -> bool:
        """Started with a parent id, but that parent's start was never read."""
        return self.parent is not None and not self.parent._flags & _F_START

    def sorted_children(self) -> list[RunRecord]:
        """Children in start order (time, then id: UUIDv7 ids sort by time)."""
        return sorted(self.children, key=root_order)

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
            if run._children:
                stack.extend(reversed(run.sorted_children()))

    # -- index fields -------------------------------------------------------------

    @property
    def started_at(self) -> float | None:
        """The start time in seconds since the epoch."""
        return self._order if self._flags & _F_START else None

    @property
    def ended_at(self) -> float | None:
        """The end event's time in seconds since the epoch."""
        return self._end_s

    @property
    def status(self) -> str:
        """One of ``running``, ``ok``, ``error``, ``cancelled``, ``interrupted``.

        An end event with an unknown status counts as ``error`` if it carries an
        error, else ``ok``. Without an end event, a run is ``interrupted`` when its
        writer ran on this host and that process is gone.
        """
        if self._status is not None:
            return self._status
        if process_alive(self.host, self.pid) is False:
            return INTERRUPTED
        return RUNNING

    @property
    def error_line(self) -> str:
        """The first line of ``"Type: message"`` of an error (kept in the index; raw text)."""
        x = self._x
        return (x.error_line or "") if x is not None else ""

    @property
    def undecoded(self) -> int:
        """Chunk lines filed but not decoded yet (see :meth:`RunStore.settle`)."""
        return self._raw

    @property
    def declared_chunk_count(self) -> int | None:
        """The ``chunk_count`` the end event claims."""
        return self._declared

    def _chunks_seen(self) -> int:
        x = self._x
        return self._seq_next + (len(x.seq_early) if x is not None and x.seq_early else 0)

    @property
    def chunk_count(self) -> int:
        """Chunks read so far (after gaps too); the end's count when it says more."""
        declared = self._declared
        if declared is not None and declared >= self._chunks_seen() + self._raw:
            return declared  # undecoded lines can only be fewer once repeats are dropped
        if self._raw and self._store is not None:
            self._store.settle_run(self)
        seen = self._chunks_seen() + self._raw
        return max(seen, declared) if declared is not None else seen

    @property
    def first_chunk_ms(self) -> float | None:
        """Milliseconds from start to the first chunk, for generators."""
        return self._first_chunk

    # -- llm calls: model, tokens, cost (index fields) ------------------------------------

    @property
    def usage(self) -> Usage | None:
        """The token usage the end event records, normalised (``None`` without one)."""
        x = self._x
        return x.usage if x is not None else None

    @property
    def model(self) -> str | None:
        """The model's name: the end event's ``model``, else metadata ``ls_model_name``."""
        x = self._x
        if x is None:
            return None
        if x.end_model is not None:
            return x.end_model or None
        return x.start_model

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
        # Read for every trace line the viewer draws: index fields only, no values loaded.
        stack: list[RunRecord] = [self]
        calls = []
        while stack:
            run = stack.pop()
            if run._children:
                stack.extend(run._children)
            x = run._x
            if x is not None and x.usage is not None:
                calls.append((run.model, x.usage))
        return pricing.total(calls) if calls else _NO_TOTALS

    def duration_ms(self, now: float | None = None) -> float | None:
        """The run's duration in milliseconds.

        Finished: the end event's ``duration_ms`` (else end time minus start).
        Running: until *now* (seconds since the epoch, default the current time),
        and never less than what was seen below it. Interrupted: until the last
        event seen of the run or of any run below it.
        """
        if self._flags & _F_END:
            if self._duration is not None:
                return self._duration
            end = self._end_s
        elif self.status == INTERRUPTED:
            if self._store is not None:
                self._store.settle_tree(self)
            end = _observed_end(self)
        else:
            end = time.time() if now is None else now
        if not self._flags & _F_START or end is None:
            return None
        return max(0.0, (end - self._order) * 1000)

    def seq_gaps(self) -> list[tuple[int, int]]:
        """Missing chunk ``seq`` ranges (inclusive), up to the last seq or the declared count."""
        if self._raw and self._store is not None:
            self._store.settle_run(self)
        gaps: list[tuple[int, int]] = []
        expected = self._seq_next
        x = self._x
        for seq in sorted(x.seq_early or ()) if x is not None else ():
            if seq > expected:
                gaps.append((expected, seq - 1))
            expected = seq + 1
        declared = self._declared
        if declared is not None and declared > expected:
            gaps.append((expected, declared - 1))
        return gaps

    @property
    def sources(self) -> list[Source]:
        """Where this run's lines are: ``(file name, generation, start, end)`` spans."""
        store = self._store
        spans = self._spans
        if store is None or spans is None:
            return []
        found = []
        for i in range(0, len(spans), 3):
            ident = store.file_of(spans[i])
            if ident is not None:
                found.append((ident[0], ident[1], spans[i + 1], spans[i + 2]))
        return found

    # -- values (loaded from the files) ---------------------------------------------

    def values(self) -> RunValues:
        """The run's decoded values (see :meth:`RunStore.values`)."""
        x = self._x
        if x is not None and x.mem is not None:
            return x.mem
        if self._store is None:
            return RunValues()
        return self._store.values(self)

    @property
    def start(self) -> dict[str, Any] | None:
        """The start event as written (``None`` until seen)."""
        return self.values().start if self._flags & _F_START else None

    @property
    def end(self) -> dict[str, Any] | None:
        """The end event as written (``None`` until seen)."""
        return self.values().end if self._flags & _F_END else None

    @property
    def chunks(self) -> list[Any]:
        """Chunk values in ``seq`` order, up to the first missing one."""
        return self.values().chunks if self.seen else []

    @property
    def pending(self) -> dict[int, Any] | None:
        """Chunks after a missing ``seq``, by seq (``None`` when there are none)."""
        return self.values().pending if self.seen else None

    @property
    def last_ts(self) -> object:
        """The ``ts`` of the last chunk, as written (``None`` without chunks)."""
        return self.values().last_ts if self.seen else None

    def _s(self, key: str) -> Any:
        return (self.start or _EMPTY).get(key)

    def _e(self, key: str) -> Any:
        return (self.end or _EMPTY).get(key)

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
    def start_ts(self) -> str | None:
        """The start event's timestamp as written."""
        return _str(self._s(fmt.TS)) or None

    @property
    def end_ts(self) -> str | None:
        """The end event's timestamp as written."""
        return _str(self._e(fmt.TS)) or None

    @property
    def redacted(self) -> list[str]:
        """Dotted paths the secret scrubber replaced, over the start and end events."""
        paths: list[str] = []
        for event in (self.start, self.end):
            value = (event or _EMPTY).get(fmt.REDACTED)
            if isinstance(value, list):
                paths.extend(p for p in value if isinstance(p, str) and p not in paths)
        return paths

    @property
    def error(self) -> dict[str, Any] | None:
        """The end event's ``error`` object (``type``, ``message``, ``traceback``), if any."""
        if not self._flags & _F_END:
            return None
        error = self._e(fmt.ERROR)
        if isinstance(error, dict):
            return error
        if error is not None and error is not False:
            return {"message": error}  # a writer that put a bare value there
        return None

    @property
    def error_summary(self) -> str:
        """``"Type: message"`` for an error, else ``""``."""
        return _error_summary(self.error)

    @property
    def traceback(self) -> str:
        """The error's traceback text, or ``""``."""
        return _str((self.error or _EMPTY).get("traceback"))

    @property
    def trace_warnings(self) -> list[str]:
        """Problems jsontrace itself met while recording this run."""
        value = self._e(fmt.TRACE_WARNINGS)
        return [w for w in value if isinstance(w, str)] if isinstance(value, list) else []

    def streamed(self) -> tuple[bool, Any]:
        """``(True, "joined text")`` when every chunk so far is a string, else ``(False, chunks)``."""
        chunks = self.chunks
        if chunks and all(type(c) is str for c in chunks):
            return True, "".join(chunks)
        return False, list(chunks)

    def raw_lines(self) -> tuple[list[bytes], bool]:
        """This run's lines as they are in the files, in file order, and whether all were found."""
        store = self._store
        if store is None or self._spans is None:
            return [], self._x is None or self._x.mem is None
        return store.lines_of(self)

    def events(self, reader: DirectoryReader | None = None) -> tuple[list[Any], bool]:
        """This run's events: decoded from its lines in the files, or rebuilt from memory.

        Returns ``(events, exact)``; ``exact`` is False when some lines could not be
        read again and the list was rebuilt from what is known (chunk times lost).
        *reader* is accepted for compatibility; the store knows where its lines are.
        """
        if self._spans is not None:
            lines, exact = self.raw_lines()
            if exact:
                found = []
                for line in lines:
                    with contextlib.suppress(_JSONDecodeError):
                        found.append(_loads(line))
                return found, True
        values = self.values()
        rebuilt: list[Any] = []
        start, end = values.start, values.end
        if self._spans is not None:  # its lines are gone: what the index kept
            start, end = _index_events(self)
        if start is not None:
            rebuilt.append(start)
        for seq, chunk in enumerate(values.chunks):
            rebuilt.append({fmt.EVENT: fmt.CHUNK, fmt.CHUNK_SEQ: seq, fmt.CHUNK_VALUE: chunk})
        for seq, chunk in sorted((values.pending or {}).items()):
            rebuilt.append({fmt.EVENT: fmt.CHUNK, fmt.CHUNK_SEQ: seq, fmt.CHUNK_VALUE: chunk})
        if end is not None:
            rebuilt.append(end)
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
        if not self._flags & _F_END:
            ok, text = self.streamed()
            if ok:
                parts.append(text)
        return "\n".join(parts).lower()


def _index_events(run: RunRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A start and an end event with what the index keeps (the values are gone with the file)."""
    start = end = None
    common = {fmt.RUN_ID: run.run_id, fmt.TRACE_ID: run.trace_id, fmt.VERSION: fmt.FORMAT_VERSION}
    if run._flags & _F_START:
        start = {fmt.EVENT: fmt.START, **common, fmt.TS: _iso(run._order)}
        start.update({fmt.PARENT_RUN_ID: run.parent_run_id, fmt.NAME: run.name})
        start.update({fmt.RUN_TYPE: run.run_type, fmt.PID: run.pid, fmt.HOST: run.host})
    if run._flags & _F_END:
        end = {fmt.EVENT: fmt.END, **common, fmt.TS: _iso(run._end_s), fmt.STATUS: run._status}
        end.update({fmt.CHUNK_COUNT: run._declared, fmt.DURATION_MS: run._duration})
        end[fmt.FIRST_CHUNK_MS] = run._first_chunk
    return start, end


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def root_order(run: RunRecord) -> tuple[float, str]:
    """Sort key of a run: its start time (else the first time seen), then its id."""
    return (run._order, run.run_id)


def _extra(run: RunRecord) -> _Extra:
    x = run._x
    if x is None:
        x = run._x = _Extra()
    return x


def _mem(run: RunRecord) -> RunValues:
    x = _extra(run)
    if x.mem is None:
        x.mem = RunValues()
    return x.mem


def _in_memory(run: RunRecord) -> bool:
    x = run._x
    return x is not None and x.mem is not None


# -- counts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Counts over everything read: for ``jsontrace doctor``, ``--print`` and the viewer.

    ``bad_lines`` counts lines that are not valid events (not JSON, not UTF-8,
    too long, or failing the checks in the module notes); :attr:`corruption`
    adds repeats, conflicts, runs with missing chunks and wrong chunk counts.
    ``problems`` holds a few samples of each, as raw text (make it printable).
    """

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
    statuses: dict[str, int] = field(default_factory=dict)
    without_start: int = 0
    missing_chunk_runs: int = 0
    chunk_count_mismatches: int = 0
    skipped_files: int = 0
    partial_tails: int = 0
    problems: tuple[str, ...] = ()

    @property
    def corruption(self) -> int:
        """Bad lines, repeated and conflicting events, runs with missing chunks or wrong counts."""
        return (
            self.bad_lines
            + self.duplicate_events
            + self.conflicting_events
            + self.missing_chunk_runs
            + self.chunk_count_mismatches
        )


# -- the store ------------------------------------------------------------------------------


class RunStore:
    """All runs read so far, indexed by id, with the roots of the trace forest.

    Not thread-safe by itself: the viewer holds one lock around ingest and reads.
    Counters (live, O(1) to read): :attr:`events` (accepted), :attr:`bad_lines`
    (lines that are not valid events: :attr:`read_bad` found by the reader, plus
    :attr:`invalid` events and :attr:`undecodable` deferred chunk lines),
    :attr:`duplicates` (a line seen twice), :attr:`conflicts` (a second,
    different start or end for one run id), :attr:`gap_runs`,
    :attr:`count_mismatches`, :attr:`corruption` (their sum), :attr:`unknown`
    (other event kinds), :attr:`unsupported` (other format versions),
    :attr:`cycles`. Samples of each problem, as raw text, in :attr:`samples`.
    """

    def __init__(self, *, window: int | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.roots: dict[str, RunRecord] = {}
        self.window = window
        self.cache_bytes = cache_bytes
        self.events = 0
        self.read_bad = 0
        self.duplicates = 0
        self.conflicts = 0
        self.unknown = 0
        self.unsupported = 0
        self.invalid = 0
        self.cycles = 0
        self.undecodable = 0
        self.gap_runs = 0
        self.count_mismatches = 0
        #: Samples by kind ("bad line", "repeated event", "conflicting event"), raw text.
        self.samples: dict[str, list[str]] = {}
        self._dirty: set[RunRecord] = set()
        self._new_roots: list[RunRecord] = []
        # Runs given undecoded lines since they were last settled: what settle() works through.
        self._unsettled: list[RunRecord] = []
        # Who reads a file id again: the one reader most stores have, else by id.
        self._reader: DirectoryReader | None = None
        self._readers: dict[int, DirectoryReader] = {}
        self._cache: OrderedDict[RunRecord, RunValues] = OrderedDict()
        self._cached_bytes = 0
        self._cold = _ColdTraces()
        self._kept = 0  # traces in memory after the last evict()
        self._pids: dict[int, int] = {}
        # Ends read while the batch's chunk lines wait to be filed (add_batch files the
        # events first): their chunk counts are checked once those lines are filed, so
        # that no end is counted as a mismatch before the chunks it covers are known.
        self._ends_to_check: list[RunRecord] | None = None
        # The run settle_run() is decoding: its counts are checked once, at the end.
        self._settling: RunRecord | None = None

    # -- counters -------------------------------------------------------------------

    @property
    def bad_lines(self) -> int:
        """Lines that are not valid events (see the module notes)."""
        return self.read_bad + self.invalid + self.undecodable

    @property
    def corruption(self) -> int:
        """Bad lines, repeated and conflicting events, runs with missing chunks or wrong counts."""
        return (
            self.bad_lines
            + self.duplicates
            + self.conflicts
            + self.gap_runs
            + self.count_mismatches
        )

    @property
    def trace_count(self) -> int:
        """Traces known: in memory and moved out of it (see :meth:`evict`)."""
        return len(self.roots) + self._cold.live

    @property
    def run_count(self) -> int:
        """Runs known (placeholder parents included), in memory and moved out of it."""
        return len(self.runs) + self._cold.totals["records"]

    @property
    def invalid_samples(self) -> list[str]:
        """Samples of the bad lines (raw text)."""
        return self.samples.get("bad line", [])

    def _sample(self, kind: str, text: str) -> None:
        found = self.samples.setdefault(kind, [])
        if len(found) < _MAX_SAMPLES:
            found.append(text)

    # -- ingest -----------------------------------------------------------------

    def add_batch(self, batch: Batch) -> None:
        """File every event of a batch under its run (the hot path: keep it lean)."""
        file_id = batch.file_id
        origin = batch.origin
        if origin is not self._reader and origin is not None:
            if self._reader is None:
                self._reader = origin
            else:
                self._readers[file_id] = origin
        if batch.bad:
            self.read_bad += len(batch.bad)
            for bad in batch.bad:
                self._sample("bad line", str(bad))
        events = batch.events
        self._ends_to_check = [] if batch.chunk_lines else None
        if events:
            cum = batch.cum
            base = batch.source[2]
            index = batch.event_index
            lines = batch.event_lines
            file, start, end = self._file, self._start, self._end
            event_key, start_kind, end_kind = fmt.EVENT, fmt.START, fmt.END
            for i, event in enumerate(events):
                k = i if index is None else index[i]
                at = base + cum[k] + k  # where the line starts (see Batch.cum)
                try:
                    # Starts and ends straight to their handler (they check the rest).
                    kind = event.get(event_key) if type(event) is dict else None
                    if kind == start_kind:
                        start(event, lines[i], file_id, at, at + len(lines[i]) + 1)
                    elif kind == end_kind:
                        end(event, lines[i], file_id, at, at + len(lines[i]) + 1)
                    else:
                        file(event, lines[i], file_id, at, at + len(lines[i]) + 1)
                except _Reject as exc:
                    self._reject(f"{batch.file}:{batch.first_line + k}", str(exc), lines[i])
                except _Repeated as exc:
                    self._sample(exc.kind, f"{batch.file}:{batch.first_line + k}: {exc}")
                except Exception:  # any malformed event is counted, never raised
                    self._reject(
                        f"{batch.file}:{batch.first_line + k}", "not a valid event", lines[i]
                    )
        if batch.chunk_lines:
            ends, self._ends_to_check = self._ends_to_check, None
            self._add_raw(batch)
            for run in ends or ():
                self._recheck(run)  # a run given deferred lines is checked when they are decoded

    def add_events(self, events: Iterable[Any], source: Source | None = None) -> None:
        """File events that did not come from a reader (tests, in-memory captures).

        Their values are kept in memory, in the runs (there is no file to read
        them from again). *source* is accepted for compatibility and ignored.
        """
        for event in events:
            try:
                self._file(event, None, 0, 0, 0)
            except _Reject as exc:
                self._reject("", str(exc), event)
            except _Repeated as exc:
                self._sample(exc.kind, str(exc))
            except Exception:
                self._reject("", "not a valid event", event)

    def _file(self, event: Any, line: bytes | None, file_id: int, start: int, end: int) -> None:
        """File one decoded event (``line`` is its bytes, ``None`` for an in-memory event)."""
        if type(event) is not dict:
            raise _Reject(f"a JSON {_json_type(event)}, not an event object")
        version = event.get(fmt.VERSION)
        if version != fmt.FORMAT_VERSION or type(version) is not int:
            if type(version) is int:
                self.unsupported += 1  # another version: skipped, as the format says
                return
            raise _Reject("v is not 1")
        kind = event.get(fmt.EVENT)
        if kind == fmt.CHUNK:
            run = self._chunk(event, line)
        elif kind == fmt.START:
            self._start(event, line, file_id, start, end)
            return
        elif kind == fmt.END:
            self._end(event, line, file_id, start, end)
            return
        elif type(kind) is not str:
            raise _Reject("event is not a string")
        else:
            if type(event.get(fmt.RUN_ID)) is not str:
                raise _Reject("run_id is not a string")
            self.unknown += 1
            return
        if run is not None:
            self._filed(run, line, file_id, start, end)

    def _filed(
        self, run: RunRecord, line: bytes | None, file_id: int, start: int, end: int
    ) -> None:
        """An event of *run* was filed: note where its line is, and that the run changed."""
        if line is not None:
            spans = run._spans
            if spans is None:
                run._spans = array("q", [file_id, start, end])
            else:
                _add_span_to(spans, file_id, start, end)
        self._dirty.add(run)
        self.events += 1

    def _reject(self, where: str, reason: str, raw: Any) -> None:
        self.invalid += 1
        if isinstance(raw, bytes):
            excerpt = raw[:_EXCERPT].decode("utf-8", "backslashreplace")
            excerpt += "…" if len(raw) > _EXCERPT else ""
        else:
            excerpt = _excerpt(raw)
        self._sample("bad line", f"{where + ': ' if where else ''}{reason}: {excerpt}")

    def _run_for(self, run_id: str, trace_id: str, seconds: float) -> RunRecord:
        run = self.runs.get(run_id)
        if run is None:
            if self._cold.live and self._revive(trace_id):
                run = self.runs.get(run_id)
            if run is None:
                run = self._placeholder(run_id, trace_id, seconds)
        return run

    def _placeholder(self, run_id: str, trace_id: str, seconds: float) -> RunRecord:
        run = RunRecord(run_id, run_id if trace_id == run_id else trace_id, self)
        run._order = seconds
        self.runs[run_id] = run
        self.roots[run_id] = run
        self._new_roots.append(run)
        return run

    def _start(
        self, event: dict[str, Any], line: bytes | None, file_id: int, start: int, end: int
    ) -> None:
        # The checks of _file(), _ids_and_time() and _check_start(), inlined: this runs
        # for every start event.
        get: Callable[..., Any] = event.get  # values of any type: checked below
        version = get(fmt.VERSION)
        if version != fmt.FORMAT_VERSION or type(version) is not int:
            self._file(event, line, file_id, start, end)  # says what is wrong with v
            return
        run_id, trace_id, name = get(fmt.RUN_ID), get(fmt.TRACE_ID), get(fmt.NAME)
        seconds: Any = None  # a float once checked below
        try:
            parsed = _fromisoformat(get(fmt.TS))
            seconds = parsed.timestamp() if parsed.tzinfo is not None else None
        except _TS_ERRORS:
            pass
        run_type, host, pid = get(fmt.RUN_TYPE, ""), get(fmt.HOST, ""), get(fmt.PID)
        if (
            type(run_id) is not str
            or not run_id
            or type(trace_id) is not str
            or seconds is None
            or type(name) is not str
            or type(run_type) is not str
            or type(host) is not str
            or (pid is not None and type(pid) is not int)
        ):
            _ids_and_time(event)
            _check_start(event)  # one of them raises, saying what is wrong
        parent_id = get(fmt.PARENT_RUN_ID, _MISSING)
        if parent_id is not None and type(parent_id) is not str:
            raise _Reject("run.start without parent_run_id (a string or null)")
        run = self.runs.get(run_id)
        fresh = run is None
        if run is None and self._cold.live and self._revive(trace_id):
            run = self.runs.get(run_id)
            fresh = run is None
        if run is None:
            # Made here rather than as a placeholder root: most starts name a parent.
            run = self.runs[run_id] = RunRecord(run_id, trace_id, self)
        elif run._flags & _F_START:
            same = seconds == run._order and name == run.name
            self._second(run, "start", same if line is not None else None, event)
            return
        run._flags |= _F_START
        run.name = _intern(name)
        run.run_type = _intern(run_type) if run_type else ""
        run.host = _intern(host) if host else ""
        if pid is not None and pid > 0:
            run.pid = self._pids.setdefault(pid, pid)
        run._order = seconds
        meta = get(fmt.METADATA)
        if type(meta) is dict:
            model = meta.get("ls_model_name")
            if type(model) is str and model:
                _extra(run).start_model = model
        if line is None:
            _mem(run).start = event
        if not run.trace_id or fresh:
            run.trace_id = run_id if trace_id == run_id else trace_id
        if (parent_id is None or not self._link(run, parent_id)) and fresh:
            self.roots[run_id] = run
            self._new_roots.append(run)
        if line is not None:
            spans = run._spans
            if spans is None:
                run._spans = array("q", [file_id, start, end])
            else:
                _add_span_to(spans, file_id, start, end)
        self._dirty.add(run)
        self.events += 1

    @staticmethod
    def _llm_end(run: RunRecord, get: Callable[..., Any]) -> None:
        """Keep an end's usage and model in the index (most ends have neither: two lookups)."""
        usage, model = get(fmt.USAGE), get(fmt.MODEL)
        meta = get(fmt.METADATA)
        if usage is None and model is None and type(meta) is not dict:
            return
        found = normalize_usage(usage) if usage is not None else None
        if found is not None:
            _extra(run).usage = found
        if type(model) is str and model:
            _extra(run).end_model = model
        elif type(meta) is dict:  # the end's metadata is the complete one: it decides
            named = meta.get("ls_model_name")
            if type(named) is str and named:
                _extra(run).end_model = named
            elif run._x is not None and run._x.start_model is not None:
                run._x.end_model = ""

    def _chunk(self, event: dict[str, Any], line: bytes | None) -> RunRecord:
        run_id, trace_id, seconds = _ids_and_time(event)
        seq = _check_chunk(event)
        run = self._run_for(run_id, trace_id, seconds)
        if not run.trace_id:
            run.trace_id = trace_id
        if run._raw:
            self.settle_run(run)  # its undecoded lines first: they came before this one
        if not self._track(run, seq):
            self.duplicates += 1
            raise _Repeated("repeated event", f"run.chunk seq {seq} of run {run_id} repeated")
        if line is None:
            _mem(run).add_chunk(seq, event[fmt.CHUNK_VALUE], event.get(fmt.TS))
        if not run._flags & _F_END:
            x = _extra(run)
            if x.last_chunk_s is None or seconds > x.last_chunk_s:
                x.last_chunk_s = seconds
        y = run._x
        if run is not self._settling and (
            run._flags & _F_END or (y is not None and (y.seq_early or y.flagged))
        ):
            self._recheck(run)
        return run

    def _track(self, run: RunRecord, seq: int) -> bool:
        """Note a chunk seq; False when it was seen before (a repeat)."""
        x = run._x
        early = x.seq_early if x is not None else None
        if seq == run._seq_next and not early:
            run._seq_next = seq + 1
            return True
        if seq < run._seq_next or (early is not None and seq in early):
            return False
        if early is None:
            early = _extra(run).seq_early = set()
        early.add(seq)
        while run._seq_next in early:
            early.discard(run._seq_next)
            run._seq_next += 1
        if not early:
            _extra(run).seq_early = None
        return True

    def _end(
        self, event: dict[str, Any], line: bytes | None, file_id: int, start: int, end: int
    ) -> None:
        # The checks of _file(), _ids_and_time() and _check_end(), inlined: this runs for
        # every end event.
        get: Callable[..., Any] = event.get  # values of any type: checked below
        version = get(fmt.VERSION)
        if version != fmt.FORMAT_VERSION or type(version) is not int:
            self._file(event, line, file_id, start, end)  # says what is wrong with v
            return
        run_id, trace_id, status = get(fmt.RUN_ID), get(fmt.TRACE_ID), get(fmt.STATUS)
        seconds: Any = None  # a float once checked below
        try:
            parsed = _fromisoformat(get(fmt.TS))
            seconds = parsed.timestamp() if parsed.tzinfo is not None else None
        except _TS_ERRORS:
            pass
        declared, duration, first = (
            get(fmt.CHUNK_COUNT),
            get(fmt.DURATION_MS),
            get(fmt.FIRST_CHUNK_MS),
        )
        if (
            type(run_id) is not str
            or not run_id
            or type(trace_id) is not str
            or seconds is None
            or type(status) is not str
            or (declared is not None and (type(declared) is not int or declared < 0))
            or (duration is not None and type(duration) is not float and type(duration) is not int)
            or (first is not None and type(first) is not float and type(first) is not int)
        ):
            _ids_and_time(event)
            _check_end(event)  # one of them raises, saying what is wrong
        run = self.runs.get(run_id)
        if run is None:
            run = self._run_for(run_id, trace_id, seconds)
        if run._flags & _F_END:
            same = seconds == run._end_s and status == run._status
            self._second(run, "end", same if line is not None else None, event)
            return
        if not run.trace_id:
            run.trace_id = trace_id
        error = get(fmt.ERROR)
        status = _STATUSES.get(status) or (ERROR if error else OK)
        run._flags |= _F_END
        run._status = status
        run._end_s = seconds
        run._declared = declared
        if duration is not None:
            run._duration = (
                duration
                if type(duration) is float and math.isfinite(duration)
                else _number(duration)
            )
        if first is not None:
            run._first_chunk = _number(first)
        if error is not None and error is not False:
            summary = _error_summary(error)
            cut = "\n" in summary or len(summary) > _ERROR_LINE
            _extra(run).error_line = summary.partition("\n")[0][:_ERROR_LINE] + (
                " …" if cut else ""
            )
        self._llm_end(run, get)
        if line is None:
            _mem(run).end = event
        x = run._x
        if x is not None and x.last_chunk_s is not None:
            x.last_chunk_s = None  # only an unfinished run needs it
            if x.empty():
                run._x = None
        if run.parent is not None and status == ERROR:
            self._mark_error(run.parent)
        if not run._raw and (
            run._x is not None or (declared is not None and declared != run._seq_next)
        ):
            if self._ends_to_check is None:
                self._recheck(run)
            else:
                self._ends_to_check.append(run)
        if line is not None:
            spans = run._spans
            if spans is None:
                run._spans = array("q", [file_id, start, end])
            else:
                _add_span_to(spans, file_id, start, end)
        self._dirty.add(run)
        self.events += 1

    def _second(
        self, run: RunRecord, which: str, same: bool | None, event: dict[str, Any]
    ) -> NoReturn:
        """A run's start or end seen again: a repeated line, or a different one (a conflict).

        *same* says whether the index fields agree (events from files); ``None``
        for an in-memory event, compared whole with the first one.
        """
        if same is None:
            values = _mem(run)
            same = (values.start if which == "start" else values.end) == event
        if same:
            self.duplicates += 1
            raise _Repeated("repeated event", f"run.{which} of run {run.run_id} repeated")
        self.conflicts += 1
        raise _Repeated("conflicting event", f"a second, different run.{which} of run {run.run_id}")

    def _link(self, run: RunRecord, parent_id: str) -> bool:
        """Hang *run* under its parent (a placeholder if not seen yet); False if that makes a cycle."""
        parent = self.runs.get(parent_id)
        if parent is None and self._cold.live and self._revive(run.trace_id):
            parent = self.runs.get(parent_id)
        # Only a run with children can be its new parent's ancestor (or the parent itself).
        ancestor = parent if run._children is not None or parent is run else None
        while ancestor is not None:
            if ancestor is run:
                run._flags |= _F_CYCLE
                self.cycles += 1
                return False  # stays a root
            ancestor = ancestor.parent
        if parent is None:
            parent = self._placeholder(parent_id, run.trace_id, run._order)
        elif not parent._flags & _F_START and run._order < parent._order:
            parent._order = run._order  # a placeholder sorts by its first child
        run.parent = parent
        if parent._children is None:
            parent._children = [run]
        else:
            parent._children.append(run)
        if parent.trace_id == run.trace_id:
            run.trace_id = parent.trace_id  # one string for the whole trace
        self.roots.pop(run.run_id, None)
        self._dirty.add(parent)
        if run._flags & _F_ERROR_BELOW or run._status == ERROR:
            self._mark_error(parent)
        return True

    def _mark_error(self, run: RunRecord | None) -> None:
        while run is not None and not run._flags & _F_ERROR_BELOW:
            run._flags |= _F_ERROR_BELOW
            self._dirty.add(run)
            run = run.parent

    def _recheck(self, run: RunRecord) -> None:
        """Count whether a run misses chunks or disagrees with its end's count (once settled)."""
        if run._raw:
            return  # not known until its deferred lines are decoded
        x = run._x
        early = x.seq_early if x is not None else None
        flags = _GAP if early else 0
        declared = run._declared
        if declared is not None and declared != run._seq_next + len(early or ()):
            flags |= _MISMATCH
        old = x.flagged if x is not None else 0
        if flags == old:
            return
        _extra(run).flagged = flags
        self.gap_runs += bool(flags & _GAP) - bool(old & _GAP)
        self.count_mismatches += bool(flags & _MISMATCH) - bool(old & _MISMATCH)

    # -- deferred chunk lines ----------------------------------------------------------

    def _add_raw(self, batch: Batch) -> None:
        """File undecoded chunk lines under the run id they start with.

        The id is trusted where the writer puts it only when it is written
        literally (no quote or backslash in the 36 bytes, then '",'): other lines
        are decoded and filed at once. A stream's lines mostly come one after
        another: they are taken a group at a time.
        """
        lines = batch.chunk_lines
        index = batch.chunk_index
        cum = batch.cum
        base = batch.source[2]
        file_id = batch.file_id
        runs = self.runs
        dirty = self._dirty
        known: dict[bytes, RunRecord | None] = {}  # this batch's keys: streams interleave
        keys = list(map(_raw_id, lines))
        filed = 0
        last = -1
        for key, group in groupby(keys):
            first = last + 1
            last += len(list(group))
            run = known.get(key, _NO_RUN)
            if run is _NO_RUN:
                run = known[key] = self._raw_owner(key, runs)
            if run is None:
                for j in range(first, last + 1):
                    self._file_line(batch, index[j], lines[j])
                continue
            k, j = index[first], index[last]
            start, end = base + cum[k] + k, base + cum[j + 1] + j + 1
            count = last - first + 1
            # _add_span_to(), twice, inlined: this runs for every group of chunk lines.
            raw = run._raw_spans
            if raw is None:
                if not run._raw:
                    self._unsettled.append(run)
                run._raw_spans = array("q", [file_id, start, end])
            elif raw[-3] == file_id and start - raw[-1] <= MERGE_GAP and start >= raw[-2]:
                raw[-1] = end
            else:
                raw.extend((file_id, start, end))
            run._raw += count
            spans = run._spans
            if spans is None:
                run._spans = array("q", [file_id, start, end])
            elif spans[-3] == file_id and start - spans[-1] <= MERGE_GAP and start >= spans[-2]:
                if end > spans[-1]:
                    spans[-1] = end
            else:
                spans.extend((file_id, start, end))
            dirty.add(run)
            filed += count
        self.events += filed

    def _raw_owner(self, key: bytes, runs: dict[str, RunRecord]) -> RunRecord | None:
        """The run a chunk line's id bytes name, if written literally (None: decode the line)."""
        if not _literal(key):
            return None
        try:
            run_id = key[:36].decode()
        except UnicodeDecodeError:
            return None
        run = runs.get(run_id)
        if run is None:  # chunks before their start: a placeholder until it comes
            run = self._placeholder(run_id, "", 0.0)
        return run

    def _file_line(self, batch: Batch, k: int, line: bytes) -> None:
        """Decode and file one line of a batch (block line *k*), counting what is bad."""
        where = f"{batch.file}:{batch.first_line + k}"
        try:
            self._file(_loads(line), line, batch.file_id, *batch.span(k))
        except _JSONDecodeError as exc:
            self._undecodable(where, line, exc)
        except _Reject as exc:
            self._reject(where, str(exc), line)
        except _Repeated as exc:
            self._sample(exc.kind, f"{where}: {exc}")
        except Exception:
            self._reject(where, "not a valid event", line)

    def _undecodable(self, where: str, line: bytes, exc: Exception) -> None:
        self.undecodable += 1
        excerpt = line[:_EXCERPT].decode("utf-8", "backslashreplace")
        self._sample("bad line", f"{where}: chunk line is not JSON ({exc}): {excerpt}")

    def settle_run(self, run: RunRecord) -> None:
        """Decode a run's deferred chunk lines (they were counted as events) and count what is bad.

        Only this run's chunk bookkeeping and the counters change: a line that
        decodes to anything else (a repeated key overriding ``event`` or
        ``run_id``) is invalid, so that decoding, which may happen while the
        forest is being walked, never adds, moves or re-parents a run.
        """
        count, spans = run._raw, run._raw_spans
        run._raw, run._raw_spans = 0, None
        if not count or spans is None:
            return
        self.events -= count  # counted when filed; the good ones are counted again below
        self._settling = run
        try:
            self._decode_raw(run, spans)
        finally:
            self._settling = None
        if not run.seen and run._children is None and run.parent is None:
            self._forget(run)  # made for lines that all turned out unusable
            return
        x = run._x
        last = x.last_chunk_s if x is not None else None
        if not run._flags & _F_START and last is not None and run._order == 0.0:
            run._order = last  # a run seen only by its chunks sorts by them
        self._recheck(run)  # once all its lines are decoded: never a half-read run's count
        self._dirty.add(run)

    def _decode_raw(self, run: RunRecord, spans: array[int]) -> None:
        """File a run's deferred chunk lines, read again from *spans* (see settle_run)."""
        key = _chunk_key(run.run_id)
        run_id = run.run_id
        for file_id, start, lines in self._span_lines(spans):
            offset = start
            for line in lines:
                at = offset
                offset += len(line) + 1
                if not line.startswith(key):
                    continue
                try:
                    event = _loads(line)
                except _JSONDecodeError as exc:
                    self._undecodable(self._where(file_id, at), line, exc)
                    continue
                if (
                    type(event) is not dict
                    or event.get(fmt.EVENT) != fmt.CHUNK
                    or event.get(fmt.RUN_ID) != run_id
                ):
                    self.invalid += 1
                    self._sample(
                        "bad line",
                        f"{self._where(file_id, at)}: a line that starts as a chunk of run"
                        f" {run_id} is something else",
                    )
                    continue
                version = event.get(fmt.VERSION)
                if type(version) is int and version != fmt.FORMAT_VERSION:
                    self.unsupported += 1
                    continue
                try:
                    if version != fmt.FORMAT_VERSION:
                        raise _Reject("v is not 1")
                    if self._chunk(event, line) is not None:
                        self.events += 1
                except _Reject as exc:
                    self._reject(self._where(file_id, at), str(exc), line)
                except _Repeated as exc:
                    self._sample(exc.kind, f"{self._where(file_id, at)}: {exc}")

    def _forget(self, run: RunRecord) -> None:
        """Drop a run nothing refers to (no event of it was valid)."""
        if self.runs.get(run.run_id) is run:
            del self.runs[run.run_id]
        if self.roots.get(run.run_id) is run:
            del self.roots[run.run_id]
        self._dirty.discard(run)

    def settle_tree(self, run: RunRecord) -> None:
        """Settle the unfinished runs of a run's subtree (their last events end an interrupted run)."""
        if not self._unsettled:
            return
        for below in run.walk():
            if below._raw and not below._flags & _F_END:
                self.settle_run(below)

    def settle(self, runs: int | None = None) -> bool:
        """Decode the deferred chunk lines of every run (or of up to *runs* runs).

        Afterwards every counter is exact. Returns whether some runs still wait
        (a caller with time to spare, the viewer's reader, settles a slice at a time).
        """
        unsettled = self._unsettled
        # From the end: the runs filed last are the likeliest to be looked at next.
        count = len(unsettled) if runs is None else min(runs, len(unsettled))
        for run in unsettled[len(unsettled) - count :]:
            if run._raw:
                self.settle_run(run)
        del unsettled[len(unsettled) - count :]
        return bool(unsettled)

    @property
    def unsettled(self) -> int:
        """How many runs may hold undecoded chunk lines (see :meth:`settle`)."""
        return len(self._unsettled)

    # -- reading lines and values again --------------------------------------------------

    def file_of(self, file_id: int) -> tuple[str, int] | None:
        """``(file name, generation)`` of a file id a batch came from."""
        reader = self._readers.get(file_id, self._reader)
        return reader.source_of(file_id) if reader is not None else None

    def _where(self, file_id: int, offset: int) -> str:
        ident = self.file_of(file_id)
        return f"{ident[0] if ident else '?'} (byte {offset})"

    def _span_lines(self, spans: array[int]) -> Iterator[tuple[int, int, list[bytes]]]:
        """``(file id, start, lines)`` of each span that can still be read."""
        readers, default = self._readers, self._reader
        for i in range(0, len(spans), 3):
            file_id, start, end = spans[i], spans[i + 1], spans[i + 2]
            reader = readers.get(file_id, default)
            data = reader.read_span(file_id, start, end) if reader is not None else None
            if data is not None:
                lines = data.split(b"\n")
                lines.pop()
                yield file_id, start, lines

    def lines_of(self, run: RunRecord, spans: array[int] | None = None) -> tuple[list[bytes], bool]:
        """A run's lines as written (within *spans*, default all of its own), in file order,
        and whether every span could be read."""
        if spans is None:
            spans = run._spans
        if spans is None:
            return [], not _in_memory(run)
        pick = _Picker(run)
        found: list[bytes] = []
        readable = 0
        for _, _, lines in self._span_lines(spans):
            readable += 1
            found.extend(filter(pick, lines))
        return found, readable * 3 == len(spans)

    def values(self, run: RunRecord) -> RunValues:
        """A run's decoded values, read from its lines (cached; a growing run is topped up)."""
        x = run._x
        if x is not None and x.mem is not None:
            return x.mem
        cache = self._cache
        values = cache.get(run)
        spans = run._spans
        current = spans.tobytes() if spans is not None else b""
        if values is not None and values.spans == current:
            cache.move_to_end(run)
            return values
        if values is not None and _grown(values.spans, current):
            old = array("q")
            old.frombytes(values.spans)
            extra = array("q")
            last = len(old) - 3
            if spans[last + 2] > old[last + 2]:  # type: ignore[index]
                extra.extend((spans[last], old[last + 2], spans[last + 2]))  # type: ignore[index]
            extra.extend(spans[len(old) :])  # type: ignore[index]
            self._decode_into(run, values, extra)
        else:
            values = RunValues()
            self._decode_into(run, values, spans)
        values.spans = current
        self._remember(run, values)
        return values

    def _decode_into(self, run: RunRecord, values: RunValues, spans: array[int] | None) -> None:
        if spans is not None:
            lines, exact = self.lines_of(run, spans)
            values.exact = values.exact and exact
            _apply(run, values, lines)

    def preload(self, runs: Iterable[RunRecord]) -> None:
        """Load the values of many runs with one read of their (merged) spans, e.g. a whole trace."""
        wanted = [
            run
            for run in runs
            if not _in_memory(run) and run._spans is not None and run not in self._cache
        ]
        if len(wanted) < 2:
            return
        merged = _merge_spans(run._spans for run in wanted)  # type: ignore[misc]
        by_key = {_chunk_key(run.run_id): run for run in wanted}
        by_id = {run.run_id: run for run in wanted}
        picked: dict[RunRecord, list[bytes]] = {run: [] for run in wanted}
        readable = 0
        prefix = fmt.CHUNK_LINE_PREFIX
        for _, _, lines in self._span_lines(merged):
            readable += 1
            for line in lines:
                if line.startswith(prefix) and _literal(_raw_id(line)):
                    owner = by_key.get(line[: _ID_AT + 38])
                else:
                    try:
                        event = _loads(line)
                    except _JSONDecodeError:
                        continue
                    run_id = event.get(fmt.RUN_ID) if type(event) is dict else None
                    owner = by_id.get(run_id) if type(run_id) is str else None
                if owner is not None:
                    picked[owner].append(line)
        for run, lines in picked.items():
            values = RunValues()
            values.exact = readable * 3 == len(merged)
            values.spans = run._spans.tobytes()  # type: ignore[union-attr]
            _apply(run, values, lines)
            self._remember(run, values)

    def _remember(self, run: RunRecord, values: RunValues) -> None:
        cache = self._cache
        old = cache.pop(run, None)
        if old is not None:
            self._cached_bytes -= old.counted
        cache[run] = values
        values.counted = values.nbytes
        self._cached_bytes += values.nbytes
        while self._cached_bytes > self.cache_bytes and len(cache) > 1:
            _, dropped = cache.popitem(last=False)
            self._cached_bytes -= dropped.counted

    # -- reading the model --------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        """The run with this id, if any event mentioned it (runs moved out of memory: no)."""
        return self.runs.get(run_id)

    def traces(
        self, *, newest_first: bool = True, limit: int | None = None, errors_only: bool = False
    ) -> list[RunRecord]:
        """The roots of the forest (trace roots, orphaned subtrees, runs seen without a start).

        With *limit*, only the first *limit* in that order (traces moved out of
        memory are rebuilt from the files as needed); *errors_only* keeps traces
        with an error anywhere inside.
        """
        found: list[RunRecord] = []
        for root in self.iter_traces(newest_first=newest_first, errors_only=errors_only):
            if limit is not None and len(found) >= limit:
                break
            found.append(root)
        return found

    def iter_traces(
        self, *, newest_first: bool = True, errors_only: bool = False
    ) -> Iterator[RunRecord]:
        """Every trace root in order, with index fields only (values load when read).

        Traces moved out of memory (:meth:`evict`) are rebuilt from their spans
        one at a time and not kept: the caller holds what it wants to keep.
        """
        hot = sorted(self.roots.values(), key=root_order, reverse=newest_first)
        if errors_only:
            hot = [root for root in hot if root._flags & _F_ERROR_BELOW or root._status == ERROR]
        cold = self._cold
        if not cold.live:
            yield from hot
            return
        merged: Iterator[tuple[float, str, RunRecord | int]] = heapq.merge(
            ((root._order, root.run_id, root) for root in hot),
            ((cold.order[i], cold.id_of(i), i) for i in cold.ordered(newest_first, errors_only)),
            key=_time_and_id,
            reverse=newest_first,
        )
        # Callers step through this with the store lock released in between: the rows
        # stay where they are until it is done (forget() puts off compacting them).
        cold.pinned += 1
        try:
            for _, _, item in merged:
                if isinstance(item, RunRecord):
                    yield item
                else:
                    root = self._rebuild(item)
                    if root is not None:
                        yield root
        finally:
            cold.pinned -= 1

    def count_traces(self, *, errors_only: bool = False) -> int:
        """How many traces there are (with an error inside, if *errors_only*), from the index."""
        if not errors_only:
            return self.trace_count
        return sum(1 for _ in self.trace_ids(errors_only=True))

    def trace_ids(self, *, errors_only: bool = False) -> Iterator[str]:
        """The root id of every trace, in memory or not, without rebuilding any."""
        for root in list(self.roots.values()):
            if not errors_only or root._flags & _F_ERROR_BELOW or root._status == ERROR:
                yield root.run_id
        cold = self._cold
        cold.pinned += 1  # rows stay put while the caller steps through (see iter_traces)
        try:
            for index in cold.ordered(True, errors_only):
                yield cold.id_of(index)
        finally:
            cold.pinned -= 1

    def take_dirty(self) -> set[RunRecord]:
        """Runs changed since the last call (for the viewer's batched updates)."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def take_new_roots(self) -> list[RunRecord]:
        """Roots created since the last call (some may since have found a parent)."""
        new, self._new_roots = self._new_roots, []
        return new

    def seq_gaps(self) -> dict[str, list[tuple[int, int]]]:
        """Every run in memory with missing chunk seqs, with the missing ranges."""
        gaps = {}
        for run_id, run in list(self.runs.items()):
            if run._x is not None or run._declared is not None or run._raw:
                found = run.seq_gaps()
                if found:
                    gaps[run_id] = found
        return gaps

    def summary(self, reader: DirectoryReader | None = None) -> Summary:
        """Counts over everything read so far (settles first; walks every run: not for every frame)."""
        self.settle()
        seen = [run for run in self.runs.values() if run.seen]
        cold = self._cold.totals
        statuses: dict[str, int] = {}
        for key, count in cold.items():
            if key.startswith("status:") and count:
                statuses[key[7:]] = count
        for run in seen:
            status = run.status
            statuses[status] = statuses.get(status, 0) + 1
        problems = [text for kind in _KINDS for text in self.samples.get(kind, [])]
        for flag, kind in ((_GAP, "missing"), (_MISMATCH, "count")):
            for run in seen:
                if run._x is not None and run._x.flagged & flag:
                    problems.append(_run_problem(run, kind))
        problems.extend(self._cold.samples)
        finished = sum(bool(run._flags & _F_END) for run in seen) + cold["finished"]
        runs = len(seen) + cold["runs"]
        return Summary(
            files=len(reader.files) if reader else 0,
            bytes_read=reader.bytes_read if reader else 0,
            lines=reader.lines if reader else 0,
            events=self.events,
            runs=runs,
            traces=self.trace_count,
            finished=finished,
            unfinished=runs - finished,
            running=statuses.get(RUNNING, 0),
            interrupted=statuses.get(INTERRUPTED, 0),
            errors=statuses.get(ERROR, 0),
            orphans=sum(run.is_orphan for run in seen) + cold["orphans"],
            cycles=self.cycles,
            duplicate_events=self.duplicates,
            conflicting_events=self.conflicts,
            unknown_events=self.unknown,
            unsupported_version=self.unsupported,
            invalid_events=self.invalid,
            bad_lines=self.bad_lines,
            bad_line_samples=tuple(self.samples.get("bad line", [])),
            truncated_files=reader.truncations if reader else 0,
            deleted_files=reader.deleted_files if reader else 0,
            seq_gaps=self.seq_gaps(),
            statuses=statuses,
            without_start=sum(not run._flags & _F_START for run in seen) + cold["without_start"],
            missing_chunk_runs=self.gap_runs,
            chunk_count_mismatches=self.count_mismatches,
            skipped_files=reader.skipped_files if reader else 0,
            partial_tails=reader.partial_tails if reader else 0,
            problems=tuple(problems),
        )

    def discard(self, roots: Iterable[RunRecord]) -> int:
        """Forget whole trees (each root and everything below it); returns the runs dropped.

        For readers that stream a directory through the store and are done with
        finished traces (``jsontrace export``): memory then holds the traces still
        in progress, not every trace read. Events read later for a forgotten run
        file it anew, as if it had never been seen. Counters are left as they are.
        The forgotten runs are cut from one another (no parent, no children), so
        they are freed as soon as the caller lets go of them, without waiting for
        the cyclic garbage collector. Unlike :meth:`evict`, nothing is kept to find
        them again.
        """
        gone: set[RunRecord] = set()
        for root in roots:
            if root in gone:
                continue
            parent = root.parent
            if parent is not None:  # not a root after all: cut it from its parent
                parent._children = [c for c in parent.children if c is not root] or None
                root.parent = None
            stack = [root]
            while stack:
                run = stack.pop()
                gone.add(run)
                stack.extend(run.children)
        if not gone:
            return 0
        runs, roots_, cache = self.runs, self.roots, self._cache
        for run in gone:
            if runs.get(run.run_id) is run:
                del runs[run.run_id]
            if roots_.get(run.run_id) is run:
                del roots_[run.run_id]
            values = cache.pop(run, None)
            if values is not None:
                self._cached_bytes -= values.counted
            run.parent = None
            run._children = None
        self._dirty -= gone
        self._new_roots = [run for run in self._new_roots if run not in gone]
        self._unsettled = [run for run in self._unsettled if run not in gone]
        return len(gone)

    # -- leaving memory and coming back ----------------------------------------------

    def evict(self) -> int:
        """Move the oldest finished traces beyond the newest :attr:`window` out of memory.

        Only traces whose every run has ended, whose chunk lines are all decoded
        and whose lines are all in files are moved; returns how many were. What
        stays known of each: see :class:`_ColdTraces`. Runs moved out are no
        longer in :attr:`runs` (objects others hold keep working, values included).
        """
        window = self.window
        slack = max(16, window // 4) if window is not None else 0
        # Traces that cannot leave (unfinished) stay: look again only when more came.
        if window is None or len(self.roots) <= max(window, self._kept) + slack:
            return 0
        roots = sorted(self.roots.values(), key=root_order)
        moved = 0
        for root in roots[: len(roots) - window]:
            runs = _subtree(root)
            if _evictable(runs):
                self._to_cold(root, runs)
                moved += 1
        self._kept = len(self.roots)
        return moved

    def _to_cold(self, root: RunRecord, runs: list[RunRecord]) -> None:
        _count_cold(self._cold, runs, 1)
        for run in runs:
            x = run._x
            if x is not None and x.flagged:
                self._cold.samples_from(run)
        self._cold.add(root, _merge_spans(run._spans for run in runs if run._spans is not None))
        for run in runs:
            del self.runs[run.run_id]
            self._dirty.discard(run)
            values = self._cache.pop(run, None)
            if values is not None:
                self._cached_bytes -= values.counted
        del self.roots[root.run_id]

    def out_of_memory_bytes(self) -> int:
        """What the index keeps for the traces moved out of memory, in bytes (see evict)."""
        return self._cold.nbytes()

    def forget_gone_files(self) -> int:
        """Drop the traces moved out of memory whose files are all gone; returns how many.

        A file deleted, replaced or rewritten since its lines were read cannot give
        them back, so such a trace could be counted but never listed again. The
        viewer calls this when its reader saw a file go (the runs still in memory
        stay, showing what the index kept of them). Counters are left as they are.
        """
        if not self._cold.live:
            return 0
        readers, default = self._readers, self._reader

        def readable(file_id: int) -> bool:
            reader = readers.get(file_id, default)
            return reader is not None and reader.source_of(file_id) is not None

        return self._cold.forget(readable)

    def _rebuild(self, index: int) -> RunRecord | None:
        """A trace moved out of memory, rebuilt from its spans (not put back in the index)."""
        scratch = RunStore()
        spans = self._cold.spans_of(index)
        for i in range(0, len(spans), 3):
            reader = self._readers.get(spans[i], self._reader)
            batch = reader.parse_span(spans[i], spans[i + 1], spans[i + 2]) if reader else None
            if batch is not None:
                scratch.add_batch(batch)
        root = scratch.runs.get(self._cold.id_of(index))
        if root is None:
            return None
        for run in root.walk():
            run._store = self
        return root

    def _revive(self, trace_id: str) -> bool:
        """Put the traces of *trace_id* that were moved out of memory back in (a late event came)."""
        revived = False
        for index in self._cold.find(trace_id):
            root = self._rebuild(index)
            if root is not None and root.trace_id != trace_id:
                continue  # another trace whose id hashes alike: it stays where it is
            self._cold.remove(index)
            if root is None:
                continue
            runs = list(root.walk())
            _count_cold(self._cold, runs, -1)
            for run in runs:
                self.runs.setdefault(run.run_id, run)
            self.roots[root.run_id] = root
            self._new_roots.append(root)
            revived = True
        return revived


def _run_problem(run: RunRecord, kind: str) -> str:
    if kind == "missing":
        return f"run {run.run_id}: chunks missing, seq {_ranges(run.seq_gaps())}"
    return f"run {run.run_id}: end says {run._declared} chunks, {run._chunks_seen()} read"


def _count_cold(cold: _ColdTraces, runs: list[RunRecord], sign: int) -> None:
    """Add (or take back) a trace's runs to the totals kept for traces out of memory."""
    totals = cold.totals
    totals["records"] += sign * len(runs)
    for run in runs:
        if run.seen:
            totals["runs"] += sign
            totals["finished"] += sign
            totals[f"status:{run._status}"] += sign
            totals["orphans"] += sign * run.is_orphan
            totals["without_start"] += sign * (not run._flags & _F_START)


def _apply(run: RunRecord, values: RunValues, lines: list[bytes]) -> None:
    """Decode a run's lines into its values: the first valid start and end, chunks by seq."""
    run_id = run.run_id
    for line in lines:
        values.nbytes += len(line)
        try:
            event = _loads(line)
        except _JSONDecodeError:
            continue
        kind = _valid(event, run_id)
        if kind == fmt.CHUNK:
            values.add_chunk(event[fmt.CHUNK_SEQ], event[fmt.CHUNK_VALUE], event.get(fmt.TS))
        elif kind == fmt.START:
            if values.start is None:
                values.start = event
        elif kind == fmt.END and values.end is None:
            values.end = event


_time_and_id = itemgetter(0, 1)
_NO_RUN: Final[Any] = object()


class _ColdTraces:
    """Traces moved out of memory, in columns: about 55 bytes each.

    Per trace: its root's sort time (``order``, 8 bytes), id (16 bytes when it
    is a UUID, as the writer's are), status and "error inside" flag (1), and
    the byte spans of its lines (16 per span: the file id and start offset in
    one integer, the end in another; 4 for where they begin); a sorted table
    of keys (8 per trace: a 32-bit hash of the trace id, then the row) finds
    the traces of an event that arrives late, the newest rows in two short
    unsorted columns until they are merged in. Totals (runs, statuses) feed
    :meth:`RunStore.summary`.

    Traces whose every line is in a file that is gone (deleted, replaced,
    rewritten) can never be read again: :meth:`forget` drops them, and the
    columns are compacted once most rows are dropped. So with the writer's
    retention (``configure(max_segments=...)``) the table is bounded by what is
    on disk.
    """

    _GONE = 0x80
    _ERRORS = 0x40
    _MERGE = 8192
    #: A span is packed as ``file_id << _SHIFT | start``: offsets below 1 TiB, ids below 2**23.
    _SHIFT = 40
    _MASK = (1 << _SHIFT) - 1
    _MAX_FILE_ID = 1 << 23

    def __init__(self) -> None:
        self.order = array("d")
        self.ids = bytearray()
        self.odd_ids: dict[int, str] = {}
        self.flags = bytearray()
        self.span_at = array("I", [0])
        self.spans = array("q")  # pairs: packed (file id, start), end
        self.odd_spans: dict[int, array[int]] = {}  # spans that do not pack (see _SHIFT)
        self.file_ids: set[int] = set()  # the files spans point into (forget() looks at them)
        #: Iterations over rows in progress (RunStore.iter_traces): rows must not move meanwhile.
        self.pinned = 0
        self._compact_due = False
        self.live = 0
        self.totals: dict[str, int] = _Counter()
        self.samples: list[str] = []
        self._keys = array("Q")  # sorted: hash << 32 | row
        self._new_hashes = array("I")  # rows not merged into _keys yet, in order
        self._new_rows = array("I")
        self._sorted: tuple[bool, bool, list[int]] | None = None

    def add(self, root: RunRecord, spans: array[int]) -> None:
        if self._compact_due and not self.pinned:
            self._compact()  # put off by forget() while an iteration ran
        index = len(self.order)
        self.order.append(root._order)
        raw = _uuid_bytes(root.run_id)
        if raw is None:
            self.odd_ids[index] = root.run_id
            raw = bytes(16)
        self.ids += raw
        code = _STATUS_CODES.get(root._status or "", 0)
        if root._flags & _F_ERROR_BELOW or root._status == ERROR:
            code |= self._ERRORS
        self.flags.append(code)
        self._add_spans(index, spans)
        self.live += 1
        self._new_hashes.append(_hash32(root.trace_id))
        self._new_rows.append(index)
        # Merging sorts the whole table: seldom, and more seldom as it grows (loading).
        if len(self._new_rows) > max(self._MERGE, len(self._keys) >> 4):
            self._merge()
        self._sorted = None

    def _add_spans(self, index: int, spans: array[int]) -> None:
        self.file_ids.update(spans[::3])
        packed = array("q")
        for i in range(0, len(spans), 3):
            file_id, start = spans[i], spans[i + 1]
            if not 0 <= file_id < self._MAX_FILE_ID or not 0 <= start <= self._MASK:
                self.odd_spans[index] = spans
                packed = array("q")
                break
            packed.extend((file_id << self._SHIFT | start, spans[i + 2]))
        self.spans.extend(packed)
        self.span_at.append(len(self.spans))

    def samples_from(self, run: RunRecord) -> None:
        """Keep a sample of a run's missing chunks or wrong count before it leaves memory."""
        x = run._x
        for flag, kind in ((_GAP, "missing"), (_MISMATCH, "count")):
            if x is not None and x.flagged & flag and len(self.samples) < _MAX_SAMPLES:
                self.samples.append(_run_problem(run, kind))

    def _merge(self) -> None:
        new = array(
            "Q", (h << 32 | i for h, i in zip(self._new_hashes, self._new_rows, strict=True))
        )
        # A long sorted run and a short tail: timsort sorts the tail and merges, near linear.
        self._keys = array("Q", sorted(self._keys + new))
        self._new_hashes, self._new_rows = array("I"), array("I")

    def id_of(self, index: int) -> str:
        odd = self.odd_ids.get(index)
        if odd is not None:
            return odd
        raw = self.ids[index * 16 : index * 16 + 16].hex()
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

    def spans_of(self, index: int) -> array[int]:
        """The trace's spans as ``(file id, start, end)`` triples, as the store keeps them."""
        odd = self.odd_spans.get(index)
        if odd is not None:
            return odd
        triples = array("q")
        shift, mask, spans = self._SHIFT, self._MASK, self.spans
        for i in range(self.span_at[index], self.span_at[index + 1], 2):
            packed = spans[i]
            triples.extend((packed >> shift, packed & mask, spans[i + 1]))
        return triples

    def find(self, trace_id: str) -> list[int]:
        key = _hash32(trace_id)
        found: list[int] = []
        keys = self._keys
        at = bisect_left(keys, key << 32)
        while at < len(keys) and keys[at] >> 32 == key:
            found.append(keys[at] & 0xFFFFFFFF)
            at += 1
        hashes, at = self._new_hashes, 0
        while True:  # array.index: a scan in C, not a Python loop over the newest rows
            try:
                at = hashes.index(key, at)
            except ValueError:
                break
            found.append(self._new_rows[at])
            at += 1
        return [i for i in found if not self.flags[i] & self._GONE]

    def remove(self, index: int) -> None:
        if not self.flags[index] & self._GONE:
            self.flags[index] |= self._GONE
            self.live -= 1
            self._sorted = None

    def forget(self, readable: Callable[[int], bool]) -> int:
        """Drop the traces none of whose files is *readable* any more; returns how many."""
        dead = {file_id for file_id in self.file_ids if not readable(file_id)}
        if not dead:
            return 0  # the usual case (a file of traces still in memory went): no row is read
        self.file_ids -= dead
        dropped = 0
        for index in range(len(self.order)):
            if not self.flags[index] & self._GONE and dead.issuperset(self.spans_of(index)[::3]):
                self.remove(index)
                dropped += 1
        if len(self.order) - self.live > max(self.live, 1024):
            self._compact_due = True  # done now, or by the next add() once no iteration runs
            if not self.pinned:
                self._compact()
        return dropped

    def _compact(self) -> None:
        """Rebuild the columns without the rows dropped, so that their memory is returned."""
        keep = [i for i in range(len(self.order)) if not self.flags[i] & self._GONE]
        moved = array("q", [-1]) * len(self.order)
        for new, old in enumerate(keep):
            moved[old] = new
        spans, span_at = array("q"), array("I", [0])
        for old in keep:
            spans.extend(self.spans[self.span_at[old] : self.span_at[old + 1]])
            span_at.append(len(spans))
        self._merge()
        rows = ((key >> 32, moved[key & 0xFFFFFFFF]) for key in self._keys)
        self._keys = array("Q", sorted(h << 32 | row for h, row in rows if row >= 0))
        self.order = array("d", (self.order[i] for i in keep))
        self.ids = bytearray().join(self.ids[i * 16 : i * 16 + 16] for i in keep)
        self.flags = bytearray(self.flags[i] for i in keep)
        self.spans, self.span_at = spans, span_at
        self.odd_ids = {moved[i]: text for i, text in self.odd_ids.items() if moved[i] >= 0}
        self.odd_spans = {moved[i]: sp for i, sp in self.odd_spans.items() if moved[i] >= 0}
        self._sorted = None
        self._compact_due = False

    def nbytes(self) -> int:
        """Bytes the columns use (arrays over-allocate a little more; the rare odd rows not counted)."""
        columns = (
            self.order,
            self.span_at,
            self.spans,
            self._keys,
            self._new_hashes,
            self._new_rows,
        )
        held = sum(a.buffer_info()[1] * a.itemsize for a in columns)
        return held + sys.getsizeof(self.ids) + sys.getsizeof(self.flags)

    def ordered(self, newest_first: bool, errors_only: bool) -> list[int]:
        """Indexes of the live traces in sort order (cached until the table changes)."""
        cached = self._sorted
        if cached is not None and cached[:2] == (newest_first, errors_only):
            return cached[2]
        flags = self.flags
        indexes = [
            i
            for i in range(len(self.order))
            if not flags[i] & self._GONE and (not errors_only or flags[i] & self._ERRORS)
        ]
        indexes.sort(key=lambda i: (self.order[i], self.id_of(i)), reverse=newest_first)
        self._sorted = (newest_first, errors_only, indexes)
        return indexes


def _hash32(text: str) -> int:
    """32 bits of a string's hash: a late event's candidates, confirmed by rebuilding them."""
    return hash(text) & 0xFFFFFFFF


class _Counter(dict[str, int]):
    """A dict that reads 0 for missing keys."""

    def __missing__(self, key: str) -> int:
        return 0


def _uuid_bytes(text: str) -> bytes | None:
    """16 bytes for a canonical lower-case UUID string, else ``None``."""
    if len(text) != 36 or text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
        return None
    hexed = text.replace("-", "")
    if len(hexed) != 32 or hexed != hexed.lower():
        return None
    try:
        return bytes.fromhex(hexed)
    except ValueError:
        return None


def _subtree(root: RunRecord) -> list[RunRecord]:
    """A run and everything below it, in no particular order (no sorting: evict() walks many)."""
    runs = [root]
    for run in runs:  # grows while it is walked
        if run._children:
            runs.extend(run._children)
    return runs


def _evictable(runs: list[RunRecord]) -> bool:
    """Whether a trace (its runs, see _subtree) can leave memory: all ended, decoded, in files."""
    for run in runs:
        if _in_memory(run) or run._raw:
            return False
        if run.seen and (not run._flags & _F_END or run._spans is None):
            return False
    return True


# -- spans and lines ------------------------------------------------------------------------


def _add_span_to(spans: array[int], file_id: int, start: int, end: int) -> None:
    if spans[-3] == file_id and start - spans[-1] <= MERGE_GAP and start >= spans[-2]:
        if end > spans[-1]:
            spans[-1] = end
    else:
        spans.extend((file_id, start, end))


def _merge_spans(groups: Iterable[array[int]]) -> array[int]:
    """The spans of many runs as few as possible: sorted by file and offset, near ones joined."""
    triples = sorted(
        (spans[i], spans[i + 1], spans[i + 2]) for spans in groups for i in range(0, len(spans), 3)
    )
    merged = array("q")
    for file_id, start, end in triples:
        if merged and merged[-3] == file_id and start - merged[-1] <= MERGE_GAP:
            if end > merged[-1]:
                merged[-1] = end
        else:
            merged.extend((file_id, start, end))
    return merged


def _grown(old: bytes, new: bytes) -> bool:
    """Whether spans *new* are spans *old* with the last one longer and/or more after it."""
    if not old or len(new) < len(old):
        return False
    last = len(old) - 24
    return new[:last] == old[:last] and new[last : last + 16] == old[last : last + 16]


def _chunk_key(run_id: str) -> bytes:
    """How the writer starts every chunk line of *run_id*."""
    return fmt.CHUNK_LINE_PREFIX + run_id.encode() + b'",'


def _literal(key: bytes) -> bool:
    """Whether the 38 bytes after the chunk prefix are a 36-byte id written literally, then '",'."""
    head = key[:36]
    return key[36:38] == b'",' and b'"' not in head and b"\\" not in head


class _Picker:
    """Tells whether a line is one of a run's: its chunk lines by their start, others decoded.

    A line is decoded only when it names the run id as its ``run_id`` (compact
    JSON, or with a space after the colon): not every line of a trace, though
    each names the root's id as its ``trace_id``.
    """

    __slots__ = ("key", "needles", "run_id")

    def __init__(self, run: RunRecord) -> None:
        self.run_id = run.run_id
        self.key = _chunk_key(run.run_id)
        quoted = orjson.dumps(run.run_id)
        self.needles = (b'"run_id":' + quoted, b'"run_id": ' + quoted)

    def __call__(self, line: bytes) -> bool:
        if line.startswith(self.key):
            return True
        if self.needles[0] not in line and self.needles[1] not in line:
            return False
        try:
            event = _loads(line)
        except _JSONDecodeError:
            return False
        return type(event) is dict and event.get(fmt.RUN_ID) == self.run_id


def _observed_end(run: RunRecord) -> float | None:
    """The latest time seen of a run or of anything below it (what an interrupted run lasted)."""
    latest: float | None = None
    for below in run.walk():
        x = below._x
        for seconds in (
            below._end_s,
            x.last_chunk_s if x is not None else None,
            below._order if below._flags & _F_START else None,
        ):
            if seconds is not None and (latest is None or seconds > latest):
                latest = seconds
    return latest


def _ranges(gaps: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in gaps[:5]) + (
        ", …" if len(gaps) > 5 else ""
    )


def _json_type(value: Any) -> str:
    for kind, name in ((list, "array"), (str, "string"), (bool, "boolean"), (type(None), "null")):
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, int | float) else type(value).__name__


def _excerpt(value: Any, limit: int = _EXCERPT) -> str:
    # Raw text from the files: whoever shows it makes it printable (jsontrace.render).
    try:
        text = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@contextlib.contextmanager
def bulk_load(*, freeze: bool = True) -> Iterator[None]:
    """Pause the cyclic garbage collector while a directory is loaded, then freeze the result.

    Loading creates hundreds of thousands of long-lived objects; each full
    collection would walk all of them again, and on a million events that was
    half the load time. Afterwards ``gc.freeze()`` moves what was loaded out of
    the collector's sight (a viewer that later moves traces out of memory calls
    ``gc.unfreeze()`` once, so that those can be collected).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        if freeze:
            gc.freeze()


def load_directory(
    directory: str | os.PathLike[str], *, defer_chunks: bool = True
) -> tuple[RunStore, DirectoryReader]:
    """Read every segment file of *directory* once into a new store."""
    reader = DirectoryReader(directory, defer_chunks=defer_chunks)
    store = RunStore()
    with bulk_load():
        for batch in reader.poll():
            store.add_batch(batch)
    return store, reader
