"""Per-call and per-chunk tracing overhead: jsontrace beside LangSmith, OpenTelemetry and the floor.

Everything is measured in this one process, in one run, so the ratios hold on
whatever machine runs it. Overhead = time with tracing - time of the same
untraced code. The "floor" is the least any durable JSON-lines tracer must
do: ``orjson.dumps`` of an event of the same shape plus one ``os.write``.

    python benchmarks/overhead.py            # full run (about a minute)
    python benchmarks/overhead.py --quick    # tiny sizes, for CI

Peers come from the ``bench`` extra (``pip install -e '.[bench]'``); a peer
that is not installed is shown as "n/a".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

TOKEN = "token"


@dataclass
class Sizes:
    calls: int
    chunks: int  # per generator
    generators: int
    repeats: int
    large_calls: int  # calls with a 1 MiB argument, per repeat


FULL = Sizes(calls=20_000, chunks=200, generators=100, repeats=7, large_calls=20)
QUICK = Sizes(calls=300, chunks=20, generators=10, repeats=2, large_calls=2)
# Redaction may cost at most this many times the same call without it.
LARGE_TARGET = 10.0


# -- the workloads -----------------------------------------------------------------------


def add(a: int, b: int) -> int:
    return a + b


def stream(n: int) -> Iterator[str]:
    for _ in range(n):
        yield TOKEN


async def astream(n: int) -> AsyncIterator[str]:
    for _ in range(n):
        yield TOKEN


_PROSE_WORDS = (
    "the model reads a long context and answers with the token budget in mind as the "
    "user asked about retrieval augmented generation basic ideas of tokens and embeddings "
    "see https://example.com/docs/guide?page=2 or http://wiki.example.org/Attention for more"
)


def summarize(document: str) -> int:
    return len(document)


def prose(size: int) -> str:
    """*size* characters of ordinary text as a RAG context holds it: words, URLs, "token"."""
    import random

    rng = random.Random(7)
    words = _PROSE_WORDS.split()
    text = " ".join(rng.choice(words) for _ in range(size // 4))
    return (text * (size // len(text) + 1))[:size]


def time_calls(fn: Callable[[int, int], int], sizes: Sizes) -> float:
    """Median seconds per call of fn(1, 2)."""
    samples = []
    for _ in range(sizes.repeats):
        gc.collect()
        start = time.perf_counter()
        for i in range(sizes.calls):
            fn(i, 2)
        samples.append((time.perf_counter() - start) / sizes.calls)
    return statistics.median(samples)


def time_chunks(make: Callable[[int], Iterator[str]], sizes: Sizes) -> float:
    """Median seconds per chunk consumed from make(n), generator creation included once per stream."""
    samples = []
    for _ in range(sizes.repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(sizes.generators):
            for _ in make(sizes.chunks):
                pass
        samples.append((time.perf_counter() - start) / (sizes.generators * sizes.chunks))
    return statistics.median(samples)


def time_async_chunks(make: Callable[[int], AsyncIterator[str]], sizes: Sizes) -> float:
    async def consume() -> float:
        samples = []
        for _ in range(sizes.repeats):
            gc.collect()
            start = time.perf_counter()
            for _ in range(sizes.generators):
                async for _ in make(sizes.chunks):
                    pass
            samples.append((time.perf_counter() - start) / (sizes.generators * sizes.chunks))
        return statistics.median(samples)

    return asyncio.run(consume())


# -- the contenders ----------------------------------------------------------------------


def jsontrace_workloads(directory: Path, *, enabled: bool = True) -> dict[str, Callable[..., Any]]:
    import jsontrace

    jsontrace.configure(dir=directory / "jsontrace", enabled=enabled)
    traced_stream = jsontrace.traceable(stream)
    return {
        "call": jsontrace.traceable(add),
        "chunk": traced_stream,
        "achunk": jsontrace.traceable(astream),
    }


class _Sink(BaseHTTPRequestHandler):
    """A loopback stand-in for the LangSmith API: accepts every request, keeps nothing."""

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = _reply

    def log_message(self, *args: Any) -> None:
        pass


def langsmith_workloads() -> tuple[dict[str, Callable[..., Any]], Callable[[], None]] | None:
    try:
        import langsmith
    except ImportError:
        return None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.update(
        LANGSMITH_TRACING="true",
        LANGSMITH_ENDPOINT=f"http://127.0.0.1:{server.server_port}",
        LANGSMITH_API_KEY="lsv2_pt_benchmark_only",
        LANGSMITH_PROJECT="bench",
    )
    client = langsmith.Client()

    def done() -> None:
        with contextlib.suppress(Exception):
            client.flush()
        server.shutdown()

    return (
        {
            "call": langsmith.traceable(client=client)(add),
            "chunk": langsmith.traceable(client=client)(stream),
            "achunk": langsmith.traceable(client=client)(astream),
        },
        done,
    )


def otel_workloads(
    directory: Path,
) -> tuple[dict[str, Callable[..., Any]], Callable[[], None]] | None:
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        return None
    out = open(directory / "otel.jsonl", "w")  # noqa: SIM115 - closed in done()
    provider = TracerProvider()
    # A queue big enough for every span of the run: with the default (2,048) the
    # processor drops spans ("Queue full"), which would make OpenTelemetry look
    # cheaper than a tracer that keeps everything.
    provider.add_span_processor(
        BatchSpanProcessor(ConsoleSpanExporter(out=out), max_queue_size=1 << 22)
    )
    tracer = provider.get_tracer("bench")

    def traced_add(a: int, b: int) -> int:
        with tracer.start_as_current_span("add", attributes={"a": a, "b": b}) as span:
            result = add(a, b)
            span.set_attribute("output", result)
            return result

    def traced_stream(n: int) -> Iterator[str]:
        with tracer.start_as_current_span("stream", attributes={"n": n}) as span:
            for seq, chunk in enumerate(stream(n)):
                span.add_event("chunk", {"seq": seq, "chunk": chunk})
                yield chunk

    async def traced_astream(n: int) -> AsyncIterator[str]:
        with tracer.start_as_current_span("astream", attributes={"n": n}) as span:
            seq = 0
            async for chunk in astream(n):
                span.add_event("chunk", {"seq": seq, "chunk": chunk})
                seq += 1
                yield chunk

    def done() -> None:
        provider.shutdown()
        out.close()

    return {"call": traced_add, "chunk": traced_stream, "achunk": traced_astream}, done


def floor_workloads(directory: Path) -> tuple[dict[str, Callable[..., Any]], Callable[[], None]]:
    """orjson.dumps + one os.write per event, events shaped like jsontrace's."""
    fd = os.open(directory / "floor.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    run_id = "01a20c5b-2a3a-74f3-b984-ce135be17a49"
    ts = "2026-11-24T07:00:30.906323Z"

    def write(event: dict[str, Any]) -> None:
        os.write(fd, orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))

    def floor_add(a: int, b: int) -> int:
        write(
            {
                "event": "run.start",
                "run_id": run_id,
                "trace_id": run_id,
                "v": 1,
                "ts": ts,
                "parent_run_id": None,
                "name": "add",
                "run_type": "chain",
                "inputs": {"a": a, "b": b},
                "tags": [],
                "metadata": {},
                "pid": 1,
                "host": "h",
            }
        )
        result = add(a, b)
        write(
            {
                "event": "run.end",
                "run_id": run_id,
                "trace_id": run_id,
                "v": 1,
                "ts": ts,
                "status": "ok",
                "outputs": result,
                "error": None,
                "chunk_count": 0,
                "duration_ms": 0.1,
            }
        )
        return result

    def chunk_event(seq: int, chunk: str) -> dict[str, Any]:
        return {"event": "run.chunk", "run_id": run_id, "trace_id": run_id, "v": 1, "ts": ts,
                "seq": seq, "chunk": chunk}  # fmt: skip

    def floor_stream(n: int) -> Iterator[str]:
        for seq, chunk in enumerate(stream(n)):
            write(chunk_event(seq, chunk))
            yield chunk

    async def floor_astream(n: int) -> AsyncIterator[str]:
        seq = 0
        async for chunk in astream(n):
            write(chunk_event(seq, chunk))
            seq += 1
            yield chunk

    return {"call": floor_add, "chunk": floor_stream, "achunk": floor_astream}, lambda: os.close(fd)


# -- measuring ---------------------------------------------------------------------------


def measure(workloads: dict[str, Callable[..., Any]], sizes: Sizes) -> dict[str, float]:
    # Warm up first: lazy imports and first-use set-up are not per-call costs.
    workloads["call"](1, 2)
    list(workloads["chunk"](2))

    async def drain() -> None:
        async for _ in workloads["achunk"](2):
            pass

    asyncio.run(drain())
    return {
        "call": time_calls(workloads["call"], sizes),
        "chunk": time_chunks(workloads["chunk"], sizes),
        "achunk": time_async_chunks(workloads["achunk"], sizes),
    }


def time_large_calls(directory: Path, sizes: Sizes) -> tuple[float, float]:
    """Median seconds per traced call of summarize(1 MiB of prose): redaction on, then off.

    Both are measured in turns within each repeat, so that load on the machine
    affects them alike.
    """
    import jsontrace

    document = prose(1 << 20)
    traced = jsontrace.traceable(summarize)
    samples: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(sizes.repeats):
        for redact in (True, False):
            jsontrace.configure(dir=directory / "large", enabled=True, redact=redact)
            traced(document)  # the first call after configure() builds the chain again
            gc.collect()
            start = time.perf_counter()
            for _ in range(sizes.large_calls):
                traced(document)
            samples[redact].append((time.perf_counter() - start) / sizes.large_calls)
    return statistics.median(samples[True]), statistics.median(samples[False])


def import_time(statement: str, repeats: int) -> float | None:
    """Best wall time of *statement* in a fresh interpreter, in seconds (None if it fails)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        samples.append(float(done.stdout))
    return min(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for CI): checks it runs")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL

    with tempfile.TemporaryDirectory(prefix="jsontrace-bench-") as tmp:
        directory = Path(tmp)
        results: dict[str, dict[str, float] | None] = {}
        results["baseline"] = measure({"call": add, "chunk": stream, "achunk": astream}, sizes)
        results["jsontrace"] = measure(jsontrace_workloads(directory), sizes)
        floor, close_floor = floor_workloads(directory)
        results["floor"] = measure(floor, sizes)
        close_floor()
        otel = otel_workloads(directory)
        results["OpenTelemetry"] = measure(otel[0], sizes) if otel else None
        if otel:
            otel[1]()
        with contextlib.redirect_stderr(io.StringIO()):  # LangSmith logs about its fake endpoint
            smith = langsmith_workloads()
            results["LangSmith"] = measure(smith[0], sizes) if smith else None
            if smith:
                smith[1]()

        off = measure(jsontrace_workloads(directory, enabled=False), sizes)
        large_on, large_off = time_large_calls(directory, sizes)

    base = results["baseline"]
    assert base is not None

    def overhead(name: str, kind: str) -> float | None:
        row = results[name]
        return None if row is None else max(row[kind] - base[kind], 0.0) * 1e6

    print(
        f"# jsontrace overhead, {'quick' if args.quick else 'full'} run, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print("overhead per operation over the untraced code, in µs (median of repeats)\n")
    columns = ["jsontrace", "LangSmith", "OpenTelemetry", "floor"]
    print(
        f"| {'operation':<28} | "
        + " | ".join(f"{c:>13}" for c in columns)
        + " | jsontrace/floor | jsontrace/OTel |"
    )
    print(
        "|"
        + "-" * 30
        + "|"
        + "|".join("-" * 15 for _ in columns)
        + "|-----------------|----------------|"
    )
    labels = {
        "call": "traced call (2 args)",
        "chunk": "sync generator, per chunk",
        "achunk": "async generator, per chunk",
    }
    for kind, label in labels.items():
        cells = [overhead(name, kind) for name in columns]
        ours, otel_cost, floor_cost = cells[0], cells[2], cells[3]
        vs_floor = f"{ours / floor_cost:.2f}" if ours is not None and floor_cost else "n/a"
        vs_otel = f"{ours / otel_cost:.2f}" if ours is not None and otel_cost else "n/a"
        print(
            f"| {label:<28} | "
            + " | ".join("n/a".rjust(13) if c is None else f"{c:13.2f}" for c in cells)
            + f" | {vs_floor:>15} | {vs_otel:>14} |"
        )
    for kind, label in (
        ("call", "tracing off, per call"),
        ("chunk", "tracing off, per chunk"),
        ("achunk", "tracing off, per async chunk"),
    ):
        cost = max(off[kind] - base[kind], 0.0) * 1e6
        print(
            f"| {label:<28} | {cost:13.2f} | "
            + " | ".join("".rjust(13) for _ in columns[1:])
            + " | "
            + "".rjust(15)
            + " | "
            + "".rjust(14)
            + " |"
        )

    ratio = large_on / large_off
    verdict = "met" if ratio <= LARGE_TARGET else "NOT MET"
    print(
        "\ntraced call with a 1 MiB argument of prose (URLs, the word token), "
        "per call, median of repeats:"
    )
    print("| redaction on | redaction off | on/off | target |")
    print("|--------------|---------------|--------|--------|")
    print(
        f"| {large_on * 1e6:9.0f} µs | {large_off * 1e6:10.0f} µs | {ratio:6.2f} |"
        f" ≤ {LARGE_TARGET:.0f}× ({verdict}) |"
    )

    repeats = 2 if args.quick else 7
    print(f"\nimport time, best of {repeats} fresh interpreters:")
    for form in ("import {}", "from {} import traceable"):
        ours = import_time(form.format("jsontrace"), repeats)
        theirs = import_time(form.format("langsmith"), repeats)
        ratio = f"{ours / theirs:.2f}" if ours and theirs else "n/a"
        print(
            f"  {form.format('X'):<28} jsontrace {_ms(ours):>8}   langsmith {_ms(theirs):>8}"
            f"   jsontrace/langsmith {ratio}"
        )
    return 0


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
