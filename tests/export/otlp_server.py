"""A fake OTLP/HTTP receiver on 127.0.0.1 for the export tests: it records and answers as told.

::

    with FakeOtlp() as server:                      # answers 200 with an empty response
        server.script([(429, {"Retry-After": "1"}), (200, {})])   # then these, in order
        ... export to server.url ...
        server.span_ids()                           # every span id it accepted, in order

Each request is decompressed and parsed with the official ``opentelemetry-proto``
messages. Only requests it answered 200 count as accepted. ``hold()`` makes the next
request wait, unanswered, until ``release()`` (or forever: the kill test kills the client
while it waits, so that request was never acknowledged).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

__all__ = ["FakeOtlp", "Received"]


@dataclass
class Received:
    """One request as the server saw it."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    request: ExportTraceServiceRequest
    status: int = 200

    def spans(self) -> list[Any]:
        return [
            span
            for resource_spans in self.request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FakeOtlp:
    """The server; a context manager that stops it on exit."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: list[_Answer] = []
        self._default = _Answer(200, {"Content-Type": "application/x-protobuf"})
        self._lock = threading.Lock()
        self._hold = threading.Event()
        self._held = threading.Event()
        self._release = threading.Event()
        self._hold_when: Callable[[list[Any]], bool] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def __enter__(self) -> FakeOtlp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- programming it ---------------------------------------------------------------

    def script(
        self, answers: list[tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]]
    ) -> None:
        """The next answers, in order; after them it answers 200 again."""
        with self._lock:
            self._answers = [_Answer(*answer) for answer in answers]

    def partial_success(self, rejected: int, message: str) -> None:
        """The next answer is a 200 whose body reports *rejected* spans with *message*."""
        response = ExportTraceServiceResponse()
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
        self.script(
            [(200, {"Content-Type": "application/x-protobuf"}, response.SerializeToString())]
        )

    def hold(self, when: Callable[[list[Any]], bool] | None = None) -> None:
        """Keep the next request waiting, unanswered; with *when*, the first one that arrives
        when ``when(spans accepted so far)`` is true."""
        self._held.clear()
        self._hold_when = when
        self._hold.set()

    def wait_held(self, timeout: float = 60) -> bool:
        """Wait until a request is being held."""
        return self._held.wait(timeout)

    def release(self) -> None:
        self._release.set()

    # -- what it got ---------------------------------------------------------------------

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status == 200]

    def span_ids(self) -> list[str]:
        """Span ids (hex) of every span in a request answered 200, in arrival order."""
        return [span.span_id.hex() for r in self.accepted() for span in r.spans()]

    def wait_spans(self, count: int, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.span_ids()) >= count:
                return True
            time.sleep(0.05)
        return False

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        raw = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        request = ExportTraceServiceRequest()
        request.ParseFromString(raw)
        received = Received(time.monotonic(), handler.path, headers, body, request)
        when = self._hold_when
        if self._hold.is_set() and (when is None or when(list(iter_spans(self.accepted())))):
            self._hold.clear()
            received.status = -1  # never answered
            with self._lock:
                self.received.append(received)
            self._held.set()
            self._release.wait()
            handler.close_connection = True
            return
        with self._lock:
            answer = self._answers.pop(0) if self._answers else self._default
            received.status = answer.status
            self.received.append(received)
        handler.send_response(answer.status)
        for name, value in {"Content-Type": "application/x-protobuf", **answer.headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)


def iter_spans(requests: list[Received]) -> Iterator[Any]:
    for received in requests:
        yield from received.spans()
