#!/usr/bin/env bash
# Installs (or reuses) the pinned npm packages of the JavaScript SDK client tests:
#   bash client-tests/js/bootstrap-npm.sh
# into client-tests/js/node_modules, with `npm ci` (exactly package-lock.json). The test
# harness (client-tests/tests/it/support/node.rs) runs it on first use; .ci/run runs it before
# the tests.
#
# Idempotent and safe to run concurrently, like ../python/bootstrap-venv.sh: an exclusive
# flock(1) on node_modules.lock serialises installers, and a stamp (package-lock.json plus the
# Node.js version) makes a finished install a no-op and a changed pin a fresh `npm ci`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$here/node_modules"
stamp="$modules/.aksim-stamp"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bootstrap-npm: '$tool' not found; install Node.js 20 or newer with npm" \
             "(Debian: apt-get install -y nodejs npm)" >&2
        exit 3
    fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 20 )); then
    echo "bootstrap-npm: Node.js $(node --version) is too old; the pinned SDK needs 20 or newer" >&2
    exit 3
fi
wanted="$(cat "$here/package-lock.json"; node --version)"

exec 9>"$here/node_modules.lock"
# Another installer holds the lock while npm runs; wait for it, bounded.
if ! flock -w 900 9; then
    echo "bootstrap-npm: timed out after 900 s waiting for $here/node_modules.lock" >&2
    exit 4
fi

if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$wanted" ]]; then
    exit 0
fi

echo "bootstrap-npm: npm ci in $here" >&2
cd "$here"
# `npm ci` removes node_modules first, so a half-finished install never passes for a whole one.
npm ci --no-audit --no-fund --loglevel=error </dev/null >&2
printf '%s' "$wanted" >"$stamp"
echo "bootstrap-npm: $modules ready" >&2
