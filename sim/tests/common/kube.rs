//! Helpers for the Kubernetes plane: create a plane in the store, call its API in-process,
//! and (for the real-client tests) run the HTTPS server on 127.0.0.1:0.

use aksim::core::clusters::cluster_key;
use aksim::core::kube::{MeshView, Plane};
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::Value;
use tower::ServiceExt;

use super::{Reply, Sim, SUB};

/// The bearer token of the test planes.
pub const TOKEN: &str = "kube-test-token";
pub const RG: &str = "rg1";
pub const CLUSTER: &str = "c1";

/// `/k8s/{SUB}/rg1/c1{path}`.
pub fn k8s(path: &str) -> String {
    format!("/k8s/{SUB}/{RG}/{CLUSTER}{path}")
}

/// A view with the add-on enabled at `revisions`.
pub fn enabled(revisions: &[&str]) -> MeshView {
    MeshView {
        enabled: true,
        revisions: revisions.iter().map(|r| (*r).to_owned()).collect(),
        ..MeshView::default()
    }
}

impl Sim {
    /// Creates the plane of rg1/c1 reporting `version`, with no namespace termination delay
    /// unless `delay` says otherwise.
    pub fn plane(&self, version: &str) {
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            s.clusters
                .planes
                .insert(cluster_key(RG, CLUSTER), Plane::new(version, TOKEN, now))
        });
    }

    /// Runs `f` on the plane of rg1/c1.
    pub fn with_plane<R>(&self, f: impl FnOnce(&mut Plane) -> R) -> R {
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            f(s.clusters
                .planes
                .get_mut(&cluster_key(RG, CLUSTER))
                .expect("the test plane exists"))
        })
    }

    /// Makes the test subscription see the AKS of `day` (`YYYY-MM-DD`), as a sandbox with an
    /// `azureDate` does.
    pub fn set_azure_date(&self, day: &str) {
        let t = aksim::core::timeline::timeline();
        let d = t.check_day(day, "day").expect("a day aksim knows");
        self.state
            .core
            .sandboxes
            .set(SUB, aksim::core::timeline::Behaviour::at(d));
    }

    /// What the managed-cluster code does after a mesh change.
    pub fn reconcile(&self, view: &MeshView) {
        let now = self.state.core.clock.now();
        self.with_plane(|p| p.reconcile_addon(view, now));
    }

    /// A request to the plane with the right token.
    pub async fn kube(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.kube_raw(method, path, Some("application/json"), bytes, &[])
            .await
    }

    pub async fn kget(&self, path: &str) -> Reply {
        self.kube(Method::GET, path, None).await
    }

    pub async fn kpost(&self, path: &str, body: Value) -> Reply {
        self.kube(Method::POST, path, Some(body)).await
    }

    /// A PATCH with an explicit content type.
    pub async fn kpatch(&self, path: &str, content_type: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.kube_raw(Method::PATCH, path, Some(content_type), Some(bytes), &[])
            .await
    }

    /// The general form: raw body, content type, extra headers (the token is added unless an
    /// `authorization` header is given).
    pub async fn kube_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(k8s(path))
            .header("host", "sim.test");
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            builder = builder.header("authorization", format!("Bearer {TOKEN}"));
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = match body {
            Some(b) => {
                if let Some(ct) = content_type {
                    builder = builder.header("content-type", ct);
                }
                builder.body(Body::from(b)).unwrap()
            }
            None => builder.body(Body::empty()).unwrap(),
        };
        let response = aksim::app(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }
}

/// A real HTTPS aksim on 127.0.0.1:0 with its TLS material in a temp dir.
pub struct Server {
    pub state: aksim::AppState,
    pub base: String,
    pub tls_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub async fn start() -> Server {
        let tls_dir = tempfile::tempdir().unwrap();
        let mut config = aksim::Config::for_tests();
        config.http = false;
        config.tls_dir = Some(tls_dir.path().to_path_buf());
        let prepared = aksim::prepare(config).expect("prepare");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = prepared.tls.as_ref().map(|t| t.server_config.clone());
        let state = prepared.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = aksim::app(state.clone());
        tokio::spawn(aksim::serve(listener, tls, app, async move {
            let _ = rx.await;
        }));
        Server {
            state,
            base: format!("https://127.0.0.1:{}", addr.port()),
            tls_dir,
            shutdown: Some(tx),
        }
    }

    /// Creates plane rg1/c1 with `version`.
    pub fn plane(&self, version: &str) {
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            s.clusters
                .planes
                .insert(cluster_key(RG, CLUSTER), Plane::new(version, TOKEN, now))
        });
    }

    pub fn with_plane<R>(&self, f: impl FnOnce(&mut Plane) -> R) -> R {
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            f(s.clusters
                .planes
                .get_mut(&cluster_key(RG, CLUSTER))
                .expect("the test plane exists"))
        })
    }

    pub fn reconcile(&self, view: &MeshView) {
        let now = self.state.core.clock.now();
        self.with_plane(|p| p.reconcile_addon(view, now));
    }

    pub fn server_url(&self) -> String {
        aksim::kubeapi::server_url(&self.base, SUB, RG, CLUSTER)
    }

    pub fn ca_path(&self) -> std::path::PathBuf {
        self.tls_dir.path().join("ca.pem")
    }

    /// A kubeconfig file for the plane, written into `dir`.
    pub fn write_kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: c1\n  context:\n    cluster: c1\n    user: clusterUser_rg1_c1\ncurrent-context: c1\nusers:\n- name: clusterUser_rg1_c1\n  user:\n    token: {TOKEN}\n",
            self.server_url(),
            self.ca_path().display()
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
