"""Traces that cross processes: real processes pass headers, the files join into one tree.

Each test runs ``tests/cross_process_worker.py`` programs as separate Python
processes writing to one directory, then reads the directory the way the
viewer does (:func:`jsontrace.store.load_directory`, ``render_tree`` for
``--print``) and the way ``grep <trace_id> logs/*.jsonl`` does.

LangSmith: the docs page "Implement distributed tracing" (``to_headers()`` on
one side, ``tracing_context(parent=request.headers)`` on the other) and
``run_trees.RunTree.from_headers``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jsontrace.render import render_tree
from jsontrace.store import RunRecord, RunStore, load_directory

from .events import end, start

WORKER = Path(__file__).with_name("cross_process_worker.py")


def run_worker(log_dir: Path, *args: str) -> str:
    """Run one worker program to completion; its stdout."""
    env = {**os.environ, "JSONTRACE_DIR": str(log_dir)}
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert 0 == done.returncode, done.stderr
    return done.stdout


def grep(log_dir: Path, needle: str) -> list[str]:
    """``grep needle logs/*.jsonl``: the matching lines of every file."""
    return [
        line
        for path in sorted(log_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if needle in line
    ]


def the_only_tree(log_dir: Path) -> tuple[RunStore, RunRecord]:
    store, _ = load_directory(log_dir)
    roots = store.traces()
    assert 1 == len(roots), [root.name for root in roots]
    return store, roots[0]


def test_a_trace_continued_in_a_child_process_is_one_tree(log_dir: Path) -> None:
    """A handler passes ``to_headers()`` to a child process in an environment variable; the files hold one trace.

    The child (recording another host) has the caller's trace id and its run
    as parent; grep of the trace id returns every event of both processes; the
    tree built from the files (what the viewer and ``--print`` show) is one
    tree; baggage tags and metadata reached the child's runs.
    """
    run_worker(log_dir, "parent")
    store, root = the_only_tree(log_dir)
    runs = list(root.walk())
    assert ["handle_request", "worker_job", "step", "step", "stream"] == [run.name for run in runs]
    assert 2 == len({(run.pid, run.host) for run in runs})
    assert {"worker-2"} == {run.host for run in runs[1:]}
    job = runs[1]
    assert (root.trace_id, root.run_id) == (job.trace_id, job.parent_run_id)
    assert {("api",)} == {tuple(run.tags) for run in runs}
    assert {"acme"} == {run.metadata["tenant"] for run in runs}
    files = sorted(log_dir.glob("*.jsonl"))
    assert 2 == len(files)
    every_line = [line for path in files for line in path.read_text().splitlines()]
    assert every_line == grep(log_dir, root.trace_id)
    printed = list(render_tree(store))
    assert 5 == len(printed)
    assert printed[0].startswith("✓ ok  handle_request")
    assert "└── ✓ ok  worker_job" in printed[1]
    assert all(line.startswith("    ") for line in printed[2:])  # under worker_job


@pytest.fixture
def server(log_dir: Path) -> Iterator[str]:
    """The ``serve`` worker on 127.0.0.1: its port. Stopped in teardown."""
    env = {**os.environ, "JSONTRACE_DIR": str(log_dir)}
    process = subprocess.Popen(
        [sys.executable, str(WORKER), "serve"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_trace_continued_by_a_wsgi_server_over_http_is_one_tree(
    log_dir: Path, server: str
) -> None:
    """A client process sends its headers in an HTTP request to a server process behind the WSGI middleware."""
    assert "HELLO" == json.loads(run_worker(log_dir, "client", server))
    _, root = the_only_tree(log_dir)
    assert [("ask", None), ("answer", root.run_id)] == [
        (run.name, run.parent_run_id) for run in root.walk()
    ]
    assert 2 == len({run.pid for run in root.walk()})
    assert 4 == len(grep(log_dir, root.trace_id))


def test_langsmiths_own_headers_are_continued_in_another_process(log_dir: Path) -> None:
    """A LangSmith ``RunTree.to_headers()`` (real LangSmith) continued by a jsontrace process.

    The continued run carries LangSmith's trace id and run id; LangSmith's
    run is not in these files, so the tree hangs under it as a parent not seen.
    """
    pytest.importorskip("langsmith")
    upstream = json.loads(run_worker(log_dir, "langsmith-parent"))
    store, _ = load_directory(log_dir)
    job = next(run for run in store.runs.values() if run.name == "worker_job")
    assert (upstream["trace_id"], upstream["run_id"]) == (job.trace_id, job.parent_run_id)
    assert (["ls"], "acme") == (job.tags, job.metadata["tenant"])
    assert 4 == len(list(job.walk()))
    assert {upstream["trace_id"]} == {run.trace_id for run in job.walk()}


def test_an_opentelemetry_traceparent_is_continued_in_another_process(log_dir: Path) -> None:
    """A W3C ``traceparent`` from the OpenTelemetry SDK continued by a jsontrace process.

    The runs carry the OpenTelemetry trace id (as a UUID); the continued run
    names the caller's span (``00000000-0000-0000-<span id>``).
    """
    pytest.importorskip("opentelemetry.sdk")
    upstream = json.loads(run_worker(log_dir, "otel-parent"))
    store, _ = load_directory(log_dir)
    job = next(run for run in store.runs.values() if run.name == "worker_job")
    assert upstream["trace_id"] == job.trace_id.replace("-", "")
    assert upstream["span_id"] == job.parent_run_id.replace("-", "")[-16:]  # type: ignore[union-attr]
    assert len(list(job.walk())) * 2 + 2 <= len(grep(log_dir, job.trace_id))


def test_the_store_joins_runs_of_other_processes_and_hosts_in_any_order() -> None:
    """Runs written by different processes on different hosts, read child-first, make one tree."""
    root = start("r", name="root", pid=1, host="api-1")
    child = start("c", "r", name="child", pid=7, host="worker-2")
    grandchild = start("g", "c", "r", name="grandchild", pid=8, host="worker-3")
    store = RunStore()
    store.add_events([grandchild, end("g", trace="r"), child, end("c", trace="r")])
    store.add_events([root, end("r")])
    roots = store.traces()
    assert ["r"] == [run.run_id for run in roots]
    assert [("root", "api-1"), ("child", "worker-2"), ("grandchild", "worker-3")] == [
        (run.name, run.host) for run in roots[0].walk()
    ]
