"""The Azure Python SDK (azure-mgmt-containerservice 41.8.0) against aksim: a meshed cluster.

Set up as README.md tells users (ClientSecretCredential with tenant "adfs" and authority =
aksim, or a static TokenCredential with argv[1] == "static"; clients with base_url and
credential_scopes). Creates the resource group, then a cluster with the Istio add-on through
begin_create_or_update(...).result(), reads service_mesh_profile, runs a canary upgrade (start
and complete through begin_create_or_update), lists the mesh revision and upgrade profiles and
the user credentials, provokes two refusals (HttpResponseError with AKS's code and text) and
deletes the cluster with begin_delete(...).result(). Prints one JSON object with what it saw;
any unexpected failure raises, which exits non-zero.
"""
import base64
import json
import os
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (
    IstioServiceMesh,
    ManagedCluster,
    ManagedClusterAgentPoolProfile,
    ServiceMeshProfile,
)
from azure.mgmt.resource.resources import ResourceManagementClient

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]
scopes = ["https://management.core.windows.net/.default"]


class StaticCredential:
    """A TokenCredential that never calls a token endpoint."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("static-token", int(time.time()) + 3600)


if len(sys.argv) > 1 and sys.argv[1] == "static":
    credential = StaticCredential()
else:
    credential = ClientSecretCredential(
        "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
    )

resources = ResourceManagementClient(credential, sub, base_url=base, credential_scopes=scopes)
aks = ContainerServiceClient(credential, sub, base_url=base, credential_scopes=scopes)
resources.resource_groups.create_or_update("rg1", {"location": "eastus"})


def refusal(error):
    return {
        "status": error.status_code,
        "code": error.error.code if error.error else None,
        "message": error.error.message if error.error else None,
    }


cluster = ManagedCluster(
    location="eastus",
    dns_prefix="py1",
    agent_pool_profiles=[
        ManagedClusterAgentPoolProfile(name="nodepool1", count=1, mode="System")
    ],
    service_mesh_profile=ServiceMeshProfile(
        mode="Istio", istio=IstioServiceMesh(revisions=["asm-1-29"])
    ),
)
created = aks.managed_clusters.begin_create_or_update("rg1", "py1", cluster).result()
created_mesh = created.service_mesh_profile.as_dict()

# Canary upgrade: add the target revision, then keep only the target (what `az aks mesh
# upgrade start` / `complete` send).
current = aks.managed_clusters.get("rg1", "py1")
current.service_mesh_profile.istio.revisions = ["asm-1-29", "asm-1-30"]
started = aks.managed_clusters.begin_create_or_update("rg1", "py1", current).result()
started_revisions = list(started.service_mesh_profile.istio.revisions)

try:
    list(aks.managed_clusters.list_mesh_upgrade_profiles("rg1", "py1"))
    during_canary = None
except HttpResponseError as error:
    during_canary = refusal(error)

started.service_mesh_profile.istio.revisions = ["asm-1-30"]
completed = aks.managed_clusters.begin_create_or_update("rg1", "py1", started).result()
completed_revisions = list(completed.service_mesh_profile.istio.revisions)

shown = aks.managed_clusters.get("rg1", "py1")

revision_profiles = [
    {
        "name": p.name,
        "revisions": [
            {"revision": r.revision, "upgrades": r.upgrades}
            for r in p.properties.mesh_revisions
        ],
    }
    for p in aks.managed_clusters.list_mesh_revision_profiles("eastus")
]
upgrade_profiles = [
    {
        "name": p.name,
        "revision": p.properties.revision,
        "upgrades": p.properties.upgrades,
    }
    for p in aks.managed_clusters.list_mesh_upgrade_profiles("rg1", "py1")
]

credentials = aks.managed_clusters.list_cluster_user_credentials("rg1", "py1")
value = credentials.kubeconfigs[0].value
kubeconfig = (value if isinstance(value, bytes) else base64.b64decode(value)).decode()
server = next(
    line.split(":", 1)[1].strip().strip('"')
    for line in kubeconfig.splitlines()
    if line.strip().startswith("server:")
)

# A third revision is refused by the server.
shown.service_mesh_profile.istio.revisions = ["asm-1-30", "asm-1-31", "asm-1-29"]
try:
    aks.managed_clusters.begin_create_or_update("rg1", "py1", shown).result()
    third = None
except HttpResponseError as error:
    third = refusal(error)

aks.managed_clusters.begin_delete("rg1", "py1").result()
try:
    aks.managed_clusters.get("rg1", "py1")
    after_delete = None
except ResourceNotFoundError as error:
    after_delete = refusal(error)

print(
    json.dumps(
        {
            "created": {
                "id": created.id,
                "provisioningState": created.provisioning_state,
                "serviceMeshProfile": created_mesh,
            },
            "startedRevisions": started_revisions,
            "duringCanary": during_canary,
            "completedRevisions": completed_revisions,
            "shown": {
                "mode": shown.service_mesh_profile.mode,
                "provisioningState": shown.provisioning_state,
            },
            "revisionProfiles": revision_profiles,
            "upgradeProfiles": upgrade_profiles,
            "credentialName": credentials.kubeconfigs[0].name,
            "server": server,
            "thirdRevision": third,
            "afterDelete": after_delete,
        }
    )
)
