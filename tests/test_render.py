"""jsontrace.render: runs as plain text that is safe to write to a terminal."""

from __future__ import annotations

import pytest

from jsontrace.render import (
    chat_messages,
    format_cost,
    format_duration,
    printable,
    render_run_line,
    render_tree,
    run_line,
)
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


def test_preview_shows_what_a_run_was_asked_on_one_line() -> None:
    """A lone key's value, a chat's last user message, a question-like key, else key: value pairs."""
    from jsontrace.render import preview

    assert "What is 2+2?" == preview({"question": "What is  2+2?\n"})
    assert "and now?" == preview(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                      {"role": "user", "content": [{"type": "text", "text": "and now?"}]}],
         "model": "m"}
    )  # fmt: skip
    assert "find docs" == preview({"query": "find docs", "k": 3})
    assert "a: 1, b: [x, true]" == preview({"a": 1, "b": ["x", True]})
    assert "" == preview(None)
    assert "" == preview({})
    assert "\\x1b[2J" == preview("\x1b[2J")  # printable: escapes never reach the terminal


def test_preview_cuts_long_values_without_serialising_them_whole() -> None:
    """A long input ends in … at the limit; a huge value is only read up to the limit."""
    from jsontrace.render import preview

    shown = preview({"a": "x" * 1_000_000, "b": list(range(1_000_000))}, limit=20)
    assert "a: xxxxxxxxxxxxxxxx…" == shown
    assert 20 == len(shown)


def test_format_started_ages_within_the_hour_then_clock_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Recent starts read as ages, earlier ones today as clock times, older ones with their day."""
    import time

    from jsontrace.render import format_started

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        now = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
        assert " 12s ago" == format_started(now - 12.7, now)
        assert "  5m ago" == format_started(now - 330, now)
        assert "09:06:40" == format_started(now - 7200, now)
        assert "Nov 17 11:06" == format_started(now - 86_400, now)
        assert "2025-11-18" == format_started(now - 365 * 86_400, now)
        assert "11:06:50" == format_started(now + 10, now)  # a writer's clock ahead: its time
        assert "       ?" == format_started(None, now)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_run_line_adds_the_start_and_the_inputs_when_asked() -> None:
    """started= puts the start time after the status, inputs= a preview of the inputs last."""
    store = store_of(start("r", ts="2026-11-24T06:49:31.000000Z", inputs={"q": "hello"}), end("r"))
    run = store.get("r")
    assert run is not None
    now = run.started_at + 30  # type: ignore[operator]

    parts = run_line(run, now=now, status_word=False, started=True, inputs=True)
    assert [("✓", "status"), ("30s ago", "started"), ("r", "name")] == [
        (text.strip(), role) for text, role in parts[:3]
    ]
    assert ("hello", "preview") == parts[-1]
    assert "preview" not in [role for _, role in run_line(run, now=now)]  # --print: unchanged


def test_llm_run_line_shows_model_tokens_cost_and_speed() -> None:
    """An llm run's line: model, input→output tokens, cost; a streaming one its tokens per second."""
    usage = {"input_tokens": 312, "output_tokens": 85, "total_tokens": 397}
    store = store_of(
        start("call", run_type="llm"),
        end("call", model="gpt-4o-mini", usage=usage, duration_ms=820.0),
        start("stream", run_type="llm"),
        chunk("stream", 0),
        end(
            "stream",
            model="gpt-4o-mini",
            usage=usage,
            duration_ms=1200.0,
            first_chunk_ms=350.0,
            chunk_count=1,
        ),
    )

    assert [
        ("✓ ok", "status"),
        ("call", "name"),
        ("llm", "type"),
        ("gpt-4o-mini", "model"),
        ("312→85 tok", "tokens"),
        ("$0.000098", "cost"),
        ("820 ms", "duration"),
    ] == run_line(store.get("call"))  # type: ignore[arg-type]
    assert "1.20 s  100 tok/s  1 chunk" in render_run_line(store.get("stream"))  # type: ignore[arg-type]


def test_trace_line_shows_the_totals_of_its_calls() -> None:
    """A trace's line adds up the tokens and cost below it; "≥" when some call has no price."""
    usage = {"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500}
    store = store_of(
        start("root", ts="2026-11-24T06:49:31.000000Z"),
        start("a", "root", run_type="llm"), end("a", model="gpt-4o", usage=usage),
        start("b", "root", run_type="llm"), end("b", model="gpt-4o", usage=usage),
        end("root", duration_ms=2000.0),
        start("other", ts="2026-11-24T06:49:32.000000Z"),
        start("c", "other", run_type="llm"), end("c", model="unknown-model", usage=usage),
        start("d", "other", run_type="llm"), end("d", model="gpt-4o", usage=usage),
        end("other", duration_ms=10.0),
    )  # fmt: skip

    lines = list(render_tree(store))
    assert "✓ ok  root  chain  2.00 s  Σ 2,000→1,000 tok  $0.015" == lines[3]
    assert "✓ ok  other  chain  10 ms  Σ 2,000→1,000 tok  ≥$0.0075" == lines[0]
    assert "unknown-model  1,000→500 tok  5.00 ms" in lines[1]


def test_format_cost_keeps_two_significant_digits_below_a_cent() -> None:
    """Costs of a dollar or more read as dollars and cents; smaller ones keep two significant digits."""
    assert ["$1.23", "$0.050", "$0.0042", "$0.000098", "$0"] == [
        format_cost(x) for x in (1.234, 0.05, 0.00421, 0.0000978, 0.0)
    ]


def test_chat_messages_of_requests_and_responses() -> None:
    """Chat-shaped inputs and outputs of the SDKs become (role, text); tool calls and parts are spelled out."""
    assert [("system", "Be brief."), ("user", "Hi"), ("assistant", "→ get_weather({\"city\":\"Paris\"})"),
            ("tool call_1", "sunny")] == chat_messages({"model": "m", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_1", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]})  # fmt: skip
    assert [("assistant", "Hello")] == chat_messages(
        {
            "object": "chat.completion",
            "choices": [{"message": {"role": "assistant", "content": "Hello"}}],
        }
    )
    assert [("assistant", "Hi\n→ lookup({\"q\":1})")] == chat_messages(
        {"type": "message", "role": "assistant", "content": [
            {"type": "text", "text": "Hi"}, {"type": "tool_use", "name": "lookup", "input": {"q": 1}}]}
    )  # fmt: skip
    assert [("system", "Be kind."), ("user", "Hi")] == chat_messages(
        {"model": "o4-mini", "instructions": "Be kind.", "input": "Hi"}
    )
    assert [("assistant", "Done")] == chat_messages(
        {"output": [{"type": "message", "content": [{"type": "output_text", "text": "Done"}]}]}
    )


def test_values_that_are_not_chat_messages_are_left_alone() -> None:
    """Ordinary inputs and outputs (an "input" argument, lists of records) are not taken for messages."""
    for value in (
        {"input": "some text"},
        {"output": [{"a": 1}]},
        [{"role": 3}],
        {"messages": ["x"]},
        "text",
        None,
        [],
    ):
        assert None is chat_messages(value), value
