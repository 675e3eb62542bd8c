"""benchmarks/viewer_load.py keeps working: at tiny sizes it runs end to end and prints its table.

Speed is never asserted (shared machines are noisy): only that every row is there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_viewer_load_quick_prints_every_row() -> None:
    """viewer_load.py --quick generates, measures parse, model, viewer, live latencies, idle CPU, tail memory and the big directory, and prints each row."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "viewer_load.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert 0 == done.returncode, done.stderr
    out = done.stdout
    for row in (
        "| events / runs / traces",
        "| files / size",
        "| bare orjson parse, time",
        "| bare orjson parse, peak RSS",
        "| orjson parse keeping all, time",
        "| orjson parse keeping all, peak RSS",
        "| run model ingest, time",
        "| run model ingest, peak RSS",
        "| viewer ready, headless, time",
        "| viewer ready, headless, peak RSS",
        "| live write -> model, p50/p95/max",
        "| live write -> tree node, p50/p95/max",
        "| live write -> screen, p50/p95/max",
        "| idle viewer, 1,000 files, CPU",
        "| tail ",
        "| big: run model, time / peak RSS",
        "| big: viewer ready, time / peak RSS",
    ):
        assert row in out, out
    assert "2,040 / 204 / 34" in out, out  # 34 traces of 60 events and 6 runs each
    assert "(0 files opened," in out, out  # an idle viewer's rescans open nothing
    assert "no traces seen" not in out, out


def _tail_verdict() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import viewer_load
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return viewer_load.tail_verdict


def _tail(rss_growth_kib: int, index_growth_kib: int) -> list[tuple[float, int, int]]:
    """Ten minutes of samples, RSS 80 MiB plus linear growth, the index a part of it."""
    return [
        (t, 80 * 1024 + rss_growth_kib * t // 600, 256 + index_growth_kib * t // 600)
        for t in range(601)
    ]


def test_the_tail_is_flat_when_only_the_index_grows() -> None:
    """RSS that grows by no more than the index of traces out of memory is flat, even when
    that is more than the target of RSS itself (the index grows by design)."""
    text, flat = _tail_verdict()(_tail(rss_growth_kib=8 * 1024, index_growth_kib=8 * 1024))
    assert flat, text
    assert "(+7.9%" in text, text  # RSS itself: over the target
    assert "(+0.0%)" in text, text  # the rest


def test_the_tail_is_not_flat_when_the_rest_grows() -> None:
    """Growth beyond the index, more than the target, is not flat: the index cannot hide it."""
    text, flat = _tail_verdict()(_tail(rss_growth_kib=8 * 1024, index_growth_kib=2 * 1024))
    assert not flat, text
    text, flat = _tail_verdict()(_tail(rss_growth_kib=3 * 1024, index_growth_kib=0))
    assert flat, text
