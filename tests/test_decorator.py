"""@traceable: every kind of function, the generator protocol, nesting, end statuses, hooks."""

from __future__ import annotations

import asyncio
import gc
import inspect
import subprocess
import sys
import textwrap
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import jsontrace
from jsontrace import JsonTraceWarning, get_current_run, traceable
from jsontrace.testing import capture_traces

README_EXAMPLES = textwrap.dedent(
    """
    from jsontrace import traceable

    @traceable
    def my_generator():
        for chunk in ["Hello", "World", "!"]:
            yield chunk

    for output in my_generator():
        print(output)

    import asyncio

    @traceable
    async def my_async_generator():
        for chunk in ["Hello", "World", "!"]:
            yield chunk

    async def main():
        async for output in my_async_generator():
            print(output)

    asyncio.run(main())

    def concatenate_strings(outputs: list):
        return "".join(outputs)

    @traceable(reduce_fn=concatenate_strings)
    def my_joined_generator():
        for chunk in ["Hello", "World", "!"]:
            yield chunk

    for output in my_joined_generator():
        print(output)
    """
)


def test_readme_examples_print_and_record(tmp_path: Path) -> None:
    """The README examples print what they print untraced and leave start, 3 chunks, ok end each."""
    from tests.conftest import read_events

    script = tmp_path / "example.py"
    script.write_text(README_EXAMPLES)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.stderr == ""
    assert done.stdout == "Hello\nWorld\n!\n" * 3
    events = read_events(tmp_path / "logs")
    by_name: dict[str, list[dict[str, Any]]] = {}
    names = {e["run_id"]: e["name"] for e in events if e["event"] == "run.start"}
    for event in events:
        by_name.setdefault(names[event["run_id"]], []).append(event)
    assert {"my_generator", "my_async_generator", "my_joined_generator"} == set(by_name)
    for name, run_events in by_name.items():
        kinds = [e["event"] for e in run_events]
        assert kinds == ["run.start", "run.chunk", "run.chunk", "run.chunk", "run.end"]
        assert [e["seq"] for e in run_events if e["event"] == "run.chunk"] == [0, 1, 2]
        end = run_events[-1]
        assert end["status"] == "ok"
        expected = "HelloWorld!" if name == "my_joined_generator" else ["Hello", "World", "!"]
        assert expected == end["outputs"]


def test_event_envelope_order_and_types(events: Any) -> None:
    """Every event starts with event, run_id, trace_id, v, ts; ts is RFC 3339 UTC with µs and Z."""

    @traceable
    def add(a: int, b: int) -> int:
        return a + b

    add(1, 2)
    written = events()
    assert len(written) == 2
    for event in written:
        assert list(event)[:5] == ["event", "run_id", "trace_id", "v", "ts"]
        assert event["v"] == 1
        assert len(event["ts"]) == 27 and event["ts"].endswith("Z") and event["ts"][10] == "T"
    start, end = written
    assert start["inputs"] == {"a": 1, "b": 2}
    assert None is start["parent_run_id"]
    assert start["run_id"] == start["trace_id"]
    assert start["run_type"] == "chain"
    assert end["outputs"] == 3
    assert None is end["error"]
    assert end["chunk_count"] == 0
    assert "first_chunk_ms" not in end
    assert end["duration_ms"] >= 0


def test_wrapper_keeps_identity_and_kind() -> None:
    """inspect sees the same kind of function, and functools.wraps metadata is kept."""

    def f(x: int) -> int:
        """Doc."""
        return x

    async def af() -> None:
        pass

    def g() -> Iterator[int]:
        yield 1

    async def ag() -> AsyncIterator[int]:
        yield 1

    for original in (f, af, g, ag):
        traced = traceable(original)
        assert original.__name__ == traced.__name__
        assert original.__doc__ == traced.__doc__
        assert original is traced.__wrapped__
        assert inspect.signature(original) == inspect.signature(traced)
        assert inspect.isgeneratorfunction(original) == inspect.isgeneratorfunction(traced)
        assert inspect.iscoroutinefunction(original) == inspect.iscoroutinefunction(traced)
        assert inspect.isasyncgenfunction(original) == inspect.isasyncgenfunction(traced)


def test_generator_forwards_send_throw_and_return_value() -> None:
    """Values passed to send() reach the generator, throw() is forwarded, the return value survives."""
    received: list[Any] = []

    @traceable
    def echo() -> Any:
        try:
            while True:
                value = yield len(received)
                received.append(value)
        except KeyError:
            yield "caught"
        return "done"

    with capture_traces() as traces:
        gen = echo()
        assert next(gen) == 0
        assert gen.send("a") == 1
        assert gen.send("b") == 2
        assert gen.throw(KeyError("k")) == "caught"
        with pytest.raises(StopIteration) as stop:
            next(gen)
    assert received == ["a", "b"]
    assert stop.value.value == "done"
    run = traces.run("echo")
    assert run.status == "ok"
    assert run.chunks == [0, 1, 2, "caught"]


def test_generator_return_value_is_recorded_after_the_chunks_as_langsmith_does() -> None:
    """A generator's return value (when not None) is appended to its recorded outputs.

    LangSmith: ``python/tests/unit_tests/test_run_helpers.py::test_traceable_iterator``
    (``expected.append(return_val)``, then ``outputs["output"] == expected``) and
    ``run_helpers.generator_wrapper`` (``results.append(function_return)``, then
    ``reduce_fn(results)``). The chunks stay the yielded values only.
    """

    @traceable
    def g() -> Iterator[int]:
        yield 1
        return "done"  # type: ignore[misc]

    @traceable(reduce_fn=repr)
    def joined() -> Iterator[str]:
        yield "a"
        return "done"  # type: ignore[misc]

    @traceable
    def returns_none() -> Iterator[int]:
        yield 1

    with capture_traces() as traces:
        assert [1] == list(g())
        assert ["a"] == list(joined())
        assert [1] == list(returns_none())
    run = traces.run("g")
    assert ([1, "done"], [1], 1) == (run.outputs, run.chunks, run.end["chunk_count"])
    assert "['a', 'done']" == traces.run("joined").outputs
    assert [1] == traces.run("returns_none").outputs


async def test_async_generator_forwards_asend_athrow_aclose() -> None:
    """asend values arrive, athrow is forwarded, aclose ends the run as cancelled."""
    received: list[Any] = []

    @traceable
    async def echo() -> AsyncIterator[Any]:
        try:
            while True:
                value = yield len(received)
                received.append(value)
        except KeyError:
            yield "caught"
            yield "more"

    with capture_traces() as traces:
        agen = echo()
        assert await agen.asend(None) == 0
        assert await agen.asend("x") == 1
        assert await agen.athrow(KeyError("k")) == "caught"
        await agen.aclose()
    assert received == ["x"]
    run = traces.run("echo")
    assert run.status == "cancelled"
    assert run.outputs == [0, 1, "caught"]


def test_throw_uncaught_records_error_and_reraises_same_object() -> None:
    """An exception thrown in and not caught ends the run as error and reaches the caller unchanged."""

    @traceable
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    error = ValueError("boom")
    with capture_traces() as traces:
        g = gen()
        next(g)
        with pytest.raises(ValueError) as raised:
            g.throw(error)
    assert error is raised.value
    run = traces.run("gen")
    assert run.status == "error"
    assert run.error["type"] == "ValueError"


def test_function_exception_is_same_object_with_traceback() -> None:
    """A raising function re-raises the very exception; the run records type, message and traceback."""

    class Oops(Exception):
        pass

    original = Oops("bad input")

    @traceable
    def fails() -> None:
        raise original

    with capture_traces() as traces, pytest.raises(Oops) as raised:
        fails()
    assert original is raised.value
    assert "fails" in "".join(__import__("traceback").format_tb(raised.value.__traceback__))
    error = traces.run("fails").error
    assert error["message"] == "bad input"
    assert error["type"].endswith("Oops")
    assert "raise original" in error["traceback"]


async def test_async_function_error_has_full_traceback() -> None:
    """Errors in async code are recorded with the traceback through the awaited frames."""

    async def inner() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("deep")

    @traceable
    async def outer() -> None:
        await inner()

    with capture_traces() as traces, pytest.raises(RuntimeError):
        await outer()
    error = traces.run("outer").error
    assert error["type"] == "RuntimeError"
    assert "in inner" in error["traceback"] and "in outer" in error["traceback"]


async def test_async_generator_error_is_recorded_and_reraised() -> None:
    """An exception inside an async generator ends its run as error with partial outputs."""

    @traceable
    async def stream() -> AsyncIterator[str]:
        yield "a"
        raise ConnectionError("lost")

    with capture_traces() as traces:
        seen = []
        with pytest.raises(ConnectionError):
            async for item in stream():
                seen.append(item)
    run = traces.run("stream")
    assert seen == ["a"]
    assert run.status == "error"
    assert run.outputs == ["a"]
    assert "lost" in run.error["traceback"]


def test_break_ends_generator_cancelled_with_partial_reduced_outputs() -> None:
    """Stopping early ends the run cancelled; partial outputs are reduced with reduce_fn."""

    @traceable(reduce_fn="".join)
    def letters() -> Iterator[str]:
        yield from "abcdef"

    with capture_traces() as traces:
        for letter in letters():
            if letter == "c":
                break
        gc.collect()
    run = traces.run("letters")
    assert run.status == "cancelled"
    assert run.outputs == "abc"
    assert run.end["chunk_count"] == 3


def test_generator_never_iterated_ends_cancelled_when_collected() -> None:
    """A generator that is created and dropped still gets an end, cancelled, with no outputs."""

    @traceable
    def never() -> Iterator[int]:
        yield 1

    with capture_traces() as traces:
        gen = never()
        del gen
        gc.collect()
    run = traces.run("never")
    assert run.status == "cancelled"
    assert run.outputs == []


def test_generator_dropped_midway_ends_cancelled() -> None:
    """A half-consumed generator that is garbage collected ends cancelled."""

    @traceable
    def numbers() -> Iterator[int]:
        yield from range(10)

    with capture_traces() as traces:
        gen = numbers()
        next(gen)
        next(gen)
        del gen
        gc.collect()
    run = traces.run("numbers")
    assert run.status == "cancelled"
    assert run.outputs == [0, 1]


async def test_asyncio_cancellation_ends_runs_cancelled() -> None:
    """Cancelling the task that awaits a traced coroutine or consumes a stream ends both cancelled."""

    @traceable
    async def slow_stream() -> AsyncIterator[int]:
        yield 1
        await asyncio.sleep(10)
        yield 2

    @traceable
    async def consume() -> list[int]:
        return [item async for item in slow_stream()]

    with capture_traces() as traces:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert traces.run("consume").status == "cancelled"
    stream = traces.run("slow_stream")
    assert stream.status == "cancelled"
    assert stream.outputs == [1]
    assert None is stream.error


def test_generator_body_calls_nest_but_consumer_code_does_not() -> None:
    """Traced calls inside the generator (between yields too) are children; the consumer's are not."""

    @traceable
    def helper(x: int) -> int:
        return x

    @traceable
    def consumer_side(x: int) -> int:
        return x

    @traceable
    def stream() -> Iterator[int]:
        yield helper(1)
        assert get_current_run() is not None and get_current_run().name == "stream"  # type: ignore[union-attr]
        yield helper(2)

    with capture_traces() as traces:
        for value in stream():
            assert get_current_run() is None
            consumer_side(value)
    gen = traces.run("stream")
    helpers = [run for run in traces.runs() if run.name == "helper"]
    assert [gen.run_id, gen.run_id] == [h.parent_run_id for h in helpers]
    consumer = [run for run in traces.runs() if run.name == "consumer_side"]
    assert [c.parent_run_id for c in consumer] == [None, None]


def test_generator_parent_is_the_caller_at_call_time() -> None:
    """A generator created inside a traced function but consumed outside still has that parent."""

    @traceable
    def stream() -> Iterator[int]:
        yield 1

    @traceable
    def make() -> Iterator[int]:
        return stream()

    with capture_traces() as traces:
        list(make())
    assert traces.run("make").run_id == traces.run("stream").parent_run_id
    assert traces.run("make").trace_id == traces.run("stream").trace_id


async def test_nesting_across_await_gather_and_create_task() -> None:
    """Children made across await, asyncio.gather and create_task nest under the caller."""

    @traceable
    async def leaf(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @traceable
    async def root() -> int:
        a = await leaf(0)
        b, c = await asyncio.gather(leaf(1), leaf(2))
        d = await asyncio.create_task(leaf(3))
        return a + b + c + d

    with capture_traces() as traces:
        assert await root() == 6
    root_run = traces.run("root")
    leaves = [run for run in traces.runs() if run.name == "leaf"]
    assert len(leaves) == 4
    assert {root_run.run_id} == {leaf.parent_run_id for leaf in leaves}
    assert {root_run.run_id} == {leaf.trace_id for leaf in leaves}
    assert sorted(leaf.inputs["i"] for leaf in leaves) == [0, 1, 2, 3]


async def test_async_generator_body_nests_and_consumer_does_not() -> None:
    """In an async generator, awaited traced calls nest; the consumer's calls between items don't."""

    @traceable
    async def fetch(i: int) -> int:
        return i

    @traceable
    async def stream() -> AsyncIterator[int]:
        for i in range(2):
            yield await fetch(i)

    @traceable
    async def log(i: int) -> None:
        pass

    with capture_traces() as traces:
        async for item in stream():
            await log(item)
    stream_id = traces.run("stream").run_id
    assert all(run.parent_run_id == stream_id for run in traces.runs() if run.name == "fetch")
    assert all(run.parent_run_id is None for run in traces.runs() if run.name == "log")


def test_inputs_bound_by_name_with_defaults_varargs_and_kwargs() -> None:
    """Inputs are named, defaults applied, *args a list, **kwargs merged, self left out."""

    class Model:
        @traceable
        def call(
            self, prompt: str, temperature: float = 0.5, *extra: Any, stop: str = "\n", **kw: Any
        ) -> str:
            return prompt

    with capture_traces() as traces:
        Model().call("hi", 0.1, "x", "y", stop=".", top_p=0.9)
        Model().call(prompt="yo")
    first, second = (run.inputs for run in traces.runs())
    assert first == {
        "prompt": "hi",
        "temperature": 0.1,
        "stop": ".",
        "extra": ["x", "y"],
        "top_p": 0.9,
    }
    assert second == {"prompt": "yo", "temperature": 0.5, "stop": "\n", "extra": []}


def test_a_positional_only_name_passed_again_by_keyword_is_recorded_under_kwargs() -> None:
    """f(x, /, **kw) called as f(1, x=2): both values are recorded, the second under "kw"."""

    @traceable
    def f(x: int, /, **kw: Any) -> int:
        return x + kw["x"]

    @traceable
    def g(x: int, /, **kw: Any) -> int:
        return x

    with capture_traces() as traces:
        assert 3 == f(1, x=2)
        assert 1 == g(1, x=2, kw="taken")  # a keyword named like **kw itself
    assert {"x": 1, "kw": {"x": 2}} == traces.run("f").inputs
    assert {"x": 1, "kw": "taken", "**kw": {"x": 2}} == traces.run("g").inputs


def test_methods_classmethods_and_staticmethods() -> None:
    """Instance, class and static methods work in either decorator order; cls is left out."""

    class Tools:
        factor = 10

        @traceable
        def scale(self, x: int) -> int:
            return x * self.factor

        @traceable
        @classmethod
        def make(cls, x: int) -> int:
            return x * cls.factor

        @classmethod
        @traceable
        def make2(cls, x: int) -> int:
            return x + cls.factor

        @traceable
        @staticmethod
        def plain(x: int) -> int:
            return -x

        @traceable
        def stream(self, n: int) -> Iterator[int]:
            yield from range(n)

    with capture_traces() as traces:
        tools = Tools()
        assert tools.scale(2) == 20
        assert Tools.make(3) == 30
        assert tools.make2(3) == 13
        assert Tools.plain(4) == -4
        assert list(tools.stream(2)) == [0, 1]
    inputs = {run.name: run.inputs for run in traces.runs()}
    assert inputs == {
        "scale": {"x": 2},
        "make": {"x": 3},
        "make2": {"x": 3},
        "plain": {"x": 4},
        "stream": {"n": 2},
    }
    assert inspect.isgeneratorfunction(tools.stream)


def test_options_name_run_type_tags_metadata_and_call_forms() -> None:
    """name, run_type (positional too), tags, metadata and traceable(fn, ...) are recorded."""

    def plain(x: int) -> int:
        return x

    with capture_traces() as traces:
        traceable(plain, name="renamed", run_type="tool", tags=["t"], metadata={"m": 1})(1)
        traceable("llm")(plain)(2)
        traceable(project_name="proj")(plain)(3)
    runs = traces.runs()
    assert (
        runs[0].name,
        runs[0].start["run_type"],
        runs[0].start["tags"],
        runs[0].start["metadata"],
    ) == ("renamed", "tool", ["t"], {"m": 1})
    assert (runs[1].name, runs[1].start["run_type"]) == ("plain", "llm")
    assert runs[2].start["metadata"] == {"project": "proj"}


def test_bad_options_fail_at_decoration() -> None:
    """Options that can never work raise TypeError at decoration time, not during calls."""
    with pytest.raises(TypeError, match="run_type"):
        traceable(run_type="")
    with pytest.raises(TypeError, match="reduce_fn must be callable"):
        traceable(reduce_fn="join")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a function"):
        traceable(42)  # type: ignore[call-overload]


def test_process_hooks_shape_the_record_not_the_values() -> None:
    """process_inputs/outputs/chunk change what is recorded; the caller still gets the originals."""

    @traceable(
        process_inputs=lambda inputs: {"n": inputs["n"] * 100},
        process_chunk=lambda chunk: chunk.upper(),
        process_outputs=lambda outputs: {"joined": "".join(outputs)},
    )
    def stream(n: int) -> Iterator[str]:
        yield from "ab"[:n]

    with capture_traces() as traces:
        assert list(stream(2)) == ["a", "b"]
    run = traces.run("stream")
    assert run.inputs == {"n": 200}
    assert run.chunks == ["A", "B"]
    assert run.outputs == {"joined": "AB"}


def test_raising_hooks_never_break_the_function_and_warn_once() -> None:
    """reduce_fn and process_* raising: results unchanged, one warning each, noted in the trace."""

    def broken(_: Any) -> Any:
        raise ZeroDivisionError("hook bug")

    @traceable(
        reduce_fn=broken, process_inputs=broken, process_chunk=broken, process_outputs=broken
    )
    def stream() -> Iterator[int]:
        yield 1
        yield 2

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(stream()) == [1, 2]
        assert list(stream()) == [1, 2]
    messages = [str(w.message) for w in caught if issubclass(w.category, JsonTraceWarning)]
    assert len(messages) == 4, messages
    for label in ("reduce_fn", "process_inputs", "process_chunk", "process_outputs"):
        assert any(label in message for message in messages)
    run = traces.runs()[0]
    assert run.inputs == {}
    assert run.chunks == ["<process_chunk failed>"] * 2
    assert None is run.outputs
    assert len(run.end["trace_warnings"]) == 4


def test_reduce_fn_failure_falls_back_to_chunks() -> None:
    """When only reduce_fn fails, the recorded outputs are the chunks themselves."""

    @traceable(reduce_fn=lambda chunks: 1 / 0)
    def stream() -> Iterator[str]:
        yield "x"

    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(stream())
    assert traces.run("stream").outputs == ["x"]


def test_warnings_as_errors_do_not_break_the_function() -> None:
    """Even under -W error, tracing trouble is not raised into the traced code."""

    @traceable(process_outputs=lambda _: 1 / 0)
    def f() -> int:
        return 7

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f() == 7


def test_unserializable_values_do_not_break_the_function(events: Any) -> None:
    """Inputs and outputs JSON cannot hold are converted; the call returns as usual."""

    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic

    @traceable
    def f(a: Any, b: Any) -> Any:
        return {"big": 2**100, "set": {1}, "weird": Weird()}

    result = f(Weird(), cyclic)
    assert result["big"] == 2**100
    start, end = events()
    assert "repr failed" in start["inputs"]["a"]
    assert str(2**100) == end["outputs"]["big"]


def test_disabled_tracing_writes_nothing_and_returns_originals(log_dir: Path) -> None:
    """configure(enabled=False) and enabled=False per function: nothing written, same results."""

    @traceable
    def f() -> int:
        return 1

    @traceable
    def g() -> Iterator[int]:
        yield 1

    @traceable(enabled=False)
    def h() -> int:
        return 3

    jsontrace.configure(enabled=False)
    assert f() == 1
    gen = g()
    assert inspect.isgenerator(gen) and list(gen) == [1]
    jsontrace.configure(enabled=True)
    assert h() == 3
    assert not log_dir.exists()


def test_enabled_true_forces_tracing_when_globally_off() -> None:
    """enabled=True on a function traces it even when tracing is switched off globally."""

    @traceable(enabled=True)
    def f() -> int:
        return 1

    jsontrace.configure(enabled=False)
    with capture_traces() as traces:
        f()
    assert len(traces.runs()) == 1


def test_langsmith_extra_sets_metadata_and_is_not_passed_on() -> None:
    """LangSmith's call-time langsmith_extra adds name, tags and metadata and never reaches the function."""

    @traceable(tags=["base"])
    def f(x: int) -> int:
        return x

    @traceable
    def g(x: int) -> Iterator[int]:
        yield x

    with capture_traces() as traces:
        assert (
            f(1, langsmith_extra={"name": "custom", "tags": ["extra"], "metadata": {"user": "u"}})
            == 1
        )
        assert list(g(2, langsmith_extra={"metadata": {"k": "v"}})) == [2]
    first = traces.run("custom")
    assert ["extra", "base"] == first.start[
        "tags"
    ]  # LangSmith's order: the call's, then the decorator's
    assert first.start["metadata"] == {"user": "u"}
    assert traces.run("g").start["metadata"] == {"k": "v"}


def test_tracing_failure_inside_start_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    """If jsontrace itself fails to start a run, the function still runs and one warning is given."""
    from jsontrace import _spec

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal bug")

    monkeypatch.setattr(_spec, "Run", explode)

    @traceable
    def f() -> int:
        return 5

    @traceable
    def g() -> Iterator[int]:
        yield 6

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert f() == 5
        assert f() == 5
        assert list(g()) == [6]
    assert len([w for w in caught if issubclass(w.category, JsonTraceWarning)]) == 2


def test_wrong_arguments_raise_the_functions_own_error() -> None:
    """Calling with wrong arguments raises the TypeError the function would raise; no run is left open."""

    @traceable
    def f(a: int) -> int:
        return a

    @traceable
    def g(a: int) -> Iterator[int]:
        yield a

    with capture_traces() as traces:
        with pytest.raises(TypeError):
            f(1, 2)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            g()  # type: ignore[call-arg]
    assert all(run.status == "error" for run in traces.runs())
    assert [run.name for run in traces.runs()] == ["f"]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_fork_inside_a_traced_function_ends_the_run_once(log_dir: Path, events: Any) -> None:
    """The child of a fork made inside a traced call does not write a second end for that run."""
    import os

    @traceable
    def forks() -> int:
        pid = os.fork()
        if pid == 0:
            return 0
        os.waitpid(pid, 0)
        return 1

    if forks() == 0:  # the child returns through the wrapper too
        os._exit(0)
    ends = [e for e in events() if e["event"] == "run.end"]
    assert 1 == len(ends)


def test_self_is_kept_for_plain_functions_and_partials_of_generators_work() -> None:
    """A plain function's parameter named self is recorded; traceable(partial(gen, ...)) traces."""
    import functools

    def plain(self: int, cls: int) -> int:
        return self + cls

    def gen(n: int, step: int) -> Iterator[int]:
        yield from range(0, n, step)

    with capture_traces() as traces:
        assert 3 == traceable(plain)(1, 2)
        partial_gen = traceable(functools.partial(gen, 4), name="stepper")
        assert inspect.isgeneratorfunction(partial_gen)
        assert [0, 2] == list(partial_gen(step=2))
    assert {"self": 1, "cls": 2} == traces.run("plain").inputs
    assert [0, 2] == traces.run("stepper").outputs


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_child_forked_mid_stream_writes_nothing_for_the_parents_run(log_dir: Path) -> None:
    """A traced generator iterated on in a forked child: the run is the parent's, so the child
    writes no chunk or end for it (only the runs it starts itself), and doctor finds nothing
    wrong in the directory."""
    import os

    from jsontrace import doctor
    from tests.conftest import read_events

    @traceable
    def stream() -> Iterator[int]:
        yield from range(10)

    @traceable
    def in_child() -> int:
        return 1

    gen = stream()
    assert [0, 1, 2] == [next(gen) for _ in range(3)]
    pid = os.fork()
    if pid == 0:  # the child: take the rest of the stream, trace a run of its own, leave
        code = 1
        try:
            assert list(range(3, 10)) == list(gen)
            in_child()
            code = 0
        finally:
            os._exit(code)
    assert list(range(3, 10)) == list(gen)
    _, status = os.waitpid(pid, 0)
    assert 0 == os.waitstatus_to_exitcode(status)
    assert [] == doctor.check(log_dir).problems
    events = read_events(log_dir)
    (start,) = [e for e in events if e.get("name") == "stream"]
    mine = [e for e in events if e["run_id"] == start["run_id"]]
    assert list(range(10)) == [e["seq"] for e in mine if e["event"] == "run.chunk"]
    assert [(10, "ok")] == [
        (e["chunk_count"], e["status"]) for e in mine if e["event"] == "run.end"
    ]
    child_files = [p for p in log_dir.glob("*.jsonl") if f"-{pid}-" in p.name]
    (child_file,) = child_files
    child_names = {orjson.loads(line).get("name") for line in child_file.read_bytes().splitlines()}
    assert {"in_child", None} == child_names  # its start, and its end (no name)


# -- KeyboardInterrupt and SystemExit from hooks and values -----------------------------------


def test_reduce_fn_raising_system_exit_ends_the_run_first() -> None:
    """sys.exit() in reduce_fn: the run's end is written (the chunks as outputs, a warning), then
    the SystemExit goes on to the consumer: tracing records it, never swallows it."""

    @traceable(reduce_fn=lambda chunks: sys.exit(3))
    def stream() -> Iterator[str]:
        yield "a"
        yield "b"

    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as raised:
            list(stream())
    assert 3 == raised.value.code
    run = traces.run("stream")
    assert ("ok", ["a", "b"]) == (run.status, run.outputs)
    assert ["reduce_fn of 'stream' raised SystemExit: SystemExit(3)"] == run.end["trace_warnings"]


def test_process_outputs_raising_keyboard_interrupt_ends_the_run_first() -> None:
    """Ctrl-C while process_outputs runs: the end is written, then KeyboardInterrupt reaches the
    caller."""

    def interrupted(_: Any) -> Any:
        raise KeyboardInterrupt

    @traceable(process_outputs=interrupted)
    def f() -> int:
        return 7

    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyboardInterrupt):
            f()
    run = traces.run("f")
    assert ("ok", None) == (run.status, run.outputs)
    assert "process_outputs of 'f' raised KeyboardInterrupt" in run.end["trace_warnings"][0]


def test_process_chunk_raising_keyboard_interrupt_ends_the_stream_there() -> None:
    """Ctrl-C in process_chunk: that chunk is recorded as failed, the run ends with the interrupt,
    and the consumer gets it."""
    calls = {"n": 0}

    def second_interrupts(chunk: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return chunk

    @traceable(process_chunk=second_interrupts)
    def stream() -> Iterator[str]:
        yield from "abc"

    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen = stream()
        assert "a" == next(gen)
        with pytest.raises(KeyboardInterrupt):
            next(gen)
    run = traces.run("stream")
    assert ["a", "<process_chunk failed>"] == run.chunks
    assert ("error", "KeyboardInterrupt") == (run.status, run.end["error"]["type"])


def test_process_inputs_raising_system_exit_records_the_call_and_exits() -> None:
    """sys.exit() in process_inputs: the function does not run, its run starts and ends (inputs
    hidden, the exit as its error), and the SystemExit goes on."""
    ran: list[int] = []

    @traceable(process_inputs=lambda inputs: sys.exit("no"))
    def f(secret: str) -> None:
        ran.append(1)

    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit):
            f("s")
    assert [] == ran
    run = traces.run("f")
    assert ({}, "error", "SystemExit") == (run.inputs, run.status, run.end["error"]["type"])


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_the_functions_own_stop_propagates_unchanged(exc: type[BaseException]) -> None:
    """KeyboardInterrupt or SystemExit raised by the traced function itself is the app's control
    flow: the very same exception comes out, and the run ends with it."""
    raised = exc()

    @traceable
    def f() -> None:
        raise raised

    with capture_traces() as traces, pytest.raises(exc) as caught:
        f()
    assert raised is caught.value
    assert ("error", exc.__name__) == (traces.run("f").status, traces.run("f").end["error"]["type"])


def test_a_value_whose_repr_raises_keyboard_interrupt_loses_no_end() -> None:
    """A returned value whose __repr__ (jsontrace's last resort to record it) raises
    KeyboardInterrupt: the call returns it as usual and the run ends with a description."""

    class Stops:
        def __repr__(self) -> str:
            raise KeyboardInterrupt

    value = Stops()

    @traceable
    def f() -> Any:
        return value

    with capture_traces() as traces:
        assert value is f()
    run = traces.run("f")
    assert ("ok", f"<{Stops.__qualname__} object (repr failed)>") == (run.status, run.outputs)


# -- memory: what a stream keeps ---------------------------------------------------------------


def test_without_reduce_fn_a_stream_keeps_only_the_chunks_its_end_writes() -> None:
    """The end event writes at most max_items chunks, so a stream holds only those: a stream of
    millions does not grow. The end says how many more there were, as the cut of a list does."""
    jsontrace.configure(max_items=10)
    runs: list[Any] = []

    @traceable
    def stream() -> Iterator[int]:
        runs.append(get_current_run())
        yield from range(25)

    with capture_traces() as traces:
        assert list(range(25)) == list(stream())
    assert 10 == len(runs[0]._chunks)
    run = traces.run("stream")
    assert [*range(10), "…[truncated 15 items]"] == run.outputs
    assert (25, list(range(25))) == (run.end["chunk_count"], run.chunks)


def test_with_reduce_fn_a_stream_keeps_every_chunk_for_it() -> None:
    """reduce_fn needs the whole stream: it gets every chunk, whatever max_items says."""
    jsontrace.configure(max_items=10)

    @traceable(reduce_fn=lambda chunks: [len(chunks), chunks[-1]])
    def stream() -> Iterator[int]:
        yield from range(25)

    with capture_traces() as traces:
        list(stream())
    assert [25, 24] == traces.run("stream").outputs


def test_an_llm_stream_keeps_every_chunk_for_the_usage_its_last_one_carries() -> None:
    """An llm run's token usage is read from its chunks at the end (OpenAI sends it in the last
    one), so an llm stream keeps them all, past max_items too."""
    jsontrace.configure(max_items=5)

    @traceable(run_type="llm")
    def stream() -> Iterator[dict[str, Any]]:
        for word in "abcdefghij":
            yield {"choices": [{"delta": {"content": word}}], "usage": None}
        yield {
            "choices": [],
            "usage": {"prompt_tokens": 4, "completion_tokens": 10, "total_tokens": 14},
        }

    with capture_traces() as traces:
        list(stream())
    end = traces.run("stream").end
    assert {"input_tokens": 4, "output_tokens": 10, "total_tokens": 14} == end["usage"]
