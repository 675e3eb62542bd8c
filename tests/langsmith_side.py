"""Run one program under real LangSmith and under jsontrace, and see what each records.

LangSmith (the ``bench`` extra) posts to a client that records ``create_run``
calls instead of sending them; its endpoint is a closed port on 127.0.0.1, so
nothing can leave the machine. A program is a function taking the module it
traces with (``langsmith`` or ``jsontrace``): the same code runs under both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import jsontrace
from jsontrace.testing import capture_traces

#: (name, tags, metadata, trace_id, parent_run_id) per run, in start order.
Seen = list[tuple[str, list[str], dict[str, Any], str, str | None]]
Program = Callable[[Any], object]

# Keys LangSmith adds to every run's metadata on its own.
_LANGSMITH_OWN = ("ls_", "revision_id")


@contextmanager
def langsmith_offline() -> Iterator[list[dict[str, Any]]]:
    """LangSmith with tracing on and every run it would post collected in a list, offline."""
    import langsmith.run_trees

    posted: list[dict[str, Any]] = []
    client = mock.MagicMock()
    client.create_run.side_effect = lambda **run: posted.append(run)
    env = {
        "LANGSMITH_TRACING": "true",
        "LANGSMITH_API_KEY": "offline",
        "LANGSMITH_ENDPOINT": "http://127.0.0.1:9",
    }
    with (
        mock.patch.dict(os.environ, env),
        mock.patch.object(langsmith.run_trees, "get_cached_client", return_value=client),
        langsmith.tracing_context(enabled=True, client=client),
    ):
        yield posted


def under_langsmith(program: Program) -> Seen:
    """What LangSmith records (at each run's start) for *program*."""
    import langsmith

    with langsmith_offline() as posted:
        program(langsmith)
    seen: Seen = []
    for run in posted:
        metadata = (run.get("extra") or {}).get("metadata") or {}
        parent = run.get("parent_run_id")
        seen.append(
            (
                run["name"],
                list(run.get("tags") or []),
                {k: v for k, v in metadata.items() if not k.startswith(_LANGSMITH_OWN)},
                str(run["trace_id"]),
                str(parent) if parent is not None else None,
            )
        )
    return seen


def under_jsontrace(program: Program) -> Seen:
    """What jsontrace records (in each run's start event) for *program*."""
    with capture_traces() as traces:
        program(jsontrace)
    return [
        (run.name, run.start["tags"], run.start["metadata"], run.trace_id, run.parent_run_id)
        for run in traces.runs()
        if run.start is not None
    ]


def shape(seen: Seen) -> list[tuple[str, list[str], dict[str, Any]]]:
    """Names, tags and metadata only (ids differ between two runs of a program)."""
    return [(name, tags, metadata) for name, tags, metadata, _, _ in seen]
