"""Spans as OTLP/JSON: one ``TracesData`` object per line, as the OTLP specification encodes it.

The specification's JSON encoding is protobuf's JSON mapping with deviations,
and protobuf's own printer gets them wrong for OTLP (it writes base64 ids and
enum names), so this module writes the objects itself:

* keys in lowerCamelCase (``resourceSpans``, ``startTimeUnixNano``);
* ``traceId`` (32) and ``spanId`` / ``parentSpanId`` (16) as lowercase hex;
* 64-bit integers (times, ``intValue``) as decimal strings;
* enums (``kind``, ``status.code``) as integers;
* attribute values as ``AnyValue`` objects (``{"stringValue": ...}``).

The Collector's ``otlpjsonfile`` receiver reads such files line by line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import IO, Any

import orjson

from .._version import __version__
from ._otlp_map import Resource, Span, Value
from ._sink import Delivery, Sink, SinkError

__all__ = ["JsonLinesSink", "any_value", "resource_attributes", "traces_data"]

SPAN_KIND_INTERNAL = 1
SCOPE_NAME = "jsontrace"


def any_value(value: Value) -> dict[str, Any]:
    """An attribute value as an OTLP/JSON ``AnyValue`` (64-bit integers as decimal strings)."""
    if type(value) is str:  # most are: the one check on the common path
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"arrayValue": {"values": [{"stringValue": v} for v in value]}}


def _attributes(pairs: Iterable[tuple[str, Value]]) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in pairs]


def resource_attributes(
    resource: Resource, service: str, project: str | None
) -> list[tuple[str, Value]]:
    """The attributes of the resource (the writer process) a span belongs to."""
    pairs: list[tuple[str, Value]] = [("service.name", service)]
    if project:
        pairs.append(("openinference.project.name", project))
    if resource.host:
        pairs.append(("host.name", resource.host))
    if resource.pid is not None:
        pairs.append(("process.pid", resource.pid))
    pairs += [
        ("telemetry.sdk.name", "jsontrace"),
        ("telemetry.sdk.language", "python"),
        ("telemetry.sdk.version", __version__),
    ]
    return pairs


def _span(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    out["name"] = span.name
    out["kind"] = SPAN_KIND_INTERNAL
    out["startTimeUnixNano"] = str(span.start_ns)
    out["endTimeUnixNano"] = str(span.end_ns)
    out["attributes"] = _attributes(span.attributes)
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(event.time_ns),
                "name": event.name,
                "attributes": _attributes(event.attributes),
            }
            for event in span.events
        ]
    if span.dropped_events:
        out["droppedEventsCount"] = span.dropped_events
    status: dict[str, Any] = {"code": span.status_code}
    if span.status_message:
        status["message"] = span.status_message
    out["status"] = status
    return out


def traces_data(spans: Iterable[Span], service: str, project: str | None) -> dict[str, Any]:
    """A ``TracesData`` object: the spans grouped by the process that wrote them."""
    by_resource: dict[Resource, list[dict[str, Any]]] = {}
    for span in spans:
        by_resource.setdefault(span.resource, []).append(_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": _attributes(resource_attributes(resource, service, project))
                },
                "scopeSpans": [
                    {"scope": {"name": SCOPE_NAME, "version": __version__}, "spans": spans}
                ],
            }
            for resource, spans in by_resource.items()
        ]
    }


class JsonLinesSink(Sink):
    """Writes each batch as one OTLP/JSON line to a file (appended or new) or to stdout."""

    def __init__(
        self, path: str, service: str, project: str | None = None, *, append: bool = False
    ) -> None:
        self.service = service
        self.project = project
        self.name = "stdout" if path == "-" else path
        # Appending means a state file records what was written: it must be on disk first.
        self._sync = append and path != "-"
        if path == "-":
            self._file: IO[bytes] = os.fdopen(os.dup(1), "wb")
        else:
            try:
                self._file = open(path, "ab" if append else "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise SinkError(f"cannot write {path}: {exc.strerror or exc}") from None

    def send(self, spans: list[Span]) -> Delivery:
        line = orjson.dumps(traces_data(spans, self.service, self.project)) + b"\n"
        try:
            self._file.write(line)
            self._file.flush()
            if self._sync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise SinkError(f"cannot write {self.name}: {exc.strerror or exc}") from None
        return Delivery(accepted=len(spans))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # stdout gone (a closed pipe): all was reported
            self._file.close()
