#!/usr/bin/env bash
# Creates (or reuses) the Python venv NAME for the real-client tests:
#   bash client-tests/python/bootstrap-venv.sh NAME [VENV_DIR]
# NAME is az, sdk or pytest; the pins are client-tests/python/NAME-requirements.txt. pip runs
# from the repository root, so a requirement `-e ./pytest-aksim` is the repository's plugin.
# VENV_DIR defaults to ${CARGO_TARGET_DIR:-<repo>/target}/client-venvs/NAME, which is where the
# test harness looks (it calls this script with the directory spelled out).
#
# Idempotent and safe to run concurrently: an exclusive flock(1) on VENV_DIR.lock serialises
# installers, and a stamp file (the requirements text plus the python version) makes a
# finished venv a no-op and a changed pin a fresh install.
set -euo pipefail

name="${1:?usage: bootstrap-venv.sh NAME [VENV_DIR]}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
requirements="$here/$name-requirements.txt"
if [[ ! -f "$requirements" ]]; then
    echo "bootstrap-venv: no requirements file $requirements" >&2
    exit 2
fi
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
venv="${2:-$target/client-venvs/$name}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "bootstrap-venv: '$python' not found; install CPython 3.9+ with the venv module" \
         "(Debian: apt-get install -y python3 python3-venv)" >&2
    exit 3
fi
# The stamp: the pins, the python version, and where local editable requirements are and
# their packaging (their code is used in place; another checkout or changed metadata needs a
# re-install).
wanted="$(cat "$requirements"; "$python" --version 2>&1
          sed -n 's|^-e \./||p' "$requirements" | while read -r dir; do
              echo "$repo/$dir"; cat "$repo/$dir/pyproject.toml"; done)"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
# Another installer holds the lock while pip runs (about a minute for az); wait for it, bounded.
if ! flock -w 900 9; then
    echo "bootstrap-venv: timed out after 900 s waiting for $venv.lock" >&2
    exit 4
fi

if [[ -x "$venv/bin/python" && -f "$venv/.aksim-stamp" ]] && [[ "$(cat "$venv/.aksim-stamp")" == "$wanted" ]]; then
    exit 0
fi

echo "bootstrap-venv: creating $venv from $requirements" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
(cd "$repo" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --requirement "$requirements" >&2)
printf '%s' "$wanted" >"$venv/.aksim-stamp"
echo "bootstrap-venv: $venv ready" >&2
