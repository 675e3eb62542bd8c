"""``jsontrace export``: from parsed arguments to an exit status, one line per problem.

Exit statuses: 0 done (also after SIGTERM/SIGINT stopped a ``--follow``), 1 the
receiver refused or could not be reached (what it accepted before is recorded
in the state), 2 the command cannot start (a bad directory, TARGET, filter or
state file, or the ``otlp`` extra missing), 1 also for ``--trace`` without
``--otlp`` when the trace is not in the directory.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Final

from ._follow import DEFAULT_BATCH_SPANS, Exporter, Filters, Summary
from ._lines import normalize_trace_id, write_trace
from ._otlp_http import HttpSink, safe_url
from ._otlp_json import JsonLinesSink
from ._otlp_map import MapOptions, parse_iso
from ._sink import Sink, SinkError
from ._state import State, StateError, default_state_path

__all__ = ["parse_since", "run"]

PROG: Final = "jsontrace export"
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")


class _Usage(Exception):
    """The command cannot start; the message says what to do."""


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def parse_since(text: str, now: float | None = None) -> int:
    """``--since``: ``30m``, ``2h``, ``1d``, ``1w`` ago, or an ISO 8601 date or time (local if naive)."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        seconds = float(relative.group(1)) * _UNITS[relative.group(2)]
        moment = (time.time() if now is None else now) - seconds
        return int(moment * 1_000_000) * 1000
    when = parse_iso(text)
    if when is None:
        raise _Usage(
            f"--since {text!r} is neither a time ago (30m, 2h, 1d, 1w) nor an ISO 8601 date or time "
            "(2026-11-24, 2026-11-24T07:00:00Z)"
        )
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is the user's local time
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (when - epoch) // timedelta(microseconds=1) * 1000


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            # What was given may hold a secret: never echo any of it.
            raise _Usage(
                "--header needs NAME=VALUE with NAME a header name such as Authorization or "
                "x-api-key (what was given is not repeated here: it may be a secret)"
            )
        if "\n" in value or "\r" in value:
            raise _Usage(f"--header {name}: the value holds a line break")
        headers[name] = value
    return headers


def _target_kind(target: str) -> str:
    if target == "-":
        return "stdout"
    lowered = target.lower()
    if lowered.startswith(("http://", "https://")):
        return "http"
    if re.match(r"^[a-z][a-z0-9+.-]*://", lowered):
        scheme = lowered.split(":", 1)[0]
        raise _Usage(
            f"TARGET {safe_url(target)!r} has the scheme {scheme}://; give a file path, - for "
            "stdout, or an http:// or https:// URL of an OTLP/HTTP endpoint (.../v1/traces)"
        )
    return "file"


def _check_file_target(target: str) -> Path:
    path = Path(target).expanduser()
    if path.is_dir():
        raise _Usage(f"TARGET {target} is a directory; give a file path for the OTLP/JSON lines")
    if not path.parent.is_dir():
        raise _Usage(
            f"TARGET {target}: the directory {path.parent} does not exist; give a writable file "
            "path, - for stdout, or an http(s):// URL"
        )
    return path


def _sink(args: argparse.Namespace, service: str, stop: threading.Event, *, append: bool) -> Sink:
    kind = _target_kind(args.otlp)
    if kind == "http":
        outage = {"since": 0.0}

        def on_retry(problem: str, wait: float) -> None:
            if args.follow and not outage["since"]:
                outage["since"] = time.monotonic()
                _say(f"{problem}; trying again (next in {wait:.1f} s) until it answers")

        return HttpSink(
            args.otlp,
            service,
            args.project,
            headers=_headers(args.header),
            timeout=args.timeout,
            retries=None if args.follow else args.retries,
            compression=not args.no_gzip,
            sleep=lambda seconds: not stop.wait(seconds),
            on_retry=on_retry,
        )
    if kind == "file":
        _check_file_target(args.otlp)
    return JsonLinesSink(args.otlp, service, args.project, append=append)


def _service_name(directory: Path, given: str | None) -> str:
    if given:
        return given
    return directory.resolve().name or "jsontrace"


def _state_target(target: str) -> str:
    kind = _target_kind(target)
    if kind == "file":
        return str(Path(target).expanduser().resolve())
    return safe_url(target) if kind == "http" else target


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set *stop* (the batch under way finishes); a second one is fatal."""

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _await_directory(directory: Path, interval: float, stop: threading.Event) -> bool:
    """Wait for *directory* to appear; False if stopped first (SIGTERM, SIGINT).

    The library makes its directory when it writes its first event, so a follower started
    beside the app (a sidecar, a second terminal) usually starts first. The state file's
    default place is inside the directory, so nothing else can begin before it exists.
    """
    _say(f"{directory} does not exist yet; waiting for it (the app makes it on its first event)")
    while not directory.exists():
        if stop.wait(max(interval, 0.05)):
            return False
    if not directory.is_dir():
        raise _Usage(f"{directory} appeared, but it is not a directory")
    return True


def _report(summary: Summary, sink: Sink, elapsed: float) -> None:
    where = "written to" if isinstance(sink, JsonLinesSink) else "sent to"
    line = (
        f"{summary.spans} span(s) of {summary.traces} trace(s) {where} {sink.name} "
        f"in {summary.batches} batch(es), {elapsed:.1f} s"
    )
    if summary.rejected:
        line += f"; the receiver rejected {summary.rejected} span(s)"
    if summary.running:
        line += (
            f"; {summary.running} run(s) still running (or written on another host) were left out:"
            " they are exported once they end (--follow)"
        )
    _say(line)
    for message in summary.messages:
        _say(f"the receiver said: {message}")


def _before(summary: Summary, state: State | None) -> str:
    """What a failure line adds: what went through before it, and where that is recorded."""
    done = f"; {summary.spans} span(s) were accepted before" if summary.spans else ""
    if state is not None:
        done += f"; {state.path} records what was accepted, so the next start sends the rest"
    return done


def _print_trace(args: argparse.Namespace) -> int:
    trace_id = normalize_trace_id(args.trace)
    out = sys.stdout.buffer
    try:
        count = write_trace(args.directory, trace_id, out)
        out.flush()
    except BrokenPipeError:
        return 0  # | head: the reader had enough
    if not count:
        _say(f"no event of trace {trace_id} in {args.directory}")
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``jsontrace export`` with parsed *args*; returns the exit status."""
    stop = threading.Event()
    try:
        # One scope for the whole command: a signal is never met by the default handler
        # between saying "waiting" (or "following") and the loop that honours it.
        with _stopping_on_signals(stop):
            return _run(args, stop)
    except _Usage as exc:
        _say(str(exc))
        return 2


def _run(args: argparse.Namespace, stop: threading.Event) -> int:
    directory: Path = args.directory
    if not directory.is_dir():
        if directory.exists() or not args.follow or args.otlp is None:
            what = "does not exist" if not directory.exists() else "is not a directory"
            raise _Usage(
                f"{directory} {what}; give the directory your app writes traces to "
                "(JSONTRACE_DIR, default ./logs)"
            )
        if not _await_directory(directory, args.interval, stop):
            _say(f"stopped before {directory} appeared; nothing was sent")
            return 0
    if args.otlp is None:
        if args.trace is None:
            raise _Usage(
                "give --otlp TARGET to export spans, or --trace ID to print a trace's lines"
            )
        if args.follow or args.state:
            raise _Usage("--follow and --state need --otlp TARGET")
        return _print_trace(args)
    filters = Filters(
        trace_id=normalize_trace_id(args.trace) if args.trace else None,
        since_ns=parse_since(args.since) if args.since else None,
        errors_only=args.status == "error",
    )
    if args.max_chunk_events < 0 or args.batch_spans < 1:
        raise _Usage("--max-chunk-events must be 0 or more and --batch-spans 1 or more")
    _target_kind(args.otlp)  # a bad TARGET is reported before the state is looked at
    state = None
    if args.follow or args.state:
        target = _state_target(args.otlp)
        path = Path(args.state) if args.state else default_state_path(directory, target)
        try:
            state = State.load(path, target)
            state.save()  # a place it cannot be written is found now, before anything is sent
        except StateError as exc:
            raise _Usage(str(exc)) from None
    service = _service_name(directory, args.service)
    try:
        sink = _sink(args, service, stop, append=state is not None)
    except SinkError as exc:
        raise _Usage(str(exc)) from None
    exporter = Exporter(
        directory,
        sink,
        options=MapOptions(max_chunk_events=args.max_chunk_events),
        filters=filters,
        state=state,
        batch_spans=args.batch_spans,
        notify=_say,
    )
    started = time.monotonic()
    try:
        if args.follow:
            _say(
                f"following {directory}, sending to {sink.name}; "
                "SIGTERM or SIGINT stops it after the batch under way"
            )
        try:
            summary = exporter.run(follow=args.follow, interval=args.interval, stop=stop)
        except SinkError as exc:
            if stop.is_set():  # stopped while a batch waited to be tried again
                _say(f"stopped: {exc}{_before(exporter.summary, state)}")
                return 0
            _say(f"{exc}{_before(exporter.summary, state)}")
            return 1
        except StateError as exc:
            _say(str(exc))
            return 2
    finally:
        sink.close()
    _report(summary, sink, time.monotonic() - started)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``jsontrace export``."""
    parser.add_argument(
        "directory", type=Path, nargs="?", default=Path("logs"), help="default: ./logs"
    )
    parser.add_argument(
        "--otlp",
        metavar="TARGET",
        help="a file for OTLP/JSON lines (- for stdout), or the http(s):// URL of an OTLP/HTTP "
        "endpoint (e.g. http://127.0.0.1:6006/v1/traces for Phoenix, :4318/v1/traces for a Collector)",
    )
    parser.add_argument(
        "--trace",
        metavar="ID",
        help="only this trace; without --otlp, print its original JSON lines (for bug reports)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only traces started since WHEN: 30m, 2h, 1d, 1w ago, or an ISO 8601 date or time",
    )
    parser.add_argument(
        "--status",
        choices=["error"],
        help="error: only traces in which a run failed (error or interrupted), whole",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep running: ship each run as it ends; SIGTERM or SIGINT stops after the current batch",
    )
    parser.add_argument(
        "--state",
        metavar="PATH",
        help="where to remember what was shipped (default with --follow: next to the logs, one "
        "per TARGET); with it a restart neither loses nor repeats spans",
    )
    parser.add_argument("--service", help="service.name (default: the directory's name)")
    parser.add_argument(
        "--project", help="openinference.project.name: the Phoenix project (default: its own)"
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an HTTP header for every request, e.g. an API key (repeatable; never printed)",
    )
    parser.add_argument(
        "--max-chunk-events",
        type=int,
        default=MapOptions().max_chunk_events,
        metavar="N",
        help="streamed chunks kept as span events per run; the rest are counted (default: 100)",
    )
    parser.add_argument(
        "--batch-spans",
        type=int,
        default=DEFAULT_BATCH_SPANS,
        metavar="N",
        help=f"spans per batch (default: {DEFAULT_BATCH_SPANS})",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="per request (default: 10 s)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=5,
        metavar="N",
        help="tries after a 429, 502, 503, 504 or no answer, with backoff (default: 5; "
        "--follow retries until it answers)",
    )
    parser.add_argument("--no-gzip", action="store_true", help="send request bodies uncompressed")
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        metavar="S",
        help="--follow: how often to look for new events (default: 0.5 s)",
    )
