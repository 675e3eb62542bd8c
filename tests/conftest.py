"""Every test starts from the default configuration and prices, writing into its own temporary directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import jsontrace
from jsontrace import _errors, _pipeline, pricing


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "JSONTRACE_DIR",
        "JSONTRACE_ENABLED",
        "JSONTRACE_MAX_BYTES",
        "JSONTRACE_REDACT",
        "JSONTRACE_PRICES",
    ):
        monkeypatch.delenv(name, raising=False)
    jsontrace.reset_defaults()
    pricing.reset_prices()
    jsontrace.configure(dir=tmp_path / "logs")
    _errors.forget_reports()
    yield
    pricing.reset_prices()
    _pipeline.set_sink(None)
    jsontrace.reset_defaults()
    writer = _pipeline.current_writer()
    if writer is not None:
        writer.close()
    _errors.forget_reports()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """The directory this test's events are written to."""
    return tmp_path / "logs"


def read_events(directory: Path) -> list[dict[str, Any]]:
    """Every event in the directory's segment files, in file-name then line order."""
    events: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        events.extend(orjson.loads(line) for line in path.read_bytes().splitlines())
    return events


@pytest.fixture
def events(log_dir: Path) -> Callable[[], list[dict[str, Any]]]:
    """Call it to read every event written so far."""
    return lambda: read_events(log_dir)
