//! `aksim record`: a recording proxy. Clients talk to it as they would to ARM; it forwards
//! every request to the upstream (real ARM, or another aksim), hands the answer back with the
//! upstream's origin rewritten to its own (so operation URLs and cloud metadata lead back
//! through the proxy), and appends each ARM exchange to a cassette in the format the Azure
//! CLI's tests record (`cassette`), written with the origin `https://management.azure.com`.
//!
//! ARM exchanges are those under `/subscriptions`, `/providers` and `/tenants`; log-in traffic
//! (cloud metadata, tokens, OpenID documents), `/_sim` and the clusters' Kubernetes APIs are
//! forwarded but not recorded. Unless `--no-sanitise`: subscription ids become
//! `00000000-0000-0000-0000-000000000000` (more than one: `00000000-0000-0000-0001-…`), and the
//! headers, JSON keys, kubeconfig credentials and token patterns of the rules' `sanitise`
//! section are replaced (docs/parity.md lists them).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::parity::cassette::{self, Headers, Interaction};
use crate::parity::rules::Sanitise;
use crate::parity::target::RECORDED_ORIGIN;

/// Largest request or response body the proxy passes on.
pub const PROXY_BODY_MAX: usize = 64 * 1024 * 1024;
/// Hop-by-hop headers never passed on.
const HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

/// How a recording proxy runs.
pub struct RecordOptions {
    /// The upstream's base URL (`https://management.azure.com`, `https://127.0.0.1:8443`).
    pub upstream: String,
    /// Certificates (PEM) the upstream's TLS certificate may chain to.
    pub upstream_ca: Vec<u8>,
    /// The cassette file to write (must not exist yet).
    pub out: PathBuf,
    pub sanitise: Option<Sanitise>,
}

/// The proxy's state, shared by its connections.
pub struct Recorder {
    upstream: String,
    client: reqwest::Client,
    out: PathBuf,
    sanitise: Option<Sanitise>,
    inner: Mutex<Written>,
}

struct Written {
    /// Subscription ids seen (lower case), in order; the n-th gets the n-th placeholder.
    subscriptions: Vec<String>,
    count: usize,
}

impl Recorder {
    /// Creates the cassette file (`version: 1`, empty `interactions`).
    pub fn new(options: RecordOptions) -> Result<Arc<Recorder>, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(300));
        if !options.upstream_ca.is_empty() {
            let certs = reqwest::Certificate::from_pem_bundle(&options.upstream_ca)
                .map_err(|e| format!("the upstream CA bundle: {e}"))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(dir) = options.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&options.out)
            .map_err(|e| format!("{}: {e}", options.out.display()))?;
        use std::io::Write;
        file.write_all(
            b"# Recorded by `aksim record` (docs/parity.md). vcrpy cassette format.\nversion: 1\ninteractions:\n",
        )
        .map_err(|e| format!("{}: {e}", options.out.display()))?;
        Ok(Arc::new(Recorder {
            upstream: options.upstream.trim_end_matches('/').to_owned(),
            client: builder.build().map_err(|e| e.to_string())?,
            out: options.out,
            sanitise: options.sanitise,
            inner: Mutex::new(Written {
                subscriptions: Vec::new(),
                count: 0,
            }),
        }))
    }

    /// The cassette being written.
    pub fn path(&self) -> &Path {
        &self.out
    }

    /// Interactions written so far.
    pub fn count(&self) -> usize {
        self.inner.lock().count
    }

    async fn handle(
        &self,
        request: hyper::Request<Incoming>,
        scheme: &str,
    ) -> hyper::Response<Full<Bytes>> {
        match self.forward(request, scheme).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "record: the upstream could not answer");
                let body = serde_json::json!({"error": {"code": "BadGateway", "message": format!("aksim record: {e}")}});
                let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
                *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json"),
                );
                r
            }
        }
    }

    async fn forward(
        &self,
        request: hyper::Request<Incoming>,
        scheme: &str,
    ) -> Result<hyper::Response<Full<Bytes>>, String> {
        let (parts, body) = request.into_parts();
        let own_origin = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .map(|h| format!("{scheme}://{h}"))
            .unwrap_or_default();
        let body = Limited::new(body, PROXY_BODY_MAX)
            .collect()
            .await
            .map_err(|e| format!("reading the request: {e}"))?
            .to_bytes();
        let path_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let mut upstream = self.client.request(
            parts.method.clone(),
            format!("{}{path_query}", self.upstream),
        );
        for (k, v) in &parts.headers {
            let name = k.as_str();
            if !HOP.contains(&name) && name != "accept-encoding" {
                upstream = upstream.header(k, v);
            }
        }
        if !body.is_empty() {
            upstream = upstream.body(body.clone());
        }
        let answer = upstream.send().await.map_err(|e| {
            format!(
                "{}{path_query}: {}",
                self.upstream,
                crate::parity::error_chain(&e)
            )
        })?;
        let status = answer.status();
        let headers: Vec<(String, String)> = answer
            .headers()
            .iter()
            .filter(|(k, _)| !HOP.contains(&k.as_str()))
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let answer_body = answer
            .bytes()
            .await
            .map_err(|e| format!("reading the upstream's answer: {e}"))?;
        if answer_body.len() > PROXY_BODY_MAX {
            return Err(format!(
                "the upstream's answer has {} bytes; the proxy passes at most {PROXY_BODY_MAX}",
                answer_body.len()
            ));
        }
        // The client's view: the upstream's origin is ours.
        let mut response = hyper::Response::new(Full::new(rewrite_bytes(
            &answer_body,
            &self.upstream,
            &own_origin,
        )));
        *response.status_mut() = status;
        for (k, v) in &headers {
            let value = v.replace(&self.upstream, &own_origin);
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(&value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        if is_arm(parts.uri.path()) {
            let request_headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "host" | "transfer-encoding" | "connection"))
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let exchange = Exchange {
                method: parts.method.as_str().to_owned(),
                path_query,
                request_headers,
                request_body: (!body.is_empty())
                    .then(|| String::from_utf8_lossy(&body).into_owned()),
                status: status.as_u16(),
                message: status.canonical_reason().unwrap_or("").to_owned(),
                response_headers: headers,
                response_body: String::from_utf8_lossy(&answer_body).into_owned(),
            };
            self.write(exchange)?;
        }
        Ok(response)
    }

    fn write(&self, exchange: Exchange) -> Result<(), String> {
        let mut inner = self.inner.lock();
        let interaction = match &self.sanitise {
            Some(s) => exchange.sanitised(s, &self.upstream, &mut inner.subscriptions),
            None => exchange.into_interaction(&self.upstream, &[]),
        };
        let text = cassette::item_yaml(&interaction)?;
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.out)
            .map_err(|e| format!("{}: {e}", self.out.display()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", self.out.display()))?;
        inner.count += 1;
        Ok(())
    }
}

/// Whether a path is ARM's (recorded) rather than log-in, control or Kubernetes traffic.
pub fn is_arm(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["/subscriptions", "/providers", "/tenants"]
        .iter()
        .any(|p| {
            lower == *p
                || lower.starts_with(&format!("{p}/"))
                || lower.starts_with(&format!("{p}?"))
        })
}

fn rewrite_bytes(body: &[u8], from: &str, to: &str) -> Bytes {
    match std::str::from_utf8(body) {
        Ok(text) if text.contains(from) => Bytes::from(text.replace(from, to)),
        _ => Bytes::copy_from_slice(body),
    }
}

/// One exchange as the proxy saw it.
struct Exchange {
    method: String,
    path_query: String,
    request_headers: Vec<(String, String)>,
    request_body: Option<String>,
    status: u16,
    message: String,
    response_headers: Vec<(String, String)>,
    response_body: String,
}

/// The `n`-th subscription's placeholder.
fn placeholder_subscription(n: usize) -> String {
    if n == 0 {
        crate::parity::plan::ZERO_SUBSCRIPTION.to_owned()
    } else {
        format!("00000000-0000-0000-0001-{n:012x}")
    }
}

fn subscription_in_path(path: &str) -> Option<String> {
    let mut segs = path.split(['/', '?']).filter(|s| !s.is_empty());
    while let Some(s) = segs.next() {
        if s.eq_ignore_ascii_case("subscriptions") {
            let id = segs.next()?;
            return uuid::Uuid::parse_str(id)
                .ok()
                .map(|u| u.hyphenated().to_string());
        }
    }
    None
}

fn subscription_ids_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k.eq_ignore_ascii_case("subscriptionId") {
                    if let Some(id) = v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()) {
                        out.push(id.hyphenated().to_string());
                    }
                }
                subscription_ids_in(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| subscription_ids_in(v, out)),
        _ => {}
    }
}

fn replace_ignoring_case(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !lower.contains(from) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(from) {
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + from.len();
    }
    out.push_str(&text[last..]);
    out
}

impl Exchange {
    fn into_interaction(self, upstream: &str, map: &[(String, String)]) -> Interaction {
        let fix = |text: &str| {
            let mut out = text.replace(upstream, RECORDED_ORIGIN);
            for (from, to) in map {
                out = replace_ignoring_case(&out, from, to);
            }
            out
        };
        let headers = |list: &[(String, String)]| {
            let mut h = Headers::default();
            for (k, v) in list {
                h.push(k, &fix(v));
            }
            h
        };
        Interaction {
            request: cassette::Request {
                body: self.request_body.as_deref().map(fix),
                headers: headers(&self.request_headers),
                method: self.method,
                uri: format!("{RECORDED_ORIGIN}{}", fix(&self.path_query)),
            },
            response: cassette::Response {
                body: cassette::ResponseBody {
                    string: fix(&self.response_body),
                },
                headers: headers(&self.response_headers),
                status: cassette::Status {
                    code: self.status,
                    message: self.message,
                },
            },
        }
    }

    fn sanitised(mut self, s: &Sanitise, upstream: &str, seen: &mut Vec<String>) -> Interaction {
        // Subscription ids: in the path, and in `subscriptionId` fields of either body.
        let mut found: Vec<String> = subscription_in_path(&self.path_query).into_iter().collect();
        for body in [
            self.request_body.as_deref(),
            Some(self.response_body.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            if let Ok(v) = serde_json::from_str::<Value>(body) {
                subscription_ids_in(&v, &mut found);
            }
        }
        for id in found {
            if !seen.contains(&id) && id != crate::parity::plan::ZERO_SUBSCRIPTION {
                seen.push(id);
            }
        }
        let map: Vec<(String, String)> = seen
            .iter()
            .enumerate()
            .map(|(n, id)| (id.clone(), placeholder_subscription(n)))
            .collect();
        self.request_headers
            .retain(|(k, _)| !s.request_headers.contains(&k.to_ascii_lowercase()));
        self.response_headers
            .retain(|(k, _)| !s.response_headers.contains(&k.to_ascii_lowercase()));
        self.request_body = self.request_body.map(|b| sanitise_body(&b, s));
        self.response_body = sanitise_body(&self.response_body, s);
        for (_, v) in self
            .request_headers
            .iter_mut()
            .chain(self.response_headers.iter_mut())
        {
            *v = sanitise_text(v, s);
        }
        self.into_interaction(upstream, &map)
    }
}

fn sanitise_text(text: &str, s: &Sanitise) -> String {
    let mut out = text.to_owned();
    for re in &s.patterns {
        if re.is_match(&out) {
            out = re.replace_all(&out, s.placeholder.as_str()).into_owned();
        }
    }
    out
}

/// A JSON body with its secret keys (and kubeconfig credentials) replaced; any other text
/// only has the patterns replaced.
fn sanitise_body(body: &str, s: &Sanitise) -> String {
    let Ok(mut json) = serde_json::from_str::<Value>(body) else {
        return sanitise_text(body, s);
    };
    if sanitise_json(&mut json, s) {
        sanitise_text(&json.to_string(), s)
    } else {
        sanitise_text(body, s)
    }
}

/// Replaces secrets in place; whether anything changed.
fn sanitise_json(v: &mut Value, s: &Sanitise) -> bool {
    let mut changed = false;
    match v {
        Value::Object(m) => {
            let is_kubeconfig = m.get("name").and_then(Value::as_str).is_some()
                && m.get("value").and_then(Value::as_str).is_some()
                && m.len() == 2;
            for (k, child) in m.iter_mut() {
                if child.is_string() && s.json_keys.iter().any(|j| j.eq_ignore_ascii_case(k)) {
                    *child = Value::String(s.placeholder.clone());
                    changed = true;
                } else if is_kubeconfig && k == "value" {
                    if let Some(text) = child.as_str() {
                        let clean = sanitise_kubeconfig(text, s);
                        if clean != text {
                            *child = Value::String(clean);
                            changed = true;
                        }
                    }
                } else {
                    changed |= sanitise_json(child, s);
                }
            }
        }
        Value::Array(a) => {
            for child in a {
                changed |= sanitise_json(child, s);
            }
        }
        _ => {}
    }
    changed
}

/// A base64 kubeconfig with its users' credentials replaced (the whole value if it cannot be
/// read as one).
fn sanitise_kubeconfig(b64: &str, s: &Sanitise) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let Some(mut config) = engine
        .decode(b64)
        .ok()
        .and_then(|d| yaml_serde::from_slice::<Value>(&d).ok())
    else {
        return engine.encode(&s.placeholder);
    };
    if let Some(users) = config.get_mut("users").and_then(Value::as_array_mut) {
        for user in users {
            if let Some(Value::Object(fields)) = user.get_mut("user") {
                for (k, v) in fields.iter_mut() {
                    if s.kubeconfig_keys.iter().any(|key| key == k) {
                        *v = Value::String(s.placeholder.clone());
                    }
                }
            }
        }
    }
    match yaml_serde::to_string(&config) {
        Ok(text) => engine.encode(text),
        Err(_) => engine.encode(&s.placeholder),
    }
}

/// Serves the proxy on `listener` (HTTPS with `tls`) until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    recorder: Arc<Recorder>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "record: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let recorder = recorder.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let scheme = if acceptor.is_some() { "https" } else { "http" };
            let service = hyper::service::service_fn(move |request| {
                let recorder = recorder.clone();
                async move { Ok::<_, std::convert::Infallible>(recorder.handle(request, scheme).await) }
            });
            let builder = Builder::new(TokioExecutor::new());
            match acceptor {
                Some(acceptor) => {
                    let Ok(Ok(tls)) = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    else {
                        return;
                    };
                    let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::rules::Rules;

    #[test]
    fn arm_paths_are_recorded() {
        assert!(is_arm("/subscriptions"));
        assert!(is_arm("/subscriptions/x/resourcegroups/y"));
        assert!(is_arm("/providers/Microsoft.ContainerService/operations"));
        assert!(is_arm("/tenants"));
        assert!(!is_arm("/metadata/endpoints"));
        assert!(!is_arm("/adfs/oauth2/token"));
        assert!(!is_arm("/_sim/health"));
        assert!(!is_arm("/k8s/s/rg/c/api"));
        assert!(!is_arm("/subscriptionsx"));
    }

    #[test]
    fn sanitises_subscriptions_secrets_and_tokens() {
        let rules = Rules::embedded();
        let sub = "6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00";
        let kubeconfig = base64::engine::general_purpose::STANDARD.encode(
            "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: abc\n    client-key-data: xyz\n",
        );
        let exchange = Exchange {
            method: "PUT".into(),
            path_query: format!(
                "/subscriptions/{}/resourcegroups/rg?api-version=1",
                sub.to_uppercase()
            ),
            request_headers: vec![
                (
                    "authorization".into(),
                    "Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlc2ln".into(),
                ),
                ("user-agent".into(), "az".into()),
            ],
            request_body: Some(
                r#"{"properties": {"servicePrincipalProfile": {"secret": "hunter2"}}}"#.into(),
            ),
            status: 200,
            message: "OK".into(),
            response_headers: vec![(
                "location".into(),
                format!("https://127.0.0.1:9/subscriptions/{sub}/x"),
            )],
            response_body: format!(
                r#"{{"id": "/subscriptions/{sub}/rg", "kubeconfigs": [{{"name": "clusterUser", "value": "{kubeconfig}"}}], "note": "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlc2ln"}}"#
            ),
        };
        let mut seen = Vec::new();
        let i = exchange.sanitised(&rules.sanitise, "https://127.0.0.1:9", &mut seen);
        let text = cassette::item_yaml(&i).unwrap();
        assert!(!text.to_ascii_lowercase().contains(sub), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("eyJhbGci"), "{text}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{text}"
        );
        assert!(!text.contains("127.0.0.1"), "{text}");
        assert_eq!(
            i.request.uri,
            "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg?api-version=1"
        );
        let body: Value = serde_json::from_str(&i.response.body.string).unwrap();
        let config = base64::engine::general_purpose::STANDARD
            .decode(body["kubeconfigs"][0]["value"].as_str().unwrap())
            .unwrap();
        let config = String::from_utf8(config).unwrap();
        assert!(config.contains("token: sanitised"), "{config}");
        assert!(!config.contains("xyz"), "{config}");
        assert_eq!(
            placeholder_subscription(2),
            "00000000-0000-0000-0001-000000000002"
        );
    }
}
