#!/usr/bin/env bash
# The whole test suite: unit, fixture and snapshot tests, and the end-to-end
# tests that run the real binary against the AWS lab (moto on loopback).
# Installs what is missing (the lab's Python venv with pinned moto) on the way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || { echo "test.sh: cargo is not installed (https://rustup.rs)" >&2; exit 1; }

# Reuse a build directory between runs: the AWS SDK crates take minutes to build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecs-doctor-target}"

# The AWS lab's Python environment (created once, then reused).
bash tests/lab/bootstrap.sh >/dev/null

cargo test --workspace --locked "$@"
