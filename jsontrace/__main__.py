"""The ``jsontrace`` command.

``jsontrace doctor DIR`` checks a trace directory; ``jsontrace export DIR --otlp TARGET``
sends its traces to OpenTelemetry (``jsontrace.export``), and ``jsontrace export DIR
--trace ID`` prints one trace's lines.

Each subcommand is a function that adds its parser (``_add_doctor``) and one
that runs it (``args.run(args)``, returning the exit status); output goes
through :func:`jsontrace.render.write_lines`, which makes a closed pipe
(``| head``) a quiet exit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._version import __version__

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run ``jsontrace``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="jsontrace", description="Tools for jsontrace trace files."
    )
    parser.add_argument("--version", action="version", version=f"jsontrace {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_doctor(commands)
    _add_export(commands)
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return status


def _fail(command: str, message: str) -> int:
    from .render import printable

    print(f"jsontrace {command}: {printable(message)}", file=sys.stderr)
    return 2


def _directory_problem(directory: Path) -> str | None:
    """Why *directory* cannot be checked, or None."""
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a directory"
        return (
            f"{directory} {what}; give the directory your app writes traces to "
            "(JSONTRACE_DIR, default ./logs)"
        )
    try:
        os.listdir(directory)
    except OSError as exc:
        return f"cannot read {directory}: {exc.strerror or exc}"
    return None


# -- doctor ---------------------------------------------------------------------------


def _add_doctor(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check a trace directory for corruption, unfinished runs and orphans",
        description="Exit status: 0 clean, 1 corruption found, 2 the directory cannot be read.",
    )
    doctor.add_argument(
        "directory", type=Path, nargs="?", default=Path("logs"), help="default: ./logs"
    )
    doctor.set_defaults(run=_doctor)


# -- export ---------------------------------------------------------------------------


def _add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="send traces to OpenTelemetry (OTLP/JSON file or OTLP/HTTP), or print one trace",
        description="Export a trace directory as OpenTelemetry spans (docs/otlp.md). Exit status: "
        "0 done, 1 the receiver refused or could not be reached (or --trace found nothing), "
        "2 bad arguments.",
    )
    from .export._command import add_arguments, run

    add_arguments(export)
    export.set_defaults(run=run)


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import check
    from .render import write_lines

    directory: Path = args.directory
    problem = _directory_problem(directory)
    if problem is not None:
        return _fail("doctor", problem)
    try:
        report = check(directory)
    except OSError as exc:
        return _fail("doctor", f"cannot read {directory}: {exc.strerror or exc}")
    write_lines(report.summary().splitlines())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
