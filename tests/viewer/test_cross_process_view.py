"""The viewer shows a trace whose runs were written by two processes (on two hosts) as one tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jsontrace_view.app import TraceViewer
from jsontrace_view.widgets import RunTree

from ..test_cross_process import run_worker
from .conftest import wait_for
from .test_app import labels, loaded, names


async def test_a_trace_across_processes_and_hosts_is_one_tree(
    trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """A request handled in one process and continued in a child process (another host) is one root with its children.

    The files are two (one per process); the viewer joins them by run ids.
    """
    run_worker(trace_dir, "parent")
    assert 2 == len(list(trace_dir.glob("*.jsonl")))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("+")
        await wait_for(pilot, lambda: len(labels(app)) == 5)
        shown = names(app)
        tree = app.query_one(RunTree)
        roots = tree.root.children
        assert 1 == len(roots)
        assert ["worker_job"] == [tree.runs[node.data].name for node in roots[0].children]  # type: ignore[index]
    assert ["handle_request", "worker_job", "step", "step", "stream"] == shown
