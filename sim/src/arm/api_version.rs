//! The api-version check every ARM request passes first, with ARM's own refusals: a missing
//! `api-version` → `MissingApiVersionParameter`; an unknown one → `InvalidApiVersionParameter`
//! for ARM-native types (resource groups, providers, features...), `NoRegisteredProviderFound`
//! for resource-provider types. The versions come from the same catalogue as the provider
//! documents (`core::resource_types`), so the two cannot disagree.

use crate::arm::error::{ArmError, ArmResult};
use crate::core::resource_types::Catalog;

/// The api-version check for an ARM-native type (resource groups, providers, features...):
/// missing → `MissingApiVersionParameter`, unknown → `InvalidApiVersionParameter`.
pub fn check_native(
    catalog: &Catalog,
    namespace: &str,
    resource_type: &str,
    api_version: Option<&str>,
) -> ArmResult<()> {
    let given = api_version.ok_or_else(ArmError::missing_api_version)?;
    let spec = catalog
        .resource_type(namespace, resource_type)
        .ok_or_else(|| ArmError::invalid_resource_type(resource_type, namespace, given))?;
    if spec.supports(given) {
        return Ok(());
    }
    let supported: Vec<&str> = spec.api_versions.iter().map(String::as_str).collect();
    Err(ArmError::invalid_api_version(given, &supported))
}

/// The api-version check for a resource-provider type: missing →
/// `MissingApiVersionParameter`, unknown → `NoRegisteredProviderFound`.
pub fn check_provider(
    catalog: &Catalog,
    namespace: &str,
    resource_type: &str,
    api_version: Option<&str>,
    location: impl FnOnce() -> Option<String>,
) -> ArmResult<()> {
    let given = api_version.ok_or_else(ArmError::missing_api_version)?;
    let spec = catalog
        .resource_type(namespace, resource_type)
        .ok_or_else(|| ArmError::invalid_resource_type(resource_type, namespace, given))?;
    if spec.supports(given) {
        return Ok(());
    }
    let canonical_type = format!(
        "{}/{}",
        catalog.canonical_namespace(namespace),
        spec.resource_type
    );
    let supported: Vec<&str> = spec.api_versions.iter().map(String::as_str).collect();
    let locations: Vec<&str> = spec.locations.iter().map(String::as_str).collect();
    Err(ArmError::no_registered_provider(
        location().as_deref().unwrap_or("global"),
        given,
        &canonical_type,
        &supported,
        &locations,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_and_covers_what_clients_send() {
        let c = Catalog::embedded();
        for v in ["2021-07-01", "2015-12-01", "2025-03-01"] {
            check_native(c, "Microsoft.Features", "features", Some(v)).unwrap();
        }
        for v in ["2024-11-01", "2025-04-01", "2016-02-01"] {
            check_native(c, "Microsoft.Resources", "resourceGroups", Some(v)).unwrap();
            check_native(c, "Microsoft.Resources", "providers", Some(v)).unwrap();
        }
        check_native(
            c,
            "Microsoft.Resources",
            "subscriptions",
            Some("2022-12-01"),
        )
        .unwrap();
        for v in [
            "2023-08-01",
            "2026-06-01",
            "2026-08-01",
            "2023-02-02-preview",
        ] {
            check_provider(
                c,
                "microsoft.containerservice",
                "managedclusters",
                Some(v),
                || None,
            )
            .unwrap();
        }
        check_provider(
            c,
            "Microsoft.ContainerService",
            "locations/operations",
            Some("2016-03-30"),
            || None,
        )
        .unwrap();
        let e = check_provider(
            c,
            "Microsoft.ContainerService",
            "managedClusters",
            Some("2019-01-01"),
            || Some("eastus".to_owned()),
        )
        .unwrap_err();
        assert_eq!(e.code(), "NoRegisteredProviderFound");
        assert!(e
            .body
            .message
            .contains("'Microsoft.ContainerService/managedClusters'"));
        let e = check_native(
            c,
            "Microsoft.Resources",
            "resourceGroups",
            Some("1999-01-01"),
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidApiVersionParameter");
        let e = check_native(c, "Microsoft.Resources", "resourceGroups", None).unwrap_err();
        assert_eq!(e.code(), "MissingApiVersionParameter");
    }
}
