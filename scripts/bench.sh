#!/usr/bin/env bash
# Rerunnable speed benchmark: how long `ecs-doctor task` takes against a lab
# scenario (moto on loopback: every AWS call made, no network latency), and
# how long an offline `replay` takes. Uses hyperfine (apt-get install hyperfine).
#
#   scripts/bench.sh [scenario]      # default: no-public-ip
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecs-doctor-target}"
command -v hyperfine >/dev/null || { echo "bench.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
scenario="${1:-no-public-ip}"

python="$(bash tests/lab/bootstrap.sh | tail -n1)"
cargo build --release --quiet --locked
bin="$CARGO_TARGET_DIR/release/ecs-doctor"

fifo="$(mktemp -u)"; mkfifo "$fifo"
"$python" tests/lab/lab.py serve "$scenario" < "$fifo" > "$fifo.out" 2>/dev/null &
exec 7>"$fifo"
trap 'exec 7>&-; wait; rm -f "$fifo" "$fifo.out"' EXIT
for _ in $(seq 1 600); do [[ -s "$fifo.out" ]] && break; sleep 0.1; done
ready="$(head -n1 "$fifo.out")"
endpoint="$(printf '%s' "$ready" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["endpoint"])')"
task="$(printf '%s' "$ready" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["task_arn"])')"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
bundle="$(mktemp --suffix=.json)"
"$bin" task "$task" --endpoint-url "$endpoint" --save-evidence "$bundle" -o json > /dev/null || true

hyperfine --warmup 2 --runs 15 -N -i \
  -n "task ($scenario, lab on loopback)" "$bin task $task --endpoint-url $endpoint -o json" \
  -n "replay ($scenario bundle)" "$bin replay $bundle -o json"
rm -f "$bundle"
