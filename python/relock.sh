#!/bin/sh
# Pins requirements.in and everything it pulls in into requirements.lock, from a fresh virtual environment.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.in"
{
  echo "# The course's managed Python environment, pinned (see python/README.md). Regenerate with python/relock.sh."
  "$tmp/venv/bin/pip" freeze --disable-pip-version-check
} > "$here/requirements.lock"
echo "wrote $here/requirements.lock"
