"""The viewer shows llm calls: model, tokens, cost and speed on their lines, totals on the trace's, chat in the detail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsontrace import pricing
from jsontrace_view.app import TraceViewer

from .conftest import TraceFiles, wait_for
from .test_app import detail_text, labels, loaded

USAGE = {
    "input_tokens": 312,
    "output_tokens": 85,
    "total_tokens": 397,
    "input_token_details": {"cache_read": 256},
}
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is jsontrace?"},
]
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Offline tracing."},
            "finish_reason": "stop",
        }
    ],
}
METADATA = {
    "ls_provider": "openai",
    "ls_model_name": "gpt-4o-mini",
    "ls_temperature": 0.2,
    "ls_invocation_params": {"seed": 7},
}


def write_trace(files: TraceFiles) -> None:
    """A chain with two llm calls: one returned, one streamed (first chunk at 300 ms of 1.3 s)."""
    files.start("agent")
    files.start("call", "agent", trace="agent", run_type="llm", name="ChatOpenAI", metadata=METADATA,
                inputs={"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2})  # fmt: skip
    files.end(
        "call",
        trace="agent",
        outputs=COMPLETION,
        model="gpt-4o-mini",
        usage=USAGE,
        duration_ms=820.0,
    )
    files.start("stream", "agent", trace="agent", run_type="llm", name="ChatAnthropic",
                metadata={"ls_provider": "anthropic", "ls_model_name": "claude-sonnet-4"}, inputs={"messages": MESSAGES})  # fmt: skip
    files.chunk(
        "stream",
        0,
        {"type": "message_start", "message": {"role": "assistant", "content": []}},
        trace="agent",
    )
    files.end("stream", trace="agent", outputs={"role": "assistant", "content": [{"type": "text", "text": "Hi"}]},
              model="claude-sonnet-4", usage={"input_tokens": 100, "output_tokens": 200, "total_tokens": 300},
              duration_ms=1300.0, first_chunk_ms=300.0, chunk_count=1)  # fmt: skip
    files.end("agent", duration_ms=2500.0)


async def test_llm_lines_show_model_tokens_and_cost_and_the_trace_its_totals(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """The trace's line shows Σ tokens and cost; each llm line its model, tokens, cost; a stream its tokens per second."""
    write_trace(files)
    app = make_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot)
        # 312 in, 256 of them cached: (56 * 0.15 + 256 * 0.075 + 85 * 0.60) / 1e6; then sonnet's 100 in, 200 out.
        mini = (56 * 0.15 + 256 * 0.075 + 85 * 0.60) / 1e6
        sonnet = (100 * 3.0 + 200 * 15.0) / 1e6
        assert f"Σ 412→285 tok  ${mini + sonnet:.4f}" in labels(app)[0]

        await pilot.press("enter")
        await wait_for(pilot, lambda: len(labels(app)) == 3)
        call, stream = labels(app)[1:]
        assert "ChatOpenAI  llm  gpt-4o-mini  312→85 tok  $0.000079  820 ms" in call
        assert (
            "ChatAnthropic  llm  claude-sonnet-4  100→200 tok  $0.0033  1.30 s  200 tok/s" in stream
        )


async def test_detail_shows_model_parameters_usage_cost_and_chat_messages(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """Selecting an llm call: model and provider, parameters, tokens with details, cost and price; messages by role."""
    write_trace(files)
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await pilot.press("enter", "down")
        await wait_for(pilot, lambda: "Model and usage" in detail_text(app))

        text = detail_text(app)
        assert "model  gpt-4o-mini (openai)" in text
        assert "parameters  temperature 0.2, seed 7" in text
        assert "tokens  312→85 tok, 397 in all" in text
        assert "of which  input cache_read 256" in text
        assert "cost  $0.000079  (input $0.000028, output $0.000051)" in text
        assert (
            f"at $0.15 in, $0.6 out, $0.075 cached per 1M tokens (defaults of {pricing.DEFAULT_PRICES_AS_OF})"
            in text
        )
        # Messages as role and text, not JSON; the rest of the request below them.
        assert "system\nBe brief.\nuser\nWhat is jsontrace?" in text
        assert '"role": "system"' not in text
        assert '"temperature": 0.2' in text
        assert "assistant\nOffline tracing." in text


async def test_trace_detail_shows_totals_and_an_unpriced_model_says_how_to_price_it(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """A trace's detail adds up its calls; a call of a model without a price says how to add one."""
    files.start("root")
    files.start("local", "root", trace="root", run_type="llm", inputs={"messages": MESSAGES})
    files.end(
        "local",
        trace="root",
        model="my-local-llama",
        usage={"input_tokens": 5, "output_tokens": 6, "total_tokens": 11},
    )
    files.end("root")
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "Totals" in detail_text(app))
        text = detail_text(app)
        assert "llm calls  1" in text and "tokens  5→6 tok, 11 in all" in text
        assert "no price for these models" in text
        assert "Σ 5→6 tok" in labels(app)[0] and "$" not in labels(app)[0]

        await pilot.press("enter", "down")
        await wait_for(pilot, lambda: "Model and usage" in detail_text(app))
        assert "no price for 'my-local-llama': add it with JSONTRACE_PRICES" in detail_text(app)


async def test_a_running_sdk_stream_shows_its_message_so_far(
    files: TraceFiles, make_app: Callable[..., TraceViewer]
) -> None:
    """While a wrapped OpenAI stream runs, the detail pane shows the assistant's text so far, not the chunk list."""
    files.start("gen", run_type="llm", name="ChatOpenAI", inputs={"messages": MESSAGES})

    def delta(text: str) -> dict[str, Any]:
        return {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}}],
        }

    files.chunk(
        "gen",
        0,
        {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"role": "assistant"}}],
        },
    )
    files.chunk("gen", 1, delta("Offline "))
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "assistant\nOffline" in detail_text(app))
        files.chunk("gen", 2, delta("tracing."))
        await wait_for(pilot, lambda: "assistant\nOffline tracing." in detail_text(app))
        assert "chat.completion.chunk" not in detail_text(app)
