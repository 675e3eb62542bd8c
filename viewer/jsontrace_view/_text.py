"""Safe display of hostile strings: logs hold text from users and models.

Every string read from a file reaches the screen through this module. Two rules:

* Data is never parsed as markup: we build :class:`rich.text.Text` from plain
  strings (``Text(...)``, ``Text.assemble``), never ``Text.from_markup`` or an
  f-string handed to a widget that reads markup.
* Control characters, terminal escape sequences (ESC, CSI, OSC, C1 controls)
  and bidi overrides are shown as escapes (``\\x1b``, ``\\u202e``) by
  :func:`jsontrace.render.printable`, so none of them reaches the terminal.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from jsontrace.render import STATUS_SYMBOLS, Role, printable, run_line
from jsontrace.store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING, RunRecord

__all__ = [
    "STATUS_STYLES",
    "chat_text",
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


#: The style of each part of a run line (the status's own colour for "status").
_ROLE_STYLES: Final[dict[Role, str]] = {
    "started": "dim",
    "name": "bold",
    "type": "dim",
    "note": "italic dim",
    "model": "bright_cyan",
    "tokens": "yellow",
    "cost": "green",
    "duration": "cyan",
    "speed": "dim",
    "totals": "bold yellow",
    "chunks": "blue",
    "first_chunk": "dim",
    "error": "red",
    "error_inside": "bold red",
    "preview": "italic #8a8a8a",
}


def run_label(run: RunRecord, now: float | None = None, *, top: bool = False) -> Text:
    """One tree line for a run: :func:`jsontrace.render.run_line` with its inputs, styled.

    A trace's line (*top*) also says when it started.
    """
    status = run.status
    status_style = STATUS_STYLES[status]
    text = Text(no_wrap=True, end="")
    parts = run_line(run, now=now, status_word=False, started=top, inputs=True)
    for index, (part, role) in enumerate(parts):
        if index > 1:
            text.append("  ")
        elif index == 1:
            text.append(" ")
        if role == "status" or (role == "duration" and status == RUNNING):
            style = status_style
        elif role == "name" and status == ERROR:
            style = "bold red"
        else:
            style = _ROLE_STYLES[role]
        text.append(part, style)
    return text


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


_ROLE_COLOURS: Final = {
    "system": "magenta",
    "developer": "magenta",
    "user": "cyan",
    "assistant": "green",
}


def chat_text(messages: list[tuple[str, str]], *, full: bool = False) -> Text:
    """Chat messages as a role line each (coloured by role) and the message's text below it."""
    text = Text()
    for index, (role, content) in enumerate(messages):
        if index:
            text.append("\n")
        style = _ROLE_COLOURS.get(role, "yellow")  # tools and anything else
        text.append(printable(role), f"bold {style}")
        part, left_out = cut(content, full)
        text.append("\n")
        text.append_text(
            _with_more(
                plain(part or "(empty)", "dim" if not part else "", multiline=True), left_out
            )
        )
    return text


def _with_more(text: Text, left_out: int) -> Text:
    if left_out:
        text.append(f"\n… {left_out:,} more characters (press v to show all)", style="italic dim")
    return text
