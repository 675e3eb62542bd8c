"""jsontrace.wrappers._reduce: streamed chunks as the one response a call without streaming returns.

Shapes not produced by tests/fake_llm.py: several choices, parallel tool calls,
Responses-API function calls, streams cut off in the middle of a tool's input,
and chunks that are not what they should be.
"""

from __future__ import annotations

from typing import Any

from jsontrace.wrappers._reduce import reduce_anthropic, reduce_openai_chat, reduce_openai_responses


def chat_chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def test_chat_choices_and_parallel_tool_calls_are_kept_apart() -> None:
    """Deltas are joined per choice index, and tool calls per tool-call index (LangSmith's _reduce_choices)."""
    chunks = [
        chat_chunk(0, {"role": "assistant", "content": "A"}),
        chat_chunk(1, {"role": "assistant", "content": "B"}),
        chat_chunk(0, {"tool_calls": [{"index": 0, "id": "t0", "type": "function", "function": {"name": "f", "arguments": ""}},
                                      {"index": 1, "id": "t1", "type": "function", "function": {"name": "g", "arguments": "{"}}]}),
        chat_chunk(0, {"tool_calls": [{"index": 1, "function": {"arguments": "}"}}, {"index": 0, "function": {"arguments": "[]"}}]}),
        chat_chunk(1, {"content": "b"}, "stop"),
        chat_chunk(0, {}, "tool_calls"),
    ]  # fmt: skip

    completion = reduce_openai_chat(chunks)
    first, second = completion["choices"]
    assert "A" == first["message"]["content"]
    assert [("t0", "f", "[]"), ("t1", "g", "{}")] == [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in first["message"]["tool_calls"]
    ]
    assert ("tool_calls", "stop") == (first["finish_reason"], second["finish_reason"])
    assert "Bb" == second["message"]["content"]
    assert ("c", "chat.completion", "gpt-4o") == (
        completion["id"],
        completion["object"],
        completion["model"],
    )


def test_responses_function_call_arguments_are_assembled_from_deltas() -> None:
    """A function_call item added, then its argument deltas, a stream stopped before response.completed."""
    events = [
        {"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"type": "function_call", "name": "lookup", "call_id": "c1", "arguments": ""}},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"q": '},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '"x"}'},
    ]  # fmt: skip

    response = reduce_openai_responses(events)
    assert "in_progress" == response["status"]
    assert [
        {"type": "function_call", "name": "lookup", "call_id": "c1", "arguments": '{"q": "x"}'}
    ] == response["output"]
    assert "content" not in response["output"][0]


def test_anthropic_tool_input_cut_short_is_kept_as_text_and_thinking_is_joined() -> None:
    """A stream stopped inside a tool's JSON input keeps the text that arrived; thinking deltas join."""
    events = [
        {"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [], "usage": {"input_tokens": 3}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "think."}},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": "Pa'}},
    ]  # fmt: skip

    message = reduce_anthropic(events)
    assert {"type": "thinking", "thinking": "Let me think."} == message["content"][0]
    assert '{"city": "Pa' == message["content"][1]["input"]
    assert {"input_tokens": 3} == message["usage"]


def test_odd_chunks_reduce_to_what_can_be_read() -> None:
    """Chunks that are not dicts, or hold the wrong types, are skipped; nothing raises."""
    odd: list[Any] = [
        None,
        "text",
        3,
        {"choices": "no"},
        {"choices": [None, {"delta": "x"}]},
        {"type": 5},
    ]
    empty = {"role": "assistant", "content": "", "refusal": None}
    assert [{"index": 0, "message": empty, "finish_reason": None}] == reduce_openai_chat(odd)[
        "choices"
    ]
    assert {} == reduce_openai_responses(odd)
    assert {} == reduce_anthropic(odd)
    assert {"id": None, "object": "chat.completion", "choices": []} == reduce_openai_chat([])
