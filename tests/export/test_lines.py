"""jsontrace.export.write_trace: one trace's original lines, for bug reports and the viewer."""

from __future__ import annotations

import io
from pathlib import Path

from jsontrace.export import normalize_trace_id, trace_lines, write_trace

from .. import events as ev

T = "01a20c5b-2a3a-738c-9dff-db81c7fee9f7"
OTHER = "01a20c5b-2a3a-7000-8000-000000000001"


def test_lines_of_two_processes_merge_by_time_each_file_in_its_order(tmp_path: Path) -> None:
    """Both writers' lines come out, by time stamp, bytes untouched; other traces stay out,
    also one that mentions the id in a value; a partial last line (mid-write) is left out."""
    a = [
        ev.start(T, ts=ev.ts_at(0)),
        ev.chunk(T, 0, "x", ts=ev.ts_at(2)),
        ev.end(T, ts=ev.ts_at(4)),
    ]
    b = [ev.start("c", T, T, ts=ev.ts_at(1)), ev.end("c", trace=T, ts=ev.ts_at(3))]
    noise = ev.start(OTHER, inputs={"q": T}, ts=ev.ts_at(1))
    (tmp_path / "trace-a-1-00000.jsonl").write_bytes(ev.lines(*a) + b'{"event":"run.st')
    (tmp_path / "trace-b-2-00000.jsonl").write_bytes(ev.lines(noise, *b))

    out = io.BytesIO()
    count = write_trace(tmp_path, T, out)

    assert 5 == count
    assert ev.lines(a[0], b[0], a[1], b[1], a[2]) == out.getvalue()


def test_an_unknown_trace_or_directory_gives_nothing(tmp_path: Path) -> None:
    """No lines, no error: the caller says so."""
    (tmp_path / "trace-a-1-00000.jsonl").write_bytes(ev.lines(ev.start(OTHER)))

    assert [] == list(trace_lines(tmp_path, T))
    assert [] == list(trace_lines(tmp_path / "missing", T))


def test_trace_ids_are_taken_as_uuids_or_otlp_hex() -> None:
    """The 32 hex digits of an OTLP trace id (any case) become the UUID the files hold."""
    assert T == normalize_trace_id("01A20C5B2A3A738C9DFFDB81C7FEE9F7")
    assert T == normalize_trace_id(f" {T} ")
    assert "not-a-uuid" == normalize_trace_id("not-a-uuid")
