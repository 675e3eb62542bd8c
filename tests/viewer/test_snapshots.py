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


def agent_trace(files: TraceFiles, *, running: bool = False) -> None:
    """A realistic trace (seconds after 07:00:00): plan, two tools side by side, a streamed answer.

    With *running*, the answer is still streaming (no ends for it and the root).
    """
    from ..events import chunk, end, start, ts_at

    def at(second: float) -> str:
        return ts_at(second)

    ask = {"question": "What is the capital of France, and how big is it?"}
    files.write(
        start("old", ts=at(0), inputs={"question": "Summarise our refund policy"}, name="session"),
        end("old", ts=at(1.5), duration_ms=1500.0, outputs="Refunds within 30 days."),
        start("a", ts=at(2), name="answer_question", inputs=ask, tags=["beta"]),
        start("a.plan", "a", ts=at(2.1), name="plan", run_type="llm", inputs={"messages": [
            {"role": "user", "content": "Plan: " + ask["question"]}]}),
        end("a.plan", trace="a", ts=at(2.9), duration_ms=800.0, model="gpt-4o-mini",
            usage={"input_tokens": 29, "output_tokens": 16, "total_tokens": 45}, outputs="search, then answer"),
        start("a.web", "a", ts=at(2.95), name="web_search", run_type="tool", inputs={"q": "capital of France"}),
        start("a.kb", "a", ts=at(3.0), name="retrieve", run_type="retriever", inputs={"query": "France"}),
        end("a.kb", trace="a", ts=at(3.4), duration_ms=400.0, outputs=["Paris is the capital."]),
        end("a.web", trace="a", ts=at(3.9), duration_ms=950.0, outputs=["Paris: 2.1 million"]),
        start("a.llm", "a", ts=at(4.0), name="stream_answer", run_type="llm", inputs={"messages": [
            {"role": "user", "content": ask["question"]}]}),
        chunk("a.llm", 0, "Paris is the capital", "a", ts=at(4.7)),
        chunk("a.llm", 1, " of France, with about", "a", ts=at(5.5)),
    )  # fmt: skip
    if running:
        return
    files.write(
        chunk("a.llm", 2, " 2.1 million people.", "a", ts=at(6.4)),
        end("a.llm", trace="a", ts=at(6.5), duration_ms=2500.0, first_chunk_ms=700.0, chunk_count=3,
            model="gpt-4o", usage={"input_tokens": 88, "output_tokens": 14, "total_tokens": 102},
            outputs="Paris is the capital of France, with about 2.1 million people."),
        end("a", ts=at(6.6), duration_ms=4600.0, outputs={"answer": "Paris, about 2.1 million."}),
    )  # fmt: skip


#: The app's clock in the snapshots below: 07:00:12, seconds after the traces above.
AFTER = 1_795_503_612.0  # 2026-11-24T07:00:12Z


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80", "160"])
def test_rows_and_the_waterfall_of_a_finished_trace(
    snap_compare: Any,
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    size: tuple[int, int],
) -> None:
    """Trace rows with their age and question; the waterfall of the trace with the streamed answer selected."""
    agent_trace(files)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("enter", *["down"] * 4)  # answer_question, then its stream_answer
        await pilot.pause(0.2)

    app = make_app(clock=lambda: AFTER)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80", "160"])
def test_a_live_trace_is_followed_to_its_streaming_call(
    snap_compare: Any,
    files: TraceFiles,
    make_app: Callable[..., TraceViewer],
    size: tuple[int, int],
) -> None:
    """Opened while it streams: following, the cursor on the llm call, its text so far, its bar up to now."""
    agent_trace(files, running=True)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await wait_for(pilot, lambda: pilot.app._selected == "a.llm")
        await pilot.pause(0.2)

    app = make_app(clock=lambda: AFTER - 6)  # 07:00:06, two seconds into the answer
    assert snap_compare(app, terminal_size=size, run_before=run_before)
