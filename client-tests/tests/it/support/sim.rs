//! `spawn_sim`: aksim in-process over real HTTPS on `127.0.0.1:0`, one server per test.

use std::path::PathBuf;

use aksim::AppState;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running aksim. Dropping it stops the server (open connections get up to 5 s).
pub struct SimHandle {
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The CA certificate clients must trust (`<tls dir>/ca.pem`).
    pub ca_path: PathBuf,
    pub ca_pem: String,
    /// The server's state: `state.core.clock.advance(..)` moves virtual time.
    pub state: AppState,
    /// Trusts only aksim's CA; ALPN offers h2 and http/1.1.
    pub client: reqwest::Client,
    tls_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// One HTTP exchange, read fully.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub version: reqwest::Version,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as JSON, `Value::Null` when it is not JSON.
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an ARM error body ("" when there is none).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts an ARM error: status, code, the envelope's shape and ARM's headers.
    #[track_caller]
    pub fn assert_arm_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:#?}");
        assert_eq!(self.code(), code, "{self:#?}");
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "an ARM error carries a message: {self:#?}"
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{self:#?}"
        );
        assert!(self.header("x-ms-request-id").is_some(), "{self:#?}");
        assert!(
            self.header("x-ms-correlation-request-id").is_some(),
            "{self:#?}"
        );
    }
}

/// Starts aksim with the harness defaults (HTTPS, seed 1, operations done at the first poll,
/// `--auth any`), changed by `tweak`.
pub async fn spawn_sim(tweak: impl FnOnce(&mut aksim::Config)) -> SimHandle {
    let tls_dir = tempfile::tempdir().expect("temp dir for the TLS material");
    let mut config = aksim::Config {
        addr: "127.0.0.1:0".parse().expect("static address"),
        tls_dir: Some(tls_dir.path().to_path_buf()),
        http: false,
        seed: Some(1),
        op_durations: vec!["default=0".to_owned()],
        ..aksim::Config::default()
    };
    tweak(&mut config);
    let prepared = aksim::prepare(config).expect("aksim prepares its state and TLS material");
    let tls = prepared
        .tls
        .expect("the harness always serves HTTPS: clients refuse bearer tokens over http");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let (tx, rx) = oneshot::channel::<()>();
    let app = aksim::app(prepared.state.clone());
    let task = tokio::spawn(aksim::serve(
        listener,
        Some(tls.server_config),
        app,
        async {
            let _ = rx.await;
        },
    ));
    let client = client_trusting(&tls.ca_pem, false);
    SimHandle {
        base_url: format!("https://127.0.0.1:{port}"),
        ca_path: tls.ca_path,
        ca_pem: tls.ca_pem,
        state: prepared.state,
        client,
        tls_dir,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A reqwest client that trusts exactly `ca_pem` (no built-in roots).
pub fn client_trusting(ca_pem: &str, http1_only: bool) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("aksim's CA parses");
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30));
    if http1_only {
        builder = builder.http1_only();
    }
    builder.build().expect("reqwest client")
}

impl SimHandle {
    /// `base_url` + `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    /// The TLS directory (holds `ca.pem`; removed when the handle drops).
    pub fn tls_dir(&self) -> &std::path::Path {
        self.tls_dir.path()
    }

    /// Sends one request with `Authorization: Bearer test` (what `--auth any` wants).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth("test");
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// POSTs a JSON body to a `/_sim` control endpoint.
    pub async fn control(&self, path: &str, body: &str) -> Reply {
        send(
            self.client
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    /// Moves the virtual clock forward.
    pub fn advance(&self, seconds: f64) {
        self.state
            .core
            .clock
            .advance(time::Duration::seconds_f64(seconds));
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server task ends cleanly");
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Sends a request and reads the whole reply; a transport error fails the test.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the request reaches aksim");
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let text = response.text().await.expect("the body is readable");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        version,
        headers,
        text,
        body,
    }
}
