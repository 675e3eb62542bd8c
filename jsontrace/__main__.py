"""The ``jsontrace`` command.

``jsontrace doctor DIR`` checks a trace directory; ``jsontrace export DIR --otlp TARGET``
sends its traces to OpenTelemetry (``jsontrace.export``), and ``jsontrace export DIR
--trace ID`` prints one trace's lines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._version import __version__

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jsontrace", description="Tools for jsontrace trace files."
    )
    parser.add_argument("--version", action="version", version=f"jsontrace {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    doctor = commands.add_parser(
        "doctor",
        help="check a trace directory for corruption, unfinished runs and orphans",
        description="Exit status: 0 clean, 1 corruption found, 2 the directory cannot be read.",
    )
    doctor.add_argument(
        "directory", type=Path, nargs="?", default=Path("logs"), help="default: ./logs"
    )
    export = commands.add_parser(
        "export",
        help="send traces to OpenTelemetry (OTLP/JSON file or OTLP/HTTP), or print one trace",
        description="Export a trace directory as OpenTelemetry spans (docs/otlp.md). Exit status: "
        "0 done, 1 the receiver refused or could not be reached (or --trace found nothing), "
        "2 bad arguments.",
    )
    from .export._command import add_arguments

    add_arguments(export)
    args = parser.parse_args(argv)
    if args.command == "export":
        from .export._command import run

        return run(args)

    from .doctor import check

    directory: Path = args.directory
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a directory"
        print(
            f"jsontrace doctor: {directory} {what}; give the directory your app writes traces to "
            "(JSONTRACE_DIR, default ./logs)",
            file=sys.stderr,
        )
        return 2
    try:
        report = check(directory)
    except OSError as exc:
        print(f"jsontrace doctor: cannot read {directory}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
