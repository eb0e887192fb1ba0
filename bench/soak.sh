#!/usr/bin/env bash
# aksim soak: SOAK_SECS (default 600) of mixed load against a release aksim with the default
# bounded journal (1,000 entries). bench/soak_driver.py runs the load (cluster create / poll /
# GET / PATCH / DELETE across several subscriptions, mesh enable/disable, feature registration,
# Kubernetes namespace create / list / delete, bad requests) and samples RSS and error counts
# every 10 s into bench/soak.csv.
#
#   bench/soak.sh                 # 10 minutes
#   SOAK_SECS=60 bench/soak.sh    # a quick look
#   WORKERS=4 RSS_TOLERANCE_PCT=10 bench/soak.sh
#   BUILD=0 bench/soak.sh         # use target/release/aksim as it is
#
# Fails (exit 1) if any 5xx or connection error appeared, if more than UNEXPECTED_MAX_PCT of
# the answers were not the status their request must get, or if RSS grew more than
# RSS_TOLERANCE_PCT (default 10 %) between the middle sample and the last one (the second
# half must be flat: every store aksim keeps is bounded). Binds only 127.0.0.1; stops what it
# starts.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-600}
WORKERS=${WORKERS:-4}
RSS_TOLERANCE_PCT=${RSS_TOLERANCE_PCT:-10}
UNEXPECTED_MAX_PCT=${UNEXPECTED_MAX_PCT:-0.1}
CSV=${SOAK_CSV:-bench/soak.csv}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

command -v python3 >/dev/null || { echo "soak: python3 is missing" >&2; exit 1; }
command -v curl >/dev/null || { echo "soak: curl is missing" >&2; exit 1; }
if [ "${BUILD:-1}" = 1 ]; then
  echo "building the release binary..." >&2
  cargo build --release --locked -p aksim --bin aksim >&2
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/aksim --http --addr 127.0.0.1:$PORT --op-duration default=0 --auto-register-providers \
  --registration-seconds 0 --tls-dir "$WORK/tls" >"$WORK/aksim.log" 2>&1 &
PID=$!; PIDS+=("$PID")
for _ in $(seq 1 500); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/_sim/health" 2>/dev/null && break; sleep 0.02; done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/_sim/health"

echo "soak: ${SOAK_SECS}s, $WORKERS workers, aksim pid $PID on port $PORT" >&2
python3 bench/soak_driver.py "$PORT" "$PID" "$SOAK_SECS" "$CSV" "$WORKERS" >"$WORK/summary.json"
kill -0 "$PID" || { echo "soak: aksim died" >&2; tail -20 "$WORK/aksim.log" >&2; exit 1; }

python3 - "$WORK/summary.json" "$RSS_TOLERANCE_PCT" "$UNEXPECTED_MAX_PCT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); tol = float(sys.argv[2]); unexpected_max = float(sys.argv[3])
rows = s["samples"]
rss = [r[1] for r in rows]
mid = rows[len(rows) // 2]
growth = (rss[-1] - mid[1]) * 100.0 / mid[1]
unexpected_pct = s["unexpected"] * 100.0 / max(1, s["requests"])
print(f"duration: {rows[-1][0]} s, samples: {len(rows)}")
print(f"requests: {s['requests']} ({s['requests'] / max(1, rows[-1][0]):.0f}/s)")
print("by operation (count, unexpected): " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(s["by_op"].items())))
print(f"5xx or connection errors: {s['5xx']}")
print(f"unexpected answers: {s['unexpected']} ({unexpected_pct:.3f} %)")
print(f"RSS: start {rss[0] / 1024:.1f} MiB, middle {mid[1] / 1024:.1f} MiB (at {mid[0]} s), end {rss[-1] / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB; second-half growth {growth:+.1f} % (tolerance {tol} %)")
for line in s["unexpected_samples"][:10]:
    print("  unexpected:", line)
fail = []
if s["5xx"]:
    fail.append(f"{s['5xx']} 5xx/connection errors")
if unexpected_pct > unexpected_max:
    fail.append(f"unexpected answers {unexpected_pct:.3f} % > {unexpected_max} %")
if growth > tol:
    fail.append(f"RSS grew {growth:.1f} % over the second half")
print("soak: " + ("FAIL: " + "; ".join(fail) if fail else "PASS"))
sys.exit(1 if fail else 0)
PY
