"""Headers that carry a trace across processes, and parents in every form LangSmith accepts.

LangSmith's sources cited below are in ``langchain-ai/langsmith-sdk``:
``python/langsmith/run_trees.py`` (``RunTree.to_headers``, ``from_headers``,
``_Baggage``), ``python/langsmith/run_helpers.py`` (``_get_parent_run``) and
``python/tests/unit_tests/test_run_trees.py``.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from typing import Any
from unittest import mock

import pytest

import jsontrace
from jsontrace import JsonTraceWarning, get_current_run_tree, trace, traceable, tracing_context
from jsontrace._headers import format_baggage
from jsontrace.testing import CapturedTraces, capture_traces

from .langsmith_side import langsmith_offline


@traceable
def leaf(x: int = 0) -> int:
    return x


def _continued(parent: Any) -> tuple[CapturedTraces, Any]:
    """The run ``leaf`` records when called with ``langsmith_extra={"parent": parent}``."""
    with capture_traces() as traces:
        leaf(langsmith_extra={"parent": parent})
    return traces, traces.run("leaf")


# -- what to_headers() writes -----------------------------------------------------------


def test_headers_name_the_run_and_its_trace_in_all_three_formats() -> None:
    """``langsmith-trace`` is a segment per ancestor, ``traceparent`` the trace's and the run's ids.

    LangSmith: ``RunTree.to_headers`` / ``_create_current_dotted_order``
    (``start.strftime("%Y%m%dT%H%M%S%fZ") + str(id)``, joined by ``.`` under
    the parent's), ``test_run_trees.py::test_nested_run_trees_from_dotted_order``.
    W3C: ``00-<trace-id>-<parent-id>-<flags>``, the parent id being the run
    UUID's last 16 hex digits.
    """
    captured: dict[str, str] = {}

    @traceable
    def grandchild() -> None:
        captured.update(jsontrace.get_current_run().to_headers())  # type: ignore[union-attr]

    @traceable
    def child() -> None:
        grandchild()

    with capture_traces() as traces, trace("root"):
        child()
    runs = {run.name: run for run in traces.runs()}
    chain = [runs["root"], runs["child"], runs["grandchild"]]
    segments = captured["langsmith-trace"].split(".")
    assert [run.run_id for run in chain] == [part[-36:] for part in segments]
    stamps = [run.start["ts"].replace("-", "").replace(":", "").replace(".", "") for run in chain]
    assert stamps == [part[:-36] for part in segments]  # each run's start, to the microsecond
    trace_hex = runs["root"].trace_id.replace("-", "")
    span_hex = runs["grandchild"].run_id.replace("-", "")[-16:]
    assert f"00-{trace_hex}-{span_hex}-01" == captured["traceparent"]
    assert "baggage" not in captured  # nothing to carry


def test_baggage_is_byte_for_byte_what_langsmith_writes() -> None:
    """Metadata, tags and project give the ``baggage`` value LangSmith's ``_Baggage.to_header`` gives.

    LangSmith: ``run_trees._Baggage.to_header`` (``langsmith-metadata`` JSON,
    ``langsmith-tags`` comma-joined, ``langsmith-project``, each ``quote()``-d).
    """
    from langsmith.run_trees import _Baggage

    metadata = {"tenant": "acme/β", "n": 1, "nested": {"a": [1, "x y"]}, "ok": True}
    tags = ["t1", "two words", "ü"]
    ours = format_baggage({**metadata, "project": "my project"}, tags)
    theirs = _Baggage(metadata=metadata, tags=tags, project_name="my project").to_header()
    assert theirs == ours


def test_langsmith_reads_our_headers_as_the_same_run() -> None:
    """LangSmith's ``RunTree.from_headers`` on our headers gives our ids, metadata, tags and project.

    LangSmith: ``RunTree.from_headers`` (trace id from the first segment, id
    from the last, parent from the one before; metadata and tags from baggage).
    """
    from langsmith.run_trees import RunTree as LangSmithRunTree

    @traceable(tags=["t"], metadata={"tenant": "acme"}, project_name="proj")
    def child() -> dict[str, str]:
        return jsontrace.get_current_run().to_headers()  # type: ignore[union-attr]

    with capture_traces() as traces, trace("root"):
        headers = child()
    run = traces.run("child")
    with langsmith_offline():
        theirs = LangSmithRunTree.from_headers(headers)
    assert theirs is not None
    assert (run.run_id, run.trace_id, run.parent_run_id) == (
        str(theirs.id),
        str(theirs.trace_id),
        str(theirs.parent_run_id),
    )
    assert ({"tenant": "acme"}, ["t"], "proj") == (
        theirs.metadata,
        theirs.tags,
        theirs.session_name,
    )


def test_metadata_in_baggage_is_redacted() -> None:
    """Secrets in metadata are scrubbed from ``baggage`` as from the files (headers leave the process)."""

    @traceable(metadata={"api_key": "sk-abcdefghijklmnopqrstuvwxyz123456", "user": "u"})
    def f() -> dict[str, str]:
        return get_current_run_tree().to_headers()  # type: ignore[union-attr]

    with capture_traces():
        baggage = f()["baggage"]
    assert "abcdefghij" not in baggage
    assert "user%22%3A%22u" in baggage


# -- parents in every form ------------------------------------------------------------------


def test_a_langsmith_runtree_headers_continue_its_trace() -> None:
    """LangSmith's own ``RunTree.to_headers()`` output as parent: its trace id, its run as parent, its baggage.

    LangSmith docs, "Implement distributed tracing": ``headers.update(run_tree.to_headers())``
    on one side, ``langsmith_extra={"parent": request.headers}`` on the other;
    ``RunTree.from_headers``: metadata from baggage, under the call's.
    """
    from langsmith.run_trees import RunTree as LangSmithRunTree

    with langsmith_offline():
        upstream = LangSmithRunTree(
            name="upstream",
            tags=["bt"],
            extra={"metadata": {"tenant": "acme", "n": 1}},
            project_name="projX",
        )
        child = upstream.create_child("child")
        headers = child.to_headers()
    with capture_traces() as traces:
        leaf(langsmith_extra={"parent": headers, "metadata": {"n": 2}})
    run = traces.run("leaf")
    assert (str(upstream.trace_id), str(child.id)) == (run.trace_id, run.parent_run_id)
    assert {"tenant": "acme", "n": 2, "project": "projX"} == run.start["metadata"]


def test_a_langsmith_runtree_object_is_a_parent() -> None:
    """A LangSmith ``RunTree`` itself (not its headers) as ``parent``.

    LangSmith: ``_get_parent_run`` (``isinstance(parent, RunTree)``).
    """
    from langsmith.run_trees import RunTree as LangSmithRunTree

    with langsmith_offline():
        upstream = LangSmithRunTree(name="upstream")
    _, run = _continued(upstream)
    assert (str(upstream.trace_id), str(upstream.id)) == (run.trace_id, run.parent_run_id)


def test_a_dotted_order_a_run_id_and_runs_are_parents() -> None:
    """A dotted order (text), a run id (text or UUID), a Run and a RunTree from another thread are parents.

    LangSmith: ``_get_parent_run`` (a string is a dotted order:
    ``RunTree.from_dotted_order``). A bare run id names no trace: it is taken
    as the trace's root.
    """
    holder: dict[str, Any] = {}

    def other_thread() -> None:
        with trace("elsewhere") as run:
            holder["run"] = run
            holder["tree"] = get_current_run_tree()
            holder["dotted"] = holder["tree"].dotted_order

    with capture_traces() as traces:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    elsewhere = traces.run("elsewhere")
    for parent in (holder["run"], holder["tree"], holder["dotted"]):
        _, run = _continued(parent)
        assert (elsewhere.trace_id, elsewhere.run_id) == (run.trace_id, run.parent_run_id)
    some_id = uuid.uuid4()
    for parent in (str(some_id), some_id, str(some_id).upper()):
        _, run = _continued(parent)
        assert (str(some_id), str(some_id)) == (run.trace_id, run.parent_run_id)


def test_a_bare_opentelemetry_traceparent_continues_its_trace_id() -> None:
    """A ``traceparent`` from the OpenTelemetry SDK (the parent span not a run of ours).

    The run keeps the OpenTelemetry trace id (as a UUID) and names the parent
    span as ``00000000-0000-0000-<span id>``, so that span ids taken from run
    ids (their last 16 hex digits) point back at the caller's span.
    """
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    tracer = TracerProvider().get_tracer("test")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("upstream") as span:
        TraceContextTextMapPropagator().inject(carrier)
        context = span.get_span_context()
    _, run = _continued(carrier)
    assert (f"{context.trace_id:032x}", f"{context.span_id:016x}") == (
        run.trace_id.replace("-", ""),
        run.parent_run_id.replace("-", "")[-16:],
    )
    assert run.parent_run_id.startswith("00000000-0000-0000-")


def test_langsmith_trace_wins_over_traceparent() -> None:
    """With both headers (as to_headers writes them), ``langsmith-trace`` gives the ids: it names the parent in full."""
    with capture_traces() as traces, trace("up") as up:
        assert up is not None
        headers = up.to_headers()
    headers["traceparent"] = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    _, run = _continued(headers)
    assert (up.trace_id, up.run_id) == (run.trace_id, run.parent_run_id)
    assert 1 == len(traces.runs())


def test_headers_are_found_in_any_case_as_bytes_or_pairs() -> None:
    """Header names in any case, str or bytes, in a dict or a list of pairs (ASGI's raw headers)."""
    with capture_traces(), trace("up") as up:
        assert up is not None
        headers = up.to_headers()
    forms = [
        {name.upper(): value for name, value in headers.items()},
        {name.encode(): value.encode() for name, value in headers.items()},
        [(name.encode(), value.encode()) for name, value in headers.items()],
    ]
    for form in forms:
        _, run = _continued(form)
        assert up.run_id == run.parent_run_id


def test_baggage_members_of_other_systems_are_ignored() -> None:
    """Other baggage members, spaces and properties around ours do not disturb them (W3C baggage)."""
    with capture_traces(), trace("up", tags=["t"], metadata={"k": 1}) as up:
        assert up is not None
        headers = up.to_headers()
    members = headers["baggage"].split(",")
    headers["baggage"] = "userId=alice, " + " , ".join(m + ";prop=1" for m in members) + ",x=y"
    _, run = _continued(headers)
    assert (["t"], {"k": 1}) == (run.start["tags"], run.start["metadata"])


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"langsmith-trace": "garbage"},
        {"langsmith-trace": "20240101T000000000000Znot-a-uuid"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"},
        {"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01"},
        {"traceparent": "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {"traceparent": "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"},
    ],
)
def test_malformed_headers_warn_once_and_the_run_starts_a_trace(headers: dict[str, str]) -> None:
    """A malformed ``langsmith-trace`` or ``traceparent``: one warning, the call traced as a new trace.

    LangSmith raises ``ValueError`` into the caller for a bad ``langsmith-trace``
    (``_parse_dotted_order``); the W3C rules reject all-zero ids, version ff
    and upper-case hex.
    """
    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert 1 == leaf(1, langsmith_extra={"parent": headers})
        assert 2 == leaf(2, langsmith_extra={"parent": headers})
    ours = [w for w in caught if issubclass(w.category, JsonTraceWarning)]
    assert 1 == len(ours)
    assert "malformed" in str(ours[0].message)
    assert [None, None] == [run.parent_run_id for run in traces.runs()]


def test_malformed_baggage_metadata_is_dropped_and_the_ids_kept() -> None:
    """Baggage whose metadata is not a JSON object: warned once; the parent from ``langsmith-trace`` still holds."""
    with capture_traces(), trace("up") as up:
        assert up is not None
        headers = {**up.to_headers(), "baggage": "langsmith-metadata=%7Bnot-json,langsmith-tags=a"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, run = _continued(headers)
    assert (up.run_id, ["a"], {}) == (run.parent_run_id, run.start["tags"], run.start["metadata"])
    assert 1 == len([w for w in caught if issubclass(w.category, JsonTraceWarning)])


def test_a_parent_that_is_not_a_run_warns_once_and_is_ignored() -> None:
    """``parent=42``: one warning; the run nests where it would have without it.

    LangSmith ignores such a parent silently (``_get_parent_run`` falls back to
    the current run).
    """

    @traceable
    def outer() -> None:
        leaf(langsmith_extra={"parent": 42})
        with tracing_context(parent=object()):
            leaf()

    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outer()
    messages = [str(w.message) for w in caught if issubclass(w.category, JsonTraceWarning)]
    assert 2 == len(messages), messages
    assert "must be a run" in messages[0]
    outer_id = traces.run("outer").run_id
    assert [outer_id, outer_id] == [r.parent_run_id for r in traces.runs() if r.name == "leaf"]


def test_headers_without_a_trace_are_not_a_mistake() -> None:
    """Request headers with neither ``langsmith-trace`` nor ``traceparent``: no warning, a new trace."""
    with capture_traces() as traces, warnings.catch_warnings():
        warnings.simplefilter("error")
        leaf(langsmith_extra={"parent": {"content-type": "application/json"}})
        with tracing_context(parent={"user-agent": "x"}):
            leaf()
    assert [None, None] == [run.parent_run_id for run in traces.runs()]


def test_a_runtree_whose_to_headers_raises_is_ignored_with_a_warning() -> None:
    """A RunTree-like object that fails to give its headers: warned once, the call goes on."""
    broken = mock.Mock()
    broken.to_headers.side_effect = RuntimeError("no")
    with capture_traces() as traces, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert 3 == leaf(3, langsmith_extra={"parent": broken})
    assert None is traces.run("leaf").parent_run_id
    assert 1 == len([w for w in caught if issubclass(w.category, JsonTraceWarning)])
