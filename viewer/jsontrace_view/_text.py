"""Safe, bounded display of hostile strings: logs hold text from users and models.

Every string read from a file reaches the screen through this module. Three rules:

* Data is never parsed as markup: we build :class:`rich.text.Text` from plain
  strings (``Text(...)``, ``Text.assemble``), never ``Text.from_markup`` or an
  f-string handed to a widget that reads markup.
* Control characters, terminal escape sequences (ESC, CSI, OSC, C1 controls)
  and bidi overrides are shown as escapes (``\\x1b``, ``\\u202e``) by
  :func:`jsontrace.render.printable`, so none of them reaches the terminal.
* What a widget gets is bounded: at most a screenful (:data:`CUT_CHARS`,
  :data:`CUT_LINES`) of any value, however big the value is. :func:`json_prefix`
  walks a value only as far as that prefix needs (a 50 MB string is sliced, never
  copied whole); the pager (``v``) shows one page at a time of the full text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from jsontrace.render import STATUS_SYMBOLS, Role, printable, run_line
from jsontrace.store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING, RunRecord

__all__ = [
    "CUT_CHARS",
    "CUT_LINES",
    "STATUS_STYLES",
    "chat_text",
    "chunks_prefix",
    "cut",
    "json_prefix",
    "json_text",
    "page_end",
    "page_start_before",
    "plain",
    "pretty",
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

#: How much of a value the detail pane shows before "v pages through all of it".
CUT_CHARS: Final = 4000
CUT_LINES: Final = 80
MORE: Final = "v pages through all of it"

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


def cut(text: str, chars: int = CUT_CHARS, lines: int = CUT_LINES) -> tuple[str, int]:
    """*text* shortened to a screenful; also how many chars were left out."""
    limit = min(len(text), chars)
    newline = -1
    for _ in range(lines):
        newline = text.find("\n", newline + 1, limit)
        if newline < 0:
            break
    else:
        limit = newline
    return text[:limit], len(text) - limit


# -- JSON, bounded --------------------------------------------------------------------------


def _scalar(value: Any, limit: int) -> tuple[str, bool]:
    """One JSON scalar as text (a string cut to *limit* chars), and whether it was cut."""
    if isinstance(value, str):
        if len(value) > limit:
            return orjson.dumps(value[:limit]).decode()[:-1] + '…"', True
        return orjson.dumps(value).decode(), False
    try:
        return orjson.dumps(value).decode(), False
    except (TypeError, orjson.JSONEncodeError):
        text = repr(value)  # in-memory values (add_events) need not be JSON
        return (text[:limit] + "…", True) if len(text) > limit else (text, False)


def _pieces(value: Any, indent: str, limit: int, cut_: list[bool]) -> Iterator[str]:
    """Pretty JSON (as ``orjson.OPT_INDENT_2`` writes it), piece by piece, lazily."""
    if isinstance(value, dict):
        if not value:
            yield "{}"
            return
        yield "{"
        inner = indent + "  "
        for i, (key, item) in enumerate(value.items()):
            name, was_cut = _scalar(key if isinstance(key, str) else str(key), limit)
            cut_[0] |= was_cut
            yield f"{',' if i else ''}\n{inner}{name}: "
            yield from _pieces(item, inner, limit, cut_)
        yield f"\n{indent}}}"
    elif isinstance(value, list | tuple):
        if not value:
            yield "[]"
            return
        yield "["
        inner = indent + "  "
        for i, item in enumerate(value):
            yield f"{',' if i else ''}\n{inner}"
            yield from _pieces(item, inner, limit, cut_)
        yield f"\n{indent}]"
    else:
        text, was_cut = _scalar(value, limit)
        cut_[0] |= was_cut
        yield text


def json_prefix(value: Any, chars: int = CUT_CHARS, lines: int = CUT_LINES) -> tuple[str, bool]:
    """The first screenful of *value* as pretty JSON, and whether there is more.

    Only as much of the value is walked as the prefix needs, and no string is
    copied beyond *chars* characters: bounded work for a value of any size.
    """
    cut_ = [False]
    pieces: list[str] = []
    size = rows = 0
    for piece in _pieces(value, "", chars, cut_):
        pieces.append(piece)
        size += len(piece)
        rows += piece.count("\n")
        if size > chars or rows >= lines:
            shown, _ = cut("".join(pieces), chars, lines)
            return shown, True
    return "".join(pieces), cut_[0]


def pretty(value: Any) -> str:
    """All of *value* as pretty JSON (for the pager, which shows it a page at a time)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except (TypeError, orjson.JSONEncodeError):
        return "".join(_pieces(value, "", 1 << 62, [False]))


def _with_more(text: Text, more: str) -> Text:
    if more:
        text.append(f"\n… {more}", style="italic dim")
    return text


_ROLE_COLOURS: Final = {
    "system": "magenta",
    "developer": "magenta",
    "user": "cyan",
    "assistant": "green",
}


def chat_text(messages: list[tuple[str, str]]) -> Text:
    """Chat messages as a role line each (coloured by role) and the message's text below it.

    Bounded like every value: a screenful in all (:data:`CUT_CHARS`,
    :data:`CUT_LINES`), each message's text cut to what is left of it.
    """
    text = Text()
    chars, lines = CUT_CHARS, CUT_LINES
    for index, (role, content) in enumerate(messages):
        if chars <= 0 or lines <= 0:
            left = len(messages) - index
            text.append(
                f"\n… {left:,} more message{'s' if left > 1 else ''} ({MORE})", "italic dim"
            )
            break
        if index:
            text.append("\n")
        style = _ROLE_COLOURS.get(role, "yellow")  # tools and anything else
        text.append(printable(role[:200]), f"bold {style}")
        part, left_out = cut(content, chars, lines)
        chars -= len(part) + len(role)
        lines -= part.count("\n") + 2
        text.append("\n")
        more = f"{left_out:,} more characters ({MORE})" if left_out else ""
        text.append_text(
            _with_more(plain(part or "(empty)", "dim" if not part else "", multiline=True), more)
        )
    return text


def json_text(value: Any) -> Text:
    """Pretty, highlighted JSON for any decoded value: its first screenful."""
    shown, more = json_prefix(value)
    text = _json_highlighter(plain(shown, multiline=True))
    return _with_more(text, f"more ({MORE})" if more else "")


def value_text(value: Any) -> Text:
    """A string shown as text (newlines kept), anything else as JSON: its first screenful."""
    if not isinstance(value, str):
        return json_text(value)
    shown, left_out = cut(value)
    return _with_more(
        plain(shown, multiline=True), f"{left_out:,} more characters ({MORE})" if left_out else ""
    )


def chunks_prefix(chunks: list[Any]) -> Any:
    """What a stream produced so far, for its first screenful: joined text, or a list.

    Joins only as many string chunks as the screenful needs (a long stream is
    not joined whole on every repaint); chunks that are not all strings are
    shown as the list they are.
    """
    parts: list[str] = []
    size = 0
    for index, chunk in enumerate(chunks):
        if type(chunk) is not str:
            return chunks
        parts.append(chunk)
        size += len(chunk)
        if size > CUT_CHARS:
            rest = chunks[index + 1 :]
            if all(type(c) is str for c in rest[:1000]):
                return "".join(parts) + "".join(rest[:1000])[: CUT_CHARS * 2]
            return chunks
    return "".join(parts)


# -- pages ------------------------------------------------------------------------------------


def page_end(text: str, start: int, rows: int, cols: int) -> int:
    """Where a page of *rows* screen rows of *cols* columns that starts at *start* ends.

    Lines longer than a row wrap; a line longer than the whole page is cut at
    the page's size (a 50 MB line is paged through, never laid out whole).
    """
    used = 0
    at = start
    end = len(text)
    while at < end and used < rows:
        room = (rows - used) * cols
        newline = text.find("\n", at, at + room + 1)
        if newline < 0:
            return min(end, at + room)
        need = max(1, -(-(newline - at) // cols))
        if used + need > rows:
            return at + room if used == 0 else at
        used += need
        at = newline + 1
    return at


def page_start_before(text: str, end: int, rows: int, cols: int) -> int:
    """Where the page that ends at *end* starts (walking back over whole lines)."""
    used = 0
    at = end
    while at > 0 and used < rows:
        room = (rows - used) * cols
        newline = text.rfind("\n", max(0, at - 1 - room), at - 1) if at > 1 else -1
        start = newline + 1
        need = max(1, -(-(at - 1 - start) // cols))
        if newline < 0 and at - room > 0:
            return at - room
        if used + need > rows:
            return at - room if used == 0 else at
        used += need
        at = start
    return at
