"""jsontrace_view.cli: jsontrace-view's arguments, errors and --print."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jsontrace._version import __version__
from jsontrace_view.cli import demo_command, main

from .conftest import TraceFiles

ROOT = Path(__file__).parent.parent.parent


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "jsontrace_view", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=env,
    )  # fmt: skip


def test_missing_directory_is_a_one_line_error_with_a_hint(tmp_path: Path) -> None:
    """No traceback: one line on stderr, exit status 2, and what to give instead."""
    result = run_cli(str(tmp_path / "nope"), cwd=tmp_path)

    assert 2 == result.returncode
    assert "" == result.stdout
    assert [
        f"jsontrace-view: error: no such directory: {tmp_path / 'nope'} (give the directory your"
        " app writes traces to: JSONTRACE_DIR, default ./logs)"
    ] == result.stderr.splitlines()


def test_inside_a_clone_the_hint_names_the_sample_traces() -> None:
    """Where a sample_logs directory is at hand (a clone of the repository), the hint suggests it."""
    result = run_cli("nope", cwd=ROOT)

    assert ["jsontrace-view: error: no such directory: nope (try: jsontrace-view sample_logs)"] == (
        result.stderr.splitlines()
    )


def test_default_directory_is_logs(tmp_path: Path) -> None:
    """Without DIR, ./logs is used (and its absence reported as such)."""
    result = run_cli("--print", cwd=tmp_path)

    assert (2, "jsontrace-view: error: no such directory: logs") == (
        result.returncode,
        result.stderr.split(" (")[0],
    )


def test_a_file_is_not_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Pointing at a file is the same kind of error."""
    path = tmp_path / "x.jsonl"
    path.write_text("")

    assert 2 == main([str(path)])
    assert capsys.readouterr().err.startswith(f"jsontrace-view: error: not a directory: {path}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any directory")
def test_unreadable_directory_is_an_error(tmp_path: Path) -> None:  # pragma: no cover - root in CI
    """A directory we may not list: exit 2."""
    tmp_path.chmod(0)
    try:
        assert 2 == main([str(tmp_path)])
    finally:
        tmp_path.chmod(0o700)


def test_print_writes_the_tree_as_plain_text(files: TraceFiles, trace_dir: Path) -> None:
    """--print: statuses, names, types, durations and errors, one run per line, exit 0."""
    files.trace("t", children=2, error_in=1)
    result = run_cli(str(trace_dir), "--print")

    assert 0 == result.returncode
    assert [
        "✓ ok  t  chain  1.23 s  ⚠ error inside",
        "├── ✓ ok  t.0  llm  200 ms",
        "└── ✗ error  t.1  llm  1.23 s  ValueError: boom",
    ] == result.stdout.splitlines()


def test_print_reports_bad_lines_on_stderr(files: TraceFiles, trace_dir: Path) -> None:
    """Bad lines do not stop --print; a summary goes to stderr."""
    files.trace("t", children=0)
    with files.path.open("ab") as f:
        f.write(b"\xff\n")

    result = run_cli(str(trace_dir), "--print")

    assert 0 == result.returncode
    assert "1 bad lines; first: " in result.stderr
    assert ":3: invalid UTF-8" in result.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert 0 == exit_info.value.code
    assert f"jsontrace-view {__version__}\n" == capsys.readouterr().out


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """--help documents every option."""
    with pytest.raises(SystemExit):
        main(["--help"])

    out = capsys.readouterr().out
    assert all(option in out for option in ("--poll", "--print", "--demo", "--version", "DIR"))


def test_demo_cannot_be_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """--demo is interactive only."""
    assert 2 == main(["--demo", "--print"])


@pytest.mark.parametrize("shadow", ["jsontrace_view", "jsontrace"])
def test_the_demo_never_imports_a_users_package_from_the_current_directory(
    tmp_path: Path, shadow: str
) -> None:
    """--demo's app starts from any directory, even one holding a package with our name."""
    users = tmp_path / "project"
    (users / shadow).mkdir(parents=True)
    (users / shadow / "__init__.py").write_text(
        'raise SystemExit("the user\'s package was imported")\n'
    )
    out = tmp_path / "out"
    done = subprocess.run(
        demo_command(out, "--once", "--delay", "0", "--only", "0"),
        cwd=users,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 0 == done.returncode, done.stderr
    assert list(out.glob("trace-*.jsonl"))
