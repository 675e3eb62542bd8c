"""The public surface: exported names, and what `import jsontrace` pulls in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

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


def test_import_jsontrace_loads_nothing_of_tracing() -> None:
    """`import jsontrace` stays light: the decorator, the pipeline and orjson load on first use."""
    code = (
        "import sys, jsontrace; "
        "print(sorted(m for m in ('jsontrace._decorator', 'jsontrace._pipeline', 'orjson',"
        " 'concurrent.futures') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == done.stdout.strip()


# A fresh interpreter per round: a first-use import happens once per process. The
# import of the decorator (with its module lock held) and the pipeline build are made
# slow, so that the forks land inside them; each child then uses jsontrace for the
# first time itself, which hangs if it inherited a lock held by a thread it has not.
_FORK_DURING_FIRST_USE = """
import importlib.abc, os, sys, threading, time

directory, delay, offset = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])


class SlowLoader(importlib.abc.Loader):
    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        time.sleep(delay)  # the module's import lock is held meanwhile
        self.real.exec_module(module)


class SlowDecorator(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "jsontrace._decorator":
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    spec.loader = SlowLoader(spec.loader)
                    return spec
        return None


sys.meta_path.insert(0, SlowDecorator())
import jsontrace

jsontrace.configure(dir=directory)


def importing():
    from jsontrace import traceable  # the first use, made slow

    traceable(lambda: 1)()


def decorating():
    from jsontrace import _pipeline

    real = _pipeline.chains_for
    _pipeline.chains_for = lambda config: (time.sleep(delay), real(config))[1]
    jsontrace.configure(max_chars=50_000)  # the next decoration builds again, slowly
    jsontrace.traceable(lambda: 2)()


children = []
for work in (importing, decorating):
    thread = threading.Thread(target=work)
    thread.start()
    for _ in range(2):
        time.sleep(delay * offset)
        pid = os.fork()
        if pid == 0:
            from jsontrace import traceable

            @traceable
            def in_child(x):
                return x

            in_child(os.getpid())
            os._exit(0)
        children.append(pid)
    thread.join()

deadline = time.monotonic() + 30
for pid in children:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"child {pid} failed")
            break
        if time.monotonic() > deadline:
            for other in children:
                try:
                    os.kill(other, 9)
                except ProcessLookupError:
                    pass
            sys.exit(f"child {pid} hung")
        time.sleep(0.01)
print(" ".join(map(str, children)))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("offset", [0.2, 0.45, 0.7])
def test_a_fork_waits_for_first_use_imports_and_builds_in_other_threads(
    tmp_path: Path, offset: float
) -> None:
    """Threads importing `from jsontrace import traceable` for the first time, or decorating
    (building the pipeline), while the main thread forks: every child traces and exits, none
    hangs on a lock a vanished thread held. Several forks per round, rounds at several timings."""
    for round_ in range(3):
        directory = tmp_path / f"round{round_}"
        done = subprocess.run(
            [sys.executable, "-c", _FORK_DURING_FIRST_USE, str(directory), "0.3", str(offset)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert 0 == done.returncode, done.stderr[-2000:]
        children = done.stdout.split()
        assert 4 == len(children)
        traced = {
            orjson.loads(line)["inputs"]["x"]
            for path in directory.glob("*.jsonl")
            for line in path.read_bytes().splitlines()
            if b'"name":"in_child"' in line
        }
        assert {int(pid) for pid in children} == traced
