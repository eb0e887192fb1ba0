//! `spawn_sim`: aksim in-process over real HTTPS on `127.0.0.1:0`, one server per test — an
//! [`aksim::TestServer`] (the embedding API tool authors use) with the harness's defaults.

use std::path::PathBuf;

use aksim::AppState;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running aksim (an [`aksim::TestServer`] with the harness's defaults). Dropping it stops
/// the server.
pub struct SimHandle {
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The CA certificate clients must trust (`<tls dir>/ca.pem`).
    pub ca_path: PathBuf,
    pub ca_pem: String,
    /// The server's state: `state.core.clock.advance(..)` moves virtual time.
    pub state: AppState,
    /// Trusts only aksim's CA; ALPN offers h2 and http/1.1; sends no token of its own.
    pub client: reqwest::Client,
    server: aksim::TestServer,
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
    let server = aksim::TestServer::builder()
        .config(|config| {
            config.seed = Some(1);
            config.op_durations = vec!["default=0".to_owned()];
            tweak(config);
        })
        .start();
    SimHandle {
        base_url: server.base_url().to_owned(),
        ca_path: server.ca_path().to_path_buf(),
        ca_pem: server.ca_pem().to_owned(),
        state: server.state().clone(),
        client: client_trusting(server.ca_pem(), false),
        server,
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
        self.server.tls_dir()
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
    pub async fn stop(self) {
        let server = self.server;
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .expect("the server stops cleanly");
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
