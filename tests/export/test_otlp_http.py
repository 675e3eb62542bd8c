"""OTLP/HTTP: gzipped protobuf bodies, retries only where the spec allows, 413 splits, partial success."""

from __future__ import annotations

import gzip
import socket
from http import HTTPStatus
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from jsontrace.export import Exporter, HttpSink, SinkError, Span, span_of
from jsontrace.export._otlp_http import parse_retry_after, safe_url
from jsontrace.store import RunStore

from .. import events as ev
from .otlp_server import FakeOtlp


def spans(count: int) -> list[Span]:
    store = RunStore()
    ids = [f"01a20c5b-2a3a-7000-8000-{n:012x}" for n in range(count)]
    for run_id in ids:
        store.add_events([ev.start(run_id, inputs={"n": run_id}), ev.end(run_id)])
    return [span_of(store.get(run_id)) for run_id in ids]  # type: ignore[arg-type]


def sink(url: str, **options: object) -> HttpSink:
    return HttpSink(url, "svc", "proj", backoff=0.01, **options)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_batch_is_one_gzipped_protobuf_post_with_the_given_headers(
    otlp: FakeOtlp, app_logs: Path
) -> None:
    """POST /v1/traces, application/x-protobuf, gzip, the --header values; every span inside."""
    target = sink(otlp.url, headers={"Authorization": "Bearer s3cret", "api_key": "k"})

    summary = Exporter(app_logs, target).run()

    [request] = otlp.accepted()
    assert "/v1/traces" == request.path
    assert "application/x-protobuf" == request.headers["content-type"]
    assert "gzip" == request.headers["content-encoding"]
    assert ("Bearer s3cret", "k") == (request.headers["authorization"], request.headers["api_key"])
    parsed = ExportTraceServiceRequest.FromString(gzip.decompress(request.body))
    assert 6 == summary.spans == len(request.spans())
    assert parsed == request.request
    names = sorted(span.name for span in request.spans())
    assert ["answer", "calculator", "doomed", "generate", "retrieve", "stuck"] == names


def test_429_waits_what_retry_after_says_then_sends_again(otlp: FakeOtlp) -> None:
    """A 429 with Retry-After: 1 is retried, no sooner than a second later."""
    otlp.script([(429, {"Retry-After": "1"})])

    delivery = sink(otlp.url).send(spans(2))

    first, second = otlp.received
    assert (429, 200) == (first.status, second.status)
    assert second.at - first.at >= 0.9
    assert 2 == delivery.accepted


def test_502_503_504_are_retried_with_backoff(otlp: FakeOtlp) -> None:
    """Each retryable status is tried again; the batch goes through on the fourth try."""
    otlp.script([(502, {}), (503, {}), (504, {})])

    delivery = sink(otlp.url).send(spans(1))

    assert [502, 503, 504, 200] == [r.status for r in otlp.received]
    assert 1 == delivery.accepted


def test_retries_give_up_after_the_limit_with_one_line(otlp: FakeOtlp) -> None:
    """Past --retries the sink gives up, saying what the server answered and how often it tried."""
    otlp.script([(503, {}, b"overloaded")] * 3)

    with pytest.raises(SinkError) as caught:
        sink(otlp.url, retries=2).send(spans(1))

    assert 3 == len(otlp.received)
    assert (
        f"{otlp.url} answered 503 Service Unavailable: overloaded (gave up after 3 tries)"
        == str(caught.value)
    )
    assert 0 == caught.value.spans_accepted


@pytest.mark.parametrize("status", [400, 401, 404, 415, 422, 500])
def test_other_failures_are_never_retried(otlp: FakeOtlp, status: int) -> None:
    """400 (bad data) and every other status outside 429/502/503/504 is final: one request."""
    otlp.script([(status, {})])

    with pytest.raises(SinkError) as caught:
        sink(otlp.url).send(spans(1))

    assert 1 == len(otlp.received)
    assert f"refused 1 span(s) with {status}" in str(caught.value)


def test_a_400_reports_the_google_rpc_status_message(otlp: FakeOtlp) -> None:
    """The failure body is a protobuf google.rpc.Status: its message is in the line."""
    status = b"\x08\x03" + b"\x12\x0bbad span id"  # code = 3, message = "bad span id"
    otlp.script([(400, {"Content-Type": "application/x-protobuf"}, status)])

    with pytest.raises(SinkError) as caught:
        sink(otlp.url).send(spans(1))

    assert "400 Bad Request: bad span id;" in str(caught.value)


def test_413_splits_the_batch_until_it_fits(otlp: FakeOtlp) -> None:
    """Too large: the batch is sent again in halves; all four spans arrive once."""
    otlp.script([(413, {})])
    batch = spans(4)

    delivery = sink(otlp.url).send(batch)

    assert [4, 2, 2] == [len(r.spans()) for r in otlp.received]
    assert sorted(s.span_id for s in batch) == sorted(otlp.span_ids())
    assert 4 == delivery.accepted


def test_413_for_a_single_span_is_final_and_counts_what_went_before(otlp: FakeOtlp) -> None:
    """Halves that were accepted count; the span the server will not take ends the export."""
    otlp.script([(413, {}), (200, {}), (413, {})])  # 2 spans: [a, b] 413, [a] ok, [b] 413

    with pytest.raises(SinkError) as caught:
        sink(otlp.url).send(spans(2))

    assert 1 == caught.value.spans_accepted
    assert f"refused 1 span(s) with 413 {HTTPStatus(413).phrase}" in str(caught.value)
    assert "a single span is larger than it accepts" in str(caught.value)


def test_batches_stay_under_the_byte_limit(otlp: FakeOtlp) -> None:
    """With a small limit, one send is several requests, each under it, none empty."""
    batch = spans(10)

    sink(otlp.url, max_batch_bytes=1000, compression=False).send(batch)

    sizes = [len(r.body) for r in otlp.received]
    assert len(sizes) > 1 and all(0 < size <= 1000 for size in sizes), sizes
    assert [s.span_id for s in batch] == otlp.span_ids()


def test_partial_success_is_reported_and_not_retried(otlp: FakeOtlp) -> None:
    """A 200 with partial_success: rejected count and message returned, nothing sent again."""
    otlp.partial_success(1, "span 2 has no name")

    delivery = sink(otlp.url).send(spans(3))

    assert 1 == len(otlp.received)
    assert (2, 1, "span 2 has no name") == (delivery.accepted, delivery.rejected, delivery.message)


def test_an_unreachable_endpoint_is_retried_then_reported() -> None:
    """Nothing listening: retried with backoff, then one line naming the URL and the reason."""
    url = f"http://127.0.0.1:{free_port()}/v1/traces"

    with pytest.raises(SinkError) as caught:
        sink(url, retries=2).send(spans(1))

    assert f"cannot reach {url}: connection refused (gave up after 3 tries)" == str(caught.value)


def test_messages_never_show_credentials_query_or_headers(otlp: FakeOtlp) -> None:
    """The URL in messages drops user:password and the query; header values never appear."""
    url = otlp.url.replace("http://", "http://user:pw@") + "?key=qsecret"
    otlp.script([(400, {}, b"nope")])

    with pytest.raises(SinkError) as caught:
        sink(url, headers={"x-api-key": "hsecret"}).send(spans(1))

    message = str(caught.value)
    assert message.startswith(f"{otlp.url} refused")
    assert not any(secret in message for secret in ("pw", "qsecret", "hsecret"))
    assert "https://[::1]:4318/v1/traces" == safe_url("https://a:b@[::1]:4318/v1/traces?x=1#f")


def test_retry_after_as_seconds_or_an_http_date() -> None:
    """Both forms of Retry-After (RFC 9110) give seconds to wait; garbage gives None."""
    assert 7.0 == parse_retry_after("7")
    assert 30.0 == parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0)
    assert parse_retry_after("soon") is None


def test_a_url_that_is_not_http_is_refused() -> None:
    """The sink only speaks http(s)."""
    with pytest.raises(SinkError, match="not an http"):
        HttpSink("ftp://example.invalid/v1/traces", "svc")


def test_span_bytes_are_the_official_span_message(app_logs: Path) -> None:
    """Each span's bytes (scalars, then attributes and events appended, short KeyValues
    reused) parse into the Span the official classes build field by field."""
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
    from opentelemetry.proto.trace.v1.trace_pb2 import Status

    from jsontrace.export import Delivery, Sink
    from jsontrace.export._otlp_http import _Encoder

    def value(v: object) -> AnyValue:
        if isinstance(v, bool):
            return AnyValue(bool_value=v)
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        if isinstance(v, list):
            return AnyValue(array_value=ArrayValue(values=[AnyValue(string_value=s) for s in v]))
        return AnyValue(string_value=v)

    def kvs(pairs: list[tuple[str, object]]) -> list[KeyValue]:
        return [KeyValue(key=k, value=value(v)) for k, v in pairs]

    spans: list[Span] = []

    class Keep(Sink):
        def send(self, batch: list[Span]) -> Delivery:
            spans.extend(batch)
            return Delivery(len(batch))

    Exporter(app_logs, Keep()).run()
    encoder = _Encoder()
    for span in spans * 2:  # the second time round, KeyValues come from the cache
        expected = PbSpan(
            trace_id=bytes.fromhex(span.trace_id),
            span_id=bytes.fromhex(span.span_id),
            parent_span_id=bytes.fromhex(span.parent_span_id),
            name=span.name,
            kind=1,
            start_time_unix_nano=span.start_ns,
            end_time_unix_nano=span.end_ns,
            attributes=kvs(span.attributes),  # type: ignore[arg-type]
            events=[
                PbSpan.Event(time_unix_nano=e.time_ns, name=e.name, attributes=kvs(e.attributes))  # type: ignore[arg-type]
                for e in span.events
            ],
            dropped_events_count=span.dropped_events,
            status=Status(code=span.status_code, message=span.status_message),  # type: ignore[arg-type]
        )
        assert expected == PbSpan.FromString(encoder.span(span))
    assert any(span.events for span in spans) and any(span.dropped_events == 0 for span in spans)


def test_long_values_are_framed_right() -> None:
    """Lengths past two varint bytes (a 100,000-character input) still parse back whole."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

    from jsontrace.export._otlp_http import _Encoder

    store = RunStore()
    text = "x" * 100_000
    store.add_events([ev.start("a", inputs=text), ev.end("a", outputs=text * 3)])
    span = span_of(store.get("a"))  # type: ignore[arg-type]

    parsed = PbSpan.FromString(_Encoder().span(span))

    values = {kv.key: kv.value.string_value for kv in parsed.attributes}
    assert (text, text * 3) == (values["input.value"], values["output.value"])
