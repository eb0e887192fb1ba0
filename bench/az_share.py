#!/usr/bin/env python3
"""The az seed flow's share of time spent inside aksim (bench/run.sh).

Runs the seed-era commands (shared reference: seed-istio-addon) with the unmodified az CLI
against an HTTPS aksim started with --mesh-catalog 2023 --op-duration default=0
--auto-register-providers --registration-seconds 0, logged in env-only (ARM_CLOUD_METADATA_URL)
with a CA bundle = system bundle + aksim's CA. Times each command's wall clock, then sums the
journal's durationMicros (aksim's own time per request, measured in its edge) for the requests
those commands made, and prints one JSON object.

usage: az_share.py BASE_URL CA_PEM AZ_BIN WORKDIR
"""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

base, ca, az, work = sys.argv[1:5]
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"

bundle = os.path.join(work, "ca-bundle.pem")
system = next((p for p in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt") if os.path.isfile(p)), None)
with open(bundle, "w") as out:
    if system:
        out.write(open(system).read().rstrip("\n") + "\n")
    out.write(open(ca).read())
os.makedirs(os.path.join(work, "home"), exist_ok=True)
os.makedirs(os.path.join(work, "azcfg"), exist_ok=True)
env = {
    "PATH": os.environ.get("PATH", ""),
    "HOME": os.path.join(work, "home"),
    "AZURE_CONFIG_DIR": os.path.join(work, "azcfg"),
    "AZURE_CORE_COLLECT_TELEMETRY": "false",
    "AZURE_CORE_NO_COLOR": "1",
    "AZURE_CORE_OUTPUT": "json",
    "REQUESTS_CA_BUNDLE": bundle,
    "SSL_CERT_FILE": bundle,
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
    "LANG": "C.UTF-8",
    "ARM_CLOUD_METADATA_URL": f"{base}/metadata/endpoints?api-version=2019-05-01",
}
ctx = ssl.create_default_context(cafile=ca)


def control(method, path):
    req = urllib.request.Request(base + path, method=method)
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return json.loads(r.read() or b"null")


def run(args):
    t0 = time.perf_counter()
    p = subprocess.run([az, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"az {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return wall, p.stdout


# Log in first (not part of the measured flow), then start from an empty journal.
run(["login", "--service-principal", "-u", CLIENT_ID, "-p", "any-secret", "--tenant", TENANT])
control("DELETE", "/_sim/journal")
kubeconfig = os.path.join(work, "kubeconfig")
flow = [
    ["feature", "register", "--namespace", "Microsoft.ContainerService", "--name", "AzureServiceMeshPreview"],
    ["feature", "show", "--namespace", "Microsoft.ContainerService", "--name", "AzureServiceMeshPreview"],
    ["provider", "register", "--namespace", "Microsoft.ContainerService"],
    ["group", "create", "-n", "rg1", "-l", "eastus"],
    ["aks", "create", "-g", "rg1", "-n", "c1", "--enable-azure-service-mesh", "--revision", "asm-1-17"],
    ["aks", "mesh", "get-revisions", "-l", "eastus"],
    ["aks", "show", "-g", "rg1", "-n", "c1", "--query", "serviceMeshProfile.mode"],
    ["aks", "get-credentials", "-g", "rg1", "-n", "c1", "--file", kubeconfig],
    ["aks", "create", "-g", "rg1", "-n", "c2"],
    ["aks", "mesh", "enable", "-g", "rg1", "-n", "c2", "--revision", "asm-1-17"],
    ["aks", "show", "-g", "rg1", "-n", "c2", "--query", "serviceMeshProfile.mode"],
    ["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "c1"],
]
rows = []
for args in flow:
    wall, out = run(args)
    rows.append({"command": "az " + " ".join(a if a != kubeconfig else "FILE" for a in args), "wallSecs": round(wall, 3)})
journal = control("GET", "/_sim/journal?limit=100000")
entries = journal["value"]
assert journal["dropped"] == 0, "the journal dropped entries: raise --journal-size"
mode = subprocess.run([az, "aks", "show", "-g", "rg1", "-n", "c1", "--query", "serviceMeshProfile.mode"], env=env, capture_output=True, text=True).stdout.strip()
assert mode == '"Istio"', mode
total_wall = sum(r["wallSecs"] for r in rows)
inside = sum(e["durationMicros"] for e in entries) / 1e6
print(json.dumps({
    "commands": len(rows),
    "requests": len(entries),
    "azWallSecs": round(total_wall, 3),
    "aksimSecs": round(inside, 4),
    "sharePct": round(inside * 100 / total_wall, 3),
    "maxRequestMicros": max(e["durationMicros"] for e in entries),
    "perCommand": rows,
}))
