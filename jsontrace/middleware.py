"""Continue a trace from an incoming request's headers: ASGI and WSGI middleware.

::

    from jsontrace.middleware import TracingMiddleware          # FastAPI, Starlette (ASGI)
    app.add_middleware(TracingMiddleware)

    from jsontrace.middleware import WSGITracingMiddleware      # Flask, Django (WSGI)
    app.wsgi_app = WSGITracingMiddleware(app.wsgi_app)

A request carrying ``langsmith-trace`` (with ``baggage``) or ``traceparent``
(the headers ``to_headers()`` writes, or an OpenTelemetry service's) is handled
inside ``tracing_context(parent=<those headers>)``: the runs it traces nest
under the caller's run, in the caller's trace. Like LangSmith's
``TracingMiddleware`` it starts no run of its own, and a request without those
headers passes untouched. No web framework is imported.

Only put it in front of services whose callers you trust: the headers decide
which trace the runs join and what metadata they inherit. Strip them at the
gateway for requests from the internet (LangSmith's documentation says the same).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any

from ._headers import BAGGAGE, LANGSMITH_TRACE, TRACEPARENT, find_headers
from ._tracing_context import tracing_context

__all__ = ["TracingMiddleware", "WSGITracingMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_WSGI_KEYS = (
    ("HTTP_LANGSMITH_TRACE", LANGSMITH_TRACE),
    ("HTTP_BAGGAGE", BAGGAGE),
    ("HTTP_TRACEPARENT", TRACEPARENT),
)


def _continues(headers: dict[str, str]) -> bool:
    return LANGSMITH_TRACE in headers or TRACEPARENT in headers


class TracingMiddleware:
    """ASGI middleware: runs traced while handling a request continue the caller's trace.

    The name and behaviour of ``langsmith.middleware.TracingMiddleware``, and
    it also continues a W3C ``traceparent`` alone. HTTP and WebSocket scopes
    are looked at; lifespan passes through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") in ("http", "websocket"):
            headers = find_headers(scope.get("headers") or ())
            if _continues(headers):
                with tracing_context(parent=headers):
                    await self.app(scope, receive, send)
                return
        await self.app(scope, receive, send)


class WSGITracingMiddleware:
    """WSGI middleware: runs traced while handling a request continue the caller's trace.

    The response body is iterated in the same context, so runs traced while a
    streaming response is produced nest under the caller's run too.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = find_headers([(name, environ[key]) for key, name in _WSGI_KEYS if key in environ])
        if not _continues(headers):
            return self.app(environ, start_response)
        # A context of the request's own, entered for the call and for each step of the
        # body: a WSGI server iterates the body after the app has returned.
        context = contextvars.copy_context()
        context.run(tracing_context(parent=headers).__enter__)
        return _InContext(context, context.run(self.app, environ, start_response))


class _InContext:
    """A WSGI response body whose iteration and ``close()`` run in the request's context."""

    def __init__(self, context: contextvars.Context, body: Iterable[bytes]) -> None:
        self._context = context
        self._body = body
        self._iterator: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._body)
        return self._context.run(next, self._iterator)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            self._context.run(close)
