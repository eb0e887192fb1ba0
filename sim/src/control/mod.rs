//! The simulator's own control API under `/_sim` (never part of ARM's surface): health,
//! reset, the virtual clock, operation durations and `/_sim/info`.
//!
//! Errors use the ARM envelope with code `InvalidControlRequest`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::arm::error::ArmError;
use crate::arm::lro::Durations;
use crate::clock::rfc3339;
use crate::limits;
use crate::providers::resources::parse_subscription_id;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/info", get(info))
        .route("/reset", post(reset_all))
        .route("/reset/{subscription}", post(reset_one))
        .route("/clock", get(clock))
        .route("/clock/advance", post(clock_advance))
        .route("/clock/freeze", post(clock_freeze))
        .route("/clock/unfreeze", post(clock_unfreeze))
        .route("/operations/durations", get(durations).put(set_durations))
        .fallback(unknown)
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, "InvalidControlRequest", message)
}

/// Parses a JSON body into `T`, refusing unknown fields and junk with a 400.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ArmError> {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| bad(format!("invalid request body: {e}")))
}

fn clock_json(state: &AppState) -> serde_json::Value {
    serde_json::json!({
        "now": rfc3339(state.clock.now()),
        "offsetSeconds": state.clock.offset_secs(),
        "frozen": state.clock.is_frozen(),
    })
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs_f64(),
        "clock": clock_json(&state),
    }))
}

async fn info(State(state): State<AppState>) -> Json<serde_json::Value> {
    let providers: Vec<serde_json::Value> = state
        .catalog
        .providers
        .iter()
        .map(|p| {
            serde_json::json!({
                "namespace": p.namespace,
                "resourceTypes": p.resource_types.iter().map(|t| serde_json::json!({
                    "resourceType": t.resource_type,
                    "apiVersions": t.api_versions,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "tenantId": state.store.tenant_id(),
        "defaultSubscriptionId": state.default_subscription(),
        "auth": format!("{:?}", state.config.auth).to_lowercase(),
        "seed": state.ids.seed(),
        "scheme": state.config.scheme(),
        "providers": providers,
        "locations": state.catalog.locations,
        "operationDurations": state.durations.read().as_json(),
        "limits": limits::as_json(),
        "rules": crate::providers::container_service::rules::as_json(),
        "aksCatalog": {
            "name": state.aks_catalog.name,
            "description": state.aks_catalog.description,
        },
        "clock": clock_json(&state),
    }))
}

async fn reset_all(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.reset();
    Json(serde_json::json!({ "reset": "all" }))
}

async fn reset_one(State(state): State<AppState>, Path(sub): Path<String>) -> Response {
    match parse_subscription_id(&sub) {
        Ok(id) => {
            let had_state = state.store.remove(&id);
            Json(serde_json::json!({ "reset": id, "hadState": had_state })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn clock(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(clock_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn clock_advance(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let advance: Advance = match parse(&body) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    if !advance.seconds.is_finite()
        || advance.seconds < 0.0
        || advance.seconds > limits::CLOCK_ADVANCE_MAX_SECS
    {
        return bad(format!(
            "seconds must be a number from 0 to {}; the clock only moves forward",
            limits::CLOCK_ADVANCE_MAX_SECS
        ))
        .into_response();
    }
    state
        .clock
        .advance(time::Duration::seconds_f64(advance.seconds));
    Json(clock_json(&state)).into_response()
}

async fn clock_freeze(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.clock.set_frozen(true);
    Json(clock_json(&state))
}

async fn clock_unfreeze(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.clock.set_frozen(false);
    Json(clock_json(&state))
}

async fn durations(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.durations.read().as_json())
}

/// Body: `{"default": 0, "clusterCreate": 30}` (seconds per kind; omitted kinds keep the
/// default).
async fn set_durations(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let map: serde_json::Map<String, serde_json::Value> = match parse(&body) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let mut items = Vec::new();
    for (kind, secs) in &map {
        match secs.as_f64() {
            Some(s) => items.push(format!("{kind}={s}")),
            None => return bad(format!("'{kind}' must be a number of seconds")).into_response(),
        }
    }
    match Durations::parse(&items) {
        Ok(d) => {
            *state.durations.write() = d;
            Json(state.durations.read().as_json()).into_response()
        }
        Err(e) => bad(e).into_response(),
    }
}

async fn unknown(uri: axum::http::Uri) -> Response {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "'{}' is not a control endpoint; see GET /_sim/info.",
            uri.path()
        ),
    )
    .into_response()
}
