"""Check a trace directory for corruption: ``jsontrace doctor DIR``.

The viewer's run model is tolerant by design: it shows what it can. The
doctor is strict: it says whether the files keep the format's promises, and
the stress tests use it to prove them. It finds:

* **corruption** (exit status 1): lines that are not JSON objects, events
  missing a required key, the same event written twice, a run with two starts
  or two ends, chunks whose ``seq`` has gaps, an end whose ``chunk_count``
  disagrees with the chunks on disk;
* **findings** that are not corruption: runs without an end (still running,
  or interrupted when their process is gone), orphans (a parent that is not in
  the directory, e.g. deleted by retention), a file whose last line is still
  incomplete (a writer in the middle of a write).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import format as fmt
from ._host import process_alive
from .reader import DirectoryReader

__all__ = ["Report", "check"]

_REQUIRED = {
    fmt.START: (fmt.PARENT_RUN_ID, fmt.NAME, fmt.RUN_TYPE, fmt.PID, fmt.HOST),
    fmt.CHUNK: (fmt.CHUNK_SEQ,),
    fmt.END: (fmt.STATUS, fmt.CHUNK_COUNT),
}
_SAMPLES = 20


@dataclass
class _RunFacts:
    starts: int = 0
    ends: int = 0
    parent: str | None = None
    host: Any = None
    pid: Any = None
    seqs: set[int] = field(default_factory=set)
    chunk_count: int | None = None
    status: str | None = None


@dataclass
class Report:
    """What :func:`check` found. ``problems`` are corruption; ``ok`` is True without any."""

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
    incomplete_tails: int = 0
    bad_lines: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < _SAMPLES:
            self.problems.append(text)

    def summary(self) -> str:
        """A short plain-text report, one fact per line."""
        finished = ", ".join(f"{count} {status}" for status, count in sorted(self.statuses.items()))
        lines = [
            f"directory   {self.directory}",
            f"files       {self.files}",
            f"events      {self.events}",
            f"traces      {self.traces}",
            f"runs        {self.runs} ({finished or 'none finished'})",
            f"unfinished  {self.running} running, {self.interrupted} interrupted (writer gone), "
            f"{self.unfinished_elsewhere} from other hosts",
            f"orphans     {self.orphans} (parent not in this directory)",
            f"incomplete  {self.incomplete_tails} file(s) ending in a partial line",
            f"bad lines   {self.bad_lines}",
            f"corruption  {self.problem_count}",
        ]
        lines.extend(f"  - {text}" for text in self.problems)
        if self.problem_count > len(self.problems):
            lines.append(f"  ... and {self.problem_count - len(self.problems)} more")
        return "\n".join(lines)


def check(directory: str | os.PathLike[str]) -> Report:
    """Read every segment file in *directory* and check it against the format."""
    reader = DirectoryReader(directory)
    report = Report(Path(directory))
    runs: dict[str, _RunFacts] = {}
    seen: set[tuple[Any, ...]] = set()
    for batch in reader.poll():
        for index, event in enumerate(batch.events):
            where = f"{batch.file}:{batch.line_of(index)}"
            report.events += 1
            _check_event(event, where, runs, seen, report)
    report.files = len(reader.files)
    report.bad_lines = reader.bad_lines
    for sample in reader.bad_samples:
        report.problem(f"{sample.file}:{sample.line}: not a JSON line ({sample.reason})")
    report.problem_count += max(0, reader.bad_lines - len(reader.bad_samples))
    report.incomplete_tails = sum(
        1 for state in reader.files.values() if _size(reader.directory / state.name) > state.offset
    )
    _check_runs(runs, report)
    return report


def _check_event(
    event: Any,
    where: str,
    runs: dict[str, _RunFacts],
    seen: set[tuple[Any, ...]],
    report: Report,
) -> None:
    if not isinstance(event, dict):
        report.problem(f"{where}: a JSON {type(event).__name__}, not an event object")
        return
    kind, run_id = event.get(fmt.EVENT), event.get(fmt.RUN_ID)
    if event.get(fmt.VERSION) != fmt.FORMAT_VERSION or kind not in _REQUIRED:
        return  # another format version or a future event kind: not ours to judge
    if not isinstance(run_id, str) or not isinstance(event.get(fmt.TRACE_ID), str):
        report.problem(f"{where}: {kind} without run_id or trace_id")
        return
    missing = [key for key in _REQUIRED[kind] if key not in event]
    if missing:
        report.problem(f"{where}: {kind} of {run_id} lacks {', '.join(missing)}")
        return
    key = (kind, run_id, event.get(fmt.CHUNK_SEQ))
    if key in seen:
        report.problem(f"{where}: duplicated {kind} of run {run_id}")
        return
    seen.add(key)
    facts = runs.setdefault(run_id, _RunFacts())
    if kind == fmt.START:
        facts.starts += 1
        facts.parent = event[fmt.PARENT_RUN_ID]
        facts.host, facts.pid = event[fmt.HOST], event[fmt.PID]
        if facts.parent is None:
            report.traces += 1
    elif kind == fmt.CHUNK:
        seq = event[fmt.CHUNK_SEQ]
        if isinstance(seq, int):
            facts.seqs.add(seq)
    else:
        facts.ends += 1
        facts.status = str(event[fmt.STATUS])
        count = event[fmt.CHUNK_COUNT]
        facts.chunk_count = count if isinstance(count, int) else None


def _check_runs(runs: dict[str, _RunFacts], report: Report) -> None:
    report.runs = sum(1 for facts in runs.values() if facts.starts)
    for run_id, facts in runs.items():
        if facts.starts == 0:
            report.orphans += 1  # its start was in a deleted segment
            continue
        if facts.parent is not None and runs.get(facts.parent, _RunFacts()).starts == 0:
            report.orphans += 1
        if facts.seqs and facts.seqs != set(range(len(facts.seqs))):
            missing = sorted(set(range(max(facts.seqs) + 1)) - facts.seqs)
            report.problem(f"run {run_id}: chunks missing, seq {missing[:5]}")
        if facts.ends == 0:
            alive = process_alive(facts.host, facts.pid)
            if alive is None:
                report.unfinished_elsewhere += 1
            elif alive:
                report.running += 1
            else:
                report.interrupted += 1
            continue
        report.statuses[facts.status or "?"] += 1
        if facts.chunk_count is not None and facts.chunk_count != len(facts.seqs):
            report.problem(
                f"run {run_id}: end says {facts.chunk_count} chunks, {len(facts.seqs)} on disk"
            )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
