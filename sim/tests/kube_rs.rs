//! kube-rs (client + runtime watcher, rustls with ring) against a real HTTPS aksim on
//! 127.0.0.1:0: typed `Api<Namespace>` list/patch/watch, `Api<Pod>` with sidecar injection,
//! and a `DynamicObject` for an Istio kind found through discovery.

mod common;

use std::time::Duration;

use common::kube::{enabled, Server, TOKEN};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Client;
use serde_json::json;

async fn client(server: &Server) -> Client {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: c1\n  context:\n    cluster: c1\n    user: u\ncurrent-context: c1\nusers:\n- name: u\n  user:\n    token: {TOKEN}\n",
        server.server_url(),
        server.ca_path().display()
    );
    let kubeconfig = Kubeconfig::from_yaml(&text).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    Client::try_from(config).expect("client")
}

fn names<K: kube::Resource>(items: &[K]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.meta().name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_namespaces_list_patch_and_watch() {
    let server = Server::start().await;
    server.plane("1.33.2");
    let client = client(&server).await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.minor, "33");

    let nss: Api<Namespace> = Api::all(client.clone());
    let list = nss.list(&ListParams::default()).await.expect("list");
    assert_eq!(
        names(&list.items),
        vec!["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let paged = nss
        .list(&ListParams::default().limit(2))
        .await
        .expect("page");
    assert_eq!(paged.items.len(), 2);
    assert!(paged.metadata.continue_.is_some());

    let patched = nss
        .patch(
            "default",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"istio.io/rev": "asm-1-26"}}})),
        )
        .await
        .expect("patch");
    assert_eq!(patched.metadata.labels.unwrap()["istio.io/rev"], "asm-1-26");
    let selected = nss
        .list(&ListParams::default().labels("istio.io/rev=asm-1-26"))
        .await
        .unwrap();
    assert_eq!(names(&selected.items), vec!["default"]);

    let missing = nss.get("nosuch").await.unwrap_err();
    match missing {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 404);
            assert_eq!(e.reason, "NotFound");
            assert_eq!(e.message, "namespaces \"nosuch\" not found");
        }
        other => panic!("unexpected error {other:?}"),
    }

    // A watcher sees the add-on namespace appear when the mesh is enabled.
    let mut stream = watcher(nss.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let mut seen_default = false;
    let mut reconciled = false;
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(item) = stream.next().await {
            let ns = item.expect("watch item");
            let name = ns.metadata.name.clone().unwrap_or_default();
            if name == "default" {
                seen_default = true;
            }
            if seen_default && !reconciled {
                reconciled = true;
                server.reconcile(&enabled(&["asm-1-26"]));
            }
            if name == "aks-istio-system" {
                return true;
            }
        }
        false
    })
    .await
    .expect("the watcher saw aks-istio-system within 20 s");
    assert!(found);

    let created = nss
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap(),
        )
        .await
        .expect("create");
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    nss.delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = nss.get("team-a").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_and_dynamic_istio_objects() {
    let server = Server::start().await;
    server.plane("1.33.2");
    server.reconcile(&enabled(&["asm-1-26"]));
    let client = client(&server).await;

    let nss: Api<Namespace> = Api::all(client.clone());
    nss.patch(
        "default",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"istio.io/rev": "asm-1-26"}}})),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]}
    }))
    .unwrap();
    let created = pods
        .create(&PostParams::default(), &pod)
        .await
        .expect("pod");
    let spec = created.spec.unwrap();
    let containers: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    assert_eq!(containers, vec!["app", "istio-proxy"]);
    assert_eq!(spec.init_containers.unwrap()[0].name, "istio-init");
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Running"));
    let listed = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&listed.items), vec!["web"]);
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("web").await.unwrap().is_none());

    // A VirtualService through discovery and DynamicObject.
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService");
    let (resource, _caps) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .expect("discovery finds VirtualService");
    assert_eq!(resource.plural, "virtualservices");
    let vss: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let mut vs = DynamicObject::new("reviews", &resource);
    vs.data = json!({"spec": {"hosts": ["reviews"]}});
    let created = vss.create(&PostParams::default(), &vs).await.expect("vs");
    assert_eq!(created.data["spec"]["hosts"][0], "reviews");
    let all = vss.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 1);

    // A blocked kind is refused by the add-on's webhook (400, empty reason).
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1beta1", "ProxyConfig");
    let (resource, _) = kube::discovery::pinned_kind(&client, &gvk).await.unwrap();
    let pcs: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let err = pcs
        .create(&PostParams::default(), &DynamicObject::new("pc", &resource))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 400);
            assert_eq!(e.reason, "");
            assert!(e.message.starts_with(
                "admission webhook \"azure-service-mesh-ccp-validating-webhook.azmk8s.io\" denied the request"
            ));
        }
        other => panic!("unexpected error {other:?}"),
    }
}
