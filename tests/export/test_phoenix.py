"""Against a real backend: a trace directory exported to a running Arize Phoenix, read back.

Phoenix lives in its own venv (``.phoenix-venv`` at the repository root, made by
``scripts/install_phoenix.sh``, which the fixture runs when it is missing: about a
minute and 0.7 GB once). The server starts on 127.0.0.1 with a free port and its
database in a temporary directory, telemetry off, and takes about 30 s to answer
``/healthz``. Skip these tests locally with ``-m "not phoenix"``; CI runs them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, jsontrace_cmd

pytestmark = [pytest.mark.phoenix, pytest.mark.slow]

VENV = ROOT / ".phoenix-venv"
PROJECT = "jsontrace-export-test"

# `phoenix serve`, except that its OTLP/gRPC server binds 127.0.0.1: Phoenix binds it to
# [::] whatever PHOENIX_HOST says, and servers our tests start listen on loopback only.
_SERVE = """
import sys
import grpc.aio

_server = grpc.aio.server

def _loopback_server(*args, **kwargs):
    server = _server(*args, **kwargs)
    add = server.add_insecure_port
    server.add_insecure_port = lambda address: add(address.replace("[::]", "127.0.0.1"))
    return server

grpc.aio.server = _loopback_server
from phoenix.server.main import main
sys.argv = ["phoenix", "serve"]
sys.exit(main())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Phoenix server started for this module (stopped afterwards)."""
    install = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install_phoenix.sh")], capture_output=True, text=True
    )
    assert 0 == install.returncode, install.stderr[-3000:]
    port, grpc_port = _free_port(), _free_port()
    log = (tmp_path_factory.mktemp("phoenix") / "server.log").open("w")
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(tmp_path_factory.mktemp("phoenix-data")),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    server = subprocess.Popen(
        [str(VENV / "bin" / "python"), "-c", _SERVE], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, Path(log.name).read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, "Phoenix did not answer /healthz in 300 s"
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _spans(base: str, count: int) -> list[dict[str, Any]]:
    """The project's spans, once Phoenix has stored *count* of them (it ingests in the background)."""
    url = f"{base}/v1/projects/{PROJECT}/spans?limit=1000"
    deadline = time.monotonic() + 60
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            spans = _get(url)["data"]
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # the project appears with its first span
                raise
        if len(spans) >= count:
            return spans
        time.sleep(0.5)
    raise AssertionError(f"Phoenix holds {len(spans)} span(s), not {count}")


def export_to(phoenix: str, directory: Path) -> None:
    """``jsontrace export DIR --otlp <phoenix>/v1/traces --project PROJECT``, which must succeed."""
    done = subprocess.run(
        jsontrace_cmd(
            "export", str(directory), "--otlp", f"{phoenix}/v1/traces", "--project", PROJECT
        ),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert 0 == done.returncode, done.stderr


def test_phoenix_shows_the_exported_runs_as_llm_chain_and_tool_spans(
    phoenix: str, app_logs: Path
) -> None:
    """`jsontrace export DIR --otlp http://.../v1/traces`: Phoenix stores every run with its
    parent, kind, input, output, token counts, status and events."""
    export_to(phoenix, app_logs)

    by_name = {span["name"]: span for span in _spans(phoenix, 6)}

    assert {"answer", "retrieve", "generate", "calculator", "doomed", "stuck"} == set(by_name)
    answer, generate, calculator = by_name["answer"], by_name["generate"], by_name["calculator"]
    doomed, stuck = by_name["doomed"], by_name["stuck"]
    # The tree: parents by span id, roots without one, two traces.
    assert (None, None) == (answer["parent_id"], doomed["parent_id"])
    for child in ("retrieve", "generate", "calculator"):
        assert answer["context"]["span_id"] == by_name[child]["parent_id"]
        assert answer["context"]["trace_id"] == by_name[child]["context"]["trace_id"]
    assert doomed["context"]["span_id"] == stuck["parent_id"]
    # Kinds, as Phoenix shows them.
    assert ["CHAIN", "RETRIEVER", "LLM", "TOOL", "CHAIN", "LLM"] == [
        by_name[n]["span_kind"]
        for n in ("answer", "retrieve", "generate", "calculator", "doomed", "stuck")
    ]
    # Inputs and outputs.
    a = answer["attributes"]
    assert {"question": "What is the capital of France?"} == json.loads(a["input.value"])
    assert ("Paris is the capital.", "text/plain") == (a["output.value"], a["output.mime_type"])
    assert (["export-test"], "s-1", "u-1") == (a["tag.tags"], a["session.id"], a["user.id"])
    # The streaming llm run: model, tokens, time to first chunk, its chunks.
    g = generate["attributes"]
    assert ("fake-gpt-mini", 42, 3, 45) == (
        g["llm.model_name"],
        g["llm.token_count.prompt"],
        g["llm.token_count.completion"],
        g["llm.token_count.total"],
    )
    assert "Paris is the capital." == json.loads(g["output.value"])["content"]
    assert ["First Token Stream Event", "run.chunk", "run.chunk", "run.chunk"] == [
        e["name"] for e in generate["events"]
    ]
    assert ["Paris", " is", " the capital."] == [
        e["attributes"]["chunk"] for e in generate["events"][1:]
    ]
    # Statuses: ok, the tool's error with its exception, the interrupted runs.
    assert ("OK", "OK") == (answer["status_code"], generate["status_code"])
    assert ("ERROR", "ZeroDivisionError: division by zero") == (
        calculator["status_code"],
        calculator["status_message"],
    )
    [exception] = calculator["events"]
    assert ("exception", "ZeroDivisionError") == (
        exception["name"],
        exception["attributes"]["exception.type"],
    )
    assert "Traceback" in exception["attributes"]["exception.stacktrace"]
    for run in (doomed, stuck):
        assert ("ERROR", "interrupted") == (
            run["status_code"],
            run["attributes"]["jsontrace.status"],
        )
    assert "half an answer" == stuck["attributes"]["output.value"]


def test_phoenix_keeps_one_span_per_run_when_the_export_runs_again(
    phoenix: str, app_logs: Path
) -> None:
    """Span ids come from run ids: sending the directory again stores no second copy."""
    _spans(phoenix, 6)  # the previous test's export has landed
    export_to(phoenix, app_logs)
    time.sleep(3)  # Phoenix ingests in the background: give a duplicate time to appear

    spans = _spans(phoenix, 6)

    assert 6 == len(spans) == len({s["context"]["span_id"] for s in spans})
