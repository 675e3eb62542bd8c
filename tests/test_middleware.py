"""jsontrace.middleware: a real Starlette (ASGI) app and a WSGI app continuing traces from request headers.

LangSmith: ``python/langsmith/middleware.py`` (``TracingMiddleware``: a request
with ``langsmith-trace`` is handled inside ``tracing_context(parent=headers)``)
and the docs page "Implement distributed tracing" (``app.add_middleware(TracingMiddleware)``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from jsontrace import get_current_run_tree, trace, traceable
from jsontrace.middleware import TracingMiddleware, WSGITracingMiddleware
from jsontrace.testing import CapturedTraces, capture_traces


@traceable
def answer(question: str) -> str:
    return question.upper()


@traceable
async def answer_async(question: str) -> str:
    return question.upper()


@traceable
def token(text: str) -> str:
    return text


def _starlette_app() -> Starlette:
    async def handle(request: Request) -> JSONResponse:
        return JSONResponse({"answer": await answer_async(request.query_params["q"])})

    def handle_sync(request: Request) -> JSONResponse:  # run in Starlette's thread pool
        return JSONResponse({"answer": answer(request.query_params["q"])})

    async def stream(request: Request) -> StreamingResponse:
        async def body() -> Any:
            for word in ("a", "b"):
                yield token(word)

        return StreamingResponse(body())

    return Starlette(
        routes=[
            Route("/ask", handle),
            Route("/ask-sync", handle_sync),
            Route("/stream", stream),
        ],
        middleware=[Middleware(TracingMiddleware)],
    )


def _caller_headers(traces: CapturedTraces, **options: Any) -> tuple[Any, dict[str, str]]:
    with trace("caller", **options) as caller:
        assert caller is not None
        return caller, caller.to_headers()


async def test_asgi_requests_with_trace_headers_continue_the_callers_trace() -> None:
    """Runs traced while Starlette handles a request carrying our headers are children of the caller's run.

    Async and sync endpoints (the latter in Starlette's thread pool) and a
    streaming response; baggage tags and metadata are inherited.
    """
    app = _starlette_app()
    transport = httpx.ASGITransport(app=app)
    with capture_traces() as traces:
        caller, headers = _caller_headers(traces, tags=["web"], metadata={"tenant": "acme"})
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/ask?q=hi", "/ask-sync?q=hi", "/stream"):
                response = await client.get(path, headers=headers)
                assert 200 == response.status_code
    children = [run for run in traces.runs() if run.name != "caller"]
    assert ["answer_async", "answer", "token", "token"] == [run.name for run in children]
    assert {(caller.trace_id, caller.run_id)} == {
        (run.trace_id, run.parent_run_id) for run in children
    }
    assert {("web",)} == {tuple(run.start["tags"]) for run in children}
    assert {"acme"} == {run.start["metadata"]["tenant"] for run in children}


async def test_asgi_requests_without_headers_start_their_own_traces() -> None:
    """A request with no trace headers passes untouched: its runs are roots, and the middleware adds no run."""
    transport = httpx.ASGITransport(app=_starlette_app())
    with capture_traces() as traces:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert {"answer": "HI"} == (await client.get("/ask?q=hi")).json()
    assert [("answer_async", None)] == [(run.name, run.parent_run_id) for run in traces.runs()]


async def test_asgi_continues_a_bare_traceparent() -> None:
    """An OpenTelemetry caller's ``traceparent`` alone continues its trace id (LangSmith's middleware ignores it)."""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    transport = httpx.ASGITransport(app=_starlette_app())
    with capture_traces() as traces:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/ask?q=hi", headers={"traceparent": traceparent})
    run = traces.run("answer_async")
    assert ("0af76519-16cd-43dd-8448-eb211c80319c", "00000000-0000-0000-b7ad-6b7169203331") == (
        run.trace_id,
        run.parent_run_id,
    )


async def test_asgi_lifespan_and_other_scopes_pass_through() -> None:
    """Scopes other than HTTP and WebSocket reach the app unchanged."""
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope))

    middleware = TracingMiddleware(app)
    await middleware({"type": "lifespan"}, None, None)
    await middleware({"type": "http", "headers": [(b"host", b"x")]}, None, None)
    assert [{"type": "lifespan"}, {"type": "http", "headers": [(b"host", b"x")]}] == seen


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """A plain WSGI app: traced work before the response and while its body is produced."""
    answer("before")
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body() -> Iterator[bytes]:
        tree = get_current_run_tree()
        yield (tree.name if tree is not None else "none").encode()
        for word in ("a", "b"):
            yield token(word).encode()

    return body()


def test_wsgi_requests_continue_the_callers_trace_also_while_streaming_the_body() -> None:
    """Through httpx's WSGI transport: runs traced in the app and while its body is iterated nest under the caller."""
    app = WSGITracingMiddleware(_wsgi_app)
    with capture_traces() as traces:
        caller, headers = _caller_headers(traces, metadata={"tenant": "acme"})
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://test") as client:
            response = client.get("/", headers=headers)
            untraced = client.get("/")
    assert (b"parentab", b"noneab") == (response.content, untraced.content)
    children = [run for run in traces.runs() if run.name != "caller"]
    assert [("answer", caller.run_id), ("token", caller.run_id), ("token", caller.run_id)] == [
        (run.name, run.parent_run_id) for run in children[:3]
    ]
    assert [None] * 3 == [run.parent_run_id for run in children[3:]]
    assert {"acme"} == {run.start["metadata"]["tenant"] for run in children[:3]}


def test_wsgi_body_close_is_forwarded() -> None:
    """The body's ``close()`` reaches the app's iterable (WSGI servers must call it)."""
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body()

    with capture_traces(), trace("caller") as caller:
        assert caller is not None
        environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in caller.to_headers().items()}
    body = WSGITracingMiddleware(app)(environ, lambda *args: None)
    assert [b"x"] == list(body)
    body.close()  # type: ignore[attr-defined]
    assert [True] == closed


def test_the_middleware_module_imports_no_web_framework() -> None:
    """``import jsontrace.middleware`` loads neither Starlette, FastAPI, Flask, Django nor httpx."""
    code = (
        "import sys, jsontrace.middleware; "
        "print(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'starlette', 'fastapi', 'flask', 'django', 'httpx', 'werkzeug'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == done.stdout.strip()


@pytest.mark.parametrize("header", ["langsmith-trace", "traceparent"])
async def test_a_malformed_header_does_not_break_the_request(header: str) -> None:
    """A request with a malformed trace header is served; its runs start a trace of their own."""
    transport = httpx.ASGITransport(app=_starlette_app())
    with capture_traces() as traces, pytest.warns(Warning, match="malformed"):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/ask?q=hi", headers={header: "nonsense"})
    assert (200, None) == (response.status_code, traces.run("answer_async").parent_run_id)
