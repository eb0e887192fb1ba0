//! `GET /subscriptions/{id}/locations` (Microsoft.Resources, the `subscriptions` api-versions):
//! the regions aksim accepts, as `az account list-locations` prints them. The region names
//! come from the catalogue (`data/resource-types.json`); the display names and geography
//! groups below are Azure's. Latitude, longitude and paired regions are left out.

use crate::arm::error::ArmResult;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::providers::routes::Params;
use crate::state::AppState;

/// (name, display name, geography group) for the catalogue's regions.
const REGIONS: &[(&str, &str, &str)] = &[
    ("eastus", "East US", "US"),
    ("eastus2", "East US 2", "US"),
    ("westus", "West US", "US"),
    ("westus2", "West US 2", "US"),
    ("westus3", "West US 3", "US"),
    ("centralus", "Central US", "US"),
    ("northcentralus", "North Central US", "US"),
    ("southcentralus", "South Central US", "US"),
    ("westcentralus", "West Central US", "US"),
    ("canadacentral", "Canada Central", "Canada"),
    ("canadaeast", "Canada East", "Canada"),
    ("brazilsouth", "Brazil South", "South America"),
    ("northeurope", "North Europe", "Europe"),
    ("westeurope", "West Europe", "Europe"),
    ("uksouth", "UK South", "UK"),
    ("ukwest", "UK West", "UK"),
    ("francecentral", "France Central", "Europe"),
    ("germanywestcentral", "Germany West Central", "Europe"),
    ("switzerlandnorth", "Switzerland North", "Europe"),
    ("norwayeast", "Norway East", "Europe"),
    ("swedencentral", "Sweden Central", "Europe"),
    ("polandcentral", "Poland Central", "Europe"),
    ("italynorth", "Italy North", "Europe"),
    ("spaincentral", "Spain Central", "Europe"),
    ("uaenorth", "UAE North", "Middle East"),
    ("southafricanorth", "South Africa North", "Africa"),
    ("qatarcentral", "Qatar Central", "Middle East"),
    ("israelcentral", "Israel Central", "Middle East"),
    ("centralindia", "Central India", "Asia Pacific"),
    ("southindia", "South India", "Asia Pacific"),
    ("japaneast", "Japan East", "Asia Pacific"),
    ("japanwest", "Japan West", "Asia Pacific"),
    ("koreacentral", "Korea Central", "Asia Pacific"),
    ("southeastasia", "Southeast Asia", "Asia Pacific"),
    ("eastasia", "East Asia", "Asia Pacific"),
    ("australiaeast", "Australia East", "Asia Pacific"),
    ("australiasoutheast", "Australia Southeast", "Asia Pacific"),
    ("newzealandnorth", "New Zealand North", "Asia Pacific"),
    ("mexicocentral", "Mexico Central", "Mexico"),
    // The canary (EUAP) regions AKS's own tests use.
    ("eastus2euap", "East US 2 EUAP", "US"),
    ("centraluseuap", "Central US EUAP", "US"),
];

/// `GET /subscriptions/{sub}/locations`.
pub fn list_locations(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let sub = p.sub();
    let value: Vec<serde_json::Value> = state
        .core
        .resource_types
        .locations
        .iter()
        .map(|name| {
            let (display, group) = REGIONS
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, d, g)| (*d, *g))
                .unwrap_or((name.as_str(), ""));
            let regional = if group.is_empty() {
                display.to_owned()
            } else {
                format!("({group}) {display}")
            };
            serde_json::json!({
                "id": format!("/subscriptions/{sub}/locations/{name}"),
                "name": name,
                "type": "Region",
                "displayName": display,
                "regionalDisplayName": regional,
                "metadata": {
                    "regionType": "Physical",
                    "regionCategory": "Recommended",
                    "geographyGroup": group,
                }
            })
        })
        .collect();
    Ok(ArmResponse::ok(&serde_json::json!({ "value": value })))
}
