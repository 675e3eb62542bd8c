"""The jsontrace file format, version 1: names shared by the writer and the reader.

One JSON object per line, UTF-8, each line ending in ``\\n``. Every event has
:data:`EVENT`, :data:`RUN_ID`, :data:`TRACE_ID`, :data:`VERSION` and
:data:`TS`, written in that order so that ``grep`` output reads well.
``docs/format.md`` describes every field with examples.

This module is deliberately tiny and dependency-free: the viewer, the doctor
and third-party readers import it without pulling in the writer.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict

__all__ = [
    "CANCELLED",
    "CHUNK",
    "CHUNK_COUNT",
    "CHUNK_LINE_PREFIX",
    "CHUNK_SEQ",
    "CHUNK_VALUE",
    "DURATION_MS",
    "END",
    "ERROR",
    "ERROR_STATUS",
    "EVENT",
    "FILE_PREFIX",
    "FILE_SUFFIX",
    "FIRST_CHUNK_MS",
    "FORMAT_VERSION",
    "HOST",
    "INPUTS",
    "METADATA",
    "MODEL",
    "NAME",
    "OK",
    "OUTPUTS",
    "PARENT_RUN_ID",
    "PID",
    "REDACTED",
    "RUN_ID",
    "RUN_TYPE",
    "START",
    "STATUS",
    "STATUSES",
    "TAGS",
    "TRACE_ID",
    "TRACE_WARNINGS",
    "TRUNCATION_MARK",
    "TS",
    "USAGE",
    "VERSION",
    "Status",
    "Usage",
]

FORMAT_VERSION: Final = 1

# Event kinds.
START: Final = "run.start"
CHUNK: Final = "run.chunk"
END: Final = "run.end"

# Keys every event has, in the order they are written.
EVENT: Final = "event"
RUN_ID: Final = "run_id"
TRACE_ID: Final = "trace_id"
VERSION: Final = "v"
TS: Final = "ts"

# run.start
PARENT_RUN_ID: Final = "parent_run_id"
NAME: Final = "name"
RUN_TYPE: Final = "run_type"
INPUTS: Final = "inputs"
TAGS: Final = "tags"
METADATA: Final = "metadata"
PID: Final = "pid"
HOST: Final = "host"

# run.chunk
CHUNK_SEQ: Final = "seq"
CHUNK_VALUE: Final = "chunk"

# run.end (TAGS and METADATA appear here too when they changed while the run ran;
# they then hold the complete, final values)
STATUS: Final = "status"
OUTPUTS: Final = "outputs"
ERROR: Final = "error"
CHUNK_COUNT: Final = "chunk_count"
DURATION_MS: Final = "duration_ms"
FIRST_CHUNK_MS: Final = "first_chunk_ms"
# Optional on run.end, for llm runs (and runs given usage explicitly): the model's name
# and one normalised token usage object (:class:`Usage`), whatever shape the SDK used.
MODEL: Final = "model"
USAGE: Final = "usage"

# Optional on any event: dotted paths of values replaced by the redaction processor.
REDACTED: Final = "redacted"
# Optional on run.end: problems inside jsontrace itself (a raising reduce_fn, say),
# recorded so the trace explains why an output is missing.
TRACE_WARNINGS: Final = "trace_warnings"

Status = Literal["ok", "error", "cancelled"]


class _UsageTokens(TypedDict):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Usage(_UsageTokens, total=False):
    """The ``usage`` object of ``run.end``: LangSmith's ``UsageMetadata`` keys.

    ``input_tokens`` counts every prompt token, cached ones included (Anthropic's
    cache reads and writes are added in, as LangSmith does), so the details are
    parts of it: ``input_token_details`` has ``cache_read``, ``cache_creation``,
    ``audio``; ``output_token_details`` has ``reasoning``, ``audio``. The costs
    (US dollars) appear only when the traced code stated them itself.
    """

    input_token_details: dict[str, int]
    output_token_details: dict[str, int]
    input_cost: float
    output_cost: float
    total_cost: float


OK: Final = "ok"
ERROR_STATUS: Final = "error"
CANCELLED: Final = "cancelled"
STATUSES: Final = frozenset({OK, ERROR_STATUS, CANCELLED})

# A truncated string ends with this mark followed by the number of characters dropped
# and "]": "abc…[truncated 1234 chars]".  Truncated lists and dicts end with one
# extra item/key holding the same kind of mark.
TRUNCATION_MARK: Final = "…[truncated "

# How the writer starts every chunk line: the keys above in order, compact JSON, then the
# run id and '",'. A reader may file such a line under its run id without decoding it
# (the viewer does: decoding chunk lines was most of the cost of opening a directory)
# and decode it when the run's chunks are wanted.
CHUNK_LINE_PREFIX: Final = f'{{"{EVENT}":"{CHUNK}","{RUN_ID}":"'.encode()

# Segment files: "<prefix><UTC start>-<host>-<pid>-<segment>.jsonl".
FILE_PREFIX: Final = "trace-"
FILE_SUFFIX: Final = ".jsonl"
