"""Screen snapshots of the main views (pytest-textual-snapshot; --snapshot-update to accept)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jsontrace_view.app import TraceViewer

from .conftest import TraceFiles, wait_for

SIZE = (130, 32)


def sample(files: TraceFiles) -> None:
    files.trace("ingest", children=2)
    files.trace("answer_question", children=3, error_in=2)
    files.start("stream", run_type="llm", inputs={"prompt": "Say hello"})
    for seq, token in enumerate(["Hello", ", ", "world"]):
        files.chunk("stream", seq, token)


@pytest.fixture
def make_app(
    make_app: Callable[..., TraceViewer], trace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., TraceViewer]:
    """The app on a relative path, so the status bar reads the same on every run."""
    monkeypatch.chdir(trace_dir.parent)
    return lambda **kwargs: make_app(directory=Path(trace_dir.name), **kwargs)


async def ready(pilot: Any) -> None:
    await wait_for(pilot, lambda: pilot.app.loaded)
    await pilot.pause()


def test_main_screen_with_an_error_selected(
    snap_compare: Any, files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The tree with a failed run's path open and its details beside it."""
    sample(files)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("down", "enter", "down", "down", "down")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_streaming_generator_detail(
    snap_compare: Any, files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A running generator: live duration (frozen clock) and its chunks joined so far."""
    sample(files)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(
    snap_compare: Any, files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """? lists every key."""
    sample(files)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
