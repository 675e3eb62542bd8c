"""Spans as OTLP/HTTP: protobuf ``ExportTraceServiceRequest`` bodies, gzipped, POSTed with retries.

What the OTLP specification asks of a client, and what this does:

* The body is protobuf (Phoenix refuses JSON with 415), built from the
  ``opentelemetry-proto`` messages (the ``otlp`` extra), never the SDK.
* ``Content-Encoding: gzip``; one keep-alive connection.
* Retry only on 429, 502, 503, 504 and when the server cannot be reached,
  with exponential backoff and jitter, waiting what ``Retry-After`` says when
  it says it (seconds or an HTTP date). Any other 4xx or 5xx is final.
* 413 (too large): the batch is split in two and each half sent, down to a
  single span; a single span refused as too large is final.
* 200 with ``partial_success``: the rejected count and message are reported,
  and the batch is not sent again (the specification forbids it).
* ``--header K=V`` values go on the wire only: no message here includes them,
  nor the URL's query or credentials (see :func:`safe_url`).
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import random
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._version import __version__
from ._otlp_json import SCOPE_NAME, SPAN_KIND_INTERNAL, resource_attributes
from ._sink import Delivery, Sink, SinkError

if TYPE_CHECKING:
    from ._otlp_map import Resource, Span, Value

__all__ = ["HttpSink", "encode_request", "parse_retry_after", "safe_url"]

RETRYABLE: Final = frozenset({429, 502, 503, 504})
#: The largest body (protobuf, before gzip) one request carries: gRPC's default message
#: limit, which also keeps clear of the common 5-10 MiB proxy limits.
MAX_BATCH_BYTES: Final = 4 << 20
#: Responses are read up to this size (the specification's recommendation).
MAX_RESPONSE_BYTES: Final = 4 << 20
#: The longest wait between two tries, whatever Retry-After asks.
MAX_WAIT_S: Final = 300.0
_USER_AGENT: Final = f"jsontrace/{__version__}"


class ProtoMissing(SinkError):
    """The ``otlp`` extra is not installed."""


def _proto() -> Any:
    try:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.resource.v1 import resource_pb2
        from opentelemetry.proto.trace.v1 import trace_pb2
    except ImportError:
        raise ProtoMissing(
            "sending OTLP over HTTP needs the opentelemetry-proto package: "
            "pip install 'jsontrace[otlp]' (or write OTLP/JSON to a file instead)"
        ) from None
    return trace_service_pb2, common_pb2, resource_pb2, trace_pb2


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what messages may show."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _varint(value: int) -> bytes:
    """A protobuf base-128 varint (for tags and lengths)."""
    if value < 16384:
        return _SMALL_VARINTS[value]
    return _encode_varint(value)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# Tags and the lengths of most attributes and events fit in two bytes: made once.
_SMALL_VARINTS: Final = [_encode_varint(n) for n in range(16384)]


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (an embedded message): tag, length, bytes."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


class _Encoder:
    """Serialises spans with the official messages; the proto modules are imported once.

    Each span is serialised on its own, once: its size decides the batches, and the
    request around a batch is assembled from those bytes. Protobuf defines a repeated
    embedded message as the concatenation of its elements (in any place among the other
    fields), so this is the same message ``ExportTraceServiceRequest(...)`` would write,
    without building and copying every span into a request object. Likewise a span's
    attributes and events are appended to its scalar fields as serialised ``KeyValue`` and
    ``Event`` messages, and the ``KeyValue`` of a short value that comes back (a span
    kind, a mime type, a model name, a token count) is serialised once and reused: most
    of the cost of a span was making the same small messages again. Tests check that the
    bytes parse into the same messages as the plain construction.
    """

    def __init__(self) -> None:
        service_pb2, common_pb2, resource_pb2, trace_pb2 = _proto()
        self.response = service_pb2.ExportTraceServiceResponse
        self.KeyValue = common_pb2.KeyValue
        self.AnyValue = common_pb2.AnyValue
        self.ArrayValue = common_pb2.ArrayValue
        scope = common_pb2.InstrumentationScope(name=SCOPE_NAME, version=__version__)
        self._scope = _field(1, scope.SerializeToString())  # ScopeSpans.scope
        self.Resource = resource_pb2.Resource
        self.Span = trace_pb2.Span
        self.Event = trace_pb2.Span.Event
        self.Status = trace_pb2.Status
        self._resources: dict[tuple[Resource, str, str | None], bytes] = {}
        self._kv_cache: dict[tuple[str, type, Value], bytes] = {}
        fields = trace_pb2.Span.DESCRIPTOR.fields_by_name
        self._span_attributes = fields["attributes"].number
        self._span_events = fields["events"].number
        self._event_attributes = trace_pb2.Span.Event.DESCRIPTOR.fields_by_name["attributes"].number

    def value(self, value: Value) -> Any:
        AnyValue = self.AnyValue
        if isinstance(value, str):
            return AnyValue(string_value=value)
        if isinstance(value, bool):
            return AnyValue(bool_value=value)
        if isinstance(value, int):
            return AnyValue(int_value=value)
        if isinstance(value, float):
            return AnyValue(double_value=value)
        return AnyValue(
            array_value=self.ArrayValue(values=[AnyValue(string_value=v) for v in value])
        )

    def attributes(self, pairs: Sequence[tuple[str, Value]]) -> list[Any]:
        KeyValue, value = self.KeyValue, self.value
        return [KeyValue(key=key, value=value(v)) for key, v in pairs]

    def _attribute_fields(self, number: int, pairs: Sequence[tuple[str, Value]]) -> bytes:
        """Serialised ``KeyValue`` messages as repeated field *number* of their message."""
        cache, KeyValue, value_of = self._kv_cache, self.KeyValue, self.value
        out = []
        for key, value in pairs:
            # Long text (inputs, outputs, ids) rarely repeats: only short values are kept.
            short = not isinstance(value, (str, list)) or (type(value) is str and len(value) <= 64)
            cache_key = (key, type(value), value) if short else None
            data = cache.get(cache_key) if cache_key is not None else None
            if data is None:
                data = _field(number, KeyValue(key=key, value=value_of(value)).SerializeToString())
                if cache_key is not None:
                    if len(cache) > 65536:
                        cache.clear()
                    cache[cache_key] = data
            out.append(data)
        return b"".join(out)

    def span(self, span: Span) -> bytes:
        """One ``Span`` message, serialised."""
        Event, fields = self.Event, self._attribute_fields
        head = self.Span(
            trace_id=bytes.fromhex(span.trace_id),
            span_id=bytes.fromhex(span.span_id),
            parent_span_id=bytes.fromhex(span.parent_span_id),
            name=span.name,
            kind=SPAN_KIND_INTERNAL,
            start_time_unix_nano=span.start_ns,
            end_time_unix_nano=span.end_ns,
            dropped_events_count=span.dropped_events,
            status=self.Status(code=span.status_code, message=span.status_message),
        ).SerializeToString()
        events = self._span_events
        return b"".join(
            [
                head,
                fields(self._span_attributes, span.attributes),
                *(
                    _field(
                        events,
                        Event(time_unix_nano=e.time_ns, name=e.name).SerializeToString()
                        + fields(self._event_attributes, e.attributes),
                    )
                    for e in span.events
                ),
            ]
        )

    def _resource(self, resource: Resource, service: str, project: str | None) -> bytes:
        key = (resource, service, project)
        encoded = self._resources.get(key)
        if encoded is None:
            message = self.Resource(
                attributes=self.attributes(resource_attributes(resource, service, project))
            )
            if len(self._resources) > 1024:
                self._resources.clear()
            encoded = self._resources[key] = _field(1, message.SerializeToString())
        return encoded

    def envelope_size(self, resource: Resource, service: str, project: str | None) -> int:
        """Bytes a ResourceSpans adds around its spans: resource, scope, two tags and lengths."""
        return len(self._resource(resource, service, project)) + len(self._scope) + 12

    def body(
        self,
        spans: Sequence[Span],
        encoded: Sequence[bytes],
        service: str,
        project: str | None,
    ) -> bytes:
        """The serialised ``ExportTraceServiceRequest`` of spans already serialised."""
        by_resource: dict[Resource, list[bytes]] = {}
        for span, data in zip(spans, encoded, strict=True):
            by_resource.setdefault(span.resource, []).append(_field(2, data))  # ScopeSpans.spans
        return b"".join(
            # ExportTraceServiceRequest.resource_spans = 1: ResourceSpans {resource = 1,
            # scope_spans = 2}; ScopeSpans {scope = 1, spans = 2}
            _field(
                1,
                self._resource(resource, service, project)
                + _field(2, self._scope + b"".join(fields)),
            )
            for resource, fields in by_resource.items()
        )


def encode_request(spans: Sequence[Span], service: str, project: str | None = None) -> bytes:
    """The protobuf ``ExportTraceServiceRequest`` carrying *spans* (for tests and tools)."""
    encoder = _Encoder()
    return encoder.body(spans, [encoder.span(s) for s in spans], service, project)


def _status_message(body: bytes, content_type: str) -> str:
    """The human-readable part of a failure response: ``google.rpc.Status.message`` or text."""
    if "protobuf" in content_type:
        message = _rpc_status_message(body)
        if message:
            return message
    text = body[:500].decode("utf-8", "replace").strip()
    return " ".join(text.split())[:300]


def _rpc_status_message(body: bytes) -> str:
    # google.rpc.Status is {int32 code = 1; string message = 2; repeated Any details = 3}:
    # read field 2 by hand rather than depend on googleapis-common-protos for one string.
    i, size = 0, len(body)

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while i < size:
            byte = body[i]
            i += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
        raise ValueError("truncated varint")

    try:
        while i < size:
            key = varint()
            field, wire = key >> 3, key & 7
            if wire == 0:
                varint()
            elif wire == 2:
                length = varint()
                chunk = body[i : i + length]
                i += length
                if field == 2:
                    return chunk.decode("utf-8", "replace")
            else:
                return ""
    except ValueError:
        return ""
    return ""


class _Refused(Exception):
    """A final (non-retryable) answer to one request."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(status, reason, message)
        self.status, self.reason, self.message = status, reason, message


class HttpSink(Sink):
    """POSTs batches to an OTLP/HTTP endpoint (``.../v1/traces``) as gzipped protobuf.

    ``retries`` is how many times one request is tried again after a retryable
    failure (``None``: until it succeeds or :attr:`should_stop` says to stop, for
    ``--follow``). ``sleep`` waits and returns False if the wait was cut short by
    a stop request; ``on_retry`` hears of each failure before its wait.
    """

    def __init__(
        self,
        url: str,
        service: str,
        project: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int | None = 5,
        compression: bool = True,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        backoff: float = 1.0,
        sleep: Callable[[float], bool] | None = None,
        on_retry: Callable[[str, float], None] | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SinkError(f"not an http(s) URL: {safe_url(url)}")
        self._encoder = _Encoder()  # fails early, with the install hint, without the extra
        self.url = url
        self.name = safe_url(url)
        self.service, self.project = service, project
        self._parts = parts
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {
            "Content-Type": "application/x-protobuf",
            "User-Agent": _USER_AGENT,
            **({"Content-Encoding": "gzip"} if compression else {}),
            **dict(headers or {}),
        }
        self.timeout = timeout
        self.retries = retries
        self.compression = compression
        self.max_batch_bytes = max_batch_bytes
        self.backoff = backoff
        self._sleep = sleep or _plain_sleep
        self._on_retry = on_retry
        self._conn: http.client.HTTPConnection | None = None
        self.requests = 0

    # -- sending ---------------------------------------------------------------------

    def send(self, spans: list[Span]) -> Delivery:
        """Send *spans*, in as many requests as their size needs; returns once all are accepted."""
        encoded = [self._encoder.span(span) for span in spans]
        accepted = rejected = 0
        messages: list[str] = []
        for start, stop in self._parts_of(spans, encoded):
            try:
                delivery = self._send_splitting(spans[start:stop], encoded[start:stop])
            except SinkError as exc:
                exc.spans_accepted += accepted + rejected
                raise
            accepted += delivery.accepted
            rejected += delivery.rejected
            if delivery.message:
                messages.append(delivery.message)
        return Delivery(accepted, rejected, "; ".join(dict.fromkeys(messages)))

    def _parts_of(self, spans: list[Span], encoded: list[bytes]) -> list[tuple[int, int]]:
        """Index ranges of the batch whose bodies stay under the size limit (one span at least)."""
        parts: list[tuple[int, int]] = []
        start = size = 0
        resources: set[Resource] = set()
        for index, (span, data) in enumerate(zip(spans, encoded, strict=True)):
            grow = len(data) + 6  # + the field's tag and length (at most 1 + 5 bytes)
            if span.resource not in resources:  # a new ResourceSpans around it
                grow += self._encoder.envelope_size(span.resource, self.service, self.project)
            if index > start and size + grow > self.max_batch_bytes:
                parts.append((start, index))
                start, size = index, 0
                resources.clear()
                grow = (
                    len(data)
                    + 6
                    + self._encoder.envelope_size(span.resource, self.service, self.project)
                )
            resources.add(span.resource)
            size += grow
        if start < len(encoded):
            parts.append((start, len(encoded)))
        return parts

    def _send_splitting(self, spans: list[Span], encoded: list[bytes]) -> Delivery:
        try:
            return self._send_one(spans, encoded)
        except _Refused as refused:
            if refused.status == 413 and len(spans) > 1:
                half = len(spans) // 2
                first = self._send_splitting(spans[:half], encoded[:half])
                try:
                    second = self._send_splitting(spans[half:], encoded[half:])
                except SinkError as exc:
                    exc.spans_accepted += half
                    raise
                return Delivery(
                    first.accepted + second.accepted,
                    first.rejected + second.rejected,
                    first.message or second.message,
                )
            raise SinkError(self._refusal_line(refused, len(spans))) from None

    def _refusal_line(self, refused: _Refused, count: int) -> str:
        what = f"{refused.status} {refused.reason}".strip()
        detail = f": {refused.message}" if refused.message else ""
        if refused.status == 413:
            hint = "a single span is larger than it accepts; raise its request size limit"
        elif refused.status in (401, 403):
            hint = "check the credentials given with --header"
        elif refused.status == 404:
            hint = "check the URL's path (usually /v1/traces)"
        elif 300 <= refused.status < 400:
            hint = "give the URL it redirects to"
        else:
            hint = "the data was not accepted and will not be sent again as it is"
        return f"{self.name} refused {count} span(s) with {what}{detail}; {hint}"

    def _send_one(self, spans: list[Span], encoded: list[bytes]) -> Delivery:
        body = self._encoder.body(spans, encoded, self.service, self.project)
        if self.compression:
            body = gzip.compress(body, compresslevel=6, mtime=0)
        attempt = 0
        while True:
            try:
                status, reason, headers, data = self._post(body)
            except (OSError, http.client.HTTPException) as exc:
                problem = f"cannot reach {self.name}: {_describe(exc)}"
                wait = self._backoff(attempt)
            else:
                if 200 <= status < 300:
                    return self._delivery(len(spans), data, headers.get("content-type", ""))
                message = _status_message(data, headers.get("content-type", ""))
                if status not in RETRYABLE:
                    raise _Refused(status, reason, message)
                problem = f"{self.name} answered {status} {reason}".strip()
                if message:
                    problem += f": {message}"
                after = parse_retry_after(headers.get("retry-after"))
                wait = min(after, MAX_WAIT_S) if after is not None else self._backoff(attempt)
            attempt += 1
            if self.retries is not None and attempt > self.retries:
                tries = "try" if attempt == 1 else "tries"
                raise SinkError(f"{problem} (gave up after {attempt} {tries})")
            if self._on_retry is not None:
                self._on_retry(problem, wait)
            if not self._sleep(wait):
                raise SinkError(f"{problem} (stopped while waiting to try again)")

    def _backoff(self, attempt: int) -> float:
        # Exponential with full jitter in its upper half: 1, 2, 4 ... 60 s by default.
        base = min(60.0, self.backoff * 2.0**attempt)
        return base * random.uniform(0.5, 1.0)

    def _delivery(self, count: int, data: bytes, content_type: str) -> Delivery:
        if not data or "protobuf" not in content_type:
            return Delivery(accepted=count)
        response = self._encoder.response()
        try:
            response.ParseFromString(data)
        except Exception:  # a body that is not the response message: the 200 still stands
            return Delivery(accepted=count)
        if not response.HasField("partial_success"):
            return Delivery(accepted=count)
        rejected = min(count, max(0, int(response.partial_success.rejected_spans)))
        return Delivery(count - rejected, rejected, response.partial_success.error_message)

    def _post(self, body: bytes) -> tuple[int, str, dict[str, str], bytes]:
        self.requests += 1
        for fresh in (False, True):
            conn = self._connection(fresh)
            try:
                conn.request("POST", self._path, body=body, headers=self._headers)
                response = conn.getresponse()
                data = response.read(MAX_RESPONSE_BYTES)
                headers = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close or not response.isclosed():
                    # Closing at will_close, or when the body is larger than we read.
                    self._close_connection()
                return response.status, response.reason, headers, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: try once on a new one.
                self._close_connection()
                if fresh:
                    raise
            except BaseException:
                self._close_connection()
                raise
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        if self._conn is not None and not fresh:
            return self._conn
        self._close_connection()
        parts = self._parts
        host, port = parts.hostname or "", parts.port
        if parts.scheme == "https":
            self._conn = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            self._conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._close_connection()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _plain_sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True
