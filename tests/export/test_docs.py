"""docs/otlp.md's worked example is what ``jsontrace export`` writes for its input lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson

from .conftest import ROOT, jsontrace_cmd

DOC = ROOT / "docs" / "otlp.md"


def code_blocks(text: str) -> list[str]:
    """The contents of the ```json blocks of *text*, in order."""
    return [part.split("```", 1)[0] for part in text.split("```json\n")[1:]]


def test_the_worked_example_is_the_commands_output(tmp_path: Path) -> None:
    """The example's events, exported with the options it names, give exactly the span shown."""
    section = DOC.read_text().split("## A worked example", 1)[1]
    events, shown = code_blocks(section)[:2]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "trace-20261124T070030Z-myhost-3651-00000.jsonl").write_text(events)

    done = subprocess.run(
        jsontrace_cmd(
            "export", str(logs), "--otlp", "-", "--max-chunk-events", "1",
            "--service", "my-app", "--project", "haiku",
        ),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )  # fmt: skip

    assert 0 == done.returncode, done.stderr
    written = orjson.loads(done.stdout)
    scope = written["resourceSpans"][0]["scopeSpans"][0]
    scope["spans"] = [span for span in scope["spans"] if span["name"] == "stream_answer"]
    assert orjson.loads(shown) == written
