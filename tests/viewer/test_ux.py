"""The viewer as people use it: search, follow, sort, waterfall, take away, overview, keys."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from textual import events
from textual.geometry import Region
from textual.widgets import DataTable, Footer, Input

from jsontrace_view.app import TraceViewer
from jsontrace_view.widgets import HelpScreen, RunTree, Waterfall
from jsontrace_view.widgets.help import KEYS
from jsontrace_view.widgets.overview import OverviewScreen
from jsontrace_view.widgets.takeaway import SavePathScreen, TakeAwayScreen

from .conftest import TraceFiles, wait_for
from .test_app import detail_text, labels, loaded, names


def cursor(app: TraceViewer) -> str | None:
    node = app.query_one(RunTree).cursor_node
    return node.data if node is not None else None


async def burst(app: TraceViewer, *keys: str) -> None:
    """Send keys the way a paste or a fast typist does: all queued before the first is handled."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        character = {"slash": "/", "enter": "\r"}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, character)
        event.set_sender(app)
        driver.send_message(event)


def three_traces(files: TraceFiles) -> None:
    """fast (llm 200 ms), slow (llm 5 s, failing retriever), mid (tool 900 ms): oldest first."""
    files.start("fast", inputs={"question": "fast one"})
    files.start("fast.llm", "fast", run_type="llm", name="ChatModel")
    files.end("fast.llm", trace="fast", duration_ms=200.0)
    files.end("fast", duration_ms=250.0)
    files.start("slow", inputs={"question": "slow one"}, tags=["beta"])
    files.start("slow.ret", "slow", run_type="retriever", name="retrieve_docs")
    files.end("slow.ret", "error", trace="slow", duration_ms=30.0,
              error={"type": "TimeoutError", "message": "index down"}, outputs=None)  # fmt: skip
    files.start("slow.llm", "slow", run_type="llm", name="ChatModel")
    files.end("slow.llm", trace="slow", duration_ms=5000.0)
    files.end("slow", duration_ms=5100.0)
    files.start("mid", inputs={"question": "mid one"})
    files.start("mid.tool", "mid", run_type="tool", name="calculator")
    files.end("mid.tool", trace="mid", duration_ms=900.0)
    files.end("mid", duration_ms=950.0)


async def search_for(pilot: Any, app: TraceViewer, text: str) -> None:
    await pilot.press("slash", *text, "enter")
    await wait_for(pilot, lambda: not app.searching and app.search_text == text)
    await pilot.pause()


# -- keys reach the search box --------------------------------------------------------------


async def test_keys_typed_right_after_slash_fill_the_search_box(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """/zzzz in one burst puts zzzz in the box; /e in one burst is a search for e, not errors-only."""
    files.trace("t")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await burst(app, "slash", "z", "z", "e", "z")
        await wait_for(pilot, lambda: "zzez" == app.query_one("#search", Input).value)
        assert not app.errors_only
        assert app.query_one("#search", Input).has_focus


async def test_a_pasted_search_is_applied_with_its_enter(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """ "/type:llm⏎" arriving at once filters: nothing of it reaches the tree's key bindings."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await burst(app, "slash", *"type:tool", "enter")
        await wait_for(pilot, lambda: app.search_text == "type:tool" and not app.searching)
        await pilot.pause()
        assert ["mid", "calculator"] == names(app)


# -- the query language in the app ------------------------------------------------------------


async def test_a_search_counts_marks_and_opens_its_matches_and_the_cursor_is_on_the_first(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """type:llm: two matches in two traces, counted in the status bar, their paths open, rows marked."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await search_for(pilot, app, "type:llm")

        assert ["slow", "retrieve_docs", "ChatModel", "fast", "ChatModel"] == names(app)
        assert "2 matches in 2 traces (n/N)" in app._status.plain
        assert "slow.llm" == cursor(app)
        tree = app.query_one(RunTree)
        marked = {
            run_id for run_id, node in tree.nodes.items() if "on #4a4a00" in str(node.label.spans)
        }  # type: ignore[union-attr]
        assert {"slow.llm", "fast.llm"} == marked

        box = app.query_one("#search", Input)
        assert not box.has_class(
            "visible"
        )  # applied: the status bar shows it, the rows get the room
        await pilot.press("slash")
        assert box.has_class("visible") and "type:llm" == box.value


async def test_n_and_shift_n_go_from_match_to_match(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """n goes to the next match (wrapping around), N to the previous one; the status says which."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await search_for(pilot, app, "type:llm,tool")
        order = [cursor(app)]  # the newest trace's match first
        for _ in range(3):
            await pilot.press("n")
            order.append(cursor(app))
        assert "match 1 of 3" in app._status.plain
        await pilot.press("N")
        order.append(cursor(app))
        assert ["mid.tool", "slow.llm", "fast.llm", "mid.tool", "fast.llm"] == order


async def test_a_malformed_query_says_why_in_the_status_bar_and_changes_nothing(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """latency>fast: one line in the status bar, the box stays open to fix it, the tree unfiltered."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"latency>fast", "enter")
        await pilot.pause()

        assert "search: 'latency>fast': latency needs a duration such as" in app._status.plain
        assert app.query_one("#search", Input).has_focus
        assert ["mid", "slow", "fast"] == names(app)
        assert "" == app.search_text

        await pilot.press(*["backspace"] * 4, *"2s", "enter")  # fixed: latency>2s
        await wait_for(pilot, lambda: app.search_text == "latency>2s" and not app.searching)
        assert "search:" not in app._status.plain
        assert "slow" == names(app)[0]


async def test_at_80_columns_a_long_notice_wraps_onto_a_second_line_and_is_read_whole(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A parse error longer than the line is shown in full (two lines), not cut at the edge."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        status = app._status
        assert 1 == status.size.height  # no notice: one line
        await pilot.press("slash", *"status:eror", "enter")
        await pilot.pause()

        message = (
            "search: unknown status 'eror': statuses are running, ok, error, cancelled, interrupted"
        )
        assert message in status.plain
        lines = status.render_lines(Region(0, 0, *status.outer_size))
        shown = " ".join(" ".join(line.text.split()) for line in lines)
        assert message in shown


@pytest.mark.usefixtures("no_rescan")
async def test_the_filter_holds_for_traces_that_arrive_later(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Under type:tool a new tool trace appears (counted, marked), a new chain-only trace does not."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await search_for(pilot, app, "type:tool")
        assert "1 match in 1 trace" in app._status.plain

        files.trace("plain", children=0)
        files.start("late")
        files.start("late.tool", "late", run_type="tool", name="calculator")
        await wait_for(pilot, lambda: "late" in app.query_one(RunTree).nodes)
        await wait_for(pilot, lambda: "2 matches in 2 traces" in app._status.plain)
        assert "plain" not in app.query_one(RunTree).nodes
        assert "late.tool" in app.query_one(RunTree).highlight


async def test_errors_only_keeps_what_expand_all_opened(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """+ then e: the traces with errors stay expanded (a filter does not fold the tree)."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("plus")
        await pilot.press("e")
        assert ["slow", "retrieve_docs", "ChatModel"] == names(app)
        await pilot.press("escape")
        assert 7 == len(names(app))


# -- sorting --------------------------------------------------------------------------------


async def test_s_sorts_by_duration_then_errors_then_time_again(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """s cycles: the slowest trace first, then those with errors first, then newest first."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        roots = lambda: [n for n in names(app) if n in ("fast", "slow", "mid")]  # noqa: E731
        assert ["mid", "slow", "fast"] == roots()
        await pilot.press("s")
        assert ["slow", "mid", "fast"] == roots()
        assert 1 == app._status.plain.count("sorted by duration: slowest trace first")
        await pilot.press("s")
        assert ["slow", "mid", "fast"] == roots()  # slow has the error; then newest first
        assert 1 == app._status.plain.count("sorted by errors: traces with an error first")
        await pilot.press("s")
        assert ["mid", "slow", "fast"] == roots()
        assert 1 == app._status.plain.count("sorted by")  # the notice: back to newest first


async def test_sorted_by_duration_a_search_puts_the_slowest_match_first_and_the_cursor_on_it(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The slowest llm call: / type:llm, s: its trace is on top and the cursor on that call."""
    three_traces(files)
    files.start("long", inputs={"question": "long chain, quick llm"})
    files.start("long.llm", "long", run_type="llm", name="ChatModel")
    files.end("long.llm", trace="long", duration_ms=10.0)
    files.end("long", duration_ms=60_000.0)  # the slowest trace, but not the slowest llm call
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await search_for(pilot, app, "type:llm")
        await pilot.press("s")
        await wait_for(pilot, lambda: not app.searching)
        await pilot.pause()
        assert "slow" == names(app)[0]
        assert "slow.llm" == cursor(app)
        assert 1 == app._status.plain.count("sorted by duration: slowest match first")


# -- follow ---------------------------------------------------------------------------------


async def test_follow_is_on_at_start_when_the_newest_trace_runs_and_shows_the_stream(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Opened on a running app: following, the cursor on the streaming llm call, its text live."""
    files.trace("old")
    files.start("agent")
    files.start("agent.chain", "agent")
    files.start("agent.chain.llm", "agent.chain", trace="agent", run_type="llm")
    files.chunk("agent.chain.llm", 0, "Hel", trace="agent")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.follow
        await wait_for(pilot, lambda: "agent.chain.llm" == cursor(app))
        await wait_for(pilot, lambda: "Hel" in detail_text(app))

        files.chunk("agent.chain.llm", 1, "lo, world", trace="agent")
        await wait_for(pilot, lambda: "Hello, world" in detail_text(app))
        assert "following" in app._status.plain


async def test_follow_is_off_at_start_when_everything_has_finished(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A directory of finished traces opens without following."""
    files.trace("done")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert not app.follow


async def test_opened_before_the_app_starts_it_follows_the_first_stream(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """On an empty directory the viewer follows: the app's first streaming call is shown live."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.follow
        assert "following" in app._status.plain

        files.start("agent")
        files.start("agent.llm", "agent", run_type="llm")
        files.chunk("agent.llm", 0, "Bonjour", trace="agent")
        await wait_for(pilot, lambda: "agent.llm" == cursor(app))
        await wait_for(pilot, lambda: "Bonjour" in detail_text(app))


@pytest.mark.usefixtures("no_rescan")
async def test_following_moves_to_each_new_streaming_call_until_you_move(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A new llm call that starts streaming gets the cursor; a key of yours pauses that; f resumes."""
    files.start("agent")
    files.start("agent.one", "agent", run_type="llm")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "agent.one" == cursor(app))

        files.end("agent.one", trace="agent")
        files.start("agent.two", "agent", run_type="llm")
        await wait_for(pilot, lambda: "agent.two" == cursor(app))

        await pilot.press("k")  # your move
        assert "follow paused" in app._status.plain
        files.end("agent.two", trace="agent")
        files.start("agent.three", "agent", run_type="llm")
        await wait_for(pilot, lambda: "agent.three" in app.query_one(RunTree).nodes)
        await pilot.pause(0.2)
        assert "agent.one" == cursor(app)

        await pilot.press("f")
        await wait_for(pilot, lambda: "agent.three" == cursor(app))
        assert "following" in app._status.plain and "paused" not in app._status.plain


# -- the waterfall ----------------------------------------------------------------------------


async def test_the_waterfall_shows_the_selected_trace_and_picks_runs(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """It draws the trace of the selected run; a click on a row selects that run in the tree; w hides it."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        waterfall = app.query_one(Waterfall)
        assert ["mid", "mid.tool"] == [bar.run_id for bar in waterfall.bars]

        await pilot.press("down")  # slow
        assert ["slow", "slow.ret", "slow.llm"] == [bar.run_id for bar in waterfall.bars]
        await pilot.click(Waterfall, offset=(4, 3))  # the third row: slow.llm
        await pilot.pause()
        assert "slow.llm" == cursor(app)
        assert "slow.llm" == waterfall.selected

        await pilot.press("w")
        assert not waterfall.display
        await pilot.press("w")
        assert waterfall.display and "slow" == waterfall.bars[0].run_id


async def test_a_running_runs_bar_grows_with_the_clock(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A running run's bar ends at now: as the app's clock moves on, it is drawn longer."""
    files.start("agent")
    files.start("agent.llm", "agent", run_type="llm")
    files.end("agent.llm", trace="agent", duration_ms=100.0)
    files.start("agent.tool", "agent", run_type="tool")  # still running
    now = [0.0]
    app = make_app(clock=lambda: now[0], follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        waterfall = app.query_one(Waterfall)
        start = waterfall.bars[0].start
        assert start is not None

        def drawn(run_id: str) -> int:
            row = 1 + [bar.run_id for bar in waterfall.bars].index(run_id)
            return sum(c in "█▉▊▋▌▍▎▏" for c in waterfall.render_line(row).text)

        now[0] = start + 1
        await pilot.pause(0.5)
        llm_at_1s = drawn("agent.llm")
        now[0] = start + 10
        await wait_for(pilot, lambda: drawn("agent.llm") < llm_at_1s)  # the span grew
        assert drawn("agent.tool") > drawn("agent.llm") * 5


async def test_a_running_parent_never_reads_shorter_than_the_child_that_just_streamed(
    files: TraceFiles, make_app: Callable[..., TraceViewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk redraws its run's row and its running ancestors' rows at one clock time."""
    monkeypatch.setattr(TraceViewer, "_tick_live", lambda self: None)  # only what a flush draws
    files.start("agent")  # at 06:49:00.000
    files.start("agent.llm", "agent", run_type="llm")
    begun = datetime(2026, 11, 24, 6, 49, tzinfo=timezone.utc).timestamp()
    now = [begun + 2]
    app = make_app(clock=lambda: now[0], follow=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("plus")
        tree = app.query_one(RunTree)
        row = lambda run_id: tree.nodes[run_id].label.plain  # noqa: E731
        assert "  2.00 s  " in row("agent")

        now[0] = begun + 7
        files.chunk("agent.llm", 0, "Hi", trace="agent")
        await wait_for(pilot, lambda: "1 chunk" in row("agent.llm"))
        assert "  7.00 s  " in row("agent.llm")
        assert "  7.00 s  " in row("agent")


# -- take away --------------------------------------------------------------------------------


@contextmanager
def terminal_writes(app: TraceViewer) -> Iterator[list[str]]:
    """What the app writes to its terminal (where OSC 52 asks for the clipboard)."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    write = driver.write
    driver.write = lambda data: (written.append(data), write(data))[1]  # type: ignore[method-assign]
    yield written
    driver.write = write  # type: ignore[method-assign]


async def test_c_copies_a_value_or_an_id_to_the_clipboard_with_osc_52(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """c then a letter: i the inputs, r the run id; the terminal gets OSC 52, the status says so."""
    import base64

    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        with terminal_writes(app) as written:
            await pilot.press("c")
            assert isinstance(app.screen, TakeAwayScreen)
            await pilot.press("i")
            await pilot.pause()
            assert '{\n  "question": "mid one"\n}' == app.clipboard
            osc = "\x1b]52;c;" + base64.b64encode(app.clipboard.encode()).decode() + "\a"
            assert osc in written
            assert "copied the inputs of mid to the clipboard" in app._status.plain

            await pilot.press("c", "r")
            await pilot.pause()
            assert "mid" == app.clipboard


async def test_the_whole_trace_as_json_lines_is_what_the_files_hold(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """c j copies every event of the selected run's trace, one JSON line each (other traces left out)."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("down", "c", "j")  # on the slow trace
        await pilot.pause()
        copied = [orjson.loads(line) for line in app.clipboard.splitlines()]
    in_files = [orjson.loads(line) for line in files.path.read_bytes().splitlines()]
    expected = [e for e in in_files if e["trace_id"] == "slow"]
    assert sorted(map(orjson.dumps, expected)) == sorted(map(orjson.dumps, copied))


async def test_x_saves_the_trace_to_a_new_file_and_never_overwrites(
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """x asks where (a name in the current directory by default), writes the trace's lines there; an existing file is left alone."""
    three_traces(files)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, SavePathScreen)
        assert str(out / "trace-mid.jsonl") == app.screen.query_one(Input).value
        await pilot.press("enter")
        await pilot.pause()
        assert (
            f"saved the trace of mid as JSON lines to {out / 'trace-mid.jsonl'}"
            in app._status.plain
        )
        saved = [orjson.loads(line) for line in (out / "trace-mid.jsonl").read_bytes().splitlines()]
        assert {"mid", "mid.tool"} == {event["run_id"] for event in saved}
        assert 4 == len(saved)

        (out / "taken.jsonl").write_text("mine\n")
        await pilot.press("c")
        await pilot.press("down", "down", "down", "s")  # the fourth item: trace id -> saved as text
        screen = app.screen
        assert isinstance(screen, SavePathScreen)
        assert (
            str(out / "trace-id-mid.txt") == screen.query_one(Input).value
        )  # not the trace's name
        screen.query_one(Input).value = "taken.jsonl"
        await pilot.press("enter")
        await pilot.pause()
        assert "taken.jsonl exists: nothing written" in app._status.plain
        assert "mine\n" == (out / "taken.jsonl").read_text()


async def test_e_in_the_menu_opens_the_value_in_the_editor_with_the_app_suspended(
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The value goes to $EDITOR in a file of its own, while the app has handed the terminal over."""
    three_traces(files)
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import shutil, sys\nshutil.copy(sys.argv[1], {str(seen)!r})\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    app = make_app()
    suspended: list[bool] = []

    @contextmanager
    def suspend() -> Iterator[None]:  # the headless test driver cannot suspend
        suspended.append(True)
        yield

    monkeypatch.setattr(app, "suspend", suspend)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await pilot.press("down", "e")  # outputs
        await pilot.pause()
    assert [True] == suspended
    assert '{\n  "answer": "done mid"\n}' == seen.read_text()


async def test_opening_without_suspend_support_says_so(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Where the terminal cannot be handed over (the test driver), the status bar says to copy instead."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("c", "e")
        await pilot.pause()
        assert "cannot hand over to an editor" in app._status.plain


# -- the overview -----------------------------------------------------------------------------


def table_rows(screen: OverviewScreen) -> list[list[str]]:
    table: DataTable[Any] = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_o_shows_per_name_statistics_of_everything_or_of_the_matches(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The overview has a row per name and type; under a search only the matching runs count."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        await wait_for(pilot, lambda: bool(table_rows(screen)))
        rows = table_rows(screen)
        assert ["ChatModel", "llm", "2", "0%", "2.60 s", "4.76 s", "5.00 s", "–", "–"] == rows[0]
        assert ["retrieve_docs", "retriever", "1", "100%"] == rows[-1][:4]
        await pilot.press("escape")

        await search_for(pilot, app, "type:llm")
        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        await wait_for(pilot, lambda: bool(table_rows(screen)))
        assert [["ChatModel", "llm"]] == [row[:2] for row in table_rows(screen)]


# -- rows, keys, footer -------------------------------------------------------------------------


async def test_trace_rows_say_when_they_started_and_what_they_were_asked(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A trace's row has its start time and a preview of its inputs; child rows their preview."""
    three_traces(files)
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        assert labels(app)[0].startswith("✓ Nov 24 06:49  mid  chain  950 ms  mid one")
        assert "calculator  tool  900 ms  about mid.tool" in labels(app)[1]


async def test_a_young_trace_shows_its_age_and_the_age_moves_on(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Under an hour old, a trace's row says how long ago it started, and that is kept up to date."""
    files.trace("t", children=0)
    app = make_app(clock=lambda: now[0])
    now = [0.0]
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        start = app.store.get("t").started_at  # type: ignore[union-attr]
        assert start is not None
        now[0] = start + 5
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓   5s ago  t"))
        now[0] = start + 125
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓   2m ago  t"))
        now[0] = start + 3605  # past the hour: the clock time, not a frozen "59m ago"
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓ 06:49:00  t"))


async def test_an_idle_screen_redraws_a_row_only_when_its_age_text_changes(
    files: TraceFiles, make_app: Callable[..., TraceViewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ticks within the same minute of a trace's age redraw no row; the next minute redraws it."""
    files.trace("t", children=0)
    now = [0.0]
    app = make_app(clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        start = app.store.get("t").started_at  # type: ignore[union-attr]
        assert start is not None
        now[0] = start + 125
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓   2m ago  t"))
        tree = app.query_one(RunTree)
        redrawn: list[list[str]] = []
        refresh = tree.refresh_runs
        monkeypatch.setattr(
            tree,
            "refresh_runs",
            lambda runs: (redrawn.append([r.run_id for r in runs]), refresh(runs)),
        )
        now[0] = start + 150
        await pilot.pause(2.5)  # two ticks or more
        assert [] == [ids for ids in redrawn if ids]
        now[0] = start + 185
        await wait_for(pilot, lambda: labels(app)[0].startswith("✓   3m ago  t"))
        assert ["t"] in redrawn


def test_help_lists_every_key_the_app_binds() -> None:
    """Each key of the app's bindings is in the help screen's list (and tab, m, the 500 window)."""
    listed = " ".join(keys for keys, _ in KEYS).replace(",", " ")
    symbols = {"question_mark": "?", "slash": "/", "plus": "+", "minus": "-", "ctrl+c": "ctrl+c"}
    for binding in TraceViewer.BINDINGS:
        key = binding.key  # type: ignore[union-attr]
        assert symbols.get(key, key) in listed.split(), key
    assert "tab" in listed
    assert any("500" in what for _, what in KEYS)


def test_the_readme_key_table_lists_every_key_the_app_binds() -> None:
    """The README's table of keys (section 'The viewer') names each binding, tab and m too."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## The viewer") :]
    table = section[section.index("| key |") :].split("\n\n", 1)[0]
    listed = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        listed.update(first.replace("`", " ").replace(",", " ").split())
    symbols = {"question_mark": "?", "slash": "/", "plus": "+", "minus": "-"}
    for binding in TraceViewer.BINDINGS:
        key = binding.key  # type: ignore[union-attr]
        assert symbols.get(key, key) in listed, key
    assert {"tab", "m", "enter", "escape"} <= listed


async def test_the_footer_keeps_v_and_r_at_80_columns(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """At 80 columns the footer shows every key it lists, v (full values) and r (raw events) among them."""
    files.trace("t")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        keys: list[Any] = list(app.query_one(Footer).query("FooterKey"))
        # A key's text (" v Page", its padding on the left) must end inside the screen.
        shown = [
            k.key_display
            for k in keys
            if k.region.x + len(f" {k.key_display} {k.description}") <= 80
        ]
        assert ["?", "/", "f", "v", "r", "c", "w", "o", "q"] == shown


async def test_question_mark_opens_help_with_the_search_language(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """? shows the keys and the query language in one screen."""
    files.trace("t")
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = app.export_screenshot().replace("&#160;", " ")
        assert "status:error" in text and "latency&gt;2s" in text and "age&lt;1h" in text


@pytest.mark.usefixtures("no_rescan")
async def test_the_waterfall_redraws_when_a_run_of_its_trace_ends(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A bar drawn as running is drawn as finished once its end arrives, also when the cursor is elsewhere in the trace."""
    files.start("agent")
    files.start("agent.llm", "agent", run_type="llm")
    app = make_app(follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        waterfall = app.query_one(Waterfall)
        assert ["running", "running"] == [bar.status for bar in waterfall.bars]

        files.end("agent.llm", trace="agent")
        await wait_for(pilot, lambda: ["running", "ok"] == [bar.status for bar in waterfall.bars])
        files.end("agent")
        await wait_for(pilot, lambda: ["ok", "ok"] == [bar.status for bar in waterfall.bars])


@pytest.mark.usefixtures("no_rescan")
async def test_following_goes_on_from_trace_to_trace_and_folds_the_last_one(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A new running trace takes the cursor to its streaming call; the one followed before folds; nothing pauses."""
    files.start("first")
    files.start("first.llm", "first", run_type="llm")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "first.llm" == cursor(app))
        for name in ("second", "third"):
            files.start(name)
            files.start(f"{name}.llm", name, run_type="llm")
            await wait_for(pilot, lambda n=name: f"{n}.llm" == cursor(app))  # type: ignore[misc]
        await pilot.pause(0.3)
        assert "following" in app._status.plain and "paused" not in app._status.plain
        assert ["third", "third.llm", "second", "first"] == names(app)
