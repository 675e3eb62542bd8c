"""Safe display of hostile strings: logs hold text from users and models.

Every string read from a file reaches the screen through this module. Two rules:

* Data is never parsed as markup: we build :class:`rich.text.Text` from plain
  strings (``Text(...)``, ``Text.assemble``), never ``Text.from_markup`` or an
  f-string handed to a widget that reads markup.
* Control characters, terminal escape sequences (ESC, CSI, OSC, C1 controls)
  and bidi overrides are shown as escapes (``\\x1b``, ``\\u202e``) by
  :func:`jsontrace.runs.printable`, so none of them reaches the terminal.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from jsontrace.runs import (
    CANCELLED,
    ERROR,
    INTERRUPTED,
    OK,
    RUNNING,
    STATUS_SYMBOLS,
    Run,
    format_duration,
    printable,
)

__all__ = [
    "STATUS_STYLES",
    "cut",
    "json_text",
    "plain",
    "run_label",
    "status_text",
    "value_text",
]

STATUS_STYLES: Final = {
    RUNNING: "bold yellow",
    OK: "green",
    ERROR: "bold red",
    CANCELLED: "magenta",
    INTERRUPTED: "dark_orange",
}

#: How much of a value is shown before "press v to show all".
CUT_CHARS: Final = 4000
CUT_LINES: Final = 80

_json_highlighter = JSONHighlighter()


def plain(text: str, style: str = "", *, multiline: bool = False) -> Text:
    """A Text showing *text* literally: no markup, controls escaped."""
    return Text(printable(text, multiline=multiline), style=style)


def status_text(status: str) -> Text:
    """The status symbol and word, coloured."""
    return Text(f"{STATUS_SYMBOLS[status]} {status}", style=STATUS_STYLES[status])


def run_label(run: Run, now: float | None = None) -> Text:
    """One tree line for a run: status, name, type, duration, chunks, first chunk, error."""
    status = run.status
    style = STATUS_STYLES[status]
    parts: list[Text | tuple[str, str] | str] = [
        (STATUS_SYMBOLS[status] + " ", style),
        plain(run.name, "bold red" if status == ERROR else "bold"),
    ]
    if run.run_type:
        parts += ["  ", plain(run.run_type, "dim")]
    if not run.seen:
        parts += ["  ", (f"(parent not seen: {printable(run.run_id)})", "italic dim")]
    elif run.start is None:
        parts += ["  ", (f"(no start event: {printable(run.run_id)})", "italic dim")]
    duration = format_duration(run.duration_ms(now))
    if duration:
        parts += ["  ", (duration, style if status == RUNNING else "cyan")]
    if run.chunk_count:
        parts += ["  ", (f"{run.chunk_count} chunks", "blue")]
    first = run.first_chunk_ms
    if first is not None:
        parts += ["  ", (f"first {format_duration(first)}", "dim")]
    if status == ERROR and run.error_summary:
        parts += ["  ", plain(_first_line(run.error_summary), "red")]
    if run.error_below and status != ERROR:
        parts += ["  ", ("⚠ error inside", "bold red")]
    if run.cycle:
        parts += ["  ", ("(parent cycle ignored)", "italic dim")]
    return Text.assemble(*parts, no_wrap=True, end="")


def _first_line(text: str) -> str:
    line, _, rest = text.partition("\n")
    return line + (" …" if rest else "")


def cut(text: str, full: bool) -> tuple[str, int]:
    """*text* shortened to a screenful unless *full*; also how many chars were left out."""
    if full:
        return text, 0
    limit = len(text)
    if limit > CUT_CHARS:
        limit = CUT_CHARS
    newline = -1
    for _ in range(CUT_LINES):
        newline = text.find("\n", newline + 1, limit)
        if newline < 0:
            break
    else:
        limit = newline
    return text[:limit], len(text) - limit


def json_text(value: Any, *, full: bool = False) -> Text:
    """Pretty, highlighted JSON for any decoded value, cut unless *full*."""
    try:
        dumped = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except (TypeError, orjson.JSONEncodeError):
        dumped = repr(value)
    shown, left_out = cut(dumped, full)
    text = _json_highlighter(plain(shown, multiline=True))
    return _with_more(text, left_out)


def value_text(value: Any, *, full: bool = False) -> Text:
    """A string shown as text (newlines kept), anything else as JSON."""
    if not isinstance(value, str):
        return json_text(value, full=full)
    shown, left_out = cut(value, full)
    return _with_more(plain(shown, multiline=True), left_out)


def _with_more(text: Text, left_out: int) -> Text:
    if left_out:
        text.append(f"\n… {left_out:,} more characters (press v to show all)", style="italic dim")
    return text
