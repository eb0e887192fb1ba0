#!/usr/bin/env python3
"""Creates resource group rg1 and cluster k1 in SUB on a plain-HTTP aksim, then N namespaces
through the cluster's Kubernetes API (`/k8s/{sub}/rg1/k1/api/v1/namespaces`) on one keep-alive
connection, labelled team=t0..t9 in turn. Prints JSON: the cluster's bearer token and the
creation rate. usage: kube_namespaces.py PORT SUB N (bench/run.sh)"""
import base64
import http.client
import json
import re
import sys
import time

port, sub, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
arm = {"authorization": "Bearer bench", "content-type": "application/json"}


def call(method, path, body, headers, want):
    c.request(method, path, None if body is None else json.dumps(body), headers)
    r = c.getresponse()
    data = r.read()
    if r.status not in want:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None


call("PUT", f"/subscriptions/{sub}/resourcegroups/rg1?api-version=2024-11-01", {"location": "eastus"}, arm, (200, 201))
cluster = f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/k1"
call("PUT", f"{cluster}?api-version=2026-06-01", {"location": "eastus", "properties": {"dnsPrefix": "k1", "agentPoolProfiles": [{"name": "np1", "count": 1, "mode": "System"}]}}, arm, (201,))
creds = call("POST", f"{cluster}/listClusterUserCredential?api-version=2026-06-01", None, arm, (200,))
kubeconfig = base64.b64decode(creds["kubeconfigs"][0]["value"]).decode()
token = re.search(r"token: *\"?([^\"\s]+)", kubeconfig).group(1)
kube = {"authorization": f"Bearer {token}", "content-type": "application/json"}
path = f"/k8s/{sub}/rg1/k1/api/v1/namespaces"
t0 = time.perf_counter()
for i in range(n):
    call("POST", path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{i}", "labels": {"team": f"t{i % 10}"}}}, kube, (201,))
secs = time.perf_counter() - t0
print(json.dumps({"token": token, "secs": round(secs, 2), "perSec": round(n / secs)}))
