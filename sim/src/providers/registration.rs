//! Placeholder: replaced by the registration branch at merge.
//!
//! The real module keeps each subscription's provider registration state and answers
//! `MissingSubscriptionRegistration` (409) for an unregistered namespace. This placeholder lets
//! every request through so the container-service code can call it at the right gate.

/// Refuses a request to `namespace` while the provider is not registered (placeholder: never).
pub fn require_registered(
    _state: &crate::state::AppState,
    _sub: &mut crate::store::Subscription,
    _namespace: &str,
    _now: time::OffsetDateTime,
) -> crate::arm::ArmResult<()> {
    Ok(())
}
