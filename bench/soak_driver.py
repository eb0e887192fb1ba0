#!/usr/bin/env python3
"""Mixed-load soak driver for bench/soak.sh (stdlib only).

Workers on keep-alive connections loop until the deadline over a weighted mix: cluster
create / operation poll / GET / PATCH (tags) / DELETE, mesh enable/disable, feature
registration, Kubernetes namespace create / list / delete inside a live cluster, and a few
bad requests (each with the status it must get). Every answer is classified as expected or
unexpected for its operation; 5xx are counted apart. A sampler writes one CSV row every
SAMPLE_SECS: elapsed, RSS, requests, 5xx, unexpected, per-interval rates.

usage: soak_driver.py PORT PID SECS CSV [WORKERS]
Prints a JSON summary on stdout at the end.
"""
import http.client
import base64
import json
import random
import re
import sys
import threading
import time

PORT, PID, SECS, CSV = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
WORKERS = int(sys.argv[5]) if len(sys.argv) > 5 else 4
SAMPLE_SECS = 10
API = "api-version=2026-06-01"
H = {"authorization": "Bearer soak", "content-type": "application/json"}
MAX_CLUSTERS = 12       # live clusters per worker (bounded state)
MAX_NAMESPACES = 40     # live namespaces per cluster the driver made

lock = threading.Lock()
counts = {"requests": 0, "5xx": 0, "unexpected": 0, "by_op": {}, "unexpected_samples": []}


def rss_kb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


class Worker(threading.Thread):
    def __init__(self, n):
        super().__init__(daemon=True)
        self.n = n
        self.sub = f"00000000-0000-0000-0000-{0x50a0 + n:012x}"
        self.rng = random.Random(n)
        self.conn = None
        self.clusters = {}  # name -> {"op": url or None, "meshed": bool, "ns": [names]}
        self.seq = 0
        self.last_headers = None

    def call(self, op, method, path, body=None, ok=(200,), token=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        try:
            self.conn.request(method, path, data, H if token is None else {**H, "authorization": f"Bearer {token}"})
            r = self.conn.getresponse()
            raw = r.read()
            status = r.status
            self.last_headers = r
            if r.getheader("connection", "").lower() == "close":
                self.conn.close(); self.conn = None
        except (OSError, http.client.HTTPException) as e:
            self.conn = None
            status, raw = 0, str(e).encode()
        good = status in ok
        with lock:
            counts["requests"] += 1
            o = counts["by_op"].setdefault(op, [0, 0])
            o[0] += 1
            if status >= 500 or status == 0:
                counts["5xx"] += 1
            if not good:
                o[1] += 1
                counts["unexpected"] += 1
                if len(counts["unexpected_samples"]) < 20:
                    counts["unexpected_samples"].append(f"{op} {method} {path} -> {status} {raw[:200]!r}")
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:
            return status, None

    def base(self, name):
        return f"/subscriptions/{self.sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{name}"

    def setup(self):
        self.call("rg", "PUT", f"/subscriptions/{self.sub}/resourcegroups/rg?api-version=2024-11-01",
                  {"location": "eastus"}, ok=(200, 201))

    def create(self):
        if len(self.clusters) >= MAX_CLUSTERS:
            return self.delete()
        self.seq += 1
        name = f"c{self.seq}"
        meshed = self.rng.random() < 0.3
        props = {"dnsPrefix": name, "agentPoolProfiles": [{"name": "np1", "count": 1, "mode": "System"}]}
        if meshed:
            props["serviceMeshProfile"] = {"mode": "Istio", "istio": {}}
        s, _ = self.call("create", "PUT", f"{self.base(name)}?{API}", {"location": "eastus", "properties": props}, ok=(201,))
        if s == 201:
            self.poll_operation()
            self.poll(name)
            s, creds = self.call("credentials", "POST", f"{self.base(name)}/listClusterUserCredential?{API}", ok=(200,))
            token = None
            if s == 200 and creds:
                kubeconfig = base64.b64decode(creds["kubeconfigs"][0]["value"]).decode()
                m = re.search(r"token: *\"?([^\"\s]+)", kubeconfig)
                token = m and m.group(1)
            self.clusters[name] = {"meshed": meshed, "ns": [], "token": token}

    def poll_operation(self):
        url = self.last_headers.getheader("azure-asyncoperation") if self.last_headers else None
        if url:
            path = url.split("//", 1)[-1]
            path = path[path.index("/"):]
            s, body = self.call("op-poll", "GET", path)
            if s == 200 and (body or {}).get("status") not in ("Succeeded", "InProgress"):
                with lock:
                    counts["unexpected"] += 1

    def poll(self, name):
        s, body = self.call("get", "GET", f"{self.base(name)}?{API}")
        if s == 200 and body:
            state = body.get("properties", {}).get("provisioningState")
            if state not in ("Succeeded", "Creating", "Updating", "Deleting"):
                with lock:
                    counts["unexpected"] += 1

    def pick(self):
        return self.rng.choice(list(self.clusters)) if self.clusters else None

    def get(self):
        name = self.pick()
        if name:
            self.call("get", "GET", f"{self.base(name)}?{API}")
        else:
            self.create()

    def listc(self):
        self.call("list", "GET", f"/subscriptions/{self.sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters?{API}")

    def patch(self):
        name = self.pick()
        if name:
            self.call("patch", "PATCH", f"{self.base(name)}?{API}", {"tags": {"n": str(self.rng.randrange(1000))}}, ok=(200,))

    def delete(self):
        name = self.pick()
        if name:
            s, _ = self.call("delete", "DELETE", f"{self.base(name)}?{API}", ok=(202,))
            if s == 202:
                self.poll_operation()
            del self.clusters[name]

    def mesh(self):
        name = self.pick()
        if not name:
            return
        s, body = self.call("mesh-get", "GET", f"{self.base(name)}?{API}")
        if s != 200 or not body:
            return
        c = self.clusters[name]
        body["properties"]["serviceMeshProfile"] = {"mode": "Disabled"} if c["meshed"] else {"mode": "Istio", "istio": {}}
        for k in ("id", "name", "type"):
            body.pop(k, None)
        s, _ = self.call("mesh-put", "PUT", f"{self.base(name)}?{API}", body, ok=(200,))
        if s == 200:
            c["meshed"] = not c["meshed"]
            self.call("get", "GET", f"{self.base(name)}?{API}")

    def feature(self):
        verb = self.rng.choice(["register", "unregister"])
        f = self.rng.choice(["AzureServiceMeshPreview", "IstioCNIPreview"])
        self.call("feature", "POST", f"/subscriptions/{self.sub}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/{f}/{verb}?api-version=2021-07-01", ok=(200,))
        self.call("feature", "GET", f"/subscriptions/{self.sub}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/{f}?api-version=2021-07-01", ok=(200,))

    def kube(self):
        name = self.pick()
        if not name:
            return
        c = self.clusters[name]
        t = c["token"]
        k = f"/k8s/{self.sub}/rg/{name}/api/v1/namespaces"
        r = self.rng.random()
        if r < 0.4 and len(c["ns"]) < MAX_NAMESPACES:
            self.seq += 1
            ns = f"ns{self.seq}"
            s, _ = self.call("ns-create", "POST", k, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": f"t{self.seq % 5}"}}}, ok=(201,), token=t)
            if s == 201:
                c["ns"].append(ns)
        elif r < 0.8:
            self.call("ns-list", "GET", k + self.rng.choice(["", "?limit=50", "?labelSelector=team%3Dt1"]), token=t)
        elif c["ns"]:
            ns = c["ns"].pop(self.rng.randrange(len(c["ns"])))
            self.call("ns-delete", "DELETE", f"{k}/{ns}", ok=(200,), token=t)

    def bad(self):
        choice = self.rng.randrange(6)
        if choice == 0:   # unknown api-version
            self.call("bad", "GET", f"{self.base('x')}?api-version=1999-01-01", ok=(400,))
        elif choice == 1:  # missing cluster
            self.call("bad", "GET", f"{self.base('nope-' + str(self.rng.randrange(9)))}?{API}", ok=(404,))
        elif choice == 2:  # malformed JSON
            self.call("bad", "PUT", f"{self.base('bad')}?{API}", "{not json", ok=(400,))
        elif choice == 3:  # bad subscription id
            self.call("bad", "GET", f"/subscriptions/not-a-guid/resourcegroups?api-version=2024-11-01", ok=(400, 404))
        elif choice == 4:  # unknown feature
            self.call("bad", "POST", f"/subscriptions/{self.sub}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/NoSuchFeature/register?api-version=2021-07-01", ok=(404,))
        else:  # kube: bad namespace name
            name = self.pick()
            if name:
                self.call("bad", "POST", f"/k8s/{self.sub}/rg/{name}/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Bad_Name"}}, ok=(422,), token=self.clusters[name]["token"])

    def run(self):
        self.setup()
        mix = [(self.create, 10), (self.get, 30), (self.listc, 4), (self.patch, 8), (self.delete, 6),
               (self.mesh, 4), (self.feature, 4), (self.kube, 25), (self.bad, 9)]
        ops = [f for f, w in mix for _ in range(w)]
        while time.monotonic() < DEADLINE:
            self.rng.choice(ops)()


DEADLINE = time.monotonic() + SECS
start = time.monotonic()
workers = [Worker(n) for n in range(WORKERS)]
for w in workers:
    w.start()
rows = []
with open(CSV, "w") as out:
    out.write("elapsed_s,rss_kib,requests,errors_5xx,unexpected,req_per_s,unexpected_per_s\n")
    prev = (0, 0, 0.0)
    while True:
        now = time.monotonic()
        with lock:
            req, e5, un = counts["requests"], counts["5xx"], counts["unexpected"]
        el = now - start
        dt = max(el - prev[2], 1e-9)
        row = (round(el), rss_kb(), req, e5, un, round((req - prev[0]) / dt), round((un - prev[1]) / dt, 2))
        rows.append(row)
        out.write(",".join(map(str, row)) + "\n"); out.flush()
        prev = (req, un, el)
        if now >= DEADLINE:
            break
        time.sleep(min(SAMPLE_SECS, max(0.0, DEADLINE - now)))
for w in workers:
    w.join(timeout=60)
with lock:
    print(json.dumps({"samples": rows, **counts}))
