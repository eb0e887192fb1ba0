"""The Azure Python SDK's LRO poller meets an operation that aksim was told to fail.

Creates a managed cluster with ContainerServiceClient.managed_clusters.begin_create_or_update
and waits with .result(). The test arms the failure (a fault or an operation script) first, so
.result() must raise HttpResponseError carrying the injected ARM error. Prints one JSON object
with what was raised (or {"raised": false} when nothing was); other failures exit non-zero.
"""
import json
import os

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]
credential = ClientSecretCredential(
    "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
)
scopes = ["https://management.core.windows.net/.default"]
resources = ResourceManagementClient(credential, sub, base_url=base, credential_scopes=scopes)
aks = ContainerServiceClient(
    credential,
    sub,
    base_url=base,
    credential_scopes=scopes,
    polling_interval=1,
)

resources.resource_groups.create_or_update("rg1", {"location": "eastus"})
# A plain dict is sent as it is (the REST shape, camelCase, nested under "properties").
cluster = {
    "location": "eastus",
    "identity": {"type": "SystemAssigned"},
    "properties": {
        "dnsPrefix": "c1",
        "agentPoolProfiles": [
            {"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}
        ],
        "serviceMeshProfile": {"mode": "Istio", "istio": {}},
    },
}
poller = aks.managed_clusters.begin_create_or_update("rg1", "c1", cluster)
out = {"raised": False}
try:
    poller.result()
except HttpResponseError as e:
    out = {
        "raised": True,
        "type": type(e).__name__,
        "code": e.error.code if e.error else None,
        "errorMessage": e.error.message if e.error else None,
        "message": e.message,
    }
out["pollerStatus"] = poller.status()
out["clusterState"] = aks.managed_clusters.get("rg1", "c1").provisioning_state
print(json.dumps(out))
