//! [`TestServer`]: aksim inside your own tests, the way `wiremock::MockServer` is — started
//! in one line on a free port of 127.0.0.1, over HTTPS with a CA of its own, stopped when
//! dropped.
//!
//! ```
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = aksim::TestServer::start();
//! let sub = server.subscription();
//!
//! // A reqwest client that trusts the server's CA and sends a bearer token.
//! let created = server
//!     .client()
//!     .put(server.url(&format!("/subscriptions/{sub}/resourcegroups/rg1?api-version=2024-11-01")))
//!     .json(&serde_json::json!({"location": "eastus"}))
//!     .send()
//!     .await
//!     .unwrap();
//! assert_eq!(created.status(), 201);
//!
//! // An AKS cluster with the Istio add-on, and its kubeconfig (server URL, CA, token).
//! server.create_cluster("rg1", "c1", true).await.unwrap();
//! let kubeconfig = server.kubeconfig("rg1", "c1").await.unwrap();
//! assert!(kubeconfig.contains(&server.url("/k8s/")));
//!
//! // Virtual time and injected faults, without a request.
//! server.advance(Duration::from_secs(3600));
//! server
//!     .add_fault(serde_json::json!({"method": "GET", "times": 1,
//!                                   "action": {"type": "error", "status": 429}}))
//!     .unwrap();
//!
//! // Other clients: the CA as PEM text or as a file.
//! assert!(server.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(server.ca_path().exists());
//! # }
//! ```
//!
//! The server runs on a thread and runtime of its own, so it serves while the test blocks —
//! on a subprocess (az, kubectl), on a blocking client, or on a current-thread runtime.
//! [`TestServer::builder`] changes the [`Config`] (flags) first: `--auth strict`, another
//! catalogue, operation durations… Defaults are aksim's own (`aksim` without flags), on port 0
//! with a fresh TLS directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{AuthMode, Config};
use crate::state::AppState;

/// Virtual seconds the client's token lasts under `--auth strict` (a century).
const TEST_TOKEN_LIFETIME_SECS: i64 = 100 * 365 * 24 * 3600;

/// An aksim serving HTTPS on `127.0.0.1:<free port>` for one test; dropping it stops it (the
/// port closes at once, open connections get the usual grace).
pub struct TestServer {
    url: String,
    ca_pem: String,
    ca_path: PathBuf,
    state: AppState,
    client: reqwest::Client,
    token: String,
    tls_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Changes a [`TestServer`]'s configuration before it starts.
#[derive(Default)]
pub struct TestServerBuilder {
    config: Config,
}

impl TestServerBuilder {
    /// Edits the configuration (the flags `aksim` takes), e.g.
    /// `|c| c.auth = aksim::config::AuthMode::Strict`. The address and TLS directory are the
    /// server's own (127.0.0.1:0, a temporary directory); `http` is ignored (HTTPS always).
    pub fn config(mut self, edit: impl FnOnce(&mut Config)) -> Self {
        edit(&mut self.config);
        self
    }

    /// Starts the server; panics with the reason when it cannot (see [`Self::try_start`]).
    pub fn start(self) -> TestServer {
        self.try_start()
            .unwrap_or_else(|e| panic!("aksim TestServer: {e}"))
    }

    /// Starts the server, or says why it cannot (a bad configuration, no free port).
    pub fn try_start(self) -> Result<TestServer, String> {
        let tls_dir = tempfile::tempdir().map_err(|e| format!("a temporary TLS dir: {e}"))?;
        let mut config = self.config;
        config.addr = "127.0.0.1:0".parse().expect("static address");
        config.tls_dir = Some(tls_dir.path().to_path_buf());
        config.http = false;
        let prepared = crate::server::prepare(config)?;
        let tls = prepared.tls.ok_or("no TLS material")?;
        // Bound here, so the port accepts connections before the server thread even runs.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let url = format!("https://127.0.0.1:{port}");
        let state = prepared.state;
        let token = if state.config.auth == AuthMode::Strict {
            issue_token(&state)?
        } else {
            "aksim-test-token".to_owned()
        };
        let client = client_trusting(&tls.ca_pem, &token)?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = crate::http::app(state.clone());
        let server_config = tls.server_config;
        let thread = std::thread::Builder::new()
            .name(format!("aksim-test-server-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the TestServer's runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("the bound listener");
                    crate::server::serve(listener, Some(server_config), app, async {
                        let _ = stopped.await;
                    })
                    .await;
                });
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok(TestServer {
            url,
            ca_pem: tls.ca_pem,
            ca_path: tls.ca_path,
            state,
            client,
            token,
            tls_dir,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

/// A client that trusts exactly `ca_pem` and sends `Authorization: Bearer token` unless a
/// request sets its own.
fn client_trusting(ca_pem: &str, token: &str) -> Result<reqwest::Client, String> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| e.to_string())?;
    headers.insert(reqwest::header::AUTHORIZATION, bearer);
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())
}

/// A token the server's `--auth strict` accepts (ARM's audience, the tenant). Unlike the token
/// endpoint's (an hour), it lasts a century of virtual time, so a test that advances the clock
/// keeps its client; tests of expiry take tokens from the token endpoint.
fn issue_token(state: &AppState) -> Result<String, String> {
    let now = state.core.clock.now().unix_timestamp();
    let tenant = state.core.store.tenant_id().to_owned();
    let app = "11111111-2222-3333-4444-555555555555".to_owned();
    state.tokens.issue(&crate::identity::Claims {
        aud: "https://management.core.windows.net/".into(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now,
        nbf: now,
        exp: now + TEST_TOKEN_LIFETIME_SECS,
        appid: app.clone(),
        oid: app.clone(),
        sub: app,
        tid: tenant,
        idtyp: "app".into(),
        ver: "1.0".into(),
    })
}

impl TestServer {
    /// A server with aksim's default flags.
    pub fn start() -> TestServer {
        TestServer::builder().start()
    }

    /// A server with another configuration: `TestServer::builder().config(|c| …).start()`.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// `https://127.0.0.1:PORT` followed by `path` (`url("")` is the base URL).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The base URL, `https://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The CA certificate (PEM) a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate as a file (`ca.pem` in the server's temporary TLS directory).
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// The server's TLS directory (`--tls-dir`: the CA, its key and the token-signing key).
    pub fn tls_dir(&self) -> &Path {
        self.tls_dir.path()
    }

    /// A reqwest client that trusts the CA (and nothing else) and sends
    /// `Authorization: Bearer <token>` (see [`TestServer::token`]) unless a request sets one.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The client's bearer token: any string under `--auth any`; under `--auth strict` one
    /// signed by the server, valid for a century of virtual time (so advancing the clock does
    /// not expire it; get tokens from `/adfs/oauth2/token` to test expiry).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The subscription `GET /subscriptions` lists (`--subscription`).
    pub fn subscription(&self) -> String {
        self.state.core.settings.default_subscription.clone()
    }

    /// The tenant (`--tenant`).
    pub fn tenant(&self) -> &str {
        self.state.core.store.tenant_id()
    }

    /// The server's state, for anything the methods here do not cover (the journal, the store,
    /// durations…). What `/_sim` does, it does through this.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Moves virtual time forward: operations, registrations, tokens and namespace
    /// terminations due by then are done at the next look.
    pub fn advance(&self, by: Duration) {
        self.advance_by(time::Duration::try_from(by).unwrap_or(time::Duration::MAX));
    }

    fn advance_by(&self, by: time::Duration) {
        self.state.core.clock.advance(by);
    }

    /// Stops or restarts virtual time ([`TestServer::advance`] still moves a frozen clock).
    pub fn freeze_clock(&self, frozen: bool) {
        self.state.core.clock.set_frozen(frozen);
    }

    /// The virtual time now.
    pub fn now(&self) -> std::time::SystemTime {
        self.state.core.clock.now().into()
    }

    /// Arms a fault rule (the JSON `POST /_sim/faults` takes); its id, or why it is refused.
    pub fn add_fault(&self, rule: serde_json::Value) -> Result<String, String> {
        let spec: crate::control::faults::FaultSpec =
            serde_json::from_value(rule).map_err(|e| format!("invalid fault rule: {e}"))?;
        let id = format!("fault-{}", self.state.core.ids.hex(8));
        self.state.faults.add(spec, id).map(|rule| rule.id)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Creates an AKS cluster as `az aks create [--enable-azure-service-mesh]` does in the
    /// default subscription — registering Microsoft.ContainerService and creating the group
    /// if needed — and waits for it (moving virtual time as far as it takes); the cluster's
    /// JSON.
    pub async fn create_cluster(
        &self,
        resource_group: &str,
        name: &str,
        mesh: bool,
    ) -> Result<serde_json::Value, String> {
        let sub = self.subscription();
        let provider = format!("/subscriptions/{sub}/providers/Microsoft.ContainerService");
        self.call(
            "POST",
            &format!("{provider}/register?api-version=2024-11-01"),
            None,
        )
        .await?;
        let group =
            format!("/subscriptions/{sub}/resourcegroups/{resource_group}?api-version=2024-11-01");
        if self.call("GET", &group, None).await.is_err() {
            self.call(
                "PUT",
                &group,
                Some(serde_json::json!({"location": "eastus"})),
            )
            .await?;
        }
        // The registration and the create finish on the virtual clock: move it just as far.
        self.advance_by(self.state.core.registration_delay());
        let mut properties = serde_json::json!({
            "kubernetesVersion": "",
            "dnsPrefix": format!("{name}-{resource_group}"),
            "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "", "osType": "Linux",
                                   "mode": "System", "type": "VirtualMachineScaleSets"}],
        });
        if mesh {
            properties["serviceMeshProfile"] = serde_json::json!({"mode": "Istio", "istio": {}});
        }
        let cluster = format!(
            "/subscriptions/{sub}/resourceGroups/{resource_group}/providers/Microsoft.ContainerService/managedClusters/{name}?api-version=2026-06-01"
        );
        let body = serde_json::json!({"location": "eastus", "identity": {"type": "SystemAssigned"},
                                      "properties": properties});
        self.call("PUT", &cluster, Some(body)).await?;
        let create = self
            .state
            .core
            .durations
            .read()
            .for_kind(&crate::core::clusters::CREATE);
        self.advance_by(create);
        let created = self.call("GET", &cluster, None).await?;
        match created["properties"]["provisioningState"].as_str() {
            Some("Succeeded") => Ok(created),
            state => Err(format!("the cluster ended {state:?}: {created}")),
        }
    }

    /// The kubeconfig of a cluster in the default subscription (YAML, as
    /// `az aks get-credentials` writes it: server URL on this server, the CA embedded, a
    /// bearer token).
    pub async fn kubeconfig(&self, resource_group: &str, cluster: &str) -> Result<String, String> {
        let sub = self.subscription();
        let path = format!(
            "/subscriptions/{sub}/resourceGroups/{resource_group}/providers/Microsoft.ContainerService/managedClusters/{cluster}/listClusterUserCredential?api-version=2026-06-01"
        );
        let credentials = self.call("POST", &path, None).await?;
        let encoded = credentials["kubeconfigs"][0]["value"]
            .as_str()
            .ok_or("the credentials carry no kubeconfig")?;
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("the kubeconfig is not base64: {e}"))?;
        String::from_utf8(bytes).map_err(|e| format!("the kubeconfig is not UTF-8: {e}"))
    }

    /// One JSON request with the client; the body, or the status and body of a refusal.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Stops the server and waits until it has: the port is closed and open connections are
    /// done (dropping it stops it without waiting). Blocks the calling thread; in an async
    /// test, call it from `tokio::task::spawn_blocking` or `block_in_place`.
    pub fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .field("ca_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}
