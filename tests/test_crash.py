"""A traced process killed with SIGKILL mid-stream: complete lines only, and the run shows as interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from jsontrace.doctor import check

STREAMER = textwrap.dedent(
    """
    import sys, time
    import jsontrace
    from jsontrace import traceable

    jsontrace.configure(dir=sys.argv[1])

    @traceable(reduce_fn="".join)
    def stream():
        for i in range(10_000):
            yield f"token{i} "
            time.sleep(0.002)

    @traceable
    def app():
        for _ in stream():
            pass

    app()
    """
)


def _chunks_on_disk(directory: Path) -> int:
    return sum(path.read_bytes().count(b'"run.chunk"') for path in directory.glob("*.jsonl"))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_stream_leaves_whole_lines_and_an_interrupted_run(tmp_path: Path) -> None:
    """After SIGKILL every line parses, every chunk reported is there, and viewer and doctor say interrupted."""
    directory = tmp_path / "logs"
    script = tmp_path / "streamer.py"
    script.write_text(STREAMER)
    process = subprocess.Popen([sys.executable, str(script), str(directory)])
    deadline = time.monotonic() + 30
    while (
        not directory.exists() or _chunks_on_disk(directory) < 50
    ) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    raw = b"".join(path.read_bytes() for path in directory.glob("*.jsonl"))
    assert raw.endswith(b"\n")
    events = [orjson.loads(line) for line in raw.splitlines()]
    seqs = [e["seq"] for e in events if e["event"] == "run.chunk"]
    assert seqs == list(range(len(seqs)))
    assert len(seqs) >= 50
    assert 2 == sum(1 for e in events if e["event"] == "run.start")
    assert 0 == sum(1 for e in events if e["event"] == "run.end")

    report = check(directory)
    assert report.ok, report.summary()
    assert (2, 0) == (report.interrupted, report.running)

    printed = subprocess.run(
        [sys.executable, "-m", "jsontrace_view", "--print", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 0 == printed.returncode, printed.stderr
    lines = printed.stdout.splitlines()
    assert 2 == len(lines)
    assert all("interrupted" in line for line in lines), printed.stdout
    assert f"{len(seqs)} chunks" in lines[1]
