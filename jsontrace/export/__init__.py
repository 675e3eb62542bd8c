"""Export traces beyond one machine: OpenTelemetry (OTLP) spans, and one trace's original lines.

::

    from jsontrace.export import Exporter, HttpSink, JsonLinesSink, write_trace

    sink = HttpSink("http://127.0.0.1:6006/v1/traces", service="my-app")   # OTLP/HTTP protobuf
    summary = Exporter("logs", sink).run()                                 # or run(follow=True)
    sink = JsonLinesSink("traces.otlp.jsonl", service="my-app")            # OTLP/JSON lines

    with open("bug.jsonl", "wb") as out:                                   # a trace as written
        write_trace("logs", trace_id, out)

``jsontrace export DIR --otlp TARGET`` is the command line of the same code;
``docs/otlp.md`` documents the mapping. Sending over HTTP needs the
``opentelemetry-proto`` package (``pip install 'jsontrace[otlp]'``), imported
only when an :class:`HttpSink` is made; the JSON file form needs nothing more.
"""

from __future__ import annotations

from ._follow import Exporter, Filters, Summary
from ._lines import normalize_trace_id, trace_lines, write_trace
from ._otlp_http import HttpSink
from ._otlp_json import JsonLinesSink
from ._otlp_map import MapOptions, Span, span_of
from ._sink import Delivery, Sink, SinkError
from ._state import State, StateError, default_state_path

__all__ = [
    "Delivery",
    "Exporter",
    "Filters",
    "HttpSink",
    "JsonLinesSink",
    "MapOptions",
    "Sink",
    "SinkError",
    "Span",
    "State",
    "StateError",
    "Summary",
    "default_state_path",
    "normalize_trace_id",
    "span_of",
    "trace_lines",
    "write_trace",
]
