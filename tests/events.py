"""Hand-made events for tests that feed readers, the store, the doctor and the viewer directly.

Each builder returns a complete, valid event of format version 1, keys in the
order the writer uses; keyword arguments add or replace keys. A run's
``trace_id`` defaults to its parent's id (or its own at a root), which is right
for traces two levels deep; pass ``trace=`` for deeper ones.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["TS", "chunk", "end", "line", "lines", "start", "ts_at"]

#: The default time stamp of every built event.
TS = "2026-11-24T06:49:31.000000Z"


def ts_at(second: float) -> str:
    """A time stamp *second* seconds after 2026-11-24T07:00:00Z (under an hour)."""
    minutes, rest = divmod(second, 60)
    return f"2026-11-24T07:{int(minutes):02d}:{rest:09.6f}Z"


def start(
    run_id: str,
    parent: str | None = None,
    trace: str | None = None,
    *,
    ts: str = TS,
    **extra: Any,
) -> dict[str, Any]:
    """A ``run.start`` named after its run id, from a process on another host."""
    event = {
        "event": "run.start", "run_id": run_id, "trace_id": trace or parent or run_id, "v": 1,
        "ts": ts, "parent_run_id": parent, "name": run_id, "run_type": "chain", "inputs": {},
        "tags": [], "metadata": {}, "pid": 999_999_999, "host": "some-other-host",
    }  # fmt: skip
    event.update(extra)
    return event


def chunk(
    run_id: str, seq: Any, value: Any = "x", trace: str | None = None, *, ts: str = TS
) -> dict[str, Any]:
    """A ``run.chunk``."""
    return {"event": "run.chunk", "run_id": run_id, "trace_id": trace or run_id, "v": 1,
            "ts": ts, "seq": seq, "chunk": value}  # fmt: skip


def end(
    run_id: str, status: str = "ok", trace: str | None = None, *, ts: str = TS, **extra: Any
) -> dict[str, Any]:
    """A ``run.end`` with no outputs and no chunks."""
    event = {
        "event": "run.end", "run_id": run_id, "trace_id": trace or run_id, "v": 1, "ts": ts,
        "status": status, "outputs": None, "error": None, "chunk_count": 0, "duration_ms": 5.0,
    }  # fmt: skip
    event.update(extra)
    return event


def line(event: Any) -> bytes:
    """One event as the writer would write it: compact JSON and a newline."""
    return orjson.dumps(event) + b"\n"


def lines(*events: Any) -> bytes:
    """Several events as consecutive lines."""
    return b"".join(line(event) for event in events)
