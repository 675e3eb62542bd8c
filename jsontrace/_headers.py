"""The headers that carry a trace into another process: ``langsmith-trace``, ``baggage``, ``traceparent``.

Written by ``to_headers()``, read back into a :class:`RemoteParent` that new
runs nest under. ``docs/format.md`` ("Traces that cross processes") gives the
exact bytes, so that other writers (the TypeScript package) match them:

* ``langsmith-trace``: LangSmith's dotted order, one ``<UTC start><run id>``
  segment per run from the trace's root down to the run, joined by ``.``;
* ``baggage``: W3C baggage members ``langsmith-metadata`` (JSON),
  ``langsmith-tags`` (comma-joined) and ``langsmith-project``, percent-encoded
  as LangSmith writes them;
* ``traceparent``: W3C trace context, ``00-<trace id, 32 hex>-<the run id's
  last 16 hex digits (the random part of a UUIDv7)>-01``.

Nothing here raises for bad input: a malformed header is reported once and
ignored, and the caller goes on with what is left.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import report_once, safe_repr

if TYPE_CHECKING:
    import re

    from ._run import Run

__all__ = [
    "BAGGAGE",
    "HEADER_NAMES",
    "LANGSMITH_TRACE",
    "PROJECT",
    "REFERENCE_EXAMPLE_ID",
    "TRACEPARENT",
    "RemoteParent",
    "dotted_order",
    "find_headers",
    "parse_dotted_order",
    "parse_headers",
    "parse_traceparent",
    "segment",
    "to_headers",
]

LANGSMITH_TRACE = "langsmith-trace"
BAGGAGE = "baggage"
TRACEPARENT = "traceparent"
HEADER_NAMES = (LANGSMITH_TRACE, BAGGAGE, TRACEPARENT)

#: Metadata key that holds LangSmith's project (``project_name``); travels as ``langsmith-project``.
PROJECT = "project"
#: Metadata key of ``reference_example_id``: the run's own, neither inherited nor sent.
REFERENCE_EXAMPLE_ID = "reference_example_id"

_METADATA_MEMBER = "langsmith-metadata"
_TAGS_MEMBER = "langsmith-tags"
_PROJECT_MEMBER = "langsmith-project"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
# strftime("%Y%m%dT%H%M%S%fZ"), as LangSmith parses it (%f takes 1 to 6 digits).
_STAMP = r"\d{8}T\d{6}\d{1,6}Z\Z"
# W3C trace context level 1, as the OpenTelemetry SDK reads it.
_TRACEPARENT = r"[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?[ \t]*\Z"
_UUID_LENGTH = 36
_EXCERPT = 120


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # Compiled on first use: importing re is a noticeable part of `from jsontrace
    # import traceable` when nothing else has loaded it.
    import re

    return re.compile(pattern)


class RemoteParent:
    """A run in another process (or service) that runs here continue under.

    Only its ids travel, with the tags and metadata the caller sent in
    ``baggage``; its events are in the caller's files, not here.
    """

    __slots__ = ("dotted_order", "metadata", "parent_run_id", "run_id", "tags", "trace_id")

    def __init__(
        self,
        *,
        trace_id: str,
        run_id: str,
        dotted_order: str,
        parent_run_id: str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.run_id = run_id
        self.dotted_order = dotted_order
        self.parent_run_id = parent_run_id
        self.tags = tags if tags is not None else []
        self.metadata = metadata if metadata is not None else {}

    def __repr__(self) -> str:
        return f"<RemoteParent run_id={self.run_id} trace_id={self.trace_id}>"


# -- writing --------------------------------------------------------------------------


def segment(start_ns: int, run_id: str) -> str:
    """One dotted-order segment: the start as ``%Y%m%dT%H%M%S%fZ`` (UTC, microseconds), then the id."""
    seconds, micros = divmod(start_ns // 1000, 1_000_000)
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}{micros:06d}Z{run_id}"


def dotted_order(node: Run | RemoteParent) -> str:
    """LangSmith's dotted order of *node*: a segment per run from its trace's root down to it."""
    parts: list[str] = []
    current: Any = node
    while current is not None and not isinstance(current, RemoteParent):
        parts.append(segment(current._start_ns, current.run_id))
        current = current._parent
    if current is not None:
        parts.append(current.dotted_order)
    return ".".join(reversed(parts))


def traceparent(trace_id: str, run_id: str) -> str:
    """W3C ``traceparent``: the trace UUID's 32 hex digits, the run UUID's last 16 (its random part)."""
    return f"00-{trace_id.replace('-', '')}-{run_id.replace('-', '')[-16:]}-01"


def to_headers(node: Run | RemoteParent) -> dict[str, str]:
    """``langsmith-trace``, ``baggage`` (when there is something to carry) and ``traceparent`` of *node*."""
    headers = {LANGSMITH_TRACE: dotted_order(node)}
    try:
        baggage = format_baggage(node.metadata, node.tags)
    except Exception as exc:  # the ids travel even if the metadata cannot
        report_once("headers:write", f"could not write the baggage header: {safe_repr(exc)}")
        baggage = ""
    if baggage:
        headers[BAGGAGE] = baggage
    headers[TRACEPARENT] = traceparent(node.trace_id, node.run_id)
    return headers


def format_baggage(metadata: Mapping[str, Any], tags: Iterable[str]) -> str:
    """The ``baggage`` value LangSmith writes: metadata as JSON, tags comma-joined, the project."""
    from urllib.parse import quote  # only here: most processes never write headers

    members = []
    carried = {k: v for k, v in metadata.items() if k != PROJECT and k != REFERENCE_EXAMPLE_ID}
    if carried:
        members.append(f"{_METADATA_MEMBER}={quote(_metadata_json(carried))}")
    tag_list = list(tags)
    if tag_list:
        members.append(f"{_TAGS_MEMBER}={quote(','.join(tag_list))}")
    project = metadata.get(PROJECT)
    if isinstance(project, str) and project:
        members.append(f"{_PROJECT_MEMBER}={quote(project)}")
    return ",".join(members)


def _metadata_json(metadata: dict[str, Any]) -> str:
    import orjson

    from ._config import CONFIG
    from ._serialize import default, to_jsonable

    if CONFIG.redact:
        # Headers leave the process (proxies log them): scrub secrets as the files are.
        metadata = _redactor()(None, "headers", {"metadata": metadata})["metadata"]
    options = orjson.OPT_NON_STR_KEYS
    try:
        return orjson.dumps(metadata, default=default, option=options).decode()
    except (TypeError, orjson.JSONEncodeError):
        clean = to_jsonable(metadata, max_chars=CONFIG.max_chars, max_items=CONFIG.max_items)
        return orjson.dumps(clean, option=options).decode()


_redactors: dict[tuple[Any, ...], Any] = {}


def _redactor() -> Any:
    from ._config import CONFIG
    from ._redact import Redactor

    key = (CONFIG.redact_keys, CONFIG.redact_patterns)
    redactor = _redactors.get(key)
    if redactor is None:
        _redactors.clear()
        redactor = _redactors[key] = Redactor(keys=key[0], patterns=key[1])
    return redactor


# -- reading --------------------------------------------------------------------------


def find_headers(headers: object) -> dict[str, str]:
    """Our three headers out of a mapping or a list of pairs, any case, str or bytes.

    A repeated ``baggage`` is joined with commas (as HTTP combines it); of
    the other two the first one counts.
    """
    if isinstance(headers, Mapping):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, Iterable) and not isinstance(headers, (str, bytes)):
        items = headers
    else:
        return {}
    found: dict[str, str] = {}
    for item in items:
        try:
            key, value = item
        except (TypeError, ValueError):
            continue
        name = _text(key).strip().lower()
        if name not in HEADER_NAMES:
            continue
        text = _text(value)
        if name == BAGGAGE and name in found:
            found[name] = f"{found[name]},{text}"
        else:
            found.setdefault(name, text)
    return found


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")  # HTTP header bytes
    return value if isinstance(value, str) else str(value)


def parse_headers(headers: object) -> RemoteParent | None:
    """The run *headers* continue, or None when they name none (or only malformed ones)."""
    found = find_headers(headers)
    parent = None
    if LANGSMITH_TRACE in found:
        parent = parse_dotted_order(found[LANGSMITH_TRACE])
    if parent is None and TRACEPARENT in found:
        parent = parse_traceparent(found[TRACEPARENT])
    if parent is not None and BAGGAGE in found:
        parent.metadata, parent.tags = parse_baggage(found[BAGGAGE])
    return parent


def parse_dotted_order(text: str) -> RemoteParent | None:
    """A LangSmith dotted order as the run it ends with, or None (reported once) if malformed."""
    segments = []
    for part in text.strip().split("."):
        stamp, run_id = part[:-_UUID_LENGTH], part[-_UUID_LENGTH:].lower()
        if not _compiled(_STAMP).match(stamp) or not _compiled(_UUID).match(run_id):
            _malformed(
                LANGSMITH_TRACE,
                text,
                "expected <YYYYmmddTHHMMSSffffffZ><uuid> segments joined by '.'",
            )
            return None
        segments.append((stamp, run_id))
    return RemoteParent(
        trace_id=segments[0][1],
        run_id=segments[-1][1],
        parent_run_id=segments[-2][1] if len(segments) > 1 else None,
        dotted_order=".".join(stamp + run_id for stamp, run_id in segments),
    )


def parse_traceparent(text: str) -> RemoteParent | None:
    """A W3C ``traceparent`` as the run to continue, or None (reported once) if malformed.

    The parent span is only 64 bits: when it is not a run of ours, there is no
    run id to name. The continued run keeps the trace id (the 32 hex digits as
    a UUID) and names the span as ``00000000-0000-0000-<16 hex digits>``, so
    span ids derived from run ids (their last 16 hex digits) point back at the
    caller's span. The sampled flag is ignored: every run is recorded.
    """
    match = _compiled(_TRACEPARENT).match(text)
    if match is None:
        _malformed(TRACEPARENT, text, "expected 00-<32 hex>-<16 hex>-<2 hex>")
        return None
    version, trace_hex, span_hex, _flags, rest = match.groups()
    if (
        version == "ff"
        or (version == "00" and rest)
        or set(trace_hex) == {"0"}
        or set(span_hex) == {"0"}
    ):
        _malformed(TRACEPARENT, text, "an invalid version or an all-zero id")
        return None
    trace_id = (
        f"{trace_hex[:8]}-{trace_hex[8:12]}-{trace_hex[12:16]}-{trace_hex[16:20]}-{trace_hex[20:]}"
    )
    span_run_id = f"00000000-0000-0000-{span_hex[:4]}-{span_hex[4:]}"
    now = time.time_ns()
    return RemoteParent(
        trace_id=trace_id,
        run_id=span_run_id,
        dotted_order=f"{segment(now, trace_id)}.{segment(now, span_run_id)}",
    )


def parse_baggage(text: str) -> tuple[dict[str, Any], list[str]]:
    """Metadata (with ``project``) and tags from LangSmith's baggage members; other members are ignored."""
    from urllib.parse import unquote

    import orjson

    metadata: dict[str, Any] = {}
    tags: list[str] = []
    project = None
    for member in text.split(","):
        key, sep, value = member.partition("=")
        if not sep:
            continue
        key, value = key.strip(), unquote(value.split(";", 1)[0].strip())
        if key == _METADATA_MEMBER:
            try:
                decoded = orjson.loads(value)
            except orjson.JSONDecodeError:
                decoded = None
            if isinstance(decoded, dict):
                metadata = decoded
            else:
                _malformed(BAGGAGE, text, f"{_METADATA_MEMBER} is not a JSON object")
        elif key == _TAGS_MEMBER:
            tags = [tag for tag in value.split(",") if tag]
        elif key == _PROJECT_MEMBER and value:
            project = value
    if project is not None:
        metadata[PROJECT] = project
    return metadata, tags


def _malformed(header: str, value: str, expected: str) -> None:
    excerpt = value if len(value) <= _EXCERPT else value[:_EXCERPT] + "…"
    report_once(
        f"headers:{header}",
        f"ignoring a malformed {header} header {safe_repr(excerpt)} ({expected}); "
        "the run starts without that parent",
    )
