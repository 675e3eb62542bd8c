"""A small fake of the OpenAI and Anthropic HTTP APIs on 127.0.0.1, for the real SDKs to talk to.

It speaks what the SDKs read: JSON responses, server-sent events for
``stream=True`` (OpenAI's ``data: ...`` lines ending in ``[DONE]``, the
Responses API's and Anthropic's named events), and their error bodies.
What it answers is fixed by the request, so tests can predict it:

* the reply is the first *n* words of :data:`WORDS`, *n* being the request's
  ``max_tokens`` (``max_completion_tokens``, ``max_output_tokens``; default
  :data:`DEFAULT_WORDS`); one streamed chunk per word;
* a request with ``tools`` gets a call of the first tool, with arguments
  :data:`TOOL_ARGUMENTS` streamed in pieces;
* model ``fail-429`` / ``fail-500`` get that HTTP error; ``fail-midstream``
  gets two chunks, then an error event;
* usage: :data:`PROMPT_TOKENS` in (Anthropic: plus :data:`CACHE_READ_TOKENS`
  read from its cache), one output token per word.

Used by ``tests/test_wrappers.py`` and ``benchmarks/wrappers.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "CACHE_READ_TOKENS",
    "DEFAULT_WORDS",
    "PROMPT_TOKENS",
    "TOOL_ARGUMENTS",
    "WORDS",
    "FakeLLMServer",
    "reply_text",
]

WORDS = (
    "Offline",
    " traces",
    " keep",
    " every",
    " token",
    " you",
    " stream",
    " safe",
    " on",
    " disk",
) * 100
DEFAULT_WORDS = 5
PROMPT_TOKENS = 12
CACHE_READ_TOKENS = 3
TOOL_ARGUMENTS = '{"city": "Paris", "unit": "celsius"}'
CREATED = 1_795_000_000


def reply_text(words: int = DEFAULT_WORDS) -> str:
    """The text the server answers with *words* words."""
    return "".join(WORDS[:words])


def _words(body: dict[str, Any]) -> int:
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        if isinstance(body.get(key), int):
            return int(body[key])
    return DEFAULT_WORDS


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _tool_name(body: dict[str, Any]) -> str:
    tool = body["tools"][0]
    return str(tool.get("name") or tool.get("function", {}).get("name"))


# -- OpenAI Chat Completions -----------------------------------------------------------------


def _chat_usage(words: int) -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": words,
        "total_tokens": PROMPT_TOKENS + words,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _chat_head(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "created": CREATED, "model": f"{body['model']}-2024-07-18",
            "system_fingerprint": "fp_fake"}  # fmt: skip


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    words = _words(body)
    message: dict[str, Any] = {"role": "assistant", "content": reply_text(words), "refusal": None}
    finish = "stop"
    if body.get("tools"):
        message["content"] = None
        message["tool_calls"] = [{"id": "call_fake", "type": "function",
                                  "function": {"name": _tool_name(body), "arguments": TOOL_ARGUMENTS}}]  # fmt: skip
        finish = "tool_calls"
    return {**_chat_head(body), "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": _chat_usage(words)}  # fmt: skip


def chat_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    words = _words(body)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    head = {**_chat_head(body), "object": "chat.completion.chunk"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [choice], **({"usage": None} if include_usage else {})}

    if body.get("tools"):
        yield chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_fake", "type": "function",
             "function": {"name": _tool_name(body), "arguments": ""}}]})  # fmt: skip
        for piece in _pieces(TOOL_ARGUMENTS):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls")
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for word in WORDS[:words]:
            yield chunk({"content": word})
        yield chunk({}, "stop")
    if include_usage:
        yield {**head, "choices": [], "usage": _chat_usage(words)}


# -- OpenAI Responses ------------------------------------------------------------------------


def _response(body: dict[str, Any], status: str, output: list[Any]) -> dict[str, Any]:
    words = _words(body)
    response = {"id": "resp_fake", "object": "response", "created_at": CREATED, "status": status,
                "model": f"{body['model']}-2024-07-18", "output": output, "parallel_tool_calls": True,
                "tool_choice": "auto", "tools": []}  # fmt: skip
    if status == "completed":
        response["usage"] = {"input_tokens": PROMPT_TOKENS, "input_tokens_details": {"cached_tokens": 0},
                             "output_tokens": words, "output_tokens_details": {"reasoning_tokens": 0},
                             "total_tokens": PROMPT_TOKENS + words}  # fmt: skip
    return response


def _message_item(text: str, status: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_fake", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}] if text or status == "completed" else []}  # fmt: skip


def response_object(body: dict[str, Any]) -> dict[str, Any]:
    return _response(body, "completed", [_message_item(reply_text(_words(body)), "completed")])


def response_events(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    text = reply_text(_words(body))
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": "msg_fake", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(body, "in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": _message_item("", "in_progress")},
        {"type": "response.content_part.added", **where, "part": part},
        *({"type": "response.output_text.delta", **where, "delta": w, "logprobs": []} for w in WORDS[: _words(body)]),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": _message_item(text, "completed")},
        {"type": "response.completed", "response": response_object(body)},
    ]  # fmt: skip
    for number, event in enumerate(events):
        yield {**event, "sequence_number": number}


# -- Anthropic Messages ----------------------------------------------------------------------


def _anthropic_usage(output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": PROMPT_TOKENS, "output_tokens": output_tokens,
            "cache_read_input_tokens": CACHE_READ_TOKENS, "cache_creation_input_tokens": 0}  # fmt: skip


def _anthropic_head(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"]}


def anthropic_message(body: dict[str, Any]) -> dict[str, Any]:
    words = _words(body)
    content: list[dict[str, Any]] = [{"type": "text", "text": reply_text(words)}]
    stop = "end_turn"
    if body.get("tools"):
        content = [{"type": "tool_use", "id": "toolu_fake", "name": _tool_name(body),
                    "input": json.loads(TOOL_ARGUMENTS)}]  # fmt: skip
        stop = "tool_use"
    return {**_anthropic_head(body), "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": _anthropic_usage(words)}  # fmt: skip


def anthropic_events(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    words = _words(body)
    yield {"type": "message_start", "message": {**_anthropic_head(body), "content": [], "stop_reason": None,
           "stop_sequence": None, "usage": _anthropic_usage(1)}}  # fmt: skip
    yield {"type": "ping"}
    if body.get("tools"):
        yield {"type": "content_block_start", "index": 0,
               "content_block": {"type": "tool_use", "id": "toolu_fake", "name": _tool_name(body), "input": {}}}  # fmt: skip
        for piece in _pieces(TOOL_ARGUMENTS):
            yield {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
        stop = "tool_use"
    else:
        yield {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        for word in WORDS[:words]:
            yield {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": word},
            }
        stop = "end_turn"
    yield {"type": "content_block_stop", "index": 0}
    yield {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
           "usage": {"output_tokens": words}}  # fmt: skip
    yield {"type": "message_stop"}


# -- the server ------------------------------------------------------------------------------


def _error_body(path: str, status: int) -> dict[str, Any]:
    kind = "rate_limit_error" if status == 429 else "api_error"
    message = "Rate limit reached (fake)" if status == 429 else "The server had an error (fake)"
    if path.endswith("/messages"):
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class _Handler(BaseHTTPRequestHandler):
    server: FakeLLMServer
    # One small write per event: without TCP_NODELAY each may wait for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # no request log on stderr
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
        model = str(body.get("model", ""))
        if model in ("fail-429", "fail-500"):
            self._json(_error_body(self.path, int(model[-3:])), int(model[-3:]))
        elif self.path.endswith("/chat/completions"):
            self._answer(body, chat_completion, chat_chunks, named=False)
        elif self.path.endswith("/responses"):
            self._answer(body, response_object, response_events, named=True)
        elif self.path.endswith("/messages"):
            self._answer(body, anthropic_message, anthropic_events, named=True)
        else:
            self._json({"error": {"message": f"no fake for {self.path}"}}, 404)

    def _answer(self, body: dict[str, Any], whole: Any, events: Any, *, named: bool) -> None:
        if not body.get("stream"):
            self._json(whole(body), 200)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        try:
            for number, event in enumerate(events(body)):
                if body["model"] == "fail-midstream" and number == 2:
                    self._sse(_error_body(self.path, 500), "error" if named else None)
                    return
                self._sse(event, event.get("type") if named else None)
            if not named:
                self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: fine
            pass

    def _sse(self, data: dict[str, Any], event: str | None) -> None:
        head = f"event: {event}\n" if event else ""
        self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())

    def _json(self, data: dict[str, Any], status: int) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class FakeLLMServer(ThreadingHTTPServer):
    """The fake, listening on 127.0.0.1 (a free port) in a thread while used as a context manager."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        #: Every request received: path, headers (names lower-cased) and JSON body.
        self.requests: list[dict[str, Any]] = []
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.02,), name="fake-llm", daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: Anthropic's base URL; OpenAI's is this plus ``/v1``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-stream is expected

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)
