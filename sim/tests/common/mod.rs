//! In-process test harness: requests go through `aksim::app(state)` with `oneshot`, no sockets.
#![allow(dead_code)]

pub mod aks;
pub mod kube;
pub mod kubectl;
pub mod props;

use aksim::AppState;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

pub const SUB: &str = "00000000-0000-0000-0000-000000000001";

pub struct Sim {
    pub state: AppState,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// `error.code` of an ARM error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Sim {
    pub fn new() -> Self {
        Sim {
            state: AppState::for_tests(),
        }
    }

    /// A simulator with a custom configuration (e.g. another AKS catalogue).
    pub fn with_config(config: aksim::Config) -> Self {
        Sim {
            state: AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None)
                .expect("valid test config"),
        }
    }

    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        self.call_with(method, uri, body, &[("authorization", "Bearer test")])
            .await
    }

    pub async fn call_with(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "sim.test");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&b).unwrap()))
                .unwrap(),
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

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None).await
    }
    pub async fn put(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::PUT, uri, Some(body)).await
    }
    pub async fn post(&self, uri: &str) -> Reply {
        self.call(Method::POST, uri, None).await
    }
    pub async fn patch(&self, uri: &str, body: Value) -> Reply {
        self.call(Method::PATCH, uri, Some(body)).await
    }
    pub async fn delete(&self, uri: &str) -> Reply {
        self.call(Method::DELETE, uri, None).await
    }

    /// Moves the virtual clock.
    pub fn advance(&self, seconds: f64) {
        self.state
            .core
            .clock
            .advance(time::Duration::seconds_f64(seconds));
    }
}
