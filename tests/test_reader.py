"""jsontrace.reader: tailing segment files by byte offset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from jsontrace.reader import BadLine, DirectoryReader


def line(**fields: Any) -> bytes:
    return orjson.dumps(fields) + b"\n"


def read_all(reader: DirectoryReader) -> list[Any]:
    return [event for batch in reader.poll() for event in batch.events]


def test_reads_complete_lines_and_then_only_new_ones(tmp_path: Path) -> None:
    """A second poll returns only what was appended since the first."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1) + line(n=2))
    reader = DirectoryReader(tmp_path)

    assert [{"n": 1}, {"n": 2}] == read_all(reader)

    with path.open("ab") as f:
        f.write(line(n=3))
    assert [{"n": 3}] == read_all(reader)
    assert [] == read_all(reader)


def test_holds_back_a_partial_last_line_until_its_newline(tmp_path: Path) -> None:
    """Half a line is not parsed (nor counted bad); it is read whole once finished."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1) + b'{"n": ')
    reader = DirectoryReader(tmp_path)

    assert [{"n": 1}] == read_all(reader)
    assert 0 == reader.bad_lines

    with path.open("ab") as f:
        f.write(b"2}\n")
    assert [{"n": 2}] == read_all(reader)


def test_a_line_longer_than_a_block_is_read_whole(tmp_path: Path) -> None:
    """Blocks are only a read size: a line spanning several blocks still parses."""
    big = "x" * 5000
    (tmp_path / "a.jsonl").write_bytes(line(n=1) + line(s=big) + line(n=3))
    reader = DirectoryReader(tmp_path, block_size=1024)

    assert [{"n": 1}, {"s": big}, {"n": 3}] == read_all(reader)


def test_a_line_longer_than_the_limit_is_skipped_as_bad(tmp_path: Path) -> None:
    """An absurdly long line is dropped and reported, and reading goes on after it."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1) + line(s="x" * 5000) + line(n=3))
    reader = DirectoryReader(tmp_path, block_size=1024, max_line_bytes=2048)

    assert [{"n": 1}, {"n": 3}] == read_all(reader)
    assert 1 == reader.bad_lines
    assert 2 == reader.bad_samples[0].line


def test_invalid_utf8_and_non_json_lines_are_counted_with_samples(tmp_path: Path) -> None:
    """Bad lines never raise; they are counted and sampled with file:line."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1) + b"\xff\xfe{}\n" + b"not json\n" + line(n=4))
    reader = DirectoryReader(tmp_path)

    events = [event for batch in reader.poll() for event in batch.events]

    assert [{"n": 1}, {"n": 4}] == events
    assert 2 == reader.bad_lines
    assert ["invalid UTF-8", "not JSON"] == [s.reason.split(" (")[0] for s in reader.bad_samples]
    assert "a.jsonl:3: not JSON" == str(reader.bad_samples[1]).split(" (")[0]


def test_batches_know_line_numbers_around_bad_lines(tmp_path: Path) -> None:
    """Line numbers of good events skip the dropped bad ones."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1) + b"oops\n" + line(n=3))
    batch = next(DirectoryReader(tmp_path).poll())

    assert [1, 3] == [batch.line_of(i) for i in range(len(batch.events))]


def test_truncated_file_is_read_again_from_the_start_with_a_notice(tmp_path: Path) -> None:
    """A file smaller than the offset was truncated: start over and say so."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1) + line(n=2))
    reader = DirectoryReader(tmp_path)
    read_all(reader)

    path.write_bytes(line(n=9))

    assert [{"n": 9}] == read_all(reader)
    assert 1 == reader.truncations
    assert ["a.jsonl shrank; reading it again from the start"] == reader.take_notices()


def test_new_files_and_segments_are_picked_up_in_name_order(tmp_path: Path) -> None:
    """Each poll lists the directory again; files are read oldest segment first."""
    (tmp_path / "trace-1-h-1-00000.jsonl").write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    read_all(reader)

    (tmp_path / "trace-1-h-1-00002.jsonl").write_bytes(line(n=3))
    (tmp_path / "trace-1-h-1-00001.jsonl").write_bytes(line(n=2))
    (tmp_path / "notes.txt").write_bytes(line(n=0))

    assert [{"n": 2}, {"n": 3}] == read_all(reader)
    assert 3 == len(reader.files)


def test_deleted_files_are_forgotten_without_error(tmp_path: Path) -> None:
    """Retention may delete old segments: the reader drops them and notes it."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    read_all(reader)

    path.unlink()

    assert [] == read_all(reader)
    assert {} == reader.files
    assert ["a.jsonl was deleted"] == reader.take_notices()
    assert [] == list(reader.read_file("a.jsonl"))


def test_missing_directory_gives_nothing_and_a_notice(tmp_path: Path) -> None:
    """A directory that is gone is not an exception."""
    reader = DirectoryReader(tmp_path / "nope")

    assert [] == read_all(reader)
    assert 1 == len(reader.take_notices())


def test_read_range_returns_the_bytes_of_a_batch(tmp_path: Path) -> None:
    """Sources let a run's raw lines be read again later, until the file changes."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    batch = next(reader.poll())

    assert line(n=1) == reader.read_range(batch.source)

    path.write_bytes(b"")
    read_all(reader)
    assert None is reader.read_range(batch.source)


def test_read_file_accepts_a_full_path(tmp_path: Path) -> None:
    """Watch hints give full paths; only the name within the directory matters."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)

    assert [{"n": 1}] == [e for b in reader.read_file(tmp_path / "a.jsonl") for e in b.events]
    assert [] == list(reader.read_file(tmp_path / "other.txt"))


def test_bad_line_str_is_file_line_reason_excerpt() -> None:
    """Samples print as file:line: reason: excerpt."""
    assert "f.jsonl:3: empty line: " == str(BadLine("f.jsonl", 3, "empty line", ""))


def test_importing_reader_and_runs_loads_neither_textual_nor_watchdog() -> None:
    """The reading side is usable without the UI stack (the doctor, scripts)."""
    code = (
        "import sys, jsontrace.reader, jsontrace.store; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'watchdog')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert "[]" == out.stdout.strip()


RUN_ID = "01a20c95-05eb-78ca-9937-7a3f2070bfb0"


def chunk_line(seq: int, run_id: str = RUN_ID) -> bytes:
    """A chunk line in the writer's layout (keys in the order the library writes them)."""
    return line(event="run.chunk", run_id=run_id, trace_id=run_id, v=1, ts="t", seq=seq, chunk="x")


def test_deferred_chunk_lines_stay_bytes_and_events_keep_their_line_numbers(
    tmp_path: Path,
) -> None:
    """defer_chunks sets the writer's chunk lines aside undecoded; other events keep exact numbers."""
    reordered = line(run_id=RUN_ID, event="run.chunk", v=1, seq=2, chunk="y")  # not the layout
    lines = [line(n=1), chunk_line(0), chunk_line(1), line(n=4), reordered]
    (tmp_path / "a.jsonl").write_bytes(b"".join(lines))

    batch = next(DirectoryReader(tmp_path, defer_chunks=True).poll())
    eager = next(DirectoryReader(tmp_path).poll())

    assert [lines[1].rstrip(b"\n"), lines[2].rstrip(b"\n")] == batch.chunk_lines
    assert [{"n": 1}, {"n": 4}, orjson.loads(reordered)] == batch.events
    assert [1, 4, 5] == [batch.line_of(i) for i in range(len(batch.events))]
    assert ([], 5) == (eager.chunk_lines, len(eager.events))


def test_a_bad_line_among_deferred_chunk_lines_is_counted_with_its_line_number(
    tmp_path: Path,
) -> None:
    """A bad line in a block with deferred chunks is still found, numbered and skipped."""
    (tmp_path / "a.jsonl").write_bytes(chunk_line(0) + b"oops\n" + chunk_line(1) + line(n=4))
    reader = DirectoryReader(tmp_path, defer_chunks=True)

    batch = next(reader.poll())

    assert 2 == len(batch.chunk_lines)
    assert ([{"n": 4}], [4]) == (batch.events, [batch.line_of(0)])
    assert (1, "a.jsonl:2: not JSON") == (
        reader.bad_lines,
        str(reader.bad_samples[0]).split(" (")[0],
    )


def test_a_file_made_again_under_its_name_is_a_new_generation_read_in_full(
    tmp_path: Path,
) -> None:
    """Deleted and written again: new generation, and no chunk line deferred (they may be repeats)."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(chunk_line(0) + chunk_line(1))
    reader = DirectoryReader(tmp_path, defer_chunks=True)
    first = next(reader.poll())

    path.unlink()
    list(reader.poll())  # notices the deletion
    path.write_bytes(chunk_line(0) + chunk_line(1))
    again = next(reader.poll())

    assert (0, 2, 0) == (first.source[1], len(first.chunk_lines), len(first.events))
    assert (1, 0, 2) == (again.source[1], len(again.chunk_lines), len(again.events))
