"""One run as one OpenTelemetry span: ids, times, status, OpenInference and ``gen_ai.*`` attributes.

The mapping is the same for every encoding: it builds a :class:`Span` of plain
Python values, which :mod:`._otlp_json` writes as OTLP/JSON and
:mod:`._otlp_http` as protobuf. ``docs/otlp.md`` documents it with an example.

Why these choices:

* **Ids from the UUIDs.** The trace id is the trace's UUID (16 bytes); a span id
  is the *last* 8 bytes of the run's UUIDv7: the variant bits and 62 random bits,
  never the timestamp, so runs made in the same millisecond do not collide. The
  same run always gets the same span id, so sending it again is idempotent
  where the backend dedupes. Ids that are not UUIDs (other writers) are hashed.
* **Statuses.** ``ok`` is OK, ``error`` is ERROR with the error's summary and an
  ``exception`` event; ``interrupted`` (the writer died first) is ERROR too;
  ``cancelled`` (the consumer stopped early) is not a failure and stays UNSET.
  ``jsontrace.status`` always says which of the four it was.
* **Chunks as events**, the first ``max_chunk_events`` of each run; the rest are
  counted in the span's ``droppedEventsCount`` and ``jsontrace.chunk_events.dropped``.
  The time to the first chunk is its own event, named as OpenInference's
  instrumentations name it, and ``gen_ai.response.time_to_first_chunk``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

import orjson

from .. import pricing
from ..store import ERROR, INTERRUPTED, OK

if TYPE_CHECKING:
    from ..store import RunRecord

__all__ = [
    "FIRST_CHUNK_EVENT",
    "STATUS_ERROR",
    "STATUS_OK",
    "STATUS_UNSET",
    "Event",
    "MapOptions",
    "Resource",
    "Span",
    "Value",
    "parse_iso",
    "parse_ts_ns",
    "span_id_hex",
    "span_of",
    "trace_id_hex",
    "usage_and_model",
]

#: An attribute value: what OTLP's ``AnyValue`` holds for us (lists hold strings only).
Value = str | bool | int | float | list[str]

# Span.Status.StatusCode (trace.proto).
STATUS_UNSET: Final = 0
STATUS_OK: Final = 1
STATUS_ERROR: Final = 2

#: The event OpenInference's instrumentations add when a stream's first chunk arrives.
FIRST_CHUNK_EVENT: Final = "First Token Stream Event"
CHUNK_EVENT: Final = "run.chunk"
EXCEPTION_EVENT: Final = "exception"

JSON_MIME: Final = "application/json"
TEXT_MIME: Final = "text/plain"

# run_type -> openinference.span.kind. Parsers and unknown types are glue code: CHAIN.
_SPAN_KINDS: Final[Mapping[str, str]] = {
    "llm": "LLM",
    "chat_model": "LLM",
    "chain": "CHAIN",
    "tool": "TOOL",
    "retriever": "RETRIEVER",
    "embedding": "EMBEDDING",
    "prompt": "PROMPT",
    "parser": "CHAIN",
    "agent": "AGENT",
    "reranker": "RERANKER",
    "guardrail": "GUARDRAIL",
    "evaluator": "EVALUATOR",
}
_DEFAULT_KIND: Final = "CHAIN"

# Metadata keys that name a conversation or a user. LangSmith groups runs into threads by
# session_id, thread_id or conversation_id; OpenInference calls that session.id.
_SESSION_KEYS: Final = ("session_id", "session.id", "thread_id", "conversation_id")
_USER_KEYS: Final = ("user_id", "user.id")

# The normalised usage object's detail keys -> (OpenInference name, gen_ai name or None).
_INPUT_DETAILS: Final[Mapping[str, tuple[str, str | None]]] = {
    "cache_read": (
        "llm.token_count.prompt_details.cache_read",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    "cache_creation": (
        "llm.token_count.prompt_details.cache_write",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    "audio": ("llm.token_count.prompt_details.audio", None),
}
_OUTPUT_DETAILS: Final[Mapping[str, tuple[str, str | None]]] = {
    "reasoning": (
        "llm.token_count.completion_details.reasoning",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    "audio": ("llm.token_count.completion_details.audio", None),
}

_INT64_MAX: Final = 2**63 - 1
_INTERRUPTED_MESSAGE: Final = "interrupted: the writing process ended before the run did"


@dataclass(frozen=True, slots=True)
class Resource:
    """The writer a span came from: OTLP groups spans under one resource per process."""

    host: str
    pid: int | None


@dataclass(slots=True)
class Event:
    """A span event: when, what, and its attributes."""

    time_ns: int
    name: str
    attributes: list[tuple[str, Value]]


@dataclass(slots=True)
class Span:
    """One run as an OTLP span, in plain values (ids as lowercase hex, times in Unix ns)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: list[tuple[str, Value]]
    events: list[Event]
    dropped_events: int
    status_code: int
    status_message: str
    resource: Resource
    #: The run's id as written (what the exporter's bookkeeping goes by).
    run_id: str = field(default="")


@dataclass(frozen=True, slots=True)
class MapOptions:
    """Settings of the mapping: how many chunk events a span keeps."""

    max_chunk_events: int = 100


# -- ids -------------------------------------------------------------------------


def _uuid_hex(text: str) -> str | None:
    """The 32 lowercase hex digits of a UUID written as text, or ``None``."""
    digits = text.replace("-", "")
    if len(digits) != 32:
        return None
    try:
        bytes.fromhex(digits)
    except ValueError:
        return None
    return digits.lower()


def _hashed(text: str, size: int) -> str:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:size]
    if not any(digest):  # all zeros is OTLP's "no id"
        digest = b"\x01" + digest[1:]
    return digest.hex()


def trace_id_hex(trace_id: str) -> str:
    """The OTLP trace id (32 hex digits) of a jsontrace trace id."""
    return _uuid_hex(trace_id) or _hashed(trace_id, 16)


def span_id_hex(run_id: str) -> str:
    """The OTLP span id (16 hex digits) of a run id: the random last 8 bytes of its UUIDv7."""
    digits = _uuid_hex(run_id)
    if digits is None or digits[16:] == "0" * 16:
        return _hashed(run_id, 8)
    return digits[16:]


# -- times -----------------------------------------------------------------------

# Epoch seconds of "YYYY-MM-DDTHH:MM:SS" prefixes already parsed: chunk stamps of one
# run share their seconds, so most stamps cost a slice and a dict look-up.
_seconds_cache: dict[str, int] = {}


def parse_ts_ns(ts: object) -> int | None:
    """A jsontrace time stamp (RFC 3339, UTC) as Unix nanoseconds, or ``None``."""
    if not isinstance(ts, str):
        return None
    # The writer's shape: 2026-11-24T07:00:41.123456Z
    if len(ts) == 27 and ts[19] == "." and ts[26] == "Z":
        head = ts[:19]
        seconds = _seconds_cache.get(head)
        if seconds is None:
            try:
                second = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
            except ValueError:
                return None
            if len(_seconds_cache) > 4096:
                _seconds_cache.clear()
            seconds = _seconds_cache[head] = int(second.timestamp())
        micros = ts[20:26]
        if micros.isdigit():
            return seconds * 1_000_000_000 + int(micros) * 1000
    moment = parse_iso(ts)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1000


_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)")


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 date or time; ``Z`` and any number of fraction digits on every Python.

    (``datetime.fromisoformat`` takes neither ``Z`` nor, say, ``.5`` before 3.11.)
    """
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "00000")[:6], text.strip())
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ns(seconds: float | None) -> int | None:
    # Epoch seconds as a float hold microseconds exactly (2**53 > 2e15): round to them.
    return None if seconds is None else round(seconds * 1_000_000) * 1000


# -- values ----------------------------------------------------------------------


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


def _value_of(value: Any) -> tuple[str, str]:
    """``(text, mime type)`` for ``input.value`` / ``output.value``: text stays text."""
    if isinstance(value, str):
        return value, TEXT_MIME
    return _json(value), JSON_MIME


def attribute_value(value: Any) -> Value:
    """A JSON value as an attribute: scalars as they are, lists of text as arrays, else JSON text."""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if -_INT64_MAX - 1 <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return _json(value)


def _count(value: object) -> int | None:
    if type(value) is int and 0 <= value <= _INT64_MAX:
        return value
    if type(value) is float and value.is_integer() and 0 <= value <= _INT64_MAX:
        return int(value)
    return None


# -- usage and model -------------------------------------------------------------


def usage_and_model(record: RunRecord) -> tuple[Mapping[str, Any], str | None]:
    """The run's normalised token usage (``{}`` if none) and model name, as the run model reads them."""
    return record.usage or {}, record.model


def _llm_attributes(record: RunRecord, out: list[tuple[str, Value]]) -> None:
    """Model, provider, token counts and cost (worked out now, from jsontrace.pricing)."""
    usage, model = usage_and_model(record)
    if model is not None:
        out += [("llm.model_name", model), ("gen_ai.request.model", model)]
    provider = record.provider
    if provider is not None:
        out += [("llm.provider", provider), ("gen_ai.provider.name", provider)]
    if not usage:
        return
    _usage_attributes(usage, out)
    cost = pricing.cost(model, record.usage)
    if cost is not None:
        out.append(("llm.cost.total", cost.total))
        if cost.input is not None:
            out.append(("llm.cost.prompt", cost.input))
        if cost.output is not None:
            out.append(("llm.cost.completion", cost.output))


def _usage_attributes(usage: Mapping[str, Any], out: list[tuple[str, Value]]) -> None:
    prompt = _count(usage.get("input_tokens"))
    completion = _count(usage.get("output_tokens"))
    total = _count(usage.get("total_tokens"))
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    if prompt is not None:
        out.append(("llm.token_count.prompt", prompt))
        out.append(("gen_ai.usage.input_tokens", prompt))
    if completion is not None:
        out.append(("llm.token_count.completion", completion))
        out.append(("gen_ai.usage.output_tokens", completion))
    if total is not None:
        out.append(("llm.token_count.total", total))
    for key, names in (
        ("input_token_details", _INPUT_DETAILS),
        ("output_token_details", _OUTPUT_DETAILS),
    ):
        details = usage.get(key)
        if not isinstance(details, Mapping):
            continue
        for detail, (openinference, gen_ai) in names.items():
            value = _count(details.get(detail))
            if value is None:
                continue
            out.append((openinference, value))
            if gen_ai is not None:
                out.append((gen_ai, value))


# -- the span ----------------------------------------------------------------------


def _first_of(metadata: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
        if type(value) is int:
            return str(value)
    return None


def _attributes(record: RunRecord, status: str) -> list[tuple[str, Value]]:
    run_type = record.run_type
    attributes: list[tuple[str, Value]] = [
        ("openinference.span.kind", _SPAN_KINDS.get(run_type, _DEFAULT_KIND)),
    ]
    inputs = record.inputs
    if inputs is not None:
        text, mime = _value_of(inputs)
        attributes += [("input.value", text), ("input.mime_type", mime)]
    outputs = record.outputs
    if outputs is None and status == INTERRUPTED and record.chunks:
        outputs = record.streamed()[1]  # what it had streamed before it died
    if outputs is not None:
        text, mime = _value_of(outputs)
        attributes += [("output.value", text), ("output.mime_type", mime)]
    metadata = record.metadata
    if metadata:
        attributes.append(("metadata", _json(metadata)))
        session = _first_of(metadata, _SESSION_KEYS)
        if session is not None:
            attributes.append(("session.id", session))
        user = _first_of(metadata, _USER_KEYS)
        if user is not None:
            attributes.append(("user.id", user))
    tags = record.tags
    if tags:
        attributes.append(("tag.tags", tags))
    _llm_attributes(record, attributes)
    first_chunk_ms = record.first_chunk_ms
    if first_chunk_ms is not None:
        attributes.append(("gen_ai.response.time_to_first_chunk", first_chunk_ms / 1000))
    attributes += [
        ("jsontrace.run_id", record.run_id),
        ("jsontrace.run_type", run_type),
        ("jsontrace.status", status),
        ("jsontrace.chunk_count", record.chunk_count),
    ]
    warnings = record.trace_warnings
    if warnings:
        attributes.append(("jsontrace.trace_warnings", warnings))
    return attributes


def _status(record: RunRecord, status: str) -> tuple[int, str]:
    if status == OK:
        return STATUS_OK, ""
    if status == ERROR:
        return STATUS_ERROR, record.error_summary
    if status == INTERRUPTED:
        return STATUS_ERROR, _INTERRUPTED_MESSAGE
    return STATUS_UNSET, ""  # cancelled: stopped by its consumer, not a failure


def _exception(record: RunRecord, end_ns: int) -> Event | None:
    error = record.error
    if error is None:
        return None
    attributes: list[tuple[str, Value]] = []
    kind, message = error.get("type"), error.get("message")
    if isinstance(kind, str) and kind:
        attributes.append(("exception.type", kind))
    if message is not None:
        attributes.append(
            ("exception.message", message if isinstance(message, str) else _json(message))
        )
    stacktrace = record.traceback
    if stacktrace:
        attributes.append(("exception.stacktrace", stacktrace))
    return Event(end_ns, EXCEPTION_EVENT, attributes)


def _start_ns(record: RunRecord) -> int:
    return _ns(record.started_at) or parse_ts_ns(record.end_ts) or 0


def _end_ns(record: RunRecord, start_ns: int) -> int:
    duration = record.duration_ms()
    if duration is not None:
        return start_ns + round(duration * 1_000_000)
    return max(start_ns, _ns(record.ended_at) or start_ns)


def _ends_below(record: RunRecord) -> list[int]:
    """When the runs under *record* ended: an interrupted run lasts at least that long.

    (Its own last event may be its start, while its children went on until the writer died.)
    """
    ends: list[int] = []
    stack = list(record.children)
    while stack:
        run = stack.pop()
        if run.started_at is not None:
            ends.append(_end_ns(run, _start_ns(run)))
        stack.extend(run.children)
    return ends


def span_of(
    record: RunRecord,
    chunks: Sequence[tuple[int, int, Any]] = (),
    options: MapOptions = MapOptions(),
) -> Span:
    """The span of a run that is no longer running (finished, or interrupted).

    *chunks* are ``(seq, time in Unix ns, value)`` of the run's first chunks in seq
    order, as the exporter kept them (the run model keeps chunk values, not their
    times); at most ``options.max_chunk_events`` become events.
    """
    status = record.status
    start_ns = _start_ns(record)
    end_ns = _end_ns(record, start_ns)
    if status == INTERRUPTED:
        end_ns = max([end_ns, *_ends_below(record)])
    events: list[Event] = []
    first_chunk_ms = record.first_chunk_ms
    if first_chunk_ms is not None:
        events.append(Event(start_ns + round(first_chunk_ms * 1_000_000), FIRST_CHUNK_EVENT, []))
    kept = chunks[: max(0, options.max_chunk_events)]
    for seq, time_ns, value in kept:
        events.append(
            Event(time_ns, CHUNK_EVENT, [("seq", seq), ("chunk", attribute_value(value))])
        )
    dropped = max(0, record.chunk_count - len(kept))
    exception = _exception(record, end_ns)
    if exception is not None:
        events.append(exception)
    attributes = _attributes(record, status)
    if dropped:
        attributes.append(("jsontrace.chunk_events.dropped", dropped))
    code, message = _status(record, status)
    parent = record.parent_run_id
    return Span(
        trace_id=trace_id_hex(record.trace_id or record.run_id),
        span_id=span_id_hex(record.run_id),
        parent_span_id=span_id_hex(parent) if parent else "",
        name=record.name,
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=attributes,
        events=events,
        dropped_events=dropped,
        status_code=code,
        status_message=message,
        resource=Resource(record.host, record.pid),
        run_id=record.run_id,
    )
