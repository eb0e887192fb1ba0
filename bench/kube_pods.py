#!/usr/bin/env python3
"""Creates resource group rg1 and cluster k1 (3 nodes) in SUB on a plain-HTTP aksim, then D
Deployments of R replicas each in namespace `load` through the cluster's Kubernetes API on one
keep-alive connection (`app=d<i>`, `tier=t<i % 10>`): the workload controllers make D*R pods.
Prints JSON: the cluster's bearer token, the pod count and the creation rate.
usage: kube_pods.py PORT SUB D R (bench/run.sh)"""
import base64
import http.client
import json
import re
import sys
import time

port, sub, d, r = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
arm = {"authorization": "Bearer bench", "content-type": "application/json"}


def call(method, path, body, headers, want):
    c.request(method, path, None if body is None else json.dumps(body), headers)
    resp = c.getresponse()
    data = resp.read()
    if resp.status not in want:
        sys.exit(f"{method} {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


call("PUT", f"/subscriptions/{sub}/resourcegroups/rg1?api-version=2024-11-01", {"location": "eastus"}, arm, (200, 201))
cluster = f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/k1"
call("PUT", f"{cluster}?api-version=2026-06-01", {"location": "eastus", "properties": {"dnsPrefix": "k1", "agentPoolProfiles": [{"name": "np1", "count": 3, "mode": "System"}]}}, arm, (201,))
creds = call("POST", f"{cluster}/listClusterUserCredential?api-version=2026-06-01", None, arm, (200,))
kubeconfig = base64.b64decode(creds["kubeconfigs"][0]["value"]).decode()
token = re.search(r"token: *\"?([^\"\s]+)", kubeconfig).group(1)
kube = {"authorization": f"Bearer {token}", "content-type": "application/json"}
base = f"/k8s/{sub}/rg1/k1"
call("POST", f"{base}/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}}, kube, (201,))
t0 = time.perf_counter()
for i in range(d):
    labels = {"app": f"d{i}", "tier": f"t{i % 10}"}
    call("POST", f"{base}/apis/apps/v1/namespaces/load/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"d{i}", "labels": labels},
        "spec": {"replicas": r, "selector": {"matchLabels": {"app": f"d{i}"}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}}, kube, (201,))
secs = time.perf_counter() - t0
pods = call("GET", f"{base}/api/v1/namespaces/load/pods?limit=1", None, kube, (200,))
total = 1 + pods["metadata"].get("remainingItemCount", 0)
print(json.dumps({"token": token, "pods": total, "secs": round(secs, 2), "podsPerSec": round(total / secs)}))
