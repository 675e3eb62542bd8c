"""``tracing_context``, and where a new run goes and what it inherits (LangSmith's rules).

A run started here nests under the current run (or the block's ``parent=``)
and inherits tags and metadata, as in LangSmith::

    metadata = {**parent's, **langsmith_extra's, **inherited, **decorator's}
    tags     = langsmith_extra's + inherited + decorator's (repeats dropped)

"inherited" is the innermost ``tracing_context`` block's, when it was entered
in the current run's body (or outside any run), else the parent run's own
tags and metadata as they are when the child starts. So the decorator's
metadata beats the call's ``langsmith_extra`` (LangSmith records b=2 for
``@traceable(metadata={"b": 2})`` called with ``langsmith_extra={"metadata":
{"b": 3}}``), and what a child inherits beats its call's too. A parent named
in the call (``langsmith_extra={"parent": headers}``) gives its metadata
first only, so the call's beats it, and its tags as inherited.

Where LangSmith's result comes from how it shares lists and dicts rather
than from a rule, we keep the rule: tags are not repeated down a recursion,
tags added while a run runs reach its later children as metadata does, and a
block inside a block adds to it (LangSmith replaces the outer block's tags
and metadata when no run is between them).

``project_name`` is metadata ``project``, inherited like the rest; the
decorator's or the call's applies only where nothing inherited names one (in
LangSmith a child joins its parent's project).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from . import _context
from ._context import AsyncWith, Parent, Scope, current_run, current_scope
from ._errors import report_once, safe_repr
from ._extra import UNSET, Call, tag_list
from ._headers import PROJECT, REFERENCE_EXAMPLE_ID
from ._parents import DETACHED, resolve

if TYPE_CHECKING:
    from ._run_tree import RunTree

__all__ = ["get_tracing_context", "place", "tracing_context", "tracing_forced"]

#: Metadata LangSmith keeps token usage in (``run_tree.set(usage_metadata=...)``).
USAGE_METADATA = "usage_metadata"

#: The parent, tags and metadata of a new run (the caller copies the tags and metadata).
Placed = tuple["Parent | None", list[str], Mapping[str, Any]]


def tracing_forced() -> bool:
    """Whether a ``tracing_context(enabled=True)`` block turns tracing on here."""
    scope = current_scope.get()
    return scope is not None and scope.enabled is True


def place(
    own_tags: list[str],
    own_metadata: Mapping[str, Any],
    project_name: str | None,
    call: Call | None,
    enabled: bool | None,
) -> Placed | None:
    """Parent, tags and metadata of a run starting here; None if a block switched tracing off.

    *own_tags* and *own_metadata* are the decorator's (or the ``trace()``
    block's), *project_name* its ``project_name``, *enabled* its ``enabled``
    (which beats the block's).
    """
    current = current_run.get()
    scope = current_scope.get()
    if enabled is None and scope is not None and scope.enabled is False:
        return None
    inherited: Parent | Scope | None
    explicit = call.parent if call is not None else UNSET
    if explicit is UNSET:
        if scope is not None and scope.entry is current:
            parent, inherited = scope.run, scope
        else:
            parent = inherited = current
    elif explicit is DETACHED:
        parent = inherited = None
    else:
        parent, inherited = cast("Parent", explicit), None
    call_tags: list[str] = call.tags if call is not None else []
    call_metadata = call.metadata if call is not None else None
    if call is not None and call.project_name:
        project_name = call.project_name
    parent_metadata = parent.metadata if parent is not None else None
    inherited_tags: list[str] | None
    inherited_metadata: dict[str, Any] | None
    if inherited is not None:
        inherited_tags, inherited_metadata = inherited.tags, inherited.metadata
    else:
        # A parent named in the call: its metadata comes first (the call's beats it,
        # as in LangSmith); its tags are inherited (LangSmith drops them here only).
        inherited_tags = parent.tags if parent is not None else None
        inherited_metadata = None

    if call_tags or inherited_tags:
        tags = list(dict.fromkeys([*call_tags, *(inherited_tags or ()), *own_tags]))
    else:
        tags = own_tags
    if not (parent_metadata or call_metadata or inherited_metadata or project_name):
        metadata: Mapping[str, Any] = own_metadata
    else:
        merged: dict[str, Any] = {PROJECT: project_name} if project_name else {}
        if parent_metadata:
            merged.update(parent_metadata)
        if call_metadata:
            merged.update(call_metadata)
        if inherited_metadata and (inherited_metadata is not parent_metadata or call_metadata):
            merged.update(inherited_metadata)  # inherited beats the call's own
        merged.pop(REFERENCE_EXAMPLE_ID, None)  # a run's own, not its children's
        if not (call_metadata and USAGE_METADATA in call_metadata):
            # Tokens belong to the run that spent them: inherited, every child would count
            # its parent's usage again in the trace's totals (LangSmith cascades it).
            merged.pop(USAGE_METADATA, None)
        merged.update(own_metadata)
        metadata = merged
    if call is not None and call.reference_example_id is not None:
        metadata = {**metadata, REFERENCE_EXAMPLE_ID: call.reference_example_id}
    return parent, tags, metadata


class tracing_context(AsyncWith[None]):
    """Set tracing options for a block: ``with tracing_context(...):`` (or ``async with``).

    LangSmith's context manager of the same name. Every run started in the
    block (directly, or in tasks and in threads given the context by
    ``ContextThreadPoolExecutor`` / ``copy_context``) gets:

    * ``enabled``: True traces even when ``configure(enabled=False)``, False
      records nothing; ``@traceable(enabled=...)`` beats it. None (default):
      as outside the block. ``"local"`` counts as True.
    * ``tags``, ``metadata``: added to every run in the block, and to the
      block's runs' children (merged with the current run's, as LangSmith does).
    * ``parent``: the run the block's runs nest under, in any form
      ``langsmith_extra["parent"]`` takes: a run, a RunTree, request headers
      (``tracing_context(parent=request.headers)`` continues a trace from
      another process), a dotted order, a run id; ``False``: a new trace.
    * ``project_name``: recorded as metadata ``project``.

    ``client``, ``replicas``, ``address`` and ``distributed_parent_id`` are
    accepted for LangSmith code and ignored (there is no server).
    """

    def __init__(
        self,
        *,
        project_name: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        parent: Any = None,
        enabled: bool | str | None = None,
        client: Any = None,
        replicas: Any = None,
        address: Any = None,
        distributed_parent_id: Any = None,
        **kwargs: Any,
    ) -> None:
        for key in kwargs:
            report_once(
                f"tracing_context:{key}",
                f"tracing_context() has no option {key!r}; ignored",
            )
        self._tags = (tag_list(tags, "tracing_context(tags=...)") or []) if tags is not None else []
        self._metadata: dict[str, Any] = {}
        if isinstance(metadata, Mapping):
            self._metadata = dict(metadata)
        elif metadata is not None:
            report_once(
                "tracing_context:metadata",
                f"tracing_context(metadata=...) must be a dict, got {type(metadata).__name__}; ignored",
            )
        self._project_name = (
            project_name if isinstance(project_name, str) and project_name else None
        )
        self._parent = parent
        self._enabled: bool | None = None if enabled is None else bool(enabled)
        self._token: contextvars.Token[Scope | None] | None = None
        self._previous: Scope | None = None

    def _scope(self) -> Scope:
        current = current_run.get()
        outer = current_scope.get()
        base: Parent | Scope | None
        run: Parent | None
        explicit = resolve(self._parent, "tracing_context(parent=...)")
        if explicit is DETACHED:
            run = base = None
        elif explicit is not None:
            run = base = explicit  # type: ignore[assignment]
        elif outer is not None and outer.entry is current:
            run, base = outer.run, outer
        else:
            run = base = current
        base_tags = base.tags if base is not None else []
        # LangSmith sorts the union when there is something to merge with.
        tags = sorted({*self._tags, *base_tags}) if base_tags else list(dict.fromkeys(self._tags))
        metadata = {**(base.metadata if base is not None else {}), **self._metadata}
        if self._project_name:
            metadata[PROJECT] = self._project_name
        enabled = self._enabled
        if enabled is None and outer is not None:
            enabled = outer.enabled
        if enabled is True:
            _context.forcing = True
            _context.off = False
        project = self._project_name or (outer.project_name if outer is not None else None)
        return Scope(
            entry=current,
            run=run,
            tags=tags,
            metadata=metadata,
            enabled=enabled,
            project_name=project,
        )

    def __enter__(self) -> None:
        try:
            scope = self._scope()
        except Exception as exc:
            report_once("tracing_context", f"tracing_context() failed: {safe_repr(exc)}; ignored")
            return
        self._previous = current_scope.get()
        self._token = current_scope.set(scope)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            current_scope.reset(token)
        except ValueError:
            # Exited in another Context than entered (a block spanning a yield): by value.
            current_scope.set(self._previous)


def get_tracing_context(context: contextvars.Context | None = None) -> dict[str, Any]:
    """The tracing options in effect here (or in *context*), as LangSmith's function returns them.

    ``tracing_context(**get_tracing_context())`` re-creates them elsewhere,
    e.g. in a thread started without the context.
    """
    from ._run_tree import RunTree

    if context is None:
        run, scope = current_run.get(), current_scope.get()
    else:
        run, scope = context.get(current_run), context.get(current_scope)
    applies = scope is not None and scope.entry is run
    parent: Parent | None = scope.run if applies and scope is not None else run
    tree: RunTree | None = RunTree(parent) if parent is not None else None
    return {
        "parent": tree,
        "project_name": scope.project_name if scope is not None else None,
        "tags": list(scope.tags) if applies and scope is not None else None,
        "metadata": dict(scope.metadata) if applies and scope is not None else None,
        "enabled": scope.enabled if scope is not None else None,
        "client": None,
        "replicas": None,
        "distributed_parent_id": None,
    }
