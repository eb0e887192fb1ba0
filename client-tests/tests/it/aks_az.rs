//! The unmodified az CLI 2.91 against aksim's managedClusters and the Istio service-mesh
//! add-on (issue 4): the seed's commands verbatim on the 2023 catalogue (asm-1-17 → asm-1-18),
//! then every `az aks mesh` command of `../shared/reference/ARM-CONTRACT.md` §7, `az aks get-credentials` and
//! `az aks delete` on the current catalogue. Each command's success is asserted on the JSON az
//! prints, and each has at least one refusal: a server error that az shows as
//! `(BadRequest) <AKS's text>` (or `(OperationNotAllowed)`, `(ResourceNotFound)`, …) with exit
//! code 1 (3 for a 404), or az's own client-side check.
//!
//! Four independent tests, one aksim each, so they run in parallel. Providers are
//! auto-registered and operations end at the first poll, so an LRO command costs one az run.

use serde_json::{json, Value};

use crate::support::az::{Az, Login};
use crate::support::process::ClientRun;
use crate::support::sim::{send, spawn_sim, SimHandle};
use crate::support::SUB;

/// What az prints for an upgrade profile asked for during a canary upgrade (AKS's 400).
const CANARY_IN_PROGRESS: &str = "(BadRequest) Mesh upgrade is in progress. Please complete or \
                                  roll back the current upgrade before attempting to retrieve \
                                  versioning and compatibility information";
const TOO_MANY_REVISIONS: &str =
    "(BadRequest) Request exceeds maximum allowed number of revisions (2)";
const NOT_IN_PROGRESS: &str = "Azure Service Mesh upgrade is not in progress.";
const ALREADY_ENABLED: &str = "Istio has already been enabled for this cluster, please refer to \
                               https://aka.ms/asm-aks-upgrade-docs for more details on updating \
                               the mesh profile.";
const NOT_ENABLED: &str = "Istio has not been enabled for this cluster, please refer to \
                           https://aka.ms/asm-aks-addon-docs for more details on enabling Azure \
                           Service Mesh.";

/// A sim answering as AKS did on `day` (`None`: today), providers registered on first use,
/// operations done at the first poll; az logged in (env-only mode) with resource group `rg1`
/// in eastus. While the add-on was a preview, `AzureServiceMeshPreview` is registered first,
/// as the seed flow does.
async fn sim_with_group(day: Option<&str>) -> (SimHandle, Az) {
    let day = day.map(str::to_owned);
    let sim = spawn_sim(move |c| {
        c.auto_register_providers = true;
        c.azure_date = day;
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    let preview = sim.state.core.behaviour.day
        < aksim::core::timeline::parse_day("2024-02-26").expect("a day");
    if preview {
        az.register_mesh_preview(&sim).await;
    }
    let group = az
        .json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    assert_eq!(group["name"], "rg1", "{group:#}");
    (sim, az)
}

/// Sets how many virtual seconds operations of `kind` take (`PUT /_sim/operations/durations`).
async fn set_duration(sim: &SimHandle, kind: &str, seconds: f64) {
    let reply = send(
        sim.client
            .put(sim.url("/_sim/operations/durations"))
            .json(&json!({ kind: seconds })),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:#?}");
}

/// Asserts az failed with `code` and printed `text` on stderr (nothing on stdout).
#[track_caller]
fn assert_refused(run: &ClientRun, code: i32, text: &str) {
    assert_eq!(run.code, code, "{run}");
    assert!(run.stderr.contains(text), "expected {text:?} in:\n{run}");
    assert!(run.stdout.trim().is_empty(), "{run}");
}

/// Asserts a server refusal: `ERROR: (BadRequest) <message>` on stderr, exit code 1.
#[track_caller]
fn assert_bad_request(run: &ClientRun, message: &str) {
    assert_refused(run, 1, &format!("ERROR: (BadRequest) {message}"));
    assert!(run.stderr.contains(&format!("Message: {message}")), "{run}");
}

/// `serviceMeshProfile.istio.revisions` of a cluster az printed.
fn revisions(cluster: &Value) -> Value {
    cluster["serviceMeshProfile"]["istio"]["revisions"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_commands_verbatim_on_the_2023_catalogue() {
    let (_sim, az) = sim_with_group(Some("2023-12-01")).await;

    // az aks create … --enable-asm --revision asm-1-17
    let c1 = az
        .json(&[
            "aks",
            "create",
            "--resource-group",
            "rg1",
            "--name",
            "c1",
            "--enable-asm",
            "--revision",
            "asm-1-17",
        ])
        .await;
    assert_eq!(c1["provisioningState"], "Succeeded", "{c1:#}");
    assert_eq!(c1["serviceMeshProfile"]["mode"], "Istio", "{c1:#}");
    assert_eq!(revisions(&c1), json!(["asm-1-17"]), "{c1:#}");
    assert_eq!(c1["kubernetesVersion"], "1.27", "{c1:#}");

    // az aks create … --enable-azure-service-mesh (no --revision: the server's default, n-1)
    let c2 = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c2",
            "--enable-azure-service-mesh",
            "--query",
            "serviceMeshProfile",
        ])
        .await;
    assert_eq!(c2["mode"], "Istio", "{c2:#}");
    assert_eq!(c2["istio"]["revisions"], json!(["asm-1-17"]), "{c2:#}");
    assert!(c2["istio"]["components"].is_object(), "{c2:#}");

    // Istio CNI did not exist in 2023 (2025-10-20): AKS of that day ignores the field az sends.
    let cni = az
        .ok(&[
            "aks",
            "mesh",
            "proxy-redirection-mechanism",
            "-g",
            "rg1",
            "-n",
            "c2",
            "--mechanism",
            "CNIChaining",
            "--query",
            "serviceMeshProfile.istio.components.proxyRedirectionMechanism",
        ])
        .await;
    assert_eq!(cni.stdout.trim(), "", "no mechanism was stored: {cni}");

    // --enable-azure-service-mesh --revision asm-1-18: the newer revision on request.
    let c4 = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c4",
            "--enable-azure-service-mesh",
            "--revision",
            "asm-1-18",
            "--query",
            "serviceMeshProfile.istio.revisions",
        ])
        .await;
    assert_eq!(c4, json!(["asm-1-18"]));

    // Refusals at create: az's own regex, then the server for a revision it does not offer.
    let not_asm = az
        .run(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "bad",
            "--enable-asm",
            "--revision",
            "1.17",
        ])
        .await;
    assert_refused(
        &not_asm,
        1,
        "Revision 1.17 is not supported by the service mesh add-on.",
    );
    let unknown = az
        .run(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "bad",
            "--enable-asm",
            "--revision",
            "asm-1-16",
        ])
        .await;
    assert_bad_request(
        &unknown,
        "Requested change in revisions is not allowed. Reason: Revision asm-1-16 is not \
         supported by the service mesh add-on.",
    );

    // az aks mesh enable on a meshed cluster: refused by az itself, nothing is sent.
    let again = az
        .run(&[
            "aks",
            "mesh",
            "enable",
            "--resource-group",
            "rg1",
            "--name",
            "c1",
        ])
        .await;
    assert_refused(&again, 1, ALREADY_ENABLED);

    // az aks show … --query 'serviceMeshProfile.mode'
    let mode = az
        .ok(&[
            "aks",
            "show",
            "--resource-group",
            "rg1",
            "--name",
            "c1",
            "--query",
            "serviceMeshProfile.mode",
        ])
        .await;
    assert_eq!(mode.stdout.trim(), "\"Istio\"", "{mode}");

    // A cluster created without the mesh has no serviceMeshProfile; az aks mesh enable adds it.
    let plain = az.json(&["aks", "create", "-g", "rg1", "-n", "c3"]).await;
    assert!(plain.get("serviceMeshProfile").is_none() || plain["serviceMeshProfile"].is_null());
    let enabled = az
        .json(&[
            "aks",
            "mesh",
            "enable",
            "--resource-group",
            "rg1",
            "--name",
            "c3",
        ])
        .await;
    assert_eq!(
        enabled["serviceMeshProfile"]["mode"], "Istio",
        "{enabled:#}"
    );
    assert_eq!(revisions(&enabled), json!(["asm-1-17"]), "{enabled:#}");
    let mode = az
        .ok(&[
            "aks",
            "show",
            "--resource-group",
            "rg1",
            "--name",
            "c3",
            "--query",
            "serviceMeshProfile.mode",
        ])
        .await;
    assert_eq!(mode.stdout.trim(), "\"Istio\"", "{mode}");

    // The seed era's catalogue and the canary upgrade asm-1-17 → asm-1-18.
    let catalogue = az
        .json(&["aks", "mesh", "get-revisions", "-l", "eastus"])
        .await;
    let listed: Vec<(&str, &Value)> = catalogue["meshRevisions"]
        .as_array()
        .expect("meshRevisions")
        .iter()
        .map(|r| (r["revision"].as_str().unwrap_or(""), &r["upgrades"]))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("asm-1-17", &json!(["asm-1-18"])),
            ("asm-1-18", &Value::Null)
        ],
        "{catalogue:#}"
    );
    assert_eq!(
        catalogue["meshRevisions"][0]["compatibleWith"][0]["name"], "kubernetes",
        "the 2023 catalogue uses the legacy compatibleWith name: {catalogue:#}"
    );
    let upgrades = az
        .json(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "c1"])
        .await;
    assert_eq!(upgrades["revision"], "asm-1-17", "{upgrades:#}");
    assert_eq!(upgrades["upgrades"], json!(["asm-1-18"]), "{upgrades:#}");

    let started = az
        .json(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--revision",
            "asm-1-18",
        ])
        .await;
    assert_eq!(revisions(&started), json!(["asm-1-17", "asm-1-18"]));
    let during = az
        .run(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "c1"])
        .await;
    assert_refused(&during, 1, CANARY_IN_PROGRESS);
    // az appends without checking: a third revision is the server's to refuse.
    let third = az
        .run(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--revision",
            "asm-1-18",
        ])
        .await;
    assert_bad_request(
        &third,
        "Request exceeds maximum allowed number of revisions (2)",
    );
    let completed = az
        .json(&[
            "aks", "mesh", "upgrade", "complete", "-g", "rg1", "-n", "c1", "--yes",
        ])
        .await;
    assert_eq!(revisions(&completed), json!(["asm-1-18"]), "{completed:#}");
    let none = az
        .run(&[
            "aks", "mesh", "upgrade", "complete", "-g", "rg1", "-n", "c1", "--yes",
        ])
        .await;
    assert_refused(&none, 1, NOT_IN_PROGRESS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_upgrades_on_2026_04_21() {
    // The AKS of 2026-04-21 (as recorded that day): asm-1-26 .. asm-1-28, upgrades n+1 and n+2.
    let (sim, az) = sim_with_group(Some("2026-04-21")).await;
    let created = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "up",
            "--enable-asm",
            "--revision",
            "asm-1-26",
        ])
        .await;
    assert_eq!(revisions(&created), json!(["asm-1-26"]), "{created:#}");
    let upgrades = az
        .json(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "up"])
        .await;
    assert_eq!(upgrades["upgrades"], json!(["asm-1-27", "asm-1-28"]));
    let names: Vec<&str> = upgrades["compatibleWith"]
        .as_array()
        .expect("compatibleWith")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["KubernetesOfficial", "AKSLongTermSupport"]);

    // Not an allowed target (three minors up): the server's 400 names the valid ones.
    let skip = az
        .run(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "asm-1-29",
        ])
        .await;
    assert_bad_request(
        &skip,
        "Requested change in revisions is not allowed. Reason: Revision asm-1-29 is not a valid \
         upgrade target for revision asm-1-26. Valid upgrade targets: asm-1-27, asm-1-28.",
    );
    // az's own regex.
    let malformed = az
        .run(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "1.28",
        ])
        .await;
    assert_refused(
        &malformed,
        1,
        "Revision 1.28 is not supported by the service mesh add-on.",
    );

    // start → rollback keeps the lower revision.
    let started = az
        .json(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "asm-1-27",
        ])
        .await;
    assert_eq!(revisions(&started), json!(["asm-1-26", "asm-1-27"]));
    let during = az
        .run(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "up"])
        .await;
    assert_refused(&during, 1, CANARY_IN_PROGRESS);
    let third = az
        .run(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "asm-1-28",
        ])
        .await;
    assert_refused(&third, 1, TOO_MANY_REVISIONS);
    let rolled_back = az
        .json(&[
            "aks", "mesh", "upgrade", "rollback", "-g", "rg1", "-n", "up", "--yes",
        ])
        .await;
    assert_eq!(revisions(&rolled_back), json!(["asm-1-26"]));
    let nothing = az
        .run(&[
            "aks", "mesh", "upgrade", "rollback", "-g", "rg1", "-n", "up", "--yes",
        ])
        .await;
    assert_refused(&nothing, 1, NOT_IN_PROGRESS);

    // start --no-wait (skipping one minor, allowed) while an update takes ten virtual minutes:
    // the cluster shows Updating and another write is refused until the clock moves on.
    set_duration(&sim, "clusterUpdate", 600.0).await;
    let no_wait = az
        .ok(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "asm-1-28",
            "--no-wait",
        ])
        .await;
    assert!(no_wait.stdout.trim().is_empty(), "{no_wait}");
    let updating = az
        .json(&[
            "aks",
            "show",
            "-g",
            "rg1",
            "-n",
            "up",
            "--query",
            "{state: provisioningState, revisions: serviceMeshProfile.istio.revisions}",
        ])
        .await;
    assert_eq!(
        updating,
        json!({"state": "Updating", "revisions": ["asm-1-26", "asm-1-28"]})
    );
    let busy = az
        .run(&[
            "aks", "mesh", "upgrade", "complete", "-g", "rg1", "-n", "up", "--yes",
        ])
        .await;
    assert_refused(
        &busy,
        1,
        "(OperationNotAllowed) Operation is not allowed: Another operation (Updating) is in \
         progress, please wait for it to finish before starting a new operation.",
    );
    sim.advance(600.0);
    set_duration(&sim, "clusterUpdate", 0.0).await;
    let completed = az
        .json(&[
            "aks", "mesh", "upgrade", "complete", "-g", "rg1", "-n", "up", "--yes",
        ])
        .await;
    assert_eq!(revisions(&completed), json!(["asm-1-28"]));
    let downgrade = az
        .run(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "up",
            "--revision",
            "asm-1-27",
        ])
        .await;
    assert_bad_request(
        &downgrade,
        "Requested change in revisions is not allowed. Reason: Downgrading the service mesh from \
         revision asm-1-28 to asm-1-27 is not supported.",
    );
    let upgrades = az
        .json(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "up"])
        .await;
    assert_eq!(upgrades["revision"], "asm-1-28", "{upgrades:#}");
    assert_eq!(upgrades["upgrades"], json!(["asm-1-29"]), "{upgrades:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_redirection_and_disable_on_the_current_catalogue() {
    let (_sim, az) = sim_with_group(None).await;
    let created = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--enable-asm",
            "--enable-addons",
            "azure-keyvault-secrets-provider",
            "--query",
            "{mesh: serviceMeshProfile, kv: addonProfiles.azureKeyvaultSecretsProvider.enabled}",
        ])
        .await;
    assert_eq!(created["mesh"]["istio"]["revisions"], json!(["asm-1-29"]));
    assert_eq!(created["kv"], true, "{created:#}");
    // Today's get-upgrades: asm-1-30 is the one target, both support plans listed.
    let upgrades = az
        .json(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "gw"])
        .await;
    assert_eq!(upgrades["revision"], "asm-1-29", "{upgrades:#}");
    assert_eq!(upgrades["upgrades"], json!(["asm-1-30"]), "{upgrades:#}");
    let plans: Vec<&str> = upgrades["compatibleWith"]
        .as_array()
        .expect("compatibleWith")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        plans,
        ["KubernetesOfficial", "AKSLongTermSupport"],
        "{upgrades:#}"
    );

    // The table output: az flattens revision × compatibleWith, "None available" for the newest.
    let table = az
        .ok(&[
            "aks",
            "mesh",
            "get-revisions",
            "--location",
            "eastus",
            "--output",
            "table",
        ])
        .await;
    let rows: Vec<Vec<&str>> = table
        .stdout
        .lines()
        .skip(2)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let firsts: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2])).collect();
    assert_eq!(
        firsts,
        [
            ("asm-1-29", "asm-1-30", "KubernetesOfficial"),
            ("asm-1-29", "asm-1-30", "AKSLongTermSupport"),
            ("asm-1-30", "None available", "KubernetesOfficial"),
            ("asm-1-30", "None available", "AKSLongTermSupport"),
        ],
        "{table}"
    );

    let nowhere = az
        .run(&["aks", "mesh", "get-revisions", "--location", "nowhere"])
        .await;
    assert_refused(
        &nowhere,
        1,
        "(LocationNotAvailableForResourceType) The provided location 'nowhere' is not available \
         for resource type 'Microsoft.ContainerService/locations/meshRevisionProfiles'.",
    );

    let components = |t: &'static str| {
        [
            "aks",
            "mesh",
            t,
            "-g",
            "rg1",
            "-n",
            "gw",
            "--query",
            "serviceMeshProfile.istio.components",
        ]
    };
    let ext = az
        .json(
            &[
                &components("enable-ingress-gateway")[..],
                &["--ingress-gateway-type", "External"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        ext["ingressGateways"],
        json!([{"enabled": true, "mode": "External"}])
    );
    let int = az
        .json(
            &[
                &components("enable-ingress-gateway")[..],
                &["--ingress-gateway-type", "internal"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        int["ingressGateways"],
        json!([{"enabled": true, "mode": "External"}, {"enabled": true, "mode": "Internal"}])
    );
    // az refuses an unknown type itself (usage error, exit code 2).
    let public = az
        .run(&[
            "aks",
            "mesh",
            "enable-ingress-gateway",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--ingress-gateway-type",
            "Public",
        ])
        .await;
    assert_refused(
        &public,
        2,
        "'Public' is not a valid value for '--ingress-gateway-type'. Allowed values: External, \
         Internal.",
    );
    let off = az
        .json(
            &[
                &components("disable-ingress-gateway")[..],
                &["--ingress-gateway-type", "External", "--yes"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        off["ingressGateways"],
        // AKS answers a disabled gateway without `enabled` (recorded az traffic); az shows null.
        json!([{"enabled": null, "mode": "External"}, {"enabled": true, "mode": "Internal"}])
    );
    let off = az
        .json(
            &[
                &components("disable-ingress-gateway")[..],
                &["--ingress-gateway-type", "Internal", "--yes"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        off["ingressGateways"],
        json!([{"enabled": null, "mode": "External"}, {"enabled": null, "mode": "Internal"}])
    );

    // Egress needs the Static Egress Gateway first (a hard dependency, docs istio-deploy-egress).
    let no_seg = az
        .run(&[
            "aks",
            "mesh",
            "enable-egress-gateway",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--istio-egressgateway-name",
            "egw1",
            "--gateway-configuration-name",
            "gwc1",
        ])
        .await;
    assert_bad_request(
        &no_seg,
        "Istio egress gateways require the Static Egress Gateway feature.",
    );
    az.ok(&[
        "aks",
        "update",
        "-g",
        "rg1",
        "-n",
        "gw",
        "--enable-static-egress-gateway",
    ])
    .await;
    // Egress: Static Egress Gateway style (name + gateway configuration), default namespace.
    let egress = az
        .json(
            &[
                &components("enable-egress-gateway")[..],
                &[
                    "--istio-egressgateway-name",
                    "egw1",
                    "--gateway-configuration-name",
                    "gwc1",
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        egress["egressGateways"],
        json!([{"enabled": true, "name": "egw1", "namespace": "aks-istio-egress",
                "gatewayConfigurationName": "gwc1"}])
    );
    let bad_name = az
        .run(&[
            "aks",
            "mesh",
            "enable-egress-gateway",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--istio-egressgateway-name",
            "Bad_Name",
            "--gateway-configuration-name",
            "gwc1",
        ])
        .await;
    assert_refused(
        &bad_name,
        1,
        "Istio egress name Bad_Name is invalid. Name must be between 1 and 63 characters",
    );
    // 58 characters: az (≤63) lets it through, AKS (≤53) refuses it.
    let long = "e".repeat(58);
    let too_long = az
        .run(&[
            "aks",
            "mesh",
            "enable-egress-gateway",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--istio-egressgateway-name",
            &long,
            "--gateway-configuration-name",
            "gwc1",
        ])
        .await;
    assert_bad_request(
        &too_long,
        &format!("Istio egress gateway name '{long}' is invalid. Name must be between 1 and 53 characters"),
    );
    let egress = az
        .json(
            &[
                &components("disable-egress-gateway")[..],
                &["--istio-egressgateway-name", "egw1", "--yes"],
            ]
            .concat(),
        )
        .await;
    // Disabled: answered without `enabled` as AKS does (az shows null).
    assert_eq!(
        egress["egressGateways"][0]["enabled"],
        Value::Null,
        "{egress:#}"
    );
    let twice = az
        .run(&[
            "aks",
            "mesh",
            "disable-egress-gateway",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--istio-egressgateway-name",
            "egw1",
            "--yes",
        ])
        .await;
    assert_refused(
        &twice,
        1,
        "Egress gateway egw1 in namespace aks-istio-egress is already disabled.",
    );

    // Proxy redirection (az 2.91 has the command).
    let mechanism = az
        .ok(&[
            "aks",
            "mesh",
            "proxy-redirection-mechanism",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--mechanism",
            "CNIChaining",
            "--query",
            "serviceMeshProfile.istio.components.proxyRedirectionMechanism",
        ])
        .await;
    assert_eq!(mechanism.stdout.trim(), "\"CNIChaining\"", "{mechanism}");
    let same = az
        .run(&[
            "aks",
            "mesh",
            "proxy-redirection-mechanism",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--mechanism",
            "CNIChaining",
        ])
        .await;
    assert_refused(
        &same,
        1,
        "Proxy redirection mechanism is already set to 'CNIChaining' for this cluster.",
    );

    // disable collapses the profile to {"mode":"Disabled"}; a second disable is az's refusal.
    let disabled = az
        .json(&[
            "aks",
            "mesh",
            "disable",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--yes",
            "--query",
            "serviceMeshProfile",
        ])
        .await;
    assert_eq!(disabled, json!({"mode": "Disabled", "istio": null}));
    let mode = az
        .ok(&[
            "aks",
            "show",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--query",
            "serviceMeshProfile.mode",
        ])
        .await;
    assert_eq!(mode.stdout.trim(), "\"Disabled\"", "{mode}");
    let again = az
        .run(&["aks", "mesh", "disable", "-g", "rg1", "-n", "gw", "--yes"])
        .await;
    assert_refused(&again, 1, NOT_ENABLED);
    // No mesh, no upgrade profile: az warns and prints nothing.
    let no_profile = az
        .ok(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "gw"])
        .await;
    assert!(no_profile.stdout.trim().is_empty(), "{no_profile}");
    assert!(
        no_profile.stderr.contains(
            "WARNING: No mesh upgrade profiles found for the cluster 'gw' in the resource group \
             'rg1'."
        ),
        "{no_profile}"
    );
    // Enabling again from Disabled with a revision the service no longer installs.
    let retired = az
        .run(&[
            "aks",
            "mesh",
            "enable",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--revision",
            "asm-1-26",
        ])
        .await;
    assert_bad_request(
        &retired,
        "Requested change in revisions is not allowed. Reason: Revision asm-1-26 is not \
         supported by the service mesh add-on.",
    );
    // The plug-in CA can be set only when enabling: az needs all five arguments.
    let vault =
        format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1");
    let partial = az
        .run(&[
            "aks",
            "mesh",
            "enable",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--key-vault-id",
            &vault,
        ])
        .await;
    assert_refused(
        &partial,
        1,
        "--ca-cert-object-name is required to use Azure Service Mesh plugin CA feature.",
    );
    let plugin = az
        .json(&[
            "aks",
            "mesh",
            "enable",
            "-g",
            "rg1",
            "-n",
            "gw",
            "--key-vault-id",
            &vault,
            "--ca-cert-object-name",
            "ca-cert",
            "--ca-key-object-name",
            "ca-key",
            "--root-cert-object-name",
            "root-cert",
            "--cert-chain-object-name",
            "cert-chain",
            "--query",
            "serviceMeshProfile",
        ])
        .await;
    assert_eq!(plugin["mode"], "Istio", "{plugin:#}");
    assert_eq!(
        plugin["istio"]["revisions"],
        json!(["asm-1-29"]),
        "{plugin:#}"
    );
    assert_eq!(
        plugin["istio"]["certificateAuthority"]["plugin"],
        json!({"keyVaultId": vault, "certObjectName": "ca-cert", "keyObjectName": "ca-key",
               "rootCertObjectName": "root-cert", "certChainObjectName": "cert-chain"})
    );
}

/// The value of `key:` in the kubeconfig YAML az wrote (first occurrence, trimmed).
fn yaml_value<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines()
        .map(str::trim_start)
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// Runs `az aks get-credentials … --file <tmp>` and returns the file az wrote.
async fn credentials(az: &Az, cluster: &str, extra: &[&str]) -> (ClientRun, String) {
    let dir = tempfile::tempdir().expect("temp dir for the kubeconfig");
    let file = dir.path().join("config");
    let file_arg = file.display().to_string();
    let mut args = vec![
        "aks",
        "get-credentials",
        "-g",
        "rg1",
        "-n",
        cluster,
        "--file",
        &file_arg,
    ];
    args.extend_from_slice(extra);
    let run = az.run(&args).await;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    (run, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_delete() {
    let (sim, az) = sim_with_group(None).await;
    az.ok(&[
        "aks",
        "create",
        "-g",
        "rg1",
        "-n",
        "k1",
        "--enable-asm",
        "--query",
        "name",
    ])
    .await;
    let locked = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "locked",
            "--disable-local-accounts",
            "--query",
            "disableLocalAccounts",
        ])
        .await;
    assert_eq!(locked, json!(true));

    // User credentials: the plane's URL on aksim, aksim's CA, a token that the plane accepts.
    let (run, kubeconfig) = credentials(&az, "k1", &[]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr.contains("Merged \"k1\" as current context"),
        "{run}"
    );
    let server = yaml_value(&kubeconfig, "server").expect("a server");
    assert_eq!(
        server,
        format!("{}/k8s/{SUB}/rg1/k1", sim.base_url),
        "{kubeconfig}"
    );
    let ca = yaml_value(&kubeconfig, "certificate-authority-data").expect("CA data");
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD
        .decode(ca)
        .expect("base64 CA data");
    assert_eq!(String::from_utf8_lossy(&ca), sim.ca_pem, "aksim's CA");
    assert_eq!(yaml_value(&kubeconfig, "current-context"), Some("k1"));
    assert_eq!(yaml_value(&kubeconfig, "user"), Some("clusterUser_rg1_k1"));
    let token = yaml_value(&kubeconfig, "token").expect("a token");
    assert!(!token.is_empty(), "{kubeconfig}");
    // The token opens the cluster's plane, where the add-on's namespace exists.
    let namespace = send(
        sim.client
            .get(format!("{server}/api/v1/namespaces/aks-istio-system"))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(namespace.status, 200, "{namespace:#?}");
    assert_eq!(namespace.body["metadata"]["name"], "aks-istio-system");

    // Admin credentials: az renames the context `<name>-admin` (user `clusterAdmin_…`).
    let (run, admin) = credentials(&az, "k1", &["--admin"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(yaml_value(&admin, "current-context"), Some("k1-admin"));
    assert_eq!(yaml_value(&admin, "user"), Some("clusterAdmin_rg1_k1"));
    assert_eq!(yaml_value(&admin, "server"), Some(server));
    // …and are refused for a cluster without local accounts.
    let (refused, _) = credentials(&az, "locked", &["--admin"]).await;
    assert_bad_request(
        &refused,
        "Getting static credential is not allowed because this cluster is set to disable local \
         accounts.",
    );
    let (missing, _) = credentials(&az, "nope", &[]).await;
    assert_refused(&missing, 3, "(ResourceNotFound)");

    // az aks delete --yes waits for the operation.
    let deleted = az
        .ok(&["aks", "delete", "-g", "rg1", "-n", "k1", "--yes"])
        .await;
    assert!(deleted.stdout.trim().is_empty(), "{deleted}");
    let gone = az.run(&["aks", "show", "-g", "rg1", "-n", "k1"]).await;
    assert_refused(
        &gone,
        3,
        "(ResourceNotFound) The Resource 'Microsoft.ContainerService/managedClusters/k1' under \
         resource group 'rg1' was not found.",
    );

    // --no-wait returns at the 202; the cluster shows Deleting until the clock moves on.
    set_duration(&sim, "clusterDelete", 600.0).await;
    let no_wait = az
        .ok(&[
            "aks",
            "delete",
            "-g",
            "rg1",
            "-n",
            "locked",
            "--yes",
            "--no-wait",
        ])
        .await;
    assert!(no_wait.stdout.trim().is_empty(), "{no_wait}");
    let state = az
        .ok(&[
            "aks",
            "show",
            "-g",
            "rg1",
            "-n",
            "locked",
            "--query",
            "provisioningState",
        ])
        .await;
    assert_eq!(state.stdout.trim(), "\"Deleting\"", "{state}");
    sim.advance(600.0);
    let listed = az
        .json(&["aks", "list", "-g", "rg1", "--query", "[].name"])
        .await;
    assert_eq!(listed, json!([]));
}
