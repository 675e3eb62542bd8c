"""Export: spans per second from a trace directory to OTLP, beside the OpenTelemetry SDK's exporter.

The directory is the one ``viewer_load.py`` writes with the library (1,000,000
events, about 100,000 runs; streaming runs have 45 chunks, all kept as span
events under the default cap of 100). Each measurement runs in its own process
so its peak RSS is its own:

* ``jsontrace export DIR --otlp FILE``: OTLP/JSON lines to a file;
* ``jsontrace export DIR --otlp URL``: gzipped OTLP/HTTP protobuf to a fake
  endpoint on 127.0.0.1 (another process, that reads each body and answers 200);
* the OpenTelemetry SDK's own ``OTLPSpanExporter`` (http/protobuf, gzip) sending
  the same spans, made into SDK ``ReadableSpan`` objects beforehand (not timed),
  in batches of 512 like its ``BatchSpanProcessor``, to the same endpoint. Only its
  ``export()`` calls are timed; jsontrace's time includes reading and parsing
  the files and mapping the runs.

    python benchmarks/export.py                         # 1,000,000 events
    python benchmarks/export.py --dir /tmp/vl           # reuse viewer_load.py's directory
    python benchmarks/export.py --quick                 # tiny sizes, for CI

Goal, reported and never asserted: at least the SDK exporter's rate, with memory
bounded (the directory is streamed, never loaded whole).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(SCRIPT.parent))

import viewer_load  # noqa: E402 - the workload and its directory are shared with that benchmark

QUICK_EVENTS = 3_000
SDK_BATCH = 512


# -- the fake endpoint (its own process) ------------------------------------------------


def serve() -> None:
    """Answer every POST with 200 and an empty ExportTraceServiceResponse; print the port."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever(poll_interval=0.1)


# -- measurements (each in its own process) -------------------------------------------------


def measure_jsontrace(directory: Path, target: str) -> dict[str, Any]:
    from jsontrace.export import Exporter, HttpSink, JsonLinesSink

    sink = (
        HttpSink(target, "bench") if target.startswith("http") else JsonLinesSink(target, "bench")
    )
    start, cpu = time.perf_counter(), time.process_time()
    summary = Exporter(directory, sink).run()
    sink.close()
    return {
        "spans": summary.spans,
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "rss_kib": viewer_load.peak_rss_kib(),
    }


def _sdk_span(span: Any, resources: dict[Any, Any]) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    from jsontrace.export._otlp_json import resource_attributes

    resource = resources.get(span.resource)
    if resource is None:
        resource = resources[span.resource] = Resource(
            dict(resource_attributes(span.resource, "bench", None))
        )
    trace_id = int(span.trace_id, 16)
    context = SpanContext(trace_id, int(span.span_id, 16), False, TraceFlags(1))
    parent = (
        SpanContext(trace_id, int(span.parent_span_id, 16), False, TraceFlags(1))
        if span.parent_span_id
        else None
    )
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=dict(span.attributes),
        events=[Event(e.name, dict(e.attributes), e.time_ns) for e in span.events],
        kind=SpanKind.INTERNAL,
        status=Status(
            [StatusCode.UNSET, StatusCode.OK, StatusCode.ERROR][span.status_code],
            span.status_message or None,
        ),
        start_time=span.start_ns,
        end_time=span.end_ns,
        instrumentation_scope=InstrumentationScope("jsontrace"),
    )


def measure_sdk(directory: Path, url: str) -> dict[str, Any]:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    from jsontrace.export import Delivery, Exporter, Sink, Span

    spans: list[Span] = []

    class Collect(Sink):
        def send(self, batch: list[Span]) -> Delivery:
            spans.extend(batch)
            return Delivery(len(batch))

    Exporter(directory, Collect()).run()
    exporter = OTLPSpanExporter(endpoint=url, compression=Compression.Gzip)
    resources: dict[Any, Any] = {}
    seconds = cpu = 0.0
    for first in range(0, len(spans), SDK_BATCH):
        batch = [_sdk_span(span, resources) for span in spans[first : first + SDK_BATCH]]
        start, cpu_start = time.perf_counter(), time.process_time()
        result = exporter.export(batch)
        seconds += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        if result.name != "SUCCESS":
            raise SystemExit(f"the SDK exporter failed: {result}")
    exporter.shutdown()
    return {
        "spans": len(spans),
        "seconds": seconds,
        "cpu": cpu,
        "rss_kib": viewer_load.peak_rss_kib(),
    }


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def measure(kind: str, directory: Path, target: str, repeats: int) -> dict[str, Any]:
    runs = [_child("--measure", kind, str(directory), target) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["cpu"])
    best["rss_kib"] = max(r["rss_kib"] for r in runs)
    return best


# -- the table ------------------------------------------------------------------------------


def _rate(result: dict[str, Any], key: str) -> float:
    return float(result["spans"] / result[key]) if result[key] else float("inf")


def _row(label: str, result: dict[str, Any]) -> str:
    return (
        f"| {label} | {result['spans']:,} | {result['seconds']:.2f} s | {result['cpu']:.2f} s "
        f"| {_rate(result, 'cpu'):,.0f} | {_rate(result, 'seconds'):,.0f} "
        f"| {result['rss_kib'] / 1024:,.0f} MiB |"
    )


def print_table(gen: Any, size: int, results: dict[str, dict[str, Any]]) -> None:
    # The ratio is taken on CPU time: on a shared machine, wall time mostly measures the
    # neighbours. (The endpoint runs in its own process, outside both measurements.)
    def rate(kind: str) -> float:
        return _rate(results[kind], "cpu")

    print(f"directory: {gen.events:,} events, {gen.traces:,} traces, {size / 2**20:,.0f} MiB\n")
    print("| export | spans | wall time | CPU time | spans/s (CPU) | spans/s (wall) | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    print(_row("jsontrace -> OTLP/JSON file (read, map, write)", results["file"]))
    print(_row("jsontrace -> OTLP/HTTP protobuf, gzip (read, map, send)", results["http"]))
    print(_row("OTel SDK OTLPSpanExporter, gzip (send only)", results["sdk"]))
    print()
    print(
        f"jsontrace/SDK (HTTP): {rate('http') / rate('sdk'):.2f}x the SDK exporter's rate, "
        "on CPU time (goal: >= 1)"
    )
    print(f"jsontrace/SDK (file): {rate('file') / rate('sdk'):.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the directory")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for CI): checks it runs")
    parser.add_argument("--dir", type=Path, help="generate into / reuse this directory (kept)")
    parser.add_argument("--repeats", type=int, default=1, help="best of N for each measurement")
    parser.add_argument(
        "--measure", nargs=3, metavar=("KIND", "DIR", "TARGET"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve()
        return 0
    if args.measure:
        kind, directory, target = args.measure
        how = measure_sdk if kind == "sdk" else measure_jsontrace
        print(json.dumps(how(Path(directory), target)), flush=True)
        return 0

    if args.quick:
        args.events = QUICK_EVENTS
    work = Path(tempfile.mkdtemp(prefix="jsontrace-export-bench-"))
    directory = args.dir or work / "logs"
    server = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1/traces"
        gen = viewer_load.ensure_directory(directory, args.events)
        viewer_load.warm_cache(directory)
        size = sum(p.stat().st_size for p in directory.glob("*.jsonl"))
        results = {}
        for kind, target in (("file", str(work / "out.otlp.jsonl")), ("http", url), ("sdk", url)):
            print(f"measuring: {kind}", file=sys.stderr, flush=True)
            results[kind] = measure(kind, directory, target, args.repeats)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print_table(gen, size, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
