"""Tail a directory of jsontrace segment files by byte offset.

::

    reader = DirectoryReader("logs")
    for batch in reader.poll():      # every file, from where the last call stopped
        store.add_batch(batch)       # jsontrace.store.RunStore
    reader.read_file(path)           # one file, e.g. on a file-system hint

Why this shape:

* Files are read in big blocks and split on ``b"\\n"``; each block is parsed
  with one ``map(orjson.loads, lines)``. Only a block that holds a bad line
  is parsed again line by line, so the common case does no per-line Python work.
* With ``defer_chunks=True`` (the viewer), chunk lines in the writer's own
  layout (:data:`jsontrace.format.CHUNK_LINE_PREFIX`) are not decoded at all:
  they travel as bytes in :attr:`Batch.chunk_lines` and the run model decodes
  them when a run's chunks are wanted. Most lines of a trace directory are
  chunks, and the outputs of finished runs are in their end events.
* A partial last line (a writer mid-``write``) is held back: the offset stays at
  its start and the next call reads it again once its newline has arrived.
* Nothing here raises on bad input or a changing directory: undecodable lines
  are counted (a few kept as :class:`BadLine` samples), deleted files are
  forgotten, a file that shrank is read again from 0 and reported in
  :attr:`DirectoryReader.notices`.
* No watchdog and no Textual: callers decide when to read (the viewer on
  watchdog hints and a periodic rescan, ``--print`` and the doctor once).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import format as fmt

__all__ = [
    "BLOCK_SIZE",
    "MAX_LINE_BYTES",
    "BadLine",
    "Batch",
    "DirectoryReader",
    "FileState",
    "Source",
]

#: Bytes read per ``read()`` call; a batch holds the complete lines of one block.
BLOCK_SIZE = 4 << 20
#: A line longer than this is skipped as a bad line rather than held in memory.
MAX_LINE_BYTES = 64 << 20
_MAX_SAMPLES = 20
_SAMPLE_CHARS = 200
_MAX_NOTICES = 100

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError

#: Where a batch's lines came from: ``(file name, generation, start offset, end offset)``.
#: The generation changes when a file is truncated, replaced, or deleted and made again,
#: so old offsets are never used on new content.
Source = tuple[str, int, int, int]


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a JSON value (or not UTF-8): where it is and how it starts."""

    file: str
    line: int
    reason: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}: {self.excerpt}"


@dataclass(slots=True)
class Batch:
    """The parsed complete lines of one block of one file, in file order.

    ``events`` holds whatever each good line decoded to (usually a dict, but any
    JSON value: the run model validates). ``chunk_lines`` holds the undecoded
    chunk lines when the reader defers them (else it is empty). ``first_line`` is
    the 1-based line number of the block's first line; ``line_numbers`` gives each
    event's line number when that is not simply ``first_line + index`` (bad lines
    dropped, or chunk lines set aside: then it is worked out on first use).
    """

    source: Source
    events: list[Any]
    first_line: int
    line_numbers: list[int] | None = None
    chunk_lines: list[bytes] = field(default_factory=list)
    #: The block's lines, kept only to number ``events`` when chunk lines were set aside.
    all_lines: list[bytes] | None = field(default=None, repr=False)

    @property
    def file(self) -> str:
        """The file name (not the path) the lines came from."""
        return self.source[0]

    def line_of(self, index: int) -> int:
        """The 1-based line number of ``events[index]``."""
        if self.line_numbers is None and self.all_lines is not None:
            prefix = fmt.CHUNK_LINE_PREFIX
            self.line_numbers = [
                self.first_line + i
                for i, line in enumerate(self.all_lines)
                if not line.startswith(prefix)
            ]
        if self.line_numbers is not None:
            return self.line_numbers[index]
        return self.first_line + index


@dataclass(slots=True)
class FileState:
    """What the reader knows about one file: how far it has read, and its identity."""

    name: str
    offset: int = 0
    lines: int = 0
    generation: int = 0
    inode: int = -1
    size: int = 0
    bad_lines: int = 0


class DirectoryReader:
    """Reads every ``*.jsonl`` file of one directory incrementally; thread-safe.

    ``defer_chunks`` leaves the writer's chunk lines undecoded (see :class:`Batch`) the
    first time a file is read; a file read again from the start is decoded in full.

    Counters: :attr:`bad_lines` (with :attr:`bad_samples`), :attr:`lines`,
    :attr:`bytes_read`, :attr:`truncations`; :attr:`files` maps each file name
    being followed to its :class:`FileState`. :attr:`notices` holds
    human-readable notes (truncated, deleted, unreadable files) until
    :meth:`take_notices` empties it.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        block_size: int = BLOCK_SIZE,
        max_line_bytes: int = MAX_LINE_BYTES,
        defer_chunks: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.defer_chunks = defer_chunks
        self.block_size = block_size
        self.max_line_bytes = max_line_bytes
        self.files: dict[str, FileState] = {}
        self.bad_lines = 0
        self.bad_samples: list[BadLine] = []
        self.lines = 0
        self.bytes_read = 0
        self.truncations = 0
        self.deleted_files = 0
        self.notices: deque[str] = deque(maxlen=_MAX_NOTICES)
        self._lock = threading.RLock()
        # The next generation of each file name that went away: a file made again under
        # the same name is read from 0 as a new generation, never as the first reading.
        self._next_generation: dict[str, int] = {}

    # -- public API -------------------------------------------------------------

    def list_files(self) -> list[str]:
        """The names of the directory's ``*.jsonl`` files, sorted (oldest segment first).

        Files that vanished since the last listing are forgotten (their runs stay
        in the model). A missing or unreadable directory gives ``[]`` and a notice.
        """
        try:
            with os.scandir(self.directory) as entries:
                names = sorted(
                    e.name for e in entries if e.name.endswith(fmt.FILE_SUFFIX) and _is_file(e)
                )
        except OSError as exc:
            self._notice(f"cannot list {self.directory}: {exc.strerror or exc}")
            return []
        with self._lock:
            for gone in self.files.keys() - set(names):
                self._forget(gone)
        return names

    def pending_bytes(self) -> int:
        """Roughly how many bytes :meth:`poll` would read now (for progress bars)."""
        total = 0
        for name in self.list_files():
            try:
                size = (self.directory / name).stat().st_size
            except OSError:
                continue
            state = self.files.get(name)
            total += max(0, size - (state.offset if state else 0))
        return total

    def poll(self) -> Iterator[Batch]:
        """Read every file from its last offset to its end, new files included.

        Yields one :class:`Batch` per block read; stop iterating at any time and
        the next call carries on from where this one stopped.
        """
        for name in self.list_files():
            yield from self.read_file(name)

    def read_file(self, name: str | os.PathLike[str]) -> Iterator[Batch]:
        """Read one file (a name in the directory, or a path) from its last offset.

        The reader's lock is held while the generator runs: consume it in one go.
        A file that shrank below the offset, or was replaced by another file of
        the same name, is read again from the start (and a notice says so).
        """
        name = os.path.basename(os.fspath(name))
        if not name.endswith(fmt.FILE_SUFFIX):
            return
        with self._lock:
            yield from self._read(name)

    def read_range(self, source: Source) -> bytes | None:
        """The bytes a :class:`Batch` was parsed from, or ``None`` if the file changed.

        Used to show a run's raw events lazily instead of keeping every line.
        """
        name, generation, start, end = source
        state = self.files.get(name)
        if state is None or state.generation != generation:
            return None
        try:
            with open(self.directory / name, "rb") as f:
                f.seek(start)
                data = f.read(end - start)
        except OSError:
            return None
        return data if len(data) == end - start else None

    def take_notices(self) -> list[str]:
        """Return and forget the notices gathered since the last call."""
        with self._lock:
            notices = list(self.notices)
            self.notices.clear()
        return notices

    # -- reading ----------------------------------------------------------------

    def _read(self, name: str) -> Iterator[Batch]:
        path = self.directory / name
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed in the finally below, across yields
        except FileNotFoundError:
            if name in self.files:
                self._forget(name)
            return
        except OSError as exc:
            self._notice(f"cannot read {name}: {exc.strerror or exc}")
            return
        try:
            state = self._state_for(name, os.fstat(f.fileno()))
            f.seek(state.offset)
            yield from self._read_blocks(f, state)
        except OSError as exc:
            self._notice(f"cannot read {name}: {exc.strerror or exc}")
        finally:
            f.close()

    def _forget(self, name: str) -> None:
        state = self.files.pop(name)
        self._next_generation[name] = state.generation + 1
        self.deleted_files += 1
        self._notice(f"{name} was deleted")

    def _state_for(self, name: str, st: os.stat_result) -> FileState:
        state = self.files.get(name)
        if state is None:
            generation = self._next_generation.pop(name, 0)
            state = self.files[name] = FileState(name, generation=generation, inode=st.st_ino)
        elif st.st_ino != state.inode or st.st_size < state.offset:
            why = "was replaced" if st.st_ino != state.inode else "shrank"
            self.truncations += 1
            self._notice(f"{name} {why}; reading it again from the start")
            state.offset = state.lines = 0
            state.generation += 1
            state.inode = st.st_ino
        state.size = st.st_size
        return state

    def _read_blocks(self, f: Any, state: FileState) -> Iterator[Batch]:
        carry = b""
        skipping = 0  # bytes of an over-long line dropped so far
        while True:
            buf = f.read(self.block_size)
            if not buf:
                return  # a partial last line (carry) is held back: offset stays at its start
            if skipping:
                nl = buf.find(b"\n")
                if nl < 0:
                    skipping += len(buf)
                    continue
                self._skipped_line(state, skipping + nl + 1)
                skipping = 0
                buf = buf[nl + 1 :]
            if carry:
                buf = carry + buf
                carry = b""
            nl = buf.rfind(b"\n")
            if nl < 0:
                if len(buf) > self.max_line_bytes:
                    skipping = len(buf)
                else:
                    carry = buf  # no complete line yet: read on
                continue
            carry = buf[nl + 1 :]
            block = buf[: nl + 1] if carry else buf
            batch = self._parse(block, state)
            state.offset += len(block)
            self.bytes_read += len(block)
            yield batch

    def _skipped_line(self, state: FileState, size: int) -> None:
        state.lines += 1
        self.lines += 1
        self._bad(state, state.lines, f"line longer than {self.max_line_bytes} bytes", b"")
        state.offset += size
        self.bytes_read += size

    def _parse(self, block: bytes, state: FileState) -> Batch:
        lines = block.split(b"\n")
        lines.pop()  # the block ends with b"\n": the last item is empty
        first = state.lines + 1
        state.lines += len(lines)
        self.lines += len(lines)
        source = (state.name, state.generation, state.offset, state.offset + len(block))
        prefix = fmt.CHUNK_LINE_PREFIX
        deferred: list[bytes] = []
        # Lines read again (the file was replaced, truncated or made again) are mostly
        # repeats: decoded now, they are found to be so at once instead of piling up.
        if self.defer_chunks and state.generation == 0:
            # Two comprehensions are far cheaper than one loop that sorts each line.
            deferred = [line for line in lines if line.startswith(prefix)]
        try:
            if not deferred:
                return Batch(source, list(map(_loads, lines)), first)
            others = [line for line in lines if not line.startswith(prefix)]
            return Batch(
                source, list(map(_loads, others)), first, chunk_lines=deferred, all_lines=lines
            )
        except _JSONDecodeError:
            pass
        events: list[Any] = []
        numbers: list[int] = []
        for i, line in enumerate(lines):
            if deferred and line.startswith(prefix):
                continue
            try:
                events.append(_loads(line))
            except _JSONDecodeError as exc:
                self._bad(state, first + i, _reason(line, exc), line)
            else:
                numbers.append(first + i)
        return Batch(source, events, first, numbers, deferred)

    def _bad(self, state: FileState, line: int, reason: str, raw: bytes) -> None:
        self.bad_lines += 1
        state.bad_lines += 1
        if len(self.bad_samples) < _MAX_SAMPLES:
            excerpt = raw[:_SAMPLE_CHARS].decode("utf-8", "backslashreplace")
            self.bad_samples.append(BadLine(state.name, line, reason, excerpt))

    def _notice(self, text: str) -> None:
        self.notices.append(text)


def _reason(line: bytes, exc: Exception) -> str:
    if not line.strip():
        return "empty line"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    return f"not JSON ({exc})"


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
