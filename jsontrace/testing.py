"""Capture traces in your own tests, without touching the disk.

::

    from jsontrace.testing import capture_traces

    def test_stream_is_traced():
        with capture_traces() as traces:
            assert "".join(my_stream()) == "Hello World!"
        run = traces.run("my_stream")
        assert "ok" == run.status
        assert ["Hello", " World!"] == run.chunks

Events are captured exactly as they would be written (after truncation and
redaction), parsed back into dicts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import _pipeline
from . import format as fmt

__all__ = ["CapturedRun", "CapturedTraces", "capture_traces"]


@dataclass
class CapturedRun:
    """One run assembled from its captured events."""

    run_id: str
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    chunk_events: list[dict[str, Any]] = field(default_factory=list)
    children: list[CapturedRun] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return self.start.get(fmt.NAME) if self.start else None

    @property
    def trace_id(self) -> str | None:
        event = self.start or self.end
        return event.get(fmt.TRACE_ID) if event else None

    @property
    def parent_run_id(self) -> str | None:
        return self.start.get(fmt.PARENT_RUN_ID) if self.start else None

    @property
    def inputs(self) -> Any:
        return self.start.get(fmt.INPUTS) if self.start else None

    @property
    def chunks(self) -> list[Any]:
        return [event[fmt.CHUNK_VALUE] for event in self.chunk_events]

    @property
    def status(self) -> str | None:
        """``ok``, ``error`` or ``cancelled``; None while the run has not ended."""
        return self.end.get(fmt.STATUS) if self.end else None

    @property
    def outputs(self) -> Any:
        return self.end.get(fmt.OUTPUTS) if self.end else None

    @property
    def error(self) -> dict[str, Any] | None:
        return self.end.get(fmt.ERROR) if self.end else None


class CapturedTraces:
    """The events captured by :func:`capture_traces`, with ways to look up runs."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def write(self, line: bytes) -> None:
        """The sink method the pipeline calls with each rendered line."""
        event = orjson.loads(line)
        with self._lock:
            self.events.append(event)

    def runs(self) -> list[CapturedRun]:
        """All runs, in the order they started, with ``children`` filled in."""
        by_id: dict[str, CapturedRun] = {}
        for event in list(self.events):
            run = by_id.setdefault(event[fmt.RUN_ID], CapturedRun(event[fmt.RUN_ID]))
            kind = event[fmt.EVENT]
            if kind == fmt.START:
                run.start = event
            elif kind == fmt.CHUNK:
                run.chunk_events.append(event)
            elif kind == fmt.END:
                run.end = event
        for run in by_id.values():
            parent = by_id.get(run.parent_run_id or "")
            if parent is not None:
                parent.children.append(run)
        return list(by_id.values())

    def roots(self) -> list[CapturedRun]:
        """The runs without a parent: one per trace."""
        return [run for run in self.runs() if run.parent_run_id is None]

    def run(self, name: str) -> CapturedRun:
        """The only run called *name*; ``LookupError`` if there are none or several."""
        found = [run for run in self.runs() if run.name == name]
        if len(found) != 1:
            names = sorted({str(run.name) for run in self.runs()})
            raise LookupError(f"expected one run named {name!r}, found {len(found)}; runs: {names}")
        return found[0]


@contextmanager
def capture_traces() -> Iterator[CapturedTraces]:
    """Send events to memory instead of the files while the block runs."""
    traces = CapturedTraces()
    previous = _pipeline.set_sink(traces)
    try:
        yield traces
    finally:
        _pipeline.set_sink(previous)
