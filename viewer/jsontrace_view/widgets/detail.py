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

from jsontrace import pricing
from jsontrace.render import (
    chat_messages,
    compact_json,
    format_cost,
    format_duration,
    format_tokens,
    streamed_messages,
    tokens_per_second,
)
from jsontrace.store import RUNNING, RunRecord

from .._text import (
    MORE,
    chat_text,
    chunks_prefix,
    cut,
    json_text,
    plain,
    pretty,
    status_text,
    value_text,
)

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
        if not run.has_end:  # still running: what it streams goes on top, in view while it grows
            out.append(_heading("Output so far"))
            out.append(self._outputs(run))
        if run.model is not None or run.usage is not None:
            out.append(_heading("Model and usage"))
            out.append(_llm(run))
        if run.children:
            totals = run.totals()
            if totals.calls:
                out.append(_heading("Totals, this run and below"))
                out.append(_totals(totals))
        out.append(_heading("Inputs"))
        out.append(_inputs(run.inputs) if run.has_start else Text("(not seen)", "dim"))
        if run.has_end:
            out.append(_heading("Outputs"))
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
            messages = chat_messages(run.outputs)
            return value_text(run.outputs) if messages is None else chat_text(messages)
        chunks = run.chunks
        if not chunks:
            return Text("(none yet)", style="dim")
        # An SDK's stream (its chunks are objects): the message so far.
        messages = streamed_messages(chunks) if isinstance(chunks[0], dict) else None
        if messages is not None:
            return chat_text(messages)
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


# Request inputs shown as chat messages; the rest of the request is shown below them.
_CHAT_KEYS = ("messages", "input", "instructions", "system")
# LangSmith's invocation-parameter metadata, in the order shown.
_PARAMETERS = (
    ("ls_temperature", "temperature"),
    ("ls_max_tokens", "max_tokens"),
    ("ls_stop", "stop"),
)


def _inputs(inputs: Any) -> RenderableType:
    messages = chat_messages(inputs)
    if messages is None:
        return value_text(inputs)
    rest = (
        {k: v for k, v in inputs.items() if k not in _CHAT_KEYS} if isinstance(inputs, dict) else {}
    )
    if not rest:
        return chat_text(messages)
    return Group(chat_text(messages), Text("\nother inputs", style="dim"), json_text(rest))


def _llm(run: RunRecord) -> Text:
    """Model, parameters, tokens, cost and speed of one llm call."""
    model = run.model
    rows = [("model", plain((model or "?") + (f" ({run.provider})" if run.provider else "")))]
    metadata = run.metadata
    parameters = [
        f"{name} {compact_json(metadata[key])}" for key, name in _PARAMETERS if key in metadata
    ]
    invocation = metadata.get("ls_invocation_params")
    if isinstance(invocation, dict):
        parameters += [f"{name} {compact_json(value)}" for name, value in invocation.items()]
    if parameters:
        rows.append(("parameters", plain(", ".join(parameters))))
    usage = run.usage
    if usage is None:
        rows.append(
            ("tokens", Text("not recorded" if run.finished else "when it ends", style="dim"))
        )
        return _rows(rows)
    rows.append(
        (
            "tokens",
            Text(
                f"{format_tokens(usage['input_tokens'], usage['output_tokens'])}, {usage['total_tokens']:,} in all"
            ),
        )
    )
    details = [
        f"{side} {name} {count:,}"
        for side, key in (("input", "input_token_details"), ("output", "output_token_details"))
        for name, count in (usage.get(key) or {}).items()  # type: ignore[attr-defined]
    ]
    if details:
        rows.append(("of which", plain(", ".join(details))))
    rows.append(("cost", _cost(model, usage)))
    speed = tokens_per_second(run)
    if speed is not None:
        rows.append(("speed", Text(f"{speed:,.1f} tokens/s after the first chunk")))
    return _rows(rows)


def _cost(model: str | None, usage: Any) -> Text:
    cost = pricing.cost(model, usage)
    problem = pricing.problem()
    if cost is None:
        text = Text(
            f"no price for {model!r}: add it with JSONTRACE_PRICES or jsontrace.pricing.set_prices()",
            "yellow",
        )
    else:
        text = Text(format_cost(cost.total), "green")
        if cost.input is not None and cost.output is not None:
            text.append(
                f"  (input {format_cost(cost.input)}, output {format_cost(cost.output)})", "dim"
            )
        price = pricing.price_for(model)
        if price is not None:
            text.append(f"\n{'':>16}{_price_line(price)}", "dim")
    if problem is not None:
        text.append_text(plain(f"\n{'':>16}{problem}", "yellow"))
    return text


def _price_line(price: pricing.Price) -> str:
    line = f"at ${price.input:g} in, ${price.output:g} out"
    if price.cached_input is not None:
        line += f", ${price.cached_input:g} cached"
    line += " per 1M tokens"
    if any(price is known for known in pricing.DEFAULT_PRICES.values()):
        line += f" (defaults of {pricing.DEFAULT_PRICES_AS_OF})"
    return line


def _totals(totals: pricing.Totals) -> Text:
    rows = [
        ("llm calls", Text(f"{totals.calls:,}")),
        (
            "tokens",
            Text(
                f"{format_tokens(totals.input_tokens, totals.output_tokens)}, {totals.total_tokens:,} in all"
            ),
        ),
    ]
    if totals.cost is not None:
        cost = Text(format_cost(totals.cost), "green")
        if totals.unpriced:
            cost.append(
                f"  and {totals.unpriced:,} call{'s' if totals.unpriced > 1 else ''} without a price",
                "yellow",
            )
        rows.append(("cost", cost))
    else:
        rows.append(("cost", Text("no price for these models", "yellow")))
    return _rows(rows)


def _rows(rows: list[tuple[str, Text]]) -> Text:
    text = Text()
    for i, (label, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{label:>14}  ", style="dim")
        text.append_text(value)
    return text
