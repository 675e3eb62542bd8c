"""jsontrace_view.watch: watchdog events become read hints."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jsontrace_view.watch import RESCAN, DirectoryWatcher, Hints


def test_hints_merge_names_and_time_out_to_a_rescan() -> None:
    """Repeated hints for a file are one; no hint within the timeout means rescan."""
    hints = Hints()
    hints.put("a.jsonl")
    hints.put("a.jsonl")
    hints.put("b.jsonl")

    assert frozenset({"a.jsonl", "b.jsonl"}) == hints.take(1.0)
    assert RESCAN == hints.take(0.01)


def test_close_wakes_a_waiting_reader() -> None:
    """Closing returns take() at once (the app is exiting)."""
    hints = Hints()
    hints.close()
    started = time.monotonic()

    assert RESCAN == hints.take(5.0)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("poll", [False, True])
def test_watcher_hints_jsonl_files_only(tmp_path: Path, poll: bool) -> None:
    """Writes to *.jsonl files are hinted by name; other files are ignored."""
    hints = Hints()
    watcher = DirectoryWatcher(tmp_path, hints, poll=poll)
    assert None is watcher.start()
    try:
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "a.jsonl").write_text("{}\n")
        deadline = time.monotonic() + 5
        seen: set[str] = set()
        while "a.jsonl" not in seen and time.monotonic() < deadline:
            seen |= hints.take(0.1)
    finally:
        watcher.stop()

    assert {"a.jsonl"} == seen


def test_watching_a_missing_directory_reports_why(tmp_path: Path) -> None:
    """If watching cannot start, start() says why instead of raising."""
    watcher = DirectoryWatcher(tmp_path / "gone", Hints())

    assert "cannot watch" in (watcher.start() or "")


def test_opens_and_read_only_closes_are_not_hints() -> None:
    """Our own reads show up as open/close events; hinting on them made an idle viewer re-read forever."""
    from watchdog.events import (
        FileClosedEvent,
        FileClosedNoWriteEvent,
        FileModifiedEvent,
        FileOpenedEvent,
    )

    from jsontrace_view.watch import _Handler

    hints = Hints()
    handler = _Handler(hints)
    handler.on_any_event(FileOpenedEvent("/d/trace-a.jsonl"))
    handler.on_any_event(FileClosedNoWriteEvent("/d/trace-a.jsonl"))
    assert RESCAN == hints.take(0.01)  # nothing hinted: the timeout's periodic rescan
    handler.on_any_event(FileModifiedEvent("/d/trace-a.jsonl"))
    handler.on_any_event(FileClosedEvent("/d/trace-b.jsonl"))
    assert {"trace-a.jsonl", "trace-b.jsonl"} == hints.take(0.01)
