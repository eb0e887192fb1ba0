//! Resource providers and preview features: their registration state per subscription.

use time::OffsetDateTime;

use crate::core::error::{Error, Result};
use crate::core::registration::features::FeatureSpec;
use crate::core::registration::{RegState, Registration};
use crate::core::resource_types::ProviderSpec;
use crate::core::Core;

impl Core {
    /// A provider by namespace (`InvalidResourceNamespace` when ARM knows none).
    pub fn provider(&self, namespace: &str) -> Result<&'static ProviderSpec> {
        self.resource_types
            .provider(namespace)
            .ok_or_else(|| Error::invalid_resource_namespace(namespace))
    }

    /// Every provider with its registration state in `sub`.
    pub fn provider_states(&self, sub: &str) -> Vec<(&'static ProviderSpec, RegState)> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.resource_types
                .providers
                .iter()
                .map(|spec| (spec, s.registrations.provider_state(spec, now)))
                .collect()
        })
    }

    pub fn provider_state(&self, sub: &str, spec: &ProviderSpec) -> RegState {
        let now = self.now();
        self.store
            .with(sub, now, |s| s.registrations.provider_state(spec, now))
    }

    /// A provider register (`on`) or unregister: the state after. A provider with resources
    /// of its types in the subscription cannot be unregistered.
    pub fn change_provider(&self, sub: &str, spec: &ProviderSpec, on: bool) -> Result<RegState> {
        let now = self.now();
        let delay = self.registration_delay();
        self.store.with(sub, now, |s| {
            if super::super::registration::is_free(spec) {
                return Ok(RegState::Registered);
            }
            if !on {
                let count = s.resources_in_namespace(&spec.namespace);
                if count > 0 {
                    return Err(Error::provider_has_resources(&spec.namespace, count));
                }
            }
            s.touched = true;
            Ok(s.registrations.change_provider(spec, on, delay, now))
        })
    }

    /// A feature that exists on subscription `sub`'s day (`FeatureNotFound` otherwise).
    pub fn feature(&self, sub: &str, namespace: &str, name: &str) -> Result<&FeatureSpec> {
        self.features
            .find(namespace, name, self.behaviour_for(sub).day)
            .ok_or_else(|| Error::feature_not_found(name))
    }

    /// Live features (optionally of one namespace) with their state in `sub`.
    pub fn feature_states(
        &self,
        sub: &str,
        namespace: Option<&str>,
    ) -> Vec<(&FeatureSpec, RegState)> {
        let now = self.now();
        let day = self.behaviour_for(sub).day;
        self.store.with(sub, now, |s| {
            self.features
                .live(namespace, day)
                .map(|spec| (spec, s.registrations.feature_state(spec, now)))
                .collect()
        })
    }

    pub fn feature_state(&self, sub: &str, spec: &FeatureSpec) -> RegState {
        let now = self.now();
        self.store
            .with(sub, now, |s| s.registrations.feature_state(spec, now))
    }

    /// A feature register (`on`) or unregister; the record after it and the time it was made.
    pub fn change_feature(
        &self,
        sub: &str,
        spec: &FeatureSpec,
        on: bool,
    ) -> (Registration, OffsetDateTime) {
        let now = self.now();
        let delay = self.registration_delay();
        let record = self.store.with(sub, now, |s| {
            s.touched = true;
            s.registrations.change_feature(spec, on, delay, now)
        });
        (record, now)
    }

    /// Unregisters a feature the subscription has a record of (a `DELETE` of its
    /// subscriptionFeatureRegistration); nothing when it has none.
    pub fn forget_feature(&self, sub: &str, spec: &FeatureSpec) {
        let now = self.now();
        let delay = self.registration_delay();
        self.store.with(sub, now, |s| {
            if s.registrations.features.contains_key(&spec.key()) {
                s.touched = true;
                s.registrations.change_feature(spec, false, delay, now);
            }
        })
    }

    /// The feature records of live features (optionally of one namespace), and when they
    /// were read.
    pub fn feature_records(
        &self,
        sub: &str,
        namespace: Option<&str>,
    ) -> (Vec<(&FeatureSpec, Registration)>, OffsetDateTime) {
        let now = self.now();
        let day = self.behaviour_for(sub).day;
        let records = self.store.with(sub, now, |s| {
            self.features
                .live(namespace, day)
                .filter_map(|spec| Some((spec, s.registrations.features.get(&spec.key())?.clone())))
                .collect()
        });
        (records, now)
    }

    /// A feature's record in `sub`, if any, and when it was read.
    pub fn feature_record(
        &self,
        sub: &str,
        spec: &FeatureSpec,
    ) -> (Option<Registration>, OffsetDateTime) {
        let now = self.now();
        let record = self.store.with(sub, now, |s| {
            s.registrations.features.get(&spec.key()).cloned()
        });
        (record, now)
    }
}
