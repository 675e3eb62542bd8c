"""One wrapped SDK method: an ``llm`` run around each call, nested under the caller's run.

What a call records, as LangSmith's wrappers record it (langsmith-sdk
``python/langsmith/wrappers/_openai.py``, ``_anthropic.py``): the request's
arguments as inputs (the SDK's "not given" markers left out), the model and
the invocation parameters as metadata (``ls_provider``, ``ls_model_name``,
``ls_temperature``, ``ls_max_tokens``, ``ls_stop``, ``ls_invocation_params``),
the response as outputs; a streamed response's chunks one by one, reduced at
the end to the response a call without streaming returns.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .._config import CONFIG
from .._context import current_run
from .._errors import report_once, safe_repr
from .._run import Hooks, Run
from ._streams import plain, trace_async_stream, trace_stream

__all__ = ["Call", "given", "traced_method"]

#: Marks a method this module wrapped, so that wrapping a client twice records once.
WRAPPED = "__jsontrace_wrapped__"
# Transport details, not the request: headers often carry credentials of their own.
_NOT_INPUTS = frozenset({"extra_headers", "extra_query"})
_NOT_GIVEN = frozenset({"NotGiven", "Omit"})  # the SDKs' markers of an argument left out


def given(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments actually given: without the SDKs' ``NOT_GIVEN``/``omit`` markers or transport extras."""
    return {
        key: value
        for key, value in kwargs.items()
        if key not in _NOT_INPUTS
        and type(value).__name__ not in _NOT_GIVEN
        and not (key.startswith("extra_") and value is None)
    }


class Call:
    """How calls of one SDK method are recorded."""

    __slots__ = ("inputs", "metadata", "name", "params", "reduce", "tags")

    def __init__(
        self,
        name: str,
        *,
        params: Callable[[dict[str, Any]], dict[str, Any]],
        reduce: Callable[[list[Any]], Any],
        inputs: Callable[[dict[str, Any]], dict[str, Any]] = dict,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.params = params  # request arguments -> LangSmith's ls_* metadata
        self.reduce = reduce  # streamed chunks -> one response
        self.inputs = inputs  # request arguments -> recorded inputs
        # LangSmith's tracing_extra: metadata and tags for every run.
        self.metadata: dict[str, Any] = dict((extra or {}).get("metadata") or {})
        self.tags: list[str] = list((extra or {}).get("tags") or ())

    def start(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], *, stream: bool
    ) -> Run | None:
        """Start the call's run under the current run; None when tracing is off or failed (reported once)."""
        if not CONFIG.enabled:
            return None
        try:
            request = given(kwargs)
            inputs = self.inputs(request)
            if args:  # the SDKs take keywords only; a positional argument is recorded all the same
                inputs = {"args": list(args), **inputs}
            invocation = {k: v for k, v in self.params(request).items() if v is not None}
            return Run(
                self.name,
                run_type="llm",
                inputs=inputs,
                tags=self.tags,
                metadata={**self.metadata, **invocation},
                parent=current_run.get(),
                hooks=Hooks(reduce_fn=self.reduce) if stream else Hooks(),
                is_generator=stream,
            )
        except Exception as exc:
            report_once(
                f"wrapper:{self.name}", f"could not trace a call of {self.name!r}: {safe_repr(exc)}"
            )
            return None


def _response(result: Any) -> Any:
    """What a call returned, as recorded: the response as a dict."""
    parse = getattr(result, "parse", None)
    if callable(parse) and not hasattr(result, "model_dump"):
        # with_raw_response: the SDK's raw response wraps the parsed one (and caches it).
        parsed = parse()
        if inspect.isawaitable(parsed):
            getattr(
                parsed, "close", lambda: None
            )()  # an async response's parse(): not ours to await
            return None
        result = parsed
    return plain(result)


def _finish(run: Run, result: Any, stream: bool, is_async: bool) -> Any:
    if stream and hasattr(result, "__aiter__" if is_async else "__iter__"):
        return (trace_async_stream if is_async else trace_stream)(result, run)
    try:
        outputs = _response(result)
    except Exception as exc:
        run.warn(f"could not read the response of {run.name!r}: {safe_repr(exc)}")
        outputs = None
    run.end(outputs)
    return result


def traced_method(method: Callable[..., Any], call: Call) -> Callable[..., Any]:
    """*method* (bound, sync or async) with each call recorded as described by *call*."""
    if getattr(method, WRAPPED, False):
        return method
    is_async = inspect.iscoroutinefunction(inspect.unwrap(method))

    if is_async:

        @functools.wraps(method)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            stream = kwargs.get("stream") is True
            run = call.start(args, kwargs, stream=stream)
            if run is None:
                return await method(*args, **kwargs)
            token = current_run.set(run)
            try:
                result = await method(*args, **kwargs)
            except BaseException as exc:
                run.fail(exc)
                raise
            finally:
                current_run.reset(token)
            return _finish(run, result, stream, is_async=True)

        traced: Callable[..., Any] = traced_async
    else:

        @functools.wraps(method)
        def traced_sync(*args: Any, **kwargs: Any) -> Any:
            stream = kwargs.get("stream") is True
            run = call.start(args, kwargs, stream=stream)
            if run is None:
                return method(*args, **kwargs)
            token = current_run.set(run)
            try:
                result = method(*args, **kwargs)
            except BaseException as exc:
                run.fail(exc)
                raise
            finally:
                current_run.reset(token)
            return _finish(run, result, stream, is_async=False)

        traced = traced_sync
    setattr(traced, WRAPPED, True)
    return traced
