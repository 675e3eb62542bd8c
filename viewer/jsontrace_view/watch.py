"""File-system hints for the reader: watchdog events say *which* file to read next.

Watchdog events are hints, never data: inotify merges and drops them, polling
sees only snapshots. So a hint only says "read this file to its end now" (the
reader knows its offset), and the consumer also rescans the whole directory
every couple of seconds as a safety net. No Textual here: the app's reader
worker turns hints into reads and posts what it finds as messages.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from jsontrace import format as fmt

__all__ = ["RESCAN", "DirectoryWatcher", "Hints"]

# Stopping the inotify observer while files are busy makes watchdog log an error
# ("queue_events() called when the thread is inactive") that would land on the
# terminal after the UI closes; it is harmless for us.
logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)

#: What :meth:`Hints.take` returns when the whole directory should be rescanned.
RESCAN: frozenset[str] = frozenset()


class Hints:
    """A thread-safe set of file names waiting to be read, plus a wake-up."""

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.closed = False

    def put(self, name: str) -> None:
        """Ask for *name* to be read (a file name in the watched directory)."""
        with self._lock:
            self._names.add(name)
        self._ready.set()

    def take(self, timeout: float) -> frozenset[str]:
        """Wait up to *timeout* s for hints; :data:`RESCAN` when none came (or after close)."""
        self._ready.wait(timeout)
        with self._lock:
            names, self._names = frozenset(self._names), set()
            self._ready.clear()
        return names

    def close(self) -> None:
        """Wake any waiter for good (the app is exiting)."""
        self.closed = True
        self._ready.set()


_NOT_CHANGES = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


class _Handler(FileSystemEventHandler):
    def __init__(self, hints: Hints) -> None:
        self.hints = hints

    def on_any_event(self, event: FileSystemEvent) -> None:
        # inotify also reports opens and read-only closes, among them our own reads:
        # hinting on those would make every read trigger the next, forever.
        if event.event_type in _NOT_CHANGES:
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            name = os.path.basename(os.fsdecode(path))
            if name.endswith(fmt.FILE_SUFFIX):
                self.hints.put(name)


class DirectoryWatcher:
    """Watches one directory (not recursively) and turns its events into :class:`Hints`."""

    def __init__(self, directory: Path, hints: Hints, *, poll: bool = False) -> None:
        self.directory = directory
        self.hints = hints
        self.poll = poll
        #: The inode of the directory watched (a directory deleted and made again is
        #: another one: the viewer starts watching again when this changes).
        self.inode = -1
        self._observer: BaseObserver | None = None

    def start(self) -> str | None:
        """Start watching; on failure return why (the periodic rescan still works)."""
        observer: BaseObserver = PollingObserver(timeout=0.25) if self.poll else Observer()
        try:
            self.inode = os.stat(self.directory).st_ino
            observer.schedule(_Handler(self.hints), os.fspath(self.directory), recursive=False)
            observer.daemon = True
            observer.start()
        except (OSError, RuntimeError) as exc:
            return f"cannot watch {self.directory} ({exc}); rescanning instead"
        self._observer = observer
        return None

    def stop(self) -> None:
        """Stop the observer thread (quickly: it is a daemon, we do not wait long)."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=1.0)
