"""Regenerate ``sample_logs/``: the demo app traced by two processes at once.

Run from the repository root: ``python scripts/make_sample_logs.py``. The files
are committed so that ``jsontrace-view sample_logs`` shows something on first
use; their contents come from the library itself, never written by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from jsontrace_view.cli import demo_command

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "sample_logs"


def main() -> int:
    shutil.rmtree(TARGET, ignore_errors=True)
    command = demo_command(TARGET, "--once", "--delay", "0.02")
    # Two processes writing side by side: each gets its own segment file.
    workers = [
        subprocess.Popen([*command, "--seed", "1", "--only", "0", "1", "2"], cwd=ROOT),
        subprocess.Popen([*command, "--seed", "2", "--only", "3", "4", "5"], cwd=ROOT),
    ]
    codes = [worker.wait(timeout=300) for worker in workers]
    if any(codes):
        print(f"demo app failed with exit codes {codes}", file=sys.stderr)
        return 1
    files = sorted(TARGET.glob("*.jsonl"))
    lines = sum(len(path.read_bytes().splitlines()) for path in files)
    print(f"wrote {lines} events in {len(files)} files to {TARGET.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
