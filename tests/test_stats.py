"""jsontrace.stats: per-name latency percentiles, first chunks and error rates over runs."""

from __future__ import annotations

import pytest

from jsontrace.stats import compute, percentile
from jsontrace.store import RunRecord, RunStore

from .events import end, start


def runs_of(*events: object) -> list[RunRecord]:
    store = RunStore()
    store.add_events(events)
    return [run for root in store.traces() for run in root.walk()]


def test_percentiles_interpolate_between_the_nearest_values() -> None:
    """Linear interpolation, as DuckDB's quantile_cont: p50 of 1..4 is 2.5, p95 of 1..100 is 95.05."""
    assert 2.5 == percentile([4.0, 1.0, 3.0, 2.0], 50)
    assert pytest.approx(95.05) == percentile([float(x) for x in range(1, 101)], 95)
    assert 7.0 == percentile([7.0], 95)
    assert percentile([], 50) is None


def test_one_row_per_name_and_type_most_total_time_first() -> None:
    """Runs are grouped by (name, run type); rows come most total time first."""
    events: list[object] = []
    for i, ms in enumerate([100.0, 200.0, 300.0, 400.0]):
        events += [
            start(f"llm{i}", name="ChatModel", run_type="llm"),
            end(f"llm{i}", duration_ms=ms),
        ]
    events += [start("tool", name="ChatModel", run_type="tool"), end("tool", duration_ms=5000.0)]
    events += [start("ret", name="retrieve", run_type="retriever"), end("ret", duration_ms=10.0)]

    rows = compute(runs_of(*events))

    assert [("ChatModel", "tool"), ("ChatModel", "llm"), ("retrieve", "retriever")] == [
        (row.name, row.run_type) for row in rows
    ]
    llm = rows[1]
    assert (4, 250.0, 1000.0, 400.0) == (llm.runs, llm.p50_ms, llm.total_ms, llm.max_ms)
    assert pytest.approx(385.0) == llm.p95_ms


def test_error_rate_counts_finished_runs_and_running_ones_have_no_latency() -> None:
    """Errors over finished runs; a running run is counted but adds no duration."""
    runs = runs_of(
        start("a", name="step"), end("a", duration_ms=10.0),
        start("b", name="step"), end("b", "error", duration_ms=30.0, error={"message": "x"}),
        start("c", name="step"),  # running (another host's process: cannot be judged gone)
    )  # fmt: skip
    rows = compute(runs)
    (row,) = rows
    assert (3, 1, 1, 2) == (row.runs, row.running, row.errors, row.finished)
    assert 0.5 == row.error_rate
    assert [10.0, 30.0] == sorted(row.durations_ms)


def test_time_to_first_chunk_is_the_median_over_runs_that_streamed() -> None:
    """first_chunk_p50_ms: the median of first_chunk_ms, over the runs that have one."""
    runs = runs_of(
        start("a", name="gen"), end("a", first_chunk_ms=100.0),
        start("b", name="gen"), end("b", first_chunk_ms=300.0),
        start("c", name="gen"), end("c"),
    )  # fmt: skip
    rows = compute(runs)
    assert 200.0 == rows[0].first_chunk_p50_ms
    assert compute(runs_of(start("x"), end("x")))[0].first_chunk_p50_ms is None


def test_no_finished_runs_means_no_rate_and_no_percentiles() -> None:
    """A name whose runs all still run has no error rate and no latencies yet."""
    (row,) = compute(runs_of(start("a"), start("b", name="a")))
    assert (None, None, None) == (row.error_rate, row.p50_ms, row.p95_ms)


def test_tokens_add_up_over_the_calls_that_recorded_usage() -> None:
    """Prompt and generated tokens are summed over the runs with usage; the others count as calls only."""
    usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
    runs = runs_of(
        start("a", name="llm", run_type="llm"), end("a", usage=usage, model="m"),
        start("b", name="llm", run_type="llm"), end("b", usage=usage, model="m"),
        start("c", name="llm", run_type="llm"), end("c"),
    )  # fmt: skip
    (row,) = compute(runs)
    assert (3, 2, 200, 40) == (row.runs, row.calls_with_usage, row.input_tokens, row.output_tokens)
