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
* Segment names are predictable, so a segment is only ever a file this writer
  creates: ``O_CREAT | O_EXCL | O_NOFOLLOW``, and the next number when the name
  is taken. A planted symlink or someone else's file is never written through.
* The directory is checked when it is first used (and again if it is made
  anew): one that other users may write to is refused unless it is ours, and
  then they lose that permission; a symlink is followed only to a directory of
  ours. Files are opened relative to the checked directory's descriptor, so the
  path cannot be swapped for another directory after the check.
* A failing write (disk full, I/O error) drops the event, warns once per
  outage, and is retried on the same segment after a short delay: nothing is
  rotated or deleted because of a failure, and after the outage writing goes
  on in the same file. A line cut short is truncated away, so the file never
  holds a partial line. A directory deleted under us is noticed within
  ``_CHECK_EVERY_S`` (events written into the deleted file meanwhile are lost)
  and made again.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import stat
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
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A segment is always a new file of ours: never an existing file, never through a link.
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | _NOFOLLOW | _CLOEXEC
# Where the platform can open files relative to a directory descriptor (not Windows),
# the directory is opened, checked, and every segment opened inside that descriptor.
_DIR_FD = hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
# Names tried when the next one is taken, before giving up on the directory.
_NAMES_TRIED = 1000
_WRITE_FAILED = "write"  # the report_once key of an outage
# Errors after which the descriptor itself is useless: the retry opens a new segment.
_DEAD_DESCRIPTOR = frozenset({errno.EBADF, errno.ESTALE})


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
        self._dir_fd = -1
        self._size = 0
        self._segment = -1
        self._paths: list[Path] = []
        self._pid = os.getpid()
        self._started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._next_check = 0.0
        self._retry_after = 0.0
        # False until a segment is open, and during an outage: every write then takes
        # the slow path, which opens, retries or drops.
        self._ready = False
        self._failing = False  # an outage was reported and has not ended
        # Retention waits for a line written in the new segment: an outage that starts
        # right at a rotation must not delete a segment for an empty one.
        self._retention_due = False
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
        # acquire/release rather than `with`: the same, for half the interpreter's work.
        lock = self._lock
        lock.acquire()
        try:
            now = time.monotonic()
            size = len(line)
            if self._ready and self._size + size <= self.max_bytes and now < self._next_check:
                # The common case, inline: this runs for every event.
                written = os.write(self._fd, line)
                if written != size:
                    self._finish_short_write(line, written)
                self._size += size
            else:
                self._write_slowly(line, now)
        except OSError as exc:
            self._fail(exc)
        finally:
            lock.release()

    def _write_slowly(self, line: bytes, now: float) -> None:
        """Everything but the common case: first open, retry, rotation, the periodic check."""
        if not self._ready:
            if now < self._retry_after:
                self.dropped += 1
                return
            if self._fd < 0 and not self._open_next():
                self.dropped += 1  # the directory is refused: nothing is written there
                return
        opened = True
        if self._size > 0 and self._size + len(line) > self.max_bytes:
            opened = self._open_next()  # rotation: by size only, never because a write failed
        elif now >= self._next_check:
            self._next_check = now + _CHECK_EVERY_S
            if os.fstat(self._fd).st_nlink == 0:  # file or directory deleted under us
                opened = self._open_next()
        if not opened:  # the directory was made anew, and is refused now
            self._close()
            self.dropped += 1
            return
        written = os.write(self._fd, line)
        if written != len(line):
            self._finish_short_write(line, written)
        self._size += len(line)
        self._ready = True
        if self._failing:
            self._failing = False
            forget_report(_WRITE_FAILED)  # the next outage is reported again
        if self._retention_due:
            self._apply_retention()

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
            if exc.errno in _DEAD_DESCRIPTOR:
                self._close()
        # The segment stays open: the retry writes to it, so an outage neither leaves
        # a trail of empty segments nor lets retention delete the ones before it.
        self._ready = False
        self._failing = True
        self._retry_after = time.monotonic() + _RETRY_EVERY_S
        report_once(
            _WRITE_FAILED,
            f"cannot write traces to {self.directory} ({exc.strerror or exc}); "
            "your code keeps running, events are dropped until writing works again",
        )

    def _open_next(self) -> bool:
        """Open the next segment (the current one stays open if this fails); False if refused."""
        directory_gone = self._dir_fd < 0 or os.fstat(self._dir_fd).st_nlink == 0
        if directory_gone and not self._open_directory():
            return False
        # The number advances only when a file was opened: retries leave no gaps.
        segment = self._segment + 1
        reopened = False
        for _ in range(_NAMES_TRIED):
            path = self.directory / segment_name(self._started, self._pid, segment)
            try:
                if _DIR_FD:
                    fd = os.open(path.name, _FLAGS, 0o600, dir_fd=self._dir_fd)
                else:
                    fd = os.open(path, _FLAGS, 0o600)
                break
            except FileExistsError:
                segment += 1  # not ours (another process of this pid, a planted link)
            except FileNotFoundError:
                # The directory was deleted, on a file system that does not say so in
                # its link count: make it again, once.
                if reopened or not _DIR_FD:
                    raise
                reopened = True
                if not self._open_directory():
                    return False
        else:
            raise OSError(errno.EEXIST, f"{_NAMES_TRIED} segment names in a row are taken")
        self._close()
        self._fd, self._size, self._segment = fd, 0, segment
        self._next_check = time.monotonic() + _CHECK_EVERY_S
        self._paths.append(path)
        self._retention_due = True
        return True

    def _open_directory(self) -> bool:
        """Make (0700) and check the directory, keeping its descriptor; False if refused."""
        self._close_directory()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _DIR_FD:
            return True  # Windows: no owners or modes to check
        try:
            fd = os.open(self.directory, _DIR_FLAGS | _NOFOLLOW)
            linked = False
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            fd = os.open(self.directory, _DIR_FLAGS)  # a symlink to a directory
            linked = True
        try:
            problem = _directory_problem(fd, linked)
        except BaseException:
            os.close(fd)
            raise
        if problem is not None:
            os.close(fd)
            self._retry_after = math.inf  # trace nothing there: it will not become safe
            report_once(
                f"directory:{self.directory}",
                f"not writing traces to {self.directory}: {problem}; nothing is traced "
                "there. Use a directory of your own (configure(dir=...) or JSONTRACE_DIR)",
            )
            return False
        self._dir_fd = fd
        return True

    def _apply_retention(self) -> None:
        if self._failing:
            self._retention_due = True  # never delete history while writing fails
            return
        self._retention_due = False
        if self.max_segments is None:
            return
        while len(self._paths) > self.max_segments:
            oldest = self._paths.pop(0)  # never the open one, the last: max_segments >= 1
            try:
                if _DIR_FD and self._dir_fd >= 0:
                    os.unlink(oldest.name, dir_fd=self._dir_fd)
                else:
                    oldest.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                report_once("retention", f"cannot delete old segment {oldest}: {exc}")

    def _close(self) -> None:
        self._ready = False
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def _close_directory(self) -> None:
        if self._dir_fd >= 0:
            fd, self._dir_fd = self._dir_fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close the current segment; the next write opens a new one."""
        with self._lock:
            self._close()
            self._close_directory()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        self._close()  # the child's copies of the descriptors; the parent's stay open
        self._close_directory()
        self._reset_state()


def _directory_problem(fd: int, linked: bool) -> str | None:
    """Why the open directory *fd* must not hold traces, or None (tightening it if ours)."""
    info = os.fstat(fd)
    mine = info.st_uid == os.geteuid()
    if linked and not mine:
        return f"it is a symbolic link to a directory owned by another user (uid {info.st_uid})"
    others_write = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not others_write:
        return None
    if not mine:
        return f"other users can write to it and it belongs to another user (uid {info.st_uid})"
    if info.st_mode & stat.S_ISVTX:
        # Writable by all by design (/tmp, /var/tmp): its mode is not ours to change.
        return "it is a shared directory (sticky, writable by others) such as /tmp"
    # Ours: others lose the right to plant or delete files in it; reading stays as it was.
    os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~(stat.S_IWGRP | stat.S_IWOTH))
    return None


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
