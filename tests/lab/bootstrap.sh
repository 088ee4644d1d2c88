#!/usr/bin/env bash
# Creates (once) the Python environment the AWS lab runs in, and prints the path of
# its python as the last line of stdout. Everything else goes to stderr.
#
#   python="$(tests/lab/bootstrap.sh | tail -n1)"
#   "$python" tests/lab/lab.py serve app-exit-error
#
# The venv lives in ${ECS_DOCTOR_LAB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-doctor/lab-venv-<hash>}
# where <hash> is the first 12 hex digits of the sha256 of requirements.txt, so a
# change of pins gets a fresh venv. A stamp file marks a finished install: a second
# run only compares the stamp and prints the path. Concurrent first runs (parallel
# tests) wait for each other instead of installing twice.
#
# ECS_DOCTOR_LAB_PYTHON picks the interpreter that creates the venv (default python3).
set -euo pipefail

log() { printf 'lab bootstrap: %s\n' "$*" >&2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
[[ -f "$req" ]] || { log "missing $req"; exit 1; }

if command -v sha256sum >/dev/null 2>&1; then
  req_hash="$(sha256sum "$req" | cut -c1-64)"
elif command -v shasum >/dev/null 2>&1; then
  req_hash="$(shasum -a 256 "$req" | cut -c1-64)"
else
  req_hash="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
fi
short_hash="${req_hash:0:12}"

venv="${ECS_DOCTOR_LAB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-doctor/lab-venv-$short_hash}"
stamp="$venv/.ecs-doctor-lab-ready"
python="$venv/bin/python"

ready() { [[ -x "$python" && -f "$stamp" && "$(cat "$stamp" 2>/dev/null)" == "$req_hash" ]]; }

# Fast path: nothing to do.
if ready; then
  printf '%s\n' "$python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"

# Serialise concurrent first runs.
lock="$venv.lock"
lockdir=""
if command -v flock >/dev/null 2>&1; then
  exec 9>"$lock"
  flock 9
else
  lockdir="$venv.lockdir"
  waited=0
  until mkdir "$lockdir" 2>/dev/null; do
    if (( waited >= 900 )); then
      log "gave up waiting for $lockdir (remove it if no other bootstrap is running)"
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  trap 'rmdir "$lockdir" 2>/dev/null || true' EXIT
fi

# Another process may have finished while we waited.
if ready; then
  printf '%s\n' "$python"
  exit 0
fi

base_python="${ECS_DOCTOR_LAB_PYTHON:-python3}"
command -v "$base_python" >/dev/null 2>&1 || { log "$base_python not found; install Python 3.9 or newer"; exit 1; }

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else return 1; fi
}

make_venv() { "$base_python" -m venv --clear "$venv" >&2; }

log "creating $venv"
if ! make_venv; then
  # Debian and Ubuntu ship venv/ensurepip separately (python3-venv).
  if command -v apt-get >/dev/null 2>&1; then
    pyver="$("$base_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    log "python3 -m venv failed; installing python$pyver-venv with apt-get"
    as_root apt-get update >&2 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "python$pyver-venv" >&2 \
      || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 \
      || { log "could not install python3-venv"; exit 1; }
    make_venv
  else
    log "python3 -m venv failed; install the venv module for $base_python"
    exit 1
  fi
fi

log "installing $(grep -v '^#' "$req" | grep -v '^$' | tr '\n' ' ')"
"$python" -m pip install --disable-pip-version-check --quiet -r "$req" >&2

printf '%s' "$req_hash" > "$stamp"
log "ready"
printf '%s\n' "$python"
