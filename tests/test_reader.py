"""jsontrace.reader: tailing segment files by byte offset."""

from __future__ import annotations

import builtins
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from jsontrace.reader import BadLine, DirectoryReader, FileState


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


def test_missing_directory_is_a_condition_that_clears_when_it_comes_back(tmp_path: Path) -> None:
    """A directory that is gone is not an exception: a condition says so, until it is back."""
    directory = tmp_path / "gone"
    reader = DirectoryReader(directory)

    assert [] == read_all(reader)
    assert [f"cannot list {directory}: No such file or directory"] == reader.conditions

    directory.mkdir()
    (directory / "a.jsonl").write_bytes(line(n=1))
    assert [{"n": 1}] == read_all(reader)
    assert [] == reader.conditions


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


# -- files that are not regular, and reads that take long (issue 10, items 1 and 7) --------


def _in_thread(function: Callable[[], Any], timeout: float = 5.0) -> tuple[bool, list[Any]]:
    """Run *function* in a daemon thread; (finished within *timeout*, [its result])."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()), daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_created_while_tailing_is_skipped_and_counted_once(tmp_path: Path) -> None:
    """A FIFO named by a watch hint after start-up is never opened for reading (that blocks forever)."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    read_all(reader)
    fifo = tmp_path / "x.jsonl"
    os.mkfifo(fifo)
    try:
        finished, result = _in_thread(lambda: list(reader.read_file(fifo)))
        assert (True, [[]]) == (finished, result)
        list(reader.read_file(fifo))
        read_all(reader)
        assert (1, {"x.jsonl": "a FIFO, not a regular file"}) == (
            reader.skipped_files,
            reader.skipped,
        )
        assert ["skipped x.jsonl: a FIFO, not a regular file"] == [
            n for n in reader.take_notices() if "x.jsonl" in n
        ]
    finally:
        # Unblocks a reader stuck in open() (the bug this test is about), if any.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_created_while_tailing_is_skipped_and_counted_once(
    tmp_path: Path,
) -> None:
    """A hint for a symlink to /dev/zero returns at once: the target is a device, never read."""
    reader = DirectoryReader(tmp_path, max_line_bytes=1 << 20)
    read_all(reader)
    (tmp_path / "z.jsonl").symlink_to("/dev/zero")

    finished, result = _in_thread(lambda: list(reader.read_file("z.jsonl")))
    assert (True, [[]]) == (
        finished,
        result,
    )  # (before anything else: a stuck reader holds its lock)

    read_all(reader)
    read_all(reader)
    assert (1, {"z.jsonl": "a character device, not a regular file"}) == (
        reader.skipped_files,
        reader.skipped,
    )
    assert 0 == reader.bytes_read


class _Proxy:
    """A file object whose reads go through a hook (to watch or slow down a reader's reads)."""

    def __init__(self, file: Any, hook: Callable[[bytes], None]) -> None:
        self._file, self._hook = file, hook

    def read(self, *args: Any) -> bytes:
        data: bytes = self._file.read(*args)
        self._hook(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def _hook_reads(monkeypatch: pytest.MonkeyPatch, hook: Callable[[bytes], None]) -> None:
    """Call *hook* with what every read of a file returns (os.pread, or a file from open())."""
    real_pread, real_open = os.pread, builtins.open

    def pread(fd: int, size: int, offset: int) -> bytes:
        data = real_pread(fd, size, offset)
        hook(data)
        return data

    def opened(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        file = real_open(path, mode, *args, **kwargs)
        return _Proxy(file, hook) if "b" in mode and "r" in mode else file

    monkeypatch.setattr(os, "pread", pread)
    monkeypatch.setattr(builtins, "open", opened)


def test_no_lock_is_held_while_a_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one thread is stuck in a read, another still gets notices and conditions at once."""
    (tmp_path / "a.jsonl").write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    inside, release = threading.Event(), threading.Event()

    def slow(_: bytes) -> None:
        inside.set()
        release.wait(10)

    _hook_reads(monkeypatch, slow)
    reading = threading.Thread(target=lambda: read_all(reader), daemon=True)
    reading.start()
    try:
        assert inside.wait(5)
        finished, _ = _in_thread(reader.take_notices, 2.0)
        assert finished
    finally:
        release.set()
        reading.join(10)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the reader opens from now on, by name (os.open and the builtin open)."""
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def counting_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.path.basename(os.fspath(path)))
        return real_os_open(path, *args, **kwargs)

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.path.basename(os.fspath(path)))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_os_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    return opened


def test_a_rescan_opens_only_files_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """poll() compares inode, size and mtime first: unchanged files are not opened again."""
    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):
        (tmp_path / name).write_bytes(line(n=1))
    reader = DirectoryReader(tmp_path)
    read_all(reader)
    opened = _count_opens(monkeypatch)

    read_all(reader)
    assert [] == opened

    with (tmp_path / "b.jsonl").open("ab") as f:
        f.write(line(n=2))
    assert [{"n": 2}] == read_all(reader)
    assert ["b.jsonl"] == opened


def test_a_partial_last_line_is_not_read_again_on_every_rescan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file without its final newline: rescans read nothing new until it grows, then only the new bytes."""
    path = tmp_path / "a.jsonl"
    tail = b'{"big": "' + b"x" * 200_000
    path.write_bytes(line(n=1) + tail)
    reader = DirectoryReader(tmp_path, block_size=4096)
    assert [{"n": 1}] == read_all(reader)
    read_sizes: list[int] = []
    _hook_reads(monkeypatch, lambda data: read_sizes.append(len(data)))
    for _ in range(3):
        assert [] == read_all(reader)
    assert 0 == sum(read_sizes)

    with path.open("ab") as f:
        f.write(b"y" * 1000)
    assert [] == read_all(reader)
    assert sum(read_sizes) < 10_000  # the 1,000 new bytes and a fingerprint, not 200 kB again

    read_sizes.clear()
    with path.open("ab") as f:
        f.write(b'"}\n')
    assert [{"big": "x" * 200_000 + "y" * 1000}] == read_all(reader)
    assert sum(read_sizes) < 250_000  # the line, read once it is whole


def test_a_file_rewritten_in_place_past_its_old_offset_is_read_again_from_the_start(
    tmp_path: Path,
) -> None:
    """Truncated and refilled beyond the old offset (same inode): the first bytes changed, so start over."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(n=1) + line(n=2))
    reader = DirectoryReader(tmp_path)
    assert [{"n": 1}, {"n": 2}] == read_all(reader)
    inode = path.stat().st_ino

    with path.open("r+b") as f:  # in place: same inode, content replaced, longer than before
        f.truncate(0)
        f.write(line(n=10) + line(n=20) + line(n=30))
    assert inode == path.stat().st_ino

    assert [{"n": 10}, {"n": 20}, {"n": 30}] == read_all(reader)
    assert ["a.jsonl was rewritten; reading it again from the start"] == reader.take_notices()
    assert 1 == reader.files["a.jsonl"].generation


def test_a_state_put_in_by_hand_reads_on_from_its_offset_and_its_lines_read_again(
    tmp_path: Path,
) -> None:
    """A resumed export sets reader.files[name] = FileState(name, offset=...): the reader reads
    only what lies past the offset, and the lines it reads can be read again by file id."""
    first, second = b'{"n": 1}\n', b'{"n": 2}\n'
    path = tmp_path / "t.jsonl"
    path.write_bytes(first + second)
    reader = DirectoryReader(tmp_path)
    st = path.stat()
    reader.files["t.jsonl"] = FileState("t.jsonl", offset=len(first), inode=st.st_ino, size=0)

    (batch,) = list(reader.poll())

    assert [{"n": 2}] == batch.events
    start, end = batch.span(0)
    assert second == reader.read_span(batch.file_id, start, end)
