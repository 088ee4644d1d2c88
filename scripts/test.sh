#!/usr/bin/env bash
# The whole test suite: clippy with warnings as errors, the lab scenarios'
# own probes, then unit, fixture and snapshot tests and the end-to-end tests
# that run the real binary against the AWS lab (moto on loopback).
# Arguments go to `cargo test` (and then only the tests run).
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
python="$(bash tests/lab/bootstrap.sh | tail -n1)"

if [[ $# -eq 0 ]]; then
  # Formatting is checked, not applied.
  cargo fmt --all -- --check
  # Lints are errors, in tests too.
  cargo clippy --workspace --all-targets --locked --features ecs-doctor-checks/testkit -- -D warnings
  # Every lab scenario builds and reads back as its own probes expect.
  "$python" tests/lab/lab.py check --jobs 2
  # The deploy template is valid CloudFormation.
  "$(dirname "$python")/cfn-lint" deploy/ecs-doctor.template.json
fi

cargo test --workspace --locked "$@"
