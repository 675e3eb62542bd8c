"""jsontrace_view.widgets.status: one line that always ends with what is wrong."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from jsontrace_view.widgets import StatusBar

STATE: dict[str, Any] = {
    "directory": "/home/me/projects/assistant/evaluation-runs/traces-of-today",
    "files": 3,
    "traces": 29,
    "runs": 100,
    "events": 1234,
    "health": "3 bad lines · 3 problems",
    "follow": "",
    "filter_text": "",
}


class Bar(App[None]):
    """The status bar alone: no timers, so only its own handlers redraw it."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")


async def shown(columns: int, **state: Any) -> tuple[str, int]:
    """What the bar says at *columns*, and the cells it has."""
    app = Bar()
    async with app.run_test(size=(columns, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.set_state(**{**STATE, **state})
        await pilot.pause()
        return bar.plain, bar.content_size.width


async def test_wide_enough_everything_is_said() -> None:
    """At 200 columns: the path and every count."""
    plain, _ = await shown(200)
    assert plain == (
        "/home/me/projects/assistant/evaluation-runs/traces-of-today  · 3 files · 29 traces"
        " · 100 runs · 1,234 events · 3 bad lines · 3 problems"
    )


async def test_at_80_columns_counts_and_then_the_path_give_way() -> None:
    """The file and run counts go first, then the path becomes the directory's name."""
    plain, width = await shown(80)
    assert plain == "traces-of-today  · 29 traces · 1,234 events · 3 bad lines · 3 problems"
    assert len(plain) <= width


async def test_a_long_filter_is_cut_before_what_is_wrong() -> None:
    """A search that fills the line is cut with an ellipsis; the health still ends it."""
    plain, width = await shown(80, follow="following", filter_text="name:t " + "x" * 80)
    assert len(plain) <= width
    assert plain.endswith("… · 3 bad lines · 3 problems"), plain
    assert plain.startswith("traces-of-today  · following  · filter: name:t xxx")


async def test_a_resize_redraws_the_line_for_the_new_width() -> None:
    """Made narrow after the state was given, the bar compacts itself (nothing else calls it)."""
    app = Bar()
    async with app.run_test(size=(200, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.set_state(**STATE)
        await pilot.pause()
        assert "3 files" in bar.plain
        await pilot.resize_terminal(80, 5)
        await pilot.pause()
        assert bar.plain.startswith("traces-of-today  · 29 traces")


async def test_narrower_than_everything_what_is_wrong_is_what_shows() -> None:
    """With a cell or none left before the health, the line is the health alone, cut to fit
    if it must be (28 columns here: " · " and the health take 27)."""
    plain, width = await shown(28)
    assert plain == "3 bad lines · 3 problems"
    plain, width = await shown(16)
    assert len(plain) <= width
    assert plain.startswith("3 bad lines")
