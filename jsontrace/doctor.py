"""Check a trace directory: ``jsontrace doctor DIR``.

The doctor reads the directory through the same run model as the viewer and
``--print`` (:mod:`jsontrace.store`), decoding every line, so all three count
bad lines and corruption the same way and say it in the same words
(:func:`jsontrace.render.health`). It reports:

* **corruption** (exit status 1): bad lines (not JSON, not UTF-8, too long, or
  not a valid event: the store's checks name what is wrong), repeated events,
  a second, different start or end of a run, chunks whose ``seq`` has gaps, an
  end whose ``chunk_count`` disagrees with the chunks on disk;
* **findings** that are not corruption: runs without an end (still running,
  interrupted when their process is gone, or from another host, which cannot be
  told apart here), orphans (a parent that is not in the directory, e.g. deleted
  by retention), runs seen without their start, files ending in a partial line
  (a writer in the middle of a write), and ``*.jsonl`` names that are not
  regular files (skipped).

Every text from the files (file names, excerpts) is made printable before it
is shown.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ._host import process_alive
from .render import health, plural, printable
from .store import load_directory

__all__ = ["Report", "check"]

_SAMPLES = 20


@dataclass
class Report:
    """What :func:`check` found. ``problems`` are corruption samples; ``ok`` is True without any."""

    directory: Path
    files: int = 0
    events: int = 0
    runs: int = 0
    traces: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    running: int = 0
    interrupted: int = 0
    unfinished_elsewhere: int = 0
    orphans: int = 0
    without_start: int = 0
    incomplete_tails: int = 0
    skipped_files: int = 0
    bad_lines: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        """Whether no corruption was found."""
        return self.problem_count == 0

    def summary(self) -> str:
        """A short plain-text report, one fact per line; everything from the files made printable."""
        finished = ", ".join(
            f"{count:,} {status}" for status, count in sorted(self.statuses.items())
        )
        lines = [
            f"directory   {printable(str(self.directory))}",
            f"files       {self.files:,}"
            + (
                f" ({plural(self.skipped_files, 'other name')} skipped)"
                if self.skipped_files
                else ""
            ),
            f"events      {self.events:,}",
            f"traces      {self.traces:,}",
            f"runs        {self.runs:,} ({finished or 'none finished'})",
            f"unfinished  {self.running:,} running, {self.interrupted:,} interrupted (writer gone), "
            f"{self.unfinished_elsewhere:,} from other hosts",
            f"orphans     {self.orphans:,} (parent not in this directory), "
            f"{self.without_start:,} seen without their start",
            f"incomplete  {plural(self.incomplete_tails, 'file')} ending in a partial line",
            f"health      {health(self.bad_lines, self.problem_count)}",
        ]
        lines.extend(f"  - {printable(text)}" for text in self.problems)
        if self.problem_count > len(self.problems):
            lines.append(f"  ... and {self.problem_count - len(self.problems):,} more")
        return "\n".join(lines)


def check(directory: str | os.PathLike[str]) -> Report:
    """Read every segment file in *directory* and check it against the format."""
    # Chunk lines decoded as they are read: every bad line is reported with its line number.
    store, reader = load_directory(directory, defer_chunks=False)
    summary = store.summary(reader)
    report = Report(Path(directory))
    report.files = summary.files
    report.events = summary.events
    report.runs = summary.runs
    report.traces = summary.traces
    report.orphans = summary.orphans
    report.without_start = summary.without_start
    report.incomplete_tails = summary.partial_tails
    report.skipped_files = summary.skipped_files
    report.bad_lines = summary.bad_lines
    report.problem_count = summary.corruption
    report.problems = list(summary.problems[:_SAMPLES])
    for run in store.runs.values():
        if not run.seen:
            continue
        if run.has_end:
            report.statuses[run.status] += 1
            continue
        alive = process_alive(run.host, run.pid)
        if alive is None:
            report.unfinished_elsewhere += 1
        elif alive:
            report.running += 1
        else:
            report.interrupted += 1
    return report
