"""The detail pane: everything about the selected run, streaming while it runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from jsontrace.reader import DirectoryReader
from jsontrace.render import format_duration
from jsontrace.store import RUNNING, RunRecord

from .._text import json_text, plain, status_text, value_text

__all__ = ["RunDetail"]


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _when(seconds: float | None, written: str | None) -> Text:
    # UTC, as written: the same on every machine that opens the files.
    if seconds is None:
        return plain(written or "?")
    return Text(datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


class RunDetail(VerticalScroll):
    """Shows one run; :meth:`show` redraws it (the app calls it when the run changes)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.full = False
        self.raw = False
        self.run: RunRecord | None = None
        self._body = Static(Text("No run selected.", style="dim"), id="detail-body")

    def compose(self) -> Any:
        yield self._body

    def show(
        self,
        run: RunRecord | None,
        *,
        now: float | None = None,
        reader: DirectoryReader | None = None,
    ) -> None:
        """Render *run* (``None``: nothing selected)."""
        self.run = run
        if run is None:
            self._body.update(Text("No run selected.", style="dim"))
            return
        self._body.update(Group(*self._sections(run, now, reader)))

    def _sections(
        self, run: RunRecord, now: float | None, reader: DirectoryReader | None
    ) -> list[RenderableType]:
        full = self.full
        status = run.status
        title = Text.assemble(plain(run.name, "bold"), "  ", status_text(status))
        if run.run_type:
            title.append_text(Text.assemble("  ", plain(run.run_type, "dim")))
        out: list[RenderableType] = [title]
        error = run.error
        if error is not None:
            out.append(_heading("Error"))
            out.append(plain(run.error_summary, "bold red", multiline=True))
            if run.traceback:
                out.append(value_text(run.traceback, full=full))
        out.append(_heading("Timing"))
        out.append(self._timing(run, now))
        out.append(_heading("Inputs"))
        out.append(value_text(run.inputs, full=full) if run.start else Text("(not seen)", "dim"))
        out.append(_heading("Outputs" if run.end is not None else "Output so far"))
        out.append(self._outputs(run, full))
        if run.tags:
            out.append(_heading("Tags"))
            out.append(plain(", ".join(run.tags)))
        if run.metadata:
            out.append(_heading("Metadata"))
            out.append(json_text(run.metadata, full=full))
        extras = [("Trace warnings", run.trace_warnings), ("Redacted", run.redacted)]
        for heading, values in extras:
            if values:
                out.append(_heading(heading))
                out.append(plain("\n".join(values), "yellow", multiline=True))
        out.append(_heading("Ids"))
        out.append(self._ids(run))
        out.append(_heading("Raw events"))
        out.append(self._raw(run, reader) if self.raw else Text("press r to show", "dim"))
        return out

    def _timing(self, run: RunRecord, now: float | None) -> Text:
        rows = [("start", _when(run.started_at, run.start_ts))]
        if run.end is not None:
            rows.append(("end", _when(run.ended_at, run.end_ts)))
        duration = format_duration(run.duration_ms(now)) or "?"
        rows.append(("duration", Text(duration + (" so far" if run.status == RUNNING else ""))))
        if run.first_chunk_ms is not None:
            rows.append(("first chunk", Text(format_duration(run.first_chunk_ms))))
        if run.chunk_count:
            rows.append(("chunks", Text(str(run.chunk_count))))
        gaps = run.seq_gaps()
        if gaps:
            shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in gaps[:10])
            rows.append(("missing chunks", Text(shown, style="yellow")))
        return _rows(rows)

    def _outputs(self, run: RunRecord, full: bool) -> RenderableType:
        if run.end is not None:
            return value_text(run.outputs, full=full)
        if not run.chunks:
            return Text("(none yet)", style="dim")
        _, value = run.streamed()
        return value_text(value, full=full)

    def _ids(self, run: RunRecord) -> Text:
        rows = [("run", plain(run.run_id)), ("trace", plain(run.trace_id))]
        if run.parent_run_id:
            rows.append(("parent", plain(run.parent_run_id)))
        if run.host or run.pid:
            rows.append(("process", plain(f"{run.host} pid {run.pid}")))
        if run.sources:
            files = sorted({source[0] for source in run.sources})
            rows.append(("files", plain(", ".join(files))))
        return _rows(rows)

    def _raw(self, run: RunRecord, reader: DirectoryReader | None) -> RenderableType:
        events, exact = run.events(reader)
        parts: list[RenderableType] = []
        if not exact:
            parts.append(Text("(source lines gone: rebuilt from memory)", style="italic dim"))
        parts.extend(json_text(event, full=self.full) for event in events)
        return Group(*parts)


def _rows(rows: list[tuple[str, Text]]) -> Text:
    text = Text()
    for i, (label, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{label:>14}  ", style="dim")
        text.append_text(value)
    return text
