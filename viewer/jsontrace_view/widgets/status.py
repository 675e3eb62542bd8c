"""The status bar: what has been read, follow and filter state, the latest notice."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from jsontrace.render import printable

__all__ = ["StatusBar"]


class StatusBar(Static):
    """One line of counters; the app calls :meth:`set_state` on each flush."""

    def set_state(
        self,
        *,
        directory: str,
        files: int,
        traces: int,
        runs: int,
        events: int,
        bad_lines: int,
        follow: str,
        filter_text: str,
        notice: str = "",
    ) -> None:
        """Redraw from the given counters (every string shown literally).

        The notice comes first (it answers what you just did, and a long filter
        must not push it off the line), the counters last.
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
        text.append("  · " + "".join(f"{_counted(n, noun)} · " for n, noun in counts))
        text.append(_counted(bad_lines, "bad line"), style="bold red" if bad_lines else "")
        self.plain = text.plain  # what the line says, for tests and --print-like checks
        self.update(text)


def _counted(n: int, noun: str) -> str:
    """``"1 file"``, ``"2 files"``: a count reads right at one too."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
