#!/usr/bin/env python3
"""Writes the scenario files of scenarios/mesh-rules/: one per rule of the registry (the
request the rule refuses, with AKS's code and text), and for every rule that came or went on a
day (`since`/`until` in the registry, docs/aks-by-date.md) a second one at a day when it was
not in force, showing what AKS answered then.

`sim/tests/scenarios.rs` runs them all in-process and checks that every rule has a scenario on
a day in force and every dated rule one on a day it was not. Rules whose scenario is written by
hand (mesh.selfManagedIstio.conflict, which needs the Kubernetes API) are not generated.

Run from the repository root: python3 scenarios/mesh-rules/generate.py
"""

import copy
import os
import sys

import yaml

API = "2026-06-01"
HERE = os.path.dirname(os.path.abspath(__file__))
PATH = ("/subscriptions/{{subscription}}/resourceGroups/rg1/providers/"
        "Microsoft.ContainerService/managedClusters/c1")
KV_ID = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/"
         "Microsoft.KeyVault/vaults/kv1")
POD_SUBNET = "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/pods"
COMPAT = ("Service mesh revision {r} is not compatible with cluster version {v}. To find "
          "information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'")
NOT_SUPPORTED = ("Requested change in revisions is not allowed. Reason: Revision {r} is not "
                 "supported by the service mesh add-on.")
EGRESS_DISALLOWED = "Use of Istio egress gateway for Azure Service Mesh is disallowed."
SEG = ("Istio egress gateways require the Static Egress Gateway feature. Enable it on the "
       "cluster (networkProfile.staticEgressGatewayProfile.enabled, az aks update "
       "--enable-static-egress-gateway) before enabling an Istio egress gateway.")


def base_body(k8s="", mesh=None):
    props = {
        "kubernetesVersion": k8s,
        "dnsPrefix": "c1-rg1-000000",
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "", "osType": "Linux",
                               "mode": "System", "type": "VirtualMachineScaleSets"}],
        "enableRBAC": True,
        "networkProfile": {"loadBalancerSku": "standard", "outboundType": "loadBalancer"},
        "addonProfiles": {},
    }
    if mesh is not None:
        props["serviceMeshProfile"] = mesh
    return {"location": "eastus", "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Base", "tier": "Free"}, "properties": props}


def istio(revisions=None, components=None):
    inner = {}
    if revisions:
        inner["revisions"] = revisions
    if components is not None:
        inner["components"] = components
    return {"mode": "Istio", "istio": inner}


def put(name, body, status, api=API):
    step = {"name": name, "request": {"method": "PUT", "path": PATH, "apiVersion": api,
                                      "body": body}}
    if status in (200, 201):
        step["expect"] = {"status": status}
        step["capture"] = {"op": "header:azure-asyncoperation"}
        return [step, {"waitForOperation": "{{op}}", "expect": {"body": {"status": "Succeeded"}}}]
    code, message = status
    step["expect"] = {"status": 400, "error": {"code": code, "message": message}}
    return [step]


def start_steps(start):
    """Steps that bring c1 to its starting state, and the body of that state."""
    kind = start[0]
    if kind == "fresh":
        return [], base_body()
    if kind == "plain":
        body = base_body(start[1])
        return put("create the cluster", body, 201), body
    if kind == "meshed":
        _, k8s, rev = start
        body = base_body(k8s, istio([rev] if rev else None))
        return put("create the cluster with " + (rev or "the default revision"), body, 201), body
    if kind == "canary":
        _, src, dst = start
        body = base_body("", istio([src]))
        steps = put("create the cluster with " + src, body, 201)
        body = copy.deepcopy(body)
        body["properties"]["serviceMeshProfile"]["istio"]["revisions"] = [src, dst]
        steps += put("start the canary upgrade to " + dst, body, 200)
        return steps, body
    raise ValueError(start)


def mutated(body, edits):
    body = copy.deepcopy(body)
    for path, value in edits:
        at = body
        keys = path.split(".")
        for k in keys[:-1]:
            if k.isdigit():
                at = at[int(k)]
            else:
                at = at.setdefault(k, {})
        last = keys[-1]
        if last.isdigit():
            at[int(last)] = value
        else:
            at[last] = value
    return body


def scenario(rule, desc, case, suffix=""):
    steps, body = start_steps(case["start"])
    if case.get("then"):
        steps.append({"name": "AKS moves on to " + case["then"], "azureDate": case["then"]})
        for feature in case.get("then_features", []):
            ns, name = feature.split("/")
            steps.append({"name": "az feature register " + name, "request": {
                "method": "POST", "apiVersion": "2021-07-01",
                "path": "/subscriptions/{{subscription}}/providers/Microsoft.Features/providers/%s/features/%s/register" % (ns, name)},
                "expect": {"status": 200}})
            steps.append({"advanceClock": 10})
            steps.append({"name": "az provider register (the feature takes effect)", "request": {
                "method": "POST", "apiVersion": "2024-11-01",
                "path": "/subscriptions/{{subscription}}/providers/%s/register" % ns},
                "expect": {"status": 200}})
            steps.append({"advanceClock": 10})
    body = mutated(body, case["edits"])
    expect = case["expect"]
    created = case["start"][0] == "fresh"
    if isinstance(expect, int) and created:
        expect = 201
    label = "the refused write" if not isinstance(expect, int) else "the same write, accepted"
    steps += put(case.get("label", label), body, expect, case.get("api", API))
    doc = {"name": "rule " + rule + (" (" + suffix + ")" if suffix else ""),
           "description": desc + (" " + case["why"] if case.get("why") else ""),
           "tags": ["rule:" + rule, "mesh"] + (["by-date"] if case.get("day") or suffix else [])}
    settings = {}
    if case.get("day"):
        settings["azureDate"] = case["day"]
    if case.get("catalog"):
        settings["meshCatalog"] = "../catalogs/custom-test.json"
    if settings:
        doc["settings"] = settings
    setup = {"registerProviders": ["Microsoft.ContainerService"], "resourceGroups": {"rg1": "eastus"}}
    if case.get("features"):
        setup["registerFeatures"] = case["features"]
    doc["setup"] = setup
    doc["steps"] = steps
    return doc


MESH_PREVIEW = ["Microsoft.ContainerService/AzureServiceMeshPreview"]

# rule → (description, in force, [not in force ...])
RULES = {
    "cluster.location.immutable": ("The location cannot change.", {
        "start": ("plain", ""), "edits": [("location", "westus2")],
        "expect": ("PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")}),
    "cluster.dnsPrefix.immutable": ("The DNS prefix cannot change.", {
        "start": ("plain", ""), "edits": [("properties.dnsPrefix", "x")],
        "expect": ("PropertyChangeNotAllowed", "Changing property 'dnsPrefix' is not allowed.")}),
    "cluster.fqdnSubdomain.immutable": ("The FQDN subdomain cannot change.", {
        "start": ("plain", ""), "edits": [("properties.fqdnSubdomain", "x")],
        "expect": ("PropertyChangeNotAllowed", "Changing property 'fqdnSubdomain' is not allowed.")}),
    "cluster.nodeResourceGroup.immutable": ("The node resource group cannot change.", {
        "start": ("plain", ""), "edits": [("properties.nodeResourceGroup", "MC_x")],
        "expect": ("PropertyChangeNotAllowed", "Changing property 'nodeResourceGroup' is not allowed.")}),
    "cluster.kubernetesVersion.supported": ("A new or changed kubernetesVersion must be offered that day.", {
        "start": ("fresh",), "edits": [("properties.kubernetesVersion", "1.99")],
        "expect": ("AgentPoolK8sVersionNotSupported", "Version 1.99 is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/supported-version-list")}),
    "cluster.kubernetesVersion.ltsOnly": ("A minor past community support needs supportPlan AKSLongTermSupport (1.33 is LTS-only since 2026-07-17).", {
        "start": ("fresh",), "edits": [("properties.kubernetesVersion", "1.33")],
        "expect": ("AgentPoolK8sVersionNotSupported", "Version 1.33 is only available with the AKSLongTermSupport support plan (tier Premium) in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/aks/lts")}, [{
        "day": "2024-07-15", "why": "Before LTS-only minors existed (2024-07-16, when 1.27 became one), 1.27 was offered to every cluster.",
        "start": ("fresh",), "edits": [("properties.kubernetesVersion", "1.27")], "expect": 201}, {
        "day": "2026-07-16", "why": "The day before 1.33 became LTS-only it was a community version.",
        "start": ("fresh",), "edits": [("properties.kubernetesVersion", "1.33")], "expect": 201}]),
    "cluster.kubernetesVersion.oneMinorAtATime": ("A supported cluster upgrades one Kubernetes minor at a time.", {
        "start": ("plain", "1.35"), "edits": [("properties.kubernetesVersion", "1.37")],
        "expect": ("OperationNotAllowed", "Upgrading Kubernetes version 1.35 to 1.37 is not allowed. Available upgrades: [1.36.2 1.36.1]. Please see https://aka.ms/aks-supported-k8s-ver for version details.")}),
    "cluster.kubernetesVersion.noDowngrade": ("The Kubernetes minor cannot go down.", {
        "start": ("plain", "1.36"), "edits": [("properties.kubernetesVersion", "1.35")],
        "expect": ("NotAllowedK8sVersionDowngrading", "Downgrading kubernetes version 1.36 to 1.35 is not allowed.")}),
    "mesh.mode.required": ("serviceMeshProfile needs a mode.", {
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", {"istio": {}})],
        "expect": ("BadRequest", "Missing service mesh mode: ")}),
    "mesh.mode.valid": ("The mode is Istio or Disabled.", {
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", {"mode": "Linkerd"})],
        "expect": ("BadRequest", "Invalid service mesh mode: Linkerd. Allowed values are 'Istio' and 'Disabled'.")}),
    "mesh.region.supported": ("The add-on is offered in the cluster's region (a catalogue file without it in westus3).", {
        "catalog": True, "start": ("fresh",),
        "edits": [("location", "westus3"), ("properties.serviceMeshProfile", istio())],
        "expect": ("BadRequest", "Azure service mesh is not supported in this region")}),
    "mesh.istio.required": ("Mode Istio needs an istio object.", {
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", {"mode": "Istio", "istio": None})],
        "expect": ("BadRequest", "Istio profile is missing even though Service Mesh mode is Istio")}),
    "mesh.kubernetes.minimum": ("The add-on needs Kubernetes 1.23 or later (a catalogue file that offers 1.22).", {
        "catalog": True, "start": ("fresh",),
        "edits": [("properties.kubernetesVersion", "1.22"), ("properties.serviceMeshProfile", istio())],
        "expect": ("BadRequest", "Azure service mesh requires Kubernetes version 1.23 or later. The cluster version is 1.22.")}),
    "mesh.osm.conflict": ("The Open Service Mesh add-on and the Istio add-on exclude each other.", {
        "start": ("plain", ""), "edits": [("properties.addonProfiles.openServiceMesh", {"enabled": True}),
                                          ("properties.serviceMeshProfile", istio())],
        "expect": ("BadRequest", "Istio based Azure service mesh is incompatible with feature openServiceMesh")}),
    "mesh.revisions.notEmpty": ("No revision may be an empty string.", {
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", {"mode": "Istio", "istio": {"revisions": [""]}})],
        "expect": ("BadRequest", "ServiceMeshProfile revision field must not be empty")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW,
        "why": "Before istio.revisions existed (2023-06-02-preview) AKS ignored the field and installed its one revision.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", {"mode": "Istio", "istio": {"revisions": [""]}})],
        "expect": 200}]),
    "mesh.revisions.max": ("At most two revisions (during a canary upgrade).", {
        "start": ("canary", "asm-1-29", "asm-1-30"),
        "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-29", "asm-1-30", "asm-1-31"])],
        "expect": ("BadRequest", "Request exceeds maximum allowed number of revisions (2)")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW,
        "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio(["asm-1-17", "asm-1-18", "asm-1-19"]))],
        "expect": 200}]),
    "mesh.revisions.known": ("A newly requested revision exists and is not deprecated (asm-1-27 since 2026-05-29).", {
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio(["asm-1-27"]))],
        "expect": ("BadRequest", NOT_SUPPORTED.format(r="asm-1-27"))}, [{
        "day": "2026-05-28", "why": "The day before asm-1-27 was deprecated it could still be installed.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio(["asm-1-27"]))],
        "expect": 200}, {
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio(["asm-1-99"]))],
        "expect": 200}]),
    "mesh.revisions.distinct": ("A revision is listed once.", {
        "start": ("meshed", "", "asm-1-29"),
        "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-29", "asm-1-29"])],
        "expect": ("BadRequest", "Requested change in revisions is not allowed. Reason: Revision asm-1-29 is listed more than once.")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("meshed", "", None), "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-17", "asm-1-17"])],
        "expect": 200}]),
    "mesh.revisions.noDowngrade": ("A new revision is never older than an installed one.", {
        "start": ("meshed", "", "asm-1-30"),
        "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-30", "asm-1-29"])],
        "expect": ("BadRequest", "Requested change in revisions is not allowed. Reason: Downgrading the service mesh from revision asm-1-30 to asm-1-29 is not supported.")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("meshed", "", None), "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-18", "asm-1-17"])],
        "expect": 200}]),
    "mesh.revisions.upgradePath": ("Revisions change only by canary start (the installed one plus an allowed target), complete or rollback.", {
        "day": "2026-04-21", "start": ("meshed", "", "asm-1-26"),
        "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-26", "asm-1-29"])],
        "expect": ("BadRequest", "Requested change in revisions is not allowed. Reason: Revision asm-1-29 is not a valid upgrade target for revision asm-1-26. Valid upgrade targets: asm-1-27, asm-1-28. To find information about valid upgrades, use 'az aks mesh get-upgrades'.")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("meshed", "", None), "edits": [("properties.serviceMeshProfile.istio.revisions", ["asm-1-17", "asm-1-19"])],
        "expect": 200}]),
    "mesh.revisions.compatible": ("A newly requested revision runs on the cluster's Kubernetes minor (no revision runs on 1.37 yet).", {
        "start": ("plain", "1.37"), "edits": [("properties.serviceMeshProfile", istio(["asm-1-30"]))],
        "expect": ("BadRequest", COMPAT.format(r="asm-1-30", v="1.37"))}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before istio.revisions existed AKS ignored the field.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio(["asm-1-30"]))],
        "expect": 200}]),
    "mesh.kubernetes.supported": ("Enabling without a revision needs a revision for the cluster's Kubernetes minor (none runs on 1.37 yet).", {
        "start": ("plain", "1.37"), "edits": [("properties.serviceMeshProfile", istio())],
        "expect": ("BadRequest", "Kubernetes version 1.37 not supported. Please upgrade to a supported cluster version first. To find compatibility information, use 'az aks mesh get-upgrades'")}, [{
        "day": "2023-05-31", "features": MESH_PREVIEW, "why": "Before the revision catalogue existed the add-on installed its one revision.",
        "start": ("plain", ""), "edits": [("properties.serviceMeshProfile", istio())],
        "expect": 200}]),
    "mesh.revisions.compatibleOnEveryPut": ("Until 2024-04-28 every PUT of a meshed cluster checked each installed revision against the cluster's minor.", {
        "day": "2023-12-01", "features": MESH_PREVIEW, "then": "2024-01-20",
        "start": ("meshed", "1.25", "asm-1-17"), "edits": [("tags", {"team": "a"})],
        "expect": ("BadRequest", COMPAT.format(r="asm-1-17", v="1.25"))}, [{
        "day": "2024-03-01", "then": "2024-04-28",
        "why": "From 2024-04-28 the check runs only when the mesh revision or the cluster version changes.",
        "start": ("meshed", "1.27", "asm-1-20"), "edits": [("tags", {"team": "a"})], "expect": 200}]),
    "mesh.kubernetesUpgrade.compatible": ("Until 2025-03-16 a Kubernetes minor change was refused while an installed revision did not run on the new minor.", {
        "day": "2025-01-15", "start": ("meshed", "1.30", "asm-1-22"),
        "edits": [("properties.kubernetesVersion", "1.31")],
        "expect": ("BadRequest", COMPAT.format(r="asm-1-22", v="1.31.3"))}, [{
        "why": "Today the refusal is kept only from a compatible pair (mesh.kubernetesUpgrade.blockedByRevision).",
        "start": ("meshed", "1.35", "asm-1-29"), "edits": [("properties.kubernetesVersion", "1.36")],
        "expect": 200}]),
    "mesh.kubernetesUpgrade.blockedByRevision": ("Since 2025-03-16 a Kubernetes minor change from a compatible (revision, minor) pair to an incompatible one is refused; from an incompatible pair it is allowed (recovery).", {
        "start": ("meshed", "1.36", "asm-1-29"), "edits": [("properties.kubernetesVersion", "1.37")],
        "expect": ("BadRequest", COMPAT.format(r="asm-1-29", v="1.37.1"))}, [{
        "day": "2025-03-15", "why": "The day before, mesh.kubernetesUpgrade.compatible refused any incompatible target, in the same words.",
        "start": ("meshed", "1.30", "asm-1-22"), "edits": [("properties.kubernetesVersion", "1.31")],
        "expect": ("BadRequest", COMPAT.format(r="asm-1-22", v="1.31.5"))}]),
    "mesh.ingress.mode": ("Ingress gateway mode is External or Internal.", {
        "start": ("meshed", "", "asm-1-29"),
        "edits": [("properties.serviceMeshProfile.istio.components", {"ingressGateways": [{"mode": "Public", "enabled": True}]})],
        "expect": ("BadRequest", "Invalid istio ingress mode: Public")}),
    "mesh.ingress.count": ("At most one ingress gateway per mode.", {
        "start": ("meshed", "", "asm-1-29"),
        "edits": [("properties.serviceMeshProfile.istio.components", {"ingressGateways": [{"mode": "External", "enabled": True}, {"mode": "external", "enabled": False}]})],
        "expect": ("BadRequest", "Too many ingresses for type: External. Only 1 ingress gateway are allowed")}),
    "mesh.egress.disallowed": ("Before Istio egress gateways were offered (2025-04-28), enabling one was refused.", {
        "day": "2024-09-01", "start": ("meshed", "", None),
        "edits": [("properties.serviceMeshProfile.istio.components", {"egressGateways": [{"enabled": True, "name": "eg", "gatewayConfigurationName": "gw"}]})],
        "expect": ("BadRequest", EGRESS_DISALLOWED)}, [{
        "why": "Today egress gateways are offered (with the Static Egress Gateway).",
        "start": ("meshed", "", "asm-1-29"),
        "edits": [("properties.networkProfile.staticEgressGatewayProfile", {"enabled": True}),
                  ("properties.serviceMeshProfile.istio.components", {"egressGateways": [{"enabled": True, "name": "eg", "gatewayConfigurationName": "gw"}]})],
        "expect": 200}]),
    "mesh.egress.apiVersion": ("Egress gateways need an api-version with the Static Egress Gateway schema.", {
        "api": "2025-08-01", "start": ("meshed", "", "asm-1-29"),
        "edits": [("properties.serviceMeshProfile.istio.components", {"egressGateways": [{"enabled": True}]})],
        "expect": ("BadRequest", EGRESS_DISALLOWED)}, [{
        "day": "2025-04-27", "api": "2025-08-01", "why": "Before egress gateways existed every enabled one was refused, whatever the api-version (mesh.egress.disallowed).",
        "start": ("meshed", "", None),
        "edits": [("properties.serviceMeshProfile.istio.components", {"egressGateways": [{"enabled": True}]})],
        "expect": ("BadRequest", EGRESS_DISALLOWED)}]),
}


def egress_rule(edits, message, why_today=None):
    """An egress rule in force since 2025-04-28; the day before, the disallowed text."""
    return ({"start": ("meshed", "", "asm-1-29"), "edits": edits, "expect": ("BadRequest", message)},
            [{"day": "2025-04-27", "why": "The day before Istio egress gateways were offered every enabled one was refused.",
              "start": ("meshed", "", None), "edits": edits, "expect": ("BadRequest", EGRESS_DISALLOWED)}])


def components(c):
    return ("properties.serviceMeshProfile.istio.components", c)


for rule, desc, edits, message in [
    ("mesh.egress.count", "At most 500 egress gateways.",
     [components({"egressGateways": [{"enabled": True, "name": "eg%d" % i, "gatewayConfigurationName": "gw"} for i in range(501)]})],
     "Too many egress gateways: 501. Only 500 egress gateways are allowed per cluster"),
    ("mesh.egress.name", "An egress gateway name is a DNS subdomain of 1 to 53 characters.",
     [components({"egressGateways": [{"enabled": True, "name": "Bad_Name", "gatewayConfigurationName": "gw"}]})],
     "Istio egress gateway name 'Bad_Name' is invalid. Name must be between 1 and 53 characters, consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character."),
    ("mesh.egress.namespace", "An egress gateway namespace is a valid namespace name.",
     [components({"egressGateways": [{"enabled": True, "name": "eg", "namespace": "a.b", "gatewayConfigurationName": "gw"}]})],
     "Istio egress gateway namespace 'a.b' is invalid. A namespace must be between 1 and 63 characters, consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character."),
    ("mesh.egress.gatewayConfigurationName", "An enabled egress gateway names its StaticGatewayConfiguration.",
     [components({"egressGateways": [{"enabled": True, "name": "eg"}]})],
     "Istio egress gateway 'eg' in namespace 'aks-istio-egress' requires gatewayConfigurationName, the name of its StaticGatewayConfiguration."),
    ("mesh.egress.unique", "Egress gateway names are unique per namespace.",
     [components({"egressGateways": [{"enabled": True, "name": "eg", "gatewayConfigurationName": "gw"},
                                     {"enabled": False, "name": "eg", "namespace": "aks-istio-egress", "gatewayConfigurationName": "gw"}]})],
     "Istio egress gateway 'eg' is defined more than once in namespace 'aks-istio-egress'. Egress gateway names must be unique per namespace."),
    ("mesh.egress.staticEgressGateway", "An enabled egress gateway needs the Static Egress Gateway (a hard dependency).",
     [components({"egressGateways": [{"enabled": True, "name": "eg", "gatewayConfigurationName": "gw"}]})], SEG),
    ("mesh.egress.podSubnet", "Egress gateways are not offered on Azure CNI Pod Subnet clusters.",
     [("properties.networkProfile.staticEgressGatewayProfile", {"enabled": True}),
      ("properties.agentPoolProfiles.0.podSubnetID", POD_SUBNET),
      components({"egressGateways": [{"enabled": True, "name": "eg", "gatewayConfigurationName": "gw"}]})],
     "Istio egress gateways are not supported on clusters that use Azure CNI with a pod subnet (agentPoolProfiles[].podSubnetID): the Static Egress Gateway they need is not available there."),
]:
    RULES[rule] = (desc,) + egress_rule(edits, message)


def plugin(**fields):
    p = {"keyVaultId": KV_ID, "certObjectName": "ca-cert", "keyObjectName": "ca-key",
         "rootCertObjectName": "root-cert", "certChainObjectName": "cert-chain"}
    p.update(fields)
    return {"mode": "Istio", "istio": {"certificateAuthority": {"plugin": p}}}


KV = ("properties.addonProfiles.azureKeyvaultSecretsProvider", {"enabled": True})
PLUGIN_BEFORE = "Before the plug-in CA was offered (2024-01-23) AKS did not check the field."
for rule, desc, start, edits, message in [
    ("mesh.pluginCa.parameters", "A plug-in CA names the key vault and all four objects.", ("plain", ""),
     [KV, ("properties.serviceMeshProfile", {"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"keyVaultId": KV_ID, "certObjectName": ""}}}})],
     "ServiceMeshProfile is missing required parameters: certObjectName, keyObjectName, rootCertObjectName, certChainObjectName for plugin certificate authority"),
    ("mesh.pluginCa.keyVaultAddon", "A plug-in CA needs the azureKeyvaultSecretsProvider add-on.", ("plain", ""),
     [("properties.serviceMeshProfile", plugin())],
     "AzureKeyvaultSecretsProvider addon is required for Azure Service Mesh plugin certificate authority feature"),
    ("mesh.pluginCa.keyVaultId", "keyVaultId is a Microsoft.KeyVault/vaults resource id.", ("plain", ""),
     [KV, ("properties.serviceMeshProfile", plugin(keyVaultId="/subscriptions/x/vaults/kv1"))],
     "'KeyVaultId': '/subscriptions/x/vaults/kv1' is not a valid Azure keyvault resource identifier. Please make sure that the format matches '/subscriptions//resourceGroups//providers/Microsoft.KeyVault/vaults/'"),
    ("mesh.pluginCa.onlyWhenEnabling", "The certificate authority is set when enabling; changing it needs disable + enable.", ("meshed", "", "asm-1-29"),
     [KV, ("properties.serviceMeshProfile.istio.certificateAuthority", plugin()["istio"]["certificateAuthority"])],
     "The certificate authority of Azure Service Mesh can only be configured when enabling the add-on. To switch certificate authority, disable the add-on and enable it again with the new certificate authority."),
]:
    before_start = ("meshed", "", None) if start[0] == "meshed" else start
    RULES[rule] = (desc, {"start": start, "edits": edits, "expect": ("BadRequest", message)},
                   [{"day": "2024-01-22", "features": MESH_PREVIEW, "why": PLUGIN_BEFORE,
                     "start": before_start, "edits": edits, "expect": 200}])

CNI_BEFORE = "Before Istio CNI existed (2025-10-20) AKS ignored proxyRedirectionMechanism."
RULES["mesh.proxyRedirection.valid"] = (
    "proxyRedirectionMechanism is InitContainers or CNIChaining.",
    {"start": ("meshed", "", "asm-1-29"), "edits": [components({"proxyRedirectionMechanism": "Sidecar"})],
     "expect": ("BadRequest", "Invalid proxy redirection mechanism: Sidecar. Allowed values are 'InitContainers' and 'CNIChaining'.")},
    [{"day": "2025-10-19", "why": CNI_BEFORE, "start": ("meshed", "", None),
      "edits": [components({"proxyRedirectionMechanism": "Sidecar"})], "expect": 200}])
RULES["mesh.proxyRedirection.cniRevision"] = (
    "CNIChaining needs every installed revision to be asm-1-25 or later (a cluster installed with asm-1-24 earlier).",
    {"day": "2025-06-01", "then": "2025-11-01", "then_features": ["Microsoft.ContainerService/IstioCNIPreview"],
     "start": ("meshed", "", "asm-1-24"), "edits": [components({"proxyRedirectionMechanism": "CNIChaining"})],
     "expect": ("BadRequest", "Proxy redirection mechanism CNIChaining requires service mesh revision asm-1-25 or later. Revision asm-1-24 does not support it.")},
    [{"day": "2025-06-01", "why": CNI_BEFORE, "start": ("meshed", "", "asm-1-24"),
      "edits": [components({"proxyRedirectionMechanism": "CNIChaining"})], "expect": 200}])
APP_ROUTING = {"webAppRouting": {"enabled": True, "gatewayAPIImplementations": {"appRoutingIstio": {"mode": "Enabled"}}}}
RULES["mesh.appRouting.gatewayApi"] = (
    "The Istio add-on and the application routing Gateway API implementation exclude each other (docs 2025-11-20).",
    {"start": ("plain", ""), "edits": [("properties.ingressProfile", APP_ROUTING), ("properties.serviceMeshProfile", istio())],
     "expect": ("BadRequest", "The Istio-based service mesh add-on and the application routing Gateway API implementation (ingressProfile.webAppRouting.gatewayAPIImplementations.appRoutingIstio) cannot be enabled at the same time. Disable one of them first, in a separate operation.")},
    [{"day": "2025-11-19", "why": "Before the app-routing Gateway API implementation was documented, nothing refused the pair.",
      "start": ("plain", ""), "edits": [("properties.ingressProfile", APP_ROUTING), ("properties.serviceMeshProfile", istio())],
      "expect": 200}])


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _str)


def write(name, doc):
    path = os.path.join(HERE, name + ".yaml")
    text = "# Generated by scenarios/mesh-rules/generate.py; edit the table there.\n" + \
        yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=100, allow_unicode=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    for rule, entry in RULES.items():
        desc, case = entry[0], entry[1]
        write(rule, scenario(rule, desc, case))
        for other in entry[2] if len(entry) > 2 else []:
            label = other.get("day", "today")
            write(rule + "." + label, scenario(rule, desc, other, "on " + label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
