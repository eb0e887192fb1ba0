"""The Azure Python SDK against aksim, exactly as README.md tells users to set it up.

ClientSecretCredential with tenant "adfs" and authority = aksim (MSAL treats an /adfs
authority as ADFS and skips instance discovery), ResourceManagementClient with base_url and
credential_scopes. Creates, reads, checks and deletes a resource group, waiting for the delete
LRO; prints one JSON object with what it saw. Any failure raises, which exits non-zero.
"""
import json
import os

from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]

credential = ClientSecretCredential(
    "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
)
client = ResourceManagementClient(
    credential,
    sub,
    base_url=base,
    credential_scopes=["https://management.core.windows.net/.default"],
)

created = client.resource_groups.create_or_update("sdk-rg", {"location": "westus2"})
shown = client.resource_groups.get("SDK-RG")
exists_before = client.resource_groups.check_existence("sdk-rg")
listed = [g.name for g in client.resource_groups.list()]
client.resource_groups.begin_delete("sdk-rg").result()
exists_after = client.resource_groups.check_existence("sdk-rg")

print(
    json.dumps(
        {
            "created": {
                "id": created.id,
                "name": created.name,
                "location": created.location,
                "provisioningState": created.properties.provisioning_state,
            },
            "shownName": shown.name,
            "existsBefore": exists_before,
            "listed": listed,
            "existsAfter": exists_after,
        }
    )
)
