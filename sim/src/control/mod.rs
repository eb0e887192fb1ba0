//! The simulator's own control API under `/_sim` (never part of ARM's surface): health, info,
//! reset, seed, the virtual clock (advance, freeze, scale), operation durations and scripts,
//! fault rules, the request journal (query, export, verify) and snapshots.
//!
//! JSON in, JSON out. Errors use the ARM envelope with code `InvalidControlRequest`; a bad
//! request changes nothing. Bodies are read through `body.rs` (a limit, ARM's 413 past it).

pub mod body;
pub mod faults;
pub mod glob;
pub mod journal;
pub mod sandbox;
pub mod snapshot;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::arm::error::ArmError;
use crate::clock::rfc3339;
use crate::control::body::{ControlBody, SnapshotBody};
use crate::control::faults::FaultSpec;
use crate::control::journal::Filter;
use crate::core::ops::{Durations, OpKind, OpScript};
use crate::core::OP_KINDS;
use crate::limits;
use crate::providers::routes::parse_subscription_id;
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
        .route("/clock/scale", post(clock_scale))
        .route("/seed", post(seed))
        .route(
            "/operations/durations",
            get(durations).put(set_durations).patch(patch_durations),
        )
        .route(
            "/operations/scripts",
            get(scripts).put(set_scripts).delete(clear_scripts),
        )
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", axum::routing::delete(remove_fault))
        .route("/journal", get(journal_query).delete(journal_clear))
        .route("/journal.jsonl", get(journal_export))
        .route("/journal/verify", post(journal_verify))
        .route("/journal/config", axum::routing::put(journal_config))
        .route("/sandboxes", post(create_sandbox))
        .route(
            "/azure-date/{subscription}",
            get(get_azure_date).put(put_azure_date),
        )
        .route("/registration", get(registration).put(set_registration))
        .route("/snapshot", get(snapshot_all).put(snapshot_import_all))
        .route(
            "/snapshot/{subscription}",
            get(snapshot_one).put(snapshot_import_one),
        )
        .fallback(unknown)
        .method_not_allowed_fallback(wrong_method)
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
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| bad(format!("invalid request body: {e}")))?;
    if !value.is_object() {
        return Err(bad("the request body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| bad(format!("invalid request body: {e}")))
}

fn clock_json(state: &AppState) -> serde_json::Value {
    serde_json::json!({
        "now": rfc3339(state.core.clock.now()),
        "offsetSeconds": state.core.clock.offset_secs(),
        "frozen": state.core.clock.is_frozen(),
        "scale": state.core.clock.scale(),
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
        .core
        .resource_types
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
        "tenantId": state.core.store.tenant_id(),
        "defaultSubscriptionId": state.core.settings.default_subscription.clone(),
        "auth": format!("{:?}", state.config.auth).to_lowercase(),
        "seed": state.core.ids.seed(),
        "scheme": state.config.scheme(),
        "providers": providers,
        "locations": state.core.resource_types.locations,
        "operationDurations": state.core.durations.read().as_json(&OP_KINDS),
        "operationKinds": OP_KINDS.iter().map(OpKind::name).collect::<Vec<_>>(),
        "journal": { "capacity": state.journal.capacity() },
        "snapshotVersion": snapshot::VERSION,
        "registration": {
            "delaySeconds": *state.core.registration_seconds.read(),
            "autoRegisterProviders": state.core.settings.auto_register_providers,
            "previewGating": state.core.settings.preview_gating,
            "features": state.core.features.features.iter().map(|f| serde_json::json!({
                "name": f.full_name(),
                "approvalType": f.approval_type.as_str(),
                "retired": f.retired,
                "registrable": f.registrable,
                "live": f.live_on(state.core.behaviour.day),
            })).collect::<Vec<_>>(),
            "previewGates": state.core.gates.rules.iter().map(|r| serde_json::json!({
                "feature": r.feature,
                "namespace": r.namespace,
                "resourceType": r.resource_type,
                "apiVersions": r.api_versions,
                "since": r.since,
                "until": r.until,
                "inForce": r.in_force(state.core.behaviour.day),
            })).collect::<Vec<_>>(),
        },
        "limits": limits::as_json(),
        "rules": crate::core::clusters::rules::as_json(),
        "agentPoolRules": crate::core::clusters::pools::rules::as_json(),
        "azureDate": state.core.behaviour.day_string(),
        "aksData": {
            "firstDate": crate::core::timeline::day_string(crate::core::timeline::timeline().first_day()),
            "newestDate": crate::core::timeline::day_string(crate::core::timeline::timeline().newest_day()),
        },
        "aksCatalog": {
            "name": state.core.behaviour.aks.name,
            "description": state.core.behaviour.aks.description,
            "file": state.core.behaviour.catalog_override,
        },
        "notes": state.core.settings.notes,
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
            let had_catalog = state.core.sandboxes.remove(&id);
            let had_state = state.core.store.remove(&id) || had_catalog;
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

async fn clock_advance(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
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
        .core
        .clock
        .advance(time::Duration::seconds_f64(advance.seconds));
    Json(clock_json(&state)).into_response()
}

async fn clock_freeze(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.core.clock.set_frozen(true);
    Json(clock_json(&state))
}

async fn clock_unfreeze(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.core.clock.set_frozen(false);
    Json(clock_json(&state))
}

async fn durations(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.core.durations.read().as_json(&OP_KINDS))
}

/// `{"default": 0, "clusterCreate": 30}` as `KIND=SECONDS` items.
fn duration_items(body: &[u8]) -> Result<Vec<String>, ArmError> {
    let map: serde_json::Map<String, serde_json::Value> = parse(body)?;
    map.iter()
        .map(|(kind, secs)| match secs.as_f64() {
            Some(s) => Ok(format!("{kind}={s}")),
            None => Err(bad(format!("'{kind}' must be a number of seconds"))),
        })
        .collect()
}

/// PUT replaces the whole table: kinds left out take the body's `default`, and a `default`
/// left out is aksim's own (2 s) — as `--op-duration` does at start.
async fn set_durations(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    let parsed =
        duration_items(&body).and_then(|items| Durations::parse(&items, &OP_KINDS).map_err(bad));
    match parsed {
        Ok(durations) => {
            *state.core.durations.write() = durations;
            Json(state.core.durations.read().as_json(&OP_KINDS)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// PATCH changes only the kinds named (a `default` named changes the kinds without their own).
async fn patch_durations(
    State(state): State<AppState>,
    ControlBody(body): ControlBody,
) -> Response {
    let result = duration_items(&body).and_then(|items| {
        state
            .core
            .durations
            .write()
            .apply(&items, &OP_KINDS)
            .map_err(bad)
    });
    match result {
        Ok(()) => Json(state.core.durations.read().as_json(&OP_KINDS)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scale {
    factor: f64,
}

async fn clock_scale(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    let scale: Scale = match parse(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if !scale.factor.is_finite() || scale.factor <= 0.0 || scale.factor > crate::clock::SCALE_MAX {
        return bad(format!(
            "factor must be > 0 and at most {}",
            crate::clock::SCALE_MAX
        ))
        .into_response();
    }
    state.core.clock.set_scale(scale.factor);
    Json(clock_json(&state)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    seed: u64,
}

/// Restarts the id sequence from `seed` (ids, ETags, operation ids, tokens' ids).
async fn seed(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    match parse::<Seed>(&body) {
        Ok(s) => {
            state.core.ids.reseed(Some(s.seed));
            Json(serde_json::json!({ "seed": s.seed })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn scripts_json(state: &AppState) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = state
        .core
        .scripts
        .read()
        .iter()
        .map(|(k, v)| {
            (
                k.name().to_owned(),
                serde_json::to_value(v).unwrap_or_default(),
            )
        })
        .collect();
    serde_json::Value::Object(map)
}

async fn scripts(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(scripts_json(&state))
}

/// Body: `{"clusterCreate": {"polls": 3, "result": "Failed", "error": {"code","message"}}}`.
/// Kinds not named keep their script.
async fn set_scripts(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    let map: std::collections::BTreeMap<String, OpScript> = match parse(&body) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let mut parsed = Vec::new();
    for (kind, script) in map {
        let Some(k) = OpKind::find(&OP_KINDS, &kind).cloned() else {
            let known: Vec<&str> = OP_KINDS.iter().map(OpKind::name).collect();
            return bad(format!(
                "unknown operation kind '{kind}'; known: {}",
                known.join(", ")
            ))
            .into_response();
        };
        if let Err(e) = script.validate() {
            return bad(format!("{kind}: {e}")).into_response();
        }
        parsed.push((k, script));
    }
    state.core.scripts.write().extend(parsed);
    Json(scripts_json(&state)).into_response()
}

async fn clear_scripts(State(state): State<AppState>) -> Json<serde_json::Value> {
    state.core.scripts.write().clear();
    Json(scripts_json(&state))
}

async fn list_faults(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "value": state.faults.list() }))
}

async fn add_fault(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    let spec: FaultSpec = match parse(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match state
        .faults
        .add(spec, format!("fault-{}", state.core.ids.hex(8)))
    {
        Ok(rule) => (StatusCode::CREATED, Json(rule)).into_response(),
        Err(e) => bad(e).into_response(),
    }
}

async fn remove_fault(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if state.faults.remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no fault rule '{id}'"),
        )
        .into_response()
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

/// Builds a journal filter from query parameters (`method`, `path`, `status`, `subscription`,
/// `correlationId`, `errorCode`, `since`, `limit`).
fn filter_from_query(query: Option<&str>) -> Result<Filter, ArmError> {
    let mut filter = Filter::default();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let number = |what: &str| -> Result<u64, ArmError> {
            v.parse()
                .map_err(|_| bad(format!("{what} must be a number, got '{v}'")))
        };
        match k.as_ref() {
            "method" => filter.method = Some(v.into_owned()),
            "path" => filter.path = Some(v.into_owned()),
            "status" => {
                filter.status =
                    Some(u16::try_from(number("status")?).map_err(|_| bad("status out of range"))?)
            }
            "subscription" => filter.subscription = Some(v.into_owned()),
            "correlationId" => filter.correlation_id = Some(v.into_owned()),
            "errorCode" => filter.error_code = Some(v.into_owned()),
            "since" => filter.since = Some(number("since")?),
            "limit" => filter.limit = Some(number("limit")? as usize),
            other => return Err(bad(format!("unknown journal filter '{other}'"))),
        }
    }
    Ok(filter)
}

async fn journal_query(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    match filter_from_query(uri.query()) {
        Ok(filter) => {
            let (held, dropped, capacity) = state.journal.stats();
            Json(serde_json::json!({
                "value": state.journal.query(&filter),
                "held": held, "dropped": dropped, "capacity": capacity,
            }))
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn journal_export(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    match filter_from_query(uri.query()) {
        Ok(filter) => {
            let mut out = String::new();
            for entry in state.journal.query(&filter) {
                out.push_str(&serde_json::to_string(&entry).unwrap_or_default());
                out.push('\n');
            }
            (
                [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
                out,
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn journal_clear(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Verify {
    #[serde(flatten)]
    filter: Filter,
    /// Exactly this many matches.
    count: Option<usize>,
    at_least: Option<usize>,
    at_most: Option<usize>,
}

/// Did requests matching the filter happen the expected number of times? 200 when yes, 417
/// when no; both answer `{ok, count, expected}`.
async fn journal_verify(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    // serde cannot deny unknown fields through a flatten; check the keys by hand.
    let keys: serde_json::Map<String, serde_json::Value> = match parse(&body) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    const KNOWN: [&str; 11] = [
        "method",
        "path",
        "status",
        "subscription",
        "correlationId",
        "errorCode",
        "since",
        "limit",
        "count",
        "atLeast",
        "atMost",
    ];
    if let Some(unknown) = keys.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return bad(format!("unknown field '{unknown}'")).into_response();
    }
    let verify: Verify = match serde_json::from_value(serde_json::Value::Object(keys)) {
        Ok(v) => v,
        Err(e) => return bad(format!("invalid request body: {e}")).into_response(),
    };
    if verify.count.is_none() && verify.at_least.is_none() && verify.at_most.is_none() {
        return bad("say what to expect: count, atLeast or atMost").into_response();
    }
    let n = state.journal.count(&verify.filter);
    let ok = verify.count.is_none_or(|c| n == c)
        && verify.at_least.is_none_or(|c| n >= c)
        && verify.at_most.is_none_or(|c| n <= c);
    let body = serde_json::json!({
        "ok": ok,
        "count": n,
        "expected": { "count": verify.count, "atLeast": verify.at_least, "atMost": verify.at_most },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::EXPECTATION_FAILED
    };
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalConfig {
    capacity: usize,
}

async fn journal_config(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    match parse::<JournalConfig>(&body) {
        Ok(c) if c.capacity <= limits::JOURNAL_CAPACITY_MAX => {
            state.journal.set_capacity(c.capacity);
            Json(serde_json::json!({ "capacity": c.capacity })).into_response()
        }
        Ok(_) => bad(format!(
            "capacity must be at most {}",
            limits::JOURNAL_CAPACITY_MAX
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn snapshot_all(State(state): State<AppState>) -> Response {
    Json(snapshot::export(&state, None)).into_response()
}

async fn snapshot_one(State(state): State<AppState>, Path(sub): Path<String>) -> Response {
    match parse_subscription_id(&sub) {
        Ok(id) => Json(snapshot::export(&state, Some(&id))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Replaces the whole state with the snapshot.
async fn snapshot_import_all(
    State(state): State<AppState>,
    SnapshotBody(body): SnapshotBody,
) -> Response {
    match snapshot::parse(&body) {
        Ok(snap) => {
            let n = snapshot::import(&state, snap, true);
            Json(serde_json::json!({ "imported": n })).into_response()
        }
        Err(e) => bad(e).into_response(),
    }
}

/// Replaces one subscription with the one of that id in the snapshot.
async fn snapshot_import_one(
    State(state): State<AppState>,
    Path(sub): Path<String>,
    SnapshotBody(body): SnapshotBody,
) -> Response {
    let id = match parse_subscription_id(&sub) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match snapshot::parse(&body) {
        Ok(mut snap) => {
            snap.subscriptions.retain(|s| s.id == id);
            snap.catalogs.retain(|sub, _| *sub == id);
            if snap.subscriptions.is_empty() {
                return bad(format!("the snapshot holds no subscription '{id}'")).into_response();
            }
            snapshot::import(&state, snap, false);
            Json(serde_json::json!({ "imported": 1 })).into_response()
        }
        Err(e) => bad(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegistrationSettings {
    delay_seconds: f64,
}

async fn registration(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "delaySeconds": *state.core.registration_seconds.read() }))
}

/// Body: `{"delaySeconds": 3}` — how long registrations started from now on take.
async fn set_registration(
    State(state): State<AppState>,
    ControlBody(body): ControlBody,
) -> Response {
    match parse::<RegistrationSettings>(&body) {
        Ok(s)
            if s.delay_seconds.is_finite()
                && (0.0..=limits::REGISTRATION_SECONDS_MAX).contains(&s.delay_seconds) =>
        {
            *state.core.registration_seconds.write() = s.delay_seconds;
            registration(State(state)).await.into_response()
        }
        Ok(_) => bad(format!(
            "delaySeconds must be from 0 to {}",
            limits::REGISTRATION_SECONDS_MAX
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn create_sandbox(State(state): State<AppState>, ControlBody(body): ControlBody) -> Response {
    let preset: sandbox::Preset = match parse(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match sandbox::create(&state, preset) {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(e) => bad(e).into_response(),
    }
}

async fn get_azure_date(State(state): State<AppState>, Path(sub): Path<String>) -> Response {
    match parse_subscription_id(&sub) {
        Ok(id) => Json(sandbox::azure_date_of(&state, &id)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn put_azure_date(
    State(state): State<AppState>,
    Path(sub): Path<String>,
    ControlBody(body): ControlBody,
) -> Response {
    let id = match parse_subscription_id(&sub) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let value: serde_json::Value = match parse(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    match sandbox::set_azure_date(&state, &id, &value) {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad(e).into_response(),
    }
}

/// A control path with a method it does not take: the 405 in the error envelope (axum's own
/// answer has an empty body; found by the `arm_path` fuzz target).
async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "'{method} {}' is not supported; see GET /_sim/info.",
            uri.path()
        ),
    )
    .into_response()
}

pub(crate) async fn unknown(uri: axum::http::Uri) -> Response {
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
