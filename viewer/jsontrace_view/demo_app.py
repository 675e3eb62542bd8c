"""A small fake LLM app, traced with jsontrace: the source of ``--demo`` and ``sample_logs/``.

It answers questions the way a retrieval-augmented agent would: a planning
LLM call, a retriever, tools (one of which fails on bad input), a streaming
answer aggregated with ``reduce_fn``, an async summary stream, and a stream
that its consumer stops early. Nothing here talks to a network.

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

import jsontrace
from jsontrace import trace, traceable

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


@traceable(run_type="llm", metadata={"model": "fake-gpt-mini", "temperature": 0.0})
def plan(question: str) -> dict[str, str]:
    """Decide which tool to use."""
    _pause(2)
    if any(ch.isdigit() for ch in question):
        return {"tool": "calculator", "reason": "the question contains arithmetic"}
    return {"tool": "retrieve", "reason": "the question needs documents"}


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


@traceable(run_type="llm", reduce_fn="".join, metadata={"model": "fake-gpt-mini", "stream": True})
def stream_answer(question: str, context: str, max_tokens: int = 64) -> Iterator[str]:
    _pause(2)  # time to first token
    text = f"Based on the context: {context}"
    for count, token in enumerate(_tokens(text)):
        if count >= max_tokens:
            return
        _pause(0.4)
        yield token


@traceable(run_type="llm", reduce_fn="".join, metadata={"model": "fake-gpt-mini"})
async def astream_summary(text: str) -> AsyncIterator[str]:
    for token in _tokens(f"In short: {text[:60]}"):
        await asyncio.sleep(_delay * 0.3)
        yield token


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
    return "".join(stream_answer(question, context))


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
