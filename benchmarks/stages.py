"""Where a traced chunk's time goes: each step of the hot path measured on its own.

    python benchmarks/stages.py

Complements overhead.py (which compares whole tracers): this splits jsontrace's
per-chunk cost into the generator wrapper, the fast path (the redaction check
of the value, the line's assembly, the segment writer), the general path's
structlog processors for comparison (what a chunk costs with user processors
configured, or when it must be redacted or cut), and the raw ``orjson.dumps``
+ ``os.write`` floor, so that an optimisation can be aimed where the time is.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import timeit
from collections.abc import Callable, Iterator
from typing import Any

import orjson

import jsontrace
from jsontrace import _fast, _pipeline, processors

CHUNKS = 500
STREAMS = 200
CALLS = 150_000  # 11 steps: about as long as the 8 of before
EVENT = {
    "event": "run.chunk",
    "run_id": "01a20c5b-2a3a-74f3-b984-ce135be17a49",
    "trace_id": "01a20c5b-2a3a-74f3-b984-ce135be17a49",
    "v": 1,
    "ts": 1_764_000_000_123_456_789,
    "seq": 3,
    "chunk": "token",
}


def stream(n: int) -> Iterator[str]:
    for _ in range(n):
        yield "token"


def per_chunk(make: Callable[[int], Iterator[str]]) -> float:
    best = min(timeit.repeat(lambda: [None for _ in make(CHUNKS)], number=STREAMS, repeat=5))
    return best / (STREAMS * CHUNKS) * 1e6


def per_call(fn: Callable[[], Any]) -> float:
    return min(timeit.repeat(fn, number=CALLS, repeat=5)) / CALLS * 1e6


def main() -> int:
    # The timing loops write hundreds of megabytes: never leave them behind.
    directory = tempfile.mkdtemp(prefix="jsontrace-stages-")
    try:
        return measure(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def measure(directory: str) -> int:
    jsontrace.configure(dir=directory)
    traced = jsontrace.traceable(stream)
    list(traced(2))  # build the pipeline, open the file

    base = per_chunk(stream)
    whole = per_chunk(traced) - base
    # Measure the wrapper alone by making the pipeline's record_chunk (which Run looks up
    # there on every chunk) a no-op for a moment.
    real_record = vars(_pipeline)["record_chunk"]
    vars(_pipeline)["record_chunk"] = lambda *args: None
    wrapper = per_chunk(traced) - base
    vars(_pipeline)["record_chunk"] = real_record

    run_id, ns, value = EVENT["run_id"], EVENT["ts"], EVENT["chunk"]
    prefix = _fast.chunk_prefix(run_id, run_id)
    record = per_call(lambda: _pipeline.record_chunk(prefix, run_id, run_id, ns, 3, value))
    redactor = processors.Redactor()
    check = per_call(lambda: redactor.clean_value(value))
    writer = _pipeline.current_writer()
    assert writer is not None
    # The fast path without the check and with a writer that keeps nothing: the assembly.
    assemble = _fast.fast_chunk(
        None, processors.Renderer(max_chars=100_000, max_items=10_000), print, len
    )
    build = per_call(lambda: assemble(prefix, run_id, run_id, ns, 3, value))
    line_bytes = processors.Renderer(max_chars=100_000, max_items=10_000)(
        None, "chunk", processors.stamp_time(None, "chunk", dict(EVENT))
    )
    write = per_call(lambda: writer.write(line_bytes))

    copy = per_call(lambda: dict(EVENT))
    general = _pipeline._direct(
        _pipeline.chains_for(jsontrace._config.CONFIG)[jsontrace.format.CHUNK], "chunk", writer
    )
    chain = per_call(lambda: general(dict(EVENT))) - copy
    stamped = processors.stamp_time(None, "emit", dict(EVENT))
    stamp = per_call(lambda: processors.stamp_time(None, "emit", dict(EVENT))) - copy
    redact = per_call(lambda: redactor(None, "emit", stamped))
    renderer = processors.Renderer(max_chars=100_000, max_items=10_000)
    render = per_call(lambda: renderer(None, "emit", stamped))
    fd = os.open(os.path.join(directory, "floor.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    floor = per_call(lambda: os.write(fd, orjson.dumps(stamped, option=orjson.OPT_APPEND_NEWLINE)))
    syscall = per_call(lambda: os.write(fd, line_bytes))
    os.close(fd)

    rows = [
        ("whole chunk, traced", whole),
        ("  generator wrapper + Run.chunk", wrapper),
        ("  record_chunk (fast path + write)", record),
        ("    redaction check of the value", check),
        ("    the line assembled", build),
        ("    SegmentWriter.write", write),
        ("      of which os.write", syscall),
        ("general path: chain + write", chain),
        ("    stamp_time", stamp),
        ("    Redactor", redact),
        ("    Renderer", render),
        ("floor: orjson.dumps + os.write", floor),
    ]
    print(f"# per-chunk stages, Python {sys.version.split()[0]}, µs (best of 5)")
    for label, value in rows:
        print(f"{label:<34} {value:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
