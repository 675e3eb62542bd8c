"""A wrapped SDK stream against the bare SDK, per chunk, over the same fake server on 127.0.0.1.

Both clients are the real SDK (``openai``, ``anthropic``) reading the same
server-sent events from tests/fake_llm.py; the wrapped one also records every
chunk as a ``run.chunk`` event in a file (redaction on, the default) and the
reduced response at the end. The numbers are per chunk of a whole streamed
call (request, every chunk, end), measured in this one process with the two
clients taking turns, so the ratio holds on whatever machine runs it. Times are
this process's CPU time (the server's work included, other processes' not).

    python benchmarks/wrappers.py            # full run (about half a minute)
    python benchmarks/wrappers.py --quick    # tiny sizes, for CI
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake server lives with the tests

from tests.fake_llm import FakeLLMServer  # noqa: E402


@dataclass
class Sizes:
    chunks: int  # content chunks per streamed call
    calls: int  # calls per measurement
    repeats: int


FULL = Sizes(chunks=200, calls=5, repeats=5)
QUICK = Sizes(chunks=20, calls=2, repeats=2)
MESSAGES = [{"role": "user", "content": "Stream me something."}]


def openai_call(client: Any, chunks: int) -> Callable[[], int]:
    def call() -> int:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            max_tokens=chunks,
            stream=True,
            stream_options={"include_usage": True},
        )
        return sum(1 for _ in stream)

    return call


def anthropic_call(client: Any, chunks: int) -> Callable[[], int]:
    def call() -> int:
        stream = client.messages.create(
            model="claude-sonnet-4", max_tokens=chunks, messages=MESSAGES, stream=True
        )
        return sum(1 for _ in stream)

    return call


def per_chunk(call: Callable[[], int], calls: int) -> float:
    """CPU seconds of this process per chunk over *calls* whole streamed calls.

    CPU time rather than wall time: the fake server runs in this process, so its
    work counts on both sides alike, and other processes of a busy machine do not.
    """
    chunks = 0
    start = time.process_time()
    for _ in range(calls):
        chunks += call()
    return (time.process_time() - start) / chunks


def measure(
    bare: Callable[[], int], wrapped: Callable[[], int], sizes: Sizes
) -> tuple[float, float]:
    """Best seconds per chunk of the bare and the wrapped call, taking turns."""
    bare(), wrapped()  # warm up: connections, imports, the tracer's first event
    bare_times, wrapped_times = [], []
    for _ in range(sizes.repeats):
        bare_times.append(per_chunk(bare, sizes.calls))
        wrapped_times.append(per_chunk(wrapped, sizes.calls))
    return min(bare_times), min(wrapped_times)


def recording_cost(client: Any, sizes: Sizes) -> float:
    """Seconds per chunk that the wrapper adds on its own: the chunk dumped and written, nothing else."""
    from jsontrace import Run
    from jsontrace.wrappers._streams import _Recorder

    chunks = list(openai_call_objects(client, sizes.chunks))
    times = []
    for _ in range(sizes.repeats):
        run = Run("bench", run_type="llm", parent=None, is_generator=True)
        recorder = _Recorder(run)
        start = time.process_time()
        for chunk in chunks:
            recorder.item(chunk)
        times.append((time.process_time() - start) / len(chunks))
        run.end()
    return min(times)


def openai_call_objects(client: Any, chunks: int) -> list[Any]:
    return list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, max_tokens=chunks, stream=True
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (what CI runs)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL

    import anthropic
    import openai

    import jsontrace
    from jsontrace.wrappers import wrap_anthropic, wrap_openai

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="jsontrace-bench-") as tmp,
        FakeLLMServer() as server,
    ):
        jsontrace.configure(dir=tmp)
        url = server.url
        for label, make, wrap, call in (
            (
                "openai chat stream, per chunk",
                lambda: openai.OpenAI(api_key="sk-bench", base_url=f"{url}/v1", max_retries=0),
                wrap_openai,
                openai_call,
            ),
            (
                "anthropic stream, per chunk",
                lambda: anthropic.Anthropic(api_key="sk-bench", base_url=url, max_retries=0),
                wrap_anthropic,
                anthropic_call,
            ),
        ):
            bare, wrapped = measure(
                call(make(), sizes.chunks), call(wrap(make()), sizes.chunks), sizes
            )
            rows.append((label, bare, wrapped))
        recording = recording_cost(openai.OpenAI(api_key="sk-bench", base_url=f"{url}/v1"), sizes)
        written = sum(path.stat().st_size for path in Path(tmp).glob("*.jsonl"))

    print(
        f"# wrapped SDK streams, {'quick' if args.quick else 'full'} run, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, {sizes.chunks} chunks per call, best of {sizes.repeats}"
    )
    print("CPU µs per chunk of a whole streamed call, the fake server on 127.0.0.1 included\n")
    print(f"| {'call':<30} | {'bare SDK':>9} | {'wrapped':>9} | {'overhead':>9} | wrapped/bare |")
    print(f"|{'-' * 32}|{'-' * 11}|{'-' * 11}|{'-' * 11}|--------------|")
    for label, bare, wrapped in rows:
        print(
            f"| {label:<30} | {bare * 1e6:9.2f} | {wrapped * 1e6:9.2f} | "
            f"{(wrapped - bare) * 1e6:9.2f} | {wrapped / bare:12.2f} |"
        )
    print(
        f"\njsontrace's own work per chunk (to_dict + run.chunk to the file), same chunks: "
        f"{recording * 1e6:.2f} µs"
    )
    print(f"{written / 1e6:.1f} MB of trace files written (and removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
