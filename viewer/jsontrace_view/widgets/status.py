"""The status bar: what has been read, what is wrong (in the doctor's words), follow and filter state, conditions and the latest notice."""

from __future__ import annotations

from pathlib import PurePath
from typing import NamedTuple

from rich.text import Text
from textual.widgets import Static

from jsontrace.render import plural, printable

__all__ = ["StatusBar"]


class _State(NamedTuple):
    directory: str = ""
    files: int = 0
    traces: int = 0
    runs: int = 0
    events: int = 0
    health: str = ""
    follow: str = ""
    filter_text: str = ""
    notice: str = ""


class StatusBar(Static):
    """One line of counters; the app calls :meth:`set_state` on each flush."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plain = ""
        self._shown: Text | None = None
        self._state = _State()

    def set_state(
        self,
        *,
        directory: str,
        files: int,
        traces: int,
        runs: int,
        events: int,
        health: str,
        follow: str,
        filter_text: str,
        notice: str = "",
    ) -> None:
        """Redraw from the given counters (every string shown literally).

        The notice comes first (it answers what you just did, and a long filter
        must not push it off the line), the counters and what is wrong last, in
        the words ``--print`` and ``jsontrace doctor`` use (:func:`jsontrace.render.health`).
        """
        self._state = _State(
            directory, files, traces, runs, events, health, follow, filter_text, notice
        )
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        notice = bool(self._state.notice)
        # A notice answers what you just did: it wraps rather than be cut at the edge.
        self.set_class(notice, "-notice")
        width = self.content_size.width
        # The longest form that fits: at 80 columns a path and five counters do not,
        # and what is cut at the edge would be what is wrong (it comes last).
        for compact in range(3):
            text = self._assemble(compact)
            if not width or text.cell_len <= width:
                break
        else:
            if not notice:  # still too long (a long filter): cut before what is wrong
                text = self._assemble(2, room=width)
        if text == self._shown:
            return  # unchanged: no repaint (the app asks several times a second)
        self.plain = text.plain  # what the line says, for tests and --print-like checks
        self._shown = text
        self.update(text)

    def _assemble(self, compact: int, room: int = 0) -> Text:
        """The line; *compact* 1 leaves out the files and runs, 2 also the directory's path;
        with *room* (the line's width), what comes before the health is cut so that all of
        it fits, the health whole."""
        directory, files, traces, runs, events, health, follow, filter_text, notice = self._state
        if compact == 2:  # the directory's own name: its path is what the line spares first
            directory = PurePath(directory).name or directory
        text = Text.assemble((printable(directory), "bold"), no_wrap=not notice, end="")
        if notice:
            text.append(f"  {printable(notice)}", style="yellow")
        if follow:
            text.append(f"  · {follow}", style="bold cyan")
        if filter_text:
            text.append("  · filter: ", style="bold magenta")
            text.append(printable(filter_text), style="magenta")
        counts = [(files, "file"), (traces, "trace"), (runs, "run"), (events, "event")]
        if compact:
            counts = counts[1:2] + counts[3:]
        text.append("  · " + " · ".join(plural(n, noun) for n, noun in counts))
        health_style = "" if health == "no problems" else "bold red"
        tail = Text.assemble(" · ", (health, health_style), end="")
        if room:
            left = room - tail.cell_len
            if left < 2:  # hardly a cell before it: what is wrong, alone
                alone = Text(health, style=health_style, end="")
                alone.truncate(room, overflow="ellipsis")
                return alone
            text.truncate(left, overflow="ellipsis")
        text.append_text(tail)
        return text
