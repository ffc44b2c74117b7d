#!/usr/bin/env bash
# Builds a Gradescope autograder zip for one lab from a course checkout.
#
#   docs/gradescope/make-zip.sh COURSE_DIR LAB [PRIVATE_DIR] [OUT_ZIP]
#   docs/gradescope/make-zip.sh . lab-2.4 ../grading-private lab-2.4-autograder.zip
#
# The zip holds, at its root: setup.sh, run_autograder, LAB (the lab's id), course/ (the workspace, the
# grader's sources, python/, and this lab's spec, checks and reference solution) and private/ (this lab's
# overlay PRIVATE_DIR/<lab>.yaml and PRIVATE_DIR/<lab>/, if any; empty otherwise).
set -euo pipefail
usage() { echo "usage: $0 COURSE_DIR LAB [PRIVATE_DIR] [OUT_ZIP]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 4 ] || usage
COURSE=$(cd "$1" && pwd)
LAB=$2
PRIVATE=${3:-}
OUT=${4:-$LAB-autograder.zip}
HERE=$(cd "$(dirname "$0")" && pwd)

[ -f "$COURSE/specs/$LAB.yaml" ] || { echo "$COURSE/specs/$LAB.yaml: no such lab" >&2; exit 2; }
[ -d "$COURSE/solutions/$LAB" ] || { echo "$COURSE/solutions/$LAB: no reference solution" >&2; exit 2; }
[ -z "$PRIVATE" ] || [ -d "$PRIVATE" ] || { echo "$PRIVATE: not a directory" >&2; exit 2; }
command -v zip >/dev/null || { echo "zip is not installed" >&2; exit 2; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
install -m 0755 "$HERE/setup.sh" "$HERE/run_autograder" "$STAGE/"
printf '%s\n' "$LAB" > "$STAGE/LAB"

mkdir -p "$STAGE/course/specs" "$STAGE/course/solutions" "$STAGE/private"
cp "$COURSE/Cargo.toml" "$COURSE/Cargo.lock" "$STAGE/course/"
cp -R "$COURSE/grader" "$COURSE/python" "$STAGE/course/"
cp "$COURSE/specs/$LAB.yaml" "$STAGE/course/specs/"
[ ! -d "$COURSE/specs/$LAB" ] || cp -R "$COURSE/specs/$LAB" "$STAGE/course/specs/"
cp -R "$COURSE/solutions/$LAB" "$STAGE/course/solutions/"
if [ -n "$PRIVATE" ]; then
    [ ! -f "$PRIVATE/$LAB.yaml" ] || cp "$PRIVATE/$LAB.yaml" "$STAGE/private/"
    [ ! -d "$PRIVATE/$LAB" ] || cp -R "$PRIVATE/$LAB" "$STAGE/private/"
fi
find "$STAGE" \( -name __pycache__ -o -name target -o -name .git \) -prune -exec rm -rf {} +

case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
rm -f "$OUT"
(cd "$STAGE" && zip -qr "$OUT" .)      # the files at the zip's root, not a folder holding them
echo "$OUT"
