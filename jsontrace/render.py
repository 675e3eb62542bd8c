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
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

import orjson

from .store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING

if TYPE_CHECKING:
    from .store import RunRecord, RunStore

__all__ = [
    "STATUS_SYMBOLS",
    "Part",
    "Role",
    "chat_messages",
    "compact_json",
    "format_cost",
    "format_duration",
    "format_started",
    "format_tokens",
    "health",
    "plural",
    "preview",
    "printable",
    "render_run_line",
    "render_tree",
    "run_line",
    "streamed_messages",
    "tokens_per_second",
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
    "status",
    "started",
    "name",
    "type",
    "note",
    "model",
    "tokens",
    "cost",
    "duration",
    "speed",
    "chunks",
    "first_chunk",
    "totals",
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
    elif not run.has_start:
        parts.append((f"(no start event: {printable(run.run_id)})", "note"))
    usage = run.usage
    if usage is not None or run.run_type == "llm":
        model = run.model
        if model is not None:
            parts.append((printable(model), "model"))
    if usage is not None:
        parts.append((format_tokens(usage["input_tokens"], usage["output_tokens"]), "tokens"))
        cost = run.cost
        if cost is not None:
            parts.append((format_cost(cost), "cost"))
    duration = format_duration(run.duration_ms(now))
    if duration:
        parts.append((duration, "duration"))
    speed = tokens_per_second(run) if usage is not None else None
    if speed is not None:
        parts.append((f"{speed:,.0f} tok/s" if speed >= 10 else f"{speed:.1f} tok/s", "speed"))
    count = run.chunk_count
    if count:
        parts.append((f"{count} chunk{'' if count == 1 else 's'}", "chunks"))
    first = run.first_chunk_ms
    if first is not None:
        parts.append((f"first chunk {format_duration(first)}", "first_chunk"))
    if run.parent is None and run.children:  # a trace's line: what all its calls add up to
        totals = run.totals()
        if totals.calls:
            parts.append(
                (f"Σ {format_tokens(totals.input_tokens, totals.output_tokens)}", "totals")
            )
            if totals.cost is not None:
                cost_text = format_cost(totals.cost)
                parts.append((f"≥{cost_text}" if totals.unpriced else cost_text, "cost"))
    if status == ERROR and run.error_line:
        parts.append((printable(run.error_line), "error"))
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
_ASKED = ("input", "inputs", "question", "query", "prompt", "text", "q")


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
    messages = chat_messages(value)
    if messages:
        users = [text for role, text in messages if role == "user"]
        return (users or [messages[-1][1]])[-1]
    if isinstance(value, Mapping) and value:
        if len(value) == 1:
            return _asked(next(iter(value.values())))
        return next((value[k] for k in _ASKED if value.get(k) not in (None, "", [])), value)
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


def format_tokens(tokens_in: int, tokens_out: int) -> str:
    """``"312→85 tok"``: prompt tokens, then generated ones."""
    return f"{tokens_in:,}→{tokens_out:,} tok"


def format_cost(dollars: float) -> str:
    """``"$1.23"``; below a dollar two significant digits: ``"$0.015"``, ``"$0.000098"``."""
    if not math.isfinite(dollars) or dollars <= 0:
        return "$0"
    places = 2 if dollars >= 1 else min(8, 1 - math.floor(math.log10(dollars)))
    return f"${dollars:,.{places}f}"


def tokens_per_second(run: RunRecord) -> float | None:
    """How fast a finished streaming run generated: output tokens over the time after its first chunk."""
    usage, first, duration = run.usage, run.first_chunk_ms, run.duration_ms()
    if usage is None or first is None or duration is None or not run.finished:
        return None
    generating = duration - first
    if usage["output_tokens"] <= 0 or generating < 1.0:  # too short a window to mean anything
        return None
    return usage["output_tokens"] / (generating / 1000)


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


# -- chat messages ---------------------------------------------------------------------------

#: Content parts whose text is shown as it is.
_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
_IMAGE_PARTS = frozenset({"image", "image_url", "input_image"})


def chat_messages(value: object) -> list[tuple[str, str]] | None:
    """The chat messages *value* holds, as ``(role, text)``; None when it is not such a value.

    Recognised: a list of messages (``{"role", "content"}``); inputs with
    ``messages`` (Chat Completions, Anthropic), or the Responses API's ``input``
    and ``instructions``; outputs that are a message (Anthropic's), a chat
    completion's ``choices``, or a response's ``output`` items. Content may be
    text or a list of parts (text, images, tool calls and results). Text is
    not made printable here: callers do that.
    """
    if isinstance(value, list):
        return _messages(value)
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("messages"), list):
        return _messages(value["messages"])
    given = value.get("input")
    # A bare "input" string is every other function's argument: a request only with a model.
    if isinstance(given, list) or (isinstance(given, str) and "model" in value):
        found = [("user", given)] if isinstance(given, str) else _messages(given)
        if found is not None and isinstance(value.get("instructions"), str):
            found.insert(0, ("system", value["instructions"]))
        return found
    if isinstance(value.get("choices"), list) and value["choices"]:
        return _messages(
            [
                choice.get("message") if isinstance(choice, Mapping) else None
                for choice in value["choices"]
            ]
        )
    if isinstance(value.get("output"), list) and value["output"]:
        return _messages(value["output"])
    if isinstance(value.get("role"), str) and "content" in value:
        return _messages([value])
    return None


def _messages(items: list[object]) -> list[tuple[str, str]] | None:
    found = []
    for item in items:
        if not isinstance(item, Mapping):
            return None
        message = _message(item)
        if message is None:
            return None
        found.append(message)
    return found or None


def _message(item: Mapping[str, object]) -> tuple[str, str] | None:
    kind, role = item.get("type"), item.get("role")
    if kind == "function_call":  # Responses API output and input items
        return ("assistant", f"→ {item.get('name')}({compact_json(item.get('arguments'))})")
    if kind == "function_call_output":
        return ("tool", compact_json(item.get("output")))
    if kind == "reasoning":
        summary = [
            compact_json(p.get("text"))
            for p in _list(item.get("summary"))
            if isinstance(p, Mapping)
        ]
        return ("assistant", "(reasoning) " + " ".join(summary))
    if not isinstance(role, str):
        if kind != "message":
            return None
        role = "assistant"
    content = item.get("content")
    if content is not None and not isinstance(content, (str, list)):
        return None
    lines = [content] if isinstance(content, str) else [_part(p) for p in _list(content)]
    for call in _list(item.get("tool_calls")):
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            lines.append(f"→ {function.get('name')}({compact_json(function.get('arguments'))})")
    if role == "tool" and isinstance(item.get("tool_call_id"), str):
        role = f"tool {item['tool_call_id']}"
    return (role, "\n".join(line for line in lines if line))


def _part(part: object) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, Mapping):
        return compact_json(part)
    kind = part.get("type")
    if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
        return str(part["text"])
    if kind in _IMAGE_PARTS:
        return "[image]"
    if kind == "tool_use":
        return f"→ {part.get('name')}({compact_json(part.get('input'))})"
    if kind == "tool_result":
        inner = part.get("content")
        text = inner if isinstance(inner, str) else "\n".join(_part(p) for p in _list(inner))
        return f"← {part.get('tool_use_id')}: {text}"
    if kind == "thinking" and isinstance(part.get("thinking"), str):
        return f"(thinking) {part['thinking']}"
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return f"(refusal) {part['refusal']}"
    return compact_json(part)


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def compact_json(value: object) -> str:
    """*value* as one line of JSON (a string as it is); its repr if JSON cannot hold it."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


def streamed_messages(chunks: list[object]) -> list[tuple[str, str]] | None:
    """The message an SDK's stream has built so far, from its chunks as recorded; None for other chunks.

    For a stream that is still running: OpenAI chat chunks, Responses-API
    events and Anthropic events are reduced as the wrappers reduce them at the end.
    """
    first = next((chunk for chunk in chunks if isinstance(chunk, Mapping)), None)
    if first is None:
        return None
    from .wrappers._reduce import reduce_anthropic, reduce_openai_chat, reduce_openai_responses

    kind = first.get("type")
    if first.get("object") == "chat.completion.chunk":
        return chat_messages(reduce_openai_chat(list(chunks)))
    if isinstance(kind, str) and kind.startswith("response."):
        return chat_messages(reduce_openai_responses(list(chunks)))
    if kind == "message_start":
        return chat_messages(reduce_anthropic(list(chunks)))
    return None
