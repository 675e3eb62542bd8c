"""jsontrace_view.app: the Textual app, driven with a pilot."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

import jsontrace_view.app
from jsontrace_view.app import TraceViewer
from jsontrace_view.widgets import HelpScreen, RunTree

from .. import events
from ..events import end, start, ts_at
from .conftest import TraceFiles, wait_for


def ts_seconds(second: float) -> float:
    """:func:`ts_at` as seconds since the epoch (for a test's clock)."""
    return datetime.fromisoformat(ts_at(second).replace("Z", "+00:00")).timestamp()


def labels(app: TraceViewer) -> list[str]:
    """The visible tree lines' labels, top to bottom."""
    tree = app.query_one(RunTree)
    out = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(str(child.label.plain))
            if child.is_expanded:
                walk(child)

    walk(tree.root)
    return out


def names(app: TraceViewer) -> list[str]:
    """The visible rows' run names (a note or the "older traces" line: its text)."""
    tree = app.query_one(RunTree)
    out = []

    def walk(node: Any) -> None:
        for child in node.children:
            run = tree.runs.get(child.data) if child.data else None
            out.append(run.name if run is not None else str(child.label.plain))
            if child.is_expanded:
                walk(child)

    walk(tree.root)
    return out


def detail_text(app: TraceViewer) -> str:
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(app.query_one("#detail-body", Static).content)
    return console.export_text()


async def loaded(pilot: Any) -> None:
    await wait_for(pilot, lambda: pilot.app.loaded)
    await pilot.pause()


async def test_shows_traces_newest_first_with_status(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """One root per trace, newest first, each with its status symbol and duration."""
    files.trace("first")
    files.trace("second", error_in=0)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)

        assert ["second", "first"] == names(app)
        assert labels(app)[0].startswith("✓ Nov 24 06:49  second  chain  1.23 s  ⚠ error inside")


@pytest.mark.parametrize("tune", [True, False])
async def test_the_allocator_policy_is_set_once_the_directory_is_loaded(
    tune: bool,
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asked to (as jsontrace-view asks), the app fixes the allocator's policy once, after
    every trace on disk is read; not asked (tests, embedders), it leaves the process's alone."""
    import jsontrace_view._memory

    files.trace("first")
    files.trace("second")
    traces_read_when_set: list[int] = []
    monkeypatch.setattr(
        jsontrace_view._memory,
        "keep_large_blocks_apart",
        lambda: traces_read_when_set.append(app.store.trace_count) or True,
    )
    app = make_app(tune_allocator=tune)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        files.trace("third")  # arrives while tailing: the policy is not set again
        await wait_for(pilot, lambda: app.store.trace_count == 3)

    assert ([2] if tune else []) == traces_read_when_set


async def test_expanding_creates_children_lazily(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Children get nodes only when their parent is expanded (enter, l or right)."""
    files.trace("t", children=2)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        tree = app.query_one(RunTree)
        assert ["t"] == sorted(tree.nodes)

        await pilot.press("enter")
        await wait_for(pilot, lambda: len(labels(app)) == 3)
        assert ["t", "t.0", "t.1"] == names(app)

        await pilot.press("j", "j")
        assert "t.1" == app.query_one(RunTree).cursor_node.data  # type: ignore[union-attr]
        await pilot.press("h", "h")
        await wait_for(pilot, lambda: len(labels(app)) == 1)


async def test_detail_pane_shows_inputs_outputs_error_and_traceback(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Selecting a failed run shows its error, traceback, inputs and ids."""
    files.trace("t", children=1, error_in=0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("enter", "down")
        await wait_for(pilot, lambda: "ValueError: boom" in detail_text(app))

        text = detail_text(app)
        assert "Traceback..." in text
        assert '"question": "about t.0"' in text
        assert "parent  t" in text


@pytest.mark.usefixtures("no_rescan")
async def test_live_appends_reach_the_tree_and_stream_into_the_detail(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Lines appended while the app runs show up: new traces, chunks joined as text."""
    files.trace("old")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)

        files.start("gen", run_type="llm")
        files.chunk("gen", 0, "Hel")
        await wait_for(pilot, lambda: names(app)[0] == "gen")
        await pilot.press("k")  # cursor to the top: the running generator
        await wait_for(pilot, lambda: "Hel" in detail_text(app))

        files.chunk("gen", 1, "lo!")
        await wait_for(pilot, lambda: "Hello!" in detail_text(app))
        assert "  gen  llm" in labels(app)[0] and labels(app)[0].startswith("●")

        files.end("gen", outputs="Hello!", chunk_count=2, first_chunk_ms=12.0)
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓ Nov 24 06:49  gen"))
        assert "2 chunks  first chunk 12 ms" in labels(app)[0]


async def test_follow_mode_jumps_to_new_traces_and_pauses_when_you_look_away(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """f follows the newest trace; moving away pauses and counts new traces; f jumps back."""
    files.trace("a")
    files.trace("b")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        tree = app.query_one(RunTree)
        await pilot.press("f")

        files.trace("c")
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == "c")

        await pilot.press("down")  # look at something else
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data != "c")
        files.trace("d")
        await wait_for(pilot, lambda: app.paused_new == 1)
        assert "d" != tree.cursor_node.data  # type: ignore[union-attr]

        await pilot.press("f")
        await wait_for(pilot, lambda: tree.cursor_node.data == "d")  # type: ignore[union-attr]
        assert 0 == app.paused_new


async def test_errors_only_filter_and_escape(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """e keeps traces with an error anywhere inside; escape shows everything again."""
    files.trace("fine")
    files.trace("broken", error_in=1)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)

        await pilot.press("e")
        assert ["broken"] == names(app)

        await pilot.press("escape")
        assert ["broken", "fine"] == names(app)


async def test_detail_follows_the_cursor_when_a_filter_replaces_the_tree(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """When the selected trace is filtered out, the detail pane shows the run under the cursor."""
    files.trace("broken", error_in=1)
    files.trace("fine")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert "fine" == app._selected

        await pilot.press("e")
        assert ["broken"] == names(app)
        assert "broken" == app._selected


async def test_search_matches_names_inputs_and_outputs(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """/ then text and enter keeps the traces where some run mentions the text."""
    files.trace("alpha")
    files.trace("beta")
    files.start("gamma", inputs={"prompt": "Find the NEEDLE here"})
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)

        await pilot.press("slash")
        assert app.query_one("#search", Input).has_focus
        await pilot.press(*"needle", "enter")
        await wait_for(pilot, lambda: ["gamma"] == names(app))  # the search runs in a worker
        assert not app.searching

        await pilot.press("slash", *"ctrl+a", "escape")
        assert ["gamma", "beta", "alpha"] == names(app)


async def test_search_keeps_the_screen_responsive_and_sees_late_traces(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A search runs in a worker: the status says so meanwhile, and traces arriving during it still match."""
    files.trace("alpha")
    files.start("gamma", inputs={"prompt": "NEEDLE one"})
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        app.search_text = "needle"
        with app.store_lock:  # hold the store: the worker cannot finish yet
            app.rebuild()
            assert app.searching
            assert "searching…" in app._status.plain
        files.start("delta", inputs={"prompt": "another needle"})
        await wait_for(pilot, lambda: not app.searching and "delta" in names(app))
        assert ["delta", "gamma"] == names(app)


async def test_help_screen_opens_and_closes(
    make_app: Callable[..., TraceViewer], files: TraceFiles
) -> None:
    """? shows the key list; escape closes it."""
    files.trace("t")
    app = make_app()
    async with app.run_test() as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_status_bar_counts_files_runs_events_and_bad_lines(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The status bar says what was read, bad lines included, each count in the singular at one."""
    files.trace("t", children=1)
    with files.path.open("ab") as f:
        f.write(b"this is not json\n")
    app = make_app()
    async with app.run_test(size=(150, 30)) as pilot:
        await loaded(pilot)
        status = str(app.query_one("#status").render())

        assert "1 file · 1 trace · 2 runs · 4 events · 1 bad line · 1 problem" in status


async def test_a_narrow_status_bar_keeps_what_is_wrong(
    tmp_path: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """At 80 columns a long path and five counters do not fit: the files, the runs and then the
    path give way, never the bad lines at the end; wide enough, everything is said again."""
    deep = tmp_path / "projects" / "assistant" / "evaluation-runs" / "traces-of-today"
    files = TraceFiles(deep)
    files.trace("t", children=1)
    with files.path.open("ab") as f:
        f.write(b"this is not json\n")
    app = make_app(directory=deep)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        status = app.query_one("#status")
        assert status.content_size.width >= len(app._status.plain), app._status.plain
        assert app._status.plain.startswith("traces-of-today  · 1 trace · 4 events · ")
        assert app._status.plain.endswith("1 bad line · 1 problem")

        await pilot.resize_terminal(250, 24)
        await pilot.pause()
        assert f"{deep}  · 1 file · 1 trace · 2 runs · 4 events · 1 bad line" in app._status.plain


async def test_q_and_ctrl_c_quit(make_app: Callable[..., TraceViewer], files: TraceFiles) -> None:
    """Both q and ctrl+c leave the app cleanly."""
    files.trace("t")
    for key in ("q", "ctrl+c"):
        app = make_app()
        async with app.run_test() as pilot:
            await loaded(pilot)
            await pilot.press(key)
            await pilot.pause()
        assert app.return_code in (0, None)
        assert not app.is_running


async def test_many_traces_are_capped_with_a_more_node(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Only the newest traces get nodes; m shows more."""
    for i in range(12):
        files.trace(f"t{i:02d}", children=0)
    app = make_app(limit=5)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert "… 7 older traces (m: show more)" == labels(app)[-1]

        await pilot.press("m")
        assert "… 2 older traces (m: show more)" == labels(app)[-1]


async def test_followed_trace_opens_and_its_children_keep_updating(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Follow opens the newest trace down to its leaves; later events still relabel them."""
    app = make_app(follow=True)
    files.trace("old", children=0)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        files.start("new")
        files.start("new.llm", "new", run_type="llm")
        await wait_for(pilot, lambda: "new.llm" in names(app))
        assert labels(app)[1].startswith("├─") or "● new.llm" in labels(app)[1]

        files.end("new.llm", trace="new", duration_ms=42.0)
        await wait_for(pilot, lambda: "✓ new.llm  llm  42 ms" in labels(app)[1])


@pytest.mark.usefixtures("no_rescan")
async def test_polling_observer_also_sees_appends(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """--poll uses watchdog's PollingObserver: appends arrive through it (the rescan is off)."""
    files.trace("a", children=0)
    app = make_app(poll=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        files.trace("b", children=0)
        await wait_for(pilot, lambda: names(app) == ["b", "a"])


async def test_the_periodic_rescan_alone_finds_appends(
    files: TraceFiles, make_app: Callable[..., TraceViewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no watcher at all (watch=False), the safety-net rescan still brings new traces."""
    monkeypatch.setattr(jsontrace_view.app, "RESCAN_INTERVAL_S", 0.2)
    files.trace("a", children=0)
    app = make_app(watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        files.trace("b", children=0)
        await wait_for(pilot, lambda: names(app) == ["b", "a"])


@pytest.mark.usefixtures("no_rescan")
async def test_empty_directory_says_it_is_waiting_then_shows_the_first_trace(
    trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """An empty directory is not an error: a note says so until a trace arrives."""
    trace_dir.mkdir()
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert labels(app)[0].startswith("No traces yet in ")

        TraceFiles(trace_dir).trace("first", children=0)
        await wait_for(pilot, lambda: ["first"] == names(app))
        await wait_for(pilot, lambda: "first" == app._selected)  # cursor and details on it


def feed(app: TraceViewer, *events: dict[str, Any]) -> None:
    """Hand events to the open app's store as its reader would, then redraw."""
    with app.store_lock:
        app.store.add_events(events)
    app.flush()


def _event(kind: str, run_id: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    """An event for feeding the store directly (no file, no reader); ids are dotted paths."""
    ts = ts_at(extra.pop("second", 0))
    trace = parent.split(".")[0] if parent is not None else run_id
    if kind == "run.start":
        return start(run_id, parent, trace, ts=ts, **extra)
    return end(run_id, trace=trace, ts=ts, **{"duration_ms": 42.0, **extra})


async def test_follow_opens_runs_whose_first_child_arrives_after_the_jump(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A followed trace (or a run in it) that gets its first child in a later tick opens too.

    The reader may read a parent's start and its child's start in different batches,
    with a flush (and the follow jump) in between: the child must still show up.
    """
    files.trace("old", children=0)
    app = make_app(follow=True, watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)

        feed(app, _event("run.start", "new", second=1))
        assert ["new", "old"] == names(app)
        feed(app, _event("run.start", "new.chain", "new", second=2))
        assert ["new", "new.chain", "old"] == names(app)
        feed(app, _event("run.start", "new.chain.llm", "new.chain", second=3))
        assert ["new", "new.chain", "new.chain.llm", "old"] == names(app)
        feed(app, _event("run.end", "new.chain.llm", second=4))
        assert "✓ new.chain.llm  chain  42 ms" in labels(app)[2]
        # The cursor is on what still runs deepest down: new.chain once its llm call ended.
        assert "new.chain" == app.query_one(RunTree).cursor_node.data  # type: ignore[union-attr]

        # What you fold stays folded: a later child does not open it again.
        await pilot.press("k", "h")
        assert ["new", "old"] == names(app)
        feed(app, _event("run.start", "new.other", "new", second=5))
        assert ["new", "old"] == names(app)
        await pilot.press("l")
        assert ["new", "new.chain", "new.chain.llm", "new.other", "old"] == names(app)


async def test_a_run_whose_local_writer_died_shows_as_interrupted(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A run without an end, written on this host by a process that is gone, is interrupted, not running."""
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    files.start("killed", pid=int(gone.stdout), host=socket.gethostname())
    files.chunk("killed", 0, "partial")
    files.start("alive")  # another host: cannot be judged, stays running
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        by_name = dict(zip(names(app), labels(app), strict=True))
        assert by_name["killed"].startswith("↯")
        assert by_name["alive"].startswith("●")


async def test_a_trace_that_starts_to_match_later_appears_under_the_search(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Under a search, a shown-nowhere trace appears once a run deep inside it gets matching text."""
    files.trace("alpha", children=0)
    app = make_app(watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        app.search_text = "needle"
        app.rebuild()
        await wait_for(pilot, lambda: not app.searching)
        assert ["No trace matches the filter (escape clears it)."] == labels(app)

        feed(app, _event("run.start", "r", second=1), _event("run.start", "r.c", "r", second=2))
        assert ["No trace matches the filter (escape clears it)."] == labels(app)
        # Only r.c changes here (its parent r is not touched), and r must now match.
        feed(app, _event("run.end", "r.c", outputs="a NEEDLE in the output", second=3))
        assert ["r", "r.c"] == names(app)  # and the match is opened, as a search's are


async def test_hidden_older_traces_are_counted_once_however_often_they_change(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Under a filter, an older matching trace that keeps changing is one hidden trace, not many."""
    for name in ("a", "b", "c"):
        files.trace(name, children=1, error_in=0)
    app = make_app(limit=2)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        assert ["c", "b"] == names(app)[:2]
        assert "… 1 older traces (m: show more)" == labels(app)[-1]

        for second in range(3):  # the hidden trace "a" changes again and again
            with app.store_lock:
                app.store.add_events([_event("run.start", f"a.late{second}", "a", second=second)])
            app.flush()
        assert "… 1 older traces (m: show more)" == labels(app)[-1]
        assert ["c", "b"] == names(app)[:2]


async def test_a_stream_with_writer_ids_is_read_undecoded_and_shown_live(
    files: TraceFiles, make_app: Callable[..., TraceViewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk lines with the writer's 36-character ids take the deferred path and still stream in.

    (Its label, a running stream's chunk count, decodes them: deferred lines cost
    nothing until something shows them.)
    """
    monkeypatch.setattr(jsontrace_view.app, "SETTLE_RUNS", 0)  # no decoding in the background
    gen = "01a20c95-05eb-78ca-9937-7a3f2070bfb0"
    files.start(gen, run_type="llm")
    for seq, word in enumerate(("Deferred ", "and ")):
        files.chunk(gen, seq, word)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert 2 == app.store.runs[gen].chunk_count

        await wait_for(pilot, lambda: "Deferred and" in detail_text(app))
        files.chunk(gen, 2, "live")
        await wait_for(pilot, lambda: "Deferred and live" in detail_text(app))
        assert "3 chunks" in labels(app)[0]


async def test_expanding_a_node_reads_runs_under_the_store_lock(
    files: TraceFiles, make_app: Callable[..., TraceViewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expanding may decode a child's chunk lines (which changes the store): only with the lock held."""
    monkeypatch.setattr(jsontrace_view.app, "SETTLE_RUNS", 0)  # leave the lines for the expansion
    root, gen = "01a20c95-05eb-78ca-9937-000000000001", "01a20c95-05eb-78ca-9937-000000000002"
    files.start(root)
    files.start(gen, root, trace=root, run_type="llm")
    for seq in range(3):
        files.chunk(gen, seq, "tok", trace=root)
    app = make_app(follow=False)  # following would open the trace itself
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        settle = app.store.settle_run
        held: list[bool] = []

        def spy(run: Any) -> None:
            held.append(app.store_lock._is_owned())  # type: ignore[attr-defined]
            settle(run)

        app.store.settle_run = spy  # type: ignore[method-assign]
        await pilot.press("right")
        await wait_for(pilot, lambda: len(labels(app)) == 2)

        assert "3 chunks" in labels(app)[1]
        assert held and all(held)


async def test_a_bad_chunk_line_is_counted_soon_after_loading_without_opening_its_run(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Deferred chunk lines are decoded while the reader is idle: the status bar counts a bad one."""
    gen = "01a20c95-05eb-78ca-9937-000000000002"
    files.start("parent")
    files.start(gen, "parent", run_type="llm")  # inside a folded trace: no label reads it
    files.chunk(gen, 0, "fine")
    with files.path.open("ab") as f:  # the writer's layout, cut short: bad JSON
        f.write(b'{"event":"run.chunk","run_id":"' + gen.encode() + b'","trace_id":"x","v":1\n')
    files.trace("newer", children=0)  # the selected trace
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "1 bad line" in app._status.plain)
        assert 0 == app.store.unsettled


def _duration_ms(label: str) -> float:
    """The duration a tree label shows, in milliseconds ("450 ms", "1.20 s")."""
    found = re.search(r"  ([\d.]+) (ms|s)(?:  |$)", label)
    assert found is not None, label
    value = float(found.group(1))
    return value if found.group(2) == "ms" else value * 1000


async def test_a_running_parent_never_shows_less_time_than_its_running_child(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """When only the child changes, the parent's label is redrawn with the same clock reading."""
    import os

    from jsontrace._host import HOST

    clock = [ts_seconds(0.1)]
    files.trace("old", children=0)
    app = make_app(watch=False, clock=lambda: clock[0])
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)

        alive = {"pid": os.getpid(), "host": HOST}
        feed(
            app,
            _event("run.start", "p", second=0, **alive),
            _event("run.start", "p.c", "p", second=0.05, **alive),
        )
        tree = app.query_one(RunTree)
        with app.store_lock:
            tree.expand_subtree(tree.nodes["p"])
        await pilot.pause()
        assert ["p", "p.c", "old"] == names(app)
        assert (100, 50) == tuple(round(_duration_ms(label)) for label in labels(app)[:2])

        clock[0] = ts_seconds(0.5)
        feed(
            app, {**events.chunk("p.c", 0, "tok", "p"), "ts": ts_at(0.4)}
        )  # only the child changes
        parent, child = (_duration_ms(label) for label in labels(app)[:2])
        assert (500, 450) == (round(parent), round(child))
