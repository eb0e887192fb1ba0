"""The Azure Python SDK (azure-mgmt-containerservice 41.8.0) against aksim: agent pools,
upgrade profiles and stop/start.

Set up as README.md tells users (ClientSecretCredential with tenant "adfs" and authority =
aksim). Creates a cluster, then drives `agent_pools`: begin_create_or_update (create and
scale), list, get, get_upgrade_profile, begin_upgrade_node_image_version, begin_delete; the
cluster's get_upgrade_profile, begin_stop and begin_start; two refusals (HttpResponseError with
AKS's code and text). Every raw response body is checked against the spec-generated models:
a key the SDK's model does not declare is reported under "unknownKeys". Prints one JSON object
with what it saw; any unexpected failure raises, which exits non-zero.
"""
import json
import os
import re

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice import models as M
from azure.mgmt.resource.resources import ResourceManagementClient

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]
scopes = ["https://management.core.windows.net/.default"]
credential = ClientSecretCredential(
    "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
)
resources = ResourceManagementClient(credential, sub, base_url=base, credential_scopes=scopes)
aks = ContainerServiceClient(credential, sub, base_url=base, credential_scopes=scopes)
resources.resource_groups.create_or_update("rg1", {"location": "eastus"})

unknown = []


def annotations(cls):
    out = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__annotations__", {}))
    return out


def check(cls, data, path):
    """Appends every key of `data` that model `cls` does not declare, recursively."""
    cls({})  # computes the rest fields
    fields = {rf._rest_name: attr for attr, rf in cls._attr_to_rest_field.items()}
    hints = annotations(cls)
    for key, value in data.items():
        if key not in fields:
            unknown.append(f"{path}.{key}")
            continue
        hint = repr(hints.get(fields[key], ""))
        found = re.search(r"_models\.(\w+)", hint)
        if not found:
            continue
        inner = getattr(M, found.group(1))
        if "dict[" in hint and isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict):
                    check(inner, v, f"{path}.{key}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, dict):
                    check(inner, v, f"{path}.{key}[{i}]")
        elif isinstance(value, dict):
            check(inner, value, f"{path}.{key}")


def raw(pipeline_response, deserialized, headers):
    return pipeline_response.http_response.json()


def refusal(error):
    return {
        "status": error.status_code,
        "code": error.error.code if error.error else None,
        "message": error.error.message if error.error else None,
    }


cluster = M.ManagedCluster(
    location="eastus",
    dns_prefix="py1",
    agent_pool_profiles=[
        M.ManagedClusterAgentPoolProfile(name="nodepool1", count=1, mode="System")
    ],
)
aks.managed_clusters.begin_create_or_update("rg1", "py1", cluster).result()

added = aks.agent_pools.begin_create_or_update(
    "rg1", "py1", "user1", M.AgentPool(count=2, mode="User", vm_size="Standard_DS2_v2")
).result()
pool = aks.agent_pools.get("rg1", "py1", "user1")
pool.count = 3
scaled = aks.agent_pools.begin_create_or_update("rg1", "py1", "user1", pool).result()
listed = [p.name for p in aks.agent_pools.list("rg1", "py1")]

raw_pool = aks.agent_pools.get("rg1", "py1", "user1", cls=raw)
check(M.AgentPool, raw_pool, "agentPool")
raw_cluster = aks.managed_clusters.get("rg1", "py1", cls=raw)
for i, profile in enumerate(raw_cluster["properties"]["agentPoolProfiles"]):
    check(M.ManagedClusterAgentPoolProfile, profile, f"cluster.agentPoolProfiles[{i}]")

pool_upgrades = aks.agent_pools.get_upgrade_profile("rg1", "py1", "user1")
check(
    M.AgentPoolUpgradeProfile,
    aks.agent_pools.get_upgrade_profile("rg1", "py1", "user1", cls=raw),
    "agentPoolUpgradeProfile",
)
cluster_upgrades = aks.managed_clusters.get_upgrade_profile("rg1", "py1")
check(
    M.ManagedClusterUpgradeProfile,
    aks.managed_clusters.get_upgrade_profile("rg1", "py1", cls=raw),
    "managedClusterUpgradeProfile",
)

aks.agent_pools.begin_upgrade_node_image_version("rg1", "py1", "user1").result()
imaged = aks.agent_pools.get("rg1", "py1", "user1")
available = aks.agent_pools.get_available_agent_pool_versions("rg1", "py1")
machines = [m.name for m in aks.machines.list("rg1", "py1", "user1")]
check(M.Machine, aks.machines.get("rg1", "py1", "user1", machines[0], cls=raw), "machine")
check(
    M.AgentPoolAvailableVersions,
    aks.agent_pools.get_available_agent_pool_versions("rg1", "py1", cls=raw),
    "agentPoolAvailableVersions",
)

try:
    aks.agent_pools.begin_create_or_update(
        "rg1", "py1", "Bad_Name", M.AgentPool(count=1, mode="User")
    ).result()
    bad_name = None
except HttpResponseError as e:
    bad_name = refusal(e)
try:
    aks.agent_pools.begin_delete("rg1", "py1", "nodepool1").result()
    last_system = None
except HttpResponseError as e:
    last_system = refusal(e)

aks.managed_clusters.begin_stop("rg1", "py1").result()
stopped = aks.managed_clusters.get("rg1", "py1")
try:
    aks.agent_pools.begin_create_or_update(
        "rg1", "py1", "user2", M.AgentPool(count=1, mode="User")
    ).result()
    while_stopped = None
except HttpResponseError as e:
    while_stopped = refusal(e)
aks.managed_clusters.begin_start("rg1", "py1").result()
started = aks.managed_clusters.get("rg1", "py1")

aks.agent_pools.begin_delete("rg1", "py1", "user1").result()
after_delete = [p.name for p in aks.agent_pools.list("rg1", "py1")]

print(
    json.dumps(
        {
            "added": {"state": added.provisioning_state, "count": added.count,
                      "mode": added.mode},
            "scaled": scaled.count,
            "listed": listed,
            "poolUpgrades": {
                "kubernetesVersion": pool_upgrades.kubernetes_version,
                "latestNodeImageVersion": pool_upgrades.latest_node_image_version,
            },
            "clusterUpgrades": {
                "controlPlane": cluster_upgrades.control_plane_profile.kubernetes_version,
                "upgrades": [
                    u.kubernetes_version
                    for u in cluster_upgrades.control_plane_profile.upgrades or []
                ],
                "pools": [p.name for p in cluster_upgrades.agent_pool_profiles],
            },
            "imaged": imaged.provisioning_state,
            "machines": len(machines),
            "availableDefaults": [
                v.kubernetes_version for v in available.agent_pool_versions if v.default
            ],
            "badName": bad_name,
            "lastSystem": last_system,
            "stoppedPower": stopped.power_state.code,
            "whileStopped": while_stopped,
            "startedPower": started.power_state.code,
            "afterDelete": after_delete,
            "unknownKeys": unknown,
        }
    )
)
