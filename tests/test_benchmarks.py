"""The benchmark scripts keep working: each runs at tiny sizes and prints its table.

Speed itself is never asserted here (shared machines are noisy); the numbers
live in docs/performance.md, from full runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_stages_prints_each_step_of_the_hot_path(tmp_path: Path) -> None:
    """stages.py splits a chunk's cost into wrapper, fast path, processors, writer and the floor; cleans up."""
    out = _run("stages.py", env={"TMPDIR": str(tmp_path)})
    assert [] == list(tmp_path.iterdir())  # it writes hundreds of MB: none may stay
    for row in (
        "generator wrapper",
        "record_chunk",
        "redaction check",
        "stamp_time",
        "Redactor",
        "Renderer",
        "SegmentWriter",
        "floor",
    ):
        assert row in out, out


@pytest.mark.slow  # two SDK imports and a few hundred streamed chunks: ~20 s on a busy machine
def test_wrappers_quick_prints_both_sdks_against_the_bare_sdk(tmp_path: Path) -> None:
    """wrappers.py --quick prints a row per SDK with the wrapped/bare ratio, and removes its trace files."""
    out = _run("wrappers.py", "--quick", env={"TMPDIR": str(tmp_path)})
    assert [] == list(tmp_path.iterdir())
    for row in (
        "openai chat stream, per chunk",
        "anthropic stream, per chunk",
        "wrapped/bare",
        "own work per chunk",
    ):
        assert row in out, out


def test_export_quick_prints_each_target_and_the_ratio_to_the_sdk() -> None:
    """export.py --quick exports to a file, to a fake endpoint, and with the OTel SDK's exporter."""
    out = _run("export.py", "--quick")
    for row in (
        "jsontrace -> OTLP/JSON file",
        "jsontrace -> OTLP/HTTP protobuf, gzip",
        "OTel SDK OTLPSpanExporter, gzip",
        "jsontrace/SDK (HTTP):",
    ):
        assert row in out, out
    assert "| 300 |" in out  # every run of the 3,000-event directory, in each row
