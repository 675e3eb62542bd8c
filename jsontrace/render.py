"""Runs as text for terminals: safe strings, counts in words, durations, the run line, the tree.

Logs hold text from users and models, so every string read from a file that
reaches a terminal goes through :func:`printable` first: names, values, bad-line
excerpts and file names, in ``--print``, in ``jsontrace doctor`` and in the
viewer. :func:`run_line` says once what a run's line shows; ``--print`` joins
its parts as plain text and the viewer styles them by their role.
:func:`health` says once how bad lines and corruption are counted in words,
so that the three outputs say the same thing the same way.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Final, Literal

from .store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING

if TYPE_CHECKING:
    from .store import RunRecord, RunStore

__all__ = [
    "STATUS_SYMBOLS",
    "Part",
    "Role",
    "format_duration",
    "health",
    "plural",
    "printable",
    "render_run_line",
    "render_tree",
    "run_line",
    "write_lines",
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


def plural(count: int, word: str, words: str | None = None) -> str:
    """``"1 bad line"``, ``"2 bad lines"``, ``"1,204 events"`` (*words* for irregular plurals)."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def health(bad_lines: int, corruption: int) -> str:
    """What is wrong with a directory, in the words every output uses.

    ``"no problems"``, or ``"3 bad lines · 5 problems"``: bad lines are lines that
    are not valid events; problems (corruption) are those plus repeated and
    conflicting events, runs with missing chunks and wrong chunk counts.
    """
    if not corruption:
        return "no problems"
    return f"{plural(bad_lines, 'bad line')} · {plural(corruption, 'problem')}"


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
    "status", "name", "type", "note", "duration", "chunks", "first_chunk", "error", "error_inside"
]
#: One piece of a run line: printable text and its role.
Part = tuple[str, Role]


def run_line(run: RunRecord, *, now: float | None = None, status_word: bool = True) -> list[Part]:
    """What one line about a run shows: status, name, type, duration, chunks, first chunk, error.

    Every text is already :func:`printable`. ``status_word`` adds the status
    after its symbol (plain text needs it; the viewer has colours instead).
    """
    status = run.status
    symbol = STATUS_SYMBOLS[status]
    parts: list[Part] = [
        (f"{symbol} {status}" if status_word else symbol, "status"),
        (printable(run.name), "name"),
    ]
    if run.run_type:
        parts.append((printable(run.run_type), "type"))
    if not run.seen:
        parts.append((f"(parent not seen: {printable(run.run_id)})", "note"))
    elif not run.has_start:
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
    if status == ERROR and run.error_line:
        parts.append((printable(run.error_line), "error"))
    if run.error_below and status != ERROR:
        parts.append(("⚠ error inside", "error_inside"))
    if run.cycle:
        parts.append(("(parent cycle ignored)", "note"))
    return parts


def render_run_line(run: RunRecord, *, now: float | None = None) -> str:
    """:func:`run_line` as one plain-text line."""
    return "  ".join(text for text, _ in run_line(run, now=now))


def render_tree(
    store: RunStore, *, now: float | None = None, newest_first: bool = True
) -> Iterator[str]:
    """The whole forest as indented plain-text lines (what ``--print`` writes)."""
    for root in store.iter_traces(newest_first=newest_first):
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


def write_lines(lines: Iterable[str]) -> bool:
    """Write lines to stdout; False (and nothing more is written) if the reader went away.

    ``jsontrace doctor | head -3`` and ``jsontrace-view --print | head``: a closed
    pipe is the reader being done, not an error. stdout is pointed at the null
    device so that the interpreter's last flush does not fail either.
    """
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
    return True
