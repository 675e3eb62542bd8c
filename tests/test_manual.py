"""trace(...) blocks and changing the current run while it runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import jsontrace
from jsontrace import get_current_run, trace, traceable
from jsontrace.testing import capture_traces


def test_trace_block_records_inputs_outputs_and_nests() -> None:
    """A trace() block is a run with inputs and set outputs; traced calls inside are children."""

    @traceable
    def step() -> int:
        return 1

    with capture_traces() as traces:
        with trace("block", run_type="retriever", inputs={"q": "x"}, tags=["t"]) as run:
            assert run is get_current_run()
            step()
            assert run is not None
            run.set_outputs(["doc"])
        assert None is get_current_run()
    block = traces.run("block")
    assert (
        block.status,
        block.outputs,
        block.inputs,
        block.start["tags"],
    ) == ("ok", ["doc"], {"q": "x"}, ["t"])
    assert block.start["run_type"] == "retriever"
    assert block.run_id == traces.run("step").parent_run_id


def test_trace_block_error_is_recorded_and_propagates() -> None:
    """An exception leaving a trace() block ends the run as error and is raised unchanged."""
    with capture_traces() as traces, pytest.raises(KeyError), trace("failing"):
        raise KeyError("missing")
    run = traces.run("failing")
    assert run.status == "error"
    assert run.error["type"] == "KeyError"


async def test_trace_works_with_async_with() -> None:
    """trace() is also an async context manager."""
    with capture_traces() as traces:
        async with trace("async-block") as run:
            assert run is get_current_run()
    assert traces.run("async-block").status == "ok"


def test_add_metadata_tags_and_outputs_while_running() -> None:
    """add_metadata, add_tags and add_outputs inside a traced function reach its end event."""

    @traceable(metadata={"a": 1}, tags=["base"])
    def f() -> str:
        run = get_current_run()
        assert run is not None
        run.add_metadata({"b": 2})
        run.add_tags("extra", ["more"])
        run.add_outputs({"tokens": 3})
        return "result"

    with capture_traces() as traces:
        assert f() == "result"
    run = traces.run("f")
    assert run.end["metadata"] == {"a": 1, "b": 2}
    assert run.end["tags"] == ["base", "extra", "more"]
    assert {"output": "result", "tokens": 3} == run.outputs  # merged, as LangSmith does


def test_end_has_no_metadata_when_unchanged() -> None:
    """The end event repeats tags and metadata only when they changed during the run."""

    @traceable(metadata={"a": 1})
    def f() -> None:
        pass

    with capture_traces() as traces:
        f()
    assert "metadata" not in traces.run("f").end


def test_set_outputs_in_generator_overrides_chunks() -> None:
    """set_outputs inside a generator records that instead of the chunk list."""

    @traceable
    def stream() -> Iterator[int]:
        yield 1
        run = get_current_run()
        assert run is not None
        run.set_outputs({"total": 1})

    with capture_traces() as traces:
        list(stream())
    assert traces.run("stream").outputs == {"total": 1}


def test_trace_disabled_yields_none_and_runs_the_block() -> None:
    """With tracing off, trace() gives None and the block still runs."""
    jsontrace.configure(enabled=False)
    ran = []
    with capture_traces() as traces, trace("off") as run:
        ran.append(run)
    assert ran == [None]
    assert traces.events == []


def test_add_outputs_merges_into_dicts_and_chunks() -> None:
    """add_outputs keys join a dict return value as they are, and a generator's reduced output."""

    @traceable
    def f() -> dict[str, int]:
        run = get_current_run()
        assert run is not None
        run.add_outputs({"tokens": 3})
        return {"answer": 42}

    @traceable(reduce_fn="".join)
    def stream() -> Iterator[str]:
        yield "a"
        run = get_current_run()
        assert run is not None
        run.add_outputs({"model": "m"})
        yield "b"

    with capture_traces() as traces:
        f()
        list(stream())
    assert {"answer": 42, "tokens": 3} == traces.run("f").outputs
    assert {"output": "ab", "model": "m"} == traces.run("stream").outputs


def test_trace_block_exited_in_another_context_still_ends_and_never_raises() -> None:
    """A trace() block entered in one Context and left in a copy (anyio, asyncio finalisers) ends cleanly."""
    import contextvars

    from jsontrace._context import current_run

    # The blocks are left in copies, so this context keeps their run set: restore it.
    outer = current_run.set(None)
    block = trace("spanning")
    with capture_traces() as traces:
        run = block.__enter__()
        assert run is get_current_run()
        contextvars.copy_context().run(block.__exit__, None, None, None)
        block2 = trace("spanning-error")
        block2.__enter__()
        error = KeyError("k")
        contextvars.copy_context().run(block2.__exit__, KeyError, error, None)
    current_run.reset(outer)
    assert "ok" == traces.run("spanning").status
    assert "error" == traces.run("spanning-error").status


def test_trace_never_asks_its_inputs_for_their_truth() -> None:
    """Inputs that refuse a truth value (as a numpy array or a frame does) are still recorded."""
    from collections.abc import Mapping
    from typing import Any

    class Strict(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            return {"q": "x"}[key]

        def __iter__(self) -> Iterator[str]:
            return iter(["q"])

        def __len__(self) -> int:
            raise ValueError("the truth value is ambiguous")

        def keys(self) -> Any:
            return ["q"]

    with capture_traces() as traces, trace("block", inputs=Strict()) as run:
        assert run is not None
    assert {"q": "x"} == traces.run("block").inputs
