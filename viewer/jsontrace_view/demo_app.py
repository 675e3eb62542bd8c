"""A small fake LLM app, traced with jsontrace: the source of ``--demo`` and ``sample_logs/``.

It answers questions the way a retrieval-augmented agent would: a planning
LLM call, a retriever, tools (one of which fails on bad input), a streaming
answer aggregated with ``reduce_fn``, an async summary stream, and a stream
that its consumer stops early. Nothing here talks to a network.

The fake LLM calls say which model they stand for and how many tokens they
used the ways LangSmith users do (metadata ``ls_model_name``, outputs
``usage_metadata``, ``run.set_usage``), so the viewer shows their tokens and
what they would have cost.

``python -m jsontrace_view.demo_app DIR [--delay S] [--once] [--seed N]`` writes into DIR;
:func:`jsontrace_view.cli.demo_command` starts it safely from any directory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace

import jsontrace
from jsontrace import get_current_run, trace, traceable
from jsontrace.wrappers import wrap_openai

__all__ = ["QUESTIONS", "main", "run_session"]

QUESTIONS = [
    "What is the capital of France, and how big is it?",
    "Compute 17 * 23 for my invoice.",
    "Summarise our refund policy in one sentence.",
    "What is 10 / 0?",
    "Explain [bold]markup[/bold] and \x1b[31mescape\x1b[0m handling in one line.",
    "Write a haiku about offline tracing.",
]

_DOCS = {
    "france": "Paris is the capital of France, with about 2.1 million inhabitants.",
    "refund": "Refunds are accepted within 30 days with a receipt.",
    "haiku": "Logs fall like snow / each line a quiet witness / read without the cloud",
}

_delay = 0.05


def _pause(scale: float = 1.0) -> None:
    time.sleep(_delay * scale * random.uniform(0.5, 1.5))


def _tokens(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i, word in enumerate(words):
        yield word if i == 0 else " " + word


def _count(*texts: str) -> int:
    """A fake tokenizer: about four characters a token."""
    return sum(len(text) for text in texts) // 4 + 1


_PLANNER = "You are a planner. Answer with the tool to use: calculator or retrieve."


def _llm(model: str, provider: str = "openai", **params: object) -> dict[str, object]:
    """LangSmith's metadata for a model call (what langsmith.wrappers records)."""
    return {
        "ls_provider": provider,
        "ls_model_name": model,
        **{f"ls_{k}": v for k, v in params.items()},
    }


@traceable(run_type="llm", metadata=_llm("gpt-4o-mini", temperature=0.0))
def plan(question: str) -> dict[str, object]:
    """Decide which tool to use."""
    _pause(2)
    if any(ch.isdigit() for ch in question):
        decision = {"tool": "calculator", "reason": "the question contains arithmetic"}
    else:
        decision = {"tool": "retrieve", "reason": "the question needs documents"}
    prompt, reply = _count(_PLANNER, question), _count(str(decision))
    usage = {"input_tokens": prompt, "output_tokens": reply, "total_tokens": prompt + reply}
    return {**decision, "usage_metadata": usage}


@traceable(run_type="retriever")
def retrieve(query: str, k: int = 2) -> list[dict[str, object]]:
    _pause(3)
    lowered = query.lower()
    hits = [
        {"id": key, "score": round(random.uniform(0.6, 0.99), 3), "text": text}
        for key, text in _DOCS.items()
        if key in lowered
    ]
    return hits[:k] or [{"id": "none", "score": 0.0, "text": "No document matched."}]


@traceable(run_type="tool")
def calculator(expression: str) -> float:
    _pause()
    left, op, right = expression.split()
    a, b = float(left), float(right)
    if op == "*":
        return a * b
    if op == "/":
        return a / b  # ZeroDivisionError for "10 / 0": a failing tool in the trace
    raise ValueError(f"unsupported operator {op!r}")


@traceable(run_type="llm", reduce_fn="".join, metadata=_llm("gpt-4o", max_tokens=64))
def stream_answer(question: str, context: str, max_tokens: int = 64) -> Iterator[str]:
    _pause(2)  # time to first token
    text = f"Based on the context: {context}"
    sent = 0
    for count, token in enumerate(_tokens(text)):
        if count >= max_tokens:
            break
        _pause(0.4)
        sent += 1
        yield token
    run = get_current_run()
    if run is not None:  # as an API reports it once the stream is done (never for a stopped one)
        run.set_usage({"prompt_tokens": _count(question, context), "completion_tokens": sent})


@traceable(run_type="llm", reduce_fn="".join, metadata=_llm("claude-3-5-haiku", "anthropic"))
async def astream_summary(text: str) -> AsyncIterator[str]:
    tokens = list(_tokens(f"In short: {text[:60]}"))
    for token in tokens:
        await asyncio.sleep(_delay * 0.3)
        yield token
    run = get_current_run()
    if run is not None:  # Anthropic's shape: the cached system prompt comes on top of input_tokens
        run.set_usage(
            {
                "input_tokens": _count(text),
                "output_tokens": len(tokens),
                "cache_read_input_tokens": 900,
            }
        )


class FakeChatStream:
    """Stands in for ``openai.Stream``: chunks as the API streams them, a pause before each."""

    def __init__(self, chunks: list[dict[str, object]]) -> None:
        self._chunks = iter(chunks)

    def __next__(self) -> dict[str, object]:
        _pause(0.3)
        return next(self._chunks)

    def __iter__(self) -> FakeChatStream:
        return self

    def close(self) -> None:
        self._chunks = iter(())


class FakeCompletions:
    """Stands in for ``client.chat.completions``: a canned reply, streamed or whole."""

    def create(
        self, *, model: str, messages: list[dict[str, str]], stream: bool = False, **params: object
    ) -> object:
        _pause(2)
        reply = "Would you like the sources for this answer as well?"
        prompt = _count(*(m["content"] for m in messages))
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(reply.split()),
            "total_tokens": prompt + len(reply.split()),
        }
        head = {"id": "chatcmpl-demo", "created": int(time.time()), "model": f"{model}-2024-07-18"}
        if not stream:
            message = {"role": "assistant", "content": reply}
            return {**head, "object": "chat.completion", "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip
        chunks = [{**head, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": token}}]}
                  for token in _tokens(reply)]  # fmt: skip
        chunks.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        return FakeChatStream(chunks)


class FakeOpenAI:
    """Stands in for ``openai.OpenAI()`` (no network), wrapped by ``jsontrace.wrappers.wrap_openai``."""

    def __init__(self) -> None:
        self.chat = SimpleNamespace(completions=FakeCompletions())


client = wrap_openai(FakeOpenAI())


@traceable(name="suggest_follow_up")
def suggest(question: str) -> str:
    """A wrapped client's streamed call, as with the real SDK: a ChatOpenAI run with its chunks and usage."""
    messages = [
        {"role": "system", "content": "Suggest one follow-up question."},
        {"role": "user", "content": question},
    ]
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    return "".join(chunk["choices"][0]["delta"]["content"] for chunk in stream if chunk["choices"])


@traceable(run_type="parser")
def extract_expression(question: str) -> str:
    words = [w.strip("?.,") for w in question.split()]
    for i, word in enumerate(words):
        if word in {"*", "/"} and 0 < i < len(words) - 1:
            return f"{words[i - 1]} {word} {words[i + 1]}"
    raise ValueError("no arithmetic expression found")


@traceable(name="answer_question", tags=["demo", "rag"])
def answer(question: str, user: str = "demo-user") -> str:
    """The app's entry point: plan, use a tool or retrieve, stream the answer."""
    decision = plan(question)
    if decision["tool"] == "calculator":
        try:
            value = calculator(extract_expression(question))
            context = f"the result is {value:g}"
        except (ValueError, ZeroDivisionError) as exc:
            context = f"the calculator failed ({type(exc).__name__})"
    else:
        docs = retrieve(question)
        context = " ".join(str(doc["text"]) for doc in docs)
    reply = "".join(stream_answer(question, context))
    return f"{reply} {suggest(question)}"


@traceable(name="preview_then_stop", tags=["demo"])
def preview(question: str, words: int = 4) -> str:
    """A consumer that stops a stream early: the stream ends as cancelled."""
    shown = []
    for token in stream_answer(question, "a preview that the reader cuts short after a few words"):
        shown.append(token)
        if len(shown) >= words:
            break
    return "".join(shown)


@traceable(name="summarise_async", tags=["demo", "async"])
async def summarise(question: str) -> str:
    parts = await asyncio.gather(
        _collect(astream_summary(question)), _collect(astream_summary(question[::-1]))
    )
    return " / ".join(parts)


async def _collect(stream: AsyncIterator[str]) -> str:
    return "".join([token async for token in stream])


def run_session(
    directory: Path,
    *,
    delay: float,
    once: bool,
    seed: int | None = None,
    questions: list[str] = QUESTIONS,
) -> None:
    """Answer *questions* (forever, unless *once*) with tracing into *directory*."""
    global _delay
    _delay = delay
    random.seed(seed)
    jsontrace.configure(dir=directory)
    while True:
        for question in questions:
            with trace("session", inputs={"question": question}, tags=["demo"]) as run:
                reply = answer(question)
                if run is not None:
                    run.set_outputs({"reply": reply})
                    run.add_metadata({"reply_chars": len(reply)})
            preview(question)
            asyncio.run(summarise(question))
            _pause(4)
        if once:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jsontrace_view.demo_app", description=__doc__.splitlines()[0]
    )
    parser.add_argument("directory", type=Path, help="where to write the trace files")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per simulated step")
    parser.add_argument("--once", action="store_true", help="answer each question once, then exit")
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed, for reproducible files"
    )
    parser.add_argument(
        "--only",
        type=int,
        nargs="*",
        default=None,
        metavar="N",
        help="ask only these questions (0-based)",
    )
    args = parser.parse_args(argv)
    questions = QUESTIONS if args.only is None else [QUESTIONS[i] for i in args.only]
    try:
        run_session(
            args.directory, delay=args.delay, once=args.once, seed=args.seed, questions=questions
        )
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
