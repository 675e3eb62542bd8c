"""``jsontrace export``: the command line, its bad inputs (one line, the right exit status), the state."""

from __future__ import annotations

import os
import subprocess
from http import HTTPStatus
from pathlib import Path

import orjson
import pytest

from jsontrace.export._command import parse_since
from jsontrace.export._follow import trace_start_ns
from jsontrace.export._state import State

from .conftest import ROOT, jsontrace_cmd
from .otlp_server import FakeOtlp
from .test_otlp_http import free_port


def export(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        jsontrace_cmd("export", *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith("jsontrace export: ")
    assert "Traceback" not in done.stderr
    return lines[0]


def run_ids(directory: Path) -> set[str]:
    ids = set()
    for path in directory.glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            event = orjson.loads(line)
            if event["event"] == "run.start":
                ids.add(event["run_id"])
    return ids


# -- printing one trace ----------------------------------------------------------------


def test_trace_without_otlp_prints_the_trace_lines_as_they_are_in_the_files(app_logs: Path) -> None:
    """--trace ID alone prints exactly that trace's lines, byte for byte, one event a line."""
    [file] = app_logs.glob("*.jsonl")
    lines = file.read_bytes().splitlines(keepends=True)
    first = orjson.loads(lines[0])
    expected = [line for line in lines if orjson.loads(line)["trace_id"] == first["trace_id"]]

    done = subprocess.run(
        jsontrace_cmd("export", str(app_logs), "--trace", first["trace_id"]),
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )

    assert 0 == done.returncode, done.stderr
    assert b"".join(expected) == done.stdout
    assert 0 < len(expected) < len(lines)


def test_trace_accepts_the_otlp_hex_form_of_the_id(app_logs: Path) -> None:
    """The 32 hex digits a backend shows find the same trace."""
    [file] = app_logs.glob("*.jsonl")
    trace_id = orjson.loads(file.read_bytes().splitlines()[0])["trace_id"]

    by_uuid = export(str(app_logs), "--trace", trace_id)
    by_hex = export(str(app_logs), "--trace", trace_id.replace("-", "").upper())

    assert (0, by_uuid.stdout) == (by_hex.returncode, by_hex.stdout)


def test_an_unknown_trace_is_one_line_and_status_1(app_logs: Path) -> None:
    """No event of that trace: nothing on stdout, one line, exit status 1."""
    done = export(str(app_logs), "--trace", "01a20c5b-0000-7000-8000-000000000000")

    assert (1, "") == (done.returncode, done.stdout)
    assert "no event of trace 01a20c5b-0000-7000-8000-000000000000" in one_line(done)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("ftp://collector:21/v1/traces", "has the scheme ftp://"),
        ("grpc://127.0.0.1:4317", "has the scheme grpc://"),
        ("/no/such/directory/out.jsonl", "the directory /no/such/directory does not exist"),
    ],
)
def test_a_target_that_is_neither_a_writable_path_nor_a_url(
    app_logs: Path, target: str, says: str
) -> None:
    """One line saying what TARGET may be; exit status 2; nothing written."""
    done = export(str(app_logs), "--otlp", target)

    assert 2 == done.returncode
    line = one_line(done)
    assert says in line and ("file path" in line or "writable" in line)


def test_a_target_that_is_a_directory_or_not_writable(app_logs: Path, tmp_path: Path) -> None:
    """A directory, or a file that cannot be opened for writing: one line, status 2."""
    as_directory = export(str(app_logs), "--otlp", str(tmp_path))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    unwritable = export(str(app_logs), "--otlp", str(locked / "out.jsonl"))

    assert 2 == as_directory.returncode and "is a directory" in one_line(as_directory)
    if os.geteuid() != 0:  # root writes anywhere
        assert 2 == unwritable.returncode and "cannot write" in one_line(unwritable)


def test_a_missing_directory_and_missing_options(tmp_path: Path) -> None:
    """No such DIR, and neither --otlp nor --trace: one line each, status 2."""
    missing = export(str(tmp_path / "nope"), "--otlp", "-")
    nothing = export(str(tmp_path))
    since = export(str(tmp_path), "--otlp", "-", "--since", "yesterday-ish")

    assert 2 == missing.returncode and "does not exist" in one_line(missing)
    assert 2 == nothing.returncode and "give --otlp TARGET" in one_line(nothing)
    assert 2 == since.returncode and "--since 'yesterday-ish'" in one_line(since)


def test_an_unreachable_endpoint_is_one_line_and_status_1(app_logs: Path, tmp_path: Path) -> None:
    """Connection refused, retried --retries times: one line naming the URL; state not advanced."""
    url = f"http://127.0.0.1:{free_port()}/v1/traces"
    state = tmp_path / "state.json"

    done = export(str(app_logs), "--otlp", url, "--retries", "1", "--state", str(state))

    assert 1 == done.returncode
    assert f"cannot reach {url}: connection refused (gave up after 2 tries)" in one_line(done)
    assert all(not mark.shipped for mark in State.load(state, url).files.values())


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ((400, {}, b"bad data"), "refused 6 span(s) with 400 Bad Request: bad data"),
        ((413, {}, b""), f"refused 1 span(s) with 413 {HTTPStatus(413).phrase}"),
    ],
)
def test_a_refusal_is_one_line_and_status_1(
    app_logs: Path, otlp: FakeOtlp, answer: tuple[int, dict[str, str], bytes], says: str
) -> None:
    """400 (never retried) and 413 (split down to one span, still too large)."""
    otlp.script([answer] * 20)

    done = export(str(app_logs), "--otlp", otlp.url)

    assert 1 == done.returncode
    assert says in one_line(done)
    assert [] == otlp.accepted()


def test_429_with_retry_after_then_success(app_logs: Path, otlp: FakeOtlp) -> None:
    """Throttled once with Retry-After: 1; the retry goes through and the export succeeds."""
    otlp.script([(429, {"Retry-After": "1"})])

    done = export(str(app_logs), "--otlp", otlp.url)

    assert 0 == done.returncode, done.stderr
    assert [429, 200] == [r.status for r in otlp.received]
    assert otlp.received[1].at - otlp.received[0].at >= 0.9
    assert "6 span(s) of 2 trace(s) sent to" in one_line(done)


def test_429_until_the_retries_run_out(app_logs: Path, otlp: FakeOtlp) -> None:
    """Throttled on every try: one line saying so, status 1."""
    otlp.script([(429, {"Retry-After": "0"})] * 5)

    done = export(str(app_logs), "--otlp", otlp.url, "--retries", "2")

    assert 1 == done.returncode
    assert "answered 429 Too Many Requests (gave up after 3 tries)" in one_line(done)


def test_headers_are_sent_but_never_printed_or_stored(
    app_logs: Path, otlp: FakeOtlp, tmp_path: Path
) -> None:
    """--header reaches the receiver; not stderr, not stdout, not the state file, even on failure."""
    otlp.script([(401, {}, b"who are you")])
    state = tmp_path / "state.json"

    done = export(
        str(app_logs), "--otlp", otlp.url, "--header", "api_key=hsecret", "--state", str(state)
    )

    assert 1 == done.returncode and "check the credentials" in one_line(done)
    assert "hsecret" == otlp.received[0].headers["api_key"]
    assert "hsecret" not in done.stderr + done.stdout + state.read_text()
    bad = export(str(app_logs), "--otlp", otlp.url, "--header", "no equals hsecret")
    assert 2 == bad.returncode and "hsecret" not in bad.stderr


# -- the state ------------------------------------------------------------------------------


def test_the_state_is_not_advanced_past_what_was_accepted(
    app_logs: Path, otlp: FakeOtlp, tmp_path: Path
) -> None:
    """Batch 1 accepted, batch 2 refused: the state lists batch 1 only, and the next run sends
    exactly the rest (nothing lost, nothing twice)."""
    state = tmp_path / "state.json"
    otlp.script([(200, {}), (400, {}, b"no")])

    failed = export(str(app_logs), "--otlp", otlp.url, "--state", str(state), "--batch-spans", "2")

    assert 1 == failed.returncode
    assert "2 span(s) were accepted before" in one_line(failed)
    first = set(otlp.span_ids())
    assert 2 == len(first)

    again = export(str(app_logs), "--otlp", otlp.url, "--state", str(state), "--batch-spans", "2")

    assert 0 == again.returncode, again.stderr
    ids = otlp.span_ids()
    assert len(ids) == len(set(ids)) == 6
    assert {run_id[-17:].replace("-", "") for run_id in run_ids(app_logs)} == set(ids)


def test_a_state_for_another_target_is_refused(app_logs: Path, tmp_path: Path) -> None:
    """A state file records its TARGET; using it for another is one line, status 2."""
    state = tmp_path / "state.json"
    first = export(str(app_logs), "--otlp", str(tmp_path / "a.jsonl"), "--state", str(state))
    other = export(str(app_logs), "--otlp", str(tmp_path / "b.jsonl"), "--state", str(state))
    state.write_text("not json")
    broken = export(str(app_logs), "--otlp", str(tmp_path / "a.jsonl"), "--state", str(state))

    assert 0 == first.returncode, first.stderr
    assert 2 == other.returncode and "give this export its own --state" in one_line(other)
    assert 2 == broken.returncode and "is not one jsontrace export wrote" in one_line(broken)


def test_a_file_export_with_a_state_appends_only_what_is_new(
    app_logs: Path, tmp_path: Path
) -> None:
    """Run twice with --state: the second run adds nothing; without a state the file is rewritten."""
    out, state = tmp_path / "out.jsonl", tmp_path / "state.json"

    export(str(app_logs), "--otlp", str(out), "--state", str(state))
    once = out.read_bytes()
    second = export(str(app_logs), "--otlp", str(out), "--state", str(state))

    assert once == out.read_bytes()
    assert "0 span(s)" in one_line(second)
    export(str(app_logs), "--otlp", str(out))
    assert once.count(b"\n") == out.read_bytes().count(b"\n") == 1


# -- filters ------------------------------------------------------------------------------


def spans_written(out: Path) -> list[dict[str, object]]:
    return [
        span
        for line in out.read_bytes().splitlines()
        for rs in orjson.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]


def test_filters_trace_status_and_since(app_logs: Path, tmp_path: Path) -> None:
    """--trace keeps one trace, --status error the traces with a failure (whole), --since
    the traces begun since then."""
    [file] = app_logs.glob("*.jsonl")
    answer = orjson.loads(file.read_bytes().splitlines()[0])["trace_id"]
    out = tmp_path / "out.jsonl"

    export(str(app_logs), "--otlp", str(out), "--trace", answer)
    one_trace = {s["name"] for s in spans_written(out)}
    export(str(app_logs), "--otlp", str(out), "--status", "error")
    with_errors = [s["name"] for s in spans_written(out)]
    export(str(app_logs), "--otlp", str(out), "--since", "2000-01-01")
    since_long_ago = len(spans_written(out))
    export(str(app_logs), "--otlp", str(out), "--since", "1d")  # the app ran this session
    since_a_day = len(spans_written(out))
    export(str(app_logs), "--otlp", str(out), "--since", "2999-01-01T00:00:00Z")
    in_the_future = len(spans_written(out))

    assert {"answer", "retrieve", "generate", "calculator"} == one_trace
    # Both traces hold a failure: the tool's error, the interrupted runs.
    assert 6 == len(with_errors)
    assert (6, 6, 0) == (since_long_ago, since_a_day, in_the_future)


def test_since_accepts_times_ago_and_iso_times() -> None:
    """30m, 2h, 1d, 1w before now; ISO dates and times with a zone."""
    now = 1_800_000_000.0
    assert int((now - 1800) * 1e9) == parse_since("30m", now=now)
    assert int((now - 7 * 86400) * 1e9) == parse_since("1w", now=now)
    assert 1795503641_000000000 == parse_since("2026-11-24T07:00:41Z")
    assert 1795503641_500000000 == parse_since("2026-11-24T08:00:41.5+01:00")


def test_a_trace_start_is_read_from_its_uuidv7() -> None:
    """The first 48 bits of a UUIDv7 are its Unix milliseconds."""
    assert 0x01A20C5B2A3A * 1_000_000 == trace_start_ns("01a20c5b-2a3a-738c-9dff-db81c7fee9f7")
    assert trace_start_ns("01a20c5b-2a3a-438c-9dff-db81c7fee9f7") is None  # v4: no time in it


def test_a_state_that_cannot_be_written_stops_the_export_before_it_sends(
    app_logs: Path, otlp: FakeOtlp, tmp_path: Path
) -> None:
    """--state in a directory that does not exist: one line, status 2, nothing sent."""
    done = export(str(app_logs), "--otlp", otlp.url, "--state", str(tmp_path / "no" / "state.json"))

    assert 2 == done.returncode
    assert "cannot write the state file" in one_line(done)
    assert [] == otlp.received
