"""``@traceable``: one wrapper per kind of function, chosen once at decoration time.

* sync functions and coroutine functions get a plain closure (the fastest call);
* generator and async generator functions get a small function-like object,
  because their run must start when they are *called* (so the caller's run is
  the parent) while ``inspect.isgeneratorfunction`` / ``isasyncgenfunction``
  must still say True, which a plain closure that runs code on call cannot.

The generator drivers forward the whole protocol (``send``, ``throw``,
``close``, the return value; ``asend``, ``athrow``, ``aclose``) and set the
current run only while the generator's own code runs, so the consumer's code
between two yields never becomes the generator's child.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import Any, TypeVar, overload

from ._config import CONFIG
from ._context import current_run
from ._errors import report_once, safe_repr
from ._run import Hooks, Run

__all__ = ["traceable"]

F = TypeVar("F", bound=Callable[..., Any])

_LANGSMITH_EXTRA = "langsmith_extra"


class _Spec:
    """What a decorated function records, computed once at decoration time."""

    __slots__ = (
        "bind",
        "enabled",
        "hooks",
        "metadata",
        "name",
        "process_inputs",
        "run_type",
        "tags",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None,
        run_type: str,
        metadata: Mapping[str, Any] | None,
        tags: Sequence[str] | None,
        reduce_fn: Callable[[list[Any]], Any] | None,
        process_inputs: Callable[[dict[str, Any]], Any] | None,
        process_outputs: Callable[[Any], Any] | None,
        process_chunk: Callable[[Any], Any] | None,
        enabled: bool | None,
    ) -> None:
        self.name = name or getattr(fn, "__name__", None) or safe_repr(fn)
        self.run_type = run_type
        self.metadata = dict(metadata) if metadata else {}
        self.tags = list(tags) if tags else []
        self.hooks = Hooks(reduce_fn, process_outputs, process_chunk)
        self.process_inputs = process_inputs
        self.enabled = enabled
        self.bind = _make_binder(fn)

    def active(self) -> bool:
        enabled = self.enabled
        return CONFIG.enabled if enabled is None else enabled

    def start(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        extra: Mapping[str, Any] | None,
        *,
        generator: bool,
    ) -> Run | None:
        """Start a run for a call, or return None if jsontrace itself failed (reported once).

        *extra* is LangSmith's call-time ``langsmith_extra`` (name, tags, metadata).
        """
        try:
            warnings: list[str] | None = None
            inputs = self.bind(args, kwargs)
            if self.process_inputs is not None:
                try:
                    inputs = self.process_inputs(inputs)
                except Exception as exc:
                    # Record nothing rather than what process_inputs was meant to hide.
                    message = f"process_inputs of {self.name!r} raised {type(exc).__name__}: {safe_repr(exc)}"
                    report_once(f"hook:{self.name}:process_inputs", message)
                    inputs, warnings = {}, [message]
            name, tags, metadata = self.name, self.tags, self.metadata
            if extra:
                name = extra.get("name") or name
                tags = [*tags, *(extra.get("tags") or ())]
                metadata = {**metadata, **(extra.get("metadata") or {})}
            return Run(
                name,
                run_type=self.run_type,
                inputs=inputs,
                tags=tags,
                metadata=metadata,
                hooks=self.hooks,
                is_generator=generator,
                warnings=warnings,
            )
        except Exception as exc:
            report_once(f"start:{self.name}", f"could not trace {self.name!r}: {safe_repr(exc)}")
            return None


def _make_binder(
    fn: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    """A fast ``(args, kwargs) -> inputs`` for *fn*: names, defaults applied, self/cls left out.

    ``inspect.Signature.bind`` costs microseconds per call; this does the same
    for well-formed calls with precomputed names, and falls back to recording
    ``args``/``kwargs`` as given when a call does not fit (the function itself
    will then raise its own TypeError).
    """
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return lambda args, kwargs: {"args": list(args), **kwargs}
    # self/cls is left out only for functions defined in a class body
    # ("Class.method" in the qualified name), not for any function whose first
    # parameter happens to be called that.
    owner = getattr(fn, "__qualname__", "").rpartition(".")[0].rpartition(".")[2]
    in_class = bool(owner) and owner != "<locals>"
    skip = (
        1
        if in_class
        and params
        and params[0].name in ("self", "cls")
        and params[0].kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        else 0
    )
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    names = [p.name for p in positional]
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    var_args = next((p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    var_kwargs = next((p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
    recorded = names[skip:] + keyword_only
    simple = not defaults and not keyword_only and var_args is None and var_kwargs is None
    simple_names = tuple(names[skip:])
    count = len(names)

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if simple and not kwargs and len(args) == count:
            # The common call, all arguments positional: zip stops at the shorter side,
            # and both have len(names) - skip items here.
            return dict(zip(simple_names, args[skip:] if skip else args))  # noqa: B905
        if len(args) > len(names) and var_args is None:
            return {"args": list(args[skip:]), **kwargs}
        given = dict(zip(names, args, strict=False))  # fewer args than names is normal
        inputs: dict[str, Any] = {}
        for name in recorded:
            if name in given:
                inputs[name] = given[name]
            elif name in kwargs:
                inputs[name] = kwargs[name]
            elif name in defaults:
                inputs[name] = defaults[name]
        if var_args is not None:
            inputs[var_args] = list(args[len(names) :])
        clashing: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in given:  # f(x, /, **kw) called as f(1, x=2): this x went into **kw
                clashing[key] = value
            elif key not in inputs:
                inputs[key] = value
        if clashing and var_kwargs is not None:  # without **kwargs the call itself fails
            # Under the **kwargs parameter's name, as inspect.Signature.bind puts it.
            name = var_kwargs if var_kwargs not in inputs else f"**{var_kwargs}"
            inputs.setdefault(name, clashing)
        return inputs

    return bind


# -- wrappers --------------------------------------------------------------------------


def _wrap_function(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        extra = kwargs.pop(_LANGSMITH_EXTRA, None) if kwargs else None
        # spec.active() inlined: this line is the whole cost of a call with tracing off.
        if not (CONFIG.enabled if spec.enabled is None else spec.enabled):
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


def _wrap_coroutine_function(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        extra = kwargs.pop(_LANGSMITH_EXTRA, None) if kwargs else None
        if not (CONFIG.enabled if spec.enabled is None else spec.enabled):
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


class _EndGuard:
    """Ends a generator's run as cancelled when the generator is collected unstarted.

    It lives only in the driver generator's frame: when the generator object
    is freed without ever running, the frame (and so this guard) goes with it.
    """

    __slots__ = ("run",)

    def __init__(self, run: Run) -> None:
        self.run = run

    def __del__(self) -> None:
        self.run.cancel()


def _drive(gen: Generator[Any, Any, Any], run: Run, guard: _EndGuard) -> Generator[Any, Any, Any]:
    step: Callable[[Any], Any] = gen.send
    value: Any = None
    # Bound once: these run for every chunk.
    set_run, reset_run, record = current_run.set, current_run.reset, run.chunk
    while True:
        token = set_run(run)
        try:
            item = step(value)
        except StopIteration as stop:
            run.end()
            return stop.value
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            reset_run(token)
        record(item)
        try:
            value = yield item
            step = gen.send
        except GeneratorExit:
            token = current_run.set(run)
            try:
                returned: Any = gen.close()  # type: ignore[func-returns-value]  # 3.13+: the return value
            except BaseException as exc:
                run.fail(exc)
                raise
            finally:
                current_run.reset(token)
            run.cancel()
            if returned is not None:
                return returned  # so that our close() returns it too
            raise
        except BaseException as exc:  # thrown in by the consumer: forward it
            step, value = gen.throw, exc


async def _adrive(
    agen: AsyncGenerator[Any, Any], run: Run, guard: _EndGuard
) -> AsyncGenerator[Any, Any]:
    step: Callable[[Any], Any] = agen.asend
    value: Any = None
    set_run, reset_run, record = current_run.set, current_run.reset, run.chunk
    while True:
        token = set_run(run)
        try:
            item = await step(value)
        except StopAsyncIteration:
            run.end()
            return
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            reset_run(token)
        record(item)
        try:
            value = yield item
            step = agen.asend
        except GeneratorExit:
            token = current_run.set(run)
            try:
                await agen.aclose()
            except BaseException as exc:
                run.fail(exc)
                raise
            finally:
                current_run.reset(token)
            run.cancel()
            raise
        except BaseException as exc:
            step, value = agen.athrow, exc


class _GeneratorFunction:
    """A traced generator function: looks like the original to ``inspect``, binds like one."""

    def __init__(self, fn: Callable[..., Any], spec: _Spec, driver: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        # These make inspect treat the object as "function-like" with the
        # original's code flags (isgeneratorfunction / isasyncgenfunction).
        function = fn
        while isinstance(function, functools.partial):  # traceable(partial(gen, 1))
            function = function.func
        self.__code__ = function.__code__
        if not hasattr(self, "__name__"):  # a partial has none; inspect needs one
            self.__name__ = function.__name__
            self.__qualname__ = function.__qualname__
        self.__defaults__ = getattr(function, "__defaults__", None)
        self.__kwdefaults__ = getattr(function, "__kwdefaults__", None)
        self._fn = fn
        self._spec = spec
        self._driver = driver

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        spec = self._spec
        extra = kwargs.pop(_LANGSMITH_EXTRA, None) if kwargs else None
        if not spec.active():
            return self._fn(*args, **kwargs)
        gen = self._fn(*args, **kwargs)  # a TypeError for bad arguments comes before any run
        run = spec.start(args, kwargs, extra, generator=True)
        if run is None:
            return gen
        return self._driver(gen, run, _EndGuard(run))

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<traced {self._fn!r}>"


# -- the decorator ---------------------------------------------------------------------


def _decorate(fn: Any, options: dict[str, Any]) -> Any:
    if isinstance(fn, (classmethod, staticmethod)):
        return type(fn)(_decorate(fn.__func__, options))
    if not callable(fn):
        raise TypeError(f"@traceable needs a function, got {type(fn).__name__}: {safe_repr(fn)}")
    spec = _Spec(fn, **options)
    if inspect.isasyncgenfunction(fn):
        return _GeneratorFunction(fn, spec, _adrive)
    if inspect.isgeneratorfunction(fn):
        return _GeneratorFunction(fn, spec, _drive)
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
    this function (None: follow ``configure(enabled=...)``). ``project_name``
    is kept as metadata ``project``; ``client`` is accepted for
    compatibility and ignored (there is no server).
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
    if project_name:
        metadata = {"project": project_name, **(metadata or {})}
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
    }
    if func is None:
        return lambda fn: _decorate(fn, options)
    return _decorate(func, options)
