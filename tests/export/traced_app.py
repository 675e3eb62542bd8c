"""A small traced LLM app whose trace directory the export tests send out (run as a script).

``python traced_app.py DIR`` writes, with the library itself:

* trace ``answer`` (chain, session and user in its metadata, tags): a ``retrieve``
  retriever, a streaming ``generate`` llm run with the model in ``ls_model_name`` and
  LangSmith's ``usage_metadata`` in its reduced output, and a ``calculator`` tool that
  raises ``ZeroDivisionError`` (the chain catches it and still ends ok);
* trace ``doomed`` (chain) with a ``stuck`` llm child that streams two chunks, then
  the process dies with ``os._exit``: both runs stay without an end, interrupted.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import jsontrace
from jsontrace import traceable

USAGE = {"input_tokens": 42, "output_tokens": 3, "total_tokens": 45}
CHUNKS = ["Paris", " is", " the capital."]


def _reduce(chunks: list[str]) -> dict[str, Any]:
    return {"content": "".join(chunks), "usage_metadata": USAGE}


@traceable(run_type="retriever")
def retrieve(query: str) -> list[str]:
    return [f"doc about {query}"]


@traceable(run_type="llm", reduce_fn=_reduce, metadata={"ls_model_name": "fake-gpt-mini"})
def generate(prompt: str) -> Iterator[str]:
    yield from CHUNKS


@traceable(run_type="tool")
def calculator(a: float, b: float) -> float:
    return a / b


@traceable(name="answer", tags=["export-test"], metadata={"session_id": "s-1", "user_id": "u-1"})
def answer(question: str) -> str:
    docs = retrieve(question)
    text = "".join(generate(f"{docs[0]}: {question}"))
    with contextlib.suppress(ZeroDivisionError):
        calculator(1, 0)
    return text


@traceable(run_type="llm")
def stuck(prompt: str) -> Iterator[str]:
    yield "half"
    yield " an answer"
    os._exit(0)  # the writer dies mid-stream: no run.end for this run or its parent


@traceable
def doomed() -> str:
    return "".join(stuck("never finishes"))


def main(directory: str) -> None:
    jsontrace.configure(dir=directory)
    answer("What is the capital of France?")
    doomed()


if __name__ == "__main__":
    main(sys.argv[1])
