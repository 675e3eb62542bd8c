"""What is current here: the run whose body runs, the innermost ``tracing_context`` block.

Both live in ContextVars. asyncio copies the context into every task
(``create_task``, ``gather``), so runs nest across ``await`` on their own.
Threads start with an empty context: use :class:`ContextThreadPoolExecutor` or
:func:`copy_context` to take the current run (and block) along.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from ._run import Run

__all__ = [
    "AsyncWith",
    "ContextThreadPoolExecutor",
    "Parent",
    "Scope",
    "copy_context",
    "current_parent",
    "current_run",
    "current_scope",
    "get_current_run",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class Parent(Protocol):
    """What a new run needs of the run it nests under: a local :class:`Run`, or one in another process."""

    run_id: str
    trace_id: str
    tags: list[str]
    metadata: dict[str, Any]


class Scope:
    """One ``tracing_context`` block, as its runs see it (see :mod:`jsontrace._tracing_context`).

    ``entry`` is the run that was current when the block was entered; while it
    still is, new runs go under ``run`` (the block's ``parent=``, or ``entry``
    itself) and inherit the block's ``tags`` and ``metadata``.
    """

    __slots__ = ("enabled", "entry", "metadata", "project_name", "run", "tags")

    def __init__(
        self,
        *,
        entry: Run | None,
        run: Parent | None,
        tags: list[str],
        metadata: dict[str, Any],
        enabled: bool | None,
        project_name: str | None,
    ) -> None:
        self.entry = entry
        self.run = run
        self.tags = tags
        self.metadata = metadata
        self.enabled = enabled
        self.project_name = project_name


#: Set once any ``tracing_context(enabled=True)`` block was entered in this process: only
#: then does a call made with tracing switched off look for one (one check, not a lookup).
forcing = False
#: Tracing is off (``configure(enabled=False)``) and ``forcing`` is not set: a traced call
#: reads this one flag and runs the function (kept by jsontrace._decorator).
off = False

current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "jsontrace_current_run", default=None
)
current_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "jsontrace_current_scope", default=None
)


def current_parent() -> tuple[Parent | None, Scope | None]:
    """The run a run started here nests under, and the block that applies to it (or None)."""
    run = current_run.get()
    scope = current_scope.get()
    if scope is not None and scope.entry is run:
        return scope.run, scope
    return run, None


def get_current_run() -> Run | None:
    """The run whose body is executing here, or None outside any traced code.

    Inside ``tracing_context(parent=run)`` it is that run; a parent in another
    process (headers) is not a :class:`Run`: see ``get_current_run_tree()``.
    """
    run = current_run.get()
    scope = current_scope.get()
    if scope is None or scope.entry is not run:
        return run
    from ._run import Run  # loaded by then: tracing_context() imports it

    return scope.run if isinstance(scope.run, Run) else None


def copy_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind *fn* to the current context, so runs it makes nest under the current run.

    For ``threading.Thread(target=copy_context(work))`` and other places that
    call a function later in another thread.
    """
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        # A Context can be entered by one thread at a time; copy it per call so
        # the same bound function can run in several threads at once.
        return context.copy().run(fn, *args, **kwargs)

    return run_in_context


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in the submitter's context.

    Runs traced inside ``executor.submit(...)`` and ``executor.map(...)``
    become children of the run that submitted them, as in LangSmith's
    executor of the same name.
    """

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


class AsyncWith(Generic[T]):
    """``async with`` for a context manager whose entering and leaving are synchronous."""

    def __enter__(self) -> T:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> T:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
