"""The official Kubernetes Python client (`kubernetes`, pinned in sdk-requirements.txt) against
a cluster's plane: the Azure SDK creates a meshed cluster (asm-1-29, ingress gateway, 2 nodes)
and returns the user kubeconfig; `kubernetes.config.load_kube_config` reads it unchanged. The
client (with its client-side validation on) then reads every kind the plane serves — nodes,
namespaces, pods, deployments, replicasets, daemonsets, statefulsets, jobs, configmaps,
secrets, services, HPAs, CRDs, webhook configurations, the add-on's objects — creates a
Deployment in a namespace labelled for injection, and asks a SelfSubjectAccessReview. Any
deserialisation error raises (exit non-zero). Prints one JSON object with what it saw.
"""
import base64
import json
import os
import tempfile

from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (
    IstioComponents,
    IstioIngressGateway,
    IstioServiceMesh,
    ManagedCluster,
    ManagedClusterAgentPoolProfile,
    ServiceMeshProfile,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from kubernetes import client, config

base = os.environ["AKSIM_BASE_URL"]
sub = os.environ["AKSIM_SUBSCRIPTION"]
scopes = ["https://management.core.windows.net/.default"]
credential = ClientSecretCredential(
    "adfs", os.environ["AKSIM_CLIENT_ID"], "any-secret", authority=base
)
resources = ResourceManagementClient(credential, sub, base_url=base, credential_scopes=scopes)
aks = ContainerServiceClient(credential, sub, base_url=base, credential_scopes=scopes)
resources.resource_groups.create_or_update("rg1", {"location": "eastus"})
cluster = ManagedCluster(
    location="eastus",
    dns_prefix="kpy",
    agent_pool_profiles=[
        ManagedClusterAgentPoolProfile(name="nodepool1", count=2, mode="System")
    ],
    service_mesh_profile=ServiceMeshProfile(
        mode="Istio",
        istio=IstioServiceMesh(
            revisions=["asm-1-29"],
            components=IstioComponents(
                ingress_gateways=[IstioIngressGateway(mode="External", enabled=True)]
            ),
        ),
    ),
)
aks.managed_clusters.begin_create_or_update("rg1", "kpy", cluster).result()
value = aks.managed_clusters.list_cluster_user_credentials("rg1", "kpy").kubeconfigs[0].value
kubeconfig = value if isinstance(value, bytes) else base64.b64decode(value)
path = os.path.join(tempfile.mkdtemp(), "kubeconfig")
with open(path, "wb") as f:
    f.write(kubeconfig)
config.load_kube_config(config_file=path)

core = client.CoreV1Api()
apps = client.AppsV1Api()
batch = client.BatchV1Api()
hpa = client.AutoscalingV2Api()
ext = client.ApiextensionsV1Api()
adm = client.AdmissionregistrationV1Api()
authz = client.AuthorizationV1Api()

core.create_namespace(
    client.V1Namespace(
        metadata=client.V1ObjectMeta(name="shop", labels={"istio.io/rev": "asm-1-29"})
    )
)
apps.create_namespaced_deployment(
    "shop",
    client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    ),
)
apps.create_namespaced_stateful_set(
    "shop",
    client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="db"),
        spec=client.V1StatefulSetSpec(
            service_name="db",
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "db"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "db"}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="db", image="postgres:17")]
                ),
            ),
        ),
    ),
)
batch.create_namespaced_job(
    "shop",
    client.V1Job(
        metadata=client.V1ObjectMeta(name="once"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="c", image="busybox")],
                )
            )
        ),
    ),
)

nodes = core.list_node().items
pods = core.list_pod_for_all_namespaces().items
web = core.list_namespaced_pod("shop", label_selector="app=web").items
deployment = apps.read_namespaced_deployment("web", "shop")
counts = {
    "nodes": len(nodes),
    "namespaces": len(core.list_namespace().items),
    "pods": len(pods),
    "deployments": len(apps.list_deployment_for_all_namespaces().items),
    "replicasets": len(apps.list_replica_set_for_all_namespaces().items),
    "daemonsets": len(apps.list_daemon_set_for_all_namespaces().items),
    "statefulsets": len(apps.list_stateful_set_for_all_namespaces().items),
    "jobs": len(batch.list_job_for_all_namespaces().items),
    "configmaps": len(core.list_config_map_for_all_namespaces().items),
    "secrets": len(core.list_secret_for_all_namespaces().items),
    "services": len(core.list_service_for_all_namespaces().items),
    "hpas": len(hpa.list_horizontal_pod_autoscaler_for_all_namespaces().items),
    "crds": len(ext.list_custom_resource_definition().items),
    "mutating": len(adm.list_mutating_webhook_configuration().items),
    "validating": len(adm.list_validating_webhook_configuration().items),
}
istiod = apps.read_namespaced_deployment("istiod-asm-1-29", "aks-istio-system")
istiod_hpa = hpa.read_namespaced_horizontal_pod_autoscaler("istiod-asm-1-29", "aks-istio-system")
injector = core.read_namespaced_config_map("istio-sidecar-injector-asm-1-29", "aks-istio-system")
review = authz.create_self_subject_access_review(
    client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                namespace="shop", verb="create", group="apps", resource="deployments"
            )
        )
    )
)

print(
    json.dumps(
        {
            "counts": counts,
            "nodes": [n.metadata.name for n in nodes],
            "kubelet": nodes[0].status.node_info.kubelet_version,
            "webPods": [
                {
                    "name": p.metadata.name,
                    "phase": p.status.phase,
                    "containers": [c.name for c in p.spec.containers],
                    "initContainers": [
                        [c.name, c.restart_policy] for c in (p.spec.init_containers or [])
                    ],
                    "imageIDs": [s.image_id for s in p.status.container_statuses],
                    "owner": p.metadata.owner_references[0].kind,
                }
                for p in web
            ],
            "deployment": {
                "ready": deployment.status.ready_replicas,
                "available": [
                    c.status for c in deployment.status.conditions if c.type == "Available"
                ],
            },
            "istiodReady": istiod.status.ready_replicas,
            "istiodHpa": [istiod_hpa.spec.min_replicas, istiod_hpa.spec.max_replicas],
            "injectorKeys": sorted(injector.data.keys()),
            "allowed": review.status.allowed,
        }
    )
)
