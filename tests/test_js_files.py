"""Directories written by the TypeScript writer (js/), read by the Python side.

Node programs write traces; the Python run model and ``jsontrace doctor`` must
find no corruption, and each program of tests/conformance/programs.json must
give the same trees as its Python twin. The package is built here when its
build is missing or older than its sources (``npm ci`` first when
``js/node_modules`` is missing); without Node the tests are skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# -- adapter: the run model (the one place to re-point when the package moves things) --------
from jsontrace.store import RunRecord, load_directory

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "js"
PROGRAMS = json.loads((ROOT / "tests" / "conformance" / "programs.json").read_text("utf-8"))[
    "cases"
]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (node) on PATH")


# Cross-process headers on the Python side are the drop-in work (jsontrace._headers).
needs_python_headers = pytest.mark.skipif(
    importlib.util.find_spec("jsontrace._headers") is None,
    reason="the Python side's cross-process headers (jsontrace._headers) have not landed yet",
)

PY_CLIENT = """
import json
from jsontrace import get_current_run, traceable

@traceable(name="py_client", tags=["python"])
def client():
    return json.dumps(get_current_run().to_headers())

print(client())
"""

PY_SERVER = """
import json, sys
from jsontrace import traceable

@traceable(name="py_server")
def serve(question):
    return f"answer to {question}"

print(serve("why", langsmith_extra={"parent": json.loads(sys.argv[1])}))
"""


def _newest_source() -> float:
    paths = [JS / "package.json", JS / "package-lock.json", *JS.glob("tsconfig*.json")]
    for folder in ("src", "test", "bench"):
        paths.extend((JS / folder).rglob("*.ts"))
    return max(path.stat().st_mtime for path in paths)


def _built() -> bool:
    outputs = [JS / "dist" / "index.js", JS / "build" / "test" / "scripts" / "workload.js"]
    if not all(path.is_file() for path in outputs):
        return False
    return min(path.stat().st_mtime for path in outputs) >= _newest_source()


@pytest.fixture(scope="module")
def node_package() -> Path:
    """js/, built (with `npm ci` first if its dependencies are missing)."""
    if _built():
        return JS
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("js/ is not built and npm is missing: run `cd js && npm ci && npm test` first")
    steps = []
    if not (JS / "node_modules" / ".bin" / "tsc").exists():
        steps.append([npm, "ci", "--no-audit", "--no-fund"])
    steps.append([npm, "run", "build"])
    for step in steps:
        done = subprocess.run(
            step, cwd=JS, capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(step)} failed in js/:\n{done.stdout}\n{done.stderr}")
    return JS


def _env(directory: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSONTRACE_")}
    return {**env, "JSONTRACE_DIR": str(directory), **extra}


def run_node(script: Path, directory: Path, *args: str, **extra: str) -> str:
    done = subprocess.run(
        ["node", str(script), *args],
        env=_env(directory, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_python(script: Path | str, directory: Path, *args: str) -> str:
    """Run a Python file, or Python source text, with JSONTRACE_DIR set."""
    command = [str(script)] if isinstance(script, Path) else ["-c", script]
    done = subprocess.run(
        [sys.executable, *command, *args],
        env=_env(directory),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def doctor(directory: Path) -> str:
    """`jsontrace doctor DIR`'s report; fails the test unless the exit status is 0 (clean)."""
    done = subprocess.run(
        [sys.executable, "-m", "jsontrace", "doctor", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def built_program(repo_path: str) -> Path:
    relative = Path(repo_path).relative_to("js")
    return JS / "build" / relative.with_suffix(".js")


def _walk(run: RunRecord) -> Iterator[RunRecord]:
    yield run
    for child in run.sorted_children():
        yield from _walk(child)


def tree(run: RunRecord, names: dict[str, str]) -> dict[str, Any]:
    """What a reader sees of a run and its descendants, ids and timings left out."""
    error = run.error
    name = names.get(run.name, run.name)
    return {
        "name": name,
        "run_type": run.run_type,
        "status": run.status,
        "inputs": run.inputs,
        "outputs": run.outputs,
        "chunks": run.chunks,
        "error": None
        if error is None
        else {"type": error.get("type"), "message": error.get("message")},
        "tags": run.tags,
        "metadata": run.metadata,
        "redacted": run.redacted,
        "warnings": len(run.trace_warnings),
        "children": [tree(child, names) for child in run.sorted_children()],
    }


def forest(directory: Path, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    store, _reader = load_directory(directory)
    roots = store.traces(newest_first=False)
    return [tree(root, names or {}) for root in roots]


def ts_to_python_names(case: dict[str, Any]) -> dict[str, str]:
    """Run names that differ by language in a case ({"$lang": ...}): TypeScript's -> Python's."""
    names = {}
    for run in case["runs"]:
        name = run["start"]["name"]
        if isinstance(name, dict) and "$lang" in name:
            names[name["$lang"]["typescript"]] = name["$lang"]["python"]
    return names


@pytest.mark.parametrize("case", PROGRAMS, ids=[case["id"] for case in PROGRAMS])
def test_typescript_program_gives_the_trees_of_its_python_twin(
    case: dict[str, Any], node_package: Path, tmp_path: Path
) -> None:
    """Read by the run model, the TypeScript program's directory holds the Python twin's trees."""
    ts_dir, py_dir = tmp_path / "ts", tmp_path / "py"
    assert run_node(built_program(case["typescript"]), ts_dir) == case["stdout"]
    assert run_python(ROOT / case["python"], py_dir) == case["stdout"]
    assert "health      no problems" in doctor(ts_dir)
    expected = forest(py_dir)
    assert expected, "the Python twin wrote runs"
    assert forest(ts_dir, ts_to_python_names(case)) == expected


def test_a_busy_typescript_app_leaves_a_clean_directory(node_package: Path, tmp_path: Path) -> None:
    """Concurrent streams over many small segments: no corruption, every run finished, trees intact."""
    directory = tmp_path / "logs"
    out = run_node(
        JS / "build" / "test" / "scripts" / "workload.js", directory, JSONTRACE_MAX_BYTES="8k"
    )
    assert out == "20\n"
    files = sorted(directory.glob("trace-*.jsonl"))
    assert len(files) > 3, "runs spread over several segments"
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700
    report = doctor(directory)
    assert "health      no problems" in report
    assert "runs        100 (4 cancelled, 9 error, 87 ok)" in report
    roots = forest(directory)
    assert len(roots) == 20
    for root in roots:
        assert root["name"] == "answer"
        assert root["status"] == "ok"
        assert [child["name"] for child in root["children"]] == ["lookup"] * 3 + ["tokens"]
        for child in root["children"]:
            if child["name"] == "lookup" and child["status"] == "ok":
                assert child["outputs"]["api_key"] == "[REDACTED]"
                assert child["redacted"] == ["outputs.api_key"]
                assert "ünïcödé ✓" in child["outputs"]["text"]
            if child["name"] == "lookup" and child["status"] == "error":
                assert child["error"]["type"] == "RangeError"
    tokens = [child for root in roots for child in root["children"] if child["name"] == "tokens"]
    assert sorted({run["status"] for run in tokens}) == ["cancelled", "ok"]
    for run in tokens:
        if run["status"] == "ok":
            assert run["outputs"] == " ".join(run["chunks"])


def test_node_and_python_runs_share_one_directory(node_package: Path, tmp_path: Path) -> None:
    """Both writers in one directory: the viewer's model shows both languages' traces side by side."""
    directory = tmp_path / "logs"
    seed = next(case for case in PROGRAMS if case["id"] == "seed_generator")
    run_node(built_program(seed["typescript"]), directory)
    run_python(ROOT / seed["python"], directory)
    assert "health      no problems" in doctor(directory)
    names = sorted(root["name"] for root in forest(directory))
    assert names == ["<lambda>", "my_generator"]
    store, _reader = load_directory(directory)
    pids = {run.pid for root in store.traces() for run in _walk(root)}
    assert len(pids) == 2


def _one(store: Any, name: str) -> RunRecord:
    found = [run for root in store.traces() for run in _walk(root) if run.name == name]
    assert len(found) == 1, [run.name for root in store.traces() for run in _walk(root)]
    return found[0]


@needs_python_headers
def test_a_node_client_and_a_python_server_make_one_trace(
    node_package: Path, tmp_path: Path
) -> None:
    """Headers from a Node run continue in Python: one trace, the Python run the Node run's child.

    The Python run inherits the Node run's tags and metadata from the baggage header.
    """
    directory = tmp_path / "logs"
    headers = run_node(JS / "build" / "test" / "scripts" / "headers_out.js", directory).strip()
    assert run_python(PY_SERVER, directory, headers) == "answer to why\n"
    assert "orphans     0" in doctor(directory)
    store, _reader = load_directory(directory)
    client, server = _one(store, "client"), _one(store, "py_server")
    assert server.parent_run_id == client.run_id
    assert server.trace_id == client.trace_id
    assert [root.name for root in store.traces()] == ["client"]
    assert (["node"], {"side": "client"}) == (server.tags, server.metadata)


@needs_python_headers
def test_a_python_client_and_a_node_server_make_one_trace(
    node_package: Path, tmp_path: Path
) -> None:
    """Headers from a Python run continue in Node: one trace, the Node run the Python run's child.

    The Node run inherits the Python run's tags from the baggage header, as Python's would.
    """
    directory = tmp_path / "logs"
    headers = run_python(PY_CLIENT, directory).strip()
    assert json.loads(headers)["baggage"] == "langsmith-tags=python"
    out = run_node(JS / "build" / "test" / "scripts" / "headers_in.js", directory, headers)
    assert out == "answer to why\n"
    assert "orphans     0" in doctor(directory)
    store, _reader = load_directory(directory)
    client, server = _one(store, "py_client"), _one(store, "server")
    assert server.parent_run_id == client.run_id
    assert server.trace_id == client.trace_id
    assert (["python"], {}) == (server.tags, server.metadata)


def test_node_to_node_across_processes_reads_as_one_trace(
    node_package: Path, tmp_path: Path
) -> None:
    """Two Node processes joined by headers: the run model shows one tree, no orphan, baggage inherited."""
    directory = tmp_path / "logs"
    headers = run_node(JS / "build" / "test" / "scripts" / "headers_out.js", directory).strip()
    run_node(JS / "build" / "test" / "scripts" / "headers_in.js", directory, headers)
    assert "orphans     0" in doctor(directory)
    (root,) = forest(directory)
    assert root["name"] == "client"
    assert [child["name"] for child in root["children"]] == ["server"]
    (server,) = root["children"]
    assert (["node"], {"side": "client"}) == (server["tags"], server["metadata"])
