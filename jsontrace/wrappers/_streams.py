"""Streams that record themselves: the SDK's own stream object, given a subclass that traces.

A wrapped ``create(..., stream=True)`` returns the very object the SDK made,
so it is still an ``openai.Stream`` (``anthropic.AsyncStream`` ...), iterates,
works as a context manager, closes and keeps every attribute. Only its class
is swapped for a subclass made once per SDK class, whose iteration methods
call the SDK's own and record each item as a chunk of the run:

* the stream read to its end ends the run ``ok``;
* an exception from the SDK ends it ``error`` and goes on unchanged;
* the consumer stopping early (``break``, ``close()``, leaving the ``with``
  block, dropping the stream) ends it ``cancelled``, with what arrived so far.

Why a subclass rather than a proxy object (LangSmith's ``_TracedStream``):
``isinstance`` checks, type hints and ``help()`` keep working, and no attribute
of the SDK's can be missed. The subclass adds no slots, so its instances have
the SDK class's layout and ``__class__`` can be assigned.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .._errors import report_once, safe_repr
from .._run import Run

__all__ = ["trace_async_stream", "trace_manager", "trace_stream"]

#: The attribute of a traced stream (in its __dict__) holding its :class:`_Recorder`.
_RECORDER = "_jsontrace_recorder"
#: The attribute of a stream manager holding the function that starts its run.
_STARTER = "_jsontrace_start"


def plain(value: Any) -> Any:
    """An SDK object as the plain dict its API sent (``to_dict``), else *value* itself."""
    for method, kwargs in (
        ("to_dict", {"mode": "json"}),
        ("model_dump", {"mode": "json", "exclude_unset": True}),
    ):
        dump = getattr(value, method, None)
        if callable(dump) and not isinstance(value, type):
            try:
                return dump(**kwargs)
            except Exception:
                continue
    return value


class _Recorder:
    """One stream's run: each item becomes a chunk; the run ends once.

    It lives in the stream's ``__dict__`` (the Anthropic SDK iterates a shallow
    copy of the stream, which shares it), so it is freed with the last of
    them: a stream dropped unfinished ends its run ``cancelled`` then.
    """

    __slots__ = ("pulling", "run")

    def __init__(self, run: Run | None) -> None:
        self.run = run
        # True while our __iter__ pulls the next item: if the SDK class's __iter__ reads
        # through __next__ (returns self), our __next__ must not record that item too.
        self.pulling = False

    def item(self, item: Any) -> None:
        if self.run is not None and not self.pulling:
            self.run.chunk(plain(item))

    def end(self) -> None:
        if self.run is not None:
            self.run.end()

    def fail(self, exc: BaseException) -> None:
        if self.run is not None:
            self.run.fail(exc)  # asyncio.CancelledError ends it cancelled

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()  # a no-op once the run ended

    def __del__(self) -> None:
        self.cancel()


#: What a stream of a traced class without a recorder of its own records: nothing.
_NOTHING = _Recorder(None)


def _recorder(stream: Any) -> _Recorder:
    recorder = stream.__dict__.get(_RECORDER)
    return recorder if isinstance(recorder, _Recorder) else _NOTHING


def _attach(stream: Any, run: Run, traced_class: Callable[[type], type]) -> Any:
    """Give *stream* its tracing class; if that cannot be done, end the run and return it as is."""
    try:
        cls = traced_class(type(stream))
        stream.__dict__[_RECORDER] = _Recorder(run)
        stream.__class__ = cls
    except Exception as exc:
        message = f"could not trace the stream of {run.name!r} ({type(stream).__name__}): {safe_repr(exc)}"
        report_once(f"stream:{type(stream).__qualname__}", message)
        run.warn(message)
        stream.__dict__.pop(_RECORDER, None)
        run.end(None)
    return stream


def _named_like(base: type, namespace: dict[str, Any]) -> type:
    # Same name, module and docs as the SDK's class: repr() and help() look as before.
    namespace.update(
        __slots__=(),
        __module__=base.__module__,
        __qualname__=base.__qualname__,
        __doc__=base.__doc__,
    )
    return type(base.__name__, (base,), namespace)


@functools.cache
def _sync_class(base: type) -> type:
    base_next, base_iter, base_close = base.__next__, base.__iter__, base.close  # type: ignore[attr-defined]

    def __next__(self: Any) -> Any:
        recorder = _recorder(self)
        try:
            item = base_next(self)
        except StopIteration:
            recorder.end()
            raise
        except BaseException as exc:
            recorder.fail(exc)
            raise
        recorder.item(item)
        return item

    def __iter__(self: Any) -> Iterator[Any]:
        recorder = _recorder(self)
        if recorder is _NOTHING:
            return base_iter(self)  # type: ignore[no-any-return]
        return _iterate(base_iter(self), recorder)

    def close(self: Any) -> None:
        try:
            base_close(self)
        finally:
            _recorder(self).cancel()

    return _named_like(base, {"__next__": __next__, "__iter__": __iter__, "close": close})


def _iterate(items: Iterator[Any], recorder: _Recorder) -> Iterator[Any]:
    try:
        while True:
            recorder.pulling = True
            try:
                item = next(items)
            except StopIteration:
                break
            finally:
                recorder.pulling = False
            recorder.item(item)
            yield item
    except GeneratorExit:  # the consumer stopped: break, or the iterator dropped
        recorder.cancel()
        raise
    except BaseException as exc:
        recorder.fail(exc)
        raise
    recorder.end()


@functools.cache
def _async_class(base: type) -> type:
    base_anext, base_aiter, base_close = base.__anext__, base.__aiter__, base.close  # type: ignore[attr-defined]

    async def __anext__(self: Any) -> Any:
        recorder = _recorder(self)
        try:
            item = await base_anext(self)
        except StopAsyncIteration:
            recorder.end()
            raise
        except BaseException as exc:
            recorder.fail(exc)
            raise
        recorder.item(item)
        return item

    def __aiter__(self: Any) -> AsyncIterator[Any]:
        recorder = _recorder(self)
        if recorder is _NOTHING:
            return base_aiter(self)  # type: ignore[no-any-return]
        return _aiterate(base_aiter(self), recorder)

    async def close(self: Any) -> None:
        try:
            await base_close(self)
        finally:
            _recorder(self).cancel()

    return _named_like(base, {"__anext__": __anext__, "__aiter__": __aiter__, "close": close})


async def _aiterate(items: AsyncIterator[Any], recorder: _Recorder) -> AsyncIterator[Any]:
    try:
        while True:
            recorder.pulling = True
            try:
                item = await items.__anext__()
            except StopAsyncIteration:
                break
            finally:
                recorder.pulling = False
            recorder.item(item)
            yield item
    except GeneratorExit:
        recorder.cancel()
        raise
    except BaseException as exc:
        recorder.fail(exc)
        raise
    recorder.end()


def trace_stream(stream: Any, run: Run) -> Any:
    """Record a synchronous SDK stream as *run*'s chunks; returns the same object."""
    return _attach(stream, run, _sync_class)


def trace_async_stream(stream: Any, run: Run) -> Any:
    """Record an asynchronous SDK stream as *run*'s chunks; returns the same object."""
    return _attach(stream, run, _async_class)


# -- stream managers (anthropic's messages.stream) ---------------------------------------


def trace_manager(manager: Any, start: Callable[[], Run | None], raw: Callable[[Any], Any]) -> Any:
    """Trace a stream manager: entering it starts the run, the stream it opens records it.

    *raw* finds, in what entering returns, the SDK stream of raw events it reads
    (anthropic's ``MessageStream`` reads a ``Stream`` of raw events, whatever the
    consumer iterates: events, ``text_stream``, ``get_final_message()``).
    """
    base: type = type(manager)
    try:
        cls = (
            _async_manager_class(base, raw)
            if hasattr(base, "__aenter__")
            else _sync_manager_class(base, raw)
        )
        manager.__dict__[_STARTER] = start
        manager.__class__ = cls
    except Exception as exc:
        report_once(
            f"manager:{type(manager).__qualname__}",
            f"could not trace {type(manager).__name__}: {safe_repr(exc)}",
        )
    return manager


def _opened(
    stream: Any, run: Run | None, raw: Callable[[Any], Any], traced: Callable[[Any, Run], Any]
) -> None:
    if run is None:
        return
    events = raw(stream)
    if events is None:
        message = f"{type(stream).__name__} has no stream of raw events: {run.name!r} is recorded without its chunks"
        report_once(f"manager:{type(stream).__qualname__}", message)
        run.warn(message)
        run.end(None)
        return
    traced(events, run)


def _starter(manager: Any) -> Callable[[], Run | None] | None:
    start = manager.__dict__.pop(_STARTER, None)  # once: a second `with` is not traced
    return start if callable(start) else None


@functools.cache
def _sync_manager_class(base: type, raw: Callable[[Any], Any]) -> type:
    base_enter = base.__enter__  # type: ignore[attr-defined]

    def __enter__(self: Any) -> Any:
        start = _starter(self)
        run = start() if start is not None else None
        try:
            stream = base_enter(self)
        except BaseException as exc:
            if run is not None:
                run.fail(exc)
            raise
        _opened(stream, run, raw, trace_stream)
        return stream

    return _named_like(base, {"__enter__": __enter__})


@functools.cache
def _async_manager_class(base: type, raw: Callable[[Any], Any]) -> type:
    base_aenter = base.__aenter__  # type: ignore[attr-defined]

    async def __aenter__(self: Any) -> Any:
        start = _starter(self)
        run = start() if start is not None else None
        try:
            stream = await base_aenter(self)
        except BaseException as exc:
            if run is not None:
                run.fail(exc)
            raise
        _opened(stream, run, raw, trace_async_stream)
        return stream

    return _named_like(base, {"__aenter__": __aenter__})
