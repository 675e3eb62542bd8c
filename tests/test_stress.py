"""Load: processes, threads and tasks tracing into one directory with constant rotation lose nothing.

Sizes are moderate so CI stays fast; ``JSONTRACE_STRESS=large`` makes them ten times larger.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jsontrace.doctor import check
from tests import stress_worker

SCALE = 10 if os.environ.get("JSONTRACE_STRESS") == "large" else 1
PROCESSES = 4
ITERATIONS = 3 * SCALE


def _assert_complete(directory: Path, expected_runs: int) -> None:
    report = check(directory)
    assert report.problems == [], report.summary()
    assert expected_runs == report.runs, report.summary()
    assert {"ok": expected_runs} == dict(report.statuses)
    assert (report.running, report.interrupted, report.orphans, report.bad_lines) == (0, 0, 0, 0)
    assert report.incomplete_tails == 0


def test_processes_threads_and_tasks_with_rotation(tmp_path: Path) -> None:
    """4 processes x 4 threads x asyncio tasks: one start and end per run, all chunks, all parents."""
    directory = tmp_path / "stress"
    workers = [
        subprocess.Popen([sys.executable, stress_worker.__file__, str(directory), str(ITERATIONS)])
        for _ in range(PROCESSES)
    ]
    assert [worker.wait(timeout=300) for worker in workers] == [0] * PROCESSES
    files = list(directory.glob("*.jsonl"))
    assert len({f.name.rsplit("-", 2)[0] for f in files}) >= 1
    assert len(files) > PROCESSES * 10, "max_bytes should have forced many rotations"
    expected = PROCESSES * stress_worker.THREADS * ITERATIONS * stress_worker.runs_per_iteration()
    _assert_complete(directory, expected)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_while_other_threads_write(tmp_path: Path) -> None:
    """Children forked while the parent's threads are writing write their own files; nothing is lost."""
    directory = tmp_path / "fork"
    stress_worker.work(str(directory), 1)  # the parent's writer is open and warm
    context = multiprocessing.get_context("fork")
    stop = threading.Event()
    background_iterations = [0]

    def keep_writing() -> None:
        while not stop.is_set():
            stress_worker.iteration(0)
            background_iterations[0] += 1

    writers = [threading.Thread(target=keep_writing) for _ in range(2)]
    for thread in writers:
        thread.start()
    children = []
    for _ in range(PROCESSES):
        child = context.Process(target=stress_worker.work, args=(str(directory), ITERATIONS))
        child.start()
        children.append(child)
    for child in children:
        child.join(timeout=120)
    stop.set()
    for thread in writers:
        thread.join()
    assert [child.exitcode for child in children] == [0] * PROCESSES, "a child deadlocked or failed"
    per = stress_worker.runs_per_iteration()
    expected = (
        stress_worker.THREADS * per  # the warm-up
        + background_iterations[0] * per
        + PROCESSES * stress_worker.THREADS * ITERATIONS * per
    )
    pids = {int(f.name.rsplit("-", 2)[1]) for f in directory.glob("*.jsonl")}
    assert len(pids) == PROCESSES + 1, "each forked child must write its own files"
    _assert_complete(directory, expected)
