"""``@traceable``: one wrapper per kind of function, chosen once at decoration time.

* sync functions and coroutine functions get a plain closure (the fastest call);
* generator and async generator functions get a small function-like object,
  because their run must start when they are *called* (so the caller's run is
  the parent) while ``inspect.isgeneratorfunction`` / ``isasyncgenfunction``
  must still say True, which a plain closure that runs code on call cannot
  (see :mod:`jsontrace._generators`).

What a call records is prepared once per function, in a
:class:`~jsontrace._spec.Spec` (inputs are bound by :mod:`jsontrace._inputs`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from . import _context
from ._config import CONFIG, on_change
from ._context import current_run
from ._errors import safe_repr
from ._generators import GeneratorFunction, adrive, drive
from ._pipeline import prepare
from ._spec import Spec
from ._tracing_context import tracing_forced

__all__ = ["traceable"]

F = TypeVar("F", bound=Callable[..., Any])

_LANGSMITH_EXTRA = "langsmith_extra"


def _update_off() -> None:
    """Keep ``_context.off`` true exactly when tracing is off and nothing can force it on."""
    _context.off = not CONFIG.enabled and not _context.forcing


on_change(_update_off)
_update_off()


# -- wrappers --------------------------------------------------------------------------


def _wrap_function(fn: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        extra = kwargs.pop(_LANGSMITH_EXTRA, None) if kwargs else None
        # spec.active() inlined: these lines are the whole cost of a call with tracing off
        # (the first, one flag, is all of it when tracing is off and nothing forces it on).
        if _context.off and spec.enabled is None:
            return fn(*args, **kwargs)
        if not (CONFIG.enabled if spec.enabled is None else spec.enabled) and (
            spec.enabled is not None or not _context.forcing or not tracing_forced()
        ):
            return fn(*args, **kwargs)
        run = spec.start(args, kwargs, extra, generator=False)
        if run is None:
            return fn(*args, **kwargs)
        token = current_run.set(run)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            current_run.reset(token)
        run.end(result)
        return result

    return traced


def _wrap_coroutine_function(fn: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        extra = kwargs.pop(_LANGSMITH_EXTRA, None) if kwargs else None
        if _context.off and spec.enabled is None:
            return await fn(*args, **kwargs)
        if not (CONFIG.enabled if spec.enabled is None else spec.enabled) and (
            spec.enabled is not None or not _context.forcing or not tracing_forced()
        ):
            return await fn(*args, **kwargs)
        run = spec.start(args, kwargs, extra, generator=False)
        if run is None:
            return await fn(*args, **kwargs)
        token = current_run.set(run)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            current_run.reset(token)
        run.end(result)
        return result

    return traced


# -- the decorator ---------------------------------------------------------------------


def _decorate(fn: Any, options: dict[str, Any]) -> Any:
    if isinstance(fn, (classmethod, staticmethod)):
        return type(fn)(_decorate(fn.__func__, options))
    if not callable(fn):
        raise TypeError(f"@traceable needs a function, got {type(fn).__name__}: {safe_repr(fn)}")
    spec = Spec(fn, **options)
    prepare()  # the pipeline is built now, not inside the first call's clock
    if inspect.isasyncgenfunction(fn):
        return GeneratorFunction(fn, spec, adrive)
    if inspect.isgeneratorfunction(fn):
        return GeneratorFunction(fn, spec, drive)
    if inspect.iscoroutinefunction(fn):
        return _wrap_coroutine_function(fn, spec)
    return _wrap_function(fn, spec)


@overload
def traceable(func: F, /) -> F: ...
@overload
def traceable(
    run_type: str = ...,
    /,
    *,
    name: str | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    tags: Sequence[str] | None = ...,
    reduce_fn: Callable[[list[Any]], Any] | None = ...,
    process_inputs: Callable[[dict[str, Any]], Any] | None = ...,
    process_outputs: Callable[[Any], Any] | None = ...,
    process_chunk: Callable[[Any], Any] | None = ...,
    enabled: bool | None = ...,
    project_name: str | None = ...,
    client: Any = ...,
) -> Callable[[F], F]: ...
@overload
def traceable(
    func: F,
    /,
    *,
    run_type: str = ...,
    name: str | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    tags: Sequence[str] | None = ...,
    reduce_fn: Callable[[list[Any]], Any] | None = ...,
    process_inputs: Callable[[dict[str, Any]], Any] | None = ...,
    process_outputs: Callable[[Any], Any] | None = ...,
    process_chunk: Callable[[Any], Any] | None = ...,
    enabled: bool | None = ...,
    project_name: str | None = ...,
    client: Any = ...,
) -> F: ...
@overload
def traceable(
    *,
    run_type: str = ...,
    name: str | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    tags: Sequence[str] | None = ...,
    reduce_fn: Callable[[list[Any]], Any] | None = ...,
    process_inputs: Callable[[dict[str, Any]], Any] | None = ...,
    process_outputs: Callable[[Any], Any] | None = ...,
    process_chunk: Callable[[Any], Any] | None = ...,
    enabled: bool | None = ...,
    project_name: str | None = ...,
    client: Any = ...,
) -> Callable[[F], F]: ...


def traceable(
    func: Any = None,
    /,
    *,
    run_type: str = "chain",
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
    reduce_fn: Callable[[list[Any]], Any] | None = None,
    process_inputs: Callable[[dict[str, Any]], Any] | None = None,
    process_outputs: Callable[[Any], Any] | None = None,
    process_chunk: Callable[[Any], Any] | None = None,
    enabled: bool | None = None,
    project_name: str | None = None,
    client: Any = None,
) -> Any:
    """Trace a function, coroutine function, generator or async generator function.

    A drop-in for ``langsmith.traceable``: use it bare (``@traceable``), with
    options (``@traceable(run_type="llm", reduce_fn=...)``), with the run type
    first (``@traceable("tool")``) or as a call (``traceable(fn, name=...)``).

    Each call is recorded as a run: ``run.start`` with its inputs, a
    ``run.chunk`` per yielded value, ``run.end`` with status, outputs
    (``reduce_fn(chunks)`` for generators when given) and error. Calls made
    inside the body nest under it. ``enabled`` forces tracing on or off for
    this function (None: follow ``configure(enabled=...)`` and
    ``tracing_context(enabled=...)``). ``project_name`` is kept as metadata
    ``project`` (where no parent names one); ``client`` is accepted for
    compatibility and ignored (there is no server).

    Runs inherit the tags and metadata of the runs they nest under, and
    calls take LangSmith's ``langsmith_extra={"name", "tags", "metadata",
    "parent", "run_id", "on_end", "project_name", "reference_example_id"}``
    (see :mod:`jsontrace._tracing_context` for the precedence).
    """
    if isinstance(func, str):  # @traceable("llm"), LangSmith's positional run_type
        run_type, func = func, None
    if not isinstance(run_type, str) or not run_type:
        raise TypeError(f"run_type must be a non-empty string, got {run_type!r}")
    for label, hook in (
        ("reduce_fn", reduce_fn),
        ("process_inputs", process_inputs),
        ("process_outputs", process_outputs),
        ("process_chunk", process_chunk),
    ):
        if hook is not None and not callable(hook):
            raise TypeError(f"{label} must be callable, got {type(hook).__name__}")
    options = {
        "name": name,
        "run_type": run_type,
        "metadata": metadata,
        "tags": tags,
        "reduce_fn": reduce_fn,
        "process_inputs": process_inputs,
        "process_outputs": process_outputs,
        "process_chunk": process_chunk,
        "enabled": enabled,
        "project_name": project_name or None,
    }
    if func is None:
        return lambda fn: _decorate(fn, options)
    return _decorate(func, options)
