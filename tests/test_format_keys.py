"""The events the library writes use exactly the names and order that format.py declares."""

from __future__ import annotations

from collections.abc import Iterator

from jsontrace import format as fmt
from jsontrace import traceable
from jsontrace.testing import capture_traces


def test_written_keys_are_format_names_in_order() -> None:
    """run.start, run.chunk and run.end carry format.py's keys, envelope first, in the documented order."""

    @traceable
    def stream() -> Iterator[int]:
        yield 1

    with capture_traces() as traces:
        list(stream())
    start, chunk, end = traces.events
    envelope = [fmt.EVENT, fmt.RUN_ID, fmt.TRACE_ID, fmt.VERSION, fmt.TS]
    assert [*envelope, fmt.PARENT_RUN_ID, fmt.NAME, fmt.RUN_TYPE, fmt.INPUTS, fmt.TAGS,
            fmt.METADATA, fmt.PID, fmt.HOST] == list(start)  # fmt: skip
    assert [*envelope, fmt.CHUNK_SEQ, fmt.CHUNK_VALUE] == list(chunk)
    assert [*envelope, fmt.STATUS, fmt.OUTPUTS, fmt.ERROR, fmt.CHUNK_COUNT, fmt.DURATION_MS,
            fmt.FIRST_CHUNK_MS] == list(end)  # fmt: skip
    assert [fmt.START, fmt.CHUNK, fmt.END] == [e[fmt.EVENT] for e in traces.events]
    assert {fmt.FORMAT_VERSION} == {e[fmt.VERSION] for e in traces.events}
