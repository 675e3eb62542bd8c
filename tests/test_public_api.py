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
        "RunTree",
        "__version__",
        "configure",
        "copy_context",
        "get_current_run",
        "get_current_run_tree",
        "get_tracing_context",
        "reset_defaults",
        "set_run_metadata",
        "trace",
        "traceable",
        "tracing_context",
    ]
    assert expected == jsontrace.__all__
    assert expected == sorted(expected)
    assert sorted(set(expected) - {"__version__"}) == sorted(jsontrace._HOMES)
    for name in expected:
        assert hasattr(jsontrace, name)


def test_langsmith_module_paths_hold_the_same_objects() -> None:
    """``jsontrace.run_helpers`` and ``jsontrace.middleware`` (LangSmith's module paths) re-export, never redefine.

    LangSmith's documentation imports ``from langsmith.run_helpers import
    get_current_run_tree, traceable`` and ``from langsmith.middleware import
    TracingMiddleware``: changing ``langsmith`` to ``jsontrace`` must work.
    """
    import jsontrace.middleware
    import jsontrace.run_helpers

    for name in jsontrace.run_helpers.__all__:
        assert getattr(jsontrace, name) is getattr(jsontrace.run_helpers, name)
    assert ["TracingMiddleware", "WSGITracingMiddleware"] == jsontrace.middleware.__all__


def test_import_does_not_load_viewer_dependencies_or_structlog() -> None:
    """`import jsontrace` imports neither textual nor watchdog (nor, until the first event, structlog)."""
    code = (
        "import sys, jsontrace; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'watchdog', 'structlog', 'rich'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_tracing_loads_neither_the_viewer_nor_structlog(tmp_path: object) -> None:
    """After a traced call textual and watchdog are still not loaded, nor structlog without user processors."""
    code = (
        "import sys, jsontrace\n"
        f"jsontrace.configure(dir={str(tmp_path)!r})\n"
        "jsontrace.traceable(lambda: 1)()\n"
        "print('structlog' in sys.modules, 'textual' in sys.modules, 'watchdog' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False False"


def test_no_module_of_the_library_imports_the_viewers_packages() -> None:
    """The import contract: every jsontrace.* module (reader and store included) loads without Textual or watchdog.

    Each module is imported in a fresh interpreter where importing textual,
    watchdog or the viewer package raises, so an import hidden in any module
    fails this test, not only one that happens to run first.
    """
    code = """
import importlib, pkgutil, sys
import jsontrace

class Forbidden:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"textual", "watchdog", "jsontrace_view"}:
            raise ImportError(f"the library imported {name}")
        return None

sys.meta_path.insert(0, Forbidden())
names = sorted(m.name for m in pkgutil.walk_packages(jsontrace.__path__, "jsontrace."))
for name in names:
    importlib.import_module(name)
print(len(names))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 0 == done.returncode, done.stderr
    assert int(done.stdout) >= 15
