"""Write the expected values of conformance cases (tests/conformance/) from the Python side's real output.

    .venv/bin/python scripts/conformance_expected.py programs [--keep-lang] CASE_ID...

``programs``: for each case of programs.json named, runs its Python program,
normalises the events it wrote as tests/conformance/README.md says, and
replaces the case's ``stdout`` and ``runs`` with what came out: one set of
events for both languages. With ``--keep-lang``, a value the case gives per
language (``{"$lang": ...}``, for a difference the languages cannot help,
such as an anonymous function's name) is kept where its Python value is
still what Python writes.

Expectations are never written by hand: the TypeScript suite then shows where
its writer differs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_conformance import (  # noqa: E402  (the path above makes tests importable)
    normalise,
    read_events,
    run_python_program,
)

CASES = ROOT / "tests" / "conformance"


def keep_per_language(old: Any, new: Any) -> Any:
    """*new*, with the ``$lang`` entries of *old* whose Python value is *new*'s at the same place."""
    if isinstance(old, dict) and set(old) == {"$lang"}:
        return old if old["$lang"]["python"] == new else new
    if isinstance(old, dict) and isinstance(new, dict) and list(old) == list(new):
        return {key: keep_per_language(old[key], new[key]) for key in new}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [keep_per_language(o, n) for o, n in zip(old, new, strict=True)]
    return new


def programs(args: list[str]) -> str | None:
    keep_lang = "--keep-lang" in args
    ids = [arg for arg in args if arg != "--keep-lang"]
    if not ids:
        return "name the programs.json cases to regenerate"
    path = CASES / "programs.json"
    data = json.loads(path.read_text("utf-8"))
    cases = {case["id"]: case for case in data["cases"]}
    unknown = [case_id for case_id in ids if case_id not in cases]
    if unknown:
        return f"no such case in programs.json: {', '.join(unknown)}"
    for case_id in ids:
        case = cases[case_id]
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp) / "logs"
            case["stdout"] = run_python_program(case, directory)
            runs = normalise(read_events(directory))
        case["runs"] = keep_per_language(case.get("runs"), runs) if keep_lang else runs
    path.write_text(json.dumps(data, indent=1), "utf-8")
    return None


def main(argv: list[str]) -> int:
    commands = {"programs": programs}
    if not argv or argv[0] not in commands:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    problem = commands[argv[0]](argv[1:])
    if problem is not None:
        print(f"conformance_expected.py: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
