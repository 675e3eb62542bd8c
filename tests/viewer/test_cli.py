"""jsontrace_view.cli: jsontrace-view's arguments, errors and --print."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jsontrace._version import __version__
from jsontrace_view.cli import demo_command, main

from .. import events
from .conftest import TraceFiles

ROOT = Path(__file__).parent.parent.parent


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m jsontrace_view ARGS`` with stdout and stderr captured (so not a terminal)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "jsontrace_view", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env,
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
    """Bad lines do not stop --print; what is wrong goes to stderr, in the doctor's words."""
    files.trace("t", children=0)
    with files.path.open("ab") as f:
        f.write(b"\xff\n")

    result = run_cli(str(trace_dir), "--print")

    assert 0 == result.returncode
    assert [
        f"jsontrace-view: 1 bad line · 1 problem (jsontrace doctor {trace_dir} lists them);"
        f" first: {files.path.name}:3: invalid UTF-8: \\xff"
    ] == result.stderr.splitlines()


def test_print_makes_the_bad_line_excerpt_printable(files: TraceFiles, trace_dir: Path) -> None:
    """An OSC title, colour codes and a C1 CSI in a bad line reach stderr escaped, not raw."""
    files.trace("t", children=0)
    with files.path.open("ab") as f:
        f.write(b"\x1b]0;PWNED-TITLE\x07\x1b[31mred \xc2\x9b31m\n")

    result = run_cli(str(trace_dir), "--print")

    assert 0 == result.returncode
    assert None is re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", result.stderr)
    assert "\\x1b]0;PWNED-TITLE\\x07\\x1b[31mred \\x9b31m" in result.stderr


def test_print_on_an_empty_directory_says_so_and_exits_1(trace_dir: Path) -> None:
    """No *.jsonl files: nothing on stdout, one line on stderr, exit status 1."""
    trace_dir.mkdir()

    result = run_cli(str(trace_dir), "--print")

    assert (1, "") == (result.returncode, result.stdout)
    assert [
        f"jsontrace-view: no traces in {trace_dir}: no *.jsonl files"
    ] == result.stderr.splitlines()


def test_print_on_a_directory_without_a_valid_event_says_so_and_exits_1(
    files: TraceFiles, trace_dir: Path
) -> None:
    """Only garbage (and a malformed start): what is wrong, and that there is no trace, exit status 1."""
    with files.path.open("ab") as f:
        f.write(b"garbage\n")
    files.write({**events.start("x"), "ts": "nonsense"})

    result = run_cli(str(trace_dir), "--print")

    assert (1, "") == (result.returncode, result.stdout)
    assert [
        f"jsontrace-view: 2 bad lines · 2 problems (jsontrace doctor {trace_dir} lists them); first: "
        f"{files.path.name}:1: not JSON (unexpected character, expected a JSON value:"
        " line 1 column 1 (char 0)): garbage",
        f"jsontrace-view: no traces in {trace_dir}: no valid event in its files",
    ] == result.stderr.splitlines()


def test_print_into_a_closed_pipe_exits_quietly(files: TraceFiles, trace_dir: Path) -> None:
    """`jsontrace-view --print DIR | head`: the reader leaving early is no error, no traceback."""
    for n in range(300):
        files.trace(f"t{n}", children=3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "jsontrace_view", str(trace_dir), "--print"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)

    assert ("", 0) == (stderr, process.returncode)


def test_the_viewer_with_stdout_not_a_terminal_says_to_use_print_and_exits_2(
    files: TraceFiles, trace_dir: Path
) -> None:
    """`jsontrace-view DIR | less`: one line saying to use --print, exit status 2, no escape codes."""
    files.trace("t", children=0)

    result = run_cli(str(trace_dir), timeout=20)

    assert (2, "") == (result.returncode, result.stdout)
    assert [
        f"jsontrace-view: error: stdout is not a terminal; for plain text use: "
        f"jsontrace-view --print {trace_dir}"
    ] == result.stderr.splitlines()


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


def test_jsontrace_view_asks_the_app_for_the_allocator_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jsontrace-view runs the app with the allocator's policy on (set once loaded: see _memory)."""
    import jsontrace_view.app
    from jsontrace_view import cli

    asked: list[bool] = []
    monkeypatch.setattr(
        jsontrace_view.app.TraceViewer,
        "run",
        lambda self: asked.append(self._tune_allocator),
    )
    monkeypatch.setattr(cli, "_not_a_terminal", lambda: None)

    assert 0 == main([str(tmp_path)])
    assert [True] == asked
