//! The mesh's rules about its components: ingress and egress gateways, the plug-in CA and the
//! proxy redirection mechanism.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "mesh.ingress.mode",
        source: "tsg (text)",
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
        source: "tsg (text)",
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
        id: "mesh.egress.apiVersion",
        source: "azure-cli #28809 (text, BadRequest); spec field history",
        description: "egress gateways need an api-version with the Static Egress Gateway schema",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            let api = i.api_version.to_ascii_lowercase();
            let too_old = if api.ends_with("-preview") {
                api.as_str() < EGRESS_PREVIEW_API_MIN
            } else {
                api.as_str() < EGRESS_STABLE_API_MIN
            };
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
        source: "docs istio-deploy-egress (limit); text chosen by aksim",
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
        source: "docs istio-deploy-egress (regex, 1-53); text chosen by aksim",
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
        source: "Kubernetes namespace rule; text chosen by aksim",
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
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
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
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
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
        id: "mesh.pluginCa.parameters",
        source: "tsg (text)",
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
        source: "tsg (text)",
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
        source: "tsg (text)",
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
        source: "docs istio-plugin-ca (rule); text chosen by aksim",
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
        source: "spec enum ProxyRedirectionMechanism; text chosen by aksim",
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
        source: "docs istio-cni (rule); text chosen by aksim",
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
];
