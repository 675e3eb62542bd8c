"""``trace(...)``: a run around a block of code that is not a function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from ._config import CONFIG
from ._context import current_run
from ._errors import report_once, safe_repr
from ._run import Run

__all__ = ["trace"]


class trace:
    """Record a block as a run, nested under the current run; usable with ``with`` and ``async with``.

    ::

        with trace("retrieve", run_type="retriever", inputs={"query": q}) as run:
            docs = search(q)
            run.set_outputs(docs)

    An exception leaving the block ends the run with status ``error`` (or
    ``cancelled`` for ``asyncio.CancelledError``) and goes on unchanged. When
    tracing is off, or jsontrace itself fails, the block runs all the same
    and ``run`` is None.
    """

    def __init__(
        self,
        name: str,
        *,
        run_type: str = "chain",
        inputs: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
    ) -> None:
        self._args = (name, run_type, inputs, tags, metadata)
        self._enabled = enabled
        self._run: Run | None = None
        self._token: Any = None
        self._previous: Run | None = None

    def __enter__(self) -> Run | None:
        enabled = CONFIG.enabled if self._enabled is None else self._enabled
        if not enabled:
            return None
        name, run_type, inputs, tags, metadata = self._args
        try:
            self._run = Run(
                name,
                run_type=run_type,
                inputs=dict(inputs) if inputs is not None else {},  # never asks inputs for truth
                tags=tags,
                metadata=metadata,
                parent=current_run.get(),
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

    async def __aenter__(self) -> Run | None:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
