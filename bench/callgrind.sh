#!/usr/bin/env bash
# Instructions per cluster GET, counted by callgrind: repeatable on a busy machine, where
# wall-clock figures are not. Compares aksim (journal off and on) with the bare axum handler.
#
#   bench/callgrind.sh          # 2,000 GETs each (~1 min)
#   N=500 bench/callgrind.sh
#   BUILD=0 BIN=/tmp/before bench/callgrind.sh  # unstripped binaries built earlier (before/after)
#
# Needs valgrind (callgrind_control), python3, curl. Builds unstripped release binaries
# (CARGO_PROFILE_RELEASE_STRIP=false) so callgrind_annotate shows function names; the
# profiles stay in $OUT_DIR (default: a temp dir, removed) for `callgrind_annotate`.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
KEEP=${OUT_DIR:-}
WORK=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
command -v callgrind_control >/dev/null || { echo "callgrind: apt-get install valgrind" >&2; exit 1; }
if [ "${BUILD:-1}" = 1 ]; then
  CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --locked -p aksim --bin aksim --example bare_axum >&2
fi
# A directory laid out as target/release (aksim, examples/bare_axum).
BIN=${BIN:-target/release}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SUB=00000000-0000-0000-0000-0000000000b1
CLUSTER="/subscriptions/$SUB/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01"

# GETs on one keep-alive connection: drive PORT N PATH
drive() {
  python3 - "$@" <<'PY'
import http.client, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path, headers={"authorization": "Bearer bench"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}

# measure NAME PATH COMMAND... (ADDR in it becomes the address) -> instructions per GET
measure() {
  local name=$1 path=$2; shift 2
  local port; port=$(free_port)
  valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.out" "${@/#ADDR/127.0.0.1:$port}" \
    >"$WORK/$name.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$port/_sim/health" 2>/dev/null && break
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
  if [ "$name" != bare-axum ]; then
    local h=(-H 'authorization: Bearer bench' -H 'content-type: application/json')
    curl -fsS -X PUT "${h[@]}" "http://127.0.0.1:$port/subscriptions/$SUB/resourcegroups/rg1?api-version=2024-11-01" -d '{"location":"eastus"}' >/dev/null
    curl -fsS -X PUT "${h[@]}" "http://127.0.0.1:$port$path" -d '{"location":"eastus","tags":{"env":"bench"},"properties":{"dnsPrefix":"c1","kubernetesVersion":"","agentPoolProfiles":[{"name":"nodepool1","count":3,"vmSize":"","osType":"Linux","mode":"System","type":"VirtualMachineScaleSets"}],"networkProfile":{"loadBalancerSku":"standard"},"serviceMeshProfile":{"mode":"Istio","istio":{"components":{"ingressGateways":[{"mode":"External","enabled":true}]}}}}}' >/dev/null
    curl -fsS "${h[@]}" "http://127.0.0.1:$port$path" >"$WORK/cluster.json"
  fi
  drive "$port" 50 "$path"
  callgrind_control -z "$pid" >/dev/null 2>&1
  drive "$port" "$N" "$path"
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local total; total=$(awk '/^totals:/ {print $2}' "$WORK/$name.out.1")
  echo "$name: $((total / N)) instructions per GET${KEEP:+ ($WORK/$name.out.1)}"
}

AKSIM_ARGS=(--http --op-duration default=0 --auto-register-providers --tls-dir "$WORK/tls" --addr ADDR)
measure aksim "$CLUSTER" "$BIN/aksim" --journal-size 0 "${AKSIM_ARGS[@]}"
measure aksim-journal "$CLUSTER" "$BIN/aksim" "${AKSIM_ARGS[@]}"
# The same request line as aksim's: hyper parses the path whatever the handler does with it.
measure bare-axum "$CLUSTER" "$BIN/examples/bare_axum" ADDR "$WORK/cluster.json"
