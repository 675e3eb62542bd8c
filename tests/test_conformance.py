"""The shared conformance cases (tests/conformance/*.json) run against the Python writer.

The TypeScript package runs the same cases (js/test/conformance.test.ts), so the
two writers cannot drift apart; tests/conformance/README.md describes the files.
Everything this module needs from jsontrace's internals is imported in the
"adapter" section below, so a refactor of the package moves one place only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

# -- adapter: the parts of jsontrace these cases exercise ---------------------------------
from jsontrace import _config, _writer
from jsontrace.processors import Redactor, Renderer, stamp_time


def redact_and_render(
    event: dict[str, Any],
    *,
    redact: bool,
    keys: list[str] | None = None,
    patterns: list[str] | None = None,
    max_chars: int = 100_000,
    max_items: int = 10_000,
) -> bytes:
    """The line the writer's processors make of *event* (redactor first when asked)."""
    if redact:
        event = Redactor(keys=keys or (), patterns=patterns or ())(None, "emit", dict(event))
    line: bytes = Renderer(max_chars=max_chars, max_items=max_items)(None, "emit", event)
    return line


def config_from_env(env: dict[str, str]) -> Any:
    return _config._from_env(env)


def started_stamp(epoch_seconds: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The start stamp a segment writer created at *epoch_seconds* puts in its file names."""
    real_gmtime = time.gmtime
    monkeypatch.setattr(time, "gmtime", lambda *_: real_gmtime(epoch_seconds))
    writer = _writer.SegmentWriter(tmp_path, max_bytes=1 << 20, max_segments=None)
    try:
        return str(writer._started)
    finally:
        _writer.forget_writer(writer)


def segment_name(started: str, host: str, pid: int, segment: int) -> str:
    return _writer.segment_name(started, pid, segment, host=host)


def header_support() -> Any:
    """The Python side's header module (the drop-in work), or a skip until it has landed."""
    return pytest.importorskip(
        "jsontrace._headers",
        reason="the Python side's cross-process headers (jsontrace._headers) have not landed yet",
    )


# The host as file names show it is computed from the machine's name at import, so it
# is checked in a child process where the machine's name is replaced first.
FILE_HOST_PROBE = """
import json, os, sys, importlib
hosts = json.loads(sys.argv[1])
out = []
for host in hosts:
    os.uname = lambda host=host: os.uname_result(("Linux", host, "", "", ""))
    from jsontrace import _host, _writer
    importlib.reload(_host)
    out.append(importlib.reload(_writer)._HOST)
print(json.dumps(out))
"""

# -- the cases --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "conformance"


def load(name: str) -> dict[str, Any]:
    with (CASES / name).open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def expand(value: Any) -> Any:
    """A value with the README's templates ($repeat, $list, $nest, $int) built."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "$repeat":
                return arg[0] * arg[1]
            if key == "$list":
                return [expand(arg[0]) for _ in range(arg[1])]
            if key == "$nest":
                out = expand(arg[1])
                for _ in range(arg[0]):
                    out = [out]
                return out
            if key == "$int":
                return int(arg)
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def expand_line(line: str | list[Any]) -> bytes:
    if isinstance(line, str):
        return line.encode("utf-8", "surrogatepass")
    return "".join(part if isinstance(part, str) else expand(part) for part in line).encode()


def for_python(value: Any) -> Any:
    """An expected value with {"$lang": {...}} resolved to Python's."""
    if isinstance(value, dict):
        if set(value) == {"$lang"}:
            return value["$lang"]["python"]
        return {key: for_python(item) for key, item in value.items()}
    if isinstance(value, list):
        return [for_python(item) for item in value]
    return value


def params(name: str, key: str = "cases") -> list[Any]:
    """pytest parameters, one per case; a known Python difference is a strict xfail."""
    out = []
    for case in load(name)[key]:
        marks = []
        if case.get("known_python_difference"):
            marks.append(pytest.mark.xfail(strict=True, reason=case["known_python_difference"]))
        out.append(pytest.param(case, id=case.get("id"), marks=marks))
    return out


# -- redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("redaction.json"))
def test_redaction_vector(case: dict[str, Any]) -> None:
    """The event after the redactor equals the case's expected event, keys in order."""
    config = case.get("config", {})
    line = redact_and_render(
        case["event"],
        redact=True,
        keys=config.get("redact_keys"),
        patterns=config.get("redact_patterns"),
    )
    written = json.loads(line)
    assert written == case["expected"], case["description"]
    assert list(written) == list(case["expected"]), "key order"


# -- serialisation ------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("serialization.json"))
def test_serialization_vector(case: dict[str, Any]) -> None:
    """The event is written as exactly the case's line."""
    limits = case.get("limits", {})
    line = redact_and_render(
        expand(case["event"]),
        redact=bool(case.get("redact")),
        max_chars=limits.get("max_chars", 100_000),
        max_items=limits.get("max_items", 10_000),
    )
    assert line == expand_line(case["line"]), case["description"]


# -- configuration, file names, timestamps --------------------------------------------------


@pytest.mark.parametrize("case", params("config.json", "env"))
def test_environment_vector(case: dict[str, Any]) -> None:
    """Environment variables give the case's settings, with a warning exactly when it says."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = config_from_env(case["env"])
    for key, expected in case["expected"].items():
        value = getattr(config, key)
        if key == "dir":
            assert value == Path(expected).absolute(), case["description"]
        else:
            assert value == expected, case["description"]
    assert bool(caught) == case["warns"], [str(w.message) for w in caught]


def test_file_name_vectors() -> None:
    """Segment file names: start stamp, host as files show it, pid, five-digit segment number."""
    cases = load("config.json")["file_names"]
    probe = subprocess.run(
        [sys.executable, "-c", FILE_HOST_PROBE, json.dumps([case["host"] for case in cases])],
        capture_output=True,
        text=True,
        check=True,
    )
    shown = json.loads(probe.stdout)
    for case, host in zip(cases, shown, strict=True):
        assert segment_name(case["started"], host, case["pid"], case["segment"]) == case["name"]


@pytest.mark.parametrize("case", params("config.json", "timestamps"))
def test_timestamp_vector(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Epoch microseconds give the case's ts text (sub-microseconds dropped) and file stamp."""
    ns = case["epoch_us"] * 1000 + 999
    assert stamp_time(None, "emit", {"ts": ns})["ts"] == case["ts"]
    assert started_stamp(case["epoch_us"] // 1_000_000, monkeypatch, tmp_path) == case["file"]


# -- cross-process headers --------------------------------------------------------------------


@pytest.mark.parametrize("case", params("headers.json", "write"))
def test_header_writing_vector(case: dict[str, Any]) -> None:
    """A run's headers: dotted order from its root down, baggage when it has a member, traceparent."""
    headers = header_support()
    runs = case["runs"]
    written = {
        "langsmith-trace": ".".join(
            headers.segment(run["start_us"] * 1000 + 999, run["id"]) for run in runs
        )
    }
    baggage = headers.format_baggage(case["metadata"], case["tags"])
    if baggage:
        written["baggage"] = baggage
    written["traceparent"] = headers.traceparent(runs[0]["id"], runs[-1]["id"])
    assert written == case["headers"], case["description"]
    assert list(written) == list(case["headers"]), "header order"


@pytest.mark.parametrize("case", params("headers.json", "read"))
def test_header_reading_vector(case: dict[str, Any]) -> None:
    """The parent named by headers (ids, dotted order, baggage), a warning exactly when malformed."""
    headers = header_support()
    given = case["headers"]
    if isinstance(given, list):
        given = [tuple(pair) for pair in given]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parent = headers.parse_headers(given)
    assert bool(caught) == case["warns"], [str(w.message) for w in caught]
    expected = case["parent"]
    if expected is None:
        assert parent is None
        return
    assert parent is not None
    got = {
        "trace_id": parent.trace_id,
        "run_id": parent.run_id,
        "parent_run_id": parent.parent_run_id,
        "dotted_order": parent.dotted_order,
        "metadata": parent.metadata,
        "tags": parent.tags,
    }
    if isinstance(expected["dotted_order"], dict):  # stamped when received: the ids are checked
        ids = expected["dotted_order"]["$segment_ids"]
        segments = parent.dotted_order.split(".")
        assert [part[-36:] for part in segments] == ids
        assert all(re.fullmatch(r"\d{8}T\d{12}Z", part[:-36]) for part in segments)
        got["dotted_order"] = expected["dotted_order"]
    assert got == expected, case["description"]


# -- programs -------------------------------------------------------------------------------

TS_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def read_events(directory: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as file:
            events.extend(json.loads(line) for line in file)
    return events


def normalise(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs as README.md's "Normalising" section says: numbered, ids/ts/pid/host/ms replaced."""
    numbers: dict[str, int] = {}
    for event in events:
        if event["event"] == "run.start":
            numbers.setdefault(event["run_id"], len(numbers))

    def number(run_id: str | None) -> str | None:
        return None if run_id is None else f"#{numbers[run_id]}"

    runs: list[dict[str, Any]] = [
        {"parent": None, "start": None, "chunks": [], "end": None} for _ in numbers
    ]
    for event in events:
        out: dict[str, Any] = {}
        for key, value in event.items():
            if key in ("run_id", "trace_id", "parent_run_id"):
                value = number(value)
            elif key == "ts":
                assert isinstance(value, str) and TS_TEXT.match(value), value
                value = "<ts>"
            elif key == "pid":
                assert isinstance(value, int) and value > 0
                value = "<pid>"
            elif key == "host":
                assert isinstance(value, str) and value
                value = "<host>"
            elif key in ("duration_ms", "first_chunk_ms") and value is not None:
                assert isinstance(value, (int, float)) and value >= 0
                value = "<ms>"
            elif key == "error" and value is not None:
                assert isinstance(value["traceback"], str) and value["traceback"]
                value = {**value, "traceback": "<traceback>"}
            out[key] = value
        run = runs[numbers[event["run_id"]]]
        if event["event"] == "run.start":
            run["start"] = out
            parent = event["parent_run_id"]
            run["parent"] = None if parent is None else numbers[parent]
        elif event["event"] == "run.chunk":
            run["chunks"].append(out)
        else:
            run["end"] = out
    return runs


def assert_same_runs(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equal runs, and every event with the same keys in the same order."""
    assert actual == expected
    for got, want in zip(actual, expected, strict=True):
        for kind in ("start", "end"):
            assert list(got[kind]) == list(want[kind]), f"key order of {kind}"
        for got_chunk, want_chunk in zip(got["chunks"], want["chunks"], strict=True):
            assert list(got_chunk) == list(want_chunk), "key order of a chunk"


def run_python_program(case: dict[str, Any], directory: Path) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JSONTRACE_") and not key.startswith("PYTHONWARN")
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / case["python"])],
        env={**env, "JSONTRACE_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("case", params("programs.json"))
def test_program_vector(case: dict[str, Any], tmp_path: Path) -> None:
    """The Python twin of each program prints what the case says and leaves its runs."""
    directory = tmp_path / "logs"
    assert run_python_program(case, directory) == case["stdout"]
    assert_same_runs(normalise(read_events(directory)), for_python(case["runs"]))


def test_cases_are_well_formed() -> None:
    """Every case file has cases with unique ids and a description (a typo must not hide one)."""
    for name, key in [
        ("redaction.json", "cases"),
        ("serialization.json", "cases"),
        ("programs.json", "cases"),
        ("config.json", "env"),
        ("headers.json", "write"),
        ("headers.json", "read"),
    ]:
        cases = load(name)[key]
        ids = [case["id"] for case in cases]
        assert len(ids) == len(set(ids)), name
        assert all(case.get("description") for case in cases), name
    for case in load("programs.json")["cases"]:
        assert (ROOT / case["python"]).is_file()
        assert (ROOT / case["typescript"]).is_file()
