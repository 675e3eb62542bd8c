"""jsontrace.wrappers against the real ``openai`` and ``anthropic`` SDKs, talking to tests/fake_llm.py on 127.0.0.1.

What LangSmith's wrappers record is the reference (langsmith-sdk
``python/langsmith/wrappers/_openai.py``, ``_anthropic.py``): run names
``ChatOpenAI``/``ChatAnthropic``, ``llm`` runs, the request as inputs, the
``ls_*`` invocation parameters as metadata, streamed chunks reduced to the
response a call without streaming returns. Where jsontrace promises more (the
SDK's own stream object comes back, an early stop is ``cancelled``), the
tests say so.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

import jsontrace
from jsontrace import traceable
from jsontrace.testing import CapturedTraces, capture_traces
from jsontrace.wrappers import wrap_anthropic, wrap_openai

from .conftest import read_events
from .fake_llm import CACHE_READ_TOKENS, PROMPT_TOKENS, TOOL_ARGUMENTS, FakeLLMServer, reply_text

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
ANTHROPIC_KEY = "sk-ant-api03-" + "Z9y8X7w6V5u4T3s2R1q0" * 2
MESSAGES = [{"role": "user", "content": "Say something about offline traces."}]
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
]
ANTHROPIC_TOOLS = [{"name": "get_weather", "input_schema": {"type": "object"}}]


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as running:
        yield running


@pytest.fixture
def traces() -> Iterator[CapturedTraces]:
    with capture_traces() as captured:
        yield captured


def oai(server: FakeLLMServer, *, asynchronous: bool = False) -> Any:
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return wrap_openai(cls(api_key=OPENAI_KEY, base_url=f"{server.url}/v1", max_retries=0))


def claude(server: FakeLLMServer, *, asynchronous: bool = False) -> Any:
    cls = anthropic.AsyncAnthropic if asynchronous else anthropic.Anthropic
    return wrap_anthropic(cls(api_key=ANTHROPIC_KEY, base_url=server.url, max_retries=0))


def llm_run(traces: CapturedTraces, name: str = "ChatOpenAI") -> Any:
    return traces.run(name)


def message_of(completion: dict[str, Any]) -> dict[str, Any]:
    return dict(completion["choices"][0]["message"])


CHAT_USAGE = {"input_tokens": PROMPT_TOKENS, "output_tokens": 5, "total_tokens": PROMPT_TOKENS + 5}
CLAUDE_USAGE = {
    "input_tokens": PROMPT_TOKENS + CACHE_READ_TOKENS,
    "output_tokens": 5,
    "total_tokens": PROMPT_TOKENS + CACHE_READ_TOKENS + 5,
    "input_token_details": {"cache_read": CACHE_READ_TOKENS},
}


# -- OpenAI: chat completions ----------------------------------------------------------------


def test_openai_chat_completion_is_an_llm_run_under_the_caller(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """create() returns the SDK's ChatCompletion; the run nests under the caller with inputs, ls_* metadata, outputs, usage, model."""
    client = oai(server)

    @traceable
    def answer() -> str:
        completion = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, temperature=0.2, max_tokens=5, seed=7
        )
        assert isinstance(completion, openai.types.chat.ChatCompletion)
        return str(completion.choices[0].message.content)

    assert reply_text(5) == answer()
    run = llm_run(traces)
    assert ("llm", "ok") == (run.run_type, run.status)
    assert traces.run("answer") is run.parent
    assert {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.2,
        "max_tokens": 5,
        "seed": 7,
    } == run.inputs
    assert {"ls_provider": "openai", "ls_model_type": "chat", "ls_model_name": "gpt-4o-mini", "ls_temperature": 0.2,
            "ls_max_tokens": 5, "ls_invocation_params": {"seed": 7}} == run.metadata  # fmt: skip
    assert {"role": "assistant", "content": reply_text(5), "refusal": None} == message_of(
        run.outputs
    )
    assert CHAT_USAGE == run.end["usage"]
    assert "gpt-4o-mini" == run.end["model"]


def test_openai_stream_is_the_sdks_stream_and_each_chunk_is_recorded(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """stream=True returns an openai.Stream that iterates and closes as a context manager; every chunk is a run.chunk.

    The end's outputs look like the completion without streaming (LangSmith's
    ``_reduce_chat``), with the include_usage chunk's usage, and the time to first chunk.
    """
    client = oai(server)
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, openai.Stream)
    assert 200 == stream.response.status_code  # the SDK's attributes are all there
    with stream:
        chunks = list(stream)
    assert all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    assert reply_text(5) == "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    streamed = traces.runs()[-1]
    assert "ok" == streamed.status
    assert [c.to_dict(mode="json") for c in chunks] == streamed.chunks
    assert message_of(plain.to_dict(mode="json")) == message_of(streamed.outputs)
    assert "stop" == streamed.outputs["choices"][0]["finish_reason"]
    assert CHAT_USAGE == streamed.end["usage"]
    assert streamed.first_chunk_ms is not None and streamed.first_chunk_ms <= (
        streamed.duration_ms() or 0
    )
    assert {"include_usage": True} == streamed.metadata["ls_invocation_params"]["stream_options"]


def test_openai_streamed_tool_calls_are_assembled_like_a_returned_one(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """Tool-call deltas (id and name first, arguments in pieces) reduce to the tool_calls of a call without streaming."""
    client = oai(server)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    for _ in client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
    ):
        pass

    returned, streamed = traces.runs()
    expected = message_of(returned.outputs)
    assert TOOL_ARGUMENTS == expected["tool_calls"][0]["function"]["arguments"]
    assert expected["tool_calls"] == message_of(streamed.outputs)["tool_calls"]
    assert None is message_of(streamed.outputs)["content"]
    assert "tool_calls" == streamed.outputs["choices"][0]["finish_reason"]


def test_openai_stream_stopped_early_is_cancelled_with_the_partial_output(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """A consumer that breaks out after three chunks: the run is cancelled, its output what arrived."""
    client = oai(server)
    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=50
    ) as stream:
        for index, _ in enumerate(stream):
            if index == 2:
                break
        assert (
            "cancelled" == llm_run(traces).status
        )  # at the break, not only when the stream closes

    run = llm_run(traces)
    assert 3 == run.chunk_count
    assert reply_text(2) == message_of(run.outputs)["content"]


def test_openai_stream_read_with_next_and_closed(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """next() reads and records like iteration; close() before the end cancels; a dropped stream is cancelled too."""
    client = oai(server)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    first = next(stream)
    assert "assistant" == first.choices[0].delta.role
    stream.close()
    dropped = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(dropped)
    del dropped
    gc.collect()

    closed, collected = traces.runs()
    assert ("cancelled", 1) == (closed.status, closed.chunk_count)
    assert ("cancelled", 1) == (collected.status, collected.chunk_count)


@pytest.mark.parametrize(
    ("model", "error"),
    [("fail-429", openai.RateLimitError), ("fail-500", openai.InternalServerError)],
)
def test_openai_http_errors_propagate_unchanged_and_are_recorded(
    model: str, error: type[Exception], server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """The SDK's own exception reaches the caller (same class, same status); the run ends ``error`` with it."""
    client = oai(server)
    with pytest.raises(error) as raised:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert int(model[-3:]) == raised.value.status_code  # type: ignore[attr-defined]

    run = llm_run(traces)
    assert "error" == run.status
    assert f"openai.{error.__name__}" == run.error["type"]
    assert "fake" in run.error["message"]


def test_openai_error_in_the_middle_of_a_stream(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """An error event after two chunks: the SDK's APIError reaches the consumer; the run is an error with the two chunks."""
    client = oai(server)
    stream = client.chat.completions.create(model="fail-midstream", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass

    run = llm_run(traces)
    assert ("error", 2) == (run.status, run.chunk_count)
    assert reply_text(1) == message_of(run.outputs)["content"]


def test_with_raw_response_is_recorded_with_the_parsed_completion(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """with_raw_response.create still returns the raw response (headers, parse()); the run records the completion."""
    client = oai(server)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert "application/json" == raw.headers["content-type"]
    assert reply_text(5) == raw.parse().choices[0].message.content
    assert CHAT_USAGE == llm_run(traces).end["usage"]


# -- OpenAI: responses -----------------------------------------------------------------------


def test_openai_responses_create_with_and_without_streaming(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """responses.create returns the SDK's Response or Stream; the streamed run reduces to the same response and usage."""
    client = oai(server)
    response = client.responses.create(
        model="gpt-4o-mini", input="Say something.", max_output_tokens=5
    )
    assert reply_text(5) == response.output_text
    events = list(client.responses.create(model="gpt-4o-mini", input="Say something.", stream=True))
    assert "response.completed" == events[-1].type

    returned, streamed = traces.runs()
    assert {"ls_model_name": "gpt-4o-mini", "ls_max_tokens": 5} == {
        k: returned.metadata[k] for k in ("ls_model_name", "ls_max_tokens")
    }
    assert returned.metadata["ls_invocation_params"]["use_responses_api"] is True
    assert CHAT_USAGE == returned.end["usage"] == streamed.end["usage"]
    assert returned.outputs["output"] == streamed.outputs["output"]
    assert len(events) == streamed.chunk_count


def test_openai_responses_stream_stopped_early_keeps_the_text_so_far(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """A Responses stream stopped after two text deltas: cancelled, the message assembled from what arrived."""
    client = oai(server)
    for event in client.responses.create(
        model="gpt-4o-mini", input="x", stream=True, max_output_tokens=20
    ):
        if (
            event.type == "response.output_text.delta"
            and event.delta == reply_text(2)[len(reply_text(1)) :]
        ):
            break

    run = llm_run(traces)
    assert "cancelled" == run.status
    assert reply_text(2) == run.outputs["output"][0]["content"][0]["text"]


# -- OpenAI: async ---------------------------------------------------------------------------


async def test_openai_async_client_create_stream_and_errors(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """AsyncOpenAI: awaited create, an async stream read to its end, and a 429, nested under an async caller."""
    client = oai(server, asynchronous=True)

    @traceable
    async def caller() -> str:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert isinstance(stream, openai.AsyncStream)
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="fail-429", messages=MESSAGES)
        return f"{completion.choices[0].message.content}|{text}"

    assert f"{reply_text(5)}|{reply_text(5)}" == await caller()
    returned, streamed, failed = traces.run("caller").sorted_children()
    assert [("ok", CHAT_USAGE), ("ok", CHAT_USAGE)] == [
        (r.status, r.end["usage"]) for r in (returned, streamed)
    ]
    assert reply_text(5) == message_of(streamed.outputs)["content"]
    assert 8 == streamed.chunk_count
    assert ("error", "openai.RateLimitError") == (failed.status, failed.error["type"])


async def test_openai_async_stream_stopped_early_is_cancelled(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """An async consumer that breaks: the run ends cancelled with the partial output (once the stream is closed)."""
    client = oai(server, asynchronous=True)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=50
    )
    async with stream:
        async for chunk in stream:
            if chunk.choices[0].delta.content == reply_text(1):
                break

    run = llm_run(traces)
    assert ("cancelled", 2) == (run.status, run.chunk_count)
    assert reply_text(1) == message_of(run.outputs)["content"]


async def test_openai_async_responses_stream(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """AsyncOpenAI responses.create(stream=True) records its events and usage."""
    client = oai(server, asynchronous=True)
    stream = await client.responses.create(model="gpt-4o-mini", input="x", stream=True)
    assert "response.completed" == [event async for event in stream][-1].type
    assert ("ok", CHAT_USAGE) == (llm_run(traces).status, llm_run(traces).end["usage"])


# -- OpenAI: the client itself ---------------------------------------------------------------


def test_the_wrapped_client_is_the_client(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """wrap_openai patches in place and returns the same client (a context manager that closes); wrapping twice records once."""
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{server.url}/v1", max_retries=0)
    with wrap_openai(client) as wrapped:
        assert client is wrapped is wrap_openai(client)
        assert f"{server.url}/v1/" == str(client.base_url) and OPENAI_KEY == client.api_key
        assert "create" == client.chat.completions.create.__name__
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert client.is_closed()
    assert 1 == len(traces.runs())


def test_tracing_off_leaves_calls_alone(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """With configure(enabled=False) a wrapped client calls the SDK directly and records nothing."""
    client = oai(server)
    jsontrace.configure(enabled=False)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert type(stream) is openai.Stream
    assert reply_text(5) == "".join(c.choices[0].delta.content or "" for c in stream)
    assert [] == traces.events


def test_api_keys_never_reach_the_files(server: FakeLLMServer, log_dir: Path) -> None:
    """The client's key goes to the server (in a header) but into no event, nor do keys in extra headers or metadata."""
    client = oai(server)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, extra_headers={"X-Api-Key": "hunter2-header"},
                                   metadata={"api_key": "hunter2-metadata"})  # fmt: skip
    for _ in claude(server).messages.create(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES, stream=True
    ):
        pass

    assert f"Bearer {OPENAI_KEY}" == server.requests[0]["headers"]["authorization"]
    assert ANTHROPIC_KEY in " ".join(server.requests[1]["headers"].values())  # x-api-key or Bearer
    written = b"".join(path.read_bytes() for path in log_dir.glob("*.jsonl"))
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "hunter2"):
        assert secret.encode() not in written
    assert "[REDACTED]" == read_events(log_dir)[0]["metadata"]["api_key"]


def test_tracing_extra_adds_metadata_and_tags_to_every_run(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """LangSmith's tracing_extra: its metadata and tags are on every run the wrapped client makes."""
    extra = {"metadata": {"team": "search"}, "tags": ["prod"]}
    openai_client = wrap_openai(
        openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{server.url}/v1"), tracing_extra=extra
    )
    anthropic_client = wrap_anthropic(
        anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=server.url), tracing_extra=extra
    )
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    anthropic_client.messages.create(model="claude-sonnet-4", max_tokens=5, messages=MESSAGES)

    for run in traces.runs():
        assert ("search", ["prod"]) == (run.metadata["team"], run.tags), run.name


# -- Anthropic -------------------------------------------------------------------------------


def test_anthropic_message_is_an_llm_run(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """messages.create returns the SDK's Message; the system prompt is recorded as the first message (as LangSmith does)."""
    client = claude(server)
    message = client.messages.create(model="claude-sonnet-4", max_tokens=5, system="Be brief.", messages=MESSAGES,
                                     stop_sequences=["END"], service_tier="auto")  # fmt: skip
    assert isinstance(message, anthropic.types.Message)

    run = llm_run(traces, "ChatAnthropic")
    assert [{"role": "system", "content": "Be brief."}, *MESSAGES] == run.inputs["messages"]
    assert "system" not in run.inputs
    assert {"ls_provider": "anthropic", "ls_model_type": "chat", "ls_model_name": "claude-sonnet-4",
            "ls_stop": ["END"], "ls_max_tokens": 5, "ls_invocation_params": {"service_tier": "auto"}} == run.metadata  # fmt: skip
    assert [{"type": "text", "text": reply_text(5)}] == run.outputs["content"]
    assert CLAUDE_USAGE == run.end["usage"]


def test_anthropic_create_stream_reduces_to_the_message(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """create(stream=True) returns anthropic.Stream; the raw events reduce to the message create() returns, usage merged."""
    client = claude(server)
    plain = client.messages.create(model="claude-sonnet-4", max_tokens=5, messages=MESSAGES)
    stream = client.messages.create(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES, stream=True
    )
    assert isinstance(stream, anthropic.Stream)
    events = list(stream)

    returned, streamed = traces.runs()
    assert [e.to_dict(mode="json") for e in events] == streamed.chunks
    expected = plain.to_dict(mode="json")
    for key in ("id", "model", "role", "content", "stop_reason", "usage"):
        assert expected[key] == streamed.outputs[key], key
    assert CLAUDE_USAGE == streamed.end["usage"] == returned.end["usage"]
    assert streamed.first_chunk_ms is not None


def test_anthropic_streamed_tool_input_is_parsed(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """input_json_delta pieces become the tool_use block's input, as in the returned message."""
    client = claude(server)
    plain = client.messages.create(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    )
    for _ in client.messages.create(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES, tools=ANTHROPIC_TOOLS, stream=True
    ):
        pass

    streamed = traces.runs()[-1]
    assert plain.to_dict(mode="json")["content"] == streamed.outputs["content"]
    assert "tool_use" == streamed.outputs["stop_reason"]


def test_anthropic_messages_stream_helper(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """messages.stream(...) still gives the SDK's MessageStream: text_stream, get_final_message(); the raw events are recorded."""
    client = claude(server)
    manager = client.messages.stream(model="claude-sonnet-4", max_tokens=5, messages=MESSAGES)
    assert isinstance(manager, anthropic.lib.streaming.MessageStreamManager)
    with manager as stream:
        assert isinstance(stream, anthropic.lib.streaming.MessageStream)
        assert reply_text(5) == "".join(stream.text_stream)
        final = stream.get_final_message()

    run = llm_run(traces, "ChatAnthropic")
    assert "ok" == run.status
    assert final.to_dict(mode="json")["content"] == run.outputs["content"]
    assert ["message_start", "content_block_start"] == [c["type"] for c in run.chunks[:2]]
    assert CLAUDE_USAGE == run.end["usage"]


def test_anthropic_messages_stream_left_early_is_cancelled(
    server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """Leaving the `with` block after the first text: cancelled, the text so far in the output."""
    client = claude(server)
    with client.messages.stream(
        model="claude-sonnet-4", max_tokens=50, messages=MESSAGES
    ) as stream:
        for text in stream.text_stream:
            assert reply_text(1) == text
            break

    run = llm_run(traces, "ChatAnthropic")
    assert "cancelled" == run.status
    assert [{"type": "text", "text": reply_text(1)}] == run.outputs["content"]


@pytest.mark.parametrize(
    ("model", "error"),
    [("fail-429", anthropic.RateLimitError), ("fail-500", anthropic.InternalServerError)],
)
def test_anthropic_errors_propagate_and_are_recorded(
    model: str, error: type[Exception], server: FakeLLMServer, traces: CapturedTraces
) -> None:
    """create() and stream() raise the SDK's exception unchanged; each run ends ``error``."""
    client = claude(server)
    with pytest.raises(error):
        client.messages.create(model=model, max_tokens=5, messages=MESSAGES)
    with pytest.raises(error), client.messages.stream(model=model, max_tokens=5, messages=MESSAGES):
        pass

    assert [("error", f"anthropic.{error.__name__}")] * 2 == [
        (r.status, r.error["type"]) for r in traces.runs()
    ]


async def test_anthropic_async_client(server: FakeLLMServer, traces: CapturedTraces) -> None:
    """AsyncAnthropic: create, create(stream=True) and messages.stream(...) recorded; an early exit cancels."""
    client = claude(server, asynchronous=True)
    message = await client.messages.create(model="claude-sonnet-4", max_tokens=5, messages=MESSAGES)
    stream = await client.messages.create(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES, stream=True
    )
    assert isinstance(stream, anthropic.AsyncStream)
    assert 10 == len([event async for event in stream])
    async with client.messages.stream(
        model="claude-sonnet-4", max_tokens=5, messages=MESSAGES
    ) as helper:
        assert reply_text(5) == "".join([text async for text in helper.text_stream])
    async with client.messages.stream(
        model="claude-sonnet-4", max_tokens=50, messages=MESSAGES
    ) as helper:
        async for _ in helper.text_stream:
            break
    with pytest.raises(anthropic.RateLimitError):
        await client.messages.create(model="fail-429", max_tokens=5, messages=MESSAGES)
    await asyncio.sleep(0)

    runs = traces.runs()
    assert ["ok", "ok", "ok", "cancelled", "error"] == [r.status for r in runs]
    assert [CLAUDE_USAGE] * 3 == [r.end["usage"] for r in runs[:3]]
    assert (
        message.to_dict(mode="json")["content"]
        == runs[1].outputs["content"]
        == runs[2].outputs["content"]
    )
    assert [{"type": "text", "text": reply_text(1)}] == runs[3].outputs["content"]


# -- streams of other shapes -----------------------------------------------------------------


class SelfIterating:
    """A stream whose __iter__ returns itself (reading through __next__), as many hand-made clients have."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self._chunks = iter(chunks)

    def __iter__(self) -> SelfIterating:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._chunks)

    def __aiter__(self) -> SelfIterating:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None

    def close(self) -> None:
        pass


def chunk(text: str) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }


async def test_a_stream_iterating_through_its_own_next_records_each_chunk_once(
    traces: CapturedTraces,
) -> None:
    """A duck-typed client whose stream's __iter__ returns self: each chunk recorded once, sync and async."""
    from types import SimpleNamespace

    def create(**kwargs: Any) -> SelfIterating:
        return SelfIterating([chunk("a"), chunk("b"), chunk("c")])

    async def acreate(**kwargs: Any) -> SelfIterating:
        return create()

    sync_client = wrap_openai(
        SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    )
    async_client = wrap_openai(
        SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=acreate)))
    )
    assert 3 == len(list(sync_client.chat.completions.create(model="m", messages=[], stream=True)))
    stream = await async_client.chat.completions.create(model="m", messages=[], stream=True)
    assert 3 == len([c async for c in stream])

    for run in traces.runs():
        assert ("ok", 3) == (run.status, run.chunk_count)
        assert "abc" == message_of(run.outputs)["content"]
