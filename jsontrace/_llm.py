"""What LLM-shaped values say about tokens and models, read without importing any SDK.

An ``llm`` run's end event gets one normalised ``usage`` object and the
``model`` where they can be found (:func:`annotate`). The shapes understood,
read through keys (dicts) or attributes (the SDKs' pydantic objects) alike:

* LangSmith's ``UsageMetadata``: ``input_tokens``, ``output_tokens``,
  ``total_tokens``, ``input_token_details`` (``cache_read``, ``audio`` ...),
  ``output_token_details`` (``reasoning`` ...), optionally stated costs;
* OpenAI Chat Completions: ``prompt_tokens``, ``completion_tokens``,
  ``prompt_tokens_details.cached_tokens``, ``completion_tokens_details.reasoning_tokens``;
* OpenAI Responses: ``input_tokens``, ``output_tokens``, ``input_tokens_details``,
  ``output_tokens_details``;
* Anthropic: ``input_tokens``, ``output_tokens``, ``cache_read_input_tokens``,
  ``cache_creation_input_tokens``. These cache counts come *on top of*
  ``input_tokens``, so they are added in, as LangSmith's ``wrap_anthropic``
  does: ``input_tokens`` always counts every prompt token.

The mapping follows LangSmith's ``_create_usage_metadata`` (langsmith-sdk,
``python/langsmith/_internal/_usage.py`` and ``wrappers/_anthropic.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from . import format as fmt
from ._errors import report_once, safe_repr
from .format import Usage

__all__ = ["annotate", "model_of", "normalize_usage", "usage_of_chunks", "usage_of_output"]

#: Values that are never a usage object or a response: skipped without a look.
_PLAIN = (str, bytes, bytearray, int, float, bool, list, tuple)

# Detail names of the SDKs -> LangSmith's detail names.
_INPUT_DETAILS = {"cached_tokens": "cache_read", "audio_tokens": "audio"}
_OUTPUT_DETAILS = {
    "reasoning_tokens": "reasoning",
    "audio_tokens": "audio",
    "accepted_prediction_tokens": "accepted_prediction",
    "rejected_prediction_tokens": "rejected_prediction",
}
_COSTS = ("input_cost", "output_cost", "total_cost")
# The events that carry a whole Responses-API response.
_RESPONSE_EVENTS = frozenset(
    {"response.created", "response.completed", "response.incomplete", "response.failed"}
)


def field(value: Any, key: str) -> Any:
    """``value[key]`` for a mapping, ``value.key`` for an object (an SDK model); None if absent."""
    if isinstance(value, Mapping):
        return value.get(key)
    if value is None or isinstance(value, _PLAIN):
        return None
    try:
        return getattr(value, key, None)
    except Exception:  # a hostile __getattr__ is not ours to raise
        return None


def _count(value: Any) -> int | None:
    if type(value) is int:
        return value if value >= 0 else None
    if type(value) is float and math.isfinite(value) and value >= 0 and value.is_integer():
        return int(value)
    return None


def _details(value: Any, names: Mapping[str, str] | None) -> dict[str, int]:
    """Token details as ``{name: count}``; *names* renames the SDK's keys (None: keep all)."""
    if value is None:
        return {}
    if names is None:
        items = value.items() if isinstance(value, Mapping) else ()
        return {k: n for k, v in items if isinstance(k, str) and (n := _count(v)) is not None}
    found = {}
    for key, name in names.items():
        count = _count(field(value, key))
        if count:
            found[name] = count
    return found


def normalize_usage(value: Any) -> Usage | None:
    """*value* in any shape above as one :class:`~jsontrace.format.Usage`; None if it is none of them."""
    if value is None or isinstance(value, _PLAIN):
        return None
    prompt, completion = (
        _count(field(value, "prompt_tokens")),
        _count(field(value, "completion_tokens")),
    )
    if prompt is not None or completion is not None:  # OpenAI Chat Completions
        tokens_in, tokens_out = prompt or 0, completion or 0
        details_in = _details(field(value, "prompt_tokens_details"), _INPUT_DETAILS)
        details_out = _details(field(value, "completion_tokens_details"), _OUTPUT_DETAILS)
    else:
        found_in, found_out = (
            _count(field(value, "input_tokens")),
            _count(field(value, "output_tokens")),
        )
        if found_in is None and found_out is None:
            return None
        tokens_in, tokens_out = found_in or 0, found_out or 0
        details_in = {
            **_details(field(value, "input_token_details"), None),  # LangSmith's
            **_details(field(value, "input_tokens_details"), _INPUT_DETAILS),  # Responses
        }
        details_out = {
            **_details(field(value, "output_token_details"), None),
            **_details(field(value, "output_tokens_details"), _OUTPUT_DETAILS),
        }
        # Anthropic's cache reads and writes are not part of its input_tokens.
        for key, name in (
            ("cache_read_input_tokens", "cache_read"),
            ("cache_creation_input_tokens", "cache_creation"),
        ):
            extra = _count(field(value, key))
            if extra:
                details_in[name] = extra
                tokens_in += extra
    total = _count(field(value, "total_tokens"))
    usage: Usage = {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "total_tokens": total if total is not None else tokens_in + tokens_out,
    }
    if details_in:
        usage["input_token_details"] = details_in
    if details_out:
        usage["output_token_details"] = details_out
    for key in _COSTS:
        cost = field(value, key)
        if type(cost) in (int, float) and math.isfinite(cost) and cost >= 0:
            usage[key] = float(cost)  # type: ignore[literal-required]  # key is one of _COSTS
    return usage


def usage_of_output(value: Any) -> Usage | None:
    """The usage an output states: LangSmith's ``usage_metadata``, else an SDK response's ``usage``."""
    if value is None or isinstance(value, _PLAIN):
        return None
    return normalize_usage(field(value, "usage_metadata")) or normalize_usage(field(value, "usage"))


def usage_of_chunks(chunks: Iterable[Any]) -> Usage | None:
    """The usage streamed chunks carry, from the SDKs' stream formats.

    OpenAI Chat Completions: the last chunk with ``usage`` (sent with
    ``stream_options={"include_usage": True}``). Anthropic: ``message_start``'s
    ``message.usage``, updated by each ``message_delta``'s cumulative ``usage``.
    OpenAI Responses: the ``response`` of ``response.completed`` (or incomplete, failed).
    """
    found: Any = None
    merged: dict[str, Any] | None = None  # Anthropic's, built from several events
    for chunk in chunks:
        if chunk is None or isinstance(chunk, _PLAIN):
            continue
        kind = field(chunk, "type")
        if kind == "message_start":
            start = field(field(chunk, "message"), "usage")
            merged = dict(_items(start))
        elif kind == "message_delta":
            merged = {
                **(merged or {}),
                **{k: v for k, v in _items(field(chunk, "usage")) if v is not None},
            }
        elif kind in _RESPONSE_EVENTS:
            usage = field(field(chunk, "response"), "usage")
            if usage is not None:
                found = usage
        else:
            usage = field(chunk, "usage")
            if usage is not None:
                found = usage
    if merged is not None:
        return normalize_usage(merged)
    return normalize_usage(found)


def _items(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        return value.items()
    dump = getattr(value, "model_dump", None)  # an SDK object that was not dumped yet
    if callable(dump):
        try:
            dumped = dump()
        except Exception:
            return ()
        return dumped.items() if isinstance(dumped, dict) else ()
    return ()


def _model_field(value: Any) -> str | None:
    model = field(value, "model")
    return model if isinstance(model, str) and model else None


def model_of(
    metadata: Mapping[str, Any], outputs: Iterable[Any], chunks: Iterable[Any]
) -> str | None:
    """The model's name: metadata ``ls_model_name`` (LangSmith's), else what the response says, else metadata ``model``."""
    named = metadata.get("ls_model_name")
    if isinstance(named, str) and named:
        return named
    for output in outputs:
        model = _model_field(output)
        if model:
            return model
    for chunk in chunks:
        if chunk is None or isinstance(chunk, _PLAIN):
            continue
        model = (
            _model_field(chunk)
            or _model_field(field(chunk, "message"))
            or _model_field(field(chunk, "response"))
        )
        if model:
            return model
    model = metadata.get("model")
    return model if isinstance(model, str) and model else None


def annotate(
    event: dict[str, Any],
    *,
    explicit: Any,
    outputs: tuple[Any, ...],
    chunks: list[Any],
    metadata: Mapping[str, Any],
    name: str,
) -> None:
    """Add ``model`` and ``usage`` to an llm run's end *event*, where they can be found.

    Usage, first found wins: *explicit* (``run.set_usage``), ``usage_metadata``
    in the *outputs* (LangSmith's place), ``usage_metadata`` in the *metadata*
    (where LangSmith's ``run_tree.set(usage_metadata=...)`` puts it), an SDK
    response's ``usage`` in the *outputs* (recorded, then as returned), the
    *chunks*. Never raises: a failure is reported once and the event goes out
    without the keys.
    """
    try:
        usage = normalize_usage(explicit)
        if usage is None:
            for output in outputs:
                usage = normalize_usage(field(output, "usage_metadata"))
                if usage is not None:
                    break
        if usage is None:
            usage = normalize_usage(metadata.get("usage_metadata"))
        if usage is None:
            for output in outputs:
                usage = normalize_usage(field(output, "usage"))
                if usage is not None:
                    break
        if usage is None and chunks:
            usage = usage_of_chunks(chunks)
        model = model_of(metadata, outputs, chunks)
    except Exception as exc:
        report_once(f"llm:{name}", f"could not read the token usage of {name!r}: {safe_repr(exc)}")
        return
    if model is not None:
        event[fmt.MODEL] = model
    if usage is not None:
        event[fmt.USAGE] = usage
