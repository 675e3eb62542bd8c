"""jsontrace.store: the run model built from events in any order."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsontrace import format as fmt
from jsontrace.reader import DirectoryReader
from jsontrace.render import format_duration, render_run_line, render_tree
from jsontrace.store import RunStore, load_directory

from .events import chunk, end, start


def store_of(*events: Any) -> RunStore:
    store = RunStore()
    store.add_events(events)
    return store


def test_a_run_has_its_fields_status_and_duration() -> None:
    """Start plus end give name, type, status and the recorded duration."""
    store = store_of(start("a"), end("a", duration_ms=12.5))
    run = store.runs["a"]

    assert ("a", "chain", "ok", 12.5) == (run.name, run.run_type, run.status, run.duration_ms())


def test_children_are_placed_under_parents_in_start_order() -> None:
    """Children hang under their parent, sorted by start time then id."""
    store = store_of(
        start("root"),
        start("c2", "root", ts="2026-11-24T06:49:33.000000Z"),
        start("c1", "root", ts="2026-11-24T06:49:32.000000Z"),
    )

    assert ["root"] == [r.run_id for r in store.traces()]
    assert ["c1", "c2"] == [c.run_id for c in store.runs["root"].sorted_children()]


def test_child_before_parent_is_placed_when_the_parent_arrives() -> None:
    """A child seen first hangs under a placeholder which the parent's start fills in."""
    store = store_of(start("child", "root"), end("child"))
    assert ["root"] == [r.run_id for r in store.traces()]
    assert not store.runs["root"].seen

    store.add_events([start("root")])

    root = store.runs["root"]
    assert ("root", ["child"]) == (root.name, [c.run_id for c in root.children])
    assert 0 == store.summary().orphans


def test_chunks_and_end_before_start_are_kept() -> None:
    """Events of a run that arrive before its start are not lost."""
    store = store_of(chunk("a", 0, "He"), end("a", chunk_count=2), chunk("a", 1, "llo"), start("a"))
    run = store.runs["a"]

    assert ("ok", (True, "Hello"), "a") == (run.status, run.streamed(), run.name)


def test_out_of_order_chunks_are_put_in_seq_order() -> None:
    """Chunk values are ordered by seq, whatever the arrival order."""
    store = store_of(start("a"), chunk("a", 2, "c"), chunk("a", 0, "a"), chunk("a", 1, "b"))

    assert ["a", "b", "c"] == store.runs["a"].chunks


def test_duplicated_lines_are_counted_and_ignored() -> None:
    """The same start, chunk seq or end twice counts once."""
    events = [start("a"), chunk("a", 0), chunk("a", 0), end("a", chunk_count=1)]
    store = store_of(*events, *events)

    assert (1, 5) == (store.runs["a"].chunk_count, store.duplicates)
    assert 3 == store.events


def test_a_second_different_start_for_a_run_id_is_a_conflict() -> None:
    """Duplicated run ids keep the first start and count the clash."""
    store = store_of(start("a", name="first"), start("a", name="second"))

    assert ("first", 1) == (store.runs["a"].name, store.conflicts)


def test_seq_gaps_are_reported_as_ranges() -> None:
    """Missing seqs (up to the end's chunk_count) show as inclusive ranges."""
    store = store_of(start("a"), chunk("a", 0), chunk("a", 3), end("a", chunk_count=6))

    assert {"a": [(1, 2), (4, 5)]} == store.seq_gaps()


def test_orphans_are_roots_under_a_placeholder_and_counted() -> None:
    """A run whose parent never appears is shown under a 'not seen' placeholder."""
    store = store_of(start("a", "missing"))
    summary = store.summary()

    assert (1, 1, 1) == (summary.orphans, summary.runs, summary.traces)
    assert "not seen" in render_run_line(store.traces()[0])


def test_a_run_that_is_its_own_parent_becomes_a_root() -> None:
    """A self-parent link is dropped and counted as a cycle."""
    store = store_of(start("a", "a"))

    assert (["a"], 1) == ([r.run_id for r in store.traces()], store.cycles)


def test_parent_cycles_are_broken() -> None:
    """A under B under A: the link closing the loop is dropped, both stay visible."""
    store = store_of(start("a", "b"), start("b", "a"))

    walked = [r.run_id for root in store.traces() for r in root.walk()]
    assert ["b", "a"] == walked
    assert store.runs["b"].cycle


def test_errors_mark_their_ancestors() -> None:
    """Every ancestor of a failed run knows an error is below it, even if placed later."""
    store = store_of(
        start("c", "b"),
        end("c", "error", error={"type": "ValueError", "message": "boom", "traceback": "tb"}),
        start("b", "a"),
        start("a"),
    )

    assert [True, True, False] == [store.runs[r].error_below for r in ("a", "b", "c")]
    assert ("ValueError: boom", "tb") == (store.runs["c"].error_summary, store.runs["c"].traceback)


def test_unfinished_run_of_a_dead_local_process_is_interrupted() -> None:
    """No end and the writer's pid is gone on this host: interrupted, not running."""
    import socket

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(proc.stdout)
    host = socket.gethostname()
    import os

    store = store_of(
        start("gone", pid=dead, host=host),
        start("alive", pid=os.getpid(), host=host),
        start("remote", pid=dead, host="another-host"),
    )

    assert ["interrupted", "running", "running"] == [
        store.runs[r].status for r in ("gone", "alive", "remote")
    ]


def test_end_tags_and_metadata_replace_the_start_ones() -> None:
    """Final tags/metadata on the end event win."""
    store = store_of(start("a", tags=["x"], metadata={"k": 1}), end("a", tags=["y"]))
    run = store.runs["a"]

    assert (["y"], {"k": 1}) == (run.tags, run.metadata)


def test_unknown_kinds_versions_and_invalid_events_are_counted() -> None:
    """Events the model cannot use never raise; they are counted by kind of problem."""
    store = store_of(
        {"event": "run.feedback", "run_id": "a", "v": 1},
        {**start("a"), "v": 2},
        [1, 2],
        {"event": "run.chunk", "run_id": "a", "v": 1, "seq": "0", "chunk": 1},
        {"event": "run.start", "run_id": ["a"], "v": 1},
    )

    assert (1, 1, 3) == (store.unknown, store.unsupported, store.invalid)
    assert 3 == len(store.invalid_samples)


def test_events_are_reread_from_files_or_rebuilt(tmp_path: Path) -> None:
    """Raw events come from the file lines; if the file is gone, a start and an end from the index."""
    path = tmp_path / "a.jsonl"
    events = [start("a"), chunk("a", 0), start("b"), end("a", chunk_count=1)]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    store, reader = load_directory(tmp_path)

    assert ([events[0], events[1], events[3]], True) == store.runs["a"].events(reader)

    path.unlink()
    reader.poll().close()
    list(reader.poll())
    rebuilt, exact = store.runs["a"].events(reader)
    assert False is exact
    assert [("run.start", "a"), ("run.end", "ok")] == [
        (e["event"], e.get("name", e.get("status"))) for e in rebuilt
    ]


def test_summary_counts_files_runs_and_bad_lines(tmp_path: Path) -> None:
    """The doctor's numbers: files, runs, finished, bad lines with samples."""
    lines = [orjson.dumps(e) for e in (start("a"), end("a"), start("b", pid=None))]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join([*lines, b"garbage", b"[]"]) + b"\n")
    store, reader = load_directory(tmp_path)

    summary = store.summary(reader)

    assert (1, 2, 1, 1, 2) == (
        summary.files, summary.runs, summary.finished, summary.unfinished, summary.bad_lines,
    )  # fmt: skip
    assert summary.bad_line_samples[0].startswith("a.jsonl:4: not JSON")
    assert "a.jsonl:5: a JSON array, not an event object: []" == summary.bad_line_samples[1]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
_ids = st.sampled_from(["a", "b", "c"])
_field_values = st.one_of(_json, _ids)
_keys = st.sampled_from(
    [fmt.EVENT, fmt.RUN_ID, fmt.TRACE_ID, fmt.VERSION, fmt.TS, fmt.PARENT_RUN_ID, fmt.NAME,
     fmt.STATUS, fmt.ERROR, fmt.CHUNK_SEQ, fmt.CHUNK_VALUE, fmt.TAGS, fmt.METADATA,
     fmt.DURATION_MS, fmt.CHUNK_COUNT, fmt.PID, fmt.HOST, fmt.FIRST_CHUNK_MS, fmt.TRACE_WARNINGS,
     fmt.REDACTED, fmt.INPUTS, fmt.OUTPUTS]
)  # fmt: skip
_garbage_event = st.one_of(
    _json,
    st.dictionaries(_keys, _field_values),
    st.builds(
        lambda kind, run_id, extra: {"event": kind, "run_id": run_id, "v": 1, **extra},
        st.sampled_from([fmt.START, fmt.CHUNK, fmt.END]),
        _ids,
        st.dictionaries(_keys.filter(lambda k: k not in ("event", "run_id", "v")), _field_values),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_garbage_event, max_size=30))
def test_garbage_never_raises_anywhere(events: list[Any]) -> None:
    """Any JSON in any field: ingest, every property, the summary and the text tree are total."""
    store = store_of(*events)

    for run in store.runs.values():
        for name in ("name", "run_type", "status", "tags", "metadata", "error_summary",
                     "traceback", "chunk_count", "first_chunk_ms", "redacted", "trace_warnings",
                     "inputs", "outputs", "is_orphan", "parent_run_id"):  # fmt: skip
            getattr(run, name)
        run.duration_ms()
        run.streamed()
        run.seq_gaps()
        run.events()
        run.text()
    list(render_tree(store))
    store.summary()
    walked = [r for root in store.traces() for r in root.walk()]
    assert sorted(r.run_id for r in walked) == sorted(store.runs)


def test_deeply_nested_and_huge_values_are_fine() -> None:
    """Nesting near orjson's limit and a megabyte string neither crash nor hang."""
    nested: Any = "leaf"
    for _ in range(200):
        nested = {"k": [nested]}
    store = store_of(start("a", inputs=nested), end("a", outputs="y" * 1_000_000))

    assert "ok" == store.runs["a"].status
    assert 1 == len(list(render_tree(store)))


def test_bulk_load_pauses_the_collector_and_freezes_what_was_loaded(tmp_path: Path) -> None:
    """Loading runs with the cyclic GC paused (restored after) and leaves the loaded objects frozen."""
    import gc

    from jsontrace.store import bulk_load, load_directory

    (tmp_path / "trace-a.jsonl").write_bytes(orjson.dumps(start("a")) + b"\n")
    frozen_before = gc.get_freeze_count()
    try:
        with bulk_load():
            assert not gc.isenabled()
        assert gc.isenabled()
        store, _ = load_directory(tmp_path)
        assert ["a"] == list(store.runs)
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()


# -- chunk lines filed undecoded (DirectoryReader(defer_chunks=True), as the viewer reads) --


def uid(n: int) -> str:
    """A run id as long as the writer's UUIDs, so that its chunk lines can be deferred."""
    return f"01a20c95-05eb-78ca-9937-{n:012d}"


def load_lines(tmp_path: Path, *events: Any, raw: bytes = b"") -> RunStore:
    (tmp_path / "trace-a.jsonl").write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in events) + raw
    )
    store, _ = load_directory(tmp_path)
    return store


def test_deferred_chunk_lines_are_decoded_when_the_chunks_are_read(tmp_path: Path) -> None:
    """Chunk lines wait undecoded, counted; their values come from the file in seq order; settle decodes them once."""
    a = uid(1)
    store = load_lines(tmp_path, start(a), chunk(a, 0, "He"), chunk(a, 2, "!"), chunk(a, 1, "llo"))
    run = store.runs[a]

    assert (3, 4) == (run.undecoded, store.events)  # filed by the id at its place in the line
    assert (True, "Hello!") == run.streamed()
    assert ["He", "llo", "!"] == run.chunks
    assert None is run.pending

    store.settle()
    assert (0, 4, 3) == (run.undecoded, store.events, run.chunk_count)


def test_a_finished_runs_chunk_count_needs_no_decoding(tmp_path: Path) -> None:
    """The end's chunk_count answers for deferred lines it covers; they stay undecoded."""
    a = uid(1)
    chunks = [chunk(a, seq, "t") for seq in range(5)]
    store = load_lines(tmp_path, start(a), *chunks, end(a, chunk_count=5))
    run = store.runs[a]

    assert 5 == run.chunk_count
    assert 5 == run.undecoded


def test_bad_and_repeated_deferred_lines_are_counted_once_decoded(tmp_path: Path) -> None:
    """A repeat or a broken line with the chunk layout is counted when decoded (summary decodes all)."""
    a = uid(1)
    broken = orjson.dumps(chunk(a, 2))[:-9] + b"\n"  # the layout, then cut short
    store = load_lines(tmp_path, start(a), chunk(a, 0), chunk(a, 1), chunk(a, 1), raw=broken)

    assert 5 == store.events  # counted as read until decoded
    summary = store.summary()

    assert (3, 1, 1) == (store.events, summary.duplicate_events, summary.bad_lines)
    assert summary.bad_line_samples[0].startswith(
        "trace-a.jsonl (byte 867): chunk line is not JSON"
    )
    assert ["x", "x"] == store.runs[a].chunks


def test_run_ids_not_written_literally_are_decoded_at_once(tmp_path: Path) -> None:
    """Short ids and ids with JSON escapes still land on the right run, line by line."""
    short, quoted = "abc", "q" * 34 + '"'  # the second is 36 bytes once escaped: \"
    long_ = uid(1) + "-more"  # shares its first 36 characters with uid(1)
    store = load_lines(
        tmp_path,
        *(chunk(r, seq, f"{r[:1]}{seq}") for r in (short, quoted, long_, uid(1)) for seq in (0, 1)),
    )

    assert ["a0", "a1"] == store.runs[short].chunks
    assert ["q0", "q1"] == store.runs[quoted].chunks
    assert ["00", "01"] == store.runs[long_].chunks
    assert ["00", "01"] == store.runs[uid(1)].chunks
    assert 8 == store.events


_layout_ids = st.sampled_from([uid(1), uid(2), "short", "q" * 34 + '"'])
_layout_event = st.one_of(
    st.builds(lambda r, p: start(r, p, name=r), _layout_ids, st.none() | _layout_ids),
    st.builds(
        chunk,
        _layout_ids,
        st.integers(min_value=-1, max_value=4) | st.just("0"),
        st.one_of(st.text(max_size=3), st.integers(-9, 9), st.none()),
    ),
    st.builds(
        lambda r, s, n: end(r, s, chunk_count=n),
        _layout_ids,
        st.sampled_from(["ok", "error", "cancelled"]),
        st.integers(min_value=0, max_value=6),
    ),
    st.builds(lambda r: {**chunk(r, 0), "v": 2}, _layout_ids),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_layout_event, max_size=25), st.lists(st.integers(0, 24), max_size=3))
def test_deferring_chunk_lines_builds_the_same_model(events: list[Any], cuts: list[int]) -> None:
    """Loaded with chunk lines deferred or decoded at once, the model and its counts are the same."""
    lines = [orjson.dumps(e) for e in events]
    for cut in cuts:  # a few lines broken after the chunk prefix
        if cut < len(lines):
            lines[cut] = lines[cut][: len(lines[cut]) - 3]
    data = b"".join(line + b"\n" for line in lines)
    models = []
    for defer in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "trace-a.jsonl").write_bytes(data)
            reader = DirectoryReader(tmp, defer_chunks=defer)
            store = RunStore()
            for batch in reader.poll():
                store.add_batch(batch)
            summary = store.summary(reader)
        runs = {
            run_id: (run.chunks, run.pending, run.last_ts, run.chunk_count, run.status,
                     run.seq_gaps(), [c.run_id for c in run.sorted_children()])
            for run_id, run in store.runs.items()
        }  # fmt: skip
        counts = dataclasses.replace(summary, bad_line_samples=(), problems=(), files=0)
        models.append((runs, counts, sorted(store.roots)))

    assert models[0] == models[1]


def test_durations_that_are_not_finite_numbers_are_unknown() -> None:
    """inf, NaN and ints too big for a float (possible through add_events) show no duration."""
    values = [float("inf"), float("nan"), 10**400, -float("inf")]
    store = store_of(*(end(f"r{i}", duration_ms=v) for i, v in enumerate(values)))

    assert [None] * 4 == [store.runs[f"r{i}"].duration_ms() for i in range(4)]
    assert 4 == len(list(render_tree(store)))
    assert "" == format_duration(float("inf"))


def test_a_file_replaced_by_a_copy_adds_no_deferred_lines(tmp_path: Path) -> None:
    """Read again from 0 (rsync-style replace), repeats are counted at once, not held as bytes.

    The first copy's chunk lines stand in for the original's, which were never
    decoded and went with the replaced file: the repeats counted are the start
    of every copy and the chunks of the later ones (1 + 6 + 6).
    """
    a = uid(1)
    path = tmp_path / "trace-a.jsonl"
    data = b"".join(orjson.dumps(e) + b"\n" for e in [start(a), *(chunk(a, s) for s in range(5))])
    path.write_bytes(data)
    reader = DirectoryReader(tmp_path, defer_chunks=True)
    store = RunStore()
    for batch in reader.poll():
        store.add_batch(batch)
    held = store.runs[a].undecoded

    for _ in range(3):
        copy = tmp_path / "copy.tmp"
        copy.write_bytes(data)
        copy.replace(path)  # a new inode under the same name
        for batch in reader.poll():
            store.add_batch(batch)

    assert store.runs[a].undecoded <= held
    assert (6, 13) == (store.events, store.duplicates)


def test_a_deferred_line_that_decodes_to_another_run_is_invalid_and_moves_nothing(
    tmp_path: Path,
) -> None:
    """Repeated keys can make a chunk line decode to another run or kind: counted, never filed."""
    a, b = uid(1), uid(2)
    line = orjson.dumps(chunk(a, 1, "evil"))[:-1]
    forged = [line + b',"run_id":"' + b.encode() + b'"}', line + b',"event":"run.start"}']
    store = load_lines(
        tmp_path, chunk(a, 0, "ok"), start(b), chunk(b, 0, "b0"), raw=b"\n".join(forged) + b"\n"
    )

    store.settle()

    assert (["ok"], ["b0"]) == (store.runs[a].chunks, store.runs[b].chunks)
    assert (2, 3) == (store.invalid, store.events)
    assert [a, b] == sorted(store.roots)


def test_settle_works_through_runs_a_slice_at_a_time(tmp_path: Path) -> None:
    """settle(runs=N) decodes N waiting runs per call and says whether any still wait."""
    events = [
        e for n in range(1, 6) for e in (chunk(uid(n), 0), chunk(uid(n), 1), chunk(uid(n), 1))
    ]
    store = load_lines(tmp_path, *events)
    assert (5, 15) == (store.unsettled, store.events)

    assert store.settle(runs=2)
    assert (3, 13, 2) == (store.unsettled, store.events, store.duplicates)
    assert not store.settle(runs=10)
    assert (0, 10, 5) == (store.unsettled, store.events, store.duplicates)
    assert all(0 == run.undecoded for run in store.runs.values())


# -- malformed events are bad lines, never runs (issue 10, item 11) -------------------------


def test_a_malformed_start_is_a_bad_line_with_its_problem_named_not_a_running_trace(
    tmp_path: Path,
) -> None:
    """``ts`` "nonsense" or ``name`` 123: counted as bad lines (file:line: what is wrong), no run at all."""
    (tmp_path / "trace-a.jsonl").write_bytes(
        orjson.dumps(start("a", ts="nonsense")) + b"\n" + orjson.dumps(start("b", name=123)) + b"\n"
    )
    store, reader = load_directory(tmp_path)
    summary = store.summary(reader)

    assert ({}, [], 2) == (store.runs, store.traces(), summary.bad_lines)
    assert [
        "trace-a.jsonl:1: ts is not an ISO 8601 time with an offset: {",
        "trace-a.jsonl:2: run.start without a name string: {",
    ] == [sample[: sample.index("{") + 1] for sample in summary.bad_line_samples]


def test_every_kind_of_event_is_checked_the_same_way() -> None:
    """The store's checks: each malformed event is one bad line with a reason, valid ones are filed."""
    bad = [
        start("a", parent_run_id=5),
        start("a", run_type=["llm"]),
        start("a", pid="12"),
        {k: v for k, v in start("a").items() if k != "parent_run_id"},
        start("a", ts="2026-11-24T06:49:31"),  # no offset: a local time
        chunk("a", -1),
        {k: v for k, v in chunk("a", 0).items() if k != "chunk"},
        end("a", status=None),
        end("a", chunk_count="3"),
        end("a", duration_ms="5"),
        {**end("a"), "trace_id": None},
        {"event": ["run.start"], "run_id": "E", "v": 1},
        {**start("a"), "v": True},
    ]
    store = store_of(*bad, start("a"), end("a"))

    assert (len(bad), 2) == (store.bad_lines, store.events)
    assert ("ok", "a") == (store.runs["a"].status, store.runs["a"].name)


# -- values come from the files when asked for ----------------------------------------------


def test_values_are_read_from_the_files_when_asked_for_not_kept(tmp_path: Path) -> None:
    """After loading, no event dict is held; inputs, outputs, start and end are read back from the file."""
    a = uid(1)
    events = [
        start(a, inputs={"q": "what?"}),
        chunk(a, 0, "Hel"),
        chunk(a, 1, "lo"),
        end(a, outputs="Hello", chunk_count=2),
    ]
    store = load_lines(tmp_path, *events)
    run = store.runs[a]

    assert 0 == len(store._cache)  # the index only
    assert ({"q": "what?"}, "Hello", ["Hel", "lo"]) == (run.inputs, run.outputs, run.chunks)
    assert (events[0], events[3]) == (run.start, run.end)
    assert 1 == len(store._cache)


def test_usage_model_and_totals_come_from_the_index_not_the_files(tmp_path: Path) -> None:
    """A trace line's tokens, model, cost and totals are read without loading any run's values."""
    a, b = uid(1), uid(2)
    usage = {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}
    store = load_lines(
        tmp_path,
        start(a),
        start(b, a, run_type="llm", metadata={"ls_model_name": "gpt-4o-mini"}),
        end(b, usage=usage),
        end(a),
    )
    root = store.runs[a]

    totals = root.totals()
    assert (1, 10, 4) == (totals.calls, totals.input_tokens, totals.output_tokens)
    assert ("gpt-4o-mini", usage) == (store.runs[b].model, store.runs[b].usage)
    assert 0 == len(store._cache)  # nothing was read back from the file


def test_a_growing_run_is_topped_up_with_its_new_lines_only(tmp_path: Path) -> None:
    """A running stream shown again after more chunks: only the bytes it gained are read."""
    a = uid(1)
    path = tmp_path / "trace-a.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in [start(a), chunk(a, 0, "a")]))
    reader = DirectoryReader(tmp_path)
    store = RunStore()
    for batch in reader.poll():
        store.add_batch(batch)
    assert ["a"] == store.runs[a].chunks
    spans: list[tuple[int, int]] = []
    read_span = reader.read_span

    def spy(file_id: int, begin: int, stop: int) -> bytes | None:
        spans.append((begin, stop))
        return read_span(file_id, begin, stop)

    reader.read_span = spy  # type: ignore[method-assign]
    size = path.stat().st_size
    with path.open("ab") as f:
        f.write(orjson.dumps(chunk(a, 1, "b")) + b"\n")
    for batch in reader.poll():
        store.add_batch(batch)

    assert ["a", "b"] == store.runs[a].chunks
    assert [(size, path.stat().st_size)] == spans


def test_in_memory_events_keep_their_values() -> None:
    """Events with no file (capture_traces, tests) keep start, end and chunk values in the run."""
    store = store_of(start("a", inputs={"x": 1}), chunk("a", 0, "t"), end("a", outputs="t"))
    run = store.runs["a"]

    assert ({"x": 1}, "t", ["t"], start("a", inputs={"x": 1})) == (
        run.inputs, run.outputs, run.chunks, run.start,
    )  # fmt: skip


# -- durations of unfinished runs (issue 10, item 10) ---------------------------------------


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_an_interrupted_parent_lasts_until_the_last_event_seen_below_it(tmp_path: Path) -> None:
    """After a SIGKILL a parent with no chunks of its own lasts as long as what ran below it."""
    from jsontrace._host import HOST

    from .events import ts_at

    dead = _dead_pid()
    parent, child = uid(1), uid(2)
    events = [
        start(parent, ts=ts_at(0), pid=dead, host=HOST),
        start(child, parent, ts=ts_at(0.01), pid=dead, host=HOST),
        *(chunk(child, seq, "t", parent, ts=ts_at(0.11 + seq * 0.1)) for seq in range(18)),
    ]  # the child's last chunk at 1.81 s
    store = load_lines(tmp_path, *events)
    root = store.runs[parent]

    assert ("interrupted", "interrupted") == (root.status, store.runs[child].status)
    assert 1810 == round(root.duration_ms())  # type: ignore[arg-type]
    assert 1800 == round(store.runs[child].duration_ms())  # type: ignore[arg-type]
    assert ["↯ interrupted  " + parent + "  chain  1.81 s"] == list(render_tree(store))[:1]


def test_a_running_parent_is_never_shorter_than_its_running_child() -> None:
    """With one clock reading for both, a running parent shows at least its running child's time."""
    import os

    from jsontrace._host import HOST

    from .events import ts_at

    store = store_of(
        start("p", ts=ts_at(0), pid=os.getpid(), host=HOST),
        start("c", "p", ts=ts_at(0.075), pid=os.getpid(), host=HOST),
    )
    now = datetime.fromisoformat(ts_at(0.2).replace("Z", "+00:00")).timestamp()

    parent, child = (store.runs[r].duration_ms(now) for r in ("p", "c"))
    assert (200, 125) == (round(parent), round(child))  # type: ignore[arg-type]


# -- memory: finished traces beyond a window ------------------------------------------------


def _traces(tmp_path: Path, count: int, name: str = "trace-a.jsonl", first: int = 0) -> Path:
    """*count* traces of a root and a child (every third failing), a second apart from *first*."""
    path = tmp_path / name
    events = []
    for n in range(first, first + count):
        root, child = uid(2 * n + 1), uid(2 * n + 2)
        failed = n % 3 == 0
        second = f"2026-11-24T07:{n // 60:02d}:{n % 60:02d}"
        events += [
            start(root, ts=f"{second}.000000Z"),
            start(child, root, ts=f"{second}.100000Z", inputs={"n": n}),
            chunk(child, 0, f"tok{n}", root, ts=f"{second}.200000Z"),
            end(child, "error" if failed else "ok", root, chunk_count=1, outputs=f"out{n}"),
            end(root, trace=root),
        ]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def test_finished_traces_beyond_the_window_leave_memory_and_are_found_again(tmp_path: Path) -> None:
    """evict() keeps the newest N traces in the index; older ones come back from the files, in order."""
    _traces(tmp_path, 40)
    reader = DirectoryReader(tmp_path, defer_chunks=True)
    store = RunStore(window=10)
    for batch in reader.poll():
        store.add_batch(batch)
    before = store.summary(reader)

    assert 30 == store.evict()
    assert (10, 20, 40, 80) == (
        len(store.roots),
        len(store.runs),
        store.trace_count,
        store.run_count,
    )
    order = [root.run_id for root in store.traces()]
    assert [uid(2 * n + 1) for n in reversed(range(40))] == order
    oldest = store.traces(newest_first=False, limit=1)[0]
    child = oldest.children[0]
    assert ({"n": 0}, "out0", ["tok0"], "error") == (
        child.inputs, child.outputs, child.chunks, child.status,
    )  # fmt: skip
    assert 14 == len(store.traces(errors_only=True))
    after = store.summary(reader)
    assert dataclasses.replace(before, seq_gaps={}) == dataclasses.replace(after, seq_gaps={})


def test_a_late_event_brings_its_trace_back_into_memory(tmp_path: Path) -> None:
    """A child started after its trace left memory hangs under its real parent, not a placeholder."""
    path = _traces(tmp_path, 30)
    reader = DirectoryReader(tmp_path)
    store = RunStore(window=5)
    for batch in reader.poll():
        store.add_batch(batch)
    assert store.evict() > 0
    old = uid(1)
    assert old not in store.runs

    with path.open("ab") as f:
        f.write(orjson.dumps(start(uid(999), old, ts="2026-11-24T07:01:00.000000Z")) + b"\n")
    for batch in reader.poll():
        store.add_batch(batch)

    late = store.runs[uid(999)]
    assert (old, [uid(2), uid(999)]) == (
        late.parent.run_id,
        [c.run_id for c in late.parent.sorted_children()],
    )  # type: ignore[union-attr]
    assert 0 == store.summary(reader).orphans


def _cold_store(tmp_path: Path, files: int, per_file: int) -> tuple[RunStore, DirectoryReader]:
    """*files* files of *per_file* traces each, read, and all but the newest 2 moved out."""
    for f in range(files):
        _traces(tmp_path, per_file, f"trace-{f}.jsonl", first=f * per_file)
    reader = DirectoryReader(tmp_path)
    store = RunStore(window=2)
    for batch in reader.poll():
        store.add_batch(batch)
    store.evict()
    return store, reader


def test_traces_whose_files_are_gone_leave_the_index(tmp_path: Path) -> None:
    """forget_gone_files drops the traces out of memory whose file was deleted: they could be
    counted but never listed again; the others are still listed and found by a late event."""
    store, reader = _cold_store(tmp_path, files=3, per_file=10)
    assert (30, 28) == (store.trace_count, store._cold.live)
    assert 0 == store.forget_gone_files()  # every file still there

    (tmp_path / "trace-0.jsonl").unlink()
    list(reader.poll())
    dropped = store.forget_gone_files()

    assert 10 == dropped
    listed = [root.run_id for root in store.traces()]
    assert (20, 20) == (store.trace_count, len(listed))
    assert [uid(2 * n + 1) for n in reversed(range(10, 30))] == listed
    survivor = uid(21)  # the oldest trace of the second file: out of memory
    assert survivor not in store.runs
    with (tmp_path / "trace-1.jsonl").open("ab") as f:
        f.write(orjson.dumps(start(uid(9999), survivor, ts="2026-11-24T07:01:00.000000Z")) + b"\n")
    for batch in reader.poll():
        store.add_batch(batch)
    assert survivor == store.runs[uid(9999)].parent.run_id  # type: ignore[union-attr]


def test_the_cold_table_is_compacted_once_most_of_it_is_dropped(tmp_path: Path) -> None:
    """Dropping most rows rebuilds the columns: fewer bytes, same order, ids and spans."""
    store, reader = _cold_store(tmp_path, files=4, per_file=400)
    cold = store._cold
    before = cold.nbytes()
    for f in range(3):
        (tmp_path / f"trace-{f}.jsonl").unlink()
    list(reader.poll())

    assert 1200 == store.forget_gone_files()

    assert (398, 398) == (cold.live, len(cold.order))  # compacted: no dropped rows left
    assert cold.nbytes() < before / 2
    listed = store.traces(newest_first=False)
    assert [uid(2 * n + 1) for n in range(1200, 1600)] == [root.run_id for root in listed]
    assert ({"n": 1200}, "out1200") == (listed[0].children[0].inputs, listed[0].children[0].outputs)
    assert [0] == cold.find(uid(2401))


def test_rows_do_not_move_under_an_iteration_in_progress(tmp_path: Path) -> None:
    """A walk over the traces (the lock released between steps) sees the right traces though
    files go meanwhile: compacting waits until no walk runs, then happens."""
    store, reader = _cold_store(tmp_path, files=4, per_file=400)
    walk = store.iter_traces(newest_first=False)
    first = [next(walk).run_id for _ in range(3)]
    for f in range(3):
        (tmp_path / f"trace-{f}.jsonl").unlink()
    list(reader.poll())

    assert 1200 == store.forget_gone_files()
    assert 1598 == len(store._cold.order)  # not compacted: a walk is in progress

    rest = [root.run_id for root in walk]
    assert [uid(2 * n + 1) for n in range(3)] == first
    assert [uid(2 * n + 1) for n in range(1200, 1600)] == rest
    _traces(tmp_path, 20, "trace-9.jsonl", first=2000)  # more traces, and more leave memory
    for batch in reader.poll():
        store.add_batch(batch)
    store.evict()
    assert (418, 418) == (store._cold.live, len(store._cold.order))  # compacted now
    assert [0] == store._cold.find(uid(2401))


def test_spans_that_do_not_pack_are_kept_as_they_are() -> None:
    """A span with a file id or offset too large to pack in one integer comes back unchanged."""
    from array import array

    from jsontrace.store import RunRecord, _ColdTraces

    cold = _ColdTraces()
    packed = array("q", [3, 100, 200, 4, 0, 50])
    huge = array("q", [1, 1 << 41, (1 << 41) + 10])
    many = array("q", [1 << 30, 5, 9])
    for spans in (packed, huge, many):
        cold.add(RunRecord(uid(len(cold.order) + 1)), spans)

    assert [packed, huge, many] == [cold.spans_of(i) for i in range(3)]


def test_a_late_event_revives_only_its_own_trace_when_hashes_collide(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Id hashes are 32 bits: a trace whose id hashes alike stays out of memory."""
    import jsontrace.store as store_module

    monkeypatch.setattr(store_module, "_hash32", lambda text: 7)
    path = _traces(tmp_path, 20)
    reader = DirectoryReader(tmp_path)
    store = RunStore(window=2)
    for batch in reader.poll():
        store.add_batch(batch)
    store.evict()
    with path.open("ab") as f:
        f.write(orjson.dumps(start(uid(999), uid(1), ts="2026-11-24T07:01:00.000000Z")) + b"\n")
    for batch in reader.poll():
        store.add_batch(batch)

    assert uid(1) == store.runs[uid(999)].parent.run_id  # type: ignore[union-attr]
    assert (3, 17) == (len(store.roots), store._cold.live)


def test_discard_forgets_whole_trees_and_later_events_start_afresh() -> None:
    """discard drops each root with everything below it; the rest stays; a later event for a
    dropped run files it anew."""
    store = store_of(start("a"), start("b", "a"), end("b"), end("a"), start("c"), end("c"))

    dropped = store.discard([store.runs["a"]])

    assert 2 == dropped
    assert ["c"] == [root.run_id for root in store.traces()]
    assert None is store.get("a") is store.get("b")
    store.add_events([end("b")])
    assert (False, True) == (store.runs["b"].start is not None, store.runs["b"].finished)


def test_discard_drops_deferred_chunk_lines_and_pending_notifications(tmp_path: Path) -> None:
    """Runs with undecoded chunk lines leave the index, the settle list and the dirty set."""
    from .events import lines

    run_id = "01a20c5b-2a3a-738c-9dff-db81c7fee9f7"
    (tmp_path / "t.jsonl").write_bytes(
        lines(start(run_id), chunk(run_id, 0, "x"), chunk(run_id, 1, "y"), end(run_id))
    )
    reader = DirectoryReader(tmp_path, defer_chunks=True)
    store = RunStore()
    for batch in reader.poll():
        store.add_batch(batch)
    assert 1 == store.unsettled

    store.discard(store.traces())

    assert (0, set(), []) == (store.unsettled, store.take_dirty(), store.take_new_roots())
    with (tmp_path / "t.jsonl").open("ab") as f:  # the same run id again, as raw chunk lines
        f.write(lines(chunk(run_id, 0, "again"), chunk(run_id, 1, "!")))
    for batch in reader.poll():
        store.add_batch(batch)
    assert ["again", "!"] == store.runs[run_id].chunks  # not filed under the forgotten record


def test_discard_of_a_subtree_cuts_it_from_its_parent() -> None:
    """Given a run that is not a root, its subtree goes and its parent stays without it."""
    store = store_of(start("a"), start("b", "a"), start("c", "b"))

    assert 2 == store.discard([store.runs["b"]])
    assert ([], ["a"]) == (store.runs["a"].children, list(store.runs))


def test_deferred_chunks_of_a_finished_run_are_no_problem_before_they_are_decoded(
    tmp_path: Path,
) -> None:
    """An end read in the same block as its undecoded chunks counts no mismatch; a real one counts once settled."""
    good, short = uid(1), uid(2)
    store = load_lines(
        tmp_path,
        start(good),
        *(chunk(good, seq, "t") for seq in range(5)),
        end(good, chunk_count=5),
        start(short),
        *(chunk(short, seq, "t") for seq in range(3)),
        end(short, chunk_count=4),
    )

    assert (5, 3) == (store.runs[good].undecoded, store.runs[short].undecoded)
    assert (0, 0, 0) == (store.count_mismatches, store.gap_runs, store.corruption)
    store.settle()
    assert (1, 0, 1) == (store.count_mismatches, store.gap_runs, store.corruption)
