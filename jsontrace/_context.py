"""The current run, kept in a ContextVar, and helpers to carry it into threads.

asyncio copies the context into every task (``create_task``, ``gather``), so
runs nest across ``await`` on their own. Threads start with an empty context:
use :class:`ContextThreadPoolExecutor` or :func:`copy_context` to take the
current run along.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["ContextThreadPoolExecutor", "copy_context", "current_run", "get_current_run"]

P = ParamSpec("P")
R = TypeVar("R")

current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "jsontrace_current_run", default=None
)


def get_current_run() -> Run | None:
    """The run whose body is executing here, or None outside any traced code."""
    return current_run.get()


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
