#!/usr/bin/env bash
# The speed benchmark (README, "Performance"): ecs-doctor against the AWS lab
# with every request delayed 50 ms by the lab's proxy, as the distance to AWS
# would; ten single-task worlds and a service sweep of 1, 10 and 100 stopped
# tasks; wall time, AWS requests, the longest chain of dependent requests,
# repeated requests and peak memory; the same reads with the AWS CLI,
# command after command, as the baseline; and the closest peer side by side.
#
#   scripts/bench.sh                       # builds the release binary first
#   scripts/bench.sh --bin PATH            # an ecs-doctor already built
#   scripts/bench.sh --delay-ms 20 --worlds 3 --sweeps 1,10 --json out.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecs-doctor-target}"

bin=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ -z "$bin" ]]; then
  cargo build --release --quiet --locked
  bin="$CARGO_TARGET_DIR/release/ecs-doctor"
fi
command -v /usr/bin/time >/dev/null || { echo "bench.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

python="$(bash tests/lab/bootstrap.sh | tail -n1)"
# The AWS CLI baseline, in its own environment (it pins its own botocore).
cli_venv="${XDG_CACHE_HOME:-$HOME/.cache}/ecs-doctor/bench-awscli-1.46.3"
if [[ ! -x "$cli_venv/bin/aws" ]]; then
  python3 -m venv "$cli_venv" >&2
  "$cli_venv/bin/pip" install --quiet awscli==1.46.3 >&2
fi

# The closest peer (PyPI `ecs-doctor` 0.4.2, a Python CLI that diagnoses a
# service), side by side on the worlds that have a service. It needs Python
# 3.12 or later: ECS_DOCTOR_PEER_PYTHON, python3.13/python3.12 on PATH, or
# pyenv's; without one the comparison is skipped.
peer_args=()
peer_python="${ECS_DOCTOR_PEER_PYTHON:-}"
if [[ -z "$peer_python" ]]; then
  for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python; do
    if command -v "$candidate" >/dev/null 2>&1; then peer_python="$(command -v "$candidate")"; break; fi
  done
fi
if [[ -n "$peer_python" ]]; then
  peer_venv="${XDG_CACHE_HOME:-$HOME/.cache}/ecs-doctor/bench-peer-ecs-doctor-0.4.2"
  if [[ ! -x "$peer_venv/bin/ecs-doctor" ]]; then
    "$peer_python" -m venv "$peer_venv" >&2
    "$peer_venv/bin/pip" install --quiet ecs-doctor==0.4.2 >&2
  fi
  peer_args=(--peer "$peer_venv/bin/ecs-doctor")
else
  echo "bench.sh: no Python 3.12 or later, so no side-by-side with the closest peer" >&2
fi

exec "$python" scripts/bench.py --bin "$bin" --python "$python" --aws "$cli_venv/bin/aws" \
  "${peer_args[@]}" "${args[@]}"
