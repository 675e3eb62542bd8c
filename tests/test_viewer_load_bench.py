"""benchmarks/viewer_load.py keeps working: at tiny sizes it runs end to end and prints its table.

Speed is never asserted (shared machines are noisy): only that every row is there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
