"""Statistics per run name and type: counts, latency percentiles, time to first chunk, error rate.

::

    rows = stats.compute(run for root in store.traces() for run in root.walk())
    for row in rows:                       # the most total time first
        print(row.name, row.run_type, row.runs, row.p50_ms, row.p95_ms, row.error_rate)

What the viewer's overview screen shows (over everything loaded, or over the
runs a search matches), and what the README's DuckDB recipe computes from the
files. Index fields of a run are read (name, type, status, durations, first
chunk), and the token usage a run's end event records.

Durations count finished runs only (a running run's time so far is not a
latency); percentiles interpolate linearly between the nearest values, as
DuckDB's ``quantile_cont`` and numpy's default do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .store import ERROR, RUNNING

if TYPE_CHECKING:
    from .store import RunRecord

__all__ = ["NameStats", "compute", "percentile"]


@dataclass
class NameStats:
    """What the runs of one name and run type add up to."""

    name: str
    run_type: str
    runs: int = 0
    running: int = 0
    errors: int = 0
    #: Runs that recorded token usage, and what they add up to.
    calls_with_usage: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    durations_ms: list[float] = field(default_factory=list, repr=False)
    first_chunks_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def finished(self) -> int:
        """Runs that are no longer running (ended, or interrupted)."""
        return self.runs - self.running

    @property
    def error_rate(self) -> float | None:
        """Errors over finished runs (``None`` while none has finished)."""
        return self.errors / self.finished if self.finished else None

    @property
    def total_ms(self) -> float:
        """The time all finished runs took together."""
        return math.fsum(self.durations_ms)

    @property
    def p50_ms(self) -> float | None:
        """Median duration of the finished runs."""
        return percentile(self.durations_ms, 50)

    @property
    def p95_ms(self) -> float | None:
        """95th percentile of the finished runs' durations."""
        return percentile(self.durations_ms, 95)

    @property
    def max_ms(self) -> float | None:
        """The longest finished run."""
        return max(self.durations_ms, default=None)

    @property
    def first_chunk_p50_ms(self) -> float | None:
        """Median time to the first streamed chunk, over the runs that streamed."""
        return percentile(self.first_chunks_ms, 50)


def compute(runs: Iterable[RunRecord]) -> list[NameStats]:
    """One row per (name, run type) of *runs*, the most total time first (then most runs, name)."""
    rows: dict[tuple[str, str], NameStats] = {}
    for run in runs:
        key = (run.name, run.run_type)
        row = rows.get(key)
        if row is None:
            row = rows[key] = NameStats(*key)
        _add(row, run)
    return sorted(rows.values(), key=lambda r: (-r.total_ms, -r.runs, r.name, r.run_type))


def _add(row: NameStats, run: RunRecord) -> None:
    row.runs += 1
    status = run.status
    if status == RUNNING:
        row.running += 1
        return
    if status == ERROR:
        row.errors += 1
    duration = run.duration_ms()
    if duration is not None and math.isfinite(duration):
        row.durations_ms.append(duration)
    first = run.first_chunk_ms
    if first is not None and math.isfinite(first):
        row.first_chunks_ms.append(first)
    usage = run.usage
    if usage is not None:
        row.calls_with_usage += 1
        row.input_tokens += usage["input_tokens"]
        row.output_tokens += usage["output_tokens"]


def percentile(values: Sequence[float], p: float) -> float | None:
    """The *p*-th percentile (0-100) of *values*, interpolated linearly; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
