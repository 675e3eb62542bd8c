"""A run: ids, timing, chunks, reduction and the end status; it writes its own events.

Every method a decorator calls on a :class:`Run` is total: it contains any
failure of user hooks (``reduce_fn``, ``process_*``) or of the pipeline, so the
traced code never sees an exception that is not its own. A hook that raises
``KeyboardInterrupt`` or ``SystemExit`` (any ``BaseException`` that is not an
``Exception``) asks to stop the program: the run records what it can and writes
its event first, then the exception goes on. Tracing never swallows a stop.

A run belongs to the process that started it. In a child forked while the run
was going (a generator iterated on in the child), the run writes nothing: its
chunks and its end are the parent's to write, and the child's file holds only
the runs the child starts itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter_ns, time_ns
from typing import TYPE_CHECKING, Any

from . import _pipeline
from . import format as fmt
from ._config import CONFIG
from ._errors import report_once, safe_repr
from ._host import HOST
from ._ids import uuid7
from ._pipeline import emit_end

if TYPE_CHECKING:
    from ._context import Parent

__all__ = ["Hooks", "Run"]

_pid = os.getpid()


def _update_pid() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_update_pid)

_UNSET: Any = object()
_ALL = sys.maxsize


def _is_cancellation(exc: BaseException) -> bool:
    # asyncio is not imported here just for its exception: it costs ~30 ms of import time.
    if isinstance(exc, GeneratorExit):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


class Hooks:
    """The user's callables that shape what a run records (LangSmith's names)."""

    __slots__ = ("none", "process_chunk", "process_outputs", "reduce_fn")

    def __init__(
        self,
        reduce_fn: Callable[[list[Any]], Any] | None = None,
        process_outputs: Callable[[Any], Any] | None = None,
        process_chunk: Callable[[Any], Any] | None = None,
    ) -> None:
        self.reduce_fn = reduce_fn
        self.process_outputs = process_outputs
        self.process_chunk = process_chunk
        #: No hook at all: what a run's quick end (Run.end) asks of them.
        self.none = reduce_fn is None and process_outputs is None and process_chunk is None


_NO_HOOKS = Hooks()

#: Called once a run's end is written, with the run and its end event (``on_end``).
EndHook = Callable[["Run", dict[str, Any]], None]


class Run:
    """One traced call: a function, a generator's whole stream, or a ``trace()`` block.

    Users get it from :func:`jsontrace.get_current_run` (or ``with trace(...) as
    run``) to read its ids or to add metadata, tags and outputs while it runs.
    """

    __slots__ = (
        "_chunk_prefix",
        "_chunks",
        "_ended",
        "_extra_outputs",
        "_first_chunk_ns",
        "_hooks",
        "_keep",
        "_meta_changed",
        "_on_end",
        "_outputs",
        "_owner_pid",
        "_parent",
        "_perf_start",
        "_plain",
        "_seq",
        "_start_ns",
        "_stop",
        "_usage",
        "_warnings",
        "is_generator",
        "metadata",
        "name",
        "parent_run_id",
        "run_id",
        "run_type",
        "tags",
        "trace_id",
    )

    run_id: str
    trace_id: str
    parent_run_id: str | None
    name: str
    run_type: str
    tags: list[str]
    metadata: dict[str, Any]
    is_generator: bool

    def __init__(
        self,
        name: str,
        # Not keyword-only: a class called with keywords costs a dict of them per call,
        # which the decorators (calling with positions) avoid.
        run_type: str = "chain",
        inputs: Any = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        parent: Parent | None = None,
        hooks: Hooks = _NO_HOOKS,
        is_generator: bool = False,
        warnings: list[str] | None = None,
        run_id: str | None = None,
        on_end: EndHook | None = None,
    ) -> None:
        """Start a run under *parent* (None: a new trace) now, and write its ``run.start`` event.

        *parent* is a :class:`Run` or a run in another process (continued from
        headers); *run_id* a canonical UUID chosen by the caller (default: a new UUIDv7).
        """
        self.run_id = run_id or uuid7()
        self.trace_id = parent.trace_id if parent is not None else self.run_id
        self.parent_run_id = parent.run_id if parent is not None else None
        self.name = name
        self.run_type = run_type
        self.tags = list(tags)
        self.metadata = dict(metadata) if metadata else {}
        self.is_generator = is_generator
        self._hooks = hooks
        self._chunks: list[Any] = []
        # Without reduce_fn the end event writes at most max_items chunks (the renderer
        # cuts the rest), so only those are kept: a stream of millions of chunks holds
        # what it will write. reduce_fn needs them all, and so does an llm run, whose
        # token usage is read from its chunks at the end (the last ones, for OpenAI).
        self._keep = CONFIG.max_items if hooks.reduce_fn is None and run_type != "llm" else _ALL
        self._seq = 0
        self._chunk_prefix = b""  # made with the first chunk
        self._first_chunk_ns = 0
        self._outputs: Any = _UNSET
        self._extra_outputs: dict[str, Any] | None = None
        self._owner_pid = _pid
        self._ended = False
        self._meta_changed = False
        self._warnings = warnings
        # Kept for to_headers(): the dotted order names every ancestor with its start time.
        self._parent = parent
        self._on_end = on_end
        self._start_ns = ts = time_ns()
        self._stop: BaseException | None = None
        self._usage: Any = None
        # Whether an ok end is the event Run.end builds itself: a function's run with no
        # hooks, no on_end, no usage to look for; whatever changes that clears it.
        self._plain = (
            hooks.none
            and not is_generator
            and on_end is None
            and warnings is None
            and run_type != "llm"
        )
        # The keys are format.py's names written out: a dict display of literal keys
        # is built in one step, while 13 `fmt.X` lookups cost half a microsecond.
        # tests/test_format_keys.py checks that they match format.py.
        _pipeline.record_start(
            {
                "event": "run.start",
                "run_id": self.run_id,
                "trace_id": self.trace_id,
                "v": 1,
                "ts": ts,
                "parent_run_id": self.parent_run_id,
                "name": name,
                "run_type": run_type,
                "inputs": inputs if inputs is not None else {},
                "tags": self.tags,
                "metadata": self.metadata,
                "pid": _pid,
                "host": HOST,
            }
        )
        # The clock starts once the start event is written: the first event of a
        # process opens its file, and that is the tracer's time, not the run's.
        self._perf_start = perf_counter_ns()

    def __repr__(self) -> str:
        return f"<Run {self.name!r} {self.run_type} run_id={self.run_id}>"

    @property
    def ended(self) -> bool:
        """Whether the run's ``run.end`` event has been written."""
        return self._ended

    # -- for users, while the run runs -------------------------------------------------

    def add_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge *metadata* into the run's metadata (written with its end)."""
        self.metadata.update(metadata)
        self._meta_changed = True
        self._plain = False

    def add_tags(self, *tags: str | Iterable[str]) -> None:
        """Add tags (strings, or iterables of strings) to the run."""
        for tag in tags:
            self.tags.extend([tag] if isinstance(tag, str) else tag)
        self._meta_changed = True
        self._plain = False

    def to_headers(self) -> dict[str, str]:
        """HTTP headers that continue this run's trace in another process or service.

        ``langsmith-trace`` and ``baggage`` as LangSmith writes them, and W3C
        ``traceparent``; the other side passes them as ``parent`` (see
        ``docs/format.md``, "Traces that cross processes").
        """
        from ._headers import to_headers

        return to_headers(self)

    def set_outputs(self, outputs: Any) -> None:
        """Record *outputs* as the run's outputs, instead of the return value or chunks."""
        self._outputs = outputs
        self._plain = False

    def add_outputs(self, outputs: Mapping[str, Any]) -> None:
        """Add keys to the recorded outputs, as LangSmith does.

        They are merged into the outputs at the end: into a dict as it is,
        anything else (a return value, a generator's chunks) under ``"output"``.
        """
        if self._extra_outputs is None:
            self._extra_outputs = {}
        self._extra_outputs.update(outputs)
        self._plain = False

    def set_usage(self, usage: Mapping[str, Any]) -> None:
        """Record the run's token usage, written with its end as the normalised ``usage``.

        Any shape jsontrace reads is accepted: LangSmith's ``usage_metadata``
        (``input_tokens``, ``output_tokens``, ...), an OpenAI or Anthropic
        ``usage``. It takes precedence over usage found in the outputs.
        """
        self._usage = usage
        self._plain = False

    # -- for the decorators -------------------------------------------------------------

    def chunk(self, value: Any) -> None:
        """Record one streamed chunk (after ``process_chunk``) as a ``run.chunk`` event."""
        if self._ended or self._owner_pid != _pid:
            return  # ended, or iterated on in a forked child: not this process's run
        process = self._hooks.process_chunk
        if process is not None:
            value = self._call_hook(
                "process_chunk", process, value, fallback="<process_chunk failed>"
            )
        seq = self._seq
        self._seq = seq + 1
        ns = time_ns()
        if seq == 0:
            self._first_chunk_ns = perf_counter_ns()
            # Imported here, once per stream: it brings orjson, which the import of
            # jsontrace leaves for the first event.
            from ._fast import chunk_prefix

            self._chunk_prefix = chunk_prefix(self.run_id, self.trace_id)
        if seq < self._keep:
            self._chunks.append(value)
        _pipeline.record_chunk(self._chunk_prefix, self.run_id, self.trace_id, ns, seq, value)
        if process is not None and self._stop is not None:
            # process_chunk asked to stop: the stream ends here, recorded as ended by it.
            stop, self._stop = self._stop, None
            self.fail(stop)
            raise stop

    def end(self, outputs: Any = None) -> None:
        """End the run ``ok`` with *outputs*.

        For generators the outputs are the recorded chunks, reduced; *outputs*
        is then the generator's return value, appended to the chunks when not
        None, as LangSmith records it.
        """
        if not self._plain:
            self._end(fmt.OK, outputs, None)
            return
        # _end for the common case, a function's run that nothing changed: the same event.
        if self._ended or self._owner_pid != _pid:
            return
        self._ended = True
        end_ns = perf_counter_ns()
        _pipeline.record_end(
            {  # literal keys, as in _end_event
                "event": "run.end",
                "run_id": self.run_id,
                "trace_id": self.trace_id,
                "v": 1,
                "ts": time_ns(),
                "status": "ok",
                "outputs": outputs,
                "error": None,
                "chunk_count": self._seq,
                "duration_ms": (end_ns - self._perf_start) / 1e6,
            }
        )

    def fail(self, exc: BaseException) -> None:
        """End the run because *exc* escaped: ``cancelled`` for cancellation, else ``error``."""
        status = fmt.CANCELLED if _is_cancellation(exc) else fmt.ERROR_STATUS
        self._end(status, None, exc)

    def cancel(self) -> None:
        """End the run ``cancelled`` (the consumer stopped early); a no-op once ended."""
        self._end(fmt.CANCELLED, None, None)

    def _end(self, status: str, outputs: Any, exc: BaseException | None) -> None:
        if self._ended or self._owner_pid != _pid:
            # A child forked inside the run must not end it a second time.
            return
        self._ended = True
        try:
            event = self._end_event(status, outputs, exc)
        except Exception as err:
            report_once("end", f"could not build the end of run {self.name!r}: {safe_repr(err)}")
            event = self._end_event(status, None, None, minimal=True)
        if (
            self._meta_changed
            or self._warnings
            or self._usage is not None
            or self.run_type == "llm"
        ):
            emit_end(event)  # perhaps with optional fields: the shape is checked
        else:
            _pipeline.record_end(event)
        if self._on_end is not None:
            # The hook contains the user's callback itself; this is belt and braces.
            try:
                self._on_end(self, event)
            except Exception as err:
                report_once("on_end", f"on_end of {self.name!r} failed: {safe_repr(err)}")
        stop = self._stop
        if stop is not None:  # a hook asked to stop: now that the end is written
            self._stop = None
            raise stop

    def _end_event(
        self, status: str, outputs: Any, exc: BaseException | None, minimal: bool = False
    ) -> dict[str, Any]:
        end_ns = perf_counter_ns()
        if minimal:
            recorded = None
        elif self._outputs is not _UNSET:
            recorded = self._outputs
        elif self.is_generator:
            recorded = self._reduce(outputs)
        else:
            recorded = outputs
        if self._extra_outputs and not minimal:
            if isinstance(recorded, dict):
                recorded = {**recorded, **self._extra_outputs}
            elif recorded is None:
                recorded = dict(self._extra_outputs)
            else:
                recorded = {"output": recorded, **self._extra_outputs}
        if (
            not minimal
            and self._hooks.process_outputs is not None
            and (status == fmt.OK or self.is_generator)
        ):
            recorded = self._call_hook("process_outputs", self._hooks.process_outputs, recorded)
        event: dict[str, Any] = {  # literal keys, as in __init__
            "event": "run.end",
            "run_id": self.run_id,
            "trace_id": self.trace_id,
            "v": 1,
            "ts": time_ns(),
            "status": status,
            "outputs": recorded,
            "error": _describe_error(exc)
            if exc is not None and status == fmt.ERROR_STATUS
            else None,
            "chunk_count": self._seq,
            "duration_ms": (end_ns - self._perf_start) / 1e6,
        }
        if self.is_generator:
            event[fmt.FIRST_CHUNK_MS] = (
                (self._first_chunk_ns - self._perf_start) / 1e6 if self._seq else None
            )
        if self.run_type == "llm" or self._usage is not None:
            from ._llm import annotate  # imported by the first llm run only

            returned = () if self.is_generator or outputs is recorded else (outputs,)
            annotate(
                event,
                explicit=self._usage,
                outputs=(recorded, *returned),
                chunks=self._chunks,
                metadata=self.metadata,
                name=self.name,
            )
        if self._meta_changed:
            event[fmt.TAGS] = self.tags
            event[fmt.METADATA] = self.metadata
        if self._warnings:
            event[fmt.TRACE_WARNINGS] = self._warnings
        return event

    def _reduce(self, returned: Any) -> Any:
        # LangSmith appends a generator's return value (when not None) to its outputs,
        # and reduce_fn sees it too.
        values = self._chunks if returned is None else [*self._chunks, returned]
        reduce_fn = self._hooks.reduce_fn
        if reduce_fn is None:
            dropped = self._seq - len(self._chunks)
            if dropped > 0:  # only max_items chunks were kept: the rest is said, as cut
                from ._serialize import items_mark

                return [*self._chunks, items_mark(dropped + (returned is not None))]
            return values
        # If reduce_fn fails, the values themselves are still a faithful record.
        return self._call_hook("reduce_fn", reduce_fn, values, fallback=values)

    def _call_hook(
        self, label: str, hook: Callable[[Any], Any], value: Any, fallback: Any = None
    ) -> Any:
        try:
            return hook(value)
        except BaseException as exc:
            message = f"{label} of {self.name!r} raised {type(exc).__name__}: {safe_repr(exc)}"
            self.warn(message)
            report_once(f"hook:{self.name}:{label}", message)
            if not isinstance(exc, Exception):
                self._stop = exc  # raised once this run's event is written
            return fallback

    def warn(self, message: str) -> None:
        """Record a problem inside the tracer in this run's ``trace_warnings``."""
        self._plain = False
        if self._warnings is None:
            self._warnings = []
        if message not in self._warnings:
            self._warnings.append(message)


def _describe_error(exc: BaseException) -> dict[str, str]:
    # _serialize (traceback, uuid, decimal...) is imported on the first error only.
    from ._serialize import describe_error

    return describe_error(exc)
