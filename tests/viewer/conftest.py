"""Fixtures for the viewer tests: trace files written as raw JSON lines (no jsontrace writer)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jsontrace_view.app import TraceViewer

from .. import events

FROZEN_NOW = 1_795_000_000.0  # a fixed clock for live durations in snapshots


class TraceFiles:
    """Appends events to one segment file the way a writer process would."""

    def __init__(self, directory: Path, name: str = "trace-20261124T064931Z-box-4242-00000.jsonl"):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / name
        self._ticks = itertools.count()

    def ts(self) -> str:
        n = next(self._ticks)
        return f"2026-11-24T06:{49 + n // 60000:02d}:{(n // 1000) % 60:02d}.{n % 1000:03d}000Z"

    def write(self, *written: dict[str, Any]) -> None:
        with self.path.open("ab") as f:
            f.write(events.lines(*written))

    def start(
        self, run_id: str, parent: str | None = None, trace: str | None = None, **extra: Any
    ) -> None:
        extra.setdefault("inputs", {"question": f"about {run_id}"})
        self.write(events.start(run_id, parent, trace, ts=self.ts(), **extra))

    def chunk(self, run_id: str, seq: int, value: Any, trace: str | None = None) -> None:
        self.write(events.chunk(run_id, seq, value, trace, ts=self.ts()))

    def end(self, run_id: str, status: str = "ok", trace: str | None = None, **extra: Any) -> None:
        extra.setdefault("outputs", {"answer": f"done {run_id}"})
        extra.setdefault("duration_ms", 1234.5)
        self.write(events.end(run_id, status, trace, ts=self.ts(), **extra))

    def trace(self, root: str, children: int = 2, error_in: int | None = None) -> None:
        """A finished trace: a root chain with llm children (one failing if asked)."""
        self.start(root)
        for i in range(children):
            child = f"{root}.{i}"
            self.start(child, root, trace=root, run_type="llm")
            if i == error_in:
                error = {
                    "type": "ValueError",
                    "message": "boom",
                    "traceback": "Traceback...\nValueError: boom",
                }
                self.end(child, "error", trace=root, error=error, outputs=None)
            else:
                self.end(child, trace=root, duration_ms=200.0 + i)
        self.end(root, trace=root)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rows show local clock times: every viewer test runs with the local zone set to UTC."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    return tmp_path / "traces"


@pytest.fixture
def files(trace_dir: Path) -> TraceFiles:
    return TraceFiles(trace_dir)


@pytest.fixture
def make_app(trace_dir: Path) -> Callable[..., TraceViewer]:
    def make(**kwargs: Any) -> TraceViewer:
        kwargs.setdefault("clock", lambda: FROZEN_NOW)
        kwargs.setdefault("flush_interval", 0.05)
        return TraceViewer(kwargs.pop("directory", trace_dir), **kwargs)

    return make


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Pause the pilot until *condition* holds (bounded: fails after *timeout* s)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


@pytest.fixture
def no_rescan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off the periodic safety-net rescan: only the watcher's hints bring new lines.

    A test of live arrival through watchdog (inotify or polling) must fail when the
    watcher is broken; with the 2 s rescan on, it would pass anyway.
    """
    import jsontrace_view.app

    monkeypatch.setattr(jsontrace_view.app, "RESCAN_INTERVAL_S", 3600.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


__all__ = ["FROZEN_NOW", "AsyncIterator", "TraceFiles", "wait_for"]
