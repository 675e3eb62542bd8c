"""One source of truth: the viewer, --print and the doctor count bad lines and corruption alike."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from jsontrace_view.app import TraceViewer

from .. import events
from .conftest import TraceFiles, wait_for

ROOT = Path(__file__).parent.parent.parent
GEN = "01a20c95-05eb-78ca-9937-000000000002"  # a writer-sized id: its chunk lines are deferred


def command(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'viewer'}"}
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=60, env=env
    )


def health_of(text: str) -> str:
    """The "N bad lines · M problems" phrase in an output."""
    found = re.search(r"\d[\d,]* bad lines? · \d[\d,]* problems?|no problems", text)
    assert found is not None, text
    return found.group()


def write_damage(files: TraceFiles) -> None:
    """Garbage, a malformed start, a repeated and a missing chunk, a wrong count, a cut chunk line."""
    files.trace("fine", children=1)
    with files.path.open("ab") as f:
        f.write(b"garbage\n\xff\xfe\n")
    files.write(
        {**events.start("bad-ts"), "ts": "nonsense"}, {**events.start("bad-name"), "name": 123}
    )
    files.start(GEN, run_type="llm")
    files.chunk(GEN, 0, "a")
    files.chunk(GEN, 0, "a")  # repeated
    files.chunk(GEN, 2, "c")  # seq 1 missing
    with files.path.open("ab") as f:  # the writer's layout, cut short
        f.write(b'{"event":"run.chunk","run_id":"' + GEN.encode() + b'","trace_id":"x","v":1\n')
    files.end(GEN, chunk_count=5)  # two chunks on disk


async def test_the_viewer_print_and_doctor_report_the_same_counts_in_the_same_words(
    files: TraceFiles, trace_dir: Path, make_app: Callable[..., TraceViewer]
) -> None:
    """Garbage appended while the viewer is open: all three say the same "N bad lines · M problems"."""
    files.trace("first", children=0)
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        write_damage(files)
        await wait_for(pilot, lambda: GEN in app.store.runs and app.store.runs[GEN].has_end)
        await wait_for(pilot, lambda: 0 == app.store.unsettled)
        await pilot.pause(0.3)
        viewer = health_of(app._status.plain)

    printed = command("jsontrace_view", str(trace_dir), "--print")
    doctor = command("jsontrace", "doctor", str(trace_dir))

    assert "5 bad lines · 8 problems" == viewer  # + a repeat, a missing seq, a wrong count
    assert (viewer, viewer) == (health_of(printed.stderr), health_of(doctor.stdout))
    assert (0, 1) == (printed.returncode, doctor.returncode)


async def test_counts_are_in_words_with_plurals_right(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """One bad line is "1 bad line", one problem "1 problem"; nothing wrong is "no problems"."""
    files.trace("t", children=0)
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        assert "no problems" == health_of(app._status.plain)
        with files.path.open("ab") as f:
            f.write(b"garbage\n")
        await wait_for(pilot, lambda: "1 bad line · 1 problem" in app._status.plain)
        assert "1 file · 1 trace · 1 run · 2 events" in app._status.plain


async def test_a_directory_of_garbage_says_there_is_no_valid_event(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Only bad lines: the tree says so (not "waiting for *.jsonl files"), and counts them."""
    with files.path.open("ab") as f:
        f.write(b"garbage\n")
    files.write({**events.start("x"), "ts": "nonsense"})
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        await pilot.pause()
        message = app._tree.message

    assert message.startswith(
        f"No valid events in {files.directory}: 2 bad lines (jsontrace doctor"
    )
    assert [] == list(app.store.roots)
