"""The segment writer: files and permissions, rotation, retention, crashes, threads, fork, faults."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import jsontrace
from jsontrace import _errors, _pipeline, _writer
from jsontrace._writer import SegmentWriter, segment_name

Events = Callable[[], list[dict[str, Any]]]


@jsontrace.traceable
def double(x: int) -> int:
    return 2 * x


def _lines(directory: Path) -> list[bytes]:
    """Every line of every segment, checking that each file ends with a complete line."""
    lines: list[bytes] = []
    for path in sorted(directory.glob("*.jsonl")):
        data = path.read_bytes()
        assert data == b"" or data.endswith(b"\n"), f"{path.name} ends with a partial line"
        lines.extend(data.splitlines())
    return lines


def _parsed(directory: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _lines(directory)]


class FakeClock:
    """Stands in for the ``time`` module inside ``_writer``: monotonic time moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.strftime = time.strftime
        self.gmtime = time.gmtime

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_writer, "time", fake)
    return fake


@pytest.fixture
def caught() -> Iterator[list[warnings.WarningMessage]]:
    """Every JsonTraceWarning raised while the test runs."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield seen


def _trace_warnings(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, jsontrace.JsonTraceWarning)]


def _writer_in_use() -> SegmentWriter:
    writer = _pipeline.current_writer()
    assert writer is not None
    return writer


# -- files, names, permissions ----------------------------------------------------------------


def test_directory_and_file_are_private_even_with_umask_0(log_dir: Path) -> None:
    """The directory is created 0700 and files 0600 on the first write, whatever the umask."""
    old = os.umask(0)
    try:
        double(1)
    finally:
        os.umask(old)
    (path,) = log_dir.glob("*.jsonl")
    assert 0o700 == stat.S_IMODE(log_dir.stat().st_mode)
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)


def test_nothing_is_created_before_the_first_event(log_dir: Path) -> None:
    """Importing and configuring create no directory; the first event does."""
    assert not log_dir.exists()
    double(1)
    assert log_dir.is_dir()


def test_default_directory_is_logs_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without configure(dir=...) or JSONTRACE_DIR, events go to ./logs."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    jsontrace.reset_defaults()
    double(1)
    assert 2 == len(_parsed(work / "logs"))


def test_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSONTRACE_DIR chooses the directory."""
    monkeypatch.setenv("JSONTRACE_DIR", str(tmp_path / "from-env"))
    jsontrace.reset_defaults()
    double(1)
    assert ["run.start", "run.end"] == [e["event"] for e in _parsed(tmp_path / "from-env")]


def test_file_name_holds_start_time_host_pid_and_segment(log_dir: Path) -> None:
    """One file per process: trace-<UTC start>-<host>-<pid>-<segment>.jsonl."""
    double(1)
    (path,) = log_dir.glob("*.jsonl")
    host = re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname())
    pattern = rf"trace-\d{{8}}T\d{{6}}Z-{re.escape(host)}-{os.getpid()}-00000\.jsonl"
    assert re.fullmatch(pattern, path.name), path.name


def test_segment_name_is_sortable_by_segment() -> None:
    """Segment numbers are zero-padded, so names sort in writing order."""
    names = [segment_name("20260101T000000Z", 7, n, host="h") for n in (9, 10, 100)]
    assert "trace-20260101T000000Z-h-7-00009.jsonl" == names[0]
    assert sorted(names) == names


def test_every_event_is_one_write_of_a_whole_line(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event reaches the file in exactly one os.write of one complete line."""
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    double(1)
    double(2)
    assert 4 == len(writes)
    assert all(w.endswith(b"\n") and w.count(b"\n") == 1 for w in writes)
    assert b"".join(writes) == next(log_dir.glob("*.jsonl")).read_bytes()


def test_each_chunk_is_in_the_file_before_the_consumer_gets_it(log_dir: Path) -> None:
    """A streamed chunk's line is written before the traced generator hands the chunk on."""

    @jsontrace.traceable
    def stream() -> Iterator[int]:
        yield from range(3)

    for value in stream():
        chunks = [
            e[jsontrace.format.CHUNK_VALUE] for e in _parsed(log_dir) if e["event"] == "run.chunk"
        ]
        assert value == chunks[-1]


# -- rotation and retention ----------------------------------------------------------------


def test_rotation_opens_new_segments_and_never_renames(log_dir: Path) -> None:
    """Past max_bytes a new numbered segment is opened; earlier files keep name and inode."""
    jsontrace.configure(max_bytes=600)
    double(0)
    (first,) = log_dir.glob("*.jsonl")
    inode = first.stat().st_ino
    for i in range(1, 20):
        double(i)
    paths = sorted(log_dir.glob("*.jsonl"))
    assert len(paths) > 3
    assert inode == first.stat().st_ino
    assert [f"{n:05d}" for n in range(len(paths))] == [p.stem.rsplit("-", 1)[1] for p in paths]
    assert all(p.stat().st_size <= 600 for p in paths)
    assert list(range(20)) == [
        e["inputs"]["x"] for e in _parsed(log_dir) if e["event"] == "run.start"
    ]


def test_rotation_from_environment(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSONTRACE_MAX_BYTES sets the segment size."""
    monkeypatch.setenv("JSONTRACE_MAX_BYTES", "1k")
    jsontrace.reset_defaults()
    jsontrace.configure(dir=log_dir)
    for i in range(20):
        double(i)
    assert all(p.stat().st_size <= 1024 for p in log_dir.glob("*.jsonl"))
    assert len(list(log_dir.glob("*.jsonl"))) > 1


def test_a_line_longer_than_max_bytes_is_written_whole(log_dir: Path) -> None:
    """A single event bigger than a segment is not cut: it gets a segment of its own."""
    jsontrace.configure(max_bytes=100)
    double("x" * 1000)  # type: ignore[arg-type]
    assert ["run.start", "run.end"] == [e["event"] for e in _parsed(log_dir)]


def test_retention_keeps_the_newest_segments_and_never_the_open_one(log_dir: Path) -> None:
    """max_segments deletes this process's oldest closed segments; the open one stays."""
    jsontrace.configure(max_bytes=300, max_segments=2)
    for i in range(30):
        double(i)
    writer = _writer_in_use()
    paths = sorted(log_dir.glob("*.jsonl"))
    assert 2 == len(paths)
    assert writer.path == paths[-1]
    assert writer._segment == int(paths[-1].stem.rsplit("-", 1)[1])


def test_retention_leaves_other_processes_files_alone(log_dir: Path) -> None:
    """Files of another process (other pid) in the same directory are never deleted."""
    log_dir.mkdir(mode=0o700)
    other = log_dir / segment_name("20200101T000000Z", os.getpid() + 1, 0)
    other.write_bytes(b"{}\n")
    jsontrace.configure(max_bytes=300, max_segments=1)
    for i in range(10):
        double(i)
    assert other.exists()
    assert 2 == len(list(log_dir.glob("*.jsonl")))


def test_retention_set_later_applies_to_segments_already_written(log_dir: Path) -> None:
    """configure(max_segments=...) after some rotation deletes the surplus at once."""
    jsontrace.configure(max_bytes=300)
    for i in range(10):
        double(i)
    assert len(list(log_dir.glob("*.jsonl"))) > 3
    jsontrace.configure(max_segments=1)
    (left,) = log_dir.glob("*.jsonl")
    assert _writer_in_use().path == left


def test_max_segments_zero_keeps_every_segment_again(log_dir: Path) -> None:
    """configure(max_segments=0) undoes a limit: rotation no longer deletes anything."""
    jsontrace.configure(max_bytes=300, max_segments=1)
    jsontrace.configure(max_segments=0)
    for i in range(10):
        double(i)
    assert len(list(log_dir.glob("*.jsonl"))) > 3


def test_disabled_writes_nothing(log_dir: Path) -> None:
    """configure(enabled=False): the traced function runs, no file or directory appears."""
    jsontrace.configure(enabled=False)
    assert 6 == double(3)
    assert not log_dir.exists()


def test_disabled_from_environment(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSONTRACE_ENABLED=0 turns tracing off."""
    monkeypatch.setenv("JSONTRACE_ENABLED", "0")
    jsontrace.reset_defaults()
    jsontrace.configure(dir=log_dir)
    assert 6 == double(3)
    assert not log_dir.exists()


# -- crash: SIGKILL mid-stream -------------------------------------------------------------

_STREAMER = textwrap.dedent(
    """
    import sys, jsontrace

    jsontrace.configure(dir=sys.argv[1])

    @jsontrace.traceable
    def stream():
        n = 0
        while True:
            yield {"n": n, "text": "token " * 20}
            n += 1

    for chunk in stream():
        print(chunk["n"], flush=True)
    """
)


def test_sigkill_mid_stream_leaves_only_complete_lines(log_dir: Path, tmp_path: Path) -> None:
    """A process killed with SIGKILL while streaming leaves every reported chunk, no partial line."""
    script = tmp_path / "streamer.py"
    script.write_text(_STREAMER)
    child = subprocess.Popen(
        [sys.executable, str(script), str(log_dir)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        reported = [int(child.stdout.readline()) for _ in range(200)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert -signal.SIGKILL == child.returncode
    events = _parsed(log_dir)
    seen = [e["chunk"]["n"] for e in events if e["event"] == "run.chunk"]
    assert list(range(200)) == reported
    assert seen[:200] == reported
    assert list(range(len(seen))) == seen


# -- threads and fork -------------------------------------------------------------------------


def test_threads_writing_at_once_lose_and_mix_nothing(log_dir: Path) -> None:
    """Many threads tracing into one file: every line whole and parseable, none lost."""
    threads, calls = 8, 300
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(calls):
            double(t * calls + i)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    events = _parsed(log_dir)
    assert 1 == len(list(log_dir.glob("*.jsonl")))
    assert 2 * threads * calls == len(events)
    starts = sorted(e["inputs"]["x"] for e in events if e["event"] == "run.start")
    assert list(range(threads * calls)) == starts


def _wait_for_child(pid: int, timeout: float) -> int:
    """The child's exit status; kill it and fail if it does not finish in time (a deadlock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child deadlocked")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_threads_write_and_locks_are_held(log_dir: Path) -> None:
    """A child forked while other threads write (one holding the writer lock, one the report
    lock) writes its own new file, without deadlock and without duplicating parent lines."""
    double(-1)  # the writer exists and has a file open
    writer = _writer_in_use()
    stop = threading.Event()
    holding = threading.Event()

    def hold(lock: Any) -> None:
        with lock:
            holding.set()
            stop.wait()

    def busy() -> None:
        i = 0
        while not stop.is_set():
            double(i)
            i += 1

    holders = [
        threading.Thread(target=hold, args=(lock,)) for lock in (writer._lock, _errors._lock)
    ]
    writers = [threading.Thread(target=busy) for _ in range(2)]
    for thread in writers:
        thread.start()
    time.sleep(0.05)
    for thread in holders:
        holding.clear()
        thread.start()
        holding.wait()
    pid = os.fork()
    if pid == 0:  # the child: trace, report a problem, and leave without pytest's clean-up
        code = 1
        try:
            assert 84 == double(42)
            _errors.report_once("child-report", "a report from the child")
            code = 0
        finally:
            os._exit(code)
    try:
        assert 0 == _wait_for_child(pid, timeout=10)
    finally:
        stop.set()
        for thread in holders + writers:
            thread.join()

    child_files = [p for p in log_dir.glob("*.jsonl") if f"-{pid}-" in p.name]
    assert 1 == len(child_files)
    child_events = [orjson.loads(line) for line in child_files[0].read_bytes().splitlines()]
    assert [{"x": 42}] == [e["inputs"] for e in child_events if e["event"] == "run.start"]
    assert {pid} == {e["pid"] for e in child_events if e["event"] == "run.start"}
    events = _parsed(log_dir)
    run_starts = [e["run_id"] for e in events if e["event"] == "run.start"]
    assert len(set(run_starts)) == len(run_starts)


# -- faults: directory deleted, read-only, disk full ------------------------------------------


def test_deleted_directory_is_recreated_at_the_next_check(
    log_dir: Path, clock: FakeClock, caught: list[warnings.WarningMessage]
) -> None:
    """rm -rf of the log directory: after the next check (once a second) writing goes on there."""
    double(1)
    shutil.rmtree(log_dir)
    clock.now += _writer._CHECK_EVERY_S
    assert 4 == double(2)
    assert [{"x": 2}] == [e["inputs"] for e in _parsed(log_dir) if e["event"] == "run.start"]
    assert 0o700 == stat.S_IMODE(log_dir.stat().st_mode)
    assert [] == _trace_warnings(caught)


def _failing_open(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    real_open = os.open

    def fail(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".jsonl"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", fail)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_unwritable_directory_warns_once_and_resumes(
    log_dir: Path,
    events: Events,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    caught: list[warnings.WarningMessage],
    code: int,
) -> None:
    """Files cannot be created: calls return as usual, one warning, writing resumes later."""
    _failing_open(monkeypatch, code)
    assert [2 * i for i in range(50)] == [double(i) for i in range(50)]
    assert 1 == len(_trace_warnings(caught))
    assert os.strerror(code) in _trace_warnings(caught)[0]
    monkeypatch.undo()
    monkeypatch.setattr(_writer, "time", clock)
    assert 200 == double(100)  # still inside the retry delay: dropped
    clock.now += _writer._RETRY_EVERY_S
    assert 202 == double(101)
    assert [{"x": 101}] == [e["inputs"] for e in events() if e["event"] == "run.start"]
    assert 1 == len(_trace_warnings(caught))


def test_directory_cannot_be_created(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, caught: list[warnings.WarningMessage]
) -> None:
    """mkdir fails (a read-only file system): the call works, one warning, nothing written."""

    def fail(path: Any, mode: int = 0o777, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    # Path.mkdir, not os.mkdir: on Python 3.10 pathlib holds its own reference to os.mkdir.
    monkeypatch.setattr(Path, "mkdir", fail)
    assert [0, 2, 4] == [double(i) for i in range(3)]
    assert 1 == len(_trace_warnings(caught))
    assert not log_dir.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory_for_real(
    log_dir: Path, events: Events, clock: FakeClock, caught: list[warnings.WarningMessage]
) -> None:
    """A directory chmod'ed read-only (and its file gone): one warning, then resumes."""
    double(1)
    writer = _writer_in_use()
    assert writer.path is not None
    writer.path.unlink()
    log_dir.chmod(0o500)
    try:
        clock.now += _writer._CHECK_EVERY_S
        assert [4, 6] == [double(2), double(3)]
        assert 1 == len(_trace_warnings(caught))
    finally:
        log_dir.chmod(0o700)
    clock.now += _writer._RETRY_EVERY_S
    double(4)
    assert [{"x": 4}] == [e["inputs"] for e in events() if e["event"] == "run.start"]


class DiskFull:
    """Replaces os.write for the log files: fails with *code*, optionally after writing part of a
    line for real; counts its calls."""

    def __init__(self, code: int, *, partial: bool = False, zero: bool = False) -> None:
        self.code = code
        self.partial = partial
        self.zero = zero
        self.calls = 0
        self.real_write = os.write

    def __call__(self, fd: int, data: bytes) -> int:
        if fd <= 2:  # pytest's own output
            return self.real_write(fd, data)
        self.calls += 1
        if self.partial and self.calls % 2 == 1:
            return self.real_write(fd, bytes(data[: len(data) // 2]))
        if self.zero:
            return 0
        raise OSError(self.code, os.strerror(self.code))


@pytest.mark.parametrize(
    ("code", "partial", "zero"),
    [
        (errno.ENOSPC, False, False),
        (errno.EFBIG, False, False),
        (errno.ENOSPC, True, False),  # half a line written, then the disk is full
        (errno.EIO, True, False),
        (errno.ENOSPC, True, True),  # half a line, then write() returns 0
    ],
)
def test_disk_full_drops_events_warns_once_and_leaves_no_partial_line(
    log_dir: Path,
    events: Events,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    caught: list[warnings.WarningMessage],
    code: int,
    partial: bool,
    zero: bool,
) -> None:
    """os.write fails (ENOSPC, EFBIG, after a short write): same return values, one warning,
    no partial line in the file, and writing resumes after the retry delay."""
    assert 0 == double(0)
    disk = DiskFull(code, partial=partial, zero=zero)
    monkeypatch.setattr(os, "write", disk)
    results = []
    for i in range(1, 40):
        results.append(double(i))
        clock.now += _writer._RETRY_EVERY_S  # retry every time: many failures, one outage
    assert [2 * i for i in range(1, 40)] == results
    assert disk.calls > 20
    assert 1 == len(_trace_warnings(caught))
    monkeypatch.setattr(os, "write", disk.real_write)
    clock.now += _writer._RETRY_EVERY_S
    assert 200 == double(100)
    starts = [e["inputs"]["x"] for e in events() if e["event"] == "run.start"]  # all lines whole
    assert [0, 100] == starts


def test_short_write_that_completes_keeps_the_line(
    log_dir: Path, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short write followed by a successful one leaves the line whole, no warning needed."""
    real_write = os.write
    short = {"done": False}

    def half_once(fd: int, data: bytes) -> int:
        if fd > 2 and not short["done"]:
            short["done"] = True
            return real_write(fd, bytes(data[: len(data) // 2]))
        return real_write(fd, data)

    double(0)
    monkeypatch.setattr(os, "write", half_once)
    double(1)
    assert [0, 1] == [e["inputs"]["x"] for e in events() if e["event"] == "run.start"]


def test_each_outage_warns_once(
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    caught: list[warnings.WarningMessage],
) -> None:
    """Two separate outages give two warnings: one each, none when writing resumes."""
    disk = DiskFull(errno.ENOSPC)
    for _ in range(2):
        double(0)
        monkeypatch.setattr(os, "write", disk)
        for i in range(5):
            double(i)
            clock.now += _writer._RETRY_EVERY_S
        monkeypatch.setattr(os, "write", disk.real_write)
        double(0)
    assert 2 == len(_trace_warnings(caught))


@pytest.mark.filterwarnings("ignore::jsontrace.JsonTraceWarning")
def test_retry_waits_for_the_delay(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """While a failure is recent, events are dropped without calling the system at all."""
    _failing_open(monkeypatch, errno.EACCES)
    double(0)
    calls = {"n": 0}
    real_open = os.open

    def counting(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        return real_open(*args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    for i in range(10):
        double(i)
    assert 0 == calls["n"]
    clock.now += _writer._RETRY_EVERY_S
    double(1)
    assert 1 == calls["n"]


@pytest.mark.filterwarnings("ignore::jsontrace.JsonTraceWarning")
def test_failed_opens_leave_no_gaps_in_segment_numbers(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """Retries that fail to open a file do not use up segment numbers."""
    double(0)
    writer = _writer_in_use()
    writer.close()
    _failing_open(monkeypatch, errno.EACCES)
    for i in range(5):
        double(i)
        clock.now += _writer._RETRY_EVERY_S
    monkeypatch.setattr(os, "open", _real_os_open)
    double(1)
    assert ["00000", "00001"] == sorted(p.stem.rsplit("-", 1)[1] for p in log_dir.glob("*.jsonl"))


_real_os_open = os.open


def test_writer_close_then_write_opens_a_new_segment(tmp_path: Path) -> None:
    """close() ends the segment; the next write starts the next one in the same directory."""
    writer = SegmentWriter(tmp_path / "w", max_bytes=1000, max_segments=None)
    try:
        writer.write(b'{"a":1}\n')
        first = writer.path
        writer.close()
        assert writer.path is None
        writer.write(b'{"a":2}\n')
        assert first is not None and writer.path is not None
        assert [b'{"a":1}\n', b'{"a":2}\n'] == [first.read_bytes(), writer.path.read_bytes()]
    finally:
        writer.close()


def test_writers_are_not_kept_alive_for_fork_handling(tmp_path: Path) -> None:
    """A writer its owner dropped is not held by the fork handler's registry."""
    writer = SegmentWriter(tmp_path / "w", max_bytes=1000, max_segments=None)
    before = len(_writer._writers)
    assert writer in _writer._writers
    del writer
    gc.collect()
    assert before - 1 == len(_writer._writers)


# -- where it must not write: planted links, other users' directories ------------------------

_OTHER_UID = 54321  # a user that is not us (tests chown to it as root)
_needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="making a directory another user's needs root",
)
_posix_only = pytest.mark.skipif(os.name != "posix", reason="owners and modes are POSIX")


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def _first_segment_name(writer: SegmentWriter, segment: int = 0) -> str:
    return segment_name(writer._started, os.getpid(), segment)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_planted_symlink_at_the_next_segment_name_is_never_written_through(
    tmp_path: Path,
) -> None:
    """Segment names are predictable: a symlink planted at the next one is left alone, untouched,
    and the segment gets the next free name instead."""
    directory = _private_dir(tmp_path / "logs")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    victim.chmod(0o644)
    writer = SegmentWriter(directory, max_bytes=1000, max_segments=None)
    try:
        link = directory / _first_segment_name(writer)
        link.symlink_to(victim)
        writer.write(b'{"secret":"prompt"}\n')
        assert directory / _first_segment_name(writer, 1) == writer.path
    finally:
        writer.close()
    assert b"precious\n" == victim.read_bytes()
    assert 0o644 == stat.S_IMODE(victim.stat().st_mode)
    assert link.is_symlink()
    assert b'{"secret":"prompt"}\n' == (directory / _first_segment_name(writer, 1)).read_bytes()


def test_an_existing_file_at_the_next_segment_name_is_never_appended_to(tmp_path: Path) -> None:
    """A file already at a segment's name (another process of the same pid, a plant) is not ours:
    it keeps its content and the writer moves on to a fresh name."""
    directory = _private_dir(tmp_path / "logs")
    writer = SegmentWriter(directory, max_bytes=1000, max_segments=None)
    try:
        taken = directory / _first_segment_name(writer)
        taken.write_bytes(b'{"not":"ours"}\n')
        writer.write(b'{"a":1}\n')
        assert directory / _first_segment_name(writer, 1) == writer.path
    finally:
        writer.close()
    assert b'{"not":"ours"}\n' == taken.read_bytes()


@_posix_only
@_needs_root
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777, 0o757])
def test_a_directory_others_can_write_to_and_owned_by_someone_else_is_refused(
    log_dir: Path, mode: int, caught: list[warnings.WarningMessage]
) -> None:
    """Group- or world-writable and another user's: one warning, nothing written there, ever, and
    its mode is left as it was; the traced calls return as usual."""
    log_dir.mkdir()
    log_dir.chmod(mode)
    os.chown(log_dir, _OTHER_UID, -1)
    assert [2, 4, 6] == [double(1), double(2), double(3)]
    assert [] == list(log_dir.iterdir())
    assert mode == stat.S_IMODE(log_dir.stat().st_mode)
    (message,) = _trace_warnings(caught)
    assert f"not writing traces to {log_dir}" in message
    assert "another user" in message


@_posix_only
@_needs_root
def test_a_directory_of_someone_else_that_only_they_can_write_to_is_used(log_dir: Path) -> None:
    """Only group or world write permission makes another user's directory unsafe to write in."""
    log_dir.mkdir()
    log_dir.chmod(0o755)
    os.chown(log_dir, _OTHER_UID, -1)
    double(1)
    assert 2 == len(_parsed(log_dir))


@_posix_only
@pytest.mark.parametrize(("mode", "tightened"), [(0o777, 0o755), (0o770, 0o750), (0o722, 0o700)])
def test_a_directory_of_ours_that_others_can_write_to_loses_their_write_permission(
    log_dir: Path, mode: int, tightened: int, caught: list[warnings.WarningMessage]
) -> None:
    """An existing directory of ours that others may write to is tightened on first use (they can no
    longer plant or delete files), then written to as usual, without a warning."""
    log_dir.mkdir()
    log_dir.chmod(mode)
    double(1)
    assert tightened == stat.S_IMODE(log_dir.stat().st_mode)
    assert 2 == len(_parsed(log_dir))
    assert [] == _trace_warnings(caught)


@_posix_only
def test_a_shared_sticky_directory_such_as_tmp_is_refused_and_left_as_it_is(
    log_dir: Path, caught: list[warnings.WarningMessage]
) -> None:
    """A world-writable sticky directory (what /tmp is) is shared by design, even when it is ours
    (root owns /tmp): jsontrace neither writes there nor changes its mode."""
    log_dir.mkdir()
    log_dir.chmod(0o1777)
    double(1)
    assert [] == list(log_dir.iterdir())
    assert 0o1777 == stat.S_IMODE(log_dir.stat().st_mode)
    (message,) = _trace_warnings(caught)
    assert "shared directory" in message


@_posix_only
def test_a_symlinked_log_directory_leading_to_a_directory_of_ours_is_followed(
    tmp_path: Path, log_dir: Path
) -> None:
    """logs -> a private directory of ours: the traces are written there."""
    target = _private_dir(tmp_path / "real")
    log_dir.symlink_to(target)
    double(1)
    assert 2 == len(_parsed(target))


@_posix_only
@_needs_root
def test_a_symlinked_log_directory_leading_to_someone_elses_directory_is_refused(
    tmp_path: Path, log_dir: Path, caught: list[warnings.WarningMessage]
) -> None:
    """logs -> another user's directory, even one only they can write to: nothing written there."""
    target = tmp_path / "theirs"
    target.mkdir()
    target.chmod(0o755)
    os.chown(target, _OTHER_UID, -1)
    log_dir.symlink_to(target)
    double(1)
    assert [] == list(target.iterdir())
    (message,) = _trace_warnings(caught)
    assert "symbolic link to a directory owned by another user" in message


@_posix_only
def test_a_log_directory_linked_to_a_shared_directory_is_refused(
    tmp_path: Path, log_dir: Path, caught: list[warnings.WarningMessage]
) -> None:
    """logs -> a /tmp-like directory (world-writable, sticky): refused whoever owns it."""
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    shared.chmod(0o1777)
    log_dir.symlink_to(shared)
    double(1)
    assert [] == list(shared.iterdir())
    assert 1 == len(_trace_warnings(caught))


@_posix_only
@_needs_root
def test_a_directory_made_anew_under_us_is_checked_again(
    log_dir: Path, clock: FakeClock, caught: list[warnings.WarningMessage]
) -> None:
    """The check runs on every first use of a directory: deleted and replaced by one others may
    write to, it is refused from then on."""
    double(1)
    shutil.rmtree(log_dir)
    log_dir.mkdir()
    log_dir.chmod(0o777)
    os.chown(log_dir, _OTHER_UID, -1)
    clock.now += _writer._CHECK_EVERY_S
    assert [4, 6] == [double(2), double(3)]
    assert [] == list(log_dir.iterdir())
    assert 1 == len(_trace_warnings(caught))


# -- a full disk: keep the segment, retry it, never rotate or delete because of it -------------


def test_a_write_failure_keeps_the_segment_and_writing_resumes_in_the_same_file(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """Through an outage of many retries no segment is opened; afterwards events land in the file
    that was being written."""
    double(0)
    before = _writer_in_use().path
    disk = DiskFull(errno.ENOSPC)
    monkeypatch.setattr(os, "write", disk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(1, 50):
            double(i)
            clock.now += _writer._RETRY_EVERY_S
    assert disk.calls > 40  # each retry tried the same file again
    monkeypatch.setattr(os, "write", disk.real_write)
    clock.now += _writer._RETRY_EVERY_S
    double(100)
    assert [before] == sorted(log_dir.glob("*.jsonl"))
    assert before == _writer_in_use().path
    assert [0, 100] == [e["inputs"]["x"] for e in _parsed(log_dir) if e["event"] == "run.start"]


def test_retention_deletes_nothing_while_writing_fails(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """With max_segments=3, an outage of hundreds of retries leaves the three segments before it
    exactly as they were (at most one new segment, by size, and no trail of empty ones); a limit
    set during the outage applies once writing works again."""
    jsontrace.configure(max_bytes=600, max_segments=3)
    for i in range(12):
        double(i)
    kept = {path: path.read_bytes() for path in sorted(log_dir.glob("*.jsonl"))}
    assert 3 == len(kept)
    disk = DiskFull(errno.ENOSPC)
    monkeypatch.setattr(os, "write", disk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(300):
            double(i)
            clock.now += _writer._RETRY_EVERY_S
        jsontrace.configure(max_segments=1)  # a new limit during the outage waits for its end
    after = {path: path.read_bytes() for path in sorted(log_dir.glob("*.jsonl"))}
    assert kept == {path: after[path] for path in kept}
    assert [b""] * (len(after) - 3) == [data for path, data in after.items() if path not in kept]
    assert len(after) <= 4
    monkeypatch.setattr(os, "write", disk.real_write)
    clock.now += _writer._RETRY_EVERY_S
    double(1000)
    (left,) = log_dir.glob("*.jsonl")
    assert _writer_in_use().path == left == max(after)
    assert 1000 == orjson.loads(left.read_bytes().splitlines()[-2])["inputs"]["x"]


def test_an_outage_starting_at_a_rotation_deletes_no_segment(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """When the first failing write is the first of a new segment, retention waits for a line in
    it: the oldest segment is not deleted for an empty one."""
    jsontrace.configure(max_bytes=400, max_segments=1)
    double(0)
    (first,) = log_dir.glob("*.jsonl")
    data = first.read_bytes()
    monkeypatch.setattr(os, "write", DiskFull(errno.ENOSPC))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        double(1)  # the start event does not fit: rotation, then the write fails
    assert data == first.read_bytes()


def test_an_outage_is_retried_on_the_same_descriptor_without_opening_files(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """During a failure of write() the retries call write() again and never os.open."""
    double(0)
    opens: list[Any] = []
    real_open = os.open

    def counting(*args: Any, **kwargs: Any) -> int:
        opens.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    monkeypatch.setattr(os, "write", DiskFull(errno.EIO))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(20):
            double(i)
            clock.now += _writer._RETRY_EVERY_S
    assert [] == opens


_tmpfs = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None,
    reason="mounting a tiny file system needs Linux and root",
)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs mounted for the test (skipped where it cannot be mounted)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@_tmpfs
def test_a_real_full_disk_keeps_history_and_resumes_in_the_same_file(
    tiny_disk: Path, clock: FakeClock, caught: list[warnings.WarningMessage]
) -> None:
    """On a file system that really fills up: calls return as usual, a warning, the segments
    before the outage survive (max_segments=2), no partial line, and writing resumes in the
    same file once space is freed."""
    directory = tiny_disk / "logs"
    jsontrace.configure(dir=directory, max_bytes=16 * 1024, max_segments=2)
    for i in range(60):
        double(i)
    before = {path: path.read_bytes() for path in sorted(directory.glob("*.jsonl"))}
    assert 2 == len(before)
    filler = tiny_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    results = []
    for i in range(100, 160):
        results.append(double(i))
        clock.now += _writer._RETRY_EVERY_S
    assert [2 * i for i in range(100, 160)] == results
    # tmpfs hands out whole pages: lines that still fit the last page are written, so a
    # short line can end an outage and the next long one start another.
    assert 1 <= len(_trace_warnings(caught))
    during = {path: path.read_bytes() for path in sorted(directory.glob("*.jsonl"))}
    assert all(during[path].startswith(data) for path, data in before.items())  # none lost or cut
    assert all(data.endswith(b"\n") for data in during.values() if data)
    assert [b""] * (len(during) - 2) == [
        data for path, data in during.items() if path not in before
    ]
    assert len(during) <= 3  # at most one rotation, by size
    filler.unlink()
    clock.now += _writer._RETRY_EVERY_S
    double(1000)
    last = max(during)
    assert _writer_in_use().path == last
    assert last.read_bytes().startswith(during[last])
    assert 1000 == orjson.loads(last.read_bytes().splitlines()[-2])["inputs"]["x"]
    assert all(e["event"] in {"run.start", "run.end"} for e in _parsed(directory))
