"""jsontrace_view._text: building Rich text from untrusted strings."""

from __future__ import annotations

from jsontrace.store import RunStore
from jsontrace_view._text import cut, json_text, plain, run_label, value_text


def test_plain_never_reads_markup_and_escapes_controls() -> None:
    """Markup stays literal text without styles; ESC shows as \\x1b."""
    text = plain("[bold]hi[/b] \x1b[2J")

    assert "[bold]hi[/b] \\x1b[2J" == text.plain
    assert [] == text.spans


def test_json_text_is_pretty_and_escaped() -> None:
    """JSON is indented; control and bidi characters inside strings are escaped."""
    assert '{\n  "k": "a\\u001bb \\u202e"\n}' == json_text({"k": "a\x1bb \u202e"}).plain


def test_long_values_are_cut_unless_full() -> None:
    """A long value shows its start and how much is left; full shows everything."""
    value = "x" * 10_000

    shown = value_text(value).plain
    assert shown.startswith("x" * 4000)
    assert shown.endswith("… 6,000 more characters (press v to show all)")
    assert value == value_text(value, full=True).plain


def test_cut_stops_at_a_line_limit() -> None:
    """Many short lines are cut by count too."""
    shown, left_out = cut("line\n" * 500, full=False)

    assert (80, 2101) == (shown.count("\n") + 1, left_out)


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
