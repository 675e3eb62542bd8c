"""jsontrace_view._text: building Rich text from untrusted strings."""

from __future__ import annotations

import orjson

from jsontrace.store import RunStore
from jsontrace_view._text import (
    chat_text,
    cut,
    json_prefix,
    json_text,
    page_end,
    plain,
    run_label,
    value_text,
)


def test_plain_never_reads_markup_and_escapes_controls() -> None:
    """Markup stays literal text without styles; ESC shows as \\x1b."""
    text = plain("[bold]hi[/b] \x1b[2J")

    assert "[bold]hi[/b] \\x1b[2J" == text.plain
    assert [] == text.spans


def test_json_text_is_pretty_and_escaped() -> None:
    """JSON is indented; control and bidi characters inside strings are escaped."""
    assert '{\n  "k": "a\\u001bb \\u202e"\n}' == json_text({"k": "a\x1bb \u202e"}).plain


def test_long_values_show_their_first_screenful_and_what_is_left() -> None:
    """A long value shows its start and how much is left: the pager (v) has the rest."""
    value = "x" * 10_000

    shown = value_text(value).plain
    assert shown.startswith("x" * 4000)
    assert shown.endswith("… 6,000 more characters (v pages through all of it)")
    assert 4000 + 52 == len(shown)


def test_chat_messages_show_one_screenful_in_all() -> None:
    """Thousands of messages, one of them huge: a screenful is shown, then how much is left."""
    messages = [("user", "y" * 5_000_000)] + [("assistant", f"reply {n}") for n in range(10_000)]

    shown = chat_text(messages).plain
    assert shown.startswith("user\n" + "y" * 100)
    assert "… 4,996,000 more characters (v pages through all of it)" in shown
    assert shown.endswith("… 10,000 more messages (v pages through all of it)")
    assert len(shown) < 4_200


def test_cut_stops_at_a_line_limit() -> None:
    """Many short lines are cut by count too."""
    shown, left_out = cut("line\n" * 500)

    assert (80, 2101) == (shown.count("\n") + 1, left_out)


def test_json_prefix_walks_only_what_a_screenful_needs() -> None:
    """A 50 MB string inside a value and a million-item list: a bounded prefix, like OPT_INDENT_2's start."""
    big = {"prompt": "x" * 50_000_000, "n": 1}
    shown, more = json_prefix(big)
    assert (True, 4000) == (more, len(shown))
    assert shown.startswith('{\n  "prompt": "xxx')

    shown, more = json_prefix(list(range(1_000_000)))
    assert (True, 80) == (more, shown.count("\n") + 1)
    small = {"a": [1, {}, []], "b": None, "c": "é\u202e"}
    assert (orjson.dumps(small, option=orjson.OPT_INDENT_2).decode(), False) == json_prefix(small)


def test_pages_cover_the_text_once_in_order_and_cut_long_lines() -> None:
    """Page after page covers a text without gaps or overlaps; a line longer than a page is cut."""
    text = "\n".join(f"line {n}" for n in range(1000)) + "\n" + "y" * 5000
    starts, at = [], 0
    while at < len(text):
        starts.append(at)
        end = page_end(text, at, 10, 40)
        assert end > at
        at = end
    assert 0 == starts[0] and at == len(text)
    assert 10 == text[starts[1] : starts[2]].count("\n")
    assert 400 == page_end("y" * 5000, 0, 10, 40)


def test_run_label_marks_errors_inside() -> None:
    """A parent of a failed run says so, next to its own status."""
    store = RunStore()
    base = {"v": 1, "trace_id": "p", "ts": "2026-11-24T06:49:31.000000Z"}
    store.add_events([
        {**base, "event": "run.start", "run_id": "p", "parent_run_id": None, "name": "parent"},
        {**base, "event": "run.start", "run_id": "c", "parent_run_id": "p", "name": "child"},
        {**base, "event": "run.end", "run_id": "c", "status": "error", "error": {"type": "E"}},
    ])  # fmt: skip

    assert "⚠ error inside" in run_label(store.runs["p"], now=0).plain
    assert run_label(store.runs["c"]).plain.startswith("✗ child")
