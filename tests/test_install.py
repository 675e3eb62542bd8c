"""Installing the package as a user would: the library alone is light, the viewer is an extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent

TRACE_A_GENERATOR = """
import sys
from jsontrace import configure, traceable

configure(dir=sys.argv[1])

@traceable(reduce_fn="".join)
def stream():
    yield from ["Hello", "World", "!"]

print("".join(stream()))
"""


@pytest.mark.slow
def test_the_library_installs_without_the_viewer_and_traces_a_generator(tmp_path: Path) -> None:
    """`pip install jsontrace` in a fresh venv: no Textual or watchdog, nothing named `viewer`.

    A traced generator writes its three kinds of events there, `jsontrace-view
    --print` and `jsontrace doctor` work, and `jsontrace-view` itself says in one
    line which extra to install.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        check=True,
        timeout=900,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    installed = {path.name for path in site.iterdir()}
    assert {"jsontrace", "jsontrace_view"} <= installed
    assert not installed & {"viewer", "textual", "watchdog", "rich"}

    logs = tmp_path / "logs"
    # Run from an empty directory, so only the installed package can be imported.
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run(
        [str(python), "-c", TRACE_A_GENERATOR, str(logs)],
        capture_output=True, text=True, check=True, cwd=cwd, env=env,
    )  # fmt: skip
    assert "HelloWorld!" == done.stdout.strip()
    events = [orjson.loads(line) for path in logs.glob("*.jsonl") for line in path.read_bytes().splitlines()]  # fmt: skip
    assert ["run.start", "run.chunk", "run.chunk", "run.chunk", "run.end"] == [
        e["event"] for e in events
    ]
    assert "HelloWorld!" == events[-1]["outputs"]

    printed = subprocess.run(
        [str(venv / "bin" / "jsontrace-view"), "--print", str(logs)],
        capture_output=True, text=True, cwd=cwd, env=env,
    )  # fmt: skip
    assert 0 == printed.returncode, printed.stderr
    assert "stream" in printed.stdout
    doctor = subprocess.run(
        [str(venv / "bin" / "jsontrace"), "doctor", str(logs)],
        capture_output=True, text=True, cwd=cwd, env=env,
    )  # fmt: skip
    assert 0 == doctor.returncode, doctor.stdout + doctor.stderr

    viewer = subprocess.run(
        [str(venv / "bin" / "jsontrace-view"), str(logs)],
        capture_output=True, text=True, cwd=cwd, env=env,
    )  # fmt: skip
    assert 2 == viewer.returncode
    assert 1 == len(viewer.stderr.strip().splitlines())
    assert "pip install 'jsontrace[viewer]'" in viewer.stderr
    assert "Traceback" not in viewer.stderr
