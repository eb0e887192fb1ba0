"""The Azure Python SDK drives aksim's registration state machines.

FeatureClient (azure-mgmt-resource-features) for Microsoft.Features and
ResourceManagementClient.providers (azure-mgmt-resource) for providers, set up as README.md
tells users. One step per run (argv[1]); the Rust test moves the virtual clock between runs:

- show:       the states as they are (features.get, features.list, features.list_all,
              subscription_feature_registrations.get, providers.get, providers.list)
- register:   features.register, subscription_feature_registrations.create_or_update and
              providers.register; prints the states the calls returned
- unregister: features.unregister, subscription_feature_registrations.delete and
              providers.unregister; prints the states the calls returned

Prints one JSON object; any failure raises, which exits non-zero.
"""
import json
import os
import sys

from azure.identity import ClientSecretCredential
from azure.mgmt.resource.features import FeatureClient
from azure.mgmt.resource.resources import ResourceManagementClient

NS = "Microsoft.ContainerService"
FEATURE = "AzureServiceMeshPreview"
# Registered through the newer subscriptionFeatureRegistrations API (PUT/DELETE).
SFR_FEATURE = "ManagedNamespacePreview"

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]
credential = ClientSecretCredential(
    "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
)
scopes = ["https://management.core.windows.net/.default"]
features = FeatureClient(credential, sub, base_url=base, credential_scopes=scopes)
resources = ResourceManagementClient(credential, sub, base_url=base, credential_scopes=scopes)

step = sys.argv[1]
out = {"step": step}
if step == "show":
    got = features.features.get(NS, FEATURE)
    out["feature"] = {"name": got.name, "id": got.id, "type": got.type, "state": got.properties.state}
    out["listedInNamespace"] = {
        f.name: f.properties.state for f in features.features.list(NS)
    }
    out["listedAll"] = {f.name: f.properties.state for f in features.features.list_all()}
    sfr = features.subscription_feature_registrations.get(NS, SFR_FEATURE)
    out["sfr"] = {"name": sfr.name, "state": sfr.properties.state}
    provider = resources.providers.get(NS)
    out["provider"] = {
        "namespace": provider.namespace,
        "id": provider.id,
        "state": provider.registration_state,
        "resourceTypes": [t.resource_type for t in provider.resource_types],
    }
    out["providersListed"] = {
        p.namespace: p.registration_state for p in resources.providers.list()
    }
elif step == "register":
    out["feature"] = features.features.register(NS, FEATURE).properties.state
    out["sfr"] = features.subscription_feature_registrations.create_or_update(
        NS, SFR_FEATURE
    ).properties.state
    out["provider"] = resources.providers.register(NS).registration_state
elif step == "unregister":
    out["feature"] = features.features.unregister(NS, FEATURE).properties.state
    features.subscription_feature_registrations.delete(NS, SFR_FEATURE)
    out["provider"] = resources.providers.unregister(NS).registration_state
else:
    raise SystemExit(f"unknown step {step!r}")
print(json.dumps(out))
