#!/usr/bin/env python3
"""Writes the scenario files of scenarios/agent-pools/: one per rule of the agent-pool registry
(sim/src/core/clusters/pools/rules.rs): the request the rule refuses, with AKS's code and text
(or aksim's, where no source publishes AKS's), and a look afterwards that nothing changed.

`sim/tests/agent_pools.rs` checks that every pool rule has a scenario; `sim/tests/scenarios.rs`
runs them all in-process.

Run from the repository root: python3 scenarios/agent-pools/generate.py
"""

import os

import yaml

API = "2026-06-01"
HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = ("/subscriptions/{{subscription}}/resourceGroups/rg1/providers/"
           "Microsoft.ContainerService/managedClusters/c1")
INVALID_NAME = ("The value of parameter agentPoolProfile.name is invalid. Please see "
                "https://aka.ms/aks-naming-rules for more details.")


def cluster_body(k8s="", seg=False):
    network = {"loadBalancerSku": "standard", "outboundType": "loadBalancer"}
    if seg:
        network["staticEgressGatewayProfile"] = {"enabled": True}
    return {"location": "eastus", "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Base", "tier": "Free"},
            "properties": {
                "kubernetesVersion": k8s, "dnsPrefix": "c1-rg1-000000",
                "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "",
                                       "osType": "Linux", "mode": "System",
                                       "type": "VirtualMachineScaleSets"}],
                "enableRBAC": True, "networkProfile": network, "addonProfiles": {}}}


def pool(**props):
    return {"properties": props}


def put_and_wait(name, path, body, status):
    return [
        {"name": name, "request": {"method": "PUT", "path": path, "apiVersion": API,
                                    "body": body},
         "expect": {"status": status}, "capture": {"op": "header:azure-asyncoperation"}},
        {"waitForOperation": "{{op}}", "expect": {"body": {"status": "Succeeded"}}},
    ]


def pool_path(name):
    return f"{CLUSTER}/agentPools/{name}"


# (rule id, description, cluster k8s, SEG, pools added first, the refused request
#  (method, pool, body), expected code, message or None, messageContains or None)
RULES = [
    ("agentPool.name.pattern", "A pool name is lower-case letters and digits.", "", False, [],
     ("PUT", "Pool1", pool(mode="User")), "InvalidParameter", INVALID_NAME, None),
    ("agentPool.count.range", "count is 0-1000.", "", False, [],
     ("PUT", "big", pool(mode="User", count=1001)), "InvalidParameter",
     "agentPoolProfile.count was 1001. It must be greater or equal to minCount:0 and less than "
     "or equal to maxCount:1000.", None),
    ("agentPool.maxPods.range", "maxPods is 10-250.", "", False, [],
     ("PUT", "pods", pool(mode="User", count=1, maxPods=251)), "InvalidParameter",
     "The value 251 of agentPoolProfile.maxPods is invalid. The maximum pods per node must be "
     "between 10 and 250.", None),
    ("agentPool.autoscaler.bounds", "minCount <= maxCount when autoscaling.", "", False, [],
     ("PUT", "auto", pool(mode="User", count=2, enableAutoScaling=True, minCount=5, maxCount=2)),
     "InvalidParameter",
     "minCount (5) and maxCount (2) must satisfy 0 <= minCount <= maxCount <= 1000.", None),
    ("agentPool.system.atLeastOne", "The last System pool cannot be deleted.", "", False, [],
     ("DELETE", "nodepool1", None), "OperationNotAllowed",
     "There has to be at least one system agent pool.", None),
    ("agentPool.system.linuxOnly", "A Windows pool is a User pool.", "", False, [],
     ("PUT", "win1", pool(mode="System", osType="Windows", count=1)), "InvalidParameter",
     "Agent pool 'win1' has osType Windows: System mode agent pools must be Linux.", None),
    ("agentPool.osType.immutable", "A pool's osType cannot change.", "", False,
     [("np2", pool(mode="User", count=1))],
     ("PUT", "np2", pool(mode="User", count=1, osType="Windows")), "PropertyChangeNotAllowed",
     "Changing property 'osType' is not allowed.", None),
    ("agentPool.orchestratorVersion.supported", "A pool's version is in the catalogue.", "",
     False, [], ("PUT", "old", pool(mode="User", orchestratorVersion="1.99")),
     "AgentPoolK8sVersionNotSupported",
     "Version 1.99 is not supported in this region. Please use [az aks get-versions] command "
     "to get the supported version list in this region. For more information, please check "
     "https://aka.ms/supported-version-list", None),
    ("agentPool.orchestratorVersion.notNewer", "A pool is not newer than the control plane.",
     "1.35", False, [], ("PUT", "new", pool(mode="User", orchestratorVersion="1.36")),
     "NodePoolMcVersionIncompatible",
     "Node pool version 1.36 and control plane version 1.35 are incompatible. Minor version of "
     "node pool version 36 is bigger than control plane version 35. For more information, "
     "please check https://aka.ms/version-skew-policy", None),
    ("agentPool.orchestratorVersion.skew", "A pool trails the control plane by at most three "
     "minors.", "1.37", False, [], ("PUT", "old", pool(mode="User", orchestratorVersion="1.33")),
     "NodePoolMcVersionIncompatible",
     "Node pool version 1.33 and control plane version 1.37 are incompatible. Minor version of "
     "node pool cannot be more than 3 versions less than control plane's version. Minor "
     "version of node pool is 33 and control plane is 37. For more information, please check "
     "https://aka.ms/version-skew-policy", None),
    ("agentPool.orchestratorVersion.noDowngrade", "A pool's minor cannot go down.", "1.36",
     False, [("np2", pool(mode="User", count=1, orchestratorVersion="1.36"))],
     ("PUT", "np2", pool(mode="User", count=1, orchestratorVersion="1.35")),
     "NotAllowedK8sVersionDowngrading",
     "Downgrading kubernetes version 1.36 to 1.35 is not allowed.", None),
    ("agentPool.gateway.modeImmutable", "A Gateway pool stays one.", "", True,
     [("gw", pool(mode="Gateway", count=2))], ("PUT", "gw", pool(mode="User", count=2)),
     "InvalidParameter",
     "Agent pool 'gw' cannot change mode to or from 'Gateway'; create a new Gateway pool "
     "instead.", None),
    ("agentPool.gateway.staticEgressGateway", "A Gateway pool needs the Static Egress Gateway.",
     "", False, [], ("PUT", "gw", pool(mode="Gateway", count=2)), "InvalidParameter", None,
     "requires the Static Egress Gateway to be enabled"),
    ("agentPool.gateway.linuxOnly", "A Gateway pool runs Linux.", "", True, [],
     ("PUT", "gw", pool(mode="Gateway", count=1, osType="Windows")), "InvalidParameter",
     "Windows node pools can't be used as gateway node pools.", None),
    ("agentPool.gateway.prefixSize", "publicIPPrefixSize is 28-31.", "", True, [],
     ("PUT", "gw", pool(mode="Gateway", count=2, gatewayProfile={"publicIPPrefixSize": 27})),
     "InvalidParameter",
     "The value 27 of gatewayProfile.publicIPPrefixSize is invalid. The allowed range is "
     "28-31.", None),
    ("agentPool.gateway.capacity", "A Gateway pool fits its prefix.", "", True, [],
     ("PUT", "gw", pool(mode="Gateway", count=3, gatewayProfile={"publicIPPrefixSize": 31})),
     "InvalidParameter",
     "Gateway agent pool 'gw' count 3 exceeds the 2 addresses of its /31 public IP prefix.",
     None),
    ("agentPool.gateway.noAutoscaler", "A Gateway pool does not autoscale.", "", True, [],
     ("PUT", "gw", pool(mode="Gateway", count=2, enableAutoScaling=True, minCount=1,
                        maxCount=2)),
     "InvalidParameter",
     "Gateway agent pools don't support the cluster autoscaler (enableAutoScaling must be "
     "false).", None),
]


def scenario(rule, description, k8s, seg, first, refused, code, message, contains):
    steps = put_and_wait("create the cluster", CLUSTER, cluster_body(k8s, seg), 201)
    for name, body in first:
        steps += put_and_wait(f"add pool {name}", pool_path(name), body, 201)
    method, name, body = refused
    request = {"method": method, "path": pool_path(name), "apiVersion": API}
    if body is not None:
        request["body"] = body
    error = {"code": code}
    if message:
        error["message"] = message
    if contains:
        error["messageContains"] = contains
    steps.append({"name": "the refused write", "request": request,
                  "expect": {"status": 400, "error": error}})
    # Nothing changed: a refused new pool does not exist, a refused change left the pool.
    existed = name == "nodepool1" or any(n == name for n, _ in first)
    steps.append({"name": "nothing changed",
                  "request": {"method": "GET", "path": pool_path(name), "apiVersion": API},
                  "expect": {"status": 200 if existed else 404}})
    if existed and method == "PUT":
        steps[-1]["expect"]["body"] = {"properties": {"provisioningState": "Succeeded"}}
    return {
        "name": f"rule {rule}",
        "description": description,
        "tags": [f"rule:{rule}", "agent-pools"],
        "setup": {"registerProviders": ["Microsoft.ContainerService"],
                  "resourceGroups": {"rg1": "eastus"}},
        "steps": steps,
    }


def main():
    for row in RULES:
        path = os.path.join(HERE, f"{row[0]}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("# Generated by scenarios/agent-pools/generate.py; edit the table there.\n")
            yaml.safe_dump(scenario(*row), f, sort_keys=False, width=100)


if __name__ == "__main__":
    main()
