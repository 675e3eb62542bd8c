"""What a run inherits (LangSmith's rules, side by side with LangSmith itself) and tracing_context.

LangSmith's sources cited below are in ``langchain-ai/langsmith-sdk``:
``python/langsmith/run_helpers.py`` (``_setup_run``, ``tracing_context``),
``python/langsmith/run_trees.py`` (``RunTree.create_child``) and
``python/tests/unit_tests/test_run_helpers.py`` / ``test_run_trees.py``.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

import pytest

import jsontrace
from jsontrace import (
    ContextThreadPoolExecutor,
    JsonTraceWarning,
    copy_context,
    get_current_run_tree,
    get_tracing_context,
    trace,
    traceable,
    tracing_context,
)
from jsontrace.testing import capture_traces

from .langsmith_side import shape, under_jsontrace, under_langsmith

# -- programs run under both LangSmith and jsontrace ----------------------------------


def nested_decorator_options(ls: Any) -> None:
    """The issue's example: leaf under a decorated mid."""

    @ls.traceable
    def leaf(x: int) -> int:
        return x

    @ls.traceable(metadata={"tenant": "acme"}, tags=["outer-tag"])
    def mid(x: int) -> int:
        return leaf(x)

    mid(5)


def decorator_beats_call(ls: Any) -> None:
    """``metadata={"a": 1, "b": 2}`` called with ``langsmith_extra={"metadata": {"b": 3}}``."""

    @ls.traceable
    def leaf() -> None:
        return None

    @ls.traceable(metadata={"a": 1, "b": 2}, tags=["dec"])
    def f(x: int) -> None:
        leaf()

    f(1, langsmith_extra={"metadata": {"b": 3, "c": 4}, "tags": ["extra"]})


def inherited_beats_the_childs_call(ls: Any) -> None:
    """A child's langsmith_extra loses to what it inherits; its decorator wins."""

    @ls.traceable
    def leaf(x: int) -> int:
        return x

    @ls.traceable(metadata={"k": "child"}, tags=["c"])
    def decorated_child() -> int:
        return 1

    @ls.traceable(metadata={"tenant": "acme", "k": "parent"}, tags=["p"])
    def parent() -> None:
        leaf(1, langsmith_extra={"metadata": {"tenant": "other", "z": 1}, "tags": ["x"]})
        decorated_child()

    parent()


def block_around_a_run(ls: Any) -> None:
    """A tracing_context block's metadata beats the call's and loses to the decorator's."""

    @ls.traceable
    def leaf() -> None:
        return None

    @ls.traceable(metadata={"a": 1}, tags=["dec"])
    def f() -> None:
        leaf()

    with ls.tracing_context(tags=["ctx"], metadata={"m": 1, "a": 9}):
        f(langsmith_extra={"metadata": {"a": 5}})


def block_inside_a_run(ls: Any) -> None:
    """Inside a run, a block merges with the run: tags sorted, the block's metadata winning."""

    @ls.traceable
    def leaf() -> None:
        return None

    @ls.traceable(metadata={"k": 1}, tags=["p"])
    def f() -> None:
        ls.get_current_run_tree().add_metadata({"added": True})
        with ls.tracing_context(tags=["b"], metadata={"k": 2, "y": 2}):
            leaf()

    f()


def metadata_added_while_running(ls: Any) -> None:
    """Metadata a root adds while it runs reaches the children started after."""

    @ls.traceable
    def leaf() -> None:
        return None

    @ls.traceable(metadata={"tenant": "a"})
    def root() -> None:
        ls.get_current_run_tree().add_metadata({"tenant": "b", "new": 1})
        leaf()

    root()


SIDE_BY_SIDE = [
    nested_decorator_options,
    decorator_beats_call,
    inherited_beats_the_childs_call,
    block_around_a_run,
    block_inside_a_run,
    metadata_added_while_running,
]


@pytest.mark.parametrize("program", SIDE_BY_SIDE, ids=lambda p: p.__name__)
def test_runs_inherit_tags_and_metadata_exactly_as_in_langsmith(program: Any) -> None:
    """Each program records the same names, tags and metadata per run as real LangSmith.

    LangSmith: ``run_helpers._setup_run`` (children see the call's
    ``langsmith_extra``, the enclosing context's and the decorator's tags and
    metadata, in that order of precedence, lowest first) and
    ``RunTree.create_child`` (the parent's metadata under the child's); tests
    ``test_ls_message_view_exclude_metadata_cascades_to_child_runs`` and
    ``test_run_trees.py::test_create_child_propagates_thread_metadata``.
    """
    pytest.importorskip("langsmith")
    assert shape(under_langsmith(program)) == shape(under_jsontrace(program))


# -- the same rules, spelled out ------------------------------------------------------


def test_children_inherit_the_decorators_tags_and_metadata() -> None:
    """leaf under ``@traceable(metadata={"tenant": "acme"}, tags=["outer-tag"])`` records both.

    LangSmith: ``test_ls_message_view_exclude_metadata_cascades_to_child_runs``.
    """
    seen = shape(under_jsontrace(nested_decorator_options))
    assert [
        ("mid", ["outer-tag"], {"tenant": "acme"}),
        ("leaf", ["outer-tag"], {"tenant": "acme"}),
    ] == seen


def test_decorator_metadata_beats_the_calls_langsmith_extra() -> None:
    """``@traceable(metadata={"a": 1, "b": 2})`` with ``langsmith_extra`` b=3 records b=2, children too.

    LangSmith: ``run_helpers._setup_run`` merges ``langsmith_extra["metadata"]``
    first and updates it with the decorator's; tags are the call's, then the decorator's.
    """
    seen = shape(under_jsontrace(decorator_beats_call))
    expected = (["extra", "dec"], {"b": 2, "c": 4, "a": 1})
    assert [("f", *expected), ("leaf", *expected)] == seen


def test_tags_are_not_repeated_down_a_recursion() -> None:
    """A recursive traced function records its tag once per run.

    LangSmith concatenates the inherited tags and the decorator's, so at depth
    3 it records ``["x", "x", "x", "x"]``; we keep each tag once (in LangSmith's order).
    """

    @traceable(tags=["x"])
    def rec(n: int) -> int:
        return rec(n - 1) if n else 0

    with capture_traces() as traces:
        rec(3)
    assert [["x"]] * 4 == [run.start["tags"] for run in traces.runs()]


def test_tags_added_while_running_reach_later_children() -> None:
    """Tags a run adds while it runs are inherited by the children it starts after.

    Deliberately unlike LangSmith, which copies a run's tags at its start (so
    ``add_tags`` never reaches children) but passes later ``add_metadata`` on:
    here tags and metadata both reach children as they are when the child starts.
    """

    @traceable
    def leaf() -> None:
        return None

    @traceable(tags=["p"])
    def parent() -> None:
        leaf()
        jsontrace.get_current_run_tree().add_tags(["later"])  # type: ignore[union-attr]
        leaf()

    with capture_traces() as traces:
        parent()
    first, second = (run.start["tags"] for run in traces.runs() if run.name == "leaf")
    assert (["p"], ["p", "later"]) == (first, second)


def test_nested_blocks_merge_their_tags_and_metadata() -> None:
    """A block inside a block adds to it (the inner one winning on a conflict).

    Deliberately unlike LangSmith, where an inner ``tracing_context`` outside
    any run replaces the outer one's tags and metadata (``{"user": ...}`` would
    be lost below ``{"step": ...}``).
    """

    @traceable
    def leaf() -> None:
        return None

    with (
        capture_traces() as traces,
        tracing_context(tags=["a"], metadata={"user": "u", "k": 1}),
        tracing_context(tags=["b"], metadata={"step": 2, "k": 2}),
    ):
        leaf()
    run = traces.run("leaf")
    assert (["a", "b"], {"user": "u", "k": 2, "step": 2}) == (
        run.start["tags"],
        run.start["metadata"],
    )


def test_trace_blocks_inherit_like_functions() -> None:
    """A ``trace()`` block inherits as a decorated function does, its own options being the decorator's."""

    @traceable(tags=["p"], metadata={"tenant": "acme", "k": 1})
    def parent() -> None:
        with trace("block", tags=["b"], metadata={"k": 2}):
            pass

    with capture_traces() as traces:
        parent()
    block = traces.run("block")
    assert (["p", "b"], {"tenant": "acme", "k": 2}) == (
        block.start["tags"],
        block.start["metadata"],
    )


# -- enabled --------------------------------------------------------------------------


def test_block_enabled_false_records_nothing_but_the_decorator_wins() -> None:
    """``tracing_context(enabled=False)`` turns tracing off; ``@traceable(enabled=True)`` beats it.

    LangSmith: ``test_traceable_enabled_none_respects_context_disabled``,
    ``test_traceable_enabled_true_overrides_context``,
    ``test_trace_respects_tracing_context``.
    """

    @traceable
    def plain() -> int:
        return 1

    @traceable(enabled=True)
    def forced() -> int:
        return 2

    with capture_traces() as traces, tracing_context(enabled=False):
        assert 1 == plain()
        assert 2 == forced()
        with trace("block") as run:
            assert None is run
    assert ["forced"] == [run.name for run in traces.runs()]


def test_block_enabled_true_traces_when_configured_off_but_the_decorator_wins() -> None:
    """``tracing_context(enabled=True)`` traces with ``configure(enabled=False)``; ``enabled=False`` beats it.

    LangSmith: ``test_traceable_enabled_none_respects_context_enabled``,
    ``test_traceable_enabled_false_overrides_context``; ``"local"`` counts as on
    (``test_traceable_regular`` runs with both).
    """

    @traceable
    def plain() -> int:
        return 1

    @traceable(enabled=False)
    def off() -> int:
        return 2

    @traceable
    def stream() -> Any:
        yield 3

    jsontrace.configure(enabled=False)
    with capture_traces() as traces:
        plain()
        with tracing_context(enabled=True):
            plain()
            off()
            list(stream())
            with trace("block"):
                pass
        with tracing_context(enabled="local"):
            plain()
        plain()
    assert ["plain", "stream", "block", "plain"] == [run.name for run in traces.runs()]


def test_a_disabled_branch_inside_a_trace_leaves_it_connected() -> None:
    """Runs below a disabled block nest under the nearest recorded run.

    LangSmith: ``test_trace_nested_enable_disable`` (run -> run2 disabled -> run3:
    run3's parent is run).
    """
    with (
        capture_traces() as traces,
        trace("foo") as run,
        tracing_context(enabled=False),
        trace("bar") as run2,
    ):
        assert None is run2
        with tracing_context(enabled=True), trace("baz"):
            pass
    assert run is not None
    assert ["foo", "baz"] == [r.name for r in traces.runs()]
    assert run.run_id == traces.run("baz").parent_run_id


# -- where the block's context reaches ------------------------------------------------


async def test_blocks_reach_tasks_and_work_with_async_with() -> None:
    """Runs in tasks started inside a block (``async with`` or ``with``) get its tags and metadata."""

    @traceable
    async def leaf(i: int) -> int:
        await asyncio.sleep(0)
        return i

    with capture_traces() as traces:
        async with tracing_context(tags=["async"], metadata={"req": "r1"}):
            await asyncio.gather(leaf(1), asyncio.create_task(leaf(2)))
        with tracing_context(metadata={"req": "r2"}):
            await leaf(3)
    requests = sorted((run.start["metadata"]["req"], run.start["tags"]) for run in traces.runs())
    assert [("r1", ["async"]), ("r1", ["async"]), ("r2", [])] == requests


def test_blocks_reach_threads_given_the_context() -> None:
    """ContextThreadPoolExecutor and copy_context carry the block into threads; a plain Thread does not."""

    @traceable
    def leaf(where: str) -> str:
        return where

    with (
        capture_traces() as traces,
        tracing_context(metadata={"req": "r1"}),
        ContextThreadPoolExecutor(1) as pool,
    ):
        pool.submit(leaf, "executor").result()
        thread = threading.Thread(target=copy_context(leaf), args=("copied",))
        thread.start()
        thread.join()
        plain = threading.Thread(target=leaf, args=("plain",))
        plain.start()
        plain.join()
    metadata = {run.inputs["where"]: run.start["metadata"] for run in traces.runs()}
    assert {"executor": {"req": "r1"}, "copied": {"req": "r1"}, "plain": {}} == metadata


def test_get_tracing_context_recreates_the_context_in_a_plain_thread() -> None:
    """``tracing_context(**get_tracing_context())`` in a thread nests its runs under the caller, with the block's metadata.

    LangSmith: ``run_helpers.get_tracing_context`` and the way its own
    ``_process_async_iterator`` re-enters a context with it.
    """

    @traceable
    def leaf() -> None:
        return None

    def worker(options: dict[str, Any]) -> None:
        with tracing_context(**options):
            leaf()

    @traceable
    def parent() -> None:
        with tracing_context(metadata={"req": "r1"}):
            thread = threading.Thread(target=worker, args=(get_tracing_context(),))
            thread.start()
            thread.join()

    with capture_traces() as traces:
        parent()
    leaf_run = traces.run("leaf")
    assert (traces.run("parent").run_id, {"req": "r1"}) == (
        leaf_run.parent_run_id,
        leaf_run.start["metadata"],
    )


def test_parent_false_starts_a_new_trace() -> None:
    """``tracing_context(parent=False)`` and ``langsmith_extra={"parent": "ignore"}`` start new traces inside a run.

    LangSmith: ``tracing_context`` (``parent is not False``) and ``_get_parent_run``
    (``parent == "ignore"``).
    """

    @traceable
    def leaf(i: int) -> int:
        return i

    @traceable(tags=["p"])
    def parent() -> None:
        with tracing_context(parent=False):
            leaf(1)
        leaf(2, langsmith_extra={"parent": "ignore"})

    with capture_traces() as traces:
        parent()
    leaves = [run for run in traces.runs() if run.name == "leaf"]
    assert [(None, []), (None, [])] == [(run.parent_run_id, run.start["tags"]) for run in leaves]


# -- the project ------------------------------------------------------------------------


def test_project_name_is_metadata_and_a_trace_keeps_its_project() -> None:
    """``project_name`` is recorded as metadata ``project``; children join their parent's.

    LangSmith: ``test_traceable_project_name`` ("all runs in a trace are
    associated with the same project": a child's own project_name loses to its
    parent's) and ``_resolve_traceable_addressing`` (a root's tracing_context
    project beats the decorator's and the call's).
    """

    @traceable(project_name="child-project")
    def child() -> None:
        return None

    @traceable(project_name="my bar project")
    def root() -> None:
        child()

    with capture_traces() as traces:
        root()
        child(langsmith_extra={"project_name": "from-call"})
        with tracing_context(project_name="experiment"):
            root()
    projects = [(run.name, run.start["metadata"]["project"]) for run in traces.runs()]
    assert [
        ("root", "my bar project"),
        ("child", "my bar project"),
        ("child", "from-call"),
        ("root", "experiment"),
        ("child", "experiment"),
    ] == projects


# -- bad input --------------------------------------------------------------------------


def test_bad_options_warn_once_and_the_block_still_runs() -> None:
    """An unknown option, metadata that is not a dict and tags that are not strings: one warning each, the rest applies."""

    @traceable
    def leaf() -> None:
        return None

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            with tracing_context(metadata=["not", "a", "dict"], tags=[1, 2], colour="blue"):  # type: ignore[arg-type]
                leaf()
            with tracing_context(tags=["ok"]):
                leaf()
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, JsonTraceWarning))
    assert 3 == len(messages), messages
    assert any("'colour'" in message for message in messages)
    assert [[], ["ok"], [], ["ok"]] == [run.start["tags"] for run in traces.runs()]


def test_current_run_tree_inside_a_block_is_the_blocks_parent() -> None:
    """Inside ``tracing_context(parent=run)`` the current run is that run, before any run starts.

    LangSmith: ``test_tracing_context_replicas_apply_to_distributed_root_run``
    (``get_current_run_tree()`` is the placeholder parent inside the block).
    """
    with capture_traces(), trace("outer") as outer:
        pass
    assert outer is not None
    with tracing_context(parent=outer):
        tree = get_current_run_tree()
        assert tree is not None
        assert (outer.run_id, outer) == (tree.run_id, jsontrace.get_current_run())
    assert None is get_current_run_tree()


def test_token_usage_in_metadata_is_not_inherited_so_totals_count_it_once() -> None:
    """A parent's metadata usage_metadata stays its own: children neither inherit nor re-count it.

    LangSmith cascades every metadata key; usage is the one that must not cascade,
    because trace totals add every run's tokens.
    """

    @traceable(run_type="llm")
    def child() -> str:
        return "a"

    @traceable(run_type="llm")
    def parent() -> str:
        jsontrace.get_current_run_tree().metadata["usage_metadata"] = {  # type: ignore[union-attr]
            "input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
        }  # fmt: skip
        return child()

    with capture_traces() as traces:
        parent()
    assert "usage_metadata" not in traces.run("child").metadata
    assert traces.run("child").usage is None
    assert 15 == traces.run("parent").usage["total_tokens"]  # type: ignore[index]
    assert 15 == traces.run("parent").totals().total_tokens
