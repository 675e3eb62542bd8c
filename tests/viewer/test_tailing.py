"""The viewer tailing a directory that changes under it: odd files, rewrites, a directory made again."""

from __future__ import annotations

import builtins
import contextlib
import itertools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

import jsontrace_view.app
from jsontrace_view.app import TraceViewer
from jsontrace_view.widgets import RunTree
from jsontrace_view.widgets.overview import OverviewScreen

from .conftest import TraceFiles, wait_for


def names(app: TraceViewer) -> list[str]:
    """The names of the traces shown, top to bottom (a note or the "older traces" line: its text)."""
    tree = app.query_one(RunTree)
    return [
        tree.runs[node.data].name if node.data in tree.runs else str(node.label.plain)
        for node in tree.root.children
    ]


async def loaded(pilot: Any) -> None:
    await wait_for(pilot, lambda: pilot.app.loaded)
    await pilot.pause()


@pytest.fixture
def fast_rescans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rescan (and poll) often, so that tests do not wait for the safety net."""
    monkeypatch.setattr(jsontrace_view.app, "RESCAN_INTERVAL_S", 0.1)
    monkeypatch.setattr(jsontrace_view.app, "POLL_INTERVAL_S", 0.05, raising=False)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_fifo_made_while_tailing_does_not_stop_new_traces_nor_quitting(
    files: TraceFiles, trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """mkfifo in the directory while the viewer tails it: later traces still appear, q still quits."""
    files.trace("before", children=0)
    fifo = trace_dir / "x.jsonl"
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        os.mkfifo(fifo)  # the watch hint names it
        try:
            await pilot.pause(0.3)
            files.trace("after", children=0)
            await wait_for(pilot, lambda: "after" in names(app), timeout=10)
            assert 1 == app.reader.skipped_files
        finally:
            with contextlib.suppress(OSError):  # a reader stuck in open() (the bug) wakes up
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        await pilot.press("q")
    assert not app.is_running


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
async def test_a_symlink_to_dev_zero_made_while_tailing_is_skipped(
    files: TraceFiles, trace_dir: Path, make_app: Callable[..., TraceViewer], fast_rescans: None
) -> None:
    """A symlink to /dev/zero made while tailing is never read: tailing goes on, the skip is noticed."""
    files.trace("before", children=0)
    app = make_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot)
        (trace_dir / "z.jsonl").symlink_to("/dev/zero")
        await pilot.pause(0.3)
        files.trace("after", children=0)
        await wait_for(pilot, lambda: "after" in names(app), timeout=10)

        assert (1, 0) == (app.reader.skipped_files, app.reader.files.get("z.jsonl", 0))
        assert "skipped z.jsonl: a character device, not a regular file" in app._status.plain


async def test_a_directory_deleted_and_made_again_clears_its_condition(
    files: TraceFiles, trace_dir: Path, make_app: Callable[..., TraceViewer], fast_rescans: None
) -> None:
    """'cannot list' shows while the directory is gone and goes once it is back with new traces."""
    files.trace("first", children=0)
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await loaded(pilot)
        shutil.rmtree(trace_dir)
        await wait_for(pilot, lambda: "cannot list" in app._status.plain, timeout=10)

        TraceFiles(trace_dir).trace("second", children=0)
        await wait_for(pilot, lambda: "second" in names(app), timeout=10)
        await wait_for(pilot, lambda: "cannot list" not in app._status.plain, timeout=10)
        assert [] == app.conditions

        TraceFiles(trace_dir, name="trace-2.jsonl").trace("third", children=0)
        await wait_for(pilot, lambda: "third" in names(app), timeout=10)  # watched again


async def test_poll_mode_sees_a_file_rewritten_in_place(
    files: TraceFiles, make_app: Callable[..., TraceViewer], fast_rescans: None
) -> None:
    """--poll: a file truncated and refilled past its old offset between two polls is read from 0."""
    for n in range(3):
        files.trace(f"old{n}", children=0)
    app = make_app(poll=True)
    async with app.run_test(size=(120, 60)) as pilot:
        await loaded(pilot)
        size = files.path.stat().st_size
        rewritten = TraceFiles(files.directory, name="rewrite.tmp")
        for n in range(12):
            rewritten.trace(f"new{n}", children=0)
        data = rewritten.path.read_bytes()
        rewritten.path.unlink()
        assert len(data) > size
        with files.path.open("r+b") as f:  # same inode: truncated, then refilled past the offset
            f.truncate(0)
            f.write(data)

        expected = {f"new{n}" for n in range(12)}
        await wait_for(pilot, lambda: expected <= set(names(app)), timeout=10)


async def test_finished_traces_leave_memory_and_the_tree_keeps_only_what_it_shows(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Beyond the window, finished traces are out of the index; the count of older ones stays right."""
    for n in range(60):
        files.trace(f"t{n:02d}", children=2)
    app = make_app(limit=5, window=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: len(app.store.roots) <= 10 + 16, timeout=10)
        tree = app.query_one(RunTree)

        assert 60 == app.store.trace_count
        assert ["t59", "t58", "t57", "t56", "t55"] == names(app)[:5]
        assert "… 55 older traces (m: show more)" == str(tree.root.children[-1].label.plain)
        assert set(tree.runs) == set(tree.nodes)
        await pilot.press("m")  # older traces come back from the files
        await wait_for(pilot, lambda: "t50" in names(app))
        assert "… 50 older traces (m: show more)" == str(tree.root.children[-1].label.plain)


async def test_memory_stays_bounded_while_a_read_cannot_catch_up(
    files: TraceFiles, trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """A writer faster than the reader makes one read last as long as the flood: traces leave
    memory during it, not only between reads (which may never come)."""
    files.trace("first", children=0)
    app = make_app(limit=5, window=10, watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        for n in range(300):
            files.trace(f"t{n:03d}", children=2)
        app.reader.block_size = 4096  # many batches, as a long flood gives
        most = 0
        add_batch = app.store.add_batch

        def counting(batch: Any) -> None:
            nonlocal most
            add_batch(batch)
            most = max(most, len(app.store.roots))

        app.store.add_batch = counting  # type: ignore[method-assign]
        with app.store_lock:  # the tail worker waits: this read is the only one
            assert app._read(frozenset({files.path.name}))

        assert 301 == app.store.trace_count
        assert most <= 10 + 16 + 30, most  # the window, its slack, and one batch of traces


async def test_search_sort_and_overview_reach_traces_that_left_memory(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A search, the duration order and the overview read traces moved out of memory from the files."""
    files.start("slow")
    files.end("slow", trace="slow", duration_ms=99_999.0)  # the oldest and the slowest
    for n in range(60):
        files.trace(f"t{n:02d}", children=2)
    app = make_app(limit=5, window=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: len(app.store.roots) <= 10 + 16, timeout=10)
        assert None is app.store.get("slow")
        assert None is app.store.get("t03")

        await pilot.press("slash", *"t03", "enter")  # free text: inputs and outputs, read again
        await wait_for(pilot, lambda: not app.searching and app.search_text == "t03")
        assert ["t03"] == names(app)
        assert (3, 1) == (app.search.count, len(app.search.matches))
        await pilot.press("n")
        assert {"t03", "t03.0", "t03.1"} >= {app._selected}  # a match, in a rebuilt trace

        await pilot.press("escape", "s")  # by duration: the slowest trace, though out of memory
        await wait_for(pilot, lambda: not app.searching and app.sort == "duration")
        assert "slow" == names(app)[0]
        assert "… 56 more traces (m: show more)" == names(app)[-1]

        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        table: DataTable[Any] = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        runs = sum(
            int(str(table.get_row_at(i)[2]).replace(",", "")) for i in range(table.row_count)
        )
        assert 1 + 60 * 3 == runs


async def test_an_idle_viewer_opens_no_file_on_its_rescans(
    files: TraceFiles,
    trace_dir: Path,
    make_app: Callable[..., TraceViewer],
    fast_rescans: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rescans compare inode, size and mtime first: an idle directory of many files is not reopened."""
    for n in range(50):
        TraceFiles(trace_dir, name=f"trace-{n:03d}.jsonl").trace(f"t{n}", children=0)
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.path.basename(os.fspath(path)))
        return real_os_open(path, *args, **kwargs)

    def open_(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.path.basename(os.fspath(path)))
        return real_open(path, *args, **kwargs)

    app = make_app(watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(builtins, "open", open_)
        await pilot.pause(0.6)  # several rescans
        assert [] == [name for name in opened if name.endswith(".jsonl")]

        TraceFiles(trace_dir, name="trace-007.jsonl").trace("late", children=0)
        await wait_for(pilot, lambda: "late" in names(app))
        # Only the file that changed: read for its new lines, and again for the new
        # trace's row (its input preview is a value, read from the file when shown).
        assert {"trace-007.jsonl"} == {name for name in opened if name.endswith(".jsonl")}


async def test_traces_out_of_memory_whose_file_is_deleted_leave_the_count(
    trace_dir: Path, make_app: Callable[..., TraceViewer], fast_rescans: None
) -> None:
    """A deleted file's traces that left memory cannot be read again: they leave the count too."""
    old = TraceFiles(trace_dir, name="trace-20261124T064931Z-box-1-00000.jsonl")
    for n in range(30):
        old.trace(f"old{n:02d}", children=1)
    new = TraceFiles(trace_dir, name="trace-20261124T064931Z-box-2-00000.jsonl")
    new._ticks = itertools.count(100_000)  # later than every old trace
    for n in range(30):
        new.trace(f"new{n:02d}", children=1)
    app = make_app(limit=5, window=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: len(app.store.roots) <= 10 + 16, timeout=10)
        assert 60 == app.store.trace_count

        old.path.unlink()
        await wait_for(pilot, lambda: app.store.trace_count == 30, timeout=10)
        await wait_for(pilot, lambda: "… 25 older traces" in names(app)[-1], timeout=10)
        assert 30 == len(app.store.traces())


async def test_safety_net_rescans_back_off_while_they_find_nothing(
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    fast_rescans: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With watchdog hints working, each rescan that finds nothing doubles the wait for the next."""
    monkeypatch.setattr(jsontrace_view.app, "RESCAN_MAX_INTERVAL_S", 0.8)
    files.trace("first", children=0)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        rescans: list[float] = []
        poll = app.reader.poll

        def counted() -> Any:
            rescans.append(time.monotonic())
            return poll()

        monkeypatch.setattr(app.reader, "poll", counted)
        await pilot.pause(3.0)  # 0.1 s apart without backing off: about 30 rescans
        gaps = [b - a for a, b in itertools.pairwise(rescans)]
        assert 3 <= len(rescans) <= 8
        assert gaps[-1] >= 0.6

        files.trace("second", children=0)  # still found at once, by its hint
        await wait_for(pilot, lambda: "second" in names(app), timeout=5)


async def test_rows_wider_than_the_tree_end_in_an_ellipsis(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Each row, indented or not, is cut to the tree's width with "…": no horizontal scrollbar,
    and the scroll crop splits no row (whose split cache a busy directory filled)."""
    files.trace("first " + "x" * 200, children=0)
    app = make_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await loaded(pilot)
        tree = app.query_one(RunTree)
        for n in range(40):
            files.trace(f"wide{n:02d} " + "y" * 200, children=1)
        await wait_for(pilot, lambda: app.store.trace_count == 41)
        await pilot.press("enter")  # a child row, indented by its guide
        await pilot.pause(0.3)
        shown = [line.node for line in tree._tree_lines]
        room = tree.size.width - tree.styles.scrollbar_size_vertical

        assert not tree.show_horizontal_scrollbar
        assert tree.virtual_size.width <= room
        assert all(tree.get_label_width(node) <= room for node in shown)
        assert "…" in str(tree.render_label(shown[0], tree.rich_style, tree.rich_style).plain)
