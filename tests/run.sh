#!/usr/bin/env bash
# The one command that runs every check and test of the project. It installs
# the test tools it needs into project-local places (.venv) first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "error: '$1' is required: $2" >&2
    exit 1
  }
}

need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.9+ (Debian: apt-get install python3 python3-venv)"

step "test tools into .venv"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export GRPCURL="$PWD/.venv/bin/grpcurl"
"$GRPCURL" -version

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

step "Rust unit and API tests"
cargo test --all-targets --locked
