"""Programs for the cross-process tests, each run as its own process: ``python cross_process_worker.py MODE``.

Every process writes to ``$JSONTRACE_DIR``. ``--host NAME`` makes the process
record NAME as its host, as a process on another machine would.

* ``parent``: a traced request handler that runs ``child`` in a new process,
  its headers in ``$JSONTRACE_PARENT`` (JSON);
* ``child``: continues the trace in ``$JSONTRACE_PARENT`` with ``tracing_context(parent=...)``;
* ``serve``: a WSGI server on 127.0.0.1 behind ``WSGITracingMiddleware``; prints its port;
* ``client PORT``: a traced call that sends its headers to the server over HTTP;
* ``langsmith-parent``: real LangSmith (offline) makes the parent run; ``child`` continues it;
* ``otel-parent``: an OpenTelemetry SDK span is the parent; ``child`` continues it.

The parents print, as JSON, the ids the continued runs must carry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any


def set_host(argv: list[str]) -> list[str]:
    """Apply ``--host NAME`` before anything that records the host is imported."""
    if "--host" in argv:
        index = argv.index("--host")
        import jsontrace._host

        jsontrace._host.HOST = argv[index + 1]
        return argv[:index] + argv[index + 2 :]
    return argv


def run_child(headers: dict[str, str], *extra: str) -> None:
    env = {**os.environ, "JSONTRACE_PARENT": json.dumps(headers)}
    subprocess.run([sys.executable, __file__, "child", *extra], env=env, check=True, timeout=60)


def parent() -> None:
    from jsontrace import get_current_run_tree, traceable

    @traceable(tags=["api"], metadata={"tenant": "acme"})
    def handle_request(question: str) -> str:
        tree = get_current_run_tree()
        assert tree is not None
        run_child(tree.to_headers(), "--host", "worker-2")
        return "done"

    handle_request("why?")


def child() -> None:
    from jsontrace import traceable, tracing_context

    @traceable
    def step(i: int) -> int:
        return i

    @traceable(run_type="llm", reduce_fn="".join)
    def stream() -> Iterator[str]:
        yield from ["a", "b"]

    @traceable
    def worker_job() -> str:
        step(1)
        step(2)
        return "".join(stream())

    with tracing_context(parent=json.loads(os.environ["JSONTRACE_PARENT"])):
        worker_job()


def serve() -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from jsontrace import traceable
    from jsontrace.middleware import WSGITracingMiddleware

    @traceable
    def answer(body: str) -> str:
        return body.upper()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        reply = answer(environ["wsgi.input"].read(length).decode())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [reply.encode()]

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, WSGITracingMiddleware(app), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_port, flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()


def client(port: str) -> None:
    import urllib.request

    from jsontrace import get_current_run_tree, traceable

    @traceable
    def ask(question: str) -> str:
        tree = get_current_run_tree()
        assert tree is not None
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/", data=question.encode(), headers=tree.to_headers()
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(response.read().decode())

    print(json.dumps(ask("hello")))


def langsmith_parent() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from langsmith.run_trees import RunTree

    from tests.langsmith_side import langsmith_offline

    with langsmith_offline():
        upstream = RunTree(name="upstream", tags=["ls"], extra={"metadata": {"tenant": "acme"}})
        headers = upstream.to_headers()
    run_child(headers)
    print(json.dumps({"trace_id": str(upstream.trace_id), "run_id": str(upstream.id)}))


def otel_parent() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    tracer = TracerProvider().get_tracer("upstream-service")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("upstream") as span:
        TraceContextTextMapPropagator().inject(carrier)
        run_child(carrier)
        context = span.get_span_context()
    print(
        json.dumps({"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"})
    )


def main(argv: list[str]) -> None:
    argv = set_host(argv)
    mode, args = argv[0], argv[1:]
    programs = {
        "parent": parent,
        "child": child,
        "serve": serve,
        "client": client,
        "langsmith-parent": langsmith_parent,
        "otel-parent": otel_parent,
    }
    programs[mode](*args)


if __name__ == "__main__":
    main(sys.argv[1:])
