"""``wrap_anthropic``: calls of an ``anthropic.Anthropic`` / ``AsyncAnthropic`` client recorded as llm runs."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from ._call import WRAPPED, Call, traced_method
from ._reduce import reduce_anthropic
from ._streams import trace_manager

__all__ = ["wrap_anthropic"]

C = TypeVar("C")

# LangSmith's allowlist (wrappers/_anthropic.py, _infer_ls_params).
_INVOCATION_KEYS = frozenset(
    {"service_tier", "tool_choice", "top_k", "top_p", "stream", "thinking"}
)


def _params(request: dict[str, Any]) -> dict[str, Any]:
    stop = request.get("stop_sequences")
    return {
        "ls_provider": "anthropic",
        "ls_model_type": "chat",
        "ls_model_name": request.get("model"),
        "ls_temperature": request.get("temperature"),
        "ls_max_tokens": request.get("max_tokens"),
        "ls_stop": [stop] if isinstance(stop, str) else stop,
        "ls_invocation_params": {k: v for k, v in request.items() if k in _INVOCATION_KEYS},
    }


def _inputs(request: dict[str, Any]) -> dict[str, Any]:
    """The request, its ``system`` prompt as the first message (as LangSmith records it)."""
    inputs = dict(request)
    if "system" in inputs:
        messages = inputs.get("messages")
        inputs["messages"] = [
            {"role": "system", "content": inputs.pop("system")},
            *(
                messages
                if isinstance(messages, list)
                else []
                if messages is None
                else list(messages)
            ),
        ]
    return inputs


def _raw_events(stream: Any) -> Any:
    # The MessageStream that `messages.stream()` opens reads this SDK stream of the raw
    # server events, whatever its consumer iterates (events, text_stream, get_final_message).
    return getattr(stream, "_raw_stream", None)


def _traced_stream_method(method: Any, call: Call) -> Any:
    """``messages.stream(...)``: the manager it returns starts the run when entered."""
    if getattr(method, WRAPPED, False):
        return method

    @functools.wraps(method)
    def stream(*args: Any, **kwargs: Any) -> Any:
        manager = method(*args, **kwargs)
        return trace_manager(manager, lambda: call.start(args, kwargs, stream=True), _raw_events)

    setattr(stream, WRAPPED, True)
    return stream


def wrap_anthropic(
    client: C,
    *,
    tracing_extra: Mapping[str, Any] | None = None,
    chat_name: str = "ChatAnthropic",
) -> C:
    """Record every ``messages.create`` and ``messages.stream`` of *client* as an llm run.

    A drop-in for ``langsmith.wrappers.wrap_anthropic``: it patches *client*
    (``anthropic.Anthropic`` or ``AsyncAnthropic``) in place and returns it.
    Calls behave exactly as before: ``create(stream=True)`` returns the SDK's
    stream, ``stream(...)`` its stream manager; each raw server event is recorded
    as a chunk as it is read, and the run ends with them reduced to one message.

    *tracing_extra* takes ``metadata`` and ``tags`` for every run, as LangSmith's.
    """
    call = Call(
        chat_name, params=_params, reduce=reduce_anthropic, inputs=_inputs, extra=tracing_extra
    )
    messages = client.messages  # type: ignore[attr-defined]
    messages.create = traced_method(messages.create, call)
    if hasattr(messages, "stream"):
        messages.stream = _traced_stream_method(messages.stream, call)
    return client
