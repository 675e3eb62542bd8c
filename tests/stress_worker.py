"""A traced workload for the stress tests: threads and asyncio tasks, nested sync and async streams.

``python tests/stress_worker.py DIR ITERATIONS`` runs it in a fresh process;
the fork test calls :func:`work` in children made by ``fork``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator

import jsontrace
from jsontrace import traceable

THREADS = 4
TASKS = 3
SYNC_CHUNKS = 8
ASYNC_CHUNKS = 5
MAX_BYTES = 4096  # forces a rotation every dozen events or so


@traceable
def leaf(i: int) -> int:
    return i


@traceable(reduce_fn=sum)
def numbers(n: int) -> Iterator[int]:
    for i in range(n):
        yield leaf(i)


@traceable
async def aleaf(i: int) -> int:
    await asyncio.sleep(0)
    return i


@traceable
async def anumbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield await aleaf(i)


@traceable
async def consume(n: int) -> int:
    return sum([item async for item in anumbers(n)])


@traceable
def iteration(i: int) -> int:
    total = sum(numbers(SYNC_CHUNKS))

    async def tasks() -> list[int]:
        return await asyncio.gather(*(consume(ASYNC_CHUNKS) for _ in range(TASKS)))

    return total + sum(asyncio.run(tasks()))


def runs_per_iteration() -> int:
    """How many runs one iteration records (the checker's expectation)."""
    sync = 1 + SYNC_CHUNKS  # numbers + its leaves
    async_ = TASKS * (1 + 1 + ASYNC_CHUNKS)  # consume + anumbers + aleaves
    return 1 + sync + async_


def work(directory: str, iterations: int) -> None:
    """Trace *iterations* iterations in each of THREADS threads, into *directory*."""
    jsontrace.configure(dir=directory, max_bytes=MAX_BYTES)
    threads = [
        threading.Thread(target=lambda: [iteration(i) for i in range(iterations)])
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    work(sys.argv[1], int(sys.argv[2]))
