#!/usr/bin/env bash
# Regenerates the evidence bundles in examples/ from AWS lab scenarios:
# each scenario is built through the real AWS APIs in moto, then diagnosed
# by ecs-doctor with --save-evidence (redacted, as always).
#
#   scripts/make-examples.sh                  # every scenario listed below
#   scripts/make-examples.sh no-public-ip     # just one
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecs-doctor-target}"

python="$(bash tests/lab/bootstrap.sh | tail -n1)"
cargo build --quiet --locked
bin="$CARGO_TARGET_DIR/debug/ecs-doctor"

scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
  mapfile -t scenarios < examples/SCENARIOS
fi

mkdir -p examples
for scenario in "${scenarios[@]}"; do
  [[ -z "$scenario" || "$scenario" == \#* ]] && continue
  fifo="$(mktemp -u)"; mkfifo "$fifo"
  "$python" tests/lab/lab.py serve "$scenario" < "$fifo" > "$fifo.out" 2>/dev/null &
  exec 7>"$fifo"   # hold the lab's stdin open
  for _ in $(seq 1 600); do [[ -s "$fifo.out" ]] && break; sleep 0.1; done
  ready="$(head -n1 "$fifo.out")"
  endpoint="$(printf '%s' "$ready" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["endpoint"])')"
  task="$(printf '%s' "$ready" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["task_arn"])')"
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true \
    "$bin" task "$task" --endpoint-url "$endpoint" --save-evidence "examples/$scenario.json" -o json > /dev/null || true
  exec 7>&-        # closing stdin stops the lab
  wait || true
  rm -f "$fifo" "$fifo.out"
  echo "examples/$scenario.json"
done
