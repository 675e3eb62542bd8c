"""Capture traces in your own tests, without touching the disk.

::

    from jsontrace.testing import capture_traces

    def test_stream_is_traced():
        with capture_traces() as traces:
            assert "".join(my_stream()) == "Hello World!"
        run = traces.run("my_stream")
        assert "ok" == run.status
        assert ["Hello", " World!"] == run.chunks

Events are captured exactly as they would be written (after your processors,
redaction and truncation), parsed back, and filed in the same
:class:`~jsontrace.store.RunStore` the viewer reads files with: a run found
here is the :class:`~jsontrace.store.RunRecord` the viewer would show.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from . import _pipeline
from .store import RunRecord, RunStore

__all__ = ["CapturedTraces", "capture_traces"]


class CapturedTraces:
    """The events captured by :func:`capture_traces`, and the runs they make."""

    def __init__(self) -> None:
        #: Every captured event, as written, in the order written.
        self.events: list[dict[str, Any]] = []
        #: The runs, built as the events arrive.
        self.store = RunStore()
        self._lock = threading.Lock()

    def write(self, line: bytes) -> None:
        """The sink method the pipeline calls with each rendered line."""
        event = orjson.loads(line)
        with self._lock:
            self.events.append(event)
            self.store.add_events([event])

    def runs(self) -> list[RunRecord]:
        """Every run, in the order its first event was written (``sorted_children()`` in start order)."""
        with self._lock:
            return [run for run in self.store.runs.values() if run.seen]

    def roots(self) -> list[RunRecord]:
        """The runs started without a parent: one per trace, oldest first."""
        return [run for run in self.runs() if run.start is not None and run.parent_run_id is None]

    def run(self, name: str) -> RunRecord:
        """The only run called *name*; ``LookupError`` if there are none or several."""
        runs = self.runs()
        found = [run for run in runs if run.name == name]
        if len(found) != 1:
            names = sorted({run.name for run in runs})
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
