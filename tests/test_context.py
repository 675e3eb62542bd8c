"""Carrying the current run into threads: ContextThreadPoolExecutor and copy_context."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from jsontrace import ContextThreadPoolExecutor, copy_context, get_current_run, traceable
from jsontrace.testing import capture_traces


@traceable
def work(i: int) -> int:
    return i * 2


def test_executor_tasks_nest_under_the_submitter() -> None:
    """Runs traced in ContextThreadPoolExecutor.submit and .map are children of the submitting run."""

    @traceable
    def fan_out() -> list[int]:
        with ContextThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(work, 1).result()
            return [first, *pool.map(work, [2, 3])]

    with capture_traces() as traces:
        assert fan_out() == [2, 4, 6]
    parent = traces.run("fan_out")
    children = [run for run in traces.runs() if run.name == "work"]
    assert [parent.run_id] * 3 == [child.parent_run_id for child in children]


def test_plain_executor_does_not_carry_the_run() -> None:
    """Without the helper, a plain ThreadPoolExecutor starts a new trace (documents why it exists)."""

    @traceable
    def fan_out() -> int:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(work, 1).result()

    with capture_traces() as traces:
        fan_out()
    assert None is traces.run("work").parent_run_id


def test_copy_context_binds_a_thread_target() -> None:
    """copy_context(fn) run in a Thread sees the current run and nests under it."""
    seen: list[object] = []

    def target() -> None:
        seen.append(get_current_run())
        work(5)

    @traceable
    def spawn() -> None:
        thread = threading.Thread(target=copy_context(target))
        thread.start()
        thread.join()

    with capture_traces() as traces:
        spawn()
    parent = traces.run("spawn")
    assert parent.run_id == getattr(seen[0], "run_id", None)
    assert parent.run_id == traces.run("work").parent_run_id


def test_get_current_run_outside_is_none() -> None:
    """Outside traced code there is no current run."""
    assert None is get_current_run()
