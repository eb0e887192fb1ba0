//! Registration: which preview features (Microsoft.Features) and resource providers a
//! subscription has registered, on the virtual clock, and the two gates that read them — a
//! provider must be registered before its resources are used (409
//! `MissingSubscriptionRegistration`), and a preview-only request shape needs its feature in
//! effect ([`gates`]).
//!
//! A feature is *in effect* when it is `Registered` and the provider was registered again at or
//! after the moment the feature became `Registered`, and the provider is `Registered` now — the
//! documented order "feature register → wait → provider register"
//! (`../shared/reference/ARM-CONTRACT.md` §0.9, §3; the server-side mechanism is inferred,
//! docs/deviations.md).

pub mod features;
pub mod gates;
mod record;

use std::collections::BTreeMap;

use time::OffsetDateTime;

pub use record::{RegState, Registration};

use crate::core::error::{Error, Result};
use crate::core::resource_types::{Catalog, ProviderSpec};
use features::{ApprovalType, FeatureSpec};

/// A subscription's feature and provider registrations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registrations {
    /// Keyed by lower-case `namespace/feature`; a feature without a record is
    /// `NotRegistered`.
    pub features: BTreeMap<String, Registration>,
    /// Keyed by lower-case namespace; a provider without a record is `NotRegistered`
    /// (RegistrationFree providers are never stored: always `Registered`).
    pub providers: BTreeMap<String, Registration>,
    /// Orders register/unregister requests that share a clock instant.
    pub seq: u64,
}

/// Whether a provider needs no registration at all.
pub fn is_free(spec: &ProviderSpec) -> bool {
    spec.registration_policy
        .eq_ignore_ascii_case("RegistrationFree")
}

impl Registrations {
    /// The next registration request number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn provider_state(&self, spec: &ProviderSpec, now: OffsetDateTime) -> RegState {
        if is_free(spec) {
            return RegState::Registered;
        }
        self.providers
            .get(spec.key.as_str())
            .map_or(RegState::NotRegistered, |r| r.state(now))
    }

    pub fn is_registered(&self, catalog: &Catalog, namespace: &str, now: OffsetDateTime) -> bool {
        catalog
            .provider(namespace)
            .is_some_and(|spec| self.provider_state(spec, now) == RegState::Registered)
    }

    /// The provider gate every resource-provider request passes: `Ok(false)` when `namespace`
    /// is registered; with ARM's auto-registration (`auto`) an unregistered provider is
    /// registered at once (`Ok(true)`: the subscription changed); otherwise 409
    /// `MissingSubscriptionRegistration`.
    pub fn require(
        &mut self,
        catalog: &Catalog,
        namespace: &str,
        now: OffsetDateTime,
        auto: bool,
    ) -> Result<bool> {
        let spec = catalog
            .provider(namespace)
            .ok_or_else(|| Error::invalid_resource_namespace(namespace))?;
        if self.provider_state(spec, now) == RegState::Registered {
            return Ok(false);
        }
        if auto {
            let seq = self.next_seq();
            self.providers
                .entry(spec.key.clone())
                .or_default()
                .register_now(now, seq);
            return Ok(true);
        }
        Err(Error::missing_subscription_registration(&spec.namespace))
    }

    /// A provider register (`on`) or unregister request; returns the state it is in after.
    pub fn change_provider(
        &mut self,
        spec: &ProviderSpec,
        on: bool,
        delay: time::Duration,
        now: OffsetDateTime,
    ) -> RegState {
        if is_free(spec) {
            return RegState::Registered;
        }
        let seq = self.next_seq();
        let record = self.providers.entry(spec.key.clone()).or_default();
        if on {
            record.register(now, delay, false, seq);
        } else {
            record.unregister(now, delay, seq);
        }
        record.state(now)
    }

    /// A feature's state at `now`.
    pub fn feature_state(&self, spec: &FeatureSpec, now: OffsetDateTime) -> RegState {
        self.features
            .get(&spec.key())
            .map_or(RegState::NotRegistered, |r| r.state(now))
    }

    /// A feature register (`on`) or unregister request; returns the record after it.
    pub fn change_feature(
        &mut self,
        spec: &FeatureSpec,
        on: bool,
        delay: time::Duration,
        now: OffsetDateTime,
    ) -> Registration {
        let seq = self.next_seq();
        let record = self.features.entry(spec.key()).or_default();
        if on {
            record.register(
                now,
                delay,
                spec.approval_type == ApprovalType::ApprovalRequired,
                seq,
            );
        } else {
            record.unregister(now, delay, seq);
        }
        record.clone()
    }

    /// Whether `feature` (`Namespace/Name`) is in effect at `now`: Registered, and the provider
    /// registered again since and Registered now.
    pub fn feature_in_effect(&self, catalog: &Catalog, feature: &str, now: OffsetDateTime) -> bool {
        let Some((namespace, name)) = feature.split_once('/') else {
            return false;
        };
        let Some(record) = self.features.get(&features::feature_key(namespace, name)) else {
            return false;
        };
        let Some(since) = record.registered_since(now) else {
            return false;
        };
        let Some(spec) = catalog.provider(namespace) else {
            return false;
        };
        if self.provider_state(spec, now) != RegState::Registered {
            return false;
        }
        self.providers
            .get(&namespace.to_ascii_lowercase())
            .and_then(|p| p.last_register_at.map(|at| (at, p.last_register_seq)))
            .is_some_and(|(at, seq)| at >= since && seq > record.started_seq)
    }
}
