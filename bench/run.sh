#!/usr/bin/env bash
# aksim benchmarks, measured side by side in one run (ratios survive noisy shared machines).
# Starts and stops everything it uses, binds only 127.0.0.1, every loop is bounded.
#
#   bench/run.sh            # full run (~3 min after the release build)
#   DURATION=5 bench/run.sh # shorter wrk runs
#   PEERS=0 bench/run.sh    # skip the moto comparison
#
# Needs: wrk (apt-get install wrk), python3, curl. Results go to stdout and bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
PEERS=${PEERS:-1}
CONNS=${CONNS:-"1 16 64"}
OUT=bench/results.md
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing ($2)" >&2; exit 1; }; }
need wrk "apt-get install wrk"
need python3 "install Python 3"
need curl "apt-get install curl"

echo "building release binaries..." >&2
cargo build --release --locked -p aksim --bins --examples >&2
BIN=target/release

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 500); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.02; done; echo "bench: $1 did not come up" >&2; exit 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

SUB=00000000-0000-0000-0000-0000000000b1
AKSIM_PORT=$(free_port)
AKSIM=http://127.0.0.1:$AKSIM_PORT
"$BIN/aksim" --http --addr 127.0.0.1:$AKSIM_PORT --op-duration default=0 --auto-register-providers \
  --journal-size 0 --tls-dir "$WORK/tls" >"$WORK/aksim.log" 2>&1 &
AKSIM_PID=$!; PIDS+=("$AKSIM_PID")
wait_up "$AKSIM/_sim/health"
IDLE_RSS=$(rss_kb "$AKSIM_PID")

# A second aksim with the defaults' journal (1,000 entries), as tests and users run it.
AKSIM_J_PORT=$(free_port)
AKSIM_J=http://127.0.0.1:$AKSIM_J_PORT
"$BIN/aksim" --http --addr 127.0.0.1:$AKSIM_J_PORT --op-duration default=0 --auto-register-providers \
  --tls-dir "$WORK/tls" >"$WORK/aksim-journal.log" 2>&1 &
PIDS+=("$!")
wait_up "$AKSIM_J/_sim/health"

H=(-H 'authorization: Bearer bench' -H 'content-type: application/json')
CLUSTER="/subscriptions/$SUB/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01"
for base in "$AKSIM" "$AKSIM_J"; do
  curl -fsS -X PUT "${H[@]}" "$base/subscriptions/$SUB/resourcegroups/rg1?api-version=2024-11-01" -d '{"location":"eastus"}' >/dev/null
  curl -fsS -X PUT "${H[@]}" "$base$CLUSTER" -d '{"location":"eastus","tags":{"env":"bench"},"properties":{"dnsPrefix":"c1","kubernetesVersion":"","agentPoolProfiles":[{"name":"nodepool1","count":3,"vmSize":"","osType":"Linux","mode":"System","type":"VirtualMachineScaleSets"}],"networkProfile":{"loadBalancerSku":"standard"},"serviceMeshProfile":{"mode":"Istio","istio":{"components":{"ingressGateways":[{"mode":"External","enabled":true}]}}}}}' >/dev/null
done
curl -fsS "${H[@]}" "$AKSIM$CLUSTER" >"$WORK/cluster.json"
BODY_BYTES=$(wc -c <"$WORK/cluster.json")

BARE_PORT=$(free_port)
"$BIN/examples/bare_axum" 127.0.0.1:$BARE_PORT "$WORK/cluster.json" >"$WORK/bare.log" 2>&1 &
PIDS+=("$!")
wait_up "http://127.0.0.1:$BARE_PORT/"

cat >"$WORK/auth.lua" <<'LUA'
wrk.headers["authorization"] = "Bearer bench"
LUA
# wrk prints: Requests/sec and, with --latency, 50% / 99% lines.
run_wrk() { # url conns -> "rps p50 p99"
  local threads=2
  [ "$2" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency -s "$WORK/auth.lua" "$1" >"$WORK/wrk.txt" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
  echo "$rps $p50 $p99"
}

{
echo "# aksim benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
echo
echo "GET managedCluster (body ${BODY_BYTES} bytes) vs a bare axum handler returning the same bytes, plain HTTP, wrk (2 threads; 1 for 1 connection) ${DURATION}s. aksim runs with --journal-size 0; the journal columns are a second aksim with the default journal (1,000 entries)."
echo
echo "| connections | aksim req/s | p50 | p99 | bare axum req/s | p50 | p99 | ratio | journal on req/s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for c in $CONNS; do
  read -r a50 a_p50 a_p99 <<<"$(run_wrk "$AKSIM$CLUSTER" "$c")"
  read -r b50 b_p50 b_p99 <<<"$(run_wrk "http://127.0.0.1:$BARE_PORT/" "$c")"
  read -r j50 _ _ <<<"$(run_wrk "$AKSIM_J$CLUSTER" "$c")"
  ratio=$(python3 -c "print(f'{float(\"$a50\")/float(\"$b50\"):.2f}')")
  jratio=$(python3 -c "print(f'{float(\"$j50\")/float(\"$b50\"):.2f}')")
  echo "| $c | $a50 | $a_p50 | $a_p99 | $b50 | $b_p50 | $b_p99 | $ratio | $j50 | $jratio |"
done
echo
echo "Create + poll + GET cycles, in-process (no sockets), clusters without the mesh: $("$BIN/examples/lro_cycles" 20000)"
echo
echo "The same with the Istio add-on enabled at create (its objects materialise in each cluster's Kubernetes plane): $("$BIN/examples/lro_cycles" 3000 mesh)"
echo
echo "Scenario runner, in-process, the scenarios/ library repeated: $("$BIN/examples/scenario_throughput" 1000)"
echo
} | tee "$OUT"

# RSS with 10k clusters (through HTTP, one keep-alive connection).
python3 - "$AKSIM_PORT" "$SUB" <<'PY' >&2
import http.client, json, sys
port, sub = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"authorization": "Bearer bench", "content-type": "application/json"}
body = json.dumps({"location": "eastus", "properties": {"dnsPrefix": "c", "agentPoolProfiles": [{"name": "np1", "count": 1, "mode": "System"}], "serviceMeshProfile": {"mode": "Istio", "istio": {}}}})
for i in range(10000):
    c.request("PUT", f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/m{i}?api-version=2026-06-01", body, h)
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
PY
curl -fsS -o /dev/null "${H[@]}" "$AKSIM/subscriptions/$SUB/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01"
FULL_RSS=$(rss_kb "$AKSIM_PID")

# Cold start: spawn → first 200 on /_sim/health over HTTPS with an existing TLS dir.
COLD=$(python3 - "$BIN/aksim" "$WORK/tls-cold" <<'PY'
import os, socket, ssl, subprocess, sys, time, http.client
binary, tls = sys.argv[1], sys.argv[2]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
best = []
for attempt in range(6):
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "--addr", f"127.0.0.1:{port}", "--tls-dir", tls], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = None
    for _ in range(5000):
        try:
            ctx = ssl.create_default_context(cafile=os.path.join(tls, "ca.pem"))
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=1)
            c.request("GET", "/_sim/health"); r = c.getresponse(); r.read()
            if r.status == 200:
                ms = (time.perf_counter() - t0) * 1000; break
        except OSError:
            time.sleep(0.0005)
    p.terminate(); p.wait()
    if attempt > 0:  # the first start creates the CA and key; the others reuse them
        best.append(ms)
print(f"{min(best):.1f} ms (best of 5; median {sorted(best)[2]:.1f} ms)")
PY
)

MOTO=""
if [ "$PEERS" = 1 ]; then
  if [ ! -x "$WORK/../aksim-bench-venv/bin/moto_server" ] && [ ! -x bench/.venv/bin/moto_server ]; then
    python3 -m venv bench/.venv >&2 && bench/.venv/bin/pip install -q 'moto[server]==5.1.*' >&2 || true
  fi
  if [ -x bench/.venv/bin/moto_server ]; then
    MOTO_PORT=$(free_port)
    bench/.venv/bin/moto_server -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
    PIDS+=("$!")
    wait_up "http://127.0.0.1:$MOTO_PORT/moto-api/"
    curl -fsS -X PUT "http://127.0.0.1:$MOTO_PORT/bench" >/dev/null
    curl -fsS -X PUT "http://127.0.0.1:$MOTO_PORT/bench/cluster.json" --data-binary @"$WORK/cluster.json" >/dev/null
    read -r m16 m_p50 m_p99 <<<"$(run_wrk "http://127.0.0.1:$MOTO_PORT/bench/cluster.json" 16)"
    read -r a16 _ _ <<<"$(run_wrk "$AKSIM$CLUSTER" 16)"
    MOTO="moto server S3 GET of the same bytes, 16 connections: $m16 req/s (p50 $m_p50, p99 $m_p99); aksim in the same run: $a16 req/s; aksim/moto = $(python3 -c "print(f'{float(\"$a16\")/float(\"$m16\"):.1f}')")x"
  else
    MOTO="moto: could not be installed (pip install 'moto[server]' failed); not compared"
  fi
fi

{
echo "Idle RSS: $((IDLE_RSS / 1024)) MiB; RSS with 10,001 clusters: $((FULL_RSS / 1024)) MiB."
echo
echo "Cold start to the first 200 on /_sim/health (HTTPS, existing TLS dir): $COLD"
echo
[ -n "$MOTO" ] && echo "$MOTO"
} | tee -a "$OUT"
