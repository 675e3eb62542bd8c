"""The pipeline: our processor chains, isolated from the user's structlog config yet open to their processors; one writer; never raising."""

from __future__ import annotations

import copy
import io
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

import jsontrace
from jsontrace import _pipeline
from jsontrace._writer import SegmentWriter

Events = Callable[[], list[dict[str, Any]]]


@jsontrace.traceable
def greet(name: str) -> str:
    return f"hello {name}"


@pytest.fixture
def user_structlog() -> Iterator[list[dict[str, Any]]]:
    """structlog configured globally by the user, with a processor that sees every event."""
    seen: list[dict[str, Any]] = []

    def spy(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(event_dict))
        event_dict["user_added"] = True
        return event_dict

    structlog.configure(
        processors=[spy, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(io.StringIO()),
        cache_logger_on_first_use=False,
    )
    try:
        yield seen
    finally:
        structlog.reset_defaults()


def test_users_structlog_config_does_not_touch_our_events(
    user_structlog: list[dict[str, Any]], events: Events
) -> None:
    """The user's global processors neither see nor change jsontrace's events."""
    assert "hello a" == greet("a")
    assert [] == user_structlog
    assert [False, False] == ["user_added" in e for e in events()]


def test_our_pipeline_does_not_touch_the_users_logs(
    user_structlog: list[dict[str, Any]], events: Events
) -> None:
    """The user's structlog logs go through their chain only, and never into our files."""
    greet("a")
    structlog.get_logger().info("user event", n=1)
    assert [{"event": "user event", "n": 1}] == [
        {k: v for k, v in e.items() if k in {"event", "n"}} for e in user_structlog
    ]
    assert ["run.start", "run.end"] == [e["event"] for e in events()]


def test_capture_logs_of_structlog_does_not_capture_traces(events: Events) -> None:
    """structlog.testing.capture_logs (a global reconfiguration) leaves our events alone."""
    with structlog.testing.capture_logs() as logs:
        greet("b")
    assert [] == logs
    assert 2 == len(events())


def test_threads_emitting_first_events_at_once_share_one_writer(
    monkeypatch: pytest.MonkeyPatch, log_dir: Path, events: Events
) -> None:
    """When the chain is built by many threads at once, exactly one writer is created."""
    created: list[SegmentWriter] = []
    real_new = _pipeline._new_writer

    def slow_new() -> SegmentWriter:
        time.sleep(0.05)  # widen the window in which a second thread could build too
        writer = real_new()
        created.append(writer)
        return writer

    monkeypatch.setattr(_pipeline, "_new_writer", slow_new)
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        greet("t")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 == len(created)
    assert 8 == len(events())
    assert 1 == len(list(log_dir.glob("*.jsonl")))


def test_changing_other_settings_keeps_the_segment_file(log_dir: Path) -> None:
    """configure() of limits or redaction keeps writing the same file with the same writer."""
    greet("a")
    writer = _pipeline.current_writer()
    jsontrace.configure(max_bytes=10_000_000, redact=False, max_segments=3)
    greet("b")
    assert writer is _pipeline.current_writer()
    assert 1 == len(list(log_dir.glob("*.jsonl")))


def test_changing_the_directory_moves_writing(tmp_path: Path, events: Events) -> None:
    """configure(dir=...) closes the old file and writes into the new directory."""
    greet("a")
    jsontrace.configure(dir=tmp_path / "other")
    greet("b")
    assert 2 == len(events())
    assert 1 == len(list((tmp_path / "other").glob("*.jsonl")))


def test_a_failing_sink_never_reaches_the_traced_code() -> None:
    """If recording raises, the traced function returns normally and one warning is given."""

    class Broken:
        def write(self, line: bytes) -> None:
            raise RuntimeError("sink down")

    _pipeline.set_sink(Broken())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert ["hello a", "hello b"] == [greet("a"), greet("b")]
    messages = [str(w.message) for w in seen if issubclass(w.category, jsontrace.JsonTraceWarning)]
    assert 1 == len(messages)
    assert "RuntimeError: sink down" in messages[0]


def test_set_sink_returns_the_previous_one() -> None:
    """set_sink swaps the destination and hands back the old one, for nesting."""

    class Memory:
        def __init__(self) -> None:
            self.lines: list[bytes] = []

        def write(self, line: bytes) -> None:
            self.lines.append(line)

    first, second = Memory(), Memory()
    assert None is _pipeline.set_sink(first)
    assert first is _pipeline.set_sink(second)
    greet("a")
    assert second is _pipeline.set_sink(None)
    assert (0, 2) == (len(first.lines), len(second.lines))


def test_processor_chains_follow_the_configuration() -> None:
    """Each kind's chain: stamp first, contextvars for starts, the redactor only while on, rendering last."""
    from jsontrace.processors import Redactor

    jsontrace.configure(redact=False)
    assert not any(
        isinstance(p, Redactor)
        for chain in _pipeline.chains_for(jsontrace._config.CONFIG).values()
        for p in chain
    )
    jsontrace.configure(redact=True)
    chains = _pipeline.chains_for(jsontrace._config.CONFIG)
    names = {
        kind: [getattr(p, "__name__", type(p).__name__) for p in chain]
        for kind, chain in chains.items()
    }
    assert {
        "run.start": ["stamp_time", "merge_contextvars", "Redactor", "Renderer"],
        "run.chunk": ["stamp_time", "Redactor", "Renderer"],
        "run.end": ["stamp_time", "Redactor", "Renderer"],
    } == names


EVENTS = {
    "run.start": {
        "event": "run.start", "run_id": "r", "trace_id": "r", "v": 1, "ts": 1_700_000_000_000_000_000,
        "parent_run_id": None, "name": "f", "run_type": "chain", "inputs": {"api_key": "k", "q": "hi"},
        "tags": [], "metadata": {"m": 1}, "pid": 1, "host": "h",
    },
    "run.chunk": {
        "event": "run.chunk", "run_id": "r", "trace_id": "r", "v": 1, "ts": 1_700_000_000_000_000_000,
        "seq": 0, "chunk": "Bearer abcdefghijk",
    },
    "run.end": {
        "event": "run.end", "run_id": "r", "trace_id": "r", "v": 1, "ts": 1_700_000_000_000_000_000,
        "status": "ok", "outputs": "x" * 200, "error": None, "chunk_count": 0, "duration_ms": 1.0,
    },
}  # fmt: skip


@pytest.mark.parametrize("redact", [True, False])
@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_the_direct_chain_writes_what_structlog_writes(kind: str, redact: bool) -> None:
    """Running a chain as one closure writes the same bytes as structlog's BoundLoggerBase running it."""
    from jsontrace.testing import CapturedTraces

    jsontrace.configure(redact=redact, max_chars=100)
    chain = _pipeline.chains_for(jsontrace._config.CONFIG)[kind]
    direct, through = CapturedTraces(), CapturedTraces()
    _pipeline._direct(chain, "x", direct)(copy.deepcopy(EVENTS[kind]))
    _pipeline._through_structlog(chain, "x", through)(copy.deepcopy(EVENTS[kind]))
    assert 1 == len(direct.events)
    assert direct.events == through.events
    assert ("event", kind) == next(iter(through.events[0].items()))  # "event" stays first


def test_user_processors_run_through_structlog_after_our_fields_and_before_redaction(
    events: Events,
) -> None:
    """configure(processors=...) sees every event with ts as text; what it adds is redacted and written."""
    seen: list[tuple[str, str, str]] = []

    def tag(_logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        seen.append((method, event_dict["event"], type(event_dict["ts"]).__name__))
        event_dict["deployment"] = "eu-1"
        event_dict["api_key"] = "sk-live-secret"  # added by the user: must be redacted
        return event_dict

    jsontrace.configure(processors=[tag])
    assert "hello a" == greet("a")
    assert [("start", "run.start", "str"), ("end", "run.end", "str")] == seen
    written = events()
    assert ["eu-1", "eu-1"] == [e["deployment"] for e in written]
    assert ["[REDACTED]", "[REDACTED]"] == [e["api_key"] for e in written]
    assert "structlog" in sys.modules

    jsontrace.configure(processors=[])
    greet("b")
    assert "deployment" not in events()[-1]


def test_a_user_processor_can_drop_events_with_structlog_drop_event(events: Events) -> None:
    """structlog.DropEvent raised by a user processor drops that event, quietly, as structlog does."""

    def drop_chunks(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if event_dict["event"] == "run.chunk":
            raise structlog.DropEvent
        return event_dict

    @jsontrace.traceable
    def stream() -> Iterator[int]:
        yield from range(3)

    jsontrace.configure(processors=[drop_chunks])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [0, 1, 2] == list(stream())
    assert ["run.start", "run.end"] == [e["event"] for e in events()]


def test_a_failing_user_processor_is_reported_once_and_the_app_goes_on() -> None:
    """A user processor that raises loses that event, is warned about once, and never reaches the app."""

    def broken(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("nope")

    jsontrace.configure(processors=[broken])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert ["hello a", "hello b"] == [greet("a"), greet("b")]
    assert 1 == len([w for w in seen if issubclass(w.category, jsontrace.JsonTraceWarning)])


def test_values_bound_with_structlog_contextvars_reach_the_run_start_metadata(
    events: Events,
) -> None:
    """bind_contextvars(request_id=...) lands in run.start metadata (the run's own keys win), redacted."""
    import structlog.contextvars

    @jsontrace.traceable(metadata={"user_id": "from-the-run"})
    def handle() -> str:
        jsontrace.get_current_run().add_metadata({"late": True})  # type: ignore[union-attr]
        return "done"

    structlog.contextvars.bind_contextvars(
        request_id="req-42", user_id="from-context", session_token="tok-123456"
    )
    try:
        handle()
    finally:
        structlog.contextvars.clear_contextvars()
    handle()
    first_start, first_end, second_start, _ = events()
    assert {"request_id": "req-42", "user_id": "from-the-run", "session_token": "[REDACTED]"} == {
        key: first_start["metadata"][key] for key in ("request_id", "user_id", "session_token")
    }
    assert "metadata.session_token" in first_start["redacted"]
    assert "req-42" == first_end["metadata"]["request_id"]  # the end repeats the whole metadata
    assert "request_id" not in second_start["metadata"]  # cleared: the next run has none


def test_configure_rejects_processors_that_are_not_callables() -> None:
    """processors= must be a list of callables; anything else is a ValueError and changes nothing."""
    for bad in ("stamp", [1], 3):
        with pytest.raises(ValueError, match="processors"):
            jsontrace.configure(processors=bad)  # type: ignore[arg-type]
    assert () == jsontrace._config.CONFIG.processors


def test_an_event_emitted_by_the_gc_during_the_build_does_not_deadlock(
    monkeypatch: pytest.MonkeyPatch, events: Any
) -> None:
    """A traced generator collected while this thread builds the chain ends its run, later."""
    import gc
    import threading

    real = _pipeline.chains_for

    def collecting(config: Any) -> Any:
        gc.collect()  # the collector happens to run inside the build
        return real(config)

    monkeypatch.setattr(_pipeline, "chains_for", collecting)

    class Chat:
        def __init__(self) -> None:
            self.stream = self.tokens()  # a cycle: generator frame -> self -> generator

        @jsontrace.traceable
        def tokens(self) -> Iterator[str]:
            yield "a"
            yield "b"

    @jsontrace.traceable
    def other() -> int:
        return 1

    gc.disable()
    try:
        chat = Chat()
        next(chat.stream)
        del chat
        jsontrace.configure(max_chars=50_000)  # the next event rebuilds the chain
        done = threading.Event()
        thread = threading.Thread(target=lambda: (other(), done.set()), daemon=True)
        thread.start()
        assert done.wait(10), "deadlocked"
    finally:
        gc.enable()
    ends = {e["run_id"]: e["status"] for e in events() if e["event"] == "run.end"}
    assert ["cancelled", "ok"] == sorted(ends.values())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_waits_for_a_build_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork never happens halfway through building the chain (which imports structlog)."""
    import threading
    import time

    real = _pipeline.chains_for
    state = {"built": False}

    def slow(config: Any) -> Any:
        time.sleep(0.5)
        chain = real(config)
        state["built"] = True
        return chain

    monkeypatch.setattr(_pipeline, "chains_for", slow)
    jsontrace.configure(max_chars=40_000)
    # Decorating builds the chain: in the thread, as a module imported there would.
    builder = threading.Thread(target=lambda: jsontrace.traceable(lambda: 1)())
    builder.start()
    time.sleep(0.1)  # the builder is inside the build now
    pid = os.fork()
    if pid == 0:  # the child: it must see a finished build
        os._exit(0 if state["built"] else 1)
    _, status = os.waitpid(pid, 0)
    builder.join()
    assert 0 == os.waitstatus_to_exitcode(status)


def test_the_chain_is_built_when_a_function_is_decorated(
    monkeypatch: pytest.MonkeyPatch, events: Events
) -> None:
    """Decorating builds the pipeline, so the first traced call neither waits for it nor records
    the library's start-up as its own duration."""
    _pipeline.rebuild()
    assert _pipeline._chains is None

    @jsontrace.traceable
    def first(x: int) -> int:
        return x

    assert _pipeline._chains is not None
    builds: list[int] = []
    real = _pipeline._build
    monkeypatch.setattr(_pipeline, "_build", lambda: (builds.append(1), real())[1])
    first(1)
    assert [] == builds
    assert ["run.start", "run.end"] == [e["event"] for e in events()]


def test_a_lost_event_is_reported_again_after_events_were_written_in_between() -> None:
    """The warning about an event that could not be written is once per outage: after an event is
    written again, the next loss is reported too, not silent forever."""
    failing = {"on": True}

    def flaky(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if failing["on"]:
            raise ValueError("flaky processor")
        return event_dict

    jsontrace.configure(processors=[flaky])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for on in (True, True, False, True):
            failing["on"] = on
            assert "hello x" == greet("x")
    reports = [str(w.message) for w in caught if issubclass(w.category, jsontrace.JsonTraceWarning)]
    assert 2 == len(reports), reports
    assert all("ValueError: flaky processor" in report for report in reports)
