"""A streamed response's chunks reduced to the one response a call without ``stream=True`` returns.

Each reducer takes the chunks as recorded (plain dicts, as the SDK's
``to_dict()`` gives them) and never raises on odd ones: a stream cut short
(cancelled, failed) reduces to what arrived. The shapes follow LangSmith's
reducers (langsmith-sdk ``python/langsmith/wrappers/_openai.py`` ``_reduce_chat``,
``_reduce_response_events``; ``_anthropic.py`` ``_reduce_chat_chunks``),
working on dicts so that the SDKs are not needed to read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["reduce_anthropic", "reduce_openai_chat", "reduce_openai_responses"]

# Keys a chat completion takes from its chunks (the last chunk that has them wins).
_CHAT_KEYS = ("id", "created", "model", "system_fingerprint", "service_tier")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _append(target: dict[str, Any], key: str, text: Any) -> None:
    if isinstance(text, str):
        before = target.get(key)
        target[key] = (before if isinstance(before, str) else "") + text


def _index(value: Any, default: int = 0) -> int:
    return value if type(value) is int and value >= 0 else default


class _Choice:
    """One choice being assembled from deltas."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.role = "assistant"
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.function_call: dict[str, Any] | None = None
        self.finish_reason: Any = None
        self.logprobs: list[Any] | None = None

    def add(self, choice: Mapping[str, Any]) -> None:
        delta = _dict(choice.get("delta"))
        if isinstance(delta.get("role"), str):
            self.role = delta["role"]
        if isinstance(delta.get("content"), str):
            self.content.append(delta["content"])
        if isinstance(delta.get("refusal"), str):
            self.refusal.append(delta["refusal"])
        for call in _list(delta.get("tool_calls")):
            call = _dict(call)
            slot = self.tool_calls.setdefault(
                _index(call.get("index"), len(self.tool_calls)),
                {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
            )
            for key in ("id", "type"):
                if call.get(key):
                    slot[key] = call[key]
            function = _dict(call.get("function"))
            _append(slot["function"], "name", function.get("name"))
            _append(slot["function"], "arguments", function.get("arguments"))
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            if self.function_call is None:
                self.function_call = {"name": "", "arguments": ""}
            _append(self.function_call, "name", legacy.get("name"))
            _append(self.function_call, "arguments", legacy.get("arguments"))
        if choice.get("finish_reason") is not None:
            self.finish_reason = choice["finish_reason"]
        logprobs = _dict(choice.get("logprobs")).get("content")
        if isinstance(logprobs, list):
            self.logprobs = (self.logprobs or []) + logprobs

    def result(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": self.role,
            # A reply that only calls tools has no content, as without streaming.
            "content": "".join(self.content) if self.content or not self.tool_calls else None,
            "refusal": "".join(self.refusal) if self.refusal else None,
        }
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if self.function_call is not None:
            message["function_call"] = self.function_call
        choice: dict[str, Any] = {
            "index": self.index,
            "message": message,
            "finish_reason": self.finish_reason,
        }
        if self.logprobs is not None:
            choice["logprobs"] = {"content": self.logprobs}
        return choice


def reduce_openai_chat(chunks: list[Any]) -> dict[str, Any]:
    """Chat Completions chunks as one ``chat.completion``: content joined, tool calls assembled, usage."""
    head: dict[str, Any] = {}
    usage: Any = None
    choices: dict[int, _Choice] = {}
    for chunk in chunks:
        chunk = _dict(chunk)
        for key in _CHAT_KEYS:
            if chunk.get(key) is not None:
                head[key] = chunk[key]
        for choice in _list(chunk.get("choices")):
            choice = _dict(choice)
            index = _index(choice.get("index"))
            choices.setdefault(index, _Choice(index)).add(choice)
        if chunk.get("usage") is not None:  # the last chunk, with include_usage
            usage = chunk["usage"]
    # In the order of a completion returned without streaming.
    completion = {"id": head.pop("id", None), "object": "chat.completion", **head}
    completion["choices"] = [choices[i].result() for i in sorted(choices)]
    if usage is not None:
        completion["usage"] = usage
    return completion


def reduce_openai_responses(events: list[Any]) -> dict[str, Any]:
    """Responses-API stream events as the ``response`` they build.

    The whole response comes with ``response.completed`` (or ``incomplete``,
    ``failed``); a stream stopped before that is assembled from its output
    items and text deltas.
    """
    response: dict[str, Any] = {}
    output: list[Any] = []
    for event in events:
        event = _dict(event)
        kind = event.get("type")
        if kind in (
            "response.created",
            "response.in_progress",
            "response.queued",
            "response.completed",
            "response.incomplete",
            "response.failed",
        ):
            response = dict(_dict(event.get("response")))
            if response.get("output"):
                output = list(_list(response.get("output")))
            continue
        at = _index(event.get("output_index"), len(output))
        if kind in ("response.output_item.added", "response.output_item.done"):
            while len(output) <= at:
                output.append({})
            item = dict(_dict(event.get("item")))
            if "content" in item:  # copied: the deltas below add to it
                item["content"] = [dict(_dict(part)) for part in _list(item["content"])]
            output[at] = item
        elif at < len(output):
            _apply_item_event(_dict(output[at]), kind, event)
    if output:
        response["output"] = output
    return response


def _apply_item_event(item: dict[str, Any], kind: Any, event: dict[str, Any]) -> None:
    if kind == "response.function_call_arguments.delta":
        _append(item, "arguments", event.get("delta"))
        return
    content = item.setdefault("content", [])
    at = _index(event.get("content_index"), len(content))
    if kind in ("response.content_part.added", "response.content_part.done"):
        while len(content) <= at:
            content.append({})
        content[at] = dict(_dict(event.get("part")))
    elif at < len(content):
        if kind == "response.output_text.delta":
            _append(content[at], "text", event.get("delta"))
        elif kind == "response.refusal.delta":
            _append(content[at], "refusal", event.get("delta"))


def reduce_anthropic(events: list[Any]) -> dict[str, Any]:
    """Anthropic stream events as one ``message``: text joined, tool inputs parsed, usage updated."""
    message: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    partial_json: dict[int, str] = {}
    for event in events:
        event = _dict(event)
        kind = event.get("type")
        if kind == "message_start":
            message = dict(_dict(event.get("message")))
            blocks = [dict(_dict(b)) for b in _list(message.get("content"))]
            message["usage"] = dict(_dict(message.get("usage")))
        elif kind == "content_block_start":
            at = _index(event.get("index"), len(blocks))
            while len(blocks) <= at:
                blocks.append({})
            blocks[at] = dict(_dict(event.get("content_block")))
        elif kind == "content_block_delta":
            at = _index(event.get("index"))
            if at < len(blocks):
                _apply_delta(blocks[at], _dict(event.get("delta")), partial_json, at)
        elif kind == "message_delta":
            delta = _dict(event.get("delta"))
            message.update(
                {k: v for k, v in delta.items() if k in ("stop_reason", "stop_sequence")}
            )
            usage = _dict(event.get("usage"))
            message["usage"] = {
                **_dict(message.get("usage")),
                **{k: v for k, v in usage.items() if v is not None},
            }
    for at, text in partial_json.items():
        try:
            blocks[at]["input"] = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            blocks[at]["input"] = text  # cut short: what arrived, as text
    if message or blocks:
        message["content"] = blocks
    return message


def _apply_delta(
    block: dict[str, Any], delta: dict[str, Any], partial_json: dict[int, str], at: int
) -> None:
    kind = delta.get("type")
    if kind == "text_delta":
        _append(block, "text", delta.get("text"))
    elif kind == "input_json_delta":
        text = delta.get("partial_json")
        if isinstance(text, str):
            partial_json[at] = partial_json.get(at, "") + text
    elif kind == "thinking_delta":
        _append(block, "thinking", delta.get("thinking"))
    elif kind == "signature_delta":
        _append(block, "signature", delta.get("signature"))
    elif kind == "citations_delta" and "citation" in delta:
        block["citations"] = [*_list(block.get("citations")), delta["citation"]]
