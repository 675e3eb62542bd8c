"""The status bar: what has been read, what is wrong (in the doctor's words), follow and filter state, conditions and the latest notice."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from jsontrace.render import plural, printable

__all__ = ["StatusBar"]


class StatusBar(Static):
    """One line of counters; the app calls :meth:`set_state` on each flush."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plain = ""
        self._shown: Text | None = None

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
        # A notice answers what you just did: it wraps rather than be cut at the edge.
        self.set_class(bool(notice), "-notice")
        text = Text.assemble((printable(directory), "bold"), no_wrap=not notice, end="")
        if notice:
            text.append(f"  {printable(notice)}", style="yellow")
        if follow:
            text.append(f"  · {follow}", style="bold cyan")
        if filter_text:
            text.append("  · filter: ", style="bold magenta")
            text.append(printable(filter_text), style="magenta")
        counts = [(files, "file"), (traces, "trace"), (runs, "run"), (events, "event")]
        text.append("  · " + "".join(f"{plural(n, noun)} · " for n, noun in counts))
        text.append(health, style="" if health == "no problems" else "bold red")
        if text == self._shown:
            return  # unchanged: no repaint (the app asks several times a second)
        self.plain = text.plain  # what the line says, for tests and --print-like checks
        self._shown = text
        self.update(text)
