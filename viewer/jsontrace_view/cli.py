"""``jsontrace-view [DIR]``: the command line.

Textual is imported only when the UI starts, so ``--print``, ``--version`` and
errors answer fast (and work where no terminal UI could run). The full-screen
viewer needs a terminal: with stdout (or stdin) not one (``jsontrace-view DIR |
less``, a cron job), it says in one line to use ``--print`` and exits 2 rather
than write escape codes into a pipe, or silently print something else.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from jsontrace._version import __version__

__all__ = ["demo_command", "main"]

PROG = "jsontrace-view"
#: What to try instead of a directory that cannot be viewed.
HINT = "give the directory your app writes traces to: JSONTRACE_DIR, default ./logs"
#: In a clone of the repository, the sample traces are there to try.
SAMPLE_HINT = "try: jsontrace-view sample_logs"


def _hint() -> str:
    return SAMPLE_HINT if Path("sample_logs").is_dir() else HINT


# `python -m` and `python -c` put the current directory first on sys.path, so a
# folder of the user's holding its own `jsontrace_view` (or `jsontrace`) would be
# imported instead of ours. The bootstrap drops that entry before importing anything.
_BOOTSTRAP = (
    "import sys\n"
    "if not getattr(sys.flags, 'safe_path', False): del sys.path[0]\n"
    "from jsontrace_view.demo_app import main\n"
    "sys.exit(main(sys.argv[1:]))"
)


def demo_command(directory: str | Path, *options: str) -> list[str]:
    """The command line that runs the demo app into *directory*, whatever the current directory."""
    return [sys.executable, "-c", _BOOTSTRAP, str(directory), *options]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Browse jsontrace files live: a tree of traces and the details of each run.",
        epilog="Keys inside the viewer: press ? for help, q to quit.",
    )
    parser.add_argument(
        "directory",
        nargs="?",
        default="logs",
        metavar="DIR",
        help="directory of *.jsonl trace files (default: ./logs)",
    )
    parser.add_argument(
        "--poll",
        action="store_true",
        help="poll for changes instead of using OS file events (NFS, Docker volumes)",
    )
    parser.add_argument(
        "--print",
        action="store_true",
        dest="print_tree",
        help="print the current tree as plain text and exit (for scripts, CI and grep)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run a fake traced LLM app into a temporary directory and watch it",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for a bad directory)."""
    args = _parser().parse_args(argv)
    try:
        if args.demo and args.print_tree:
            return _fail("--demo cannot be combined with --print")
        if not args.print_tree:
            missing = _missing_ui_packages()
            if missing:
                return _fail(
                    f"the viewer needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                    "not installed: pip install 'jsontrace[viewer]' (--print works without)"
                )
        directory = Path(args.directory)
        problem = None if args.demo else _check_directory(directory)
        if problem is not None:
            return _fail(f"{problem} ({_hint()})")
        if args.print_tree:
            return _print_tree(directory)
        not_a_terminal = _not_a_terminal()
        if not_a_terminal:
            return _fail(
                f"{not_a_terminal} is not a terminal; for plain text use: "
                f"{PROG} --print {args.directory}"
            )
        if args.demo:
            return _demo(poll=args.poll)
        return _run_app(directory, poll=args.poll)
    except KeyboardInterrupt:
        return 130


def _missing_ui_packages() -> list[str]:
    """The viewer's packages (the ``viewer`` extra) that cannot be imported here."""
    import importlib

    missing = []
    for module, name in (("textual", "Textual"), ("watchdog", "watchdog")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(name)
    return missing


def _not_a_terminal() -> str:
    """Which of stdout and stdin is not a terminal ("" when both are)."""
    for name, stream in (("stdout", sys.stdout), ("stdin", sys.stdin)):
        try:
            if stream is None or not stream.isatty():
                return name
        except (AttributeError, ValueError):  # replaced or closed
            return name
    return ""


def _fail(message: str) -> int:
    from jsontrace.render import printable

    print(f"{PROG}: error: {printable(message)}", file=sys.stderr)
    return 2


def _check_directory(directory: Path) -> str | None:
    """Why *directory* cannot be viewed, or None."""
    if not directory.exists():
        return f"no such directory: {directory}"
    if not directory.is_dir():
        return f"not a directory: {directory}"
    try:
        os.listdir(directory)
    except OSError as exc:
        return f"cannot read {directory}: {exc.strerror or exc}"
    return None


def _print_tree(directory: Path) -> int:
    """``--print``: the tree on stdout, what is wrong on stderr (exit 1 when nothing to show)."""
    from jsontrace.render import health, printable, render_tree, write_lines
    from jsontrace.store import load_directory

    store, reader = load_directory(directory)
    summary = store.summary(reader)  # decodes every line: the counts the doctor gives
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Box-drawing and status symbols on an ASCII-only stdout must not crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    if not write_lines(render_tree(store)):
        return 0  # `jsontrace-view --print | head`: the reader left, fine
    place = printable(str(directory))
    if summary.corruption:
        first = summary.problems[0] if summary.problems else ""
        print(
            f"{PROG}: {health(summary.bad_lines, summary.corruption)}"
            f" (jsontrace doctor {place} lists them); first: {printable(first)}",
            file=sys.stderr,
        )
    if not summary.traces:
        if not summary.files:
            print(f"{PROG}: no traces in {place}: no *.jsonl files", file=sys.stderr)
        else:
            print(f"{PROG}: no traces in {place}: no valid event in its files", file=sys.stderr)
        return 1
    return 0


def _run_app(directory: Path, *, poll: bool, follow: bool | None = None) -> int:
    # follow=None: the app follows when the newest trace is still running once loaded.
    from .app import TraceViewer

    # The allocator's policy for a viewer that may run for days, set once loaded (see _memory).
    TraceViewer(directory, poll=poll, follow=follow, tune_allocator=True).run()
    return 0


def _demo(*, poll: bool) -> int:
    """Run the demo app into a fresh temporary directory and view it; clean up after."""
    directory = Path(tempfile.mkdtemp(prefix="jsontrace-demo-"))
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            demo_command(directory),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _run_app(directory, poll=poll, follow=True)
        finally:
            _stop(process)
            shutil.rmtree(directory, ignore_errors=True)
        if process.returncode not in (0, -15, -9):
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", "backslashreplace")
            from jsontrace.render import printable

            print(
                f"{PROG}: the demo app failed:\n{printable(tail, multiline=True)}", file=sys.stderr
            )
            return 1
    return 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
