"""OTLP/JSON lines: each line is a TracesData the official messages accept, written per the OTLP spec.

protobuf's own JSON printer is not the reference (it writes base64 ids and enum
names): the OTLP specification's JSON encoding is. So the lines are checked
against the spec's rules directly, then parsed by the official message classes
once their hex ids are turned into base64, the one place the two mappings differ.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from jsontrace.export import Exporter, JsonLinesSink, Span
from jsontrace.export._otlp_http import encode_request
from jsontrace.export._otlp_json import traces_data

from .. import events as ev

_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def export_lines(directory: Path, out: Path, **options: Any) -> list[dict[str, Any]]:
    sink = JsonLinesSink(str(out), "svc", "proj")
    Exporter(directory, sink, **options).run()
    sink.close()
    return [orjson.loads(line) for line in out.read_bytes().splitlines()]


def keys_of(value: Any) -> list[str]:
    """Every object key in a JSON value, attribute keys excepted (those are user data)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(key)
            if key != "key":
                found += keys_of(item)
    elif isinstance(value, list):
        for item in value:
            found += keys_of(item)
    return found


def hex_ids_to_base64(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                base64.b64encode(bytes.fromhex(item)).decode()
                if key in _ID_KEYS
                else hex_ids_to_base64(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [hex_ids_to_base64(item) for item in value]
    return value


def spans_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in data["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


def test_every_line_parses_as_traces_data_with_the_official_messages(
    app_logs: Path, tmp_path: Path
) -> None:
    """Each line (hex ids made base64) is accepted by TracesData's parser, which rejects
    unknown fields and wrong types; the parsed message holds the same ids and times."""
    lines = export_lines(app_logs, tmp_path / "out.jsonl", batch_spans=2)

    assert 3 == len(lines)  # 6 runs, 2 a line
    for data in lines:
        message = json_format.ParseDict(hex_ids_to_base64(data), TracesData())
        parsed = [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
        written = spans_of(data)
        assert [s["spanId"] for s in written] == [s.span_id.hex() for s in parsed]
        assert [int(s["startTimeUnixNano"]) for s in written] == [
            s.start_time_unix_nano for s in parsed
        ]


def test_the_lines_follow_the_otlp_json_encoding_rules(app_logs: Path, tmp_path: Path) -> None:
    """lowerCamelCase keys, hex ids of 32/16 lowercase digits, nanos and intValue as decimal
    strings, kind and status.code as integers, attribute values as AnyValue objects."""
    [data] = export_lines(app_logs, tmp_path / "out.jsonl")

    assert all(_CAMEL.match(key) for key in keys_of(data)), keys_of(data)
    spans = spans_of(data)
    assert 6 == len(spans)
    for span in spans:
        assert re.fullmatch("[0-9a-f]{32}", span["traceId"])
        assert re.fullmatch("[0-9a-f]{16}", span["spanId"])
        assert "parentSpanId" not in span or re.fullmatch("[0-9a-f]{16}", span["parentSpanId"])
        for key in ("startTimeUnixNano", "endTimeUnixNano"):
            assert isinstance(span[key], str) and span[key].isdigit()
        assert 1 == span["kind"]  # SPAN_KIND_INTERNAL, never "SPAN_KIND_INTERNAL"
        assert span["status"]["code"] in (0, 1, 2)
        for event in span.get("events", []):
            assert isinstance(event["timeUnixNano"], str) and event["timeUnixNano"].isdigit()
        for attribute in span["attributes"]:
            [(kind, value)] = attribute["value"].items()
            assert kind in ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue")
            if kind == "intValue":
                assert isinstance(value, str) and value.lstrip("-").isdigit()
    by_name = {span["name"]: span for span in spans}
    assert 2 == by_name["calculator"]["status"]["code"]
    assert {"stringValue": "LLM"} == next(
        a["value"]
        for a in by_name["generate"]["attributes"]
        if a["key"] == "openinference.span.kind"
    )


def test_the_resource_names_service_project_host_and_pid(app_logs: Path, tmp_path: Path) -> None:
    """service.name, openinference.project.name, host.name and process.pid on the resource."""
    [data] = export_lines(app_logs, tmp_path / "out.jsonl")

    [resource_spans] = data["resourceSpans"]  # one writer process
    attributes = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
    assert {"stringValue": "svc"} == attributes["service.name"]
    assert {"stringValue": "proj"} == attributes["openinference.project.name"]
    assert "stringValue" in attributes["host.name"]
    assert int(attributes["process.pid"]["intValue"]) > 0
    assert {"name": "jsontrace"} == {"name": resource_spans["scopeSpans"][0]["scope"]["name"]}


def test_json_and_protobuf_encodings_carry_the_same_spans(app_logs: Path, tmp_path: Path) -> None:
    """The HTTP body (assembled from spans serialised one by one) equals the JSON line parsed
    into the official messages: both encodings say the same thing."""
    spans: list[Span] = []

    class Keep(JsonLinesSink):
        def send(self, batch: list[Span]) -> Any:
            spans.extend(batch)
            return super().send(batch)

    sink = Keep(str(tmp_path / "out.jsonl"), "svc", "proj")
    Exporter(app_logs, sink).run()
    sink.close()
    [line] = (tmp_path / "out.jsonl").read_bytes().splitlines()

    from_json = json_format.ParseDict(hex_ids_to_base64(orjson.loads(line)), TracesData())
    from_protobuf = ExportTraceServiceRequest.FromString(encode_request(spans, "svc", "proj"))
    assert list(from_json.resource_spans) == list(from_protobuf.resource_spans)


def test_several_writers_are_several_resources() -> None:
    """Spans of two processes go under two resources, each with its own pid."""
    from jsontrace.export import span_of
    from jsontrace.store import RunStore

    store = RunStore()
    store.add_events(
        [ev.start("a", pid=1, host="h"), ev.end("a"), ev.start("b", pid=2, host="h"), ev.end("b")]
    )
    spans = [span_of(store.get(r)) for r in ("a", "b")]  # type: ignore[arg-type]

    data = traces_data(spans, "svc", None)

    pids = [
        next(a["value"] for a in rs["resource"]["attributes"] if a["key"] == "process.pid")
        for rs in data["resourceSpans"]
    ]
    assert [{"intValue": "1"}, {"intValue": "2"}] == pids
