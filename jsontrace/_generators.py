"""Traced generators: drivers that forward the whole protocol, and the function object around them.

The drivers forward ``send``, ``throw``, ``close`` and the return value
(``asend``, ``athrow``, ``aclose``), and set the current run only while the
generator's own code runs, so the consumer's code between two yields never
becomes the generator's child.
"""

from __future__ import annotations

import functools
import types
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from ._context import current_run
from ._run import Run

if TYPE_CHECKING:
    from ._spec import Spec

__all__ = ["GeneratorFunction", "adrive", "drive"]

_LANGSMITH_EXTRA = "langsmith_extra"


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


def drive(gen: Generator[Any, Any, Any], run: Run, guard: _EndGuard) -> Generator[Any, Any, Any]:
    send = step = gen.send
    value: Any = None
    # Bound once: these run for every chunk.
    set_run, reset_run, record = current_run.set, current_run.reset, run.chunk
    while True:
        token = set_run(run)
        try:
            item = step(value)
        except StopIteration as stop:
            run.end(stop.value)  # recorded after the chunks, as LangSmith does
            return stop.value
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            reset_run(token)
        record(item)
        try:
            value = yield item
            step = send
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


async def adrive(
    agen: AsyncGenerator[Any, Any], run: Run, guard: _EndGuard
) -> AsyncGenerator[Any, Any]:
    send: Callable[[Any], Any] = agen.asend
    step = send
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
            step = send
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


class GeneratorFunction:
    """A traced generator function: looks like the original to ``inspect``, binds like one."""

    def __init__(self, fn: Callable[..., Any], spec: Spec, driver: Callable[..., Any]) -> None:
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
