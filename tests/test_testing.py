"""jsontrace.testing.capture_traces: traces in memory for users' own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jsontrace import traceable
from jsontrace.testing import capture_traces


@traceable
def child() -> int:
    return 1


@traceable(reduce_fn="".join)
def parent() -> Iterator[str]:
    child()
    yield "a"
    yield "b"


def test_capture_keeps_events_in_memory_not_on_disk(log_dir: Path) -> None:
    """Inside capture_traces nothing is written to the directory; afterwards writing resumes."""
    with capture_traces() as traces:
        list(parent())
    assert not log_dir.exists()
    assert len(traces.events) == 6
    child()
    assert len(list(log_dir.glob("*.jsonl"))) == 1


def test_runs_are_assembled_with_children() -> None:
    """runs() pairs starts, chunks and ends, and roots() gives one run per trace with its children."""
    with capture_traces() as traces:
        list(parent())
    (root,) = traces.roots()
    assert root.name == "parent"
    assert [c.name for c in root.children] == ["child"]
    assert (root.status, root.outputs, root.chunks) == ("ok", "ab", ["a", "b"])


def test_run_lookup_by_name_is_strict() -> None:
    """run(name) raises LookupError naming what exists when there is not exactly one match."""
    with capture_traces() as traces:
        child()
        child()
    with pytest.raises(LookupError, match="found 2"):
        traces.run("child")
    with pytest.raises(LookupError, match="found 0"):
        traces.run("nothing")


def test_captured_events_are_redacted_like_files() -> None:
    """Captured events went through the same processors as written ones (redaction included)."""

    @traceable
    def call(api_key: str) -> str:
        return "ok"

    with capture_traces() as traces:
        call("sk-abcdefghijklmnopqrstuvwxyz")
    run = traces.run("call")
    assert run.inputs == {"api_key": "[REDACTED]"}
    assert run.start["redacted"] == ["inputs.api_key"]
