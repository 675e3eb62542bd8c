"""Hostile strings from logs never reach the terminal raw, in --print or in the app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from jsontrace_view.app import TraceViewer

from .conftest import TraceFiles, wait_for

ROOT = Path(__file__).parent.parent.parent

HOSTILE = (
    "[bold]x[/b] [link=https://evil.example]click[/link] :smile: "
    "\x1b[31mred\x1b[0m \x1b]52;c;aGVsbG8=\x07 \x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\ "
    "\x9b31m \x1bc \u202eevil\u202c \u2066iso\u2069 nul\x00 del\x7f"
)
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def write_hostile(files: TraceFiles) -> None:
    files.start(
        "h",
        name=HOSTILE,
        run_type=HOSTILE,
        inputs={HOSTILE: HOSTILE},
        tags=[HOSTILE],
        metadata={HOSTILE: HOSTILE},
    )
    files.chunk("h", 0, HOSTILE)
    files.start("h.1", "h", name=HOSTILE)
    files.end(
        "h.1", "error", trace="h", error={"type": HOSTILE, "message": HOSTILE, "traceback": HOSTILE}
    )
    files.end("h", outputs={HOSTILE: [HOSTILE]}, trace="h", chunk_count=1)


def test_print_escapes_controls_and_keeps_markup_literal(
    files: TraceFiles, trace_dir: Path
) -> None:
    """No ESC, C1 control or bidi override from data in --print; markup shows as typed."""
    write_hostile(files)
    result = subprocess.run(
        [sys.executable, "-m", "jsontrace_view", str(trace_dir), "--print"],
        capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    out = result.stdout.decode()

    assert 0 == result.returncode
    assert None is FORBIDDEN.search(out.replace("\n", ""))
    assert "[bold]x[/b] [link=https://evil.example]click[/link] :smile:" in out
    assert "\\x1b]52;c;aGVsbG8=\\x07" in out
    assert "\\u202eevil" in out


async def test_app_shows_hostile_strings_literally_and_escaped(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The rendered screen (tree, detail, status) has no raw escapes and literal markup."""
    write_hostile(files)
    app = make_app()
    async with app.run_test(size=(200, 80)) as pilot:  # the waterfall's pane takes rows too
        await wait_for(pilot, lambda: app.loaded)
        await pilot.press("enter")
        await pilot.pause(0.2)
        root_screen = app.export_screenshot()  # the root's inputs, outputs, metadata, tags
        await pilot.press("down", "r")
        await pilot.pause(0.2)
        screen = app.export_screenshot()  # the failed child's error and raw events

    # export_screenshot() renders what the terminal would get, as SVG text.
    root_text = root_screen.replace("&#160;", " ")
    assert None is FORBIDDEN.search(root_text.replace("\n", ""))
    assert "Metadata" in root_text and "Outputs" in root_text
    assert root_text.count("\\x1b]52;c;aGVsbG8=\\x07") >= 3  # inputs, outputs, metadata
    text = screen.replace("&#160;", " ")
    assert None is FORBIDDEN.search(text.replace("\n", ""))
    assert "[bold]x[/b]" in text.replace("&#91;", "[").replace("&#93;", "]")
    assert "\\x1b]52;c;aGVsbG8=\\x07" in text


async def test_app_shows_a_hostile_file_name_escaped(
    trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """A file named to clear the screen shows escaped in the detail pane's files row, never raw."""
    files = TraceFiles(trace_dir, name="trace-x\x1b[2Jx\u202e.jsonl")
    files.trace("t", children=0)
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        await pilot.pause(0.2)
        text = app.export_screenshot().replace("&#160;", " ")

    assert None is FORBIDDEN.search(text.replace("\n", ""))
    assert "trace-x\\x1b[2Jx\\u202e.jsonl" in text.replace("&#91;", "[").replace("&#93;", "]")


async def test_overview_and_take_away_menu_show_hostile_names_escaped(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The overview table and the take-away menu's title draw names from files literally, escaped."""
    write_hostile(files)
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        await pilot.press("o")
        await pilot.pause(0.5)
        overview = app.export_screenshot().replace("&#160;", " ")
        await pilot.press("escape", "c")
        await pilot.pause(0.2)
        menu = app.export_screenshot().replace("&#160;", " ")

    for shot in (overview, menu):
        assert None is FORBIDDEN.search(shot.replace("\n", ""))
        assert "\\x1b[31mred" in shot
