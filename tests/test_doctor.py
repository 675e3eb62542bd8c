"""jsontrace doctor: strict checks of a trace directory, and its command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from jsontrace import traceable
from jsontrace.__main__ import main
from jsontrace._host import HOST
from jsontrace.doctor import check

from .events import TS, chunk, end, start

RUN = "01a20c5b-2a3a-74f3-b984-ce135be17a49"


def _event(kind: str, run_id: str = RUN, **fields: Any) -> dict[str, Any]:
    """An event of a run written by this (live) process."""
    if kind == "run.start":
        return start(run_id, trace=RUN, **{"pid": os.getpid(), "host": HOST, **fields})
    if kind == "run.chunk":
        return chunk(run_id, fields.pop("seq"), fields.pop("chunk"), trace=RUN, **fields)
    if kind == "run.end":
        return end(run_id, trace=RUN, **fields)
    return {"event": kind, "run_id": run_id, "trace_id": RUN, "v": 1, "ts": TS, **fields}


def _write(
    directory: Path, *events: dict[str, Any] | bytes, name: str = "trace-a-h-1-00000.jsonl"
) -> None:
    directory.mkdir(exist_ok=True)
    with open(directory / name, "ab") as f:
        for event in events:
            f.write(event if isinstance(event, bytes) else orjson.dumps(event) + b"\n")


def test_clean_directory_from_the_library_is_ok(log_dir: Path) -> None:
    """Files the library wrote check clean, with runs, traces and statuses counted."""

    @traceable
    def stream() -> Any:
        yield 1
        yield 2

    @traceable
    def root() -> int:
        return sum(stream())

    root()
    report = check(log_dir)
    assert report.ok, report.summary()
    assert (report.runs, report.traces, dict(report.statuses)) == (2, 1, {"ok": 2})


def test_corruption_is_found(tmp_path: Path) -> None:
    """Bad lines, duplicated events, seq gaps and a wrong chunk_count are each reported."""
    _write(
        tmp_path,
        _event("run.start"),
        _event("run.chunk", seq=0, chunk="a"),
        _event("run.chunk", seq=0, chunk="a"),
        _event("run.chunk", seq=2, chunk="c"),
        b"{not json\n",
        _event("run.end", chunk_count=3),
    )
    report = check(tmp_path)
    assert not report.ok
    assert [
        "trace-a-h-1-00000.jsonl:5: not JSON (unexpected character, expected a string key:"
        " line 1 column 2 (char 1)): {not json",
        f"trace-a-h-1-00000.jsonl:3: run.chunk seq 0 of run {RUN} repeated",
        f"run {RUN}: chunks missing, seq 1",
        f"run {RUN}: end says 3 chunks, 2 read",
    ] == report.problems
    assert (1, 4) == (report.bad_lines, report.problem_count)


def test_unfinished_runs_are_running_or_interrupted(tmp_path: Path) -> None:
    """A run without an end is running while its process lives, interrupted once it is gone."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    _write(tmp_path, _event("run.start"))
    _write(tmp_path, _event("run.start", run_id="other", pid=int(dead.stdout)))
    report = check(tmp_path)
    assert (report.running, report.interrupted) == (1, 1)
    assert report.ok


def test_orphans_and_partial_tail_are_findings_not_corruption(tmp_path: Path) -> None:
    """A missing parent and a last line still being written are reported but are not corruption."""
    _write(
        tmp_path, _event("run.start", parent_run_id="gone"), _event("run.end"), b'{"event":"run.st'
    )
    report = check(tmp_path)
    assert (report.orphans, report.incomplete_tails) == (1, 1)
    assert report.ok


def test_other_versions_and_kinds_are_ignored(tmp_path: Path) -> None:
    """Events of another format version or an unknown kind are not judged."""
    _write(
        tmp_path,
        _event("run.start", v=2, name=None),
        _event("run.note"),
        _event("run.start"),
        _event("run.end"),
    )
    report = check(tmp_path)
    assert report.ok, report.summary()
    assert report.runs == 1


def test_cli_exit_codes(tmp_path: Path, capsys: Any) -> None:
    """doctor exits 0 when clean, 1 on corruption, 2 with a one-line message for a missing directory."""
    _write(tmp_path / "good", _event("run.start"), _event("run.end"))
    assert main(["doctor", str(tmp_path / "good")]) == 0
    _write(tmp_path / "bad", b"garbage\n")
    assert main(["doctor", str(tmp_path / "bad")]) == 1
    capsys.readouterr()
    assert main(["doctor", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "does not exist" in err


ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def run_doctor(directory: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m jsontrace doctor DIR`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "jsontrace", "doctor", str(directory)],
        capture_output=True, text=True, timeout=60, **kwargs,
    )  # fmt: skip


def test_doctor_survives_any_json_and_names_what_is_wrong(tmp_path: Path) -> None:
    """A list where a string belongs (once a TypeError: unhashable type 'list') is a bad line, reported."""
    _write(
        tmp_path,
        b'{"event":["run.start"],"run_id":"E","v":1}\n',
        b'{"event":"run.chunk","run_id":"E","trace_id":"E","v":1,"ts":"x","seq":[1]}\n',
        b'{"event":"run.end","run_id":{"a":1},"v":1}\n',
        _event("run.start"),
        _event("run.end"),
    )
    result = run_doctor(tmp_path)

    assert (1, "") == (result.returncode, result.stderr)
    assert "health      3 bad lines · 3 problems" in result.stdout
    assert "trace-a-h-1-00000.jsonl:1: event is not a string:" in result.stdout
    assert "trace-a-h-1-00000.jsonl:3: run_id is not a string:" in result.stdout


def test_doctor_into_a_closed_pipe_exits_without_a_traceback(tmp_path: Path) -> None:
    """`jsontrace doctor DIR | head -3`: when the reader has gone, no BrokenPipeError traceback."""
    _write(tmp_path, *(b"garbage %d\n" % n for n in range(50)))
    process = subprocess.Popen(
        [sys.executable, "-m", "jsontrace", "doctor", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the doctor writes a byte
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)

    assert ("", 1) == (stderr, process.returncode)


def test_doctor_shows_hostile_file_names_and_excerpts_escaped(tmp_path: Path) -> None:
    """A file name that clears the screen and a line that sets the window title reach the terminal escaped."""
    _write(
        tmp_path,
        b"\x1b]0;PWNED-TITLE\x07\x1b[31mred \xc2\x9b31m\n",
        name="trace-x\x1b[2Jx.jsonl",
    )
    result = run_doctor(tmp_path)

    assert 1 == result.returncode
    assert None is ESCAPES.search(result.stdout.replace("\n", ""))
    assert "trace-x\\x1b[2Jx.jsonl:1: not JSON" in result.stdout
    assert "\\x1b]0;PWNED-TITLE\\x07\\x1b[31mred \\x9b31m" in result.stdout


def test_doctor_counts_with_the_store(tmp_path: Path) -> None:
    """The doctor's numbers are the run model's: the same bad lines and corruption as --print counts."""
    from jsontrace.store import load_directory

    _write(
        tmp_path,
        _event("run.start"),
        _event("run.chunk", seq=0, chunk="a"),
        _event("run.chunk", seq=0, chunk="a"),
        b"not json\n",
        _event("run.start", run_id="x", ts="nonsense"),
        _event("run.end", chunk_count=2),
    )
    store, reader = load_directory(tmp_path)
    summary = store.summary(reader)
    report = check(tmp_path)

    assert (2, 4) == (summary.bad_lines, summary.corruption)  # + a repeat, a wrong count
    assert (summary.bad_lines, summary.corruption) == (report.bad_lines, report.problem_count)


def test_the_runs_line_groups_the_digits_of_every_count(tmp_path: Path) -> None:
    """The runs line groups the digits of its counts by status, like every other count."""
    events = [e for n in range(1200) for e in (start(f"r{n}"), end(f"r{n}"))]
    (tmp_path / "t.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))

    assert "runs        1,200 (1,200 ok)" in check(tmp_path).summary()
