//! The mesh's rules about its components: ingress and egress gateways, the plug-in CA and the
//! proxy redirection mechanism.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "mesh.ingress.mode",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "ingress gateway mode is External or Internal",
        check: |i| {
            for g in i
                .istio_components()
                .map_or(&[][..], |x| &x.ingress_gateways)
            {
                let ok = ["External", "Internal"]
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&g.mode));
                if !ok {
                    return Err(bad(format!("Invalid istio ingress mode: {}", g.mode)));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.ingress.count",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "at most one ingress gateway per mode",
        check: |i| {
            let gateways = i
                .istio_components()
                .map_or(&[][..], |x| &x.ingress_gateways);
            for mode in ["External", "Internal"] {
                let n = gateways
                    .iter()
                    .filter(|g| canonical(&g.mode, &["External", "Internal"]) == mode)
                    .count();
                if n > INGRESS_GATEWAYS_PER_MODE_MAX {
                    return Err(bad(format!(
                        "Too many ingresses for type: {mode}. Only \
                         {INGRESS_GATEWAYS_PER_MODE_MAX} ingress gateway are allowed"
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.disallowed",
        since: REVISIONS_FIRST_DAY,
        until: Some(EGRESS_FIRST_DAY),
        source: "azure-cli #28809 (text, BadRequest, 2024-04); docs istio-about limitation \
                 ('doesn't yet support egress gateways') until 2025-04-28",
        aksim_text: false,
        description: "before Istio egress gateways were offered, enabling one is refused",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            if enabled {
                return Err(bad(
                    "Use of Istio egress gateway for Azure Service Mesh is disallowed.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.apiVersion",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "azure-cli #28809 (text, BadRequest); spec field history",
        aksim_text: false,
        description: "egress gateways need an api-version with the Static Egress Gateway schema",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            let too_old =
                !api_at_least(i.api_version, EGRESS_STABLE_API_MIN, EGRESS_PREVIEW_API_MIN);
            if enabled && too_old {
                return Err(bad(
                    "Use of Istio egress gateway for Azure Service Mesh is disallowed.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.count",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress (limit); text chosen by aksim",
        aksim_text: true,
        description: "at most 500 egress gateways",
        check: |i| {
            let n = i.istio_components().map_or(0, |x| x.egress_gateways.len());
            if n > EGRESS_GATEWAYS_MAX {
                return Err(bad(format!(
                    "Too many egress gateways: {n}. Only {EGRESS_GATEWAYS_MAX} egress gateways \
                     are allowed per cluster"
                )));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.name",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress (regex, 1-53); text chosen by aksim",
        aksim_text: true,
        description: "egress gateway names are DNS-1123 subdomains of 1-53 characters",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let name = g.name.as_deref().unwrap_or("");
                if name.is_empty() || name.len() > EGRESS_NAME_MAX_CHARS || !is_dns_subdomain(name)
                {
                    return Err(bad(format!(
                        "Istio egress gateway name '{name}' is invalid. Name must be between 1 \
                         and {EGRESS_NAME_MAX_CHARS} characters, consist of lower case \
                         alphanumeric characters, '-' or '.', and start and end with an \
                         alphanumeric character."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.namespace",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "Kubernetes namespace rule; text chosen by aksim",
        aksim_text: true,
        description: "egress gateway namespaces are DNS-1123 labels",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let ns = g.namespace_or_default();
                if ns.len() > 63 || ns.contains('.') || !is_dns_subdomain(ns) {
                    return Err(bad(format!(
                        "Istio egress gateway namespace '{ns}' is invalid. A namespace must be \
                         between 1 and 63 characters, consist of lower case alphanumeric \
                         characters or '-', and start and end with an alphanumeric character."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.gatewayConfigurationName",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
        aksim_text: true,
        description: "an enabled egress gateway names its StaticGatewayConfiguration",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let missing = g
                    .gateway_configuration_name
                    .as_deref()
                    .is_none_or(|n| n.trim().is_empty());
                if g.enabled && missing {
                    return Err(bad(format!(
                        "Istio egress gateway '{}' in namespace '{}' requires \
                         gatewayConfigurationName, the name of its StaticGatewayConfiguration.",
                        g.name.as_deref().unwrap_or(""),
                        g.namespace_or_default()
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.unique",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
        aksim_text: true,
        description: "egress gateway names are unique per namespace",
        check: |i| {
            let gateways = i.istio_components().map_or(&[][..], |x| &x.egress_gateways);
            for (n, g) in gateways.iter().enumerate() {
                let dup = gateways[..n].iter().any(|o| {
                    o.name == g.name && o.namespace_or_default() == g.namespace_or_default()
                });
                if dup {
                    return Err(bad(format!(
                        "Istio egress gateway '{}' is defined more than once in namespace '{}'. \
                         Egress gateway names must be unique per namespace.",
                        g.name.as_deref().unwrap_or(""),
                        g.namespace_or_default()
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.staticEgressGateway",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress ('hard dependency on the Static Egress Gateway'); \
                 egress tsg (rule); text chosen by aksim",
        aksim_text: true,
        description: "an enabled egress gateway needs the Static Egress Gateway \
                      (networkProfile.staticEgressGatewayProfile.enabled)",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            let seg = i
                .new
                .property("networkProfile.staticEgressGatewayProfile.enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if enabled && !seg {
                return Err(bad(
                    "Istio egress gateways require the Static Egress Gateway feature. Enable it \
                     on the cluster (networkProfile.staticEgressGatewayProfile.enabled, az aks \
                     update --enable-static-egress-gateway) before enabling an Istio egress \
                     gateway.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.podSubnet",
        since: EGRESS_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-egress, egress tsg (rule: Azure CNI Pod Subnet clusters \
                 unsupported); text chosen by aksim",
        aksim_text: true,
        description: "egress gateways are not offered on Azure CNI Pod Subnet clusters",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            let pools = i
                .new
                .property("agentPoolProfiles")
                .or_else(|| i.old.as_ref().and_then(|o| o.property("agentPoolProfiles")))
                .and_then(Value::as_array);
            let pod_subnet = pools.is_some_and(|p| {
                p.iter().any(|pool| {
                    pool.as_object().is_some_and(|m| {
                        m.iter().any(|(k, v)| {
                            k.eq_ignore_ascii_case("podSubnetID")
                                && v.as_str().is_some_and(|s| !s.is_empty())
                        })
                    })
                })
            });
            if enabled && pod_subnet {
                return Err(bad(
                    "Istio egress gateways are not supported on clusters that use Azure CNI \
                     with a pod subnet (agentPoolProfiles[].podSubnetID): the Static Egress \
                     Gateway they need is not available there.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.parameters",
        since: PLUGIN_CA_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "a plug-in CA names the key vault and all four objects",
        check: |i| {
            if let Some(p) = i.istio_components().and_then(|x| x.plugin_ca.as_ref()) {
                let missing = p.missing();
                if !missing.is_empty() {
                    return Err(bad(format!(
                        "ServiceMeshProfile is missing required parameters: {} for plugin \
                         certificate authority",
                        missing.join(", ")
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.keyVaultAddon",
        since: PLUGIN_CA_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "a plug-in CA needs the azureKeyvaultSecretsProvider add-on",
        check: |i| {
            let plugin = i.istio_components().is_some_and(|x| x.plugin_ca.is_some());
            if plugin && !i.new.addon_enabled("azureKeyvaultSecretsProvider") {
                return Err(bad(
                    "AzureKeyvaultSecretsProvider addon is required for Azure Service Mesh \
                     plugin certificate authority feature",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.keyVaultId",
        since: PLUGIN_CA_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "keyVaultId is a Microsoft.KeyVault/vaults resource id",
        check: |i| {
            let id = i
                .istio_components()
                .and_then(|x| x.plugin_ca.as_ref())
                .and_then(|p| p.key_vault_id.as_deref());
            match id {
                Some(id) if !is_key_vault_id(id) => Err(bad(format!(
                    "'KeyVaultId': '{id}' is not a valid Azure keyvault resource identifier. \
                     Please make sure that the format matches \
                     '/subscriptions//resourceGroups//providers/Microsoft.KeyVault/vaults/'"
                ))),
                _ => Ok(()),
            }
        },
    },
    Rule {
        id: "mesh.pluginCa.onlyWhenEnabling",
        since: PLUGIN_CA_FIRST_DAY,
        until: None,
        source: "docs istio-plugin-ca (rule); text chosen by aksim",
        aksim_text: true,
        description: "the certificate authority is set when enabling; changing it needs disable \
                      + enable",
        check: |i| {
            let Some(old) = i.old_istio() else {
                return Ok(());
            };
            let old_ca = old.istio.as_ref().and_then(|x| x.plugin_ca.as_ref());
            let new_ca = i.istio_components().and_then(|x| x.plugin_ca.as_ref());
            if i.new.istio().is_some() && old_ca != new_ca {
                return Err(bad(
                    "The certificate authority of Azure Service Mesh can only be configured when \
                     enabling the add-on. To switch certificate authority, disable the add-on \
                     and enable it again with the new certificate authority.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.proxyRedirection.valid",
        since: CNI_FIRST_DAY,
        until: None,
        source: "spec enum ProxyRedirectionMechanism; text chosen by aksim",
        aksim_text: true,
        description: "proxyRedirectionMechanism is InitContainers or CNIChaining",
        check: |i| {
            let m = i
                .istio_components()
                .and_then(|x| x.proxy_redirection_mechanism.as_deref());
            match m {
                Some(m)
                    if !["InitContainers", "CNIChaining"]
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(m)) =>
                {
                    Err(bad(format!(
                        "Invalid proxy redirection mechanism: {m}. Allowed values are \
                         'InitContainers' and 'CNIChaining'."
                    )))
                }
                _ => Ok(()),
            }
        },
    },
    Rule {
        id: "mesh.proxyRedirection.cniRevision",
        since: CNI_FIRST_DAY,
        until: None,
        source: "docs istio-cni (rule); text chosen by aksim",
        aksim_text: true,
        description: "CNIChaining needs every installed revision to be asm-1-25 or later",
        check: |i| {
            let cni = i
                .istio_components()
                .and_then(|x| x.proxy_redirection_mechanism.as_deref())
                .is_some_and(|m| m.eq_ignore_ascii_case("CNIChaining"));
            if !cni {
                return Ok(());
            }
            for r in i.new_revisions() {
                if revision_key(r) < CNI_CHAINING_MIN_REVISION {
                    return Err(bad(format!(
                        "Proxy redirection mechanism CNIChaining requires service mesh revision \
                         asm-{}-{} or later. Revision {r} does not support it.",
                        CNI_CHAINING_MIN_REVISION.0, CNI_CHAINING_MIN_REVISION.1
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.appRouting.gatewayApi",
        since: "2025-11-20",
        until: None,
        source: "docs app-routing-gateway-api ('cannot be enabled simultaneously'), \
                 istio-gateway-api limitations (rule); text chosen by aksim",
        aksim_text: true,
        description: "the Istio add-on and the application routing Gateway API implementation \
                      (appRoutingIstio) exclude each other",
        check: |i| {
            let mode =
                "ingressProfile.webAppRouting.gatewayAPIImplementations.appRoutingIstio.mode";
            let app_routing = i
                .new
                .property(mode)
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case("Enabled"));
            if i.new.istio().is_some() && app_routing {
                return Err(bad(
                    "The Istio-based service mesh add-on and the application routing Gateway API \
                     implementation (ingressProfile.webAppRouting.gatewayAPIImplementations.\
                     appRoutingIstio) cannot be enabled at the same time. Disable one of them \
                     first, in a separate operation.",
                ));
            }
            Ok(())
        },
    },
];
