"""What a long traced stream costs in memory: peak RSS against the same stream untraced.

Each variant runs in its own fresh interpreter (peak RSS only ever grows), with
the same set-up: jsontrace imported and configured, the traced generator
decorated and warmed up. Then it consumes N short chunks, each a new string:

* untraced: the plain generator;
* traced: ``@traceable`` without ``reduce_fn`` (the end event writes at most
  ``max_items`` chunks, so no more are kept);
* traced with ``reduce_fn=len`` (for comparison: it needs every chunk, so they
  are all kept until the end).

    python benchmarks/memory.py            # 2,000,000 chunks (about a minute)
    python benchmarks/memory.py --quick    # 20,000 chunks, for CI

The files go to a temporary directory with ``max_segments=2``, so the run does
not fill the disk; they are deleted afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

# Tracing without reduce_fn may grow the process by at most this much over untraced.
TARGET_MIB = 4.0

_VARIANT = """
import resource, sys
import jsontrace

variant, directory, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
jsontrace.configure(dir=directory, max_segments=2)


def stream(n):
    for i in range(n):
        yield f"token {i}"  # a new string each time, as a model's stream is


traced = {
    "untraced": stream,
    "traced": jsontrace.traceable(stream),
    "reduce_fn": jsontrace.traceable(reduce_fn=len)(stream),
}[variant]
for _ in jsontrace.traceable(stream)(10):  # the pipeline and the file are set up in all three
    pass
for _ in traced(count):
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def peak_kib(variant: str, count: int) -> int:
    with tempfile.TemporaryDirectory(prefix="jsontrace-memory-") as directory:
        done = subprocess.run(
            [sys.executable, "-c", _VARIANT, variant, directory, str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 chunks (for CI)")
    args = parser.parse_args(argv)
    count = 20_000 if args.quick else 2_000_000

    peaks = {variant: peak_kib(variant, count) for variant in ("untraced", "traced", "reduce_fn")}
    base = peaks["untraced"]
    print(f"# peak RSS of a stream of {count:,} short chunks, Python {sys.version.split()[0]}")
    print("| variant                           |   peak RSS | over untraced | target |")
    print("|-----------------------------------|------------|---------------|--------|")
    labels = {
        "untraced": "untraced",
        "traced": "traced, no reduce_fn",
        "reduce_fn": "traced, reduce_fn=len (keeps all)",
    }
    for variant, label in labels.items():
        over = (peaks[variant] - base) / 1024
        target = ""
        if variant == "traced":
            target = f"≤ {TARGET_MIB:.0f} MiB ({'met' if over <= TARGET_MIB else 'NOT MET'})"
        print(f"| {label:<33} | {peaks[variant] / 1024:6.1f} MiB | {over:9.1f} MiB | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
