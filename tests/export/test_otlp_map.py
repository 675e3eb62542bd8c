"""jsontrace.export._otlp_map: one run as one span (ids, times, status, attributes, events)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from jsontrace import pricing
from jsontrace._host import HOST
from jsontrace.export._otlp_map import (
    FIRST_CHUNK_EVENT,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    MapOptions,
    Resource,
    Span,
    attribute_value,
    parse_ts_ns,
    span_id_hex,
    span_of,
    trace_id_hex,
)
from jsontrace.store import RunRecord, RunStore

from ..events import chunk, end, start, ts_at

ROOT = "01a20c5b-2a3a-738c-9dff-db81c7fee9f7"
CHILD = "01a20c5b-2a3a-74f3-b984-ce135be17a49"
#: The same millisecond as CHILD (the first 6 bytes), another random part.
TWIN = "01a20c5b-2a3a-74f3-a000-00000000beef"


def record_of(*events: dict[str, Any], run_id: str = ROOT) -> RunRecord:
    store = RunStore()
    store.add_events(events)
    record = store.get(run_id)
    assert record is not None
    return record


def attrs(span: Span) -> dict[str, Any]:
    return dict(span.attributes)


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_ids_come_from_the_uuids_and_the_span_id_from_the_random_part() -> None:
    """traceId is the trace's UUID; spanId the run UUID's last 8 bytes, never its time bits."""
    record = record_of(start(ROOT), start(CHILD, ROOT), end(CHILD), run_id=CHILD)

    span = span_of(record)

    assert "01a20c5b2a3a738c9dffdb81c7fee9f7" == span.trace_id
    assert "b984ce135be17a49" == span.span_id
    assert "9dffdb81c7fee9f7" == span.parent_span_id
    assert span_id_hex(CHILD) != span_id_hex(TWIN)  # same millisecond, no collision


def test_ids_that_are_not_uuids_are_hashed_to_the_right_sizes_deterministically() -> None:
    """Other writers' ids still give valid, stable, non-zero OTLP ids."""
    assert 32 == len(trace_id_hex("my-trace")) and 16 == len(span_id_hex("r1"))
    assert span_id_hex("r1") == span_id_hex("r1") != span_id_hex("r2")
    assert "0" * 16 != span_id_hex("r1")
    assert span_id_hex("00000000-0000-7000-8000-000000000000") != "0" * 16


def test_times_are_unix_nanoseconds_from_the_start_stamp_plus_the_duration() -> None:
    """Start from the start's ts (exact microseconds), end = start + duration_ms."""
    record = record_of(start(ROOT, ts="2026-11-24T07:00:41.123456Z"), end(ROOT, duration_ms=2.5))

    span = span_of(record)

    assert 1795503641_123456000 == span.start_ns
    assert 1795503641_123456000 + 2_500_000 == span.end_ns
    assert 1795503641_123456000 == parse_ts_ns("2026-11-24T07:00:41.123456+00:00")


@pytest.mark.parametrize(
    ("run_type", "kind"),
    [
        ("llm", "LLM"),
        ("chain", "CHAIN"),
        ("tool", "TOOL"),
        ("retriever", "RETRIEVER"),
        ("embedding", "EMBEDDING"),
        ("prompt", "PROMPT"),
        ("parser", "CHAIN"),
        ("something-else", "CHAIN"),
    ],
)
def test_run_type_gives_the_openinference_span_kind(run_type: str, kind: str) -> None:
    """openinference.span.kind from run_type; parsers and unknown types are CHAIN."""
    span = span_of(record_of(start(ROOT, run_type=run_type), end(ROOT)))

    assert kind == attrs(span)["openinference.span.kind"]
    assert run_type == attrs(span)["jsontrace.run_type"]


def test_inputs_and_outputs_are_values_with_their_mime_types() -> None:
    """Objects become JSON (application/json); text stays text (text/plain)."""
    span = span_of(
        record_of(start(ROOT, inputs={"q": "hi", "n": 2}), end(ROOT, outputs="hello there"))
    )

    a = attrs(span)
    assert ('{"q":"hi","n":2}', "application/json") == (a["input.value"], a["input.mime_type"])
    assert ("hello there", "text/plain") == (a["output.value"], a["output.mime_type"])


def test_metadata_tags_session_and_user() -> None:
    """metadata as JSON, tag.tags as a list, session.id and user.id from the metadata."""
    metadata = {"thread_id": "t-9", "user_id": 7, "temperature": 0.2}
    span = span_of(record_of(start(ROOT, metadata=metadata, tags=["a", "b"]), end(ROOT)))

    a = attrs(span)
    assert '{"thread_id":"t-9","user_id":7,"temperature":0.2}' == a["metadata"]
    assert ["a", "b"] == a["tag.tags"]
    assert ("t-9", "7") == (a["session.id"], a["user.id"])


def test_model_and_usage_under_openinference_and_gen_ai_names() -> None:
    """ls_model_name and run.end's usage become llm.* and gen_ai.* attributes."""
    usage = {
        "input_tokens": 12,
        "output_tokens": 5,
        "total_tokens": 17,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 2},
    }
    span = span_of(
        record_of(
            start(ROOT, run_type="llm", metadata={"ls_model_name": "gpt-4o-mini"}),
            end(ROOT, usage=usage),
        )
    )

    a = attrs(span)
    assert ("gpt-4o-mini", "gpt-4o-mini") == (a["llm.model_name"], a["gen_ai.request.model"])
    assert (12, 5, 17) == (
        a["llm.token_count.prompt"],
        a["llm.token_count.completion"],
        a["llm.token_count.total"],
    )
    assert (12, 5) == (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"])
    assert (4, 4) == (
        a["llm.token_count.prompt_details.cache_read"],
        a["gen_ai.usage.cache_read.input_tokens"],
    )
    assert 2 == a["llm.token_count.completion_details.reasoning"]


def test_provider_cost_and_a_summed_total() -> None:
    """ls_provider names the provider; the cost comes from the price table; total = in + out."""
    span = span_of(
        record_of(
            start(
                ROOT,
                run_type="llm",
                metadata={"ls_model_name": "gpt-4o-mini", "ls_provider": "openai"},
            ),
            end(ROOT, usage={"input_tokens": 1_000_000, "output_tokens": 1_000_000}),
        )
    )

    a = attrs(span)
    assert 2_000_000 == a["llm.token_count.total"]
    assert ("openai", "openai") == (a["llm.provider"], a["gen_ai.provider.name"])
    expected = pricing.cost(
        "gpt-4o-mini",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "total_tokens": 2_000_000},
    )
    assert expected is not None
    assert (expected.total, expected.input, expected.output) == (
        a["llm.cost.total"],
        a["llm.cost.prompt"],
        a["llm.cost.completion"],
    )
    assert a["llm.cost.total"] > 0


def test_no_usage_no_token_or_cost_attributes() -> None:
    """A run without usage carries no token counts and no cost."""
    a = attrs(span_of(record_of(start(ROOT, run_type="llm"), end(ROOT, outputs="hi"))))

    assert not [k for k in a if k.startswith(("llm.token_count", "llm.cost", "gen_ai.usage"))]


def test_an_error_is_an_error_status_and_an_exception_event() -> None:
    """status ERROR with 'Type: message', and an exception event with type, message, stacktrace."""
    error = {"type": "ValueError", "message": "bad", "traceback": "Traceback...\nValueError: bad"}
    span = span_of(record_of(start(ROOT), end(ROOT, "error", error=error, duration_ms=1.0)))

    assert (STATUS_ERROR, "ValueError: bad") == (span.status_code, span.status_message)
    [event] = span.events
    assert ("exception", span.end_ns) == (event.name, event.time_ns)
    assert {
        "exception.type": "ValueError",
        "exception.message": "bad",
        "exception.stacktrace": "Traceback...\nValueError: bad",
    } == dict(event.attributes)


def test_ok_and_cancelled_are_told_apart() -> None:
    """ok is OK; cancelled (the consumer stopped) is UNSET, with jsontrace.status saying so."""
    ok = span_of(record_of(start(ROOT), end(ROOT)))
    cancelled = span_of(record_of(start(ROOT), end(ROOT, "cancelled")))

    assert (STATUS_OK, "ok") == (ok.status_code, attrs(ok)["jsontrace.status"])
    assert (STATUS_UNSET, "cancelled") == (
        cancelled.status_code,
        attrs(cancelled)["jsontrace.status"],
    )


def test_an_interrupted_run_is_an_error_with_its_streamed_output_lasting_past_its_children() -> (
    None
):
    """Writer gone: ERROR 'interrupted', the chunks so far as output, ending after its children."""
    pid = dead_pid()
    store = RunStore()
    store.add_events(
        [
            start(ROOT, pid=pid, host=HOST, ts=ts_at(0)),
            start(CHILD, ROOT, pid=pid, host=HOST, ts=ts_at(1)),
            end(CHILD, ts=ts_at(3), duration_ms=2000.0),
            chunk(ROOT, 0, "part", ts=ts_at(1)),
            chunk(ROOT, 1, "ial", ts=ts_at(2)),
        ]
    )
    root = store.get(ROOT)
    assert root is not None

    span = span_of(root)

    a = attrs(span)
    assert (STATUS_ERROR, "interrupted") == (span.status_code, a["jsontrace.status"])
    assert span.status_message.startswith("interrupted")
    assert ("partial", "text/plain") == (a["output.value"], a["output.mime_type"])
    assert parse_ts_ns(ts_at(3)) == span.end_ns  # the child ended after the root's last chunk


def test_chunks_become_events_capped_with_a_count_of_the_rest() -> None:
    """The first N chunks are run.chunk events with seq and chunk; the rest are counted."""
    events = [start(ROOT, ts=ts_at(0))]
    events += [chunk(ROOT, seq, f"c{seq}", ts=ts_at(seq + 1)) for seq in range(5)]
    events.append(end(ROOT, chunk_count=5, first_chunk_ms=1000.0, duration_ms=6000.0))
    kept = [(seq, parse_ts_ns(ts_at(seq + 1)) or 0, f"c{seq}") for seq in range(5)]

    span = span_of(record_of(*events), kept, MapOptions(max_chunk_events=2))

    first, *chunks = span.events
    assert (FIRST_CHUNK_EVENT, span.start_ns + 1_000_000_000) == (first.name, first.time_ns)
    assert [[("seq", 0), ("chunk", "c0")], [("seq", 1), ("chunk", "c1")]] == [
        e.attributes for e in chunks
    ]
    assert ["run.chunk", "run.chunk"] == [e.name for e in chunks]
    assert 3 == span.dropped_events == attrs(span)["jsontrace.chunk_events.dropped"]
    assert 1.0 == attrs(span)["gen_ai.response.time_to_first_chunk"]


def test_the_resource_is_the_writer_process() -> None:
    """host and pid of the run.start become the span's resource."""
    span = span_of(record_of(start(ROOT, host="box", pid=41), end(ROOT)))

    assert Resource("box", 41) == span.resource


def test_attribute_values_keep_scalars_and_text_lists_and_write_the_rest_as_json() -> None:
    """AnyValue holds str, bool, int64, double, string arrays; anything else is JSON text."""
    assert [True, 3, 1.5, ["a"], "[1,2]", '{"k":null}', str(2**70), "nan"] == [
        attribute_value(v) for v in (True, 3, 1.5, ["a"], [1, 2], {"k": None}, 2**70, float("nan"))
    ]
