//! ARM routing: turns a parsed path into a handler call. Segment names compare ignoring
//! ASCII case (`resourcegroups` and `resourceGroups` both occur on the wire); names keep the
//! caller's casing. Each provider module exports one `dispatch` for the paths under its
//! namespace.
//!
//! Gates run in ARM's order (ARM-CONTRACT §0.3): api-version → subscription → provider
//! registration → resource group → resource.

pub mod locations;
pub mod resources;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::state::AppState;

/// Handles one ARM request (authentication already checked).
pub fn dispatch(state: &AppState, req: &ArmRequest) -> ArmResult<ArmResponse> {
    let p = &req.path;
    if p.is(0, "subscriptions") {
        if p.len() == 1 {
            return resources::list_subscriptions(state, req);
        }
        let sub = resources::parse_subscription_id(p.seg(1))?;
        return dispatch_subscription(state, req, &sub);
    }
    if p.is(0, "tenants") && p.len() == 1 {
        return resources::list_tenants(state, req);
    }
    Err(no_route(req))
}

fn dispatch_subscription(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    let p = &req.path;
    match p.len() {
        2 => return resources::get_subscription(state, req, sub),
        3 if p.is(2, "resourcegroups") => return resources::list_groups(state, req, sub),
        3 if p.is(2, "locations") => return locations::list_locations(state, req, sub),
        4 if p.is(2, "resourcegroups") => return resources::group(state, req, sub, p.seg(3)),
        4 if p.is(2, "operationresults") => {
            return resources::operation_result(state, req, sub, p.seg(3))
        }
        5 if p.is(2, "resourcegroups") && p.is(4, "resources") => {
            return resources::list_group_resources(state, req, sub, p.seg(3))
        }
        _ => {}
    }
    Err(no_route(req))
}

/// ARM's answer when no route matches.
pub fn no_route(req: &ArmRequest) -> ArmError {
    ArmError::no_route(req.method.as_str(), &req.path.joined())
}
