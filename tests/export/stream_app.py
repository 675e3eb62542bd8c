"""A traced app that keeps writing while an exporter follows it: ``python stream_app.py DIR N``.

It writes N traces one after another: a ``turn`` chain with three ``reply`` llm children
that stream five chunks each, a few milliseconds apart, with pauses between them. An
exporter reading along mostly finds a turn open while some of its replies have ended
(and were shipped): the case a restart must get right.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import jsontrace
from jsontrace import traceable


@traceable(run_type="llm", reduce_fn="".join)
def reply(n: int) -> Iterator[str]:
    for i in range(5):
        time.sleep(0.002)
        yield f"{n}.{i} "


@traceable(name="turn")
def turn(n: int) -> str:
    text = ""
    for _ in range(3):
        text += "".join(reply(n))
        time.sleep(0.01)
    return text


def main(directory: str, count: int) -> None:
    jsontrace.configure(dir=directory)
    for n in range(count):
        turn(n)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
