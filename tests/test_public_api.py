"""The public surface: exported names, and what `import jsontrace` pulls in."""

from __future__ import annotations

import subprocess
import sys

import jsontrace


def test_exported_names() -> None:
    """__all__ is the deliberate, sorted public API; every name in it exists."""
    expected = [
        "ContextThreadPoolExecutor",
        "JsonTraceWarning",
        "Run",
        "__version__",
        "configure",
        "copy_context",
        "get_current_run",
        "reset_defaults",
        "trace",
        "traceable",
    ]
    assert expected == jsontrace.__all__
    assert expected == sorted(expected)
    for name in expected:
        assert hasattr(jsontrace, name)


def test_import_does_not_load_viewer_dependencies_or_structlog() -> None:
    """`import jsontrace` imports neither textual nor watchdog (nor, until the first event, structlog)."""
    code = (
        "import sys, jsontrace; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'watchdog', 'structlog', 'rich'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_first_event_goes_through_structlog(tmp_path: object) -> None:
    """The pipeline is structlog's: after the first traced call structlog is loaded, textual still not."""
    code = (
        "import sys, jsontrace\n"
        f"jsontrace.configure(dir={str(tmp_path)!r})\n"
        "jsontrace.traceable(lambda: 1)()\n"
        "print('structlog' in sys.modules, 'textual' in sys.modules, 'watchdog' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True False False"
