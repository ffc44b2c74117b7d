#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (/autograder/source holds the
# unpacked zip: this file, run_autograder, LAB, course/ and private/; see make-zip.sh).
set -euxo pipefail
SRC=/autograder/source
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends build-essential ca-certificates curl python3 python3-venv
# The course runs CPython 3.11; use it where the image's Ubuntu packages it, else the image's python3 (>= 3.9).
PYTHON=$(command -v python3)
if apt-get install -y --no-install-recommends python3.11 python3.11-venv; then
    PYTHON=$(command -v python3.11)
fi

# Rust (minimal profile) and the grader, built from the course checkout in the zip.
export RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --default-toolchain stable --no-modify-path
/opt/cargo/bin/cargo install --locked --path "$SRC/course/grader" --root /usr/local

# The grader, and so the student's code, runs as this user: not root, so the code cannot rewrite the
# course's checks or the grade binary.
id -u grade-runner >/dev/null 2>&1 || useradd --create-home --shell /usr/sbin/nologin grade-runner

# What run_autograder needs to find again.
cat > /opt/grade.env <<ENV
export GRADE_PYTHON=$PYTHON
export GRADE_CACHE=/opt/grade-cache
export PATH=/usr/local/bin:\$PATH
export HOME=/home/grade-runner
ENV
. /opt/grade.env
as_runner() { setpriv --reuid=grade-runner --regid=grade-runner --init-groups "$@"; }

# Build the managed Python environment now: submissions then grade without network or a 20 s wait.
install -d -o grade-runner -g grade-runner "$GRADE_CACHE"
as_runner grade env

# Smoke test: the reference solution grades in this image (the sandbox works here). Fails the build if not.
LAB=$(tr -d '[:space:]' < "$SRC/LAB")
chmod -R a+rX "$SRC"
cd "$SRC/course"
as_runner grade "$LAB" --submission "solutions/$LAB" --private "$SRC/private" --format json > /tmp/smoke.json
python3 -c 'import json; r = json.load(open("/tmp/smoke.json")); print("smoke test:", r["lab"], r["score"])'
