#!/usr/bin/env python3
"""Regenerates the committed seed corpora (fuzz/seeds/<target>/) from real inputs: the REST
spec examples (/work/shared/arm-examples or $ARM_EXAMPLES), the bodies az and kubectl send
(as in sim/tests), and a few scenario files. The first byte of each seed selects the endpoint
(see sim/src/hostile.rs); it is printable so the seeds stay readable."""
import json, os, pathlib, shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "fuzz" / "seeds"
EX = pathlib.Path(os.environ.get("ARM_EXAMPLES", "/work/shared/arm-examples"))


def write(target, name, selector, body):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(body, str):
        body = body.encode()
    (d / name).write_bytes(selector.encode() + body)


def example(rel):
    return json.loads((EX / rel).read_text())["parameters"]["parameters"]


az_create = {
    "location": "eastus", "identity": {"type": "SystemAssigned"},
    "sku": {"name": "Base", "tier": "Free"},
    "properties": {
        "kubernetesVersion": "", "dnsPrefix": "c2-rg1-000000",
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "", "orchestratorVersion": "",
                               "osType": "Linux", "mode": "System", "type": "VirtualMachineScaleSets",
                               "enableNodePublicIP": False}],
        "enableRBAC": True, "disableLocalAccounts": False,
        "networkProfile": {"loadBalancerSku": "standard", "outboundType": "loadBalancer"},
        "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": "false"}}},
        "storageProfile": {}, "bootstrapProfile": {"artifactSource": "Direct"},
        "serviceMeshProfile": {"mode": "Istio", "istio": {
            "components": {"ingressGateways": [{"mode": "External", "enabled": True}],
                           "egressGateways": [{"name": "egw1", "namespace": "ns1", "enabled": True,
                                               "gatewayConfigurationName": "gw"}]},
            "certificateAuthority": {"plugin": {"keyVaultId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
                "certObjectName": "c", "keyObjectName": "k", "rootCertObjectName": "r", "certChainObjectName": "cc"}}}},
    },
}
mesh_example = example("containerservice/2026-03-01/ManagedClustersCreate_AzureServiceMesh.json")
tags = example("containerservice/2026-06-01/ManagedClustersUpdateTags.json")
rg = example("resources/2025-04-01/CreateResourceGroup.json")
# selectors: 0 PUT c2 (create), 1 PUT c1 (update), 2 PATCH c1, 3 PUT rg2, 4 PATCH rg1
write("arm_body", "create-az", "0", json.dumps(az_create))
write("arm_body", "create-example-mesh", "0", json.dumps(mesh_example))
write("arm_body", "create-example-mesh-eastus", "0", json.dumps(dict(mesh_example, location="eastus")))
update = json.loads(json.dumps(az_create))
update["properties"]["dnsPrefix"] = "c1-rg1-000000"
del update["properties"]["serviceMeshProfile"]["istio"]["certificateAuthority"]
write("arm_body", "update-az", "1", json.dumps(update))
write("arm_body", "update-disable-mesh", "1", json.dumps({"location": "eastus", "properties": {"dnsPrefix": "c1-rg1-000000", "serviceMeshProfile": {"mode": "Disabled"}}}))
write("arm_body", "patch-tags-example", "2", json.dumps(tags))
write("arm_body", "rg-create-example", "3", json.dumps(rg))
write("arm_body", "rg-create-tags", "3", json.dumps({"location": "westeurope", "tags": {"a": "b"}, "managedBy": "x"}))
write("arm_body", "rg-patch-tags", "4", json.dumps({"tags": {"env": "test"}}))

ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns2", "labels": {"istio.io/rev": "asm-1-27"}}}
cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm2", "namespace": "ns1", "annotations": {"a": "b"}}, "data": {"k": "v"}}
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "labels": {"app": "x"}},
       "spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}],
                "nodeSelector": {"kubernetes.io/os": "linux"}}}
# selectors: 0 ns create, 1 cm create, 2 cm replace, 3 cm merge, 4 cm strategic, 5 cm json patch,
# 6 ns create yaml, 7 cm create protobuf, 8 pod create, 9 ns merge patch
write("kube_body", "namespace", "0", json.dumps(ns))
write("kube_body", "configmap", "1", json.dumps(cm))
write("kube_body", "configmap-replace", "2", json.dumps(dict(cm, metadata={"name": "cm1"})))
write("kube_body", "configmap-replace-stale", "2", json.dumps(dict(cm, metadata={"name": "cm1", "resourceVersion": "7"})))
write("kube_body", "configmap-merge", "3", json.dumps({"data": {"a": None, "b": "2"}, "metadata": {"labels": {"x": "y"}}}))
write("kube_body", "configmap-strategic", "4", json.dumps({"data": {"b": "2"}, "metadata": {"$patch": "merge"}}))
write("kube_body", "configmap-jsonpatch", "5", json.dumps([{"op": "add", "path": "/data/b", "value": "2"},
                                                           {"op": "test", "path": "/data/a", "value": "1"},
                                                           {"op": "remove", "path": "/data/a"},
                                                           {"op": "move", "from": "/data/b", "path": "/data/c"}]))
write("kube_body", "namespace-yaml", "6", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns3\n  labels:\n    istio-injection: enabled\n")


def pb_len(field, payload):
    out = bytes([(field << 3) | 2])
    n = len(payload)
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return out + payload


meta = pb_len(1, b"cm3")
entry = pb_len(1, b"k") + pb_len(2, b"v")
raw = pb_len(1, meta) + pb_len(2, entry)
type_meta = pb_len(1, b"v1") + pb_len(2, b"ConfigMap")
write("kube_body", "configmap-protobuf", "7", b"k8s\0" + pb_len(1, type_meta) + pb_len(2, raw))
write("kube_body", "pod", "8", json.dumps(pod))
write("kube_body", "namespace-merge", "9", json.dumps({"metadata": {"labels": {"istio.io/rev": "asm-1-27"}}}))

paths = [
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/listClusterUserCredential?api-version=2026-06-01",
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.ContainerService/locations/eastus/meshRevisionProfiles/istio?api-version=2026-06-01",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups?api-version=2024-11-01&$filter=tagName%20eq%20'a'&$top=1",
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/AzureServiceMeshPreview/register?api-version=2021-07-01",
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.ContainerService/register?api-version=2024-11-01",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/meshUpgradeProfiles/istio?api-version=2026-06-01",
    "/k8s/00000000-0000-0000-0000-000000000001/rg1/c1/api/v1/namespaces/ns1/configmaps/cm1",
    "/k8s/00000000-0000-0000-0000-000000000001/rg1/c1/apis/networking.istio.io/v1/namespaces/ns1/gateways?labelSelector=a%3Db,c!%3Dd&limit=1&continue=x",
    "/k8s/00000000-0000-0000-0000-000000000001/rg1/c1/api/v1/pods?fieldSelector=metadata.name%3Dx&watch=false",
    "/k8s/00000000-0000-0000-0000-000000000001/rg1/c1/openapi/v3/api/v1",
    "/metadata/endpoints?api-version=2022-09-01",
    "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
    "/subscriptions/00000000-0000-0000-0000-000000000001/operationresults/x?api-version=2024-11-01",
]
for i, p in enumerate(paths):
    write("arm_path", f"path-{i:02}", "0", p)  # '0' → GET (sim::hostile::selector)
for i, p in enumerate(paths[:4]):
    write("arm_path", f"path-put-{i:02}", "1", p)  # '1' → PUT

for rel in ["foundation/resource-group-lifecycle.yaml", "flows/mesh-enable-disable.yaml",
            "kube/sidecar-injection.yaml", "mesh-rules/mesh.revisions.upgradePath.yaml",
            "clusters/lro-shapes-and-concurrency.yaml", "foundation/scripted-polls.yaml"]:
    src = ROOT / "scenarios" / rel
    write("scenario", src.stem, "0", src.read_text())
# JSON forms of two scenarios, when python3 has a YAML reader.
try:
    import yaml  # noqa
    for rel in ["foundation/resource-group-lifecycle.yaml", "kube/sidecar-injection.yaml"]:
        write("scenario", pathlib.Path(rel).stem + ".json", "1",
              json.dumps(yaml.safe_load((ROOT / "scenarios" / rel).read_text()), indent=1))
except ImportError:
    pass

# Cassettes (`aksim parity`): no selector byte, the whole input is the file. Two recorded
# cassettes whole, the first interactions of a mesh one (cut at an item boundary), and a
# small hand-written one with a poll sequence, a 504 and its retry.
CASSETTES = ROOT / "parity" / "cassettes" / "azure-cli-aks"
for name in ["test_aks_azure_service_mesh_get_revisions", "test_aks_create_with_openservicemesh_addon"]:
    write("cassette", name, "", (CASSETTES / f"{name}.yaml").read_text())
lines = (CASSETTES / "test_aks_azure_service_mesh_enable_disable.yaml").read_text().splitlines(keepends=True)
starts = [i for i, l in enumerate(lines) if l.startswith("- request:")]
write("cassette", "mesh-enable-first-4", "", "".join(lines[:starts[4]]) + "version: 1\n")
write("cassette", "poll-and-retry", "", """interactions:
- request:
    body: '{"location": "eastus", "properties": {"dnsPrefix": "c1"}}'
    headers: {CommandName: [aks create], Content-Type: [application/json]}
    method: PUT
    uri: https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-08-01
  response:
    body: {string: '{"name": "c1", "properties": {"provisioningState": "Creating"}}'}
    headers:
      azure-asyncoperation: ['https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/locations/eastus/operations/6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2016-03-30']
      date: ['Wed, 03 Jul 2024 07:13:00 GMT']
    status: {code: 201, message: Created}
- request:
    body: null
    headers: {}
    method: GET
    uri: https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/locations/eastus/operations/6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2016-03-30
  response:
    body: {string: '{"name": "6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00", "status": "InProgress", "startTime": "2024-07-03T07:13:00Z"}'}
    headers: {date: ['Wed, 03 Jul 2024 07:13:30 GMT']}
    status: {code: 200, message: OK}
- request:
    body: null
    headers: {}
    method: GET
    uri: https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/locations/eastus/operations/6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2016-03-30
  response:
    body: {string: '{"name": "6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00", "status": "Succeeded", "startTime": "2024-07-03T07:13:00Z", "endTime": "2024-07-03T07:14:00Z"}'}
    headers: {date: ['Wed, 03 Jul 2024 07:14:00 GMT']}
    status: {code: 200, message: OK}
- request:
    body: null
    headers: {}
    method: DELETE
    uri: https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-08-01
  response:
    body: {string: '{"error": {"code": "GatewayTimeout", "message": "The gateway did not receive a response within the specified time period."}}'}
    headers: {date: ['Wed, 03 Jul 2024 07:15:00 GMT']}
    status: {code: 504, message: Gateway Timeout}
- request:
    body: null
    headers: {}
    method: DELETE
    uri: https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-08-01
  response:
    body: {string: ''}
    headers: {date: ['Wed, 03 Jul 2024 07:15:01 GMT']}
    status: {code: 202, message: Accepted}
version: 1
""")
