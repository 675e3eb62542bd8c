"""What can be taken out of the viewer: a run's values, its ids, a trace's lines; where they go.

No Textual here: the app asks for the text (under its store lock) and sends it
to the clipboard (OSC 52), a file, or ``$EDITOR``/``$PAGER``.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from jsontrace.reader import DirectoryReader
from jsontrace.store import RunRecord

__all__ = [
    "MAX_CLIPBOARD_BYTES",
    "TARGETS",
    "Files",
    "Target",
    "default_path",
    "open_command",
    "trace_lines",
    "value_text",
    "write_new",
]

#: More than this is not sent to the clipboard: terminals drop (or choke on) long OSC 52
#: sequences; the app says to save to a file instead.
MAX_CLIPBOARD_BYTES: Final = 1_000_000


def value_text(value: Any) -> str:
    """A value as text to take away: a string as it is, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


@dataclass(frozen=True)
class Files:
    """Where the viewer reads from: the directory, and its reader (for a run's own lines)."""

    directory: Path
    reader: DirectoryReader | None = None


def trace_lines(files: Files, trace_id: str) -> bytes:
    """Every line of one trace as the files hold it, the processes' files merged by time.

    The same lines as ``jsontrace export DIR --trace ID`` prints (its
    :func:`jsontrace.export.write_trace`).
    """
    from jsontrace.export import write_trace  # only when a trace is taken away

    out = io.BytesIO()
    write_trace(files.directory, trace_id, out)
    return out.getvalue()


def _run_lines(run: RunRecord, files: Files) -> bytes:
    events, _exact = run.events(files.reader)
    return b"".join(orjson.dumps(event) + b"\n" for event in events)


def _trace_id(run: RunRecord) -> str:
    return run.trace_id or run.root.run_id


@dataclass(frozen=True)
class Target:
    """Something of the selected run that can be taken away."""

    key: str  # the key that picks it in the take-away menu
    label: str  # in the menu
    noun: str  # in "copied the run id of …" and in a saved file's default name
    text: Callable[[RunRecord, Files], str]
    #: Whether this run has it (a run without an error has no error to copy).
    present: Callable[[RunRecord], bool] = lambda run: True
    suffix: str = ".txt"  # for a file or the editor: how its name ends

    def what(self, run: RunRecord) -> str:
        """What was taken, for the status bar: ``"the trace of answer as JSON lines"``."""
        lines = " as JSON lines" if self.suffix == ".jsonl" else ""
        return f"the {self.noun} of {run.name}{lines}"  # the status bar escapes it


def _outputs(run: RunRecord, files: Files) -> str:
    if run.end is not None:
        return value_text(run.outputs)
    _joined, value = run.streamed()
    return value_text(value)


def _error(run: RunRecord, files: Files) -> str:
    return "\n".join(t for t in (run.error_summary, run.traceback) if t)


TARGETS: Final = (
    Target(
        "i",
        "inputs",
        "inputs",
        lambda run, _: value_text(run.inputs),
        lambda run: run.start is not None,
    ),
    Target("o", "outputs (so far, while it runs)", "outputs", _outputs, lambda run: run.seen),
    Target("x", "error and traceback", "error", _error, lambda run: run.error is not None),
    Target(
        "m",
        "metadata",
        "metadata",
        lambda run, _: value_text(run.metadata),
        lambda run: bool(run.metadata),
    ),
    Target("r", "run id", "run id", lambda run, _: run.run_id),
    Target("t", "trace id", "trace id", lambda run, _: _trace_id(run)),
    Target(
        "l",
        "this run's events as JSON lines",
        "events",
        lambda run, files: _run_lines(run, files).decode("utf-8", "replace"),
        suffix=".jsonl",
    ),
    Target(
        "j",
        "the whole trace as JSON lines",
        "trace",
        lambda run, files: trace_lines(files, _trace_id(run)).decode("utf-8", "replace"),
        suffix=".jsonl",
    ),
)


def default_path(run: RunRecord, target: Target, directory: Path | None = None) -> Path:
    """Where a take-away is saved unless the user says otherwise: the current directory."""
    ident = _trace_id(run) if target.key == "j" else run.run_id
    kind = target.noun.replace(" ", "-")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in ident)[:40]
    return (directory or Path.cwd()) / f"{kind}-{safe}{target.suffix}"


def write_new(path: Path, data: bytes) -> None:
    """Write *data* to a new file (never over an existing one: that is the user's)."""
    with open(path, "xb") as f:
        f.write(data)


def open_command(path: Path, environ: dict[str, str] | None = None) -> list[str] | None:
    """The command that shows *path*: ``$EDITOR`` (or ``$VISUAL``), else ``$PAGER``, else less or more."""
    env = os.environ if environ is None else environ
    for name in ("EDITOR", "VISUAL", "PAGER"):
        command = env.get(name, "").strip()
        if command:
            try:
                return [*shlex.split(command), str(path)]
            except ValueError:
                continue  # an unbalanced quote: try the next
    for fallback in ("less", "more"):
        found = shutil.which(fallback)
        if found:
            return [found, str(path)]
    return None
