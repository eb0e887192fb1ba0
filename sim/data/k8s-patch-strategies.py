#!/usr/bin/env python3
"""Writes sim/data/k8s-patch-strategies.json: how kube-apiserver merges a strategic merge patch
into each built-in kind the plane serves (or may serve), read from the Go struct tags
`patchStrategy` / `patchMergeKey` of k8s.io/api and k8s.io/apimachinery (the same tags the
Kubernetes OpenAPI publishes as `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`),
and how server-side apply sees each field, from the markers `+listType=map|set|atomic`,
`+listMapKey=`, `+structType=atomic`, `+mapType=atomic` (the OpenAPI's
`x-kubernetes-list-type` / `-list-map-keys` / `-map-type`).

Usage: k8s-patch-strategies.py <k8s.io/api checkout> <k8s.io/apimachinery checkout> > out.json

Only the fields that matter are kept: a field with a strategy, or a struct field whose type
(transitively) holds one. Everything else merges as a strategic merge patch does by default
(maps key by key, lists replaced whole).
"""
import json
import os
import re
import subprocess
import sys

API, MACHINERY = sys.argv[1], sys.argv[2]

# package id -> (checkout, path of types.go)
PACKAGES = {
    "core.v1": (API, "core/v1/types.go"),
    "apps.v1": (API, "apps/v1/types.go"),
    "batch.v1": (API, "batch/v1/types.go"),
    "autoscaling.v2": (API, "autoscaling/v2/types.go"),
    "admissionregistration.v1": (API, "admissionregistration/v1/types.go"),
    "policy.v1": (API, "policy/v1/types.go"),
    "networking.v1": (API, "networking/v1/types.go"),
    "meta.v1": (MACHINERY, "pkg/apis/meta/v1/types.go"),
}
IMPORT_TO_PACKAGE = {
    "k8s.io/api/core/v1": "core.v1",
    "k8s.io/api/apps/v1": "apps.v1",
    "k8s.io/api/batch/v1": "batch.v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "meta.v1",
}
# The kinds, by apiVersion and kind, and their Go type.
KINDS = {
    "v1 Pod": "core.v1.Pod",
    "v1 Service": "core.v1.Service",
    "v1 ConfigMap": "core.v1.ConfigMap",
    "v1 Secret": "core.v1.Secret",
    "v1 ServiceAccount": "core.v1.ServiceAccount",
    "v1 Namespace": "core.v1.Namespace",
    "v1 Node": "core.v1.Node",
    "v1 Endpoints": "core.v1.Endpoints",
    "v1 PersistentVolumeClaim": "core.v1.PersistentVolumeClaim",
    "apps/v1 Deployment": "apps.v1.Deployment",
    "apps/v1 DaemonSet": "apps.v1.DaemonSet",
    "apps/v1 StatefulSet": "apps.v1.StatefulSet",
    "apps/v1 ReplicaSet": "apps.v1.ReplicaSet",
    "batch/v1 Job": "batch.v1.Job",
    "batch/v1 CronJob": "batch.v1.CronJob",
    "autoscaling/v2 HorizontalPodAutoscaler": "autoscaling.v2.HorizontalPodAutoscaler",
    "policy/v1 PodDisruptionBudget": "policy.v1.PodDisruptionBudget",
    "networking.k8s.io/v1 NetworkPolicy": "networking.v1.NetworkPolicy",
    "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration": "admissionregistration.v1.MutatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration": "admissionregistration.v1.ValidatingWebhookConfiguration",
    # A CRD has no strategy of its own below its metadata.
    "apiextensions.k8s.io/v1 CustomResourceDefinition": "apiextensions.v1.CustomResourceDefinition",
}

STRUCT = re.compile(r"^type (\w+) struct \{$")
FIELD = re.compile(r"^\s+(?:(\w+)\s+)?([\w\.\[\]\*]+(?:\[[\w\.]+\][\w\.\*]+)?)\s+`([^`]*)`")


def git_show(repo, path):
    return subprocess.run(
        ["git", "-C", repo, "show", f"HEAD:{path}"], check=True, capture_output=True, text=True
    ).stdout


def commit(repo):
    return subprocess.run(
        ["git", "-C", repo, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def tag(tags, name):
    m = re.search(name + r':"([^"]*)"', tags)
    return m.group(1) if m else None


def parse(pkg, text):
    aliases = {}
    for alias, path in re.findall(r'^\s+(\w+)?\s*"([^"]+)"$', text, re.M):
        if path in IMPORT_TO_PACKAGE:
            aliases[alias or path.rsplit("/", 1)[-1]] = IMPORT_TO_PACKAGE[path]
    structs = {}
    current = None
    markers = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("// +"):
            markers.append(stripped[4:])
            continue
        m = STRUCT.match(line)
        if m:
            current = structs.setdefault(f"{pkg}.{m.group(1)}", [])
            if "structType=atomic" in markers:
                ATOMIC_STRUCTS.add(f"{pkg}.{m.group(1)}")
            markers = []
            continue
        if stripped.startswith("//"):
            continue
        if current is None:
            markers = []
            continue
        if line.startswith("}"):
            current = None
            markers = []
            continue
        f = FIELD.match(line)
        field_markers, markers = markers, []
        if not f:
            continue
        gotype, tags = f.group(2), f.group(3)
        js = tag(tags, "json")
        if js is None:
            continue
        jname = js.split(",")[0]
        inline = ",inline" in js
        is_list = gotype.startswith("[]")
        is_map = gotype.startswith("map[")
        base = gotype.lstrip("[]*")
        if is_map:
            base = None
        elif "." in base:
            alias, name = base.split(".", 1)
            base = f"{aliases[alias]}.{name}" if alias in aliases else None
        else:
            base = f"{pkg}.{base}"
        current.append(
            {
                "json": jname,
                "inline": inline,
                "list": is_list,
                "type": base,
                "strategy": tag(tags, "patchStrategy"),
                "key": tag(tags, "patchMergeKey"),
                "listType": next(
                    (m.split("=", 1)[1] for m in field_markers if m.startswith("listType=")), None
                ),
                "listKeys": [m.split("=", 1)[1] for m in field_markers if m.startswith("listMapKey=")],
                "atomic": "mapType=atomic" in field_markers or "structType=atomic" in field_markers,
            }
        )
    return structs


ATOMIC_STRUCTS = set()


structs = {}
for pkg, (repo, path) in PACKAGES.items():
    structs.update(parse(pkg, git_show(repo, path)))
structs["apiextensions.v1.CustomResourceDefinition"] = [
    {"json": "metadata", "inline": False, "list": False, "type": "meta.v1.ObjectMeta",
     "strategy": None, "key": None, "listType": None, "listKeys": [], "atomic": False}
]


def matters(f):
    """Whether a field itself merges otherwise than by default (maps and structs granular,
    lists replaced whole / atomic)."""
    return bool(
        f["strategy"]
        or f["listType"] in ("map", "set")
        or f["atomic"]
        or (f["type"] in ATOMIC_STRUCTS and not f["list"])
    )


def fields(name):
    """A struct's fields with inline members flattened."""
    out = []
    for f in structs.get(name, []):
        if f["inline"] and f["type"] in structs:
            out.extend(fields(f["type"]))
        elif f["json"] and not f["inline"]:
            out.append(f)
    return out


memo = {}


def interesting(name, stack=()):
    if name in memo:
        return memo[name]
    if name in stack or name not in structs:
        return False
    result = False
    for f in fields(name):
        if matters(f) or (f["type"] and interesting(f["type"], stack + (name,))):
            result = True
    memo[name] = result
    return result


types = {}


def emit(name):
    if name in types or not interesting(name):
        return
    entry = {}
    types[name] = entry
    for f in fields(name):
        sub = f["type"] if f["type"] and interesting(f["type"]) else None
        if not matters(f) and not sub:
            continue
        e = {}
        if sub:
            e["type"] = sub
        if f["list"]:
            e["list"] = True
        if f["strategy"]:
            e["strategy"] = f["strategy"]
        if f["key"]:
            e["key"] = f["key"]
        if f["listType"] in ("map", "set"):
            e["listType"] = f["listType"]
        if f["listKeys"]:
            e["listKeys"] = f["listKeys"]
        if f["atomic"] or (f["type"] in ATOMIC_STRUCTS and not f["list"]):
            e["atomic"] = True
        entry[f["json"]] = e
        if sub:
            emit(sub)


for t in KINDS.values():
    emit(t)

doc = {
    "source": "the patchStrategy/patchMergeKey struct tags (the OpenAPI's x-kubernetes-patch-strategy "
    "and x-kubernetes-patch-merge-key) of k8s.io/api@" + commit(API)[:12]
    + " and k8s.io/apimachinery@" + commit(MACHINERY)[:12]
    + " (meta/v1); written by sim/data/k8s-patch-strategies.py",
    "kinds": KINDS,
    "types": dict(sorted(types.items())),
}
json.dump(doc, sys.stdout, indent=1)
sys.stdout.write("\n")
