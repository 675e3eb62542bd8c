"""Runs as text for terminals: safe strings, durations, the run line, the plain tree.

Logs hold text from users and models, so every string read from a file that
reaches a terminal goes through :func:`printable` first: in ``--print``, in
``jsontrace doctor`` and in the viewer. :func:`run_line` says once what a run's
line shows; ``--print`` joins its parts as plain text and the viewer styles
them by their role.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from .store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING

if TYPE_CHECKING:
    from .store import RunRecord, RunStore

__all__ = [
    "STATUS_SYMBOLS",
    "Part",
    "Role",
    "format_duration",
    "format_started",
    "preview",
    "printable",
    "render_run_line",
    "render_tree",
    "run_line",
]

#: One symbol per status, for plain-text output and the viewer's tree.
STATUS_SYMBOLS: Final[Mapping[str, str]] = {
    RUNNING: "●",
    OK: "✓",
    ERROR: "✗",
    CANCELLED: "⊘",
    INTERRUPTED: "↯",
}

# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates and marks, line and
# paragraph separators, lone surrogates: none of them may reach a terminal as is.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_KEEP_NL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """*text* with every control or bidi character shown as an escape (``\\x1b``, ``\\u202e``).

    With ``multiline``, newlines and tabs are kept. Safe to write to a terminal.
    """
    pattern = _UNSAFE_KEEP_NL if multiline else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def format_duration(ms: float | None) -> str:
    """``"0.55 ms"``, ``"120 ms"``, ``"1.23 s"``, ``"2m 03s"``, ``"1h 02m"``; ``""`` if unknown."""
    if ms is None or not math.isfinite(ms):
        return ""
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


#: What a part of a run line says, so that each output can style it.
Role = Literal[
    "status",
    "started",
    "name",
    "type",
    "note",
    "duration",
    "chunks",
    "first_chunk",
    "error",
    "error_inside",
    "preview",
]
#: One piece of a run line: printable text and its role.
Part = tuple[str, Role]


def run_line(
    run: RunRecord,
    *,
    now: float | None = None,
    status_word: bool = True,
    started: bool = False,
    inputs: bool = False,
) -> list[Part]:
    """What one line about a run shows: status, name, type, duration, chunks, first chunk, error.

    Every text is already :func:`printable`. ``status_word`` adds the status
    after its symbol (plain text needs it; the viewer has colours instead).
    ``started`` adds when the run started (:func:`format_started`, after the
    status), ``inputs`` a one-line :func:`preview` of its inputs (last): the
    viewer's rows have both, so that traces of one function can be told apart.
    """
    status = run.status
    symbol = STATUS_SYMBOLS[status]
    parts: list[Part] = [(f"{symbol} {status}" if status_word else symbol, "status")]
    if started:
        parts.append((format_started(run.started_at, now), "started"))
    parts.append((printable(run.name), "name"))
    if run.run_type:
        parts.append((printable(run.run_type), "type"))
    if not run.seen:
        parts.append((f"(parent not seen: {printable(run.run_id)})", "note"))
    elif run.start is None:
        parts.append((f"(no start event: {printable(run.run_id)})", "note"))
    duration = format_duration(run.duration_ms(now))
    if duration:
        parts.append((duration, "duration"))
    count = run.chunk_count
    if count:
        parts.append((f"{count} chunk{'' if count == 1 else 's'}", "chunks"))
    first = run.first_chunk_ms
    if first is not None:
        parts.append((f"first chunk {format_duration(first)}", "first_chunk"))
    if status == ERROR and run.error_summary:
        line, _, rest = run.error_summary.partition("\n")
        parts.append((printable(line) + (" …" if rest else ""), "error"))
    if run.error_below and status != ERROR:
        parts.append(("⚠ error inside", "error_inside"))
    if run.cycle:
        parts.append(("(parent cycle ignored)", "note"))
    if inputs:
        shown = preview(run.inputs)
        if shown:
            parts.append((shown, "preview"))
    return parts


#: Inputs keys that usually hold what a run was asked, in the order they are looked for.
_ASKED = ("messages", "input", "inputs", "question", "query", "prompt", "text", "q")


def preview(value: object, limit: int = 60) -> str:
    """*value* (a run's inputs) as one short printable line; ``""`` for nothing.

    What a run was asked comes first: a lone key's value, a chat's last user
    message, or a key such as ``question``, ``query`` or ``prompt``; otherwise
    ``key: value`` pairs. Whitespace is collapsed, and the text is cut at
    *limit* characters with ``…``; a large value is never serialised whole.
    """
    text = " ".join(_flat(_asked(value), limit + 1).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return printable(text)


def _asked(value: object) -> object:
    if isinstance(value, Mapping) and value:
        if len(value) == 1:
            value = next(iter(value.values()))
        else:
            value = next((value[k] for k in _ASKED if value.get(k) not in (None, "", [])), value)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, Mapping) and "role" in m for m in value)
    ):
        users = [m for m in value if m.get("role") in ("user", "human")]
        value = (users or value)[-1].get("content")
        if isinstance(value, list):  # content parts: their text
            value = " ".join(p.get("text", "") if isinstance(p, Mapping) else str(p) for p in value)
    return value


def _flat(value: object, budget: int) -> str:
    """A compact one-line rendering of *value*, stopping once *budget* characters are made."""
    if isinstance(value, str):
        return value[:budget]
    if value is None:
        return ""
    if isinstance(value, Mapping):
        pieces = []
        for key, item in value.items():
            pieces.append(f"{key}: {_flat(item, budget)}")
            budget -= len(pieces[-1]) + 2
            if budget <= 0:
                break
        return ", ".join(pieces)
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.append(_flat(item, budget))
            budget -= len(items[-1]) + 2
            if budget <= 0:
                break
        return "[" + ", ".join(items) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:budget]


def format_started(seconds: float | None, now: float | None = None) -> str:
    """When a run started, for a row (local time, 8 characters wide where it can be).

    Within the last hour its age (``"  12s ago"``, ``"   5m ago"``), which reads at a
    glance while an app is watched; earlier today the clock time
    (``"14:03:22"``); before that the day too (``"Nov 24 14:03"``). ``"?"`` if unknown.
    """
    if seconds is None or not math.isfinite(seconds):
        return f"{'?':>8}"
    now = time.time() if now is None else now
    age = now - seconds
    if 0 <= age < 60:
        return f"{int(age)}s ago".rjust(8)
    if 0 <= age < 3600:
        return f"{int(age // 60)}m ago".rjust(8)
    try:
        when, today = datetime.fromtimestamp(seconds), datetime.fromtimestamp(now)
    except (OverflowError, OSError, ValueError):
        return f"{'?':>8}"
    if when.date() == today.date():
        return when.strftime("%H:%M:%S")
    if when.year == today.year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d")


def render_run_line(run: RunRecord, *, now: float | None = None) -> str:
    """:func:`run_line` as one plain-text line."""
    return "  ".join(text for text, _ in run_line(run, now=now))


def render_tree(
    store: RunStore, *, now: float | None = None, newest_first: bool = True
) -> Iterator[str]:
    """The whole forest as indented plain-text lines (what ``--print`` writes)."""
    for root in store.traces(newest_first=newest_first):
        yield render_run_line(root, now=now)
        stack: list[tuple[RunRecord, str, bool]] = [
            (child, "", last) for child, last in reversed(list(_with_last(root.sorted_children())))
        ]
        while stack:
            run, prefix, last = stack.pop()
            yield f"{prefix}{'└── ' if last else '├── '}{render_run_line(run, now=now)}"
            inner = prefix + ("    " if last else "│   ")
            stack.extend(
                (child, inner, child_last)
                for child, child_last in reversed(list(_with_last(run.sorted_children())))
            )


def _with_last(items: list[RunRecord]) -> Iterator[tuple[RunRecord, bool]]:
    for i, item in enumerate(items):
        yield item, i == len(items) - 1
