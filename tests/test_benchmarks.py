"""The benchmark scripts keep working: each runs at tiny sizes and prints its table.

Speed itself is never asserted here (shared machines are noisy); the numbers
live in docs/performance.md, from full runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=None if env is None else {**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_overhead_quick_prints_every_row_and_ratio() -> None:
    """overhead.py --quick prints the per-call, per-chunk and tracing-off rows with ratios."""
    out = _run("overhead.py", "--quick")
    for row in (
        "traced call (2 args)",
        "sync generator, per chunk",
        "async generator, per chunk",
        "tracing off, per call",
        "tracing off, per chunk",
        "import time",
        "from X import traceable",
        "1 MiB argument of prose",
    ):
        assert row in out, out
    assert "jsontrace/floor" in out and "jsontrace/OTel" in out
    assert "redaction on | redaction off | on/off" in out


def test_memory_quick_prints_each_variant_against_untraced() -> None:
    """memory.py --quick runs the untraced, traced and reduce_fn streams and prints their peaks."""
    out = _run("memory.py", "--quick")
    for row in ("untraced", "traced, no reduce_fn", "traced, reduce_fn=len", "over untraced"):
        assert row in out, out


def test_stages_prints_each_step_of_the_hot_path(tmp_path: Path) -> None:
    """stages.py splits a chunk's cost into wrapper, processors, writer and the floor; cleans up."""
    out = _run("stages.py", env={"TMPDIR": str(tmp_path)})
    assert [] == list(tmp_path.iterdir())  # it writes hundreds of MB: none may stay
    for row in (
        "generator wrapper",
        "stamp_time",
        "Redactor",
        "Renderer",
        "SegmentWriter",
        "floor",
    ):
        assert row in out, out
