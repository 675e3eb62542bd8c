"""Tail a directory of jsontrace segment files by byte offset.

::

    reader = DirectoryReader("logs")
    for batch in reader.poll():      # every changed file, from where the last call stopped
        store.add_batch(batch)       # jsontrace.store.RunStore
    reader.read_file(path)           # one file, e.g. on a file-system hint
    reader.read_span(file_id, start, end)   # bytes read before, again (values on demand)

Why this shape:

* Files are read in big blocks and split on ``b"\\n"``; each block is parsed
  with one ``map(orjson.loads, lines)``. Only a block that holds a bad line
  is parsed again line by line, so the common case does no per-line Python work.
  Every batch says where each of its lines lies in the file (:meth:`Batch.span`),
  so that a reader of the model can keep offsets instead of values.
* With ``defer_chunks=True`` (the viewer, while it loads), chunk lines in the
  writer's own layout (:data:`jsontrace.format.CHUNK_LINE_PREFIX`) are not
  decoded at all: they travel as bytes in :attr:`Batch.chunk_lines` and the run
  model files them by the run id at a fixed place in the line.
* Only regular files are read. Every file is opened with ``O_NONBLOCK`` and
  checked with ``fstat`` before a byte is read, whether it was found by a
  listing or named by a watch hint, so a FIFO never blocks the reader and a
  symlink to ``/dev/zero`` is never read. Anything else is skipped and counted
  once (:attr:`DirectoryReader.skipped`).
* Unchanged files cost nothing: :meth:`DirectoryReader.poll` compares each
  file's inode, size and modification time (from ``scandir``/``stat``) with
  what it saw last and opens only files that changed.
* A partial last line (a writer mid-``write``) is held back: the offset stays at
  its start, and how far the reader looked for its newline is remembered, so a
  growing partial line is read once, not again on every poll; a line past
  :data:`MAX_LINE_BYTES` is skipped without being held in memory.
* A file that was truncated, replaced (another inode) or rewritten in place
  (its first bytes changed: the fingerprint) is read again from 0 as a new
  *generation*, so old offsets are never used on new content.
* Nothing here raises on bad input or a changing directory: undecodable lines
  are counted (a few kept as :class:`BadLine` samples), deleted files are
  forgotten. :attr:`DirectoryReader.notices` says what happened (a file
  deleted, rewritten); :attr:`DirectoryReader.conditions` says what is wrong
  *now* (the directory cannot be listed), and an entry goes when its cause does.
* The reader's lock guards its bookkeeping only; it is never held while a file
  is read, so a slow file cannot stall a thread that asks for notices or bytes.
  :meth:`~DirectoryReader.poll` and :meth:`~DirectoryReader.read_file` are meant
  for one thread (the viewer's reader worker); :meth:`~DirectoryReader.read_span`
  may be called from any.
* No watchdog and no Textual: callers decide when to read (the viewer on
  watchdog hints and a periodic rescan, ``--print`` and the doctor once).
"""

from __future__ import annotations

import itertools
import os
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import not_
from pathlib import Path
from typing import Any, Final

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

#: Bytes read per ``read()`` call; a batch holds the complete lines of one block. Small
#: blocks keep what one batch allocates small: with 4 MiB blocks, loading a million
#: events left 30 MiB more resident (freed batch objects interleaved with kept ones).
BLOCK_SIZE = 256 << 10
#: A line longer than this is skipped as a bad line rather than held in memory.
MAX_LINE_BYTES = 64 << 20
#: How many bytes at the start of a file identify its content (a rewrite changes them).
FINGERPRINT_BYTES: Final = 1024
_MAX_SAMPLES = 20
_SAMPLE_CHARS = 200
_MAX_NOTICES = 100

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_startswith = bytes.startswith

# Never block on open (a FIFO waits for a writer otherwise), never become the
# controlling terminal, never leak the descriptor into children.
_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

#: Where a batch's lines came from: ``(file name, generation, start offset, end offset)``.
#: The generation changes when a file is truncated, replaced, or deleted and made again,
#: so old offsets are never used on new content.
Source = tuple[str, int, int, int]

#: File ids are unique in the process, across readers: a store fed by one reader
#: can name any byte range it was given by ``(file id, start, end)``.
_file_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a JSON value (or not UTF-8): where it is and how it starts.

    ``excerpt`` is raw text from the file: make it printable before showing it
    (:func:`jsontrace.render.printable`).
    """

    file: str
    line: int
    reason: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}: {self.excerpt}"


@dataclass(slots=True)
class Batch:
    """The parsed complete lines of one block of one file, in file order.

    ``events`` holds whatever each decoded line decoded to (usually a dict, but
    any JSON value: the run model validates), with its raw bytes in
    ``event_lines``. ``chunk_lines`` holds the undecoded chunk lines when the
    reader defers them (else it is empty). Positions: ``cum[k]`` is how many bytes
    the block's lines before line ``k`` hold, newlines not counted (one C pass
    computes it), so line ``k`` spans :meth:`span` ``(k)``; ``event_index`` and
    ``chunk_index`` give the block line of each event and chunk line (``None``
    for events: simply ``0, 1, 2, ...``). ``first_line`` is the 1-based line
    number of the block's first line. ``bad`` holds the bad lines found in it.
    """

    source: Source
    file_id: int
    events: list[Any]
    event_lines: list[bytes]
    cum: list[int]
    first_line: int
    event_index: list[int] | None = None
    chunk_lines: list[bytes] = field(default_factory=list)
    chunk_index: list[int] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    #: The reader that read it: a store reads the lines again through it, by file id.
    origin: DirectoryReader | None = field(default=None, repr=False, compare=False)

    @property
    def file(self) -> str:
        """The file name (not the path) the lines came from."""
        return self.source[0]

    @property
    def lines(self) -> int:
        """How many lines the block holds."""
        return len(self.cum) - 1

    def span(self, k: int) -> tuple[int, int]:
        """Where the block's line *k* lies in the file: ``(start, end)``, newline included."""
        start = self.source[2] + self.cum[k] + k
        return start, start + self.cum[k + 1] - self.cum[k] + 1

    def block_line(self, index: int) -> int:
        """The block line (0-based) of ``events[index]``."""
        return index if self.event_index is None else self.event_index[index]

    def line_of(self, index: int) -> int:
        """The 1-based line number of ``events[index]``."""
        return self.first_line + self.block_line(index)


@dataclass(slots=True)
class FileState:
    """What the reader knows about one file: how far it has read, and its identity.

    ``offset`` is where the first line not read yet starts; bytes from there to
    ``scanned`` are known to hold no newline (a partial line). ``size`` and
    ``mtime_ns`` are what the file looked like when it was last read, so an
    unchanged file is not opened again.
    """

    name: str
    file_id: int = 0
    offset: int = 0
    lines: int = 0
    generation: int = 0
    inode: int = -1
    size: int = 0
    mtime_ns: int = -1
    scanned: int = 0
    skipping: bool = False
    #: How many bytes at the start were hashed, and their hash (a rewrite changes them).
    fingerprint_bytes: int = 0
    fingerprint: int = 0
    bad_lines: int = 0

    def __post_init__(self) -> None:
        # A state made by hand to read on from an offset (a resumed export): nothing
        # before the offset is a partial line still to be searched.
        self.scanned = max(self.scanned, self.offset)

    @property
    def partial(self) -> bool:
        """Whether the file ends in a line without its newline (yet)."""
        return self.size > self.offset or self.scanned > self.offset


class DirectoryReader:
    """Reads every ``*.jsonl`` file of one directory incrementally.

    ``defer_chunks`` leaves the writer's chunk lines undecoded (see :class:`Batch`)
    the first time a file is read; a file read again from the start is decoded in
    full. It may be switched off at any time (the viewer does, once loaded).

    Counters: :attr:`bad_lines` (with :attr:`bad_samples`), :attr:`lines`,
    :attr:`bytes_read`, :attr:`truncations`, :attr:`deleted_files`,
    :attr:`opens`; :attr:`files` maps each file name being followed to its
    :class:`FileState`; :attr:`skipped` maps each ``*.jsonl`` name that is not a
    regular file to why it is skipped (each counted once, in :attr:`skipped_files`).
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
        self.skipped: dict[str, str] = {}
        self.skipped_files = 0
        self.bad_lines = 0
        self.bad_samples: list[BadLine] = []
        self.lines = 0
        self.bytes_read = 0
        self.truncations = 0
        self.deleted_files = 0
        #: Files opened so far (a rescan of unchanged files adds none).
        self.opens = 0
        self.notices: deque[str] = deque(maxlen=_MAX_NOTICES)
        self._conditions: dict[str, str] = {}
        self._lock = threading.Lock()
        # The next generation of each file name that went away: a file made again under
        # the same name is read from 0 as a new generation, never as the first reading.
        self._next_generation: dict[str, int] = {}
        # file id -> the state of the file it names now (an id of an older generation, or of
        # a file gone, is forgotten: its bytes are not what they were).
        self._by_id: dict[int, FileState] = {}

    # -- public API -------------------------------------------------------------

    def list_files(self) -> list[str]:
        """The names of the directory's regular ``*.jsonl`` files, sorted (oldest segment first).

        Files that vanished since the last listing are forgotten (their runs stay
        in the model). A missing or unreadable directory gives ``[]`` and a condition.
        """
        return [name for name, _ in self._scan()]

    def pending_bytes(self) -> int:
        """Roughly how many bytes :meth:`poll` would read now (for progress bars)."""
        total = 0
        for name, st in self._scan():
            state = self.files.get(name)
            total += max(0, st.st_size - (state.offset if state else 0))
        return total

    def poll(self) -> Iterator[Batch]:
        """Read every file that changed since it was last read, new files included.

        Yields one :class:`Batch` per block read; stop iterating at any time and
        the next call carries on from where this one stopped. Files whose inode,
        size and modification time are unchanged are not opened.
        """
        for name, st in self._scan():
            state = self.files.get(name)
            if state is not None and _unchanged(state, st):
                continue
            yield from self._read(name)

    def read_file(self, name: str | os.PathLike[str]) -> Iterator[Batch]:
        """Read one file (a name in the directory, or a path) from its last offset.

        Safe for any name a watch hint gives: a FIFO, a device or a directory is
        skipped (and counted once), never opened for reading. A file that shrank,
        was replaced, or was rewritten in place is read again from the start (and
        a notice says so).
        """
        name = os.path.basename(os.fspath(name))
        if not name.endswith(fmt.FILE_SUFFIX):
            return
        yield from self._read(name)

    def read_span(self, file_id: int, start: int, end: int) -> bytes | None:
        """The bytes ``[start, end)`` of a file read before, or ``None`` if it changed since.

        Used to load values on demand instead of keeping them. Opens the file
        without blocking and reads it only if it is still the same regular file.
        """
        state = self._by_id.get(file_id)
        if state is None or state.file_id != file_id or self.files.get(state.name) is not state:
            return None
        try:
            fd = os.open(self.directory / state.name, _OPEN_FLAGS)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_ino != state.inode:
                return None
            data = _pread_all(fd, end - start, start)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if len(data) == end - start else None

    def read_range(self, source: Source) -> bytes | None:
        """The bytes a :class:`Batch` was parsed from, or ``None`` if the file changed."""
        name, generation, start, end = source
        state = self.files.get(name)
        if state is None or state.generation != generation:
            return None
        return self.read_span(state.file_id, start, end)

    def source_of(self, file_id: int) -> tuple[str, int] | None:
        """``(file name, generation)`` of a file id this reader gave out (None once it changed)."""
        state = self._by_id.get(file_id)
        return (state.name, state.generation) if state is not None else None

    def parse_span(self, file_id: int, start: int, end: int) -> Batch | None:
        """Read a byte range again and parse it into a batch (every line decoded).

        The range must start at a line start and end after a newline (a span the
        model kept). Nothing is counted: this is reading old lines again, not new ones.
        """
        data = self.read_span(file_id, start, end)
        ident = self.source_of(file_id)
        if data is None or ident is None:
            return None
        state = FileState(ident[0], file_id=file_id, generation=ident[1], offset=start)
        batch = _parse_block(data, state, defer=False, bad=None)
        batch.origin = self
        return batch

    def take_notices(self) -> list[str]:
        """Return and forget the notices gathered since the last call."""
        with self._lock:
            notices = list(self.notices)
            self.notices.clear()
        return notices

    @property
    def conditions(self) -> list[str]:
        """What is wrong now (the directory cannot be listed, a file cannot be read).

        Unlike a notice, a condition stays until its cause goes away.
        """
        with self._lock:
            return list(self._conditions.values())

    @property
    def partial_tails(self) -> int:
        """How many files end in a partial line (a writer in the middle of a write)."""
        return sum(1 for state in list(self.files.values()) if state.partial)

    # -- listing ------------------------------------------------------------------

    def _scan(self) -> list[tuple[str, os.stat_result]]:
        """``(name, stat)`` of every regular ``*.jsonl`` file, sorted by name."""
        suffix = fmt.FILE_SUFFIX
        found: list[tuple[str, os.stat_result]] = []
        odd: set[str] = set()
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    name = entry.name
                    if not name.endswith(suffix):
                        continue
                    try:
                        st = entry.stat()  # follows symlinks: the target is what would be read
                    except OSError as exc:
                        odd.add(name)
                        self._skip(name, f"cannot be read ({exc.strerror or exc})")
                        continue
                    if stat.S_ISREG(st.st_mode):
                        found.append((name, st))
                    else:
                        odd.add(name)
                        self._skip(name, _kind(st.st_mode))
        except OSError as exc:
            self._set_condition("directory", f"cannot list {self.directory}: {exc.strerror or exc}")
            return []
        self._set_condition("directory", None)
        found.sort(key=_first)
        names = {name for name, _ in found}
        with self._lock:
            gone = [name for name in self.files if name not in names]
            for name in gone:
                self._forget(name)
            for name in [n for n in self.skipped if n not in odd]:
                del self.skipped[name]  # gone (or regular now): a new oddity counts again
        return found

    def _skip(self, name: str, why: str) -> None:
        with self._lock:
            if name in self.files:
                self._forget(name)
            if name in self.skipped:
                return
            self.skipped[name] = why
            self.skipped_files += 1
            self.notices.append(f"skipped {name}: {why}")

    def _forget(self, name: str) -> None:
        # Called with the lock held.
        state = self.files.pop(name)
        self._by_id.pop(state.file_id, None)
        self._next_generation[name] = state.generation + 1
        self.deleted_files += 1
        self._conditions.pop(f"file:{name}", None)
        self.notices.append(f"{name} was deleted")

    def _set_condition(self, key: str, text: str | None) -> None:
        with self._lock:
            if text is None:
                self._conditions.pop(key, None)
            else:
                self._conditions[key] = text

    def _notice(self, text: str) -> None:
        with self._lock:
            self.notices.append(text)

    # -- reading ----------------------------------------------------------------

    def _read(self, name: str) -> Iterator[Batch]:
        path = self.directory / name
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except FileNotFoundError:
            with self._lock:
                if name in self.files:
                    self._forget(name)
            return
        except OSError as exc:
            self._set_condition(f"file:{name}", f"cannot read {name}: {exc.strerror or exc}")
            return
        self.opens += 1
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self._skip(name, _kind(st.st_mode))
                return
            state = self._state_for(name, fd, st)
            if state is None:
                return  # unchanged since it was last read
            yield from self._read_blocks(fd, state)
            state.size = max(st.st_size, state.scanned)
            state.mtime_ns = st.st_mtime_ns
            self._set_condition(f"file:{name}", None)
        except OSError as exc:
            self._set_condition(f"file:{name}", f"cannot read {name}: {exc.strerror or exc}")
        finally:
            os.close(fd)

    def _state_for(self, name: str, fd: int, st: os.stat_result) -> FileState | None:
        """The file's state, reset to a new generation if its content is not what was read."""
        with self._lock:
            state = self.files.get(name)
            self.skipped.pop(name, None)
            if state is None:
                generation = self._next_generation.pop(name, 0)
                state = self.files[name] = FileState(name, generation=generation)
                self._new_identity(state, st)
                return state
            if self._by_id.get(state.file_id) is not state:
                # Put in ``files`` from outside (a resumed export): an id of its own, so its
                # lines can be read again, but read on from where it says.
                state.file_id = state.file_id or next(_file_ids)
                self._by_id[state.file_id] = state
        if _unchanged(state, st):
            return None
        why = ""
        if st.st_ino != state.inode:
            why = "was replaced"
        elif st.st_size < max(state.offset, state.scanned):
            why = "shrank"
        elif not self._same_start(fd, state):
            why = "was rewritten"
        if why:
            self.truncations += 1
            self._notice(f"{name} {why}; reading it again from the start")
            with self._lock:
                state.generation += 1
                self._new_identity(state, st)
        return state

    def _new_identity(self, state: FileState, st: os.stat_result) -> None:
        # Called with the lock held: the file is read from 0 under a new file id.
        self._by_id.pop(state.file_id, None)
        state.file_id = next(_file_ids)
        self._by_id[state.file_id] = state
        state.inode = st.st_ino
        state.offset = state.lines = state.scanned = state.size = 0
        state.mtime_ns = -1
        state.skipping = False
        state.fingerprint_bytes = state.fingerprint = 0

    def _same_start(self, fd: int, state: FileState) -> bool:
        """Whether the file still starts with the bytes it started with (and extend the check)."""
        length = state.fingerprint_bytes
        if length:
            head = _pread_all(fd, length, 0)
            if len(head) < length or hash(head) != state.fingerprint:
                return False
        if length < FINGERPRINT_BYTES:
            head = _pread_all(fd, FINGERPRINT_BYTES, 0)
            if len(head) > length:
                state.fingerprint_bytes, state.fingerprint = len(head), hash(head)
        return True

    def _read_blocks(self, fd: int, state: FileState) -> Iterator[Batch]:
        if state.fingerprint_bytes == 0:
            self._same_start(fd, state)
        pos = state.scanned  # bytes from state.offset to here hold no newline
        # Bytes of that partial line read during this call: [parts_at, pos). What lies
        # before parts_at (read by an earlier call) is read again once the line is whole.
        parts: list[bytes] = []
        parts_at = pos
        while True:
            buf = os.pread(fd, self.block_size, pos)
            if not buf:
                return  # a partial last line is held back: offset stays at its start
            at = pos
            pos += len(buf)
            if state.skipping:
                nl = buf.find(b"\n")
                if nl < 0:
                    state.scanned = pos
                    continue
                yield self._skipped_line(state, at + nl + 1)
                buf = buf[nl + 1 :]
                at = parts_at = at + nl + 1
            nl = buf.rfind(b"\n")
            if nl < 0:
                state.scanned = pos
                if pos - state.offset > self.max_line_bytes:
                    state.skipping = True
                    parts = []
                elif buf:
                    parts.append(buf)
                continue
            if at > state.offset:  # a partial line before this buffer: join it on
                older = parts_at - state.offset
                head = _pread_all(fd, older, state.offset) if older > 0 else b""
                block = head + b"".join(parts) + buf[: nl + 1]
            else:
                block = buf if nl + 1 == len(buf) else buf[: nl + 1]
            rest = buf[nl + 1 :]
            parts = [rest] if rest else []
            parts_at = at + nl + 1
            batch = self._parse(block, state)
            state.scanned = pos
            yield batch

    def _skipped_line(self, state: FileState, end: int) -> Batch:
        """Count an over-long line as bad; an empty batch carries it to the model."""
        state.lines += 1
        self.lines += 1
        sample = BadLine(
            state.name, state.lines, f"line longer than {self.max_line_bytes} bytes", ""
        )
        self._bad(state, sample.line, sample.reason, b"", sample)
        self.bytes_read += end - state.offset
        source = (state.name, state.generation, state.offset, end)
        state.offset = state.scanned = end
        state.skipping = False
        return Batch(source, state.file_id, [], [], [0], state.lines + 1, bad=[sample], origin=self)

    def _parse(self, block: bytes, state: FileState) -> Batch:
        bad: list[BadLine] = []
        # Lines read again (the file was replaced, truncated or made again) are mostly
        # repeats: decoded now, they are found to be so at once instead of piling up.
        defer = self.defer_chunks and state.generation == 0
        batch = _parse_block(block, state, defer=defer, bad=bad)
        lines = batch.lines
        state.lines += lines
        self.lines += lines
        state.offset += len(block)
        self.bytes_read += len(block)
        for sample in bad:
            self._bad(state, sample.line, sample.reason, b"", sample)
        batch.bad = bad
        batch.origin = self
        return batch

    def _bad(
        self, state: FileState, line: int, reason: str, raw: bytes, sample: BadLine | None
    ) -> None:
        self.bad_lines += 1
        state.bad_lines += 1
        if len(self.bad_samples) < _MAX_SAMPLES:
            if sample is None:
                sample = BadLine(state.name, line, reason, _excerpt(raw))
            self.bad_samples.append(sample)


def _parse_block(
    block: bytes, state: FileState, *, defer: bool, bad: list[BadLine] | None
) -> Batch:
    """Split a block of complete lines at ``state.offset`` and decode them (see :class:`Batch`)."""
    lines = block.split(b"\n")
    lines.pop()  # the block ends with b"\n": the last item is empty
    first = state.lines + 1
    start = state.offset
    cum = list(accumulate(map(len, lines), initial=0))
    source = (state.name, state.generation, start, start + len(block))
    if defer:
        # Sorting lines with compress() and a mask keeps the per-line work in C.
        mask = list(map(_startswith, lines, itertools.repeat(fmt.CHUNK_LINE_PREFIX)))
        if any(mask):
            others = list(map(not_, mask))
            event_lines = list(compress(lines, others))
            event_index: list[int] | None = list(compress(range(len(lines)), others))
            batch = Batch(
                source, state.file_id, [], event_lines, cum, first, event_index,
                list(compress(lines, mask)), list(compress(range(len(lines)), mask)),
            )  # fmt: skip
        else:
            batch = Batch(source, state.file_id, [], lines, cum, first)
    else:
        batch = Batch(source, state.file_id, [], lines, cum, first)
    try:
        batch.events = list(map(_loads, batch.event_lines))
    except _JSONDecodeError:
        _decode_each(batch, state.name, bad)
    return batch


def _decode_each(batch: Batch, name: str, bad: list[BadLine] | None) -> None:
    """Decode a block line by line, leaving bad lines out (and noting them in *bad*)."""
    events: list[Any] = []
    kept: list[bytes] = []
    index: list[int] = []
    for i, line in enumerate(batch.event_lines):
        try:
            events.append(_loads(line))
        except _JSONDecodeError as exc:
            if bad is not None:
                number = batch.first_line + batch.block_line(i)
                bad.append(BadLine(name, number, _reason(line, exc), _excerpt(line)))
        else:
            kept.append(line)
            index.append(batch.block_line(i))
    batch.events, batch.event_lines, batch.event_index = events, kept, index


def _reason(line: bytes, exc: Exception) -> str:
    if not line.strip():
        return "empty line"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    return f"not JSON ({exc})"


def _excerpt(raw: bytes) -> str:
    return raw[:_SAMPLE_CHARS].decode("utf-8", "backslashreplace")


def _unchanged(state: FileState, st: os.stat_result) -> bool:
    return (
        st.st_ino == state.inode and st.st_size == state.size and st.st_mtime_ns == state.mtime_ns
    )


def _kind(mode: int) -> str:
    """Why a file of this mode is skipped."""
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return f"{kind}, not a regular file"
    return "not a regular file"


def _first(item: tuple[str, os.stat_result]) -> str:
    return item[0]


def _pread_all(fd: int, size: int, offset: int) -> bytes:
    """Read *size* bytes at *offset* (fewer only at the end of the file)."""
    data = os.pread(fd, size, offset)
    if len(data) >= size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.pread(fd, size - got, offset + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
