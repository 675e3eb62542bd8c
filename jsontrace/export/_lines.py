"""One trace's original lines, for bug reports: ``jsontrace export DIR --trace ID``.

Every event carries its ``trace_id``, so the lines are found by looking for the
id's bytes and decoding only the lines that hold them. They come out exactly
as they are in the files (bytes untouched, one event a line), the files of
several processes merged by time stamp, each file's own order kept.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from .. import format as fmt
from ..reader import BLOCK_SIZE

__all__ = ["normalize_trace_id", "trace_lines", "write_trace"]


def normalize_trace_id(text: str) -> str:
    """A trace id as jsontrace writes it: UUID text; OTLP's 32 hex digits are accepted too."""
    text = text.strip()
    digits = text.replace("-", "").lower()
    if len(digits) == 32 and "-" not in text:
        try:
            bytes.fromhex(digits)
        except ValueError:
            return text
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
    return text


def _file_lines(path: Path, trace_id: str) -> list[tuple[str, bytes]]:
    """``(ts, line)`` of every complete line of *path* that is an event of the trace."""
    needle = orjson.dumps(trace_id)  # as it is written, quotes included
    found: list[tuple[str, bytes]] = []
    carry = b""
    try:
        with open(path, "rb") as f:
            while block := f.read(BLOCK_SIZE):
                block = carry + block
                cut = block.rfind(b"\n") + 1
                block, carry = block[:cut], block[cut:]
                if needle not in block:
                    continue
                for line in block.split(b"\n"):
                    if needle in line:
                        _keep(line, trace_id, found)
    except OSError:
        return found  # deleted or unreadable meanwhile: what was read stands
    return found  # a partial last line (a writer mid-write) is left out


def _keep(line: bytes, trace_id: str, found: list[tuple[str, bytes]]) -> None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return
    if type(event) is dict and event.get(fmt.TRACE_ID) == trace_id:
        ts = event.get(fmt.TS)
        found.append((ts if isinstance(ts, str) else "", line + b"\n"))


def trace_lines(directory: str | os.PathLike[str], trace_id: str) -> Iterator[bytes]:
    """The lines (each ending in ``\\n``) of every event of one trace, oldest first."""
    trace_id = normalize_trace_id(trace_id)
    root = Path(directory)
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(root)
            if entry.name.endswith(fmt.FILE_SUFFIX) and entry.is_file()
        )
    except OSError:
        return
    per_file = [_file_lines(root / name, trace_id) for name in names]
    # Each file is in its writer's order; merging by time stamp interleaves processes
    # without reordering any one of them.
    for _ts, line in heapq.merge(*per_file, key=lambda item: item[0]):
        yield line


def write_trace(directory: str | os.PathLike[str], trace_id: str, out: BinaryIO) -> int:
    """Write one trace's lines to *out*; returns how many (0: no such trace)."""
    count = 0
    for line in trace_lines(directory, trace_id):
        out.write(line)
        count += 1
    return count
