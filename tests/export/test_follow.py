"""``jsontrace export --follow``: ships runs as they end, survives SIGKILL without loss or repeats,
stops cleanly on SIGTERM/SIGINT, and keeps only traces in progress in memory."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from jsontrace.export import Exporter, JsonLinesSink, _command
from jsontrace.export._command import add_arguments
from jsontrace.export._otlp_map import span_id_hex

from .conftest import ROOT, jsontrace_cmd, write_app_traces
from .otlp_server import FakeOtlp

STREAM_APP = Path(__file__).with_name("stream_app.py")


def follow(directory: Path, url: str, state: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        jsontrace_cmd(
            "export", str(directory), "--otlp", url, "--follow", "--state", str(state),
            "--interval", "0.05", "--batch-spans", "8", *extra,
        ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def writer(directory: Path, traces: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(STREAM_APP), str(directory), str(traces)], cwd=ROOT, text=True
    )


def span_ids_in(directory: Path) -> set[str]:
    ids = set()
    for path in directory.glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            event = orjson.loads(line)
            if event["event"] == "run.start":
                ids.add(span_id_hex(event["run_id"]))
    return ids


def a_parent_is_still_open(accepted: list[Any]) -> bool:
    ids = {span.span_id for span in accepted}
    return any(span.parent_span_id and span.parent_span_id not in ids for span in accepted)


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


@pytest.mark.slow
def test_sigkill_mid_stream_and_a_restart_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, otlp: FakeOtlp
) -> None:
    """The exporter is killed while a batch waits for its answer, with the app still writing;
    restarted on the same state, every run of the app arrives exactly once."""
    logs, state = tmp_path / "logs", tmp_path / "state.json"
    app = writer(logs, 100)
    exporter = follow(logs, otlp.url, state)
    try:
        assert otlp.wait_spans(40), "the follower sent nothing"
        # The next batch sent while a turn is open with some of its replies accepted is never
        # answered: a restart must then read that turn's start again, yet skip those replies.
        otlp.hold(when=a_parent_is_still_open)
        assert otlp.wait_held()
        exporter.kill()  # ... and its sender dies waiting: that batch was not accepted
        exporter.wait(timeout=30)
        otlp.release()
        assert app.poll() is None, "the app should still be writing: kill mid-stream"
        before = len(otlp.span_ids())

        exporter = follow(logs, otlp.url, state)
        assert 0 == app.wait(timeout=120)
        assert otlp.wait_spans(400, timeout=120), len(otlp.span_ids())
        code, err = stop(exporter)
    finally:
        for process in (app, exporter):
            if process.poll() is None:
                process.kill()
                process.wait()

    assert 0 == code, err
    ids = otlp.span_ids()
    repeated = [span for span, count in Counter(ids).items() if count > 1]
    assert [] == repeated
    assert span_ids_in(logs) == set(ids)
    assert 400 == len(ids) > before > 0
    held = [r for r in otlp.received if r.status == -1]
    assert 1 == len(held) and held[0].spans()  # the lost answer's spans came again, once


def test_sigterm_and_sigint_stop_after_the_current_batch_and_keep_the_state(
    tmp_path: Path, otlp: FakeOtlp
) -> None:
    """Follow a finished directory: all spans go out; SIGTERM (or SIGINT) exits 0 with the
    summary; a restart sends nothing again."""
    logs, state = write_app_traces(tmp_path / "logs"), tmp_path / "state.json"

    for sig in (signal.SIGTERM, signal.SIGINT):
        exporter = follow(logs, otlp.url, state)
        assert exporter.stderr is not None
        first = exporter.stderr.readline()  # said once it handles the signals
        assert first.startswith(f"jsontrace export: following {logs}, sending to {otlp.url}")
        if sig == signal.SIGTERM:
            assert otlp.wait_spans(6)
        code, err = stop(exporter, sig)
        assert 0 == code, err
        assert "span(s) of" in err.splitlines()[-1]

    assert 6 == len(otlp.span_ids()) == len(set(otlp.span_ids()))


def test_follow_waits_for_a_directory_the_app_has_not_made_yet(
    tmp_path: Path, otlp: FakeOtlp
) -> None:
    """The library makes its directory on the first event, so a follower started first (a
    sidecar) waits for it, saying so once, then ships what comes; SIGTERM while it waits
    exits 0. A path that exists but is not a directory is still refused at once."""
    logs, state = tmp_path / "logs", tmp_path / "state.json"
    exporter = follow(logs, otlp.url, state)
    assert exporter.stderr is not None
    first = exporter.stderr.readline()
    write_app_traces(logs)
    try:
        assert otlp.wait_spans(6), "the follower sent nothing"
        code, err = stop(exporter)
    finally:
        if exporter.poll() is None:
            exporter.kill()
            exporter.wait()
    waiting = follow(tmp_path / "never", otlp.url, tmp_path / "never.json")
    assert waiting.stderr is not None
    waiting.stderr.readline()
    quiet_code, _ = stop(waiting)
    (tmp_path / "file").write_text("")
    not_a_directory = follow(tmp_path / "file", otlp.url, tmp_path / "file.json")

    assert first.startswith(f"jsontrace export: {logs} does not exist yet; waiting for it")
    assert 0 == code, err
    assert "span(s) of" in err.splitlines()[-1]
    assert 6 == len(set(otlp.span_ids()))
    assert 0 == quiet_code
    assert 2 == not_a_directory.wait(timeout=60)
    assert not_a_directory.stderr is not None
    assert "is not a directory" in not_a_directory.stderr.read()


def test_sigterm_while_waiting_to_retry_stops_at_once(tmp_path: Path, otlp: FakeOtlp) -> None:
    """The receiver answers 503 forever: --follow keeps trying (saying so once); SIGTERM ends
    the wait, exit status 0, and the batch stays unsent in the state."""
    logs, state = write_app_traces(tmp_path / "logs"), tmp_path / "state.json"
    otlp.script([(503, {"Retry-After": "30"})] * 100)
    exporter = follow(logs, otlp.url, state)
    deadline = time.monotonic() + 60
    while not otlp.received and time.monotonic() < deadline:
        time.sleep(0.05)

    started = time.monotonic()
    code, err = stop(exporter)

    assert 0 == code, err
    assert time.monotonic() - started < 20  # not the 30 s Retry-After
    lines = err.splitlines()
    assert (
        "answered 503 Service Unavailable; trying again (next in 30.0 s) until it answers"
        in lines[1]
    )
    assert "stopped:" in lines[-1]
    assert [] == otlp.accepted()


def test_follow_ships_a_run_when_it_ends_and_interrupted_runs_of_a_dead_writer(
    tmp_path: Path,
) -> None:
    """A live writer's open run is not shipped until its end is written; a dead writer's are."""
    from jsontrace._host import HOST

    from .. import events as ev

    logs = write_app_traces(tmp_path / "logs")  # its writer died: two interrupted runs
    live = logs / "trace-20990101T000000Z-live-1-00000.jsonl"
    import os

    open_run = "01a20c5b-2a3a-7000-8000-00000000aaaa"
    live.write_bytes(ev.line(ev.start(open_run, host=HOST, pid=os.getpid())))
    out = tmp_path / "out.jsonl"
    sink = JsonLinesSink(str(out), "svc")
    exporter = Exporter(logs, sink)

    first = exporter.run()
    with live.open("ab") as f:
        f.write(ev.line(ev.end(open_run)))
    second = exporter.run()
    sink.close()

    assert (6, 1) == (first.spans, first.running)
    assert (1, 0) == (second.spans, second.running)


def test_memory_holds_only_the_traces_in_progress(tmp_path: Path) -> None:
    """After a directory of finished traces is exported, the run model holds none of them."""
    logs = tmp_path / "logs"
    assert (
        0 == subprocess.run([sys.executable, str(STREAM_APP), str(logs), "50"], cwd=ROOT).returncode
    )
    sink = JsonLinesSink(str(tmp_path / "out.jsonl"), "svc")
    exporter = Exporter(logs, sink, batch_spans=10)

    summary = exporter.run()
    sink.close()

    assert 200 == summary.spans
    assert [] == exporter._store.traces()  # everything shipped was dropped


def test_the_state_is_saved_after_every_accepted_batch(tmp_path: Path) -> None:
    """A death between two batches of one read (here: the sink raises what nothing catches)
    leaves a state that records the first batch, so a restart sends only the rest."""
    from jsontrace.export import Delivery, Sink, Span, State

    logs, state_path = write_app_traces(tmp_path / "logs"), tmp_path / "state.json"
    sent: list[str] = []

    class Dies(Sink):
        def send(self, spans: list[Span]) -> Delivery:
            if sent:
                raise SystemExit("killed")
            sent.extend(span.span_id for span in spans)
            return Delivery(len(spans))

    with pytest.raises(SystemExit):
        Exporter(logs, Dies(), state=State.load(state_path, "t"), batch_spans=2).run()
    again: list[str] = []

    class Keeps(Sink):
        def send(self, spans: list[Span]) -> Delivery:
            again.extend(span.span_id for span in spans)
            return Delivery(len(spans))

    Exporter(logs, Keeps(), state=State.load(state_path, "t"), batch_spans=2).run()

    assert 2 == len(sent)
    assert span_ids_in(logs) == set(sent) | set(again)
    assert 4 == len(again) == len(set(again) - set(sent))


def test_a_signal_the_moment_the_follower_says_it_waits_is_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A supervisor may stop the follower as soon as it has said anything. SIGTERM delivered
    while "waiting for it" is written is the command's to handle (exit 0): it never reaches
    the handler that was there before (for a real process, the default one, which kills)."""
    logs = tmp_path / "logs"

    def say(message: str) -> None:
        if "waiting for it" in message:
            signal.raise_signal(signal.SIGTERM)

    def outside(signum: int, frame: object) -> None:
        raise AssertionError("SIGTERM reached the handler from before the command")

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [str(logs), "--otlp", "http://127.0.0.1:9/v1/traces", "--follow",
         "--state", str(tmp_path / "state.json"), "--interval", "0.05"]
    )  # fmt: skip
    monkeypatch.setattr(_command, "_say", say)
    previous = signal.signal(signal.SIGTERM, outside)
    try:
        code = _command.run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert 0 == code
