"""The export state file: where to read on from in each file, and which runs there were shipped.

A run becomes one span when it ends, but its events start earlier in the file:
a restart that read on from where the last read stopped would miss the
starts of the runs still open. So each file keeps a *low watermark*: the
start of the earliest block holding the start of a run not shipped yet. A
restart reads each file again from there, and skips the runs listed as
shipped since the watermark. Runs whose start lies before it were all
shipped; their later events are read again but never make a span (a span
needs its run's start). The list only holds runs of the file's region after
the watermark, which is at most one segment (``max_bytes``, 64 MiB by default).

The file is replaced atomically (written aside, fsynced, renamed), after
the receiver accepted the batch it records. A crash between the two
resends that batch: at worst a duplicate (with the same span ids, which
backends that dedupe drop), never a loss.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = ["FileMark", "State", "StateError", "default_state_path"]

STATE_VERSION: Final = 1


class StateError(Exception):
    """The state file cannot be read, written, or belongs to another export."""


@dataclass(slots=True)
class FileMark:
    """Where to read one file again from, and the runs shipped since then."""

    inode: int
    offset: int
    shipped: set[str] = field(default_factory=set)


@dataclass(slots=True)
class State:
    """What a ``--follow`` (or ``--state``) export has shipped, by file."""

    path: Path
    target: str
    files: dict[str, FileMark] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, target: str) -> State:
        """The state at *path* (a fresh one if there is no file yet)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls(path, target)
        except OSError as exc:
            raise StateError(f"cannot read the state file {path}: {exc.strerror or exc}") from None
        try:
            raw = orjson.loads(data)
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}")
            files = {
                str(name): FileMark(int(mark["inode"]), int(mark["offset"]), set(mark["shipped"]))
                for name, mark in raw["files"].items()
            }
            written_for = str(raw["target"])
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(
                f"the state file {path} is not one jsontrace export wrote ({exc}); "
                "move it away to export everything again"
            ) from None
        if written_for != target:
            raise StateError(
                f"the state file {path} records an export to {written_for}, not {target}; "
                "give this export its own --state"
            )
        return cls(path, target, files)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "target": self.target,
            "files": {
                name: {"inode": mark.inode, "offset": mark.offset, "shipped": sorted(mark.shipped)}
                for name, mark in sorted(self.files.items())
            },
        }

    def save(self) -> None:
        """Replace the state file atomically (a reader never sees half of it)."""
        data = orjson.dumps(self.to_json())
        directory = self.path.parent
        try:
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise StateError(
                f"cannot write the state file {self.path}: {exc.strerror or exc}; "
                "give a writable place with --state"
            ) from None


def default_state_path(directory: Path, target: str) -> Path:
    """Next to the logs, one per target: ``DIR/.jsontrace-export-<hash of target>.json``.

    The reader only reads ``*.jsonl``, so the state file is never taken for a trace file.
    """
    digest = hashlib.sha256(target.encode()).hexdigest()[:12]
    return directory / f".jsontrace-export-{digest}.json"
