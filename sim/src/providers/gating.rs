//! Placeholder: replaced by the registration branch at merge.
//!
//! The real module refuses preview-only fields while their AFEC feature flag is not
//! registered. This placeholder accepts every body.

/// Checks a PUT/PATCH body against the preview-feature gates (placeholder: accepts all).
pub fn check_preview_gates(
    _state: &crate::state::AppState,
    _sub: &crate::store::Subscription,
    _namespace: &str,
    _resource_type: &str,
    _api_version: &str,
    _body: Option<&serde_json::Value>,
    _now: time::OffsetDateTime,
) -> crate::arm::ArmResult<()> {
    Ok(())
}
