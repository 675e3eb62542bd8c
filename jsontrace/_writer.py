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
* Failures (directory gone or read-only, disk full) drop the event, warn once
  per outage, and are retried on later events after a short delay; a line cut
  short by a full disk is truncated away so the file never holds a partial
  line. A directory deleted under us is noticed within ``_CHECK_EVERY_S``
  (events written into the deleted file meanwhile are lost) and re-created.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import time
import weakref
from pathlib import Path

from . import format as fmt
from ._errors import forget_report, report_once
from ._host import HOST

__all__ = ["SegmentWriter", "forget_writer", "segment_name"]

# The host part of file names: what the name allows of this machine's name.
_HOST = re.sub(r"[^A-Za-z0-9.]+", "_", HOST) or "host"
# Checking that the open file still has a name costs an fstat; once a second is plenty.
_CHECK_EVERY_S = 1.0
# After a failure, events are dropped without trying for this long: a full disk must
# not cost a failing system call per event.
_RETRY_EVERY_S = 0.5
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
_WRITE_FAILED = "write"  # the report_once key of an outage


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
        #: Events dropped because writing failed (for diagnostics).
        self.dropped = 0

    @property
    def path(self) -> Path | None:
        """The segment file being written, if one is open."""
        return self._paths[-1] if self._fd >= 0 else None

    def set_limits(self, *, max_bytes: int, max_segments: int | None) -> None:
        """Apply new rotation and retention limits (retention at once)."""
        with self._lock:
            self.max_bytes = max_bytes
            self.max_segments = max_segments
            self._apply_retention()

    def write(self, line: bytes) -> None:
        """Append one complete line; on failure drop it, warn once, retry later."""
        # One method, not two: this runs for every event, and a call costs ~0.1 µs.
        with self._lock:
            try:
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
                written = os.write(self._fd, line)
                if written != len(line):
                    self._finish_short_write(line, written)
                self._size += len(line)
                if self._failed:
                    self._failed = False
                    forget_report(_WRITE_FAILED)  # the next outage is reported again
            except OSError as exc:
                self._fail(exc)

    def _finish_short_write(self, line: bytes, written: int) -> None:
        # The disk filled up mid-line: complete the line, or cut off the part written
        # (also when a signal handler raises in between), so no partial line remains.
        try:
            while written < len(line):
                more = os.write(self._fd, line[written:])
                if more <= 0:
                    raise OSError(errno.ENOSPC, "short write")
                written += more
        except BaseException:
            self._undo_partial()
            raise

    def _undo_partial(self) -> None:
        # Only this process writes this file, so everything past _size is ours.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._size)

    def _fail(self, exc: OSError) -> None:
        self.dropped += 1
        if self._fd >= 0:
            self._undo_partial()
        self._close()
        self._failed = True
        self._retry_after = time.monotonic() + _RETRY_EVERY_S
        report_once(
            _WRITE_FAILED,
            f"cannot write traces to {self.directory} ({exc.strerror or exc}); "
            "your code keeps running, events are dropped until writing works again",
        )

    def _open_next(self) -> None:
        self._close()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The number advances only when a file was opened: retries leave no gaps.
        segment = self._segment + 1
        path = self.directory / segment_name(self._started, self._pid, segment)
        fd = os.open(path, _FLAGS, 0o600)
        try:
            size = os.fstat(fd).st_size
        except OSError:
            os.close(fd)
            raise
        self._fd, self._size, self._segment = fd, size, segment
        self._next_check = time.monotonic() + _CHECK_EVERY_S
        self._paths.append(path)
        self._apply_retention()

    def _apply_retention(self) -> None:
        if self.max_segments is None:
            return
        while len(self._paths) > self.max_segments:
            oldest = self._paths.pop(0)  # never the open one, the last: max_segments >= 1
            try:
                oldest.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                report_once("retention", f"cannot delete old segment {oldest}: {exc}")

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close the current segment; the next write opens a new one."""
        with self._lock:
            self._close()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        self._close()  # the child's copy of the descriptor; the parent's stays open
        self._reset_state()


# Weak: a writer dropped by its owner (a test, a replaced configuration) is not kept alive.
_writers: weakref.WeakSet[SegmentWriter] = weakref.WeakSet()
_fork_handler_installed = False


def _register_fork_handler(writer: SegmentWriter) -> None:
    global _fork_handler_installed
    _writers.add(writer)
    if not _fork_handler_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_reset_writers_in_child)
        _fork_handler_installed = True


def _reset_writers_in_child() -> None:
    for writer in list(_writers):
        writer._after_fork_in_child()


def forget_writer(writer: SegmentWriter) -> None:
    """Stop tracking *writer* for fork handling (it is being replaced)."""
    _writers.discard(writer)
