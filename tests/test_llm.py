"""LLM runs record one normalised ``usage`` and the ``model``, from every shape the SDKs and LangSmith use.

The shapes are LangSmith's (``langsmith-sdk``: ``python/langsmith/run_helpers.py``
``_extract_usage`` reads ``usage_metadata`` from the outputs, then from the
metadata; ``_internal/_usage.py`` and ``wrappers/_anthropic.py``
``_create_usage_metadata`` map OpenAI's and Anthropic's ``usage``), and the
SDKs' own values, given here as plain dicts and as objects with attributes:
nothing here imports an SDK.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from jsontrace import get_current_run, trace, traceable
from jsontrace._llm import normalize_usage
from jsontrace.testing import capture_traces


def end_of(traces: Any, name: str) -> dict[str, Any]:
    """The run.end event of the run called *name*, as written."""
    run = traces.run(name)
    return next(e for e in traces.events if e["event"] == "run.end" and e["run_id"] == run.run_id)


OPENAI_USAGE = {
    "prompt_tokens": 312,
    "completion_tokens": 85,
    "total_tokens": 397,
    "prompt_tokens_details": {"cached_tokens": 256, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 0},
}
NORMALISED_OPENAI = {
    "input_tokens": 312,
    "output_tokens": 85,
    "total_tokens": 397,
    "input_token_details": {"cache_read": 256},
    "output_token_details": {"reasoning": 20},
}


def test_langsmith_usage_metadata_in_the_outputs_and_the_model_from_ls_model_name() -> None:
    """An llm run returning LangSmith's ``usage_metadata`` gets it as ``usage``; ``ls_model_name`` names the model.

    As LangSmith's ``_container_end`` -> ``_extract_usage`` (run_helpers.py) reads
    ``outputs["usage_metadata"]``, and its UI the model from metadata ``ls_model_name``.
    """

    @traceable(run_type="llm", metadata={"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"})
    def chat(prompt: str) -> dict[str, Any]:
        usage = {"input_tokens": 312, "output_tokens": 85, "total_tokens": 397,
                 "input_token_details": {"cache_read": 100}, "output_token_details": {"reasoning": 7}}  # fmt: skip
        return {"content": "hi", "usage_metadata": usage}

    with capture_traces() as traces:
        chat("hello")

    end = end_of(traces, "chat")
    assert "gpt-4o-mini" == end["model"]
    assert {"input_tokens": 312, "output_tokens": 85, "total_tokens": 397,
            "input_token_details": {"cache_read": 100}, "output_token_details": {"reasoning": 7}} == end["usage"]  # fmt: skip


def test_usage_metadata_in_the_metadata_as_langsmith_run_tree_set_puts_it() -> None:
    """``usage_metadata`` in the run's metadata counts too: where LangSmith's ``RunTree.set(usage_metadata=...)`` puts it.

    run_trees.py ``RunTree.set`` stores ``extra["metadata"]["usage_metadata"]``;
    run_helpers.py ``_extract_usage`` falls back to it.
    """

    @traceable(run_type="llm")
    def chat() -> str:
        run = get_current_run()
        assert run is not None
        run.add_metadata(
            {"usage_metadata": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}}
        )
        return "text only"

    with capture_traces() as traces:
        chat()

    assert {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7} == end_of(traces, "chat")[
        "usage"
    ]


def test_set_usage_on_any_run_wins_over_what_the_outputs_say() -> None:
    """``run.set_usage(...)`` records usage on any run, in any shape, before usage found in the outputs."""

    @traceable(run_type="llm")
    def chat() -> dict[str, Any]:
        run = get_current_run()
        assert run is not None
        run.set_usage({"prompt_tokens": 40, "completion_tokens": 2})
        return {"usage_metadata": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}

    with capture_traces() as traces:
        chat()
        with trace("manual", metadata={"ls_model_name": "claude-3-5-haiku"}) as block:
            assert block is not None
            block.set_usage({"input_tokens": 9, "output_tokens": 3})

    assert {"input_tokens": 40, "output_tokens": 2, "total_tokens": 42} == end_of(traces, "chat")[
        "usage"
    ]
    manual = end_of(traces, "manual")
    assert {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12} == manual["usage"]
    assert "claude-3-5-haiku" == manual["model"]


def test_openai_completion_returned_as_dict_or_object() -> None:
    """A returned OpenAI chat completion (dict or SDK-like object) gives its usage, details renamed, and its model."""

    @traceable(run_type="llm")
    def as_dict() -> dict[str, Any]:
        return {"id": "c1", "model": "gpt-4o-2024-08-06", "choices": [], "usage": OPENAI_USAGE}

    @traceable(run_type="llm")
    def as_object() -> Any:
        details = SimpleNamespace(cached_tokens=256, audio_tokens=0)
        usage = SimpleNamespace(prompt_tokens=312, completion_tokens=85, total_tokens=397,
                                prompt_tokens_details=details,
                                completion_tokens_details=SimpleNamespace(reasoning_tokens=20))  # fmt: skip
        return SimpleNamespace(id="c2", model="gpt-4o-2024-08-06", usage=usage)

    with capture_traces() as traces:
        as_dict()
        as_object()

    for name in ("as_dict", "as_object"):
        end = end_of(traces, name)
        assert NORMALISED_OPENAI == end["usage"], name
        assert "gpt-4o-2024-08-06" == end["model"]


def test_openai_stream_with_include_usage_chunk() -> None:
    """A generator yielding OpenAI chat chunks: the last chunk's ``usage`` (``include_usage``) and the chunks' model."""

    @traceable(run_type="llm")
    def stream() -> Iterator[dict[str, Any]]:
        for word in ("Hel", "lo"):
            yield {"object": "chat.completion.chunk", "model": "gpt-4o-mini-2024-07-18",
                   "choices": [{"index": 0, "delta": {"content": word}}], "usage": None}  # fmt: skip
        yield {"object": "chat.completion.chunk", "model": "gpt-4o-mini-2024-07-18", "choices": [],
               "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}}  # fmt: skip

    with capture_traces() as traces:
        list(stream())

    end = end_of(traces, "stream")
    assert {"input_tokens": 11, "output_tokens": 2, "total_tokens": 13} == end["usage"]
    assert "gpt-4o-mini-2024-07-18" == end["model"]
    assert 3 == end["chunk_count"] and end["first_chunk_ms"] is not None


async def test_anthropic_stream_events_add_cache_tokens_into_the_input() -> None:
    """Anthropic events: ``message_start``'s usage updated by ``message_delta``'s; cache reads and writes added to the input.

    LangSmith's ``wrappers/_anthropic.py`` ``_create_usage_metadata``: "Anthropic
    cache tokens are ADDITIVE (not subsets of input_tokens like OpenAI)".
    """

    @traceable(run_type="llm")
    async def stream() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "message_start", "message": {"model": "claude-sonnet-4-20250514", "content": [],
               "usage": {"input_tokens": 20, "output_tokens": 1, "cache_read_input_tokens": 100,
                         "cache_creation_input_tokens": 30}}}  # fmt: skip
        yield {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Hi"},
        }
        yield {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 15},
        }
        yield {"type": "message_stop"}

    with capture_traces() as traces:
        assert 4 == len([event async for event in stream()])

    end = end_of(traces, "stream")
    assert {"input_tokens": 150, "output_tokens": 15, "total_tokens": 165,
            "input_token_details": {"cache_read": 100, "cache_creation": 30}} == end["usage"]  # fmt: skip
    assert "claude-sonnet-4-20250514" == end["model"]


def test_anthropic_message_returned() -> None:
    """A returned Anthropic message: its ``usage`` (no total: input plus output) and model."""

    @traceable(run_type="llm")
    def chat() -> dict[str, Any]:
        return {"type": "message", "model": "claude-3-5-haiku-20241022", "content": [{"type": "text", "text": "Hi"}],
                "usage": {"input_tokens": 25, "output_tokens": 7, "cache_read_input_tokens": 0}}  # fmt: skip

    with capture_traces() as traces:
        chat()

    end = end_of(traces, "chat")
    assert {"input_tokens": 25, "output_tokens": 7, "total_tokens": 32} == end["usage"]
    assert "claude-3-5-haiku-20241022" == end["model"]


def test_responses_api_stream_events() -> None:
    """OpenAI Responses events: the usage of ``response.completed``, details renamed."""

    @traceable(run_type="llm")
    def stream() -> Iterator[dict[str, Any]]:
        yield {
            "type": "response.created",
            "response": {"model": "o4-mini", "status": "in_progress", "usage": None},
        }
        yield {"type": "response.output_text.delta", "delta": "Hi"}
        yield {"type": "response.completed", "response": {"model": "o4-mini", "status": "completed",
               "usage": {"input_tokens": 30, "output_tokens": 50, "total_tokens": 80,
                         "input_tokens_details": {"cached_tokens": 10},
                         "output_tokens_details": {"reasoning_tokens": 40}}}}  # fmt: skip

    with capture_traces() as traces:
        list(stream())

    end = end_of(traces, "stream")
    assert {"input_tokens": 30, "output_tokens": 50, "total_tokens": 80,
            "input_token_details": {"cache_read": 10}, "output_token_details": {"reasoning": 40}} == end["usage"]  # fmt: skip
    assert "o4-mini" == end["model"]


def test_usage_survives_process_outputs_that_keeps_only_the_text() -> None:
    """``process_outputs`` recording only the text does not lose the usage: the returned value is read too."""

    @traceable(
        run_type="llm", process_outputs=lambda r: {"text": r["choices"][0]["message"]["content"]}
    )
    def chat() -> dict[str, Any]:
        return {
            "choices": [{"message": {"content": "Hi"}}],
            "usage": OPENAI_USAGE,
            "model": "gpt-4o",
        }

    with capture_traces() as traces:
        chat()

    end = end_of(traces, "chat")
    assert {"text": "Hi"} == end["outputs"]
    assert NORMALISED_OPENAI == end["usage"]


def test_only_llm_runs_read_usage_from_their_outputs() -> None:
    """A chain returning a completion gets no usage (its llm child has it: totals must not count it twice)."""

    @traceable(run_type="llm")
    def llm() -> dict[str, Any]:
        return {"usage": OPENAI_USAGE}

    @traceable
    def chain() -> dict[str, Any]:
        return llm()

    with capture_traces() as traces:
        chain()

    assert "usage" not in end_of(traces, "chain")
    assert "usage" in end_of(traces, "llm")


def test_llm_run_without_usage_or_model_has_neither_key() -> None:
    """An llm run that returns plain text writes no ``usage`` and no ``model``."""

    @traceable(run_type="llm")
    def chat() -> str:
        return "just text"

    with capture_traces() as traces:
        chat()

    end = end_of(traces, "chat")
    assert "usage" not in end and "model" not in end


class Hostile:
    """An output whose every attribute read raises."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("no attributes here")


@pytest.mark.parametrize(
    "value",
    [
        {"usage": {"prompt_tokens": "many", "completion_tokens": -3}},
        {"usage": {"input_tokens": True, "output_tokens": float("nan")}},
        {"usage": "lots"},
        Hostile(),
    ],
    ids=["strings-negatives", "bool-nan", "text", "hostile-object"],
)
def test_bad_usage_is_ignored_and_the_run_ends_normally(value: Any) -> None:
    """Usage that is not counts (strings, negatives, booleans, NaN, a raising object) is left out; the run ends ok."""

    @traceable(run_type="llm")
    def chat() -> Any:
        return value

    with capture_traces() as traces:
        assert value is chat()

    end = end_of(traces, "chat")
    assert "ok" == end["status"]
    assert "usage" not in end


def test_normalize_usage_is_idempotent_and_keeps_stated_costs() -> None:
    """Normalising a normalised usage gives it back; LangSmith's ``*_cost`` keys are kept when stated."""
    once = normalize_usage({**OPENAI_USAGE, "total_cost": 0.5})
    assert {**NORMALISED_OPENAI, "total_cost": 0.5} == once
    assert once == normalize_usage(once)


def test_llm_recognition_imports_no_sdk() -> None:
    """Reading usage and wrapping a client never imports openai or anthropic (they are blocked here)."""
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"openai", "anthropic"}:
            raise ImportError(f"imported {name}")
sys.meta_path.insert(0, Block())
import jsontrace.wrappers, jsontrace.pricing, jsontrace._llm
from types import SimpleNamespace
from jsontrace import traceable
from jsontrace.testing import capture_traces

create = lambda **kw: {"model": kw["model"], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
jsontrace.wrappers.wrap_openai(client)
with capture_traces() as traces:
    client.chat.completions.create(model="gpt-4o-mini", messages=[])
print(traces.events[-1]["usage"]["total_tokens"], traces.events[-1]["model"])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 0 == done.returncode, done.stderr
    assert "7 gpt-4o-mini" == done.stdout.strip()
