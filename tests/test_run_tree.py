"""get_current_run_tree(), the RunTree view, set_run_metadata and the other langsmith_extra keys.

LangSmith's sources cited below are in ``langchain-ai/langsmith-sdk``:
``python/langsmith/run_helpers.py``, ``python/langsmith/run_trees.py`` and
``python/tests/unit_tests/test_run_helpers.py``.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import jsontrace
from jsontrace import (
    JsonTraceWarning,
    RunTree,
    get_current_run,
    get_current_run_tree,
    set_run_metadata,
    trace,
    traceable,
)
from jsontrace.testing import capture_traces


def _jsontrace_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, JsonTraceWarning)]


def test_the_current_run_tree_has_langsmiths_names() -> None:
    """id, trace_id, parent_run_id (UUIDs), name, run_type, tags, metadata, dotted_order, session_name.

    LangSmith: ``run_trees.RunTree`` (fields ``id``, ``trace_id``,
    ``parent_run_id``, ``dotted_order``, ``session_name``; ``metadata`` is
    ``extra["metadata"]``).
    """
    seen: dict[str, Any] = {}

    @traceable(run_type="tool", tags=["t"], metadata={"m": 1}, project_name="proj")
    def child() -> None:
        tree = get_current_run_tree()
        assert tree is not None
        seen.update(
            id=tree.id,
            trace_id=tree.trace_id,
            parent_run_id=tree.parent_run_id,
            name=tree.name,
            run_type=tree.run_type,
            tags=list(tree.tags),
            metadata=dict(tree.metadata),
            extra=tree.extra,
            dotted=tree.dotted_order,
            project=tree.session_name,
            headers=tree.to_headers(),
            same=tree == RunTree(get_current_run()),  # type: ignore[arg-type]
        )

    assert None is get_current_run_tree()
    with capture_traces() as traces, trace("root"):
        child()
    run = traces.run("child")
    assert (uuid.UUID(run.run_id), uuid.UUID(run.trace_id), uuid.UUID(run.parent_run_id)) == (
        seen["id"],
        seen["trace_id"],
        seen["parent_run_id"],
    )
    assert ("child", "tool", ["t"]) == (seen["name"], seen["run_type"], seen["tags"])
    assert {"project": "proj", "m": 1} == seen["metadata"] == seen["extra"]["metadata"]
    assert "proj" == seen["project"]
    assert seen["dotted"] == seen["headers"]["langsmith-trace"]
    assert seen["same"]


def test_changes_through_the_run_tree_are_recorded() -> None:
    """add_metadata, add_tags and changing ``metadata`` / ``tags`` in place all reach the run's end.

    LangSmith: ``test_set_run_metadata_updates_current_run_tree``;
    ``RunTree.add_tags`` takes a tag or a list; ``set_run_metadata`` writes
    into ``run_tree.metadata``.
    """

    @traceable(tags=["a"])
    def f() -> None:
        tree = get_current_run_tree()
        assert tree is not None
        tree.add_metadata({"x": 1})
        tree.add_tags("b")
        tree.add_tags(["c"])
        tree.metadata["y"] = 2
        tree.tags.append("d")
        set_run_metadata(foo=1, bar="two")

    with capture_traces() as traces:
        f()
    run = traces.run("f")
    assert (["a", "b", "c", "d"], {"x": 1, "y": 2, "foo": 1, "bar": "two"}) == (
        run.tags,
        run.metadata,
    )


def test_set_run_metadata_outside_a_run_warns_once() -> None:
    """set_run_metadata() with no current run: one warning, nothing else.

    LangSmith: ``test_set_run_metadata_without_active_run_tree`` (one log record).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        set_run_metadata(foo=1)
        set_run_metadata(foo=2)
    assert 1 == len(_jsontrace_warnings(caught))


def test_end_with_outputs_merges_with_the_return_value() -> None:
    """``get_current_run_tree().end(outputs=...)`` inside a traced function adds to what it returns.

    LangSmith: ``RunTree.end`` sets the outputs and the decorator's own end
    updates them with the return value, so ``end(outputs={"a": 1})`` then
    ``return 5`` records ``{"a": 1, "output": 5}``.
    """

    @traceable
    def f() -> int:
        get_current_run_tree().end(outputs={"a": 1}, metadata={"m": 1})  # type: ignore[union-attr]
        return 5

    @traceable
    def g() -> dict[str, int]:
        get_current_run_tree().end(outputs={"t": 1})  # type: ignore[union-attr]
        return {"b": 2}

    with capture_traces() as traces:
        assert 5 == f()
        g()
    assert ({"output": 5, "a": 1}, {"m": 1}) == (
        traces.run("f").outputs,
        traces.run("f").metadata,
    )
    assert {"b": 2, "t": 1} == traces.run("g").outputs


# -- langsmith_extra keys ---------------------------------------------------------------------


def test_run_id_chooses_the_runs_id() -> None:
    """``langsmith_extra={"run_id": ...}`` (a UUID or its text) is the run's id; children nest under it.

    LangSmith: ``LangSmithExtra.run_id``; ``_setup_run`` passes it as the RunTree's ``id``.
    """
    chosen, as_text = uuid.uuid4(), uuid.uuid4()

    @traceable
    def leaf() -> None:
        return None

    @traceable
    def f() -> None:
        leaf()

    with capture_traces() as traces:
        f(langsmith_extra={"run_id": chosen})
        f(langsmith_extra={"run_id": str(as_text).upper().replace("-", "")})
    expected = [str(chosen), str(as_text)]
    assert expected == [run.run_id for run in traces.runs() if run.name == "f"]
    assert expected == [run.parent_run_id for run in traces.runs() if run.name == "leaf"]
    assert expected == [run.trace_id for run in traces.runs() if run.name == "leaf"]


def test_a_bad_run_id_warns_once_and_a_new_id_is_used() -> None:
    """A run_id that is not a UUID: one warning, the run gets an id of its own."""

    @traceable
    def f() -> None:
        return None

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(langsmith_extra={"run_id": "not-a-uuid"})
        f(langsmith_extra={"run_id": 12})
    assert 1 == len(_jsontrace_warnings(caught))
    assert 2 == len({run.run_id for run in traces.runs()})


def test_on_end_is_called_with_the_ended_run() -> None:
    """``on_end`` gets the run once it ended: name, outputs as LangSmith holds them, error, status.

    LangSmith: ``test_traceable_regular`` and ``test_generator``
    (``langsmith_extra={"on_end": _get_run}``, then ``run.name``);
    ``_container_end`` calls ``on_end(run_tree)`` after ``run_tree.end(outputs=dict_outputs)``.
    """
    ended: list[RunTree] = []

    @traceable
    def f(x: int) -> int:
        return x

    @traceable
    def g() -> Iterator[str]:
        yield "a"
        yield "b"

    @traceable
    def boom() -> None:
        raise ValueError("bad")

    with capture_traces():
        f(1, langsmith_extra={"on_end": ended.append, "name": "renamed"})
        assert ["a", "b"] == list(g(langsmith_extra={"on_end": ended.append}))
        with pytest.raises(ValueError, match="bad"):
            boom(langsmith_extra={"on_end": ended.append})
    assert [("renamed", {"output": 1}), ("g", {"output": ["a", "b"]})] == [
        (run.name, run.outputs) for run in ended[:2]
    ]
    assert ("ok", "error") == (ended[0].status, ended[2].status)
    assert ended[2].error is not None and ended[2].error.startswith("ValueError: bad")
    assert ended[0].end_time is not None and ended[0].start_time is not None


async def test_on_end_works_for_coroutines_and_async_generators() -> None:
    """on_end is called for async functions and async generators as well."""
    ended: list[str] = []

    @traceable
    async def f() -> int:
        return 1

    @traceable
    async def g() -> AsyncIterator[int]:
        yield 1

    def record(run: RunTree) -> None:
        ended.append(run.name)

    with capture_traces():
        await f(langsmith_extra={"on_end": record})
        [item async for item in g(langsmith_extra={"on_end": record})]
        await asyncio.sleep(0)
    assert ["f", "g"] == ended


def test_a_raising_on_end_is_contained_and_reported_once() -> None:
    """An on_end that raises: the function returns as usual, one warning, the run recorded."""

    def explode(run: RunTree) -> None:
        raise RuntimeError("callback bug")

    @traceable
    def f() -> int:
        return 7

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert 7 == f(langsmith_extra={"on_end": explode})
        assert 7 == f(langsmith_extra={"on_end": explode})
    assert ["ok", "ok"] == [run.status for run in traces.runs()]
    messages = _jsontrace_warnings(caught)
    assert 1 == len(messages) and "callback bug" in messages[0]


def test_reference_example_id_is_the_runs_own_metadata() -> None:
    """``reference_example_id`` is recorded as metadata of that run only (not inherited, not sent in baggage).

    LangSmith: ``LangSmithExtra.reference_example_id`` is a field of the run it is given to.
    """
    example = uuid.uuid4()
    headers: dict[str, str] = {}

    @traceable
    def leaf() -> None:
        headers.update(jsontrace.get_current_run().to_headers())  # type: ignore[union-attr]

    @traceable(metadata={"k": 1})
    def f() -> None:
        leaf()

    with capture_traces() as traces:
        f(langsmith_extra={"reference_example_id": example})
    assert {"k": 1, "reference_example_id": str(example)} == traces.run("f").start["metadata"]
    assert {"k": 1} == traces.run("leaf").start["metadata"]
    assert "reference_example_id" not in headers["baggage"]


def test_unknown_keys_warn_once_and_server_keys_are_accepted() -> None:
    """An unknown langsmith_extra key is warned about once and ignored; LangSmith's server-side keys are accepted silently."""

    @traceable
    def f(x: int) -> int:
        return x

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert 1 == f(1, langsmith_extra={"colour": "blue", "client": object(), "replicas": []})
        assert 2 == f(2, langsmith_extra={"colour": "red"})
        assert 3 == f(3, langsmith_extra=["not", "a", "dict"])  # type: ignore[arg-type]
    messages = _jsontrace_warnings(caught)
    assert 2 == len(messages), messages
    assert "'colour'" in messages[0] and "must be a dict" in messages[1]
    assert 3 == len(traces.runs())


def test_bad_values_of_known_keys_warn_and_the_rest_applies() -> None:
    """Wrong types for name, tags, metadata, on_end, project_name: one warning each, the call traced with the rest."""

    @traceable
    def f() -> None:
        return None

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(
            langsmith_extra={
                "name": 3,
                "tags": [1],
                "metadata": "m",
                "on_end": "not callable",
                "project_name": 5,
            }
        )
        f(langsmith_extra={"tags": "one-tag", "metadata": {"ok": 1}})
    assert 5 == len(_jsontrace_warnings(caught))
    first, second = traces.runs()
    assert ("f", [], {}) == (first.name, first.start["tags"], first.start["metadata"])
    assert (["one-tag"], {"ok": 1}) == (second.start["tags"], second.start["metadata"])
