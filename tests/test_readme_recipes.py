"""The README's "The files" recipes, run as written against sample_logs (grep, jq, DuckDB)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from jsontrace.stats import compute
from jsontrace.store import ERROR, RunRecord, RunStore, load_directory

ROOT = Path(__file__).resolve().parent.parent
SECTION = re.search(
    r"^## The files\n(.*?)^## ", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL
)


def blocks(language: str) -> list[str]:
    """The section's fenced code blocks in *language*, in order."""
    assert SECTION is not None, "README.md has no '## The files' section"
    return re.findall(rf"^```{language}\n(.*?)^```", SECTION.group(1), re.MULTILINE | re.DOTALL)


def commands() -> Iterator[tuple[str, str]]:
    """(comment, command) for each recipe of the sh blocks: a comment line, then its command."""
    for block in blocks("sh"):
        comment = ""
        for line in block.splitlines():
            if line.startswith("#"):
                comment = line
            elif line.strip():
                yield comment, line


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with sample_logs copied to logs/ (the recipes' path) and slowest.sql saved."""
    work = tmp_path_factory.mktemp("recipes")
    shutil.copytree(ROOT / "sample_logs", work / "logs")
    (sql,) = blocks("sql")
    (work / "slowest.sql").write_text(sql)
    return work


@pytest.fixture(scope="module")
def store(workdir: Path) -> RunStore:
    return load_directory(workdir / "logs")[0]


def recipe(words: str) -> str:
    """The command of the recipe whose comment contains *words*."""
    found = [command for comment, command in commands() if words in comment]
    assert 1 == len(found), f"no single README recipe about {words!r}"
    return found[0]


def run(command: str, workdir: Path, **ids: str) -> str:
    for name, value in ids.items():
        command = command.replace(f"<{name}>", value)
    assert "<" not in command.replace("< slowest.sql", ""), f"placeholder left in {command!r}"
    bin_dir = str(Path(sys.executable).parent)  # the venv's python and duckdb come first
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    return done.stdout


def all_runs(store: RunStore) -> list[RunRecord]:
    return [run for root in store.traces() for run in root.walk()]


def needs(tool: str) -> None:
    if (
        shutil.which(tool, path=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin")
        is None
    ):
        pytest.skip(f"{tool} is not installed")


def test_grep_prints_a_whole_trace_without_file_names(workdir: Path, store: RunStore) -> None:
    """grep -h over several files prints exactly the trace's events, each line valid JSON."""
    root = max(store.traces(), key=lambda r: sum(1 for _ in r.walk()))
    out = run(recipe("a whole trace"), workdir, trace_id=root.trace_id)
    events = [orjson.loads(line) for line in out.splitlines()]
    expected = sum(len(run.events()[0]) for run in root.walk())
    assert expected == len(events)
    assert {root.trace_id} == {event["trace_id"] for event in events}


def test_jsontrace_export_prints_the_same_lines_in_time_order(
    workdir: Path, store: RunStore
) -> None:
    """jsontrace export --trace prints the grep recipe's lines, ordered by time stamp."""
    root = max(store.traces(), key=lambda r: sum(1 for _ in r.walk()))
    grepped = run(recipe("a whole trace"), workdir, trace_id=root.trace_id).splitlines()
    exported = run(recipe("merged in time order"), workdir, trace_id=root.trace_id).splitlines()
    assert sorted(grepped) == sorted(exported)
    stamps = [orjson.loads(line)["ts"] for line in exported]
    assert sorted(stamps) == stamps


def test_jq_lists_every_failed_run_with_its_name(workdir: Path, store: RunStore) -> None:
    """The failed-runs recipe joins starts and ends: one object per failed run, with name and message."""
    needs("jq")
    out = run(recipe("every failed run"), workdir)
    found = sorted(
        (o["run_id"], o["name"], o["error"]) for o in map(orjson.loads, out.splitlines())
    )
    failed = [r for r in all_runs(store) if r.status == ERROR]
    assert failed, "sample_logs should hold failed runs"
    assert sorted((r.run_id, r.name, (r.error or {}).get("message")) for r in failed) == found


def test_jq_prints_a_streamed_text_exactly(workdir: Path, store: RunStore) -> None:
    """The streaming recipe prints the chunks joined, with the model's newlines and nothing added."""
    needs("jq")
    streams = [r for r in all_runs(store) if r.chunks and all(isinstance(c, str) for c in r.chunks)]
    assert streams, "sample_logs should hold a streamed text"
    stream = max(streams, key=lambda r: len(r.chunks))
    out = run(recipe("the text a streaming run produced"), workdir, run_id=stream.run_id)
    assert "".join(stream.chunks) == out


def expected_stats(store: RunStore) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    """What the query should say, from jsontrace.stats over the runs that ended."""
    rows = compute(r for r in all_runs(store) if r.finished)
    return {
        (row.name, row.run_type): (
            row.runs,
            row.p50_ms or 0.0,
            row.p95_ms or 0.0,
            row.error_rate or 0.0,
        )
        for row in rows
    }


def table_rows(out: str) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    """The rows of a DuckDB box table: name, run_type, runs, p50, p95, error rate."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) == 6 and cells[2].isdigit():
            name, run_type, runs, p50, p95, rate = cells
            rows[(name, run_type)] = (int(runs), float(p50), float(p95), float(rate))
    return rows


@pytest.mark.parametrize("tool", ["python", "duckdb"])
def test_the_duckdb_query_runs_from_python_and_the_cli(
    tool: str, workdir: Path, store: RunStore
) -> None:
    """slowest.sql, run as the README says, gives jsontrace.stats' numbers for every name."""
    if tool == "python":
        pytest.importorskip("duckdb")
    else:
        needs("duckdb")
    (command,) = [c for _, c in commands() if c.startswith(f"{tool} ")]
    got = table_rows(run(command, workdir))
    expected = expected_stats(store)
    assert expected.keys() == got.keys()
    for key, (runs, p50, p95, rate) in expected.items():
        # The query rounds to 0.1 ms and to 0.01.
        assert runs == got[key][0]
        assert math.isclose(p50, got[key][1], abs_tol=0.051)
        assert math.isclose(p95, got[key][2], abs_tol=0.051)
        assert math.isclose(rate, got[key][3], abs_tol=0.0051)
