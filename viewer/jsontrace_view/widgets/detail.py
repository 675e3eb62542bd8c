"""The detail pane: everything about the selected run, streaming while it runs.

Values are read from the files through the run store when a run is shown, and
each is shown by its first screenful (:mod:`jsontrace_view._text`): however big
a value, the pane's widget gets a bounded text. ``v`` opens the pager on
:func:`document`, the same values in full.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from jsontrace.render import format_duration
from jsontrace.store import RUNNING, RunRecord

from .._text import MORE, chunks_prefix, cut, json_text, plain, pretty, status_text, value_text

__all__ = ["RunDetail", "document"]

#: Raw lines shown in the pane (each cut to RAW_CHARS): the pager has them all.
RAW_LINES = 40
RAW_CHARS = 400


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _when(seconds: float | None) -> Text:
    # UTC: the same on every machine that opens the files.
    if seconds is None:
        return Text("?")
    return Text(datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


def _listing(values: list[str], style: str) -> Text:
    shown, left_out = cut("\n".join(values))
    text = plain(shown, style, multiline=True)
    if left_out:
        text.append(f"\n… {left_out:,} more characters ({MORE})", style="italic dim")
    return text


class RunDetail(VerticalScroll):
    """Shows one run; :meth:`show` redraws it (the app calls it when the run changes)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.raw = False
        self.run: RunRecord | None = None
        self._body = Static(Text("No run selected.", style="dim"), id="detail-body")

    def compose(self) -> Any:
        yield self._body

    def show(self, run: RunRecord | None, *, now: float | None = None, reader: Any = None) -> None:
        """Render *run* (``None``: nothing selected). *reader* is accepted for compatibility."""
        self.run = run
        if run is None:
            self._body.update(Text("No run selected.", style="dim"))
            return
        self._body.update(Group(*self._sections(run, now)))

    def _sections(self, run: RunRecord, now: float | None) -> list[RenderableType]:
        status = run.status
        title = Text.assemble(plain(run.name, "bold"), "  ", status_text(status))
        if run.run_type:
            title.append_text(Text.assemble("  ", plain(run.run_type, "dim")))
        out: list[RenderableType] = [title]
        values = run.values()
        if not values.exact:
            out.append(Text("(some of its lines are gone from the files)", style="italic dim"))
        error = run.error
        if error is not None:
            out.append(_heading("Error"))
            summary = value_text(run.error_summary)
            summary.stylize("bold red")
            out.append(summary)
            if run.traceback:
                out.append(value_text(run.traceback))
        out.append(_heading("Timing"))
        out.append(self._timing(run, now))
        out.append(_heading("Inputs"))
        out.append(value_text(run.inputs) if run.has_start else Text("(not seen)", "dim"))
        out.append(_heading("Outputs" if run.has_end else "Output so far"))
        out.append(self._outputs(run))
        if run.tags:
            out.append(_heading("Tags"))
            out.append(_listing([", ".join(run.tags)], ""))
        if run.metadata:
            out.append(_heading("Metadata"))
            out.append(json_text(run.metadata))
        extras = [("Trace warnings", run.trace_warnings), ("Redacted", run.redacted)]
        for heading, found in extras:
            if found:
                out.append(_heading(heading))
                out.append(_listing(found, "yellow"))
        out.append(_heading("Ids"))
        out.append(self._ids(run))
        out.append(_heading("Raw events"))
        out.append(self._raw(run) if self.raw else Text("press r to show", "dim"))
        return out

    def _timing(self, run: RunRecord, now: float | None) -> Text:
        rows = [("start", _when(run.started_at))]
        if run.has_end:
            rows.append(("end", _when(run.ended_at)))
        duration = format_duration(run.duration_ms(now)) or "?"
        rows.append(("duration", Text(duration + (" so far" if run.status == RUNNING else ""))))
        if run.first_chunk_ms is not None:
            rows.append(("first chunk", Text(format_duration(run.first_chunk_ms))))
        if run.chunk_count:
            rows.append(("chunks", Text(f"{run.chunk_count:,}")))
        gaps = run.seq_gaps()
        if gaps:
            shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in gaps[:10])
            rows.append(("missing chunks", Text(shown, style="yellow")))
        return _rows(rows)

    def _outputs(self, run: RunRecord) -> RenderableType:
        if run.has_end:
            return value_text(run.outputs)
        chunks = run.chunks
        if not chunks:
            return Text("(none yet)", style="dim")
        return value_text(chunks_prefix(chunks))

    def _ids(self, run: RunRecord) -> Text:
        rows = [("run", plain(run.run_id)), ("trace", plain(run.trace_id))]
        if run.parent_run_id:
            rows.append(("parent", plain(run.parent_run_id)))
        if run.host or run.pid:
            rows.append(("process", plain(f"{run.host} pid {run.pid}")))
        files = sorted({source[0] for source in run.sources})
        if files:
            rows.append(("files", plain(", ".join(files))))
        return _rows(rows)

    def _raw(self, run: RunRecord) -> RenderableType:
        lines, exact = run.raw_lines()
        parts: list[RenderableType] = []
        if not exact:
            parts.append(Text("(some source lines are gone)", style="italic dim"))
        for line in lines[:RAW_LINES]:
            text = line.decode("utf-8", "backslashreplace")
            shown = text[:RAW_CHARS] + ("…" if len(text) > RAW_CHARS else "")
            parts.append(plain(shown, "dim"))
        if len(lines) > RAW_LINES:
            parts.append(Text(f"… {len(lines) - RAW_LINES:,} more lines ({MORE})", "italic dim"))
        if not lines:
            parts.append(Text("(no lines in the files)", style="dim"))
        return Group(*parts)


def document(run: RunRecord, *, raw: bool = False) -> str:
    """The run's values in full, as one text for the pager (raw: made printable when shown)."""
    sections: list[tuple[str, str]] = []
    if run.error is not None:
        sections.append(("Error", run.error_summary))
        if run.traceback:
            sections.append(("Traceback", run.traceback))
    if run.has_start:
        inputs = run.inputs
        sections.append(("Inputs", inputs if isinstance(inputs, str) else pretty(inputs)))
    if run.has_end:
        outputs = run.outputs
        sections.append(("Outputs", outputs if isinstance(outputs, str) else pretty(outputs)))
    elif run.chunks:
        ok, streamed = run.streamed()
        sections.append(("Output so far", streamed if ok else pretty(streamed)))
    if run.metadata:
        sections.append(("Metadata", pretty(run.metadata)))
    if run.tags:
        sections.append(("Tags", ", ".join(run.tags)))
    if raw:
        lines, _ = run.raw_lines()
        sections.append(("Raw events", b"\n".join(lines).decode("utf-8", "backslashreplace")))
    return "\n\n".join(f"== {title} ==\n{body}" for title, body in sections)


def _rows(rows: list[tuple[str, Text]]) -> Text:
    text = Text()
    for i, (label, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{label:>14}  ", style="dim")
        text.append_text(value)
    return text
