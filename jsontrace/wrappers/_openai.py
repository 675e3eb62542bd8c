"""``wrap_openai``: calls of an ``openai.OpenAI`` / ``AsyncOpenAI`` client recorded as llm runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._call import Call, traced_method
from ._reduce import reduce_openai_chat, reduce_openai_responses

__all__ = ["wrap_openai"]

C = TypeVar("C")

# LangSmith's allowlist of invocation parameters worth recording (_infer_invocation_params):
# only known, harmless ones, so nothing a request carries for the transport is copied.
_INVOCATION_KEYS = frozenset(
    {
        "frequency_penalty",
        "n",
        "logit_bias",
        "logprobs",
        "modalities",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "reasoning",
        "reasoning_effort",
        "response_format",
        "seed",
        "service_tier",
        "stream_options",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
        "verbosity",
        "web_search_options",
    }
)


def _params(provider: str, responses_api: bool) -> Any:
    def params(request: dict[str, Any]) -> dict[str, Any]:
        stop = request.get("stop")
        invocation = {k: v for k, v in request.items() if k in _INVOCATION_KEYS}
        if responses_api:
            invocation["use_responses_api"] = True
        own = request.get("metadata")  # the request's own metadata (stored completions)
        return {
            **(own if isinstance(own, Mapping) else {}),
            "ls_provider": provider,
            "ls_model_type": "chat",
            "ls_model_name": request.get("model"),
            "ls_temperature": request.get("temperature"),
            "ls_max_tokens": request.get("max_tokens")
            or request.get("max_completion_tokens")
            or request.get("max_output_tokens"),
            "ls_stop": [stop] if isinstance(stop, str) else stop,
            "ls_invocation_params": invocation,
        }

    return params


def wrap_openai(
    client: C,
    *,
    tracing_extra: Mapping[str, Any] | None = None,
    chat_name: str = "ChatOpenAI",
) -> C:
    """Record every ``chat.completions.create`` and ``responses.create`` of *client* as an llm run.

    A drop-in for ``langsmith.wrappers.wrap_openai``: it patches *client* (an
    ``openai.OpenAI``, ``AsyncOpenAI`` or their Azure versions) in place and
    returns it. Calls behave exactly as before and return what they returned;
    with ``stream=True`` the SDK's own stream object comes back, each chunk is
    recorded as it is read, and the run ends with the chunks reduced to one
    completion. Pass ``stream_options={"include_usage": True}`` to get the token
    usage of a streamed chat completion (OpenAI sends it only then).

    *tracing_extra* takes ``metadata`` and ``tags`` for every run, as LangSmith's.
    """
    provider = "openai"
    if type(client).__name__ in ("AzureOpenAI", "AsyncAzureOpenAI"):  # without importing openai
        provider = "azure"
        chat_name = "AzureChatOpenAI" if chat_name == "ChatOpenAI" else chat_name

    def call(responses_api: bool, reduce: Callable[[list[Any]], Any]) -> Call:
        return Call(
            chat_name, params=_params(provider, responses_api), reduce=reduce, extra=tracing_extra
        )

    completions = client.chat.completions  # type: ignore[attr-defined]
    completions.create = traced_method(completions.create, call(False, reduce_openai_chat))
    responses = getattr(client, "responses", None)
    if responses is not None and hasattr(responses, "create"):
        responses.create = traced_method(responses.create, call(True, reduce_openai_responses))
    return client
