"""The waterfall: when each run of the selected trace started and how long it took, as bars.

The pane is fed plain :class:`Bar` rows (:func:`bars_of` makes them from a
trace under the store lock), so drawing never touches the store. Bars are
scaled to the trace's span, drawn in eighths of a cell, coloured by status; a
streaming run's bar is dim until its first chunk and bright after it, so the
wait for the first token shows; a running run's bar ends at *now* and grows
with each redraw. Up and down (or a click) move the selection, which the app
mirrors in the tree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jsontrace.render import STATUS_SYMBOLS, format_duration, printable
from jsontrace.store import RUNNING, RunRecord

from .._text import STATUS_STYLES

__all__ = ["Bar", "Waterfall", "bar_cells", "bars_of"]

#: Runs drawn at most per trace (a note says how many more there are).
MAX_BARS = 2000
#: Left-aligned eighth blocks: _EIGHTHS[n] fills n/8 of a cell from the left.
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_DURATION_WIDTH = 9


@dataclass(frozen=True)
class Bar:
    """One run's row: where it sits in the tree and when it ran (epoch seconds)."""

    run_id: str
    depth: int
    name: str
    status: str
    start: float | None
    end: float | None  # None: still running (drawn up to now)
    first_chunk_ms: float | None = None
    duration_ms: float | None = None


def bars_of(root: RunRecord, now: float, limit: int = MAX_BARS) -> tuple[list[Bar], int]:
    """The rows of *root*'s trace in tree order (at most *limit*), and how many were left out."""
    bars: list[Bar] = []
    left_out = 0
    stack: list[tuple[RunRecord, int]] = [(root, 0)]
    while stack:
        run, depth = stack.pop()
        if len(bars) >= limit:
            left_out += 1
            stack.extend((child, depth + 1) for child in run.children)
            continue
        start = run.started_at
        duration = run.duration_ms(now)
        running = run.status == RUNNING
        end = None if running or start is None or duration is None else start + duration / 1000
        bars.append(
            Bar(run.run_id, depth, run.name, run.status, start, end, run.first_chunk_ms, duration)
        )
        stack.extend((child, depth + 1) for child in reversed(run.sorted_children()))
    return bars, left_out


def span_of(bars: list[Bar], now: float) -> tuple[float, float] | None:
    """The trace's time span: the first start to the last end (now, while anything runs)."""
    starts = [bar.start for bar in bars if bar.start is not None]
    if not starts:
        return None
    ends = [now if bar.end is None else bar.end for bar in bars if bar.start is not None]
    first, last = min(starts), max(ends)
    return first, max(last, first)


def bar_cells(start: float, end: float, origin: float, span: float, width: int) -> list[float]:
    """How much of each of *width* cells a bar from *start* to *end* covers (0 to 1 each).

    A bar shorter than a cell still covers an eighth of one, so every run that
    has a start stays visible.
    """
    if width <= 0:
        return []
    scale = width / span if span > 0 else 0.0
    x0 = min(max((start - origin) * scale, 0.0), width)
    x1 = min(max((end - origin) * scale, x0), width)
    if x1 - x0 < 1 / 8:
        x0 = min(x0, width - 1 / 8)
        x1 = x0 + 1 / 8
    cells = [0.0] * width
    for cell in range(int(x0), min(width, math.ceil(x1))):
        cells[cell] = max(0.0, min(cell + 1, x1) - max(cell, x0))
    return cells


def _block(cover: float, at_start: bool) -> str:
    """The character for a cell this much covered.

    The eighth blocks fill from the left, which is right for a bar's end; a
    bar's first cell is covered from the right, where only a half (▐) and an
    eighth (▕) block exist.
    """
    eighths = round(cover * 8)
    if eighths >= 8 or (at_start and eighths >= 6):
        return "█"
    if at_start:
        return "▐" if eighths >= 2 else "▕"
    return _EIGHTHS[max(eighths, 1 if cover > 0 else 0)]


class Waterfall(ScrollView, can_focus=True):
    """A scrolling pane of bars, one line per run, with a time axis on top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
    ]

    DEFAULT_CSS = """
    Waterfall {
        height: 12;
    }
    """

    class Selected(Message):
        """The user picked a run in the waterfall."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bars: list[Bar] = []
        self.left_out = 0
        self.selected: str | None = None
        self.now = 0.0
        self._span: tuple[float, float] | None = None

    # -- feeding ------------------------------------------------------------------

    def show(self, bars: list[Bar], *, now: float, selected: str | None, left_out: int = 0) -> None:
        """Draw these rows (a trace's, from :func:`bars_of`); *selected* is highlighted and kept in view."""
        self.bars = bars
        self.left_out = left_out
        self.now = now
        self._span = span_of(bars, now)
        # Text, never a str: Textual reads a str title as markup, and names come from files.
        if bars:
            total = format_duration((self._span[1] - self._span[0]) * 1000) if self._span else "?"
            self.border_title = Text(f"waterfall · {printable(bars[0].name)} · {total}")
        else:
            self.border_title = Text("waterfall")
        self.virtual_size = Size(0, len(bars) + 1 + bool(left_out))
        self.select(selected)
        self.refresh()

    def select(self, run_id: str | None) -> None:
        """Highlight one run's row and scroll it into view."""
        self.selected = run_id
        index = self._index(run_id)
        if index is not None:
            # Line 0 is the axis, always drawn on top: the row is at index + 1.
            self.scroll_to_region(Region(0, index, 1, 2), animate=False, force=True, immediate=True)
        self.refresh()

    def _index(self, run_id: str | None) -> int | None:
        return next((i for i, bar in enumerate(self.bars) if bar.run_id == run_id), None)

    # -- keys and clicks --------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if not self.bars:
            return
        index = self._index(self.selected)
        index = 0 if index is None else max(0, min(len(self.bars) - 1, index + step))
        self.select(self.bars[index].run_id)
        self.post_message(self.Selected(self.bars[index].run_id))

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + self.scroll_offset.y
        if event.y >= 1 and 0 <= row < len(self.bars):
            self.select(self.bars[row].run_id)
            self.post_message(self.Selected(self.bars[row].run_id))

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width  # without the scrollbar
        base = self.rich_style
        if y == 0:
            text = self._axis(width)
        else:
            row = y - 1 + self.scroll_offset.y
            if row < len(self.bars):
                text = self._row(self.bars[row], width)
            elif row == len(self.bars) and self.left_out:
                text = Text(f"… {self.left_out:,} more runs not drawn", style="italic dim")
            elif not self.bars and row == 0:
                text = Text("No trace selected.", style="dim")
            else:
                text = Text()
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, base), text.cell_len).crop_extend(0, width, base)

    def _columns(self, width: int) -> tuple[int, int]:
        """Widths of the label and bar columns (the duration column is fixed)."""
        longest = max((2 * bar.depth + 2 + len(bar.name) for bar in self.bars), default=10)
        label = max(10, min(longest, width * 2 // 5, 48))
        return label, max(1, width - label - _DURATION_WIDTH - 2)

    def _axis(self, width: int) -> Text:
        label, bar_width = self._columns(width)
        text = Text(" " * (label + 1), style="dim", no_wrap=True, end="")
        if self._span is None:
            return text
        total_ms = (self._span[1] - self._span[0]) * 1000
        ticks = [" "] * bar_width
        marks = [(0, "0")]
        if bar_width >= 24:
            marks.append((bar_width // 2, format_duration(total_ms / 2)))
        end_mark = format_duration(total_ms) or "0"
        marks.append((max(0, bar_width - len(end_mark)), end_mark))
        for at, mark in marks:
            for i, char in enumerate(mark):
                if 0 <= at + i < bar_width:
                    ticks[at + i] = char
        text.append("".join(ticks), style="dim")
        return text

    def _row(self, bar: Bar, width: int) -> Text:
        label_width, bar_width = self._columns(width)
        selected = bar.run_id == self.selected
        colour = STATUS_STYLES[bar.status].replace("bold ", "")
        indent = "  " * min(bar.depth, label_width // 4)
        room = max(1, label_width - len(indent) - 2)
        name = printable(bar.name)
        if len(name) > room:
            name = name[: room - 1] + "…"
        text = Text(no_wrap=True, end="")
        line_style = "reverse" if selected else ""
        text.append(indent, line_style)
        text.append(STATUS_SYMBOLS[bar.status], f"{colour} {line_style}".strip())
        text.append(f" {name}".ljust(label_width - len(indent) - 1), line_style)
        text.append(" ")
        text.append_text(self._bar(bar, bar_width, colour))
        duration = format_duration(bar.duration_ms)
        text.append(" ")
        text.append(
            duration.rjust(_DURATION_WIDTH), style=colour if bar.status == RUNNING else "cyan"
        )
        return text

    def _bar(self, bar: Bar, width: int, colour: str) -> Text:
        text = Text(no_wrap=True, end="")
        if self._span is None or bar.start is None:
            return text.append(" " * width)
        origin, last = self._span
        end = self.now if bar.end is None else bar.end
        cells = bar_cells(bar.start, end, origin, last - origin, width)
        streaming = (
            bar.start + bar.first_chunk_ms / 1000 if bar.first_chunk_ms is not None else None
        )
        scale = (last - origin) / width if width else 0.0
        first = next((i for i, cover in enumerate(cells) if cover > 0), None)
        for i, char in enumerate(self._blocks(cells, first)):
            if char == " ":
                text.append(" ")
                continue
            waiting = streaming is not None and origin + (i + 0.5) * scale < streaming
            text.append(char, f"{colour} dim" if waiting else colour)
        return text

    @staticmethod
    def _blocks(cells: list[float], first: int | None) -> Iterator[str]:
        for i, cover in enumerate(cells):
            if cover <= 0:
                yield " "
            else:
                # A bar's first cell is covered from its right, unless the bar ends in it too.
                yield _block(cover, at_start=i == first and i + 1 < len(cells) and cells[i + 1] > 0)
