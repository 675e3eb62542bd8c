"""Values of any size: the detail pane shows a screenful, the pager (v) a page at a time."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from jsontrace_view.app import TraceViewer
from jsontrace_view.widgets import PagerScreen

from .conftest import TraceFiles, wait_for

HUGE = 5_000_000  # characters: enough to show a widget holding all of it, small enough for CI


def shown_text(widget: Static, width: int = 120) -> str:
    """What a Static renders, as plain text."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def loaded(pilot: Any) -> None:
    await wait_for(pilot, lambda: pilot.app.loaded)
    await pilot.pause()


async def test_a_huge_input_shows_a_screenful_and_v_pages_through_it(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A multi-megabyte input (written by another tool): the pane and the pager hold a page, not all of it."""
    files.start("big", inputs={"prompt": "A" + "x" * HUGE + "Z"})
    files.end("big", outputs="done")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        body = app.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "Inputs" in shown_text(body))
        pane = shown_text(body)
        assert len(pane) < 20_000
        assert "more (v pages through all of it)" in pane

        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        pager = app.screen
        assert isinstance(pager, PagerScreen)
        await pilot.pause(0.1)
        page = pager.page
        assert 0 < len(page) <= 120 * 40
        assert page.startswith("== Inputs ==")
        assert len(shown_text(pager._body)) < 20_000

        await pilot.press("space")
        assert pager.start == len(page)
        await pilot.press("G")
        assert pager.page.endswith('Z"\n}\n\n== Outputs ==\ndone')
        assert len(pager.page) <= 120 * 40
        await pilot.press("g")
        assert pager.page == page
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PagerScreen))


@pytest.mark.parametrize("columns", [40, 80, 160])
async def test_the_pager_header_always_says_where_you_are(
    columns: int, files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """At 80 columns the key hints give way and the heading is shortened, at 40 the heading
    goes, so the position in the value shows whole; wide enough, the hints are back."""
    files.start("a-run-with-a-long-descriptive-name", inputs={"prompt": "x" * 100_000})
    files.end("a-run-with-a-long-descriptive-name", outputs="done")
    app = make_app()
    async with app.run_test(size=(columns, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        await pilot.pause(0.1)
        pager = app.screen
        assert isinstance(pager, PagerScreen)
        header = pager._header
        text = shown_text(header, width=1000).strip()
        total = f"{len(pager.text):,}"
        assert re.search(rf"characters 1–[0-9,]+ of {total} \(\d+%\)$", text.split("  ·")[0])
        assert len(text) <= header.content_size.width, text
        assert ("escape closes" in text) == (columns == 160), text
        assert ("a-run-with" in text) == (columns > 40), text

        await pilot.press("G")  # the last page: bigger numbers, as long as they get
        await pilot.pause()
        text = shown_text(header, width=1000).strip()
        assert re.search(rf"[0-9,]+–{total} of {total} \(100%\)", text), text
        assert len(text) <= header.content_size.width, text


async def test_the_raw_view_shows_a_bounded_prefix_of_many_lines(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """r on a run with thousands of chunks shows a screenful of its lines and says how many more."""
    files.start("stream", run_type="llm")
    for seq in range(3000):
        files.chunk("stream", seq, f"token{seq} ")
    files.end("stream", outputs="…", chunk_count=3000)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        body = app.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "more lines" in shown_text(body))

        text = shown_text(body)
        assert "… 2,962 more lines (v pages through all of it)" in text
        assert len(text) < 40_000
