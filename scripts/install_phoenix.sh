#!/usr/bin/env bash
# Install Arize Phoenix into its own venv, .phoenix-venv at the repository root, for the tests
# marked `phoenix` (tests/export/test_phoenix.py). Phoenix has hundreds of dependencies of its
# own: it never enters the project's venv. Safe to run again: a finished install is kept.
# Takes about 3-6 minutes and 0.9 GB the first time. Usage: scripts/install_phoenix.sh [PYTHON]
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
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$SPEC"
echo "$SPEC" > "$MARK"
