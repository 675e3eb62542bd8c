"""Regenerate the README's screenshots of the viewer (``docs/screenshot-*.svg``).

Run from the repository root: ``python scripts/make_screenshots.py``. Both come
from the real app, driven headless as the tests drive it, and saved with
Textual's ``save_screenshot``:

* ``screenshot-search.svg``: ``sample_logs`` searched for ``type:llm``, sorted by
  duration: the slowest llm call selected, its trace's waterfall below;
* ``screenshot-live.svg``: the demo app traced while the viewer follows it: the
  streaming call's output so far, its bar growing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jsontrace.store import RUNNING
from jsontrace_view.app import TraceViewer
from jsontrace_view.cli import demo_command

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SIZE = (120, 36)


async def _until(pilot: object, condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the viewer did not get there in time")
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def search_shot() -> None:
    app = TraceViewer(Path("sample_logs"), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.loaded)
        await pilot.press("slash", *"type:llm", "enter")
        await _until(pilot, lambda: not app.searching and app.search_text == "type:llm")
        await pilot.press("s")
        await _until(pilot, lambda: not app.searching)
        await pilot.pause(0.3)
        app.save_screenshot("screenshot-search.svg", str(DOCS))


async def live_shot() -> None:
    with tempfile.TemporaryDirectory(prefix="jsontrace-shot-") as folder:
        demo = subprocess.Popen(
            [*demo_command(folder, "--delay", "0.25", "--seed", "3")], stdout=subprocess.DEVNULL
        )
        try:
            time.sleep(4)  # a trace or two under way
            app = TraceViewer(Path(folder))
            async with app.run_test(size=SIZE) as pilot:
                await _until(pilot, lambda: app.loaded)

                def streaming() -> bool:
                    run = app.store.get(app._selected) if app._selected else None
                    return (
                        run is not None
                        and run.run_type == "llm"
                        and run.status == RUNNING
                        and len(run.chunks) >= 6
                    )

                await _until(pilot, streaming, timeout=120)
                await pilot.pause(0.1)  # the detail pane drawn
                app.save_screenshot("screenshot-live.svg", str(DOCS))
        finally:
            demo.terminate()
            demo.wait(timeout=10)


def main() -> int:
    asyncio.run(search_shot())
    asyncio.run(live_shot())
    print("wrote docs/screenshot-search.svg and docs/screenshot-live.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
