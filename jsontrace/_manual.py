"""``trace(...)``: a run around a block of code that is not a function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from . import _context
from ._config import CONFIG
from ._context import AsyncWith, current_run
from ._errors import report_once, safe_repr
from ._extra import parse_extra, tag_list
from ._run import Run
from ._tracing_context import place, tracing_forced

__all__ = ["trace"]


class trace(AsyncWith["Run | None"]):
    """Record a block as a run, nested under the current run; usable with ``with`` and ``async with``.

    ::

        with trace("retrieve", run_type="retriever", inputs={"query": q}) as run:
            docs = search(q)
            run.set_outputs(docs)

    An exception leaving the block ends the run with status ``error`` (or
    ``cancelled`` for ``asyncio.CancelledError``) and goes on unchanged. When
    tracing is off, or jsontrace itself fails, the block runs all the same
    and ``run`` is None.

    The run inherits tags and metadata as a traced function does, its own
    ``tags`` and ``metadata`` being the decorator's. ``parent``, ``run_id``,
    ``project_name`` and ``reference_example_id`` are taken as in
    ``langsmith_extra`` (``trace("job", parent=headers)`` continues a trace
    from another process); ``client`` is accepted and ignored, as LangSmith's
    ``trace`` takes it.
    """

    def __init__(
        self,
        name: str,
        run_type: str = "chain",
        *,
        inputs: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        parent: Any = None,
        run_id: Any = None,
        project_name: str | None = None,
        reference_example_id: Any = None,
        client: Any = None,
    ) -> None:
        self._args = (name, run_type, inputs, tags, metadata)
        self._extra = {
            "parent": parent,
            "run_id": run_id,
            "project_name": project_name,
            "reference_example_id": reference_example_id,
        }
        self._enabled = enabled
        self._run: Run | None = None
        self._token: Any = None
        self._previous: Run | None = None

    def __enter__(self) -> Run | None:
        enabled = self._enabled
        if not (
            enabled
            if enabled is not None
            else CONFIG.enabled or (_context.forcing and tracing_forced())
        ):
            return None
        name, run_type, inputs, tags, metadata = self._args
        try:
            call = (
                parse_extra(self._extra)
                if any(v is not None for v in self._extra.values())
                else None
            )
            own_tags = list(dict.fromkeys(tag_list(tags, "trace(tags=...)") or []))
            placed = place(own_tags, dict(metadata or {}), None, call, enabled)
            if placed is None:  # switched off by a tracing_context block
                return None
            parent, tags, metadata = placed
            self._run = Run(
                name,
                run_type=run_type,
                inputs=dict(inputs) if inputs is not None else {},  # never asks inputs for truth
                tags=tags,
                metadata=metadata,
                parent=parent,
                run_id=call.run_id if call is not None else None,
            )
        except Exception as exc:
            report_once(f"trace:{name}", f"could not trace {name!r}: {safe_repr(exc)}")
            return None
        self._previous = current_run.get()
        self._token = current_run.set(self._run)
        return self._run

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        run = self._run
        if run is None:
            return
        if exc is not None:
            run.fail(exc)
        else:
            run.end(None)
        try:
            current_run.reset(self._token)
        except ValueError:
            # Exited in another Context than entered (a block spanning a yield of a
            # generator driven by anyio or finalised by asyncio): restore by value.
            current_run.set(self._previous)
