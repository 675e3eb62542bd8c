"""Fixtures of the export tests: a trace directory written by the library, a fake OTLP server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .otlp_server import FakeOtlp

APP = Path(__file__).with_name("traced_app.py")
ROOT = Path(__file__).resolve().parents[2]


def write_app_traces(directory: Path) -> Path:
    """Run traced_app.py (in its own process: it dies mid-stream on purpose) into *directory*."""
    done = subprocess.run(
        [sys.executable, str(APP), str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert 0 == done.returncode, done.stderr
    return directory


@pytest.fixture(scope="session")
def app_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the library wrote: a nested chain with a streaming llm run and a failing
    tool, and a trace interrupted by its writer's death. Do not write to it."""
    return write_app_traces(tmp_path_factory.mktemp("app") / "logs")


@pytest.fixture
def otlp() -> Iterator[FakeOtlp]:
    """A fake OTLP/HTTP receiver on 127.0.0.1, stopped after the test."""
    with FakeOtlp() as server:
        yield server


def jsontrace_cmd(*args: str) -> list[str]:
    """The ``jsontrace`` command line, run by this interpreter."""
    return [sys.executable, "-m", "jsontrace", *args]
