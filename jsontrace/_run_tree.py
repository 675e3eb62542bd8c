"""The current run as LangSmith exposes it: ``get_current_run_tree()`` and :class:`RunTree`.

A :class:`RunTree` is a view of a run being recorded (or of the run in another
process a block continues): LangSmith's attribute names over jsontrace's
:class:`~jsontrace.Run`. It is not built by hand and has no ``post()`` or
``patch()``: runs are written by ``@traceable`` and ``trace()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._context import current_parent
from ._errors import report_once, safe_repr
from ._headers import PROJECT, dotted_order, to_headers

if TYPE_CHECKING:
    import datetime
    import uuid

    from ._context import Parent
    from ._run import EndHook, Run

__all__ = ["RunTree", "end_hook", "get_current_run_tree", "set_run_metadata"]


def _uuid(text: str) -> uuid.UUID:
    import uuid  # ~5 ms of import the first time: only when these properties are read

    return uuid.UUID(text)


def _from_ns(ns: int) -> datetime.datetime:
    import datetime  # not at import: most programs never read a run's times

    return datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.timezone.utc)


class RunTree:
    """A run, with LangSmith's ``RunTree`` names: what ``get_current_run_tree()`` returns.

    Reading ``tags`` or ``metadata`` gives the live list and dict: changes to
    them are recorded (as with ``add_tags`` / ``add_metadata``) and inherited
    by runs started after them. ``end(outputs=...)`` inside a traced function
    adds to what it returns, as in LangSmith; the function's return still ends
    the run.
    """

    __slots__ = ("_end", "_node")

    def __init__(self, node: Parent, end: Mapping[str, Any] | None = None) -> None:
        self._node = node
        self._end = end

    def __repr__(self) -> str:
        return f"RunTree(id={self._node.run_id}, name={self.name!r}, run_type={self.run_type!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunTree) and other._node is self._node

    def __hash__(self) -> int:
        return hash(self._node.run_id)

    def _run(self) -> Run | None:
        from ._run import Run

        return self._node if isinstance(self._node, Run) else None

    # -- identity ----------------------------------------------------------------------

    @property
    def id(self) -> uuid.UUID:
        """The run id, as a ``uuid.UUID`` (LangSmith's type; ``run_id`` is the text)."""
        return _uuid(self._node.run_id)

    @property
    def run_id(self) -> str:
        return self._node.run_id

    @property
    def trace_id(self) -> uuid.UUID:
        return _uuid(self._node.trace_id)

    @property
    def parent_run_id(self) -> uuid.UUID | None:
        parent = getattr(self._node, "parent_run_id", None)
        return _uuid(parent) if isinstance(parent, str) else None

    @property
    def dotted_order(self) -> str:
        """LangSmith's dotted order: ``<start><id>`` per run from the trace's root down to this one."""
        return dotted_order(self._node)  # type: ignore[arg-type]  # a Parent is a Run or a RemoteParent

    @property
    def name(self) -> str:
        run = self._run()
        return run.name if run is not None else "parent"  # LangSmith's name for a run from headers

    @property
    def run_type(self) -> str:
        run = self._run()
        return run.run_type if run is not None else "chain"

    @property
    def session_name(self) -> str:
        """The project (metadata ``project``), ``"default"`` when none was named (as in LangSmith)."""
        project = self._node.metadata.get(PROJECT)
        return project if isinstance(project, str) and project else "default"

    project_name = session_name

    @property
    def start_time(self) -> datetime.datetime | None:
        run = self._run()
        return _from_ns(run._start_ns) if run is not None else None

    # -- tags, metadata, outputs -------------------------------------------------------

    @property
    def tags(self) -> list[str]:
        run = self._run()
        if run is not None:
            run.add_tags()  # the caller may change the list: write it with the end
        return self._node.tags

    @property
    def metadata(self) -> dict[str, Any]:
        run = self._run()
        if run is not None:
            run.add_metadata({})  # the caller may change the dict: write it with the end
        return self._node.metadata

    @property
    def extra(self) -> dict[str, Any]:
        """``{"metadata": ...}``: where LangSmith keeps a run's metadata."""
        return {"metadata": self.metadata}

    def add_tags(self, tags: str | Sequence[str]) -> None:
        """Add a tag, or a list of tags."""
        run = self._run()
        if run is not None:
            run.add_tags(tags)
        else:
            self._node.tags.extend([tags] if isinstance(tags, str) else tags)

    def add_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge *metadata* into the run's metadata."""
        run = self._run()
        if run is not None:
            run.add_metadata(metadata)
        else:
            self._node.metadata.update(metadata)

    def add_outputs(self, outputs: Mapping[str, Any]) -> None:
        """Add keys to the recorded outputs (merged with the return value at the end)."""
        run = self._run()
        if run is None:
            _not_local("add_outputs")
            return
        run.add_outputs(outputs)

    def end(
        self,
        *,
        outputs: Any = None,
        error: str | None = None,
        end_time: Any = None,
        events: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Set outputs (and metadata) to record when the run ends, as LangSmith's ``end()`` does.

        Inside ``@traceable`` the function's return ends the run: these outputs
        are merged with what it returns. ``error`` is not recorded (raise the
        exception instead); ``end_time`` and ``events`` are ignored.
        """
        run = self._run()
        if run is None:
            _not_local("end")
            return
        if outputs is not None:
            run.add_outputs(outputs if isinstance(outputs, Mapping) else {"output": outputs})
        if metadata:
            run.add_metadata(metadata)
        if error is not None:
            report_once(
                "run_tree:end:error",
                "RunTree.end(error=...) is not recorded: a run's error is the exception that ends it",
            )

    def to_headers(self) -> dict[str, str]:
        """Headers that continue this run's trace elsewhere (``langsmith-trace``, ``baggage``, ``traceparent``)."""
        return to_headers(self._node)  # type: ignore[arg-type]

    # -- after the end (what on_end callbacks see) ----------------------------------------

    @property
    def outputs(self) -> dict[str, Any]:
        """The recorded outputs once ended, as LangSmith holds them (a dict; else under ``"output"``)."""
        if self._end is None:
            return {}
        outputs = self._end.get("outputs")
        return dict(outputs) if isinstance(outputs, Mapping) else {"output": outputs}

    @property
    def error(self) -> str | None:
        """The error once ended with one: ``"Type: message"`` and the traceback."""
        error = self._end.get("error") if self._end is not None else None
        if not isinstance(error, Mapping):
            return None
        return (
            f"{error.get('type')}: {error.get('message')}\n\n{error.get('traceback', '')}".rstrip()
        )

    @property
    def status(self) -> str | None:
        """``ok``, ``error`` or ``cancelled`` once ended (jsontrace's), else None."""
        status = self._end.get("status") if self._end is not None else None
        return status if isinstance(status, str) else None

    @property
    def end_time(self) -> datetime.datetime | None:
        ts = self._end.get("ts") if self._end is not None else None
        if isinstance(ts, int):
            return _from_ns(ts)
        if isinstance(ts, str):
            import datetime

            return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        return None


def _not_local(method: str) -> None:
    report_once(
        f"run_tree:{method}",
        f"RunTree.{method}() on a run in another process does nothing here; ignored",
    )


def get_current_run_tree() -> RunTree | None:
    """The current run as a LangSmith-style :class:`RunTree`, or None outside traced code.

    Inside ``tracing_context(parent=headers)`` (before any run starts) it is
    the run in the other process that the block continues, as in LangSmith.
    """
    parent, _ = current_parent()
    return RunTree(parent) if parent is not None else None


def set_run_metadata(**metadata: Any) -> None:
    """Merge *metadata* into the current run's metadata (LangSmith's helper)."""
    parent, _ = current_parent()
    if parent is None:
        report_once("set_run_metadata", "set_run_metadata() outside a traced run; ignored")
        return
    RunTree(parent).add_metadata(metadata)


def end_hook(callback: Callable[[RunTree], Any]) -> EndHook:
    """*callback* (``langsmith_extra["on_end"]``) as a run's end hook: called with the ended run, contained."""

    def on_end(run: Run, event: dict[str, Any]) -> None:
        try:
            callback(RunTree(run, event))
        except Exception as exc:
            report_once(
                f"on_end:{run.name}",
                f"on_end of {run.name!r} raised {type(exc).__name__}: {safe_repr(exc)}",
            )

    return on_end
