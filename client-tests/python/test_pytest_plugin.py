"""The pytest-aksim plugin (pytest-aksim/, installed from the repository) used as its README
says, with the pinned Azure Python SDK and the pinned az CLI. Run by sim/tests/pytest_plugin.rs
with --aksim-bin set to the freshly built binary and AKSIM_TEST_AZ to the pinned az."""

import json
import os
import subprocess

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (
    IstioServiceMesh, ManagedCluster, ManagedClusterAgentPoolProfile, ManagedClusterIdentity,
    ServiceMeshProfile)
from azure.mgmt.resource.resources import ResourceManagementClient


def resources(server):
    return ResourceManagementClient(server.credential(), server.subscription,
                                    **server.sdk_kwargs())


def test_the_sdk_talks_to_the_fixture(aksim):
    assert aksim.url.startswith("https://127.0.0.1:")
    group = resources(aksim).resource_groups.create_or_update("rg1", {"location": "eastus"})
    assert group.name == "rg1"
    assert [g.name for g in resources(aksim).resource_groups.list()] == ["rg1"]


def test_a_meshed_cluster_on_a_server_with_flags(aksim_factory):
    server = aksim_factory("--auto-register-providers", "--op-duration", "default=0")
    resources(server).resource_groups.create_or_update("rg1", {"location": "eastus"})
    aks = ContainerServiceClient(server.credential(), server.subscription, **server.sdk_kwargs())
    cluster = aks.managed_clusters.begin_create_or_update("rg1", "c1", ManagedCluster(
        location="eastus",
        identity=ManagedClusterIdentity(type="SystemAssigned"),
        dns_prefix="c1",
        agent_pool_profiles=[ManagedClusterAgentPoolProfile(name="nodepool1", count=1,
                                                            mode="System")],
        service_mesh_profile=ServiceMeshProfile(mode="Istio", istio=IstioServiceMesh()),
    )).result()
    assert cluster.provisioning_state == "Succeeded"
    assert cluster.service_mesh_profile.mode == "Istio"
    assert server.info()["operationDurations"]["clusterCreate"] == 0


def test_az_with_the_fixture_environment(aksim):
    az = os.environ["AKSIM_TEST_AZ"]
    env = {**os.environ, **aksim.env}

    def run(*args):
        done = subprocess.run([az, *args, "--output", "json"], env=env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"az {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None

    accounts = run(*aksim.az_login_args())
    assert accounts[0]["id"] == aksim.subscription
    assert run("group", "create", "-n", "rg1", "-l", "eastus")["name"] == "rg1"
    puts = aksim.journal(method="PUT", path="*/resourcegroups/rg1")
    assert len(puts) == 1 and puts[0]["userAgent"].startswith("AZURECLI/2.91.0"), puts


def test_the_control_api(aksim):
    aksim.freeze()
    before = aksim.control("GET", "/_sim/clock")["now"]
    after = aksim.advance(60)["now"]
    assert before < after
    aksim.add_fault({"method": "PUT", "times": 1,
                     "action": {"type": "error", "status": 409, "code": "Injected"}})
    with pytest.raises(HttpResponseError) as refused:
        resources(aksim).resource_groups.create_or_update("rg1", {"location": "eastus"})
    assert refused.value.error.code == "Injected"
    aksim.clear_faults()
    assert resources(aksim).resource_groups.create_or_update(
        "rg1", {"location": "eastus"}).name == "rg1"


def test_strict_auth_takes_the_credential(aksim_factory):
    server = aksim_factory("--auth", "strict")
    assert server.info()["auth"] == "strict"
    assert resources(server).resource_groups.create_or_update(
        "rg1", {"location": "eastus"}).name == "rg1"


def test_stop_ends_the_process_cleanly(aksim_factory):
    server = aksim_factory()
    process = server.process
    server.stop()
    assert process.poll() == 0, "SIGTERM: exit 0"
    server.stop()  # idempotent
