//! Router tests: `GET /subscriptions/{id}/locations` (`az account list-locations`), found
//! missing by the real-client tests.

mod common;

use axum::http::{Method, StatusCode};
use common::{Sim, SUB};

#[tokio::test]
async fn locations_list_every_catalogue_region_with_its_display_name() {
    let sim = Sim::new();
    let reply = sim
        .get(&format!(
            "/subscriptions/{SUB}/locations?api-version=2022-12-01"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let value = reply.body["value"].as_array().expect("a list");
    let names: Vec<&str> = value.iter().filter_map(|l| l["name"].as_str()).collect();
    let catalogue: Vec<&str> = sim
        .state
        .core
        .resource_types
        .locations
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(names, catalogue);
    for location in value {
        let name = location["name"].as_str().unwrap_or("");
        assert_eq!(
            location["id"],
            format!("/subscriptions/{SUB}/locations/{name}")
        );
        assert_eq!(location["type"], "Region");
        assert_ne!(
            location["displayName"], name,
            "every catalogue region has a display name"
        );
        assert_ne!(location["metadata"]["geographyGroup"], "", "{name}");
    }
    let eastus = value
        .iter()
        .find(|l| l["name"] == "eastus")
        .expect("eastus");
    assert_eq!(eastus["displayName"], "East US");
    assert_eq!(eastus["regionalDisplayName"], "(US) East US");

    // Same gates as every ARM-native endpoint.
    let no_version = sim.get(&format!("/subscriptions/{SUB}/LOCATIONS")).await;
    assert_eq!(no_version.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_version.code(), "MissingApiVersionParameter");
    let bad_version = sim
        .get(&format!(
            "/subscriptions/{SUB}/locations?api-version=2099-01-01"
        ))
        .await;
    assert_eq!(bad_version.code(), "InvalidApiVersionParameter");
    let post = sim
        .call(
            Method::POST,
            &format!("/subscriptions/{SUB}/locations?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}
