"""jsontrace_view.widgets.waterfall: a trace's runs as bars scaled to its span."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from jsontrace.store import RunStore
from jsontrace_view.widgets.waterfall import Bar, Waterfall, bar_cells, bars_of, span_of

from ..events import chunk, end, start, ts_at


def trace_store() -> RunStore:
    """root 0-10 s; a at 0-4 s (streamed, first chunk at 1 s); b at 5-10 s, running c from 6 s."""
    store = RunStore()
    store.add_events([
        start("root", ts=ts_at(0)),
        start("a", "root", ts=ts_at(0), run_type="llm"),
        chunk("a", 0, "x", "root", ts=ts_at(1)),
        end("a", trace="root", ts=ts_at(4), duration_ms=4000.0, first_chunk_ms=1000.0),
        start("b", "root", ts=ts_at(5)),
        start("c", "b", "root", ts=ts_at(6)),
        end("b", trace="root", ts=ts_at(10), duration_ms=5000.0),
        end("root", trace="root", ts=ts_at(10), duration_ms=10_000.0),
    ])  # fmt: skip
    return store


def test_bars_follow_the_tree_and_a_running_run_has_no_end() -> None:
    """Rows are in tree order with their depth; a running run's end is None (drawn up to now)."""
    store = trace_store()
    root = store.get("root")
    assert root is not None
    started = root.started_at
    assert started is not None

    bars, left_out = bars_of(root, now=started + 12)

    assert [("root", 0), ("a", 1), ("b", 1), ("c", 2)] == [(b.run_id, b.depth) for b in bars]
    assert 0 == left_out
    assert [0.0, 0.0, 5.0, 6.0] == [b.start - started for b in bars]  # type: ignore[operator]
    assert [10.0, 4.0, 10.0] == [b.end - started for b in bars[:3]]  # type: ignore[operator]
    assert bars[3].end is None
    assert (started, started + 12) == span_of(bars, now=started + 12)  # c runs until now


def test_bars_of_a_huge_trace_stop_at_the_limit_and_count_the_rest() -> None:
    """Only the first *limit* runs become rows; the rest are counted, never drawn."""
    store = RunStore()
    store.add_events(
        [start("r", ts=ts_at(0))] + [start(f"r.{i}", "r", ts=ts_at(1)) for i in range(50)]
    )
    root = store.get("r")
    assert root is not None
    bars, left_out = bars_of(root, now=0.0, limit=10)
    assert (10, 41) == (len(bars), left_out)


def test_bar_cells_cover_fractions_of_cells() -> None:
    """A bar from 25 % to 50 % of the span over 8 cells covers cells 2 and 3 fully."""
    assert [0, 0, 1, 1, 0, 0, 0, 0] == bar_cells(2.5, 5.0, 0.0, 10.0, 8)
    # From 1.25 to 2.5 cells: three quarters of cell 1 (from its right), half of cell 2.
    assert [0, 0.75, 0.5, 0] == bar_cells(3.125, 6.25, 0.0, 10.0, 4)


def test_a_bar_shorter_than_a_cell_still_shows() -> None:
    """A run of zero length covers an eighth of a cell, also at the very end of the span."""
    assert [0, 0, 0.125, 0] == bar_cells(5.0, 5.0, 0.0, 10.0, 4)
    assert [0, 0, 0, 0.125] == bar_cells(10.0, 10.0, 0.0, 10.0, 4)
    assert [0.125] == bar_cells(3.0, 3.0, 3.0, 0.0, 1)  # a trace of no length


class WaterfallApp(App[None]):
    def __init__(self, bars: list[Bar], now: float, selected: str | None) -> None:
        super().__init__()
        self._bars, self._now, self._selected = bars, now, selected
        self.picked: list[str] = []

    def compose(self) -> ComposeResult:
        yield Waterfall(id="waterfall")

    def on_mount(self) -> None:
        self.query_one(Waterfall).show(self._bars, now=self._now, selected=self._selected)

    def on_waterfall_selected(self, message: Waterfall.Selected) -> None:
        self.picked.append(message.run_id)


def trace_app(selected: str) -> WaterfallApp:
    """The pane alone, showing :func:`trace_store`'s trace at its end (10 s), *selected* highlighted."""
    root = trace_store().get("root")
    assert root is not None and root.started_at is not None
    bars, _ = bars_of(root, now=root.started_at + 10)
    return WaterfallApp(bars, root.started_at + 10, selected)


def screen_lines(app: App[Any]) -> list[str]:
    waterfall = app.query_one(Waterfall)
    return [waterfall.render_line(y).text for y in range(waterfall.size.height)]


async def test_rows_draw_bars_at_their_place_on_the_axis() -> None:
    """At 40 columns: names, bars over 19 cells for the 10 s span (eighths at the ends), durations.

    b starts at 5 s: half of cell 9 is covered from its right (▐); c's 60 % of cell 11 too.
    """
    app = trace_app("b")
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
    assert [
        "           0           10.00 s",
        "✓ root     ███████████████████   10.00 s",
        "  ✓ a      ███████▋               4.00 s",
        "  ✓ b               ▐█████████    5.00 s",
        "    ● c               ▐███████    4.00 s",
    ] == [line.rstrip() for line in lines[:5]]


async def test_up_down_and_clicks_select_runs() -> None:
    """Keys move the highlighted row and tell the app; a click picks the row under it."""
    app = trace_app("root")
    async with app.run_test(size=(60, 12)) as pilot:
        app.query_one(Waterfall).focus()
        await pilot.press("down", "down", "up", "end")
        await pilot.click(Waterfall, offset=(3, 2))
        await pilot.pause()
    assert ["a", "b", "a", "c", "a"] == app.picked
