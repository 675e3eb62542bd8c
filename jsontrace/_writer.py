"""Per-process segment files: one ``os.write`` per event, rotation by size, fork safety.

Why this shape:

* One file per process, named after host, pid and start time, so no two
  processes ever write the same file and no cross-process locking is needed.
* Each event is a single ``os.write`` on an ``O_APPEND`` descriptor, made
  before the traced code goes on: the kernel has every reported line, so a
  SIGKILL loses nothing and never leaves half a line. (Power loss can still
  lose what the OS had not flushed to disk; we do not fsync per event.)
* Rotation opens a new numbered segment and never renames one, so ``tail -f``,
  grep and the viewer keep their place; retention deletes only this process's
  closed segments.
* Failures (directory gone or read-only, disk full) drop the event, warn once,
  and are retried on later events; a line cut short by a full disk is
  truncated away so the file never holds a partial line.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import threading
import time
from pathlib import Path

from . import format as fmt
from ._errors import forget_report, report_once

__all__ = ["SegmentWriter", "segment_name"]

_HOST = re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname()) or "host"
# Checking that the open file still has a name costs an fstat; once a second is plenty.
_CHECK_EVERY_S = 1.0
_RETRY_EVERY_S = 0.5


def segment_name(started: str, pid: int, segment: int, host: str = _HOST) -> str:
    """The file name of one segment: sortable by start time, unique per process."""
    return f"{fmt.FILE_PREFIX}{started}-{host}-{pid}-{segment:05d}{fmt.FILE_SUFFIX}"


class SegmentWriter:
    """Appends rendered lines to this process's current segment file in a directory."""

    def __init__(self, directory: Path, *, max_bytes: int, max_segments: int | None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_segments = max_segments
        # Re-entrant: a generator collected by the garbage collector while this
        # thread is inside write() ends its run from __del__, writing again.
        self._lock = threading.RLock()
        self._reset_state()
        # The child of a fork gets its own file; the parent's descriptor and a lock
        # another thread may have held at the fork are replaced, never waited on.
        _register_fork_handler(self)

    def _reset_state(self) -> None:
        self._fd = -1
        self._size = 0
        self._segment = -1
        self._paths: list[Path] = []
        self._pid = os.getpid()
        self._started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._next_check = 0.0
        self._retry_after = 0.0
        self._failed = False
        self.dropped = 0

    @property
    def path(self) -> Path | None:
        """The segment file being written, if one is open."""
        return self._paths[-1] if self._fd >= 0 else None

    def write(self, line: bytes) -> None:
        """Append one complete line; on failure drop it, warn once, retry later."""
        with self._lock:
            try:
                self._write(line)
            except OSError as exc:
                self._fail(exc)

    def _write(self, line: bytes) -> None:
        now = time.monotonic()
        if self._fd < 0:
            if now < self._retry_after:
                self.dropped += 1
                return
            self._open_next()
        elif self._size + len(line) > self.max_bytes and self._size > 0:
            self._open_next()
        elif now >= self._next_check:
            self._next_check = now + _CHECK_EVERY_S
            if os.fstat(self._fd).st_nlink == 0:  # file or directory deleted under us
                self._open_next()
        start = self._size
        written = os.write(self._fd, line)
        while written < len(line):  # a short write: the disk filled up mid-line
            more = os.write(self._fd, line[written:])
            if more <= 0:
                self._undo_partial(start)
                raise OSError(errno.ENOSPC, "short write")
            written += more
        self._size = start + written
        if self._failed:
            self._failed = False
            forget_report("write")
            report_once("resumed", f"writing to {self.directory} resumed ({self.dropped} events lost)")

    def _undo_partial(self, size: int) -> None:
        try:
            os.ftruncate(self._fd, size)
        except OSError:
            pass

    def _fail(self, exc: OSError) -> None:
        self.dropped += 1
        if self._fd >= 0 and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            self._undo_partial(self._size)
        self._close()
        self._failed = True
        self._retry_after = time.monotonic() + _RETRY_EVERY_S
        forget_report("resumed")
        report_once(
            "write",
            f"cannot write traces to {self.directory} ({exc.strerror or exc}); "
            "your code keeps running, events are dropped until writing works again",
        )

    def _open_next(self) -> None:
        self._close()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._segment += 1
        path = self.directory / segment_name(self._started, self._pid, self._segment)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o600)
        self._size = os.fstat(self._fd).st_size
        self._next_check = time.monotonic() + _CHECK_EVERY_S
        self._paths.append(path)
        self._apply_retention()

    def _apply_retention(self) -> None:
        if self.max_segments is None:
            return
        while len(self._paths) > self.max_segments:
            oldest = self._paths.pop(0)  # never the open one: max_segments >= 1
            try:
                oldest.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                report_once("retention", f"cannot delete old segment {oldest}: {exc}")

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        """Close the current segment; the next write opens a new one."""
        with self._lock:
            self._close()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        self._close()
        self._reset_state()


_writers: list[SegmentWriter] = []
_fork_handler_installed = False


def _register_fork_handler(writer: SegmentWriter) -> None:
    global _fork_handler_installed
    _writers.append(writer)
    if not _fork_handler_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_reset_writers_in_child)
        _fork_handler_installed = True


def _reset_writers_in_child() -> None:
    for writer in _writers:
        writer._after_fork_in_child()


def forget_writer(writer: SegmentWriter) -> None:
    """Stop tracking *writer* for fork handling (it is being replaced)."""
    if writer in _writers:
        _writers.remove(writer)
