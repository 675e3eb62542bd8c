"""jsontrace.render: runs as plain text that is safe to write to a terminal."""

from __future__ import annotations

from jsontrace.render import format_duration, printable, render_run_line, render_tree, run_line
from jsontrace.store import RunStore

from .events import chunk, end, start


def store_of(*events: object) -> RunStore:
    store = RunStore()
    store.add_events(events)
    return store


def test_render_tree_is_indented_plain_text() -> None:
    """--print output: one line per run, box-drawing indentation, newest trace first."""
    store = store_of(
        start("root", ts="2026-11-24T06:49:31.000000Z"),
        start("child", "root"),
        end("child", "error", error={"type": "E", "message": "m"}, duration_ms=1500.0),
        end("root", duration_ms=2000.0),
    )

    assert [
        "✓ ok  root  chain  2.00 s  ⚠ error inside",
        "└── ✗ error  child  chain  1.50 s  E: m",
    ] == list(render_tree(store))


def test_printable_escapes_controls_and_bidi() -> None:
    """Terminal escapes, C1 controls and bidi overrides come out as visible escapes."""
    assert "a\\x1b[31mb\\x9b\\u202ec\\x00" == printable("a\x1b[31mb\x9b\u202ec\x00")
    assert "line\nnext\\x07" == printable("line\nnext\x07", multiline=True)
    assert "a\\x0ab" == printable("a\nb")


def test_format_duration_picks_a_readable_unit() -> None:
    """Durations read naturally from sub-millisecond to hours."""
    assert ["0.55 ms", "120 ms", "1.23 s", "2m 03s", "1h 02m", ""] == [
        format_duration(x) for x in (0.55, 120, 1230, 123_000, 3_720_000, None)
    ]


def test_run_line_names_each_part_and_counts_chunks_in_words() -> None:
    """One run line: status, name, type, duration, chunks (singular and plural), first chunk."""
    store = store_of(
        start("one"), chunk("one", 0), end("one", chunk_count=1, first_chunk_ms=3.0),
        start("two"), chunk("two", 0), chunk("two", 1), end("two", chunk_count=2),
    )  # fmt: skip

    one, two = (store.get(run_id) for run_id in ("one", "two"))
    assert [
        ("✓ ok", "status"),
        ("one", "name"),
        ("chain", "type"),
        ("5.00 ms", "duration"),
        ("1 chunk", "chunks"),
        ("first chunk 3.00 ms", "first_chunk"),
    ] == run_line(one)  # type: ignore[arg-type]
    assert "2 chunks" in render_run_line(two)  # type: ignore[arg-type]


def test_run_line_escapes_hostile_names_and_shows_an_errors_first_line() -> None:
    """Every part of a run line is printable: escapes, newlines and bidi controls are shown as escapes."""
    store = store_of(
        start("r", name="evil\x1b]0;title\x07\u202e"),
        end("r", "error", error={"type": "E", "message": "first\nsecond \x1b[31m"}),
    )

    line = render_run_line(store.get("r"))  # type: ignore[arg-type]
    assert "evil\\x1b]0;title\\x07\\u202e" in line
    assert "E: first …" in line
    assert "\x1b" not in line and "\n" not in line
