"""The fast path (no user processors) writes byte for byte what the general path, the processor chain, writes."""

from __future__ import annotations

import copy
import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jsontrace
from jsontrace import _pipeline
from jsontrace import format as fmt
from jsontrace._config import CONFIG
from jsontrace._fast import chunk_event, chunk_prefix, fast_chunk

# Secrets of every shape the redactor knows, and near misses it must leave alone.
_SECRETS = [
    "sk-" + "a1B2" * 6,
    "Bearer abc.def-123_xyz",
    "basic dXNlcjpwYXNzd29yZA==",
    "ghp_" + "x" * 36,
    "github_pat_" + "Y" * 24,
    "xoxb-1234567890-abc",
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "https://user:hunter2@example.com/path",
    "task-specific-prompt",
    "the bearer of news",
    "basic ideas",
    "__init__",
    "A",
    "@",
]
_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(_SECRETS),
    st.tuples(st.text(max_size=8), st.sampled_from(_SECRETS), st.text(max_size=8)).map("".join),
    st.just("\ud800 lone surrogate"),
    st.integers(1, 400).map(lambda n: "word " * n),  # past small max_chars
)
_keys = st.one_of(
    st.text(max_size=8), st.sampled_from(["api_key", "Authorization", "q", "eos_token"])
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),  # past 64 bits: orjson refuses them
    st.floats(),  # nan and infinities included
    _text,
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(_keys, inner, max_size=5),
        st.dictionaries(st.integers(0, 9), inner, max_size=3),  # keys orjson must stringify
        st.tuples(inner, inner),
        st.lists(st.tuples(_keys, inner), max_size=3),  # header pairs, as tuples
    ),
    max_leaves=12,
)


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


_odd = st.sampled_from(
    [
        _nested(253),  # orjson renders it alone, but not inside the event
        b"bytes value",
        {1, 2},
        np.arange(4),
        np.float64(1.5),
        [[[[[]]]]],
        [],
        {},
    ]
)
_chunk = st.one_of(_value, _odd)
# Times within a few microseconds of second boundaries, and anywhere.
_second = st.integers(0, 4_000_000_000)
_offset = st.one_of(
    st.integers(0, 999_999_999),
    st.integers(0, 2_000),
    st.integers(999_998_000, 999_999_999),
)
_ns = st.tuples(_second, _offset).map(lambda t: t[0] * 1_000_000_000 + t[1])
_ids = st.one_of(
    st.uuids().map(str),
    # Ids needing JSON escapes (one orjson refuses, a lone surrogate, fails either way).
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
_config = st.fixed_dictionaries(
    {
        "redact": st.booleans(),
        # Small limits to cut at, and the defaults (twice as often: most values pass whole).
        "max_chars": st.sampled_from([16, 100, 100_000, 100_000]),
        "max_items": st.sampled_from([2, 10, 10_000, 10_000]),
        "redact_patterns": st.sampled_from([[], [r"secret\d+"]]),
        "redact_keys": st.sampled_from([[], ["session"]]),
    }
)


class Lines:
    """A sink keeping the raw bytes written, in order."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write(self, line: bytes) -> None:
        self.lines.append(line)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _config,
    _ids,
    _ids,
    st.lists(st.tuples(_ns, st.integers(0, 2**40), _chunk), min_size=1, max_size=8),
)
def test_fast_chunks_are_the_bytes_the_chain_writes(
    config: dict[str, Any], run_id: str, trace_id: str, chunks: list[tuple[int, int, Any]]
) -> None:
    """For any configuration, ids, times, sequence numbers and chunk values (secrets, long
    values to cut, values orjson refuses), the fast recorder writes exactly the chain's lines."""
    jsontrace.configure(**config)
    general_lines, fast_lines = Lines(), Lines()
    chain = _pipeline.chains_for(CONFIG)[fmt.CHUNK]
    general = _pipeline._direct(chain, "chunk", general_lines)
    *_, fast = _pipeline._build_chains(fast_lines)
    prefix = chunk_prefix(run_id, trace_id)
    for ns, seq, value in chunks:
        fast(prefix, run_id, trace_id, ns, seq, value)
        general(chunk_event(run_id, trace_id, ns, seq, value))
    assert general_lines.lines == fast_lines.lines


class Counting:
    """The general path, counting the events given to it."""

    def __init__(self, sink: Lines) -> None:
        self.events = 0
        self.chain = _pipeline._direct(_pipeline.chains_for(CONFIG)[fmt.CHUNK], "chunk", sink)

    def __call__(self, event: dict[str, Any]) -> None:
        self.events += 1
        self.chain(event)


def _fast_with_counter() -> tuple[Any, Counting, Lines]:
    chain = _pipeline.chains_for(CONFIG)[fmt.CHUNK]
    lines = Lines()
    counting = Counting(lines)
    redactor = chain[-2] if CONFIG.redact else None
    return fast_chunk(redactor, chain[-1], counting, lines.write), counting, lines


RUN = "01a20c5b-2a3a-74f3-b984-ce135be17a49"


@pytest.mark.parametrize(
    "value", ["token", " about", 42, 1.5, None, True, {"delta": "hi"}, ["a", "b"], np.arange(3)]
)
def test_ordinary_chunks_skip_the_chain(value: Any) -> None:
    """Tokens (with a "b", which gates the Bearer shape), numbers and plain containers are written
    without building an event dict for the chain."""
    fast, counting, lines = _fast_with_counter()
    fast(chunk_prefix(RUN, RUN), RUN, RUN, 1_764_000_000_123_456_789, 3, value)
    assert (0, 1) == (counting.events, len(lines.lines))
    assert lines.lines[0].startswith(fmt.CHUNK_LINE_PREFIX + RUN.encode() + b'",')


@pytest.mark.parametrize(
    "value",
    ["sk-" + "a1B2" * 6, {"api_key": "k"}, "x" * 200_000, 2**70, "\ud800", [[1] * 20_000]],
)
def test_chunks_to_redact_cut_or_repair_go_through_the_chain(value: Any) -> None:
    """A secret, a value to cut, a value orjson refuses: the chain writes them (once)."""
    fast, counting, lines = _fast_with_counter()
    fast(chunk_prefix(RUN, RUN), RUN, RUN, 1_764_000_000_123_456_789, 3, value)
    assert (1, 1) == (counting.events, len(lines.lines))


def test_an_id_orjson_refuses_takes_the_chain() -> None:
    """A run whose id cannot be rendered (a lone surrogate) gets no prefix, and without one
    its chunks are given to the chain (which reports the failure as for any event)."""
    assert b"" == chunk_prefix("\ud800", RUN)
    fast, counting, lines = _fast_with_counter()
    fast(b"", RUN, RUN, 1_764_000_000_123_456_789, 0, "token")
    assert (1, 1) == (counting.events, len(lines.lines))


# -- whole files -------------------------------------------------------------------------


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run ids and clocks that repeat exactly when a scenario is run again: call it to restart them."""
    from jsontrace import _run

    state: dict[str, Any] = {}

    def restart() -> None:
        state["ids"] = (f"0190aaaa-bbbb-7ccc-8ddd-{n:012x}" for n in itertools.count())
        state["ns"] = itertools.count(1_764_000_000_999_990_000, 3_333)  # across seconds

    restart()
    monkeypatch.setattr(_run, "uuid7", lambda: next(state["ids"]))
    monkeypatch.setattr(_run, "time_ns", lambda: next(state["ns"]))
    monkeypatch.setattr(_run, "perf_counter_ns", lambda: next(state["ns"]))
    return restart


def _pass_through(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return event_dict


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_chunk, max_size=6), st.booleans())
def test_a_traced_stream_writes_the_same_file_with_and_without_user_processors(
    fixed_clock: Callable[[], None], chunks: list[Any], redact: bool
) -> None:
    """A traced generator and call write identical files on the fast path and through structlog
    with a processor that changes nothing."""
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for processors in ([], [_pass_through]):
            fixed_clock()
            directory = Path(tmp) / str(len(processors))
            jsontrace.configure(dir=directory, processors=processors, redact=redact)

            @jsontrace.traceable
            def stream(values: list[Any]) -> Iterator[Any]:
                yield from values

            @jsontrace.traceable
            def call(value: Any) -> Any:
                return value

            list(stream(chunks))
            for value in chunks[:2]:
                call(value)
            written.append(b"".join(p.read_bytes() for p in sorted(directory.glob("*.jsonl"))))
    jsontrace.configure(processors=[])
    assert written[0] == written[1]
    assert written[0].count(fmt.CHUNK_LINE_PREFIX) == len(chunks)


_metadata = st.dictionaries(_keys, _value, max_size=4)
_start = st.fixed_dictionaries(
    {
        "event": st.just("run.start"),
        "run_id": _ids,
        "trace_id": _ids,
        "v": st.just(1),
        "ts": _ns,
        "parent_run_id": st.none() | _ids,
        "name": _text,
        "run_type": st.sampled_from(["chain", "llm", "tool"]),
        "inputs": _chunk,  # what process_inputs returned: anything
        "tags": st.lists(_text, max_size=3),
        "metadata": _metadata,
        "pid": st.integers(1, 2**22),
        "host": st.text(max_size=10),
    }
)
_end = st.fixed_dictionaries(
    {
        "event": st.just("run.end"),
        "run_id": _ids,
        "trace_id": _ids,
        "v": st.just(1),
        "ts": _ns,
        "status": st.sampled_from(["ok", "error", "cancelled"]),
        "outputs": _chunk,
        "error": st.none() | st.fixed_dictionaries({"type": _text, "message": _text}),
        "chunk_count": st.integers(0, 10**6),
        "duration_ms": st.floats(0, 1e6),
    },
    # The optional fields of an end: other shapes go through the chain as they are.
    optional={
        "first_chunk_ms": st.none() | st.floats(0, 1e6),
        "model": _text,
        "usage": _metadata,
        "tags": st.lists(_text, max_size=3),
        "metadata": _metadata,
        "trace_warnings": st.lists(_text, max_size=2),
    },
)


_START_KEYS = {"event", "run_id", "trace_id", "v", "ts", "parent_run_id", "name", "run_type"}
_START_KEYS |= {"inputs", "tags", "metadata", "pid", "host"}
_END_KEYS = {"event", "run_id", "trace_id", "v", "ts", "status", "outputs", "error"}
_END_KEYS |= {"chunk_count", "duration_ms"}
_AS_BUILT = [_START_KEYS, _END_KEYS, _END_KEYS | {"first_chunk_ms"}]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_config, st.one_of(_start, _end), st.dictionaries(_keys, _value, max_size=2))
def test_fast_starts_and_ends_are_the_bytes_the_chain_writes(
    config: dict[str, Any], event: dict[str, Any], bound: dict[str, Any]
) -> None:
    """Start and end events of any content (secrets in inputs, outputs, metadata, tags or in what
    the app bound with structlog's contextvars; values to cut or repair; optional end fields)
    are written by the fast path exactly as by the chain: both its emitters, the one for any
    event and the one for the shapes Run builds (record_start, record_end)."""
    import structlog.contextvars

    jsontrace.configure(**config)
    kind = event["event"]
    general_lines, fast_lines = Lines(), Lines()
    general = _pipeline._direct(_pipeline.chains_for(CONFIG)[kind], kind, general_lines)
    any_shape, as_built, _ = _pipeline._build_chains(fast_lines)
    emitters = [any_shape[kind]]
    if set(event) in _AS_BUILT:  # the shapes Run gives record_start and record_end
        emitters.append(as_built[kind])
    structlog.contextvars.bind_contextvars(**{str(k): v for k, v in bound.items()})
    try:
        for emit in emitters:
            emit(copy.deepcopy(event))
            general(copy.deepcopy(event))
    finally:
        structlog.contextvars.clear_contextvars()
    assert general_lines.lines == fast_lines.lines


@settings(max_examples=100, deadline=None)
@given(st.lists(_ns, min_size=1, max_size=20))
def test_fast_starts_stamp_the_time_as_stamp_time_does(times: list[int]) -> None:
    """One start emitter given events at any times, in any order (seconds back and forth,
    nanoseconds next to boundaries), writes each event's ts as stamp_time makes it."""
    from jsontrace.processors import stamp_time

    jsontrace.configure(redact=False)
    lines = Lines()
    _, as_built, _ = _pipeline._build_chains(lines)
    for ns in times:
        as_built[fmt.START](
            {"event": "run.start", "run_id": RUN, "trace_id": RUN, "v": 1, "ts": ns,
             "parent_run_id": None, "name": "f", "run_type": "chain", "inputs": {}, "tags": [],
             "metadata": {}, "pid": 1, "host": "h"}
        )  # fmt: skip
    expected = [stamp_time(None, "start", {"ts": ns})["ts"] for ns in times]
    assert expected == [orjson.loads(line)["ts"] for line in lines.lines]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_chunk, min_size=1, max_size=4), st.booleans())
def test_the_quick_end_of_a_call_writes_what_the_general_end_writes(
    fixed_clock: Callable[[], None], values: list[Any], redact: bool
) -> None:
    """Run.end's shortcut for a function's run that nothing changed writes the file the
    general end (Run._end, building the event with every option considered) writes."""
    from jsontrace._run import Run

    written = []
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        for general in (False, True):
            if general:
                patch.setattr(Run, "end", lambda run, outputs=None: run._end("ok", outputs, None))
            fixed_clock()
            directory = Path(tmp) / str(general)
            jsontrace.configure(dir=directory, redact=redact)

            @jsontrace.traceable
            def call(value: Any) -> Any:
                return value

            for value in values:
                call(value)
            written.append(b"".join(p.read_bytes() for p in sorted(directory.glob("*.jsonl"))))
    assert written[0] == written[1]
    assert len(values) == written[0].count(b'"event":"run.end"')
