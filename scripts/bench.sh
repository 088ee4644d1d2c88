#!/usr/bin/env bash
# The speed benchmark (README, "Performance"): ecs-doctor against the AWS lab
# with every request delayed 50 ms by the lab's proxy, as the distance to AWS
# would; ten single-task worlds and a service sweep of 1, 10 and 100 stopped
# tasks; wall time, AWS requests, the longest chain of dependent requests,
# repeated requests and peak memory; and the same reads with the AWS CLI,
# command after command, as the baseline.
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

exec "$python" scripts/bench.py --bin "$bin" --python "$python" --aws "$cli_venv/bin/aws" "${args[@]}"
