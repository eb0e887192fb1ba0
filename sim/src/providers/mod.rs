//! ARM's routes: the one declarative table ([`ROUTES`]) of every path aksim serves, with the
//! api-version type each is checked against, the methods it takes and its handler in the
//! provider adapter that owns it. Adapters are thin: parse the request once, call the core's
//! use case (`core::service`), render the answer. `arm::routes` runs the gates in ARM's order
//! (`../shared/reference/ARM-CONTRACT.md` §0.3): subscription → api-version → method → (in
//! the core) provider registration → resource group → resource.
//!
//! Adapters: `resources` (subscriptions, tenants, resource groups, ARM's `operationresults`),
//! `locations`, `registration` (resource providers), `features` (Microsoft.Features),
//! `container_service` (Microsoft.ContainerService); `routes` is the table's machinery.

pub mod container_service;
pub mod features;
pub mod locations;
pub mod registration;
pub mod resources;
pub mod routes;

use axum::http::Method;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::state::AppState;
use routes::{Api, Location, Params, Route, Target};

const RESOURCES: &str = "Microsoft.Resources";
const FEATURES: &str = "Microsoft.Features";
const CS: &str = crate::core::clusters::NS;
const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const CHILD: &[Method] = &[Method::GET, Method::PUT, Method::DELETE];

const fn route(
    pattern: &'static str,
    api: Api,
    methods: &'static [Method],
    handler: routes::Handler,
) -> Route {
    Route {
        pattern,
        api,
        methods,
        target: Target::Path,
        handler,
    }
}

const fn native(resource_type: &'static str) -> Api {
    Api::Native(RESOURCES, resource_type)
}

const fn feature(resource_type: &'static str) -> Api {
    Api::Native(FEATURES, resource_type)
}

const fn provider(resource_type: &'static str, location: Location) -> Api {
    Api::Provider(CS, resource_type, location)
}

/// Every ARM route, matched in order (the first match wins).
pub static ROUTES: &[Route] = &[
    // Microsoft.Resources: tenant scope.
    route("/subscriptions", native("subscriptions"), GET, resources::list_subscriptions),
    route("/tenants", native("tenants"), GET, resources::list_tenants),
    route("/providers", native("providers"), GET, registration::list_tenant),
    route("/providers/{namespace}", native("providers"), GET, registration::get_tenant),
    // Microsoft.Resources: subscription scope.
    route("/subscriptions/{subscriptionId}", native("subscriptions"), GET, resources::get_subscription),
    route("/subscriptions/{subscriptionId}/locations", native("subscriptions"), GET, locations::list_locations),
    route("/subscriptions/{subscriptionId}/resourcegroups", native("resourceGroups"), GET, resources::list_groups),
    Route {
        pattern: "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
        api: native("resourceGroups"),
        methods: &[Method::GET, Method::HEAD, Method::PUT, Method::PATCH, Method::DELETE],
        target: Target::Type("Microsoft.Resources/resourceGroups"),
        handler: resources::group,
    },
    route("/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/resources", native("resources"), GET, resources::list_group_resources),
    route("/subscriptions/{subscriptionId}/operationresults/{operationId}", native("operationresults"), GET, resources::operation_result),
    route("/subscriptions/{subscriptionId}/providers", native("providers"), GET, registration::list),
    route("/subscriptions/{subscriptionId}/providers/{namespace}", native("providers"), GET, registration::get),
    route("/subscriptions/{subscriptionId}/providers/{namespace}/register", native("providers"), POST, registration::register),
    route("/subscriptions/{subscriptionId}/providers/{namespace}/unregister", native("providers"), POST, registration::unregister),
    // Microsoft.Features.
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/features", feature("features"), GET, features::list_all),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/subscriptionFeatureRegistrations", feature("subscriptionFeatureRegistrations"), GET, features::list_all_registrations),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{namespace}/features", feature("features"), GET, features::list),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{namespace}/features/{featureName}", feature("features"), GET, features::get),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{namespace}/features/{featureName}/register", feature("features"), POST, features::register),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{namespace}/features/{featureName}/unregister", feature("features"), POST, features::unregister),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/featureProviders/{namespace}/subscriptionFeatureRegistrations", feature("featureProviders/subscriptionFeatureRegistrations"), GET, features::list_registrations),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/featureProviders/{namespace}/subscriptionFeatureRegistrations/{featureName}", feature("featureProviders/subscriptionFeatureRegistrations"), &[Method::GET, Method::PUT, Method::DELETE], features::registration),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.Features/{resourceType}/{*}", Api::None, &[], features::unknown_type),
    // Microsoft.ContainerService: subscription scope.
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/managedClusters", provider("managedClusters", Location::Global), GET, container_service::list_clusters),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/kubernetesVersions", provider("locations/kubernetesVersions", Location::Segment), GET, container_service::profiles::kubernetes_versions),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/meshRevisionProfiles", provider("locations/meshRevisionProfiles", Location::Segment), GET, container_service::profiles::mesh_revision_profiles),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/meshRevisionProfiles/{mode}", provider("locations/meshRevisionProfiles", Location::Segment), GET, container_service::profiles::mesh_revision_profile),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/operations/{operationId}", provider("locations/operations", Location::Segment), GET, container_service::operation_status),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/operationresults/{operationId}", provider("locations/operationresults", Location::Segment), GET, container_service::operation_result),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/trustedAccessRoles", provider("locations/trustedAccessRoles", Location::Segment), GET, container_service::surface::trusted_access_roles),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/osOptions/default", provider("locations/osOptions", Location::Segment), GET, container_service::surface::os_options),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/snapshots", provider("snapshots", Location::Global), GET, container_service::surface::list_snapshots),
    route("/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/{*}", Api::None, &[], no_route),
    // Microsoft.ContainerService: resource-group scope.
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters", provider("managedClusters", Location::Global), GET, container_service::list_clusters),
    Route {
        pattern: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}",
        api: provider("managedClusters", Location::Body),
        methods: &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
        target: Target::Type("Microsoft.ContainerService/managedClusters"),
        handler: container_service::cluster,
    },
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/meshUpgradeProfiles", provider("managedClusters/meshUpgradeProfiles", Location::Global), GET, container_service::profiles::mesh_upgrade_profiles),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/meshUpgradeProfiles/{mode}", provider("managedClusters/meshUpgradeProfiles", Location::Global), GET, container_service::profiles::mesh_upgrade_profile),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/operations", provider("managedClusters", Location::Global), GET, container_service::op_status::list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/operations/{operationId}", provider("managedClusters", Location::Global), GET, container_service::op_status::cluster),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/abort", provider("managedClusters", Location::Global), POST, container_service::abort),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/listClusterUserCredential", provider("managedClusters", Location::Global), POST, container_service::credentials::user),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/listClusterAdminCredential", provider("managedClusters", Location::Global), POST, container_service::credentials::admin),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/listClusterMonitoringUserCredential", provider("managedClusters", Location::Global), POST, container_service::credentials::monitoring_user),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/stop", provider("managedClusters", Location::Global), POST, container_service::agent_pools::stop),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/start", provider("managedClusters", Location::Global), POST, container_service::agent_pools::start),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/upgradeProfiles/default", provider("managedClusters", Location::Global), GET, container_service::agent_pools::cluster_upgrade_profile),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools", provider("managedClusters", Location::Global), GET, container_service::agent_pools::list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/availableAgentPoolVersions", provider("managedClusters", Location::Global), GET, container_service::agent_pools::available_versions),
    Route {
        pattern: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}",
        api: provider("managedClusters", Location::Global),
        methods: &[Method::GET, Method::PUT, Method::DELETE],
        target: Target::Type("Microsoft.ContainerService/managedClusters/agentPools"),
        handler: container_service::agent_pools::pool,
    },
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/upgradeNodeImageVersion", provider("managedClusters", Location::Global), POST, container_service::agent_pools::upgrade_node_image),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/deleteMachines", provider("managedClusters", Location::Global), POST, container_service::agent_pools::delete_machines),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/abort", provider("managedClusters", Location::Global), POST, container_service::agent_pools::abort),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/upgradeProfiles/default", provider("managedClusters", Location::Global), GET, container_service::agent_pools::pool_upgrade_profile),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/operations/{operationId}", provider("managedClusters", Location::Global), GET, container_service::op_status::pool),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/machines", provider("managedClusters", Location::Global), GET, container_service::agent_pools::machines),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}/machines/{machineName}", provider("managedClusters", Location::Global), GET, container_service::agent_pools::machine),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/maintenanceConfigurations", provider("managedClusters/maintenanceConfigurations", Location::Global), GET, container_service::surface::maintenance_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/maintenanceConfigurations/{configName}", provider("managedClusters/maintenanceConfigurations", Location::Global), CHILD, container_service::surface::maintenance),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/trustedAccessRoleBindings", provider("managedClusters/trustedAccessRoleBindings", Location::Global), GET, container_service::surface::role_bindings_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/trustedAccessRoleBindings/{bindingName}", provider("managedClusters/trustedAccessRoleBindings", Location::Global), CHILD, container_service::surface::role_binding),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/runCommand", provider("managedClusters", Location::Global), POST, container_service::surface::run_command),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/commandResults/{commandId}", provider("managedClusters/commandResults", Location::Global), GET, container_service::surface::command_result),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/managedNamespaces", provider("managedClusters", Location::Global), GET, container_service::namespaces::namespaces_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/managedNamespaces/{managedNamespaceName}", provider("managedClusters", Location::Global), &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE], container_service::namespaces::namespace),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/managedNamespaces/{managedNamespaceName}/listCredential", provider("managedClusters", Location::Global), POST, container_service::namespaces::namespace_credential),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/identityBindings", provider("managedClusters", Location::Global), GET, container_service::namespaces::bindings_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/identityBindings/{identityBindingName}", provider("managedClusters", Location::Global), CHILD, container_service::namespaces::binding),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/rotateServiceAccountSigningKeys", provider("managedClusters", Location::Global), POST, container_service::namespaces::rotate_signing_keys),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/rotateClusterCertificates", provider("managedClusters", Location::Global), POST, container_service::surface::rotate_certificates),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/privateEndpointConnections", provider("managedClusters/privateEndpointConnections", Location::Global), GET, container_service::surface::empty_private_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/privateEndpointConnections/{connectionName}", provider("managedClusters/privateEndpointConnections", Location::Global), GET, container_service::surface::private_endpoint_connection),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/privateLinkResources", provider("managedClusters/privateLinkResources", Location::Global), GET, container_service::surface::empty_private_list),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/snapshots", provider("snapshots", Location::Global), GET, container_service::surface::list_snapshots),
    Route {
        pattern: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/snapshots/{resourceName}",
        api: provider("snapshots", Location::Global),
        methods: &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
        target: Target::Type("Microsoft.ContainerService/snapshots"),
        handler: container_service::surface::snapshot,
    },
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/{*}", Api::None, &[], no_route),
    // Microsoft.ContainerService: tenant scope.
    route("/providers/Microsoft.ContainerService/operations", provider("operations", Location::Global), GET, container_service::surface::operations),
    // Every other namespace and type: ARM's refusals.
    route("/subscriptions/{subscriptionId}/providers/{namespace}/{resourceType}/{*}", Api::None, &[], unknown_type),
    route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{resourceType}/{*}", Api::None, &[], unknown_type),
    route("/subscriptions/{subscriptionId}/{*}", Api::None, &[], no_route),
];

/// Handles one ARM request (authentication already checked).
pub fn dispatch(state: &AppState, req: &mut ArmRequest) -> ArmResult<ArmResponse> {
    routes::dispatch(state, req, ROUTES)
}

/// ARM's answer when nothing is served at a path.
fn no_route(_: &AppState, req: &mut ArmRequest, _: &Params) -> ArmResult<ArmResponse> {
    Err(routes::no_route(req))
}

/// ARM's answer for a provider path nobody serves: `InvalidResourceNamespace` for a namespace
/// ARM does not know, `InvalidResourceType` for a type the namespace does not have.
fn unknown_type(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (namespace, resource_type) = (p.get("namespace"), p.get("resourceType"));
    let catalog = state.core.resource_types;
    if catalog.provider(namespace).is_none() {
        return Err(crate::core::error::Error::invalid_resource_namespace(namespace).into());
    }
    Err(ArmError::invalid_resource_type(
        resource_type,
        catalog.canonical_namespace(namespace),
        req.api_version().unwrap_or_default(),
    ))
}
