#!/usr/bin/env bash
# Install Arize Phoenix into its own venv, .phoenix-venv at the repository root, for the tests
# marked `phoenix` (tests/export/test_phoenix.py). Phoenix has hundreds of dependencies of its
# own: it never enters the project's venv. Safe to run again: a finished install is kept.
# uv resolves and downloads in parallel: about a minute and 0.7 GB the first time (pip took
# 3-6 minutes). Usage: scripts/install_phoenix.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC="arize-phoenix>=20,<21"   # the REST API the test reads (/v1/projects/<p>/spans) as of 20.x
VENV=.phoenix-venv
MARK="$VENV/.installed"
if [ -f "$MARK" ] && [ "$(cat "$MARK")" = "$SPEC" ]; then
    exit 0
fi
rm -rf "$VENV"
"${1:-python3}" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check uv
# Bytecode compiled now: Phoenix's first start otherwise spends a minute compiling it.
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --compile-bytecode "$SPEC"
echo "$SPEC" > "$MARK"
