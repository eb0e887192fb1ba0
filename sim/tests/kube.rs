//! Router tests of the per-cluster Kubernetes plane: discovery and OpenAPI, `Status` errors,
//! namespaces (CRUD, selectors, paging, patch types, conflicts, the Terminating lifecycle on
//! the virtual clock), Table output, pods and sidecar injection, configmap admission, Istio
//! custom resources and the add-on's webhook, add-on reconcile, self-managed Istio detection,
//! and watches.

mod common;

use std::time::Duration;

use aksim::core::kube::MeshView;
use aksim::limits;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::kube::{enabled, k8s, TOKEN};
use common::{Reply, Sim};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const WEBHOOK_PREFIX: &str =
    "admission webhook \"azure-service-mesh-ccp-validating-webhook.azmk8s.io\" denied the request: ";

fn sim_with_plane(version: &str) -> Sim {
    let sim = Sim::new();
    sim.plane(version);
    sim
}

fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn ns_labelled(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
}

/// Asserts a `Status` failure with `code`, `reason` and a message containing `text`.
fn assert_status(r: &Reply, code: u16, reason: &str, text: &str) {
    assert_eq!(r.status.as_u16(), code, "body: {}", r.body);
    assert_eq!(r.body["kind"], "Status", "body: {}", r.body);
    assert_eq!(r.body["apiVersion"], "v1");
    assert_eq!(r.body["status"], "Failure");
    assert_eq!(r.body["code"], code);
    assert_eq!(r.body["reason"], reason, "body: {}", r.body);
    let message = r.body["message"].as_str().unwrap_or("");
    assert!(message.contains(text), "message {message:?} lacks {text:?}");
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn namespace_names(sim: &Sim) -> Vec<String> {
    names(&sim.kget("/api/v1/namespaces").await.body)
}

#[tokio::test]
async fn discovery_version_and_openapi() {
    let sim = sim_with_plane("1.33.2");
    let v = sim.kget("/version").await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["major"], "1");
    assert_eq!(v.body["minor"], "33");
    assert_eq!(v.body["gitVersion"], "v1.33.2");

    let api = sim.kget("/api").await;
    assert_eq!(api.body["kind"], "APIVersions");
    assert_eq!(api.body["versions"], json!(["v1"]));

    let core = sim.kget("/api/v1").await;
    assert_eq!(core.body["kind"], "APIResourceList");
    let nsres = core.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "namespaces")
        .unwrap()
        .clone();
    assert_eq!(nsres["namespaced"], false);
    assert_eq!(nsres["kind"], "Namespace");
    assert_eq!(nsres["singularName"], "namespace");
    assert_eq!(nsres["shortNames"], json!(["ns"]));
    assert!(nsres["verbs"].as_array().unwrap().contains(&json!("watch")));

    // Istio groups are served exactly while their CRDs exist (the add-on installs them).
    let apis = sim.kget("/apis").await;
    assert_eq!(apis.body["kind"], "APIGroupList");
    let group_names = |b: &Value| -> Vec<String> {
        b["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(group_names(&apis.body).contains(&"apps".to_owned()));
    assert!(!group_names(&apis.body).contains(&"networking.istio.io".to_owned()));
    let missing = sim.kget("/apis/networking.istio.io/v1alpha3").await;
    assert_status(
        &missing,
        404,
        "NotFound",
        "could not find the requested resource",
    );

    sim.reconcile(&enabled(&["asm-1-17"]));
    let apis = sim.kget("/apis").await.body;
    for g in [
        "networking.istio.io",
        "security.istio.io",
        "telemetry.istio.io",
        "extensions.istio.io",
        "install.istio.io",
    ] {
        assert!(group_names(&apis).contains(&g.to_owned()), "{g}");
    }
    let networking = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "networking.istio.io")
        .unwrap()
        .clone();
    let versions: Vec<&str> = networking["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, vec!["v1", "v1beta1", "v1alpha3"]);
    assert_eq!(networking["preferredVersion"]["version"], "v1");
    let v1a3 = sim.kget("/apis/networking.istio.io/v1alpha3").await.body;
    let kinds: Vec<&str> = v1a3["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"EnvoyFilter") && kinds.contains(&"VirtualService"));
    let v1b1 = sim.kget("/apis/networking.istio.io/v1beta1").await.body;
    assert!(v1b1.to_string().contains("ProxyConfig"));
    let group = sim.kget("/apis/security.istio.io").await.body;
    assert_eq!(group["kind"], "APIGroup");

    // OpenAPI: v2 is an empty protobuf document, v3 lists group-versions whose documents carry
    // the group-version-kind and fieldValidation on patch.
    let v2 = sim.kget("/openapi/v2").await;
    assert_eq!(v2.status, StatusCode::OK);
    assert!(v2.raw.is_empty());
    assert_eq!(
        v2.header("content-type"),
        Some("application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
    );
    let v3 = sim.kget("/openapi/v3").await.body;
    let url = v3["paths"]["apis/networking.istio.io/v1alpha3"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/openapi/v3/apis/networking.istio.io/v1alpha3?hash="));
    assert!(v3["paths"]["api/v1"].is_object());
    let doc = sim.kget(&url).await.body;
    let path = &doc["paths"]
        ["/apis/networking.istio.io/v1alpha3/namespaces/{namespace}/envoyfilters/{name}"];
    assert_eq!(
        path["patch"]["x-kubernetes-group-version-kind"],
        json!({"group": "networking.istio.io", "version": "v1alpha3", "kind": "EnvoyFilter"})
    );
    assert_eq!(path["patch"]["parameters"][0]["name"], "fieldValidation");
    let core_doc = sim.kget("/openapi/v3/api/v1").await.body;
    assert!(core_doc["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
}

#[tokio::test]
async fn auth_and_unknown_paths() {
    let sim = sim_with_plane("1.33.2");
    let none = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces",
            None,
            None,
            &[("authorization", "")],
        )
        .await;
    assert_status(&none, 401, "Unauthorized", "Unauthorized");
    let wrong = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces",
            None,
            None,
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_status(&wrong, 401, "Unauthorized", "Unauthorized");
    // /version is public, as on a real API server.
    let version = sim
        .kube_raw(
            Method::GET,
            "/version",
            None,
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(version.status, StatusCode::OK);

    let other = sim
        .call(
            Method::GET,
            &format!("/k8s/{}/rg1/nosuch/api/v1/namespaces", common::SUB),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body["kind"], "Status");
    let bad_sub = sim.get("/k8s/not-a-guid/rg1/c1/api").await;
    assert_eq!(bad_sub.status, StatusCode::NOT_FOUND);
    assert_eq!(bad_sub.body["kind"], "Status");

    assert_status(
        &sim.kget("/api/v1/nosuch").await,
        404,
        "NotFound",
        "could not find",
    );
    assert_status(
        &sim.kget("/nonsense/path").await,
        404,
        "NotFound",
        "could not find",
    );
    let post_version = sim.kube(Method::POST, "/version", Some(json!({}))).await;
    assert_status(
        &post_version,
        405,
        "MethodNotAllowed",
        "does not allow this method",
    );
    let delete_collection = sim.kube(Method::DELETE, "/api/v1/namespaces", None).await;
    assert_status(
        &delete_collection,
        405,
        "MethodNotAllowed",
        "does not allow",
    );
}

#[tokio::test]
async fn namespaces_crud_conflicts_and_patch_types() {
    let sim = sim_with_plane("1.33.2");
    assert_eq!(
        namespace_names(&sim).await,
        vec!["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let default = sim.kget("/api/v1/namespaces/default").await.body;
    assert_eq!(
        default["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "default"
    );
    assert_eq!(default["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(default["status"]["phase"], "Active");

    let created = sim.kpost("/api/v1/namespaces", ns("foo")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["kind"], "Namespace");
    assert_eq!(
        created.body["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "foo"
    );
    assert!(created.body["metadata"]["uid"].as_str().unwrap().len() == 36);
    let rv1: u64 = created.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let again = sim.kpost("/api/v1/namespaces", ns("foo")).await;
    assert_status(
        &again,
        409,
        "AlreadyExists",
        "namespaces \"foo\" already exists",
    );
    assert_eq!(
        again.body["details"],
        json!({"name": "foo", "kind": "namespaces"})
    );
    let missing = sim.kget("/api/v1/namespaces/nosuch").await;
    assert_status(&missing, 404, "NotFound", "namespaces \"nosuch\" not found");
    assert_eq!(
        missing.body["details"],
        json!({"name": "nosuch", "kind": "namespaces"})
    );

    // PUT with the current resourceVersion moves it forward; the stale one is a Conflict.
    let mut body = created.body.clone();
    body["metadata"]["labels"]["team"] = json!("a");
    let updated = sim
        .kube(Method::PUT, "/api/v1/namespaces/foo", Some(body.clone()))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let rv2: u64 = updated.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    body["metadata"]["labels"]["team"] = json!("b");
    let stale = sim
        .kube(Method::PUT, "/api/v1/namespaces/foo", Some(body))
        .await;
    assert_status(
        &stale,
        409,
        "Conflict",
        "Operation cannot be fulfilled on namespaces \"foo\": the object has been modified; please apply your changes to the latest version and try again",
    );
    assert_eq!(
        sim.kget("/api/v1/namespaces/foo").await.body["metadata"]["labels"]["team"],
        "a"
    );

    // The three patch types.
    let merge = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"istio.io/rev": "asm-1-17", "team": null}}}),
        )
        .await;
    assert_eq!(merge.status, StatusCode::OK, "{}", merge.body);
    assert_eq!(merge.body["metadata"]["labels"]["istio.io/rev"], "asm-1-17");
    assert!(merge.body["metadata"]["labels"].get("team").is_none());
    let smp = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/strategic-merge-patch+json",
            json!({"metadata": {"annotations": {"owner": "me"}}}),
        )
        .await;
    assert_eq!(smp.body["metadata"]["annotations"]["owner"], "me");
    let jp = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/json-patch+json",
            json!([{"op": "add", "path": "/metadata/labels/x", "value": "y"}]),
        )
        .await;
    assert_eq!(jp.body["metadata"]["labels"]["x"], "y");
    let rv_before = jp.body["metadata"]["resourceVersion"].clone();
    // A no-op patch does not move the resourceVersion.
    let noop = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"x": "y"}}}),
        )
        .await;
    assert_eq!(noop.body["metadata"]["resourceVersion"], rv_before);
    // A merge patch carrying a stale resourceVersion is a Conflict.
    let stale_patch = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/merge-patch+json",
            json!({"metadata": {"resourceVersion": "1", "labels": {"x": "z"}}}),
        )
        .await;
    assert_status(
        &stale_patch,
        409,
        "Conflict",
        "the object has been modified",
    );

    // Unsupported patch types: 415, nothing changes (server-side apply: tests/kube_patch.rs).
    for ct in ["text/plain", "application/json"] {
        let r = sim
            .kpatch(
                "/api/v1/namespaces/foo",
                ct,
                json!({"metadata": {"labels": {"x": "w"}}}),
            )
            .await;
        assert_status(
            &r,
            415,
            "UnsupportedMediaType",
            "application/merge-patch+json",
        );
    }
    let bad_json_patch = sim
        .kpatch(
            "/api/v1/namespaces/foo",
            "application/json-patch+json",
            json!([{"op": "remove", "path": "/metadata/labels/nosuch"}]),
        )
        .await;
    assert_eq!(bad_json_patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    let after = sim.kget("/api/v1/namespaces/foo").await.body;
    assert_eq!(after["metadata"]["labels"]["x"], "y");
    assert_eq!(after["metadata"]["resourceVersion"], rv_before);

    // dryRun stores nothing.
    let dry = sim.kpost("/api/v1/namespaces?dryRun=All", ns("dry")).await;
    assert_eq!(dry.status, StatusCode::CREATED);
    assert_status(
        &sim.kget("/api/v1/namespaces/dry").await,
        404,
        "NotFound",
        "not found",
    );
    // generateName
    let generated = sim
        .kpost(
            "/api/v1/namespaces",
            json!({"metadata": {"generateName": "gen-"}}),
        )
        .await;
    assert_eq!(generated.status, StatusCode::CREATED);
    let g = generated.body["metadata"]["name"].as_str().unwrap();
    assert!(g.starts_with("gen-") && g.len() == 9, "{g}");
}

#[tokio::test]
async fn bad_input_is_refused_without_state_change() {
    let sim = sim_with_plane("1.33.2");
    let before = sim.with_plane(|p| (p.resource_version, p.objects.len()));
    let label_msg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    let bad_name = sim.kpost("/api/v1/namespaces", ns("Bad_Name")).await;
    assert_status(
        &bad_name,
        422,
        "Invalid",
        &format!("Namespace \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": {label_msg}"),
    );
    assert_eq!(
        bad_name.body["details"]["causes"][0]["field"],
        "metadata.name"
    );
    assert_eq!(
        bad_name.body["details"]["causes"][0]["reason"],
        "FieldValueInvalid"
    );
    let long = "a".repeat(64);
    let too_long = sim.kpost("/api/v1/namespaces", ns(&long)).await;
    assert_status(
        &too_long,
        422,
        "Invalid",
        "must be no more than 63 characters",
    );
    let no_name = sim
        .kpost("/api/v1/namespaces", json!({"metadata": {}}))
        .await;
    assert_status(
        &no_name,
        422,
        "Invalid",
        "metadata.name: Required value: name or generateName is required",
    );

    let huge_value = sim
        .kpost(
            "/api/v1/namespaces",
            ns_labelled("ok", json!({"k": "v".repeat(64)})),
        )
        .await;
    assert_status(
        &huge_value,
        422,
        "Invalid",
        "metadata.labels: Invalid value: \"vvvv",
    );
    assert!(huge_value.body["message"]
        .as_str()
        .unwrap()
        .contains("must be no more than 63 characters"));
    let bad_key = sim
        .kpost(
            "/api/v1/namespaces",
            ns_labelled("ok", json!({"bad key!": "v"})),
        )
        .await;
    assert_status(
        &bad_key,
        422,
        "Invalid",
        "name part must consist of alphanumeric characters",
    );
    let bad_value = sim
        .kpost("/api/v1/namespaces", ns_labelled("ok", json!({"k": "-x-"})))
        .await;
    assert_status(
        &bad_value,
        422,
        "Invalid",
        "a valid label must be an empty string or consist of alphanumeric characters",
    );

    let malformed = sim
        .kube_raw(
            Method::POST,
            "/api/v1/namespaces",
            Some("application/json"),
            Some(b"{not json".to_vec()),
            &[],
        )
        .await;
    assert_status(&malformed, 400, "BadRequest", "json parse error");
    let not_object = sim.kpost("/api/v1/namespaces", json!([1, 2])).await;
    assert_status(&not_object, 400, "BadRequest", "must be a JSON object");
    let empty = sim
        .kube_raw(
            Method::POST,
            "/api/v1/namespaces",
            Some("application/json"),
            Some(Vec::new()),
            &[],
        )
        .await;
    assert_status(&empty, 400, "BadRequest", "empty");
    let wrong_kind = sim
        .kpost(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}),
        )
        .await;
    assert_status(
        &wrong_kind,
        400,
        "BadRequest",
        "the kind in the data (Pod) does not match the expected kind (Namespace)",
    );
    let wrong_api = sim
        .kpost(
            "/api/v1/namespaces",
            json!({"apiVersion": "apps/v1", "kind": "Namespace", "metadata": {"name": "x"}}),
        )
        .await;
    assert_status(
        &wrong_api,
        400,
        "BadRequest",
        "the API version in the data (apps/v1) does not match the expected API version (v1)",
    );
    let protobuf = sim
        .kube_raw(
            Method::POST,
            "/api/v1/namespaces",
            Some("application/vnd.kubernetes.protobuf"),
            Some(b"\x00".to_vec()),
            &[],
        )
        .await;
    assert_status(&protobuf, 415, "UnsupportedMediaType", "application/json");
    let name_mismatch = sim
        .kube(Method::PUT, "/api/v1/namespaces/default", Some(ns("other")))
        .await;
    assert_status(
        &name_mismatch,
        400,
        "BadRequest",
        "the name of the object (other) does not match the name on the URL (default)",
    );
    let pod_wrong_ns = sim
        .kpost(
            "/api/v1/namespaces/default/pods",
            json!({"metadata": {"name": "p", "namespace": "kube-system"}, "spec": {"containers": [{"name": "a", "image": "b"}]}}),
        )
        .await;
    assert_status(
        &pod_wrong_ns,
        400,
        "BadRequest",
        "does not match the namespace sent on the request",
    );
    let no_containers = sim
        .kpost(
            "/api/v1/namespaces/default/pods",
            json!({"metadata": {"name": "p"}, "spec": {}}),
        )
        .await;
    assert_status(
        &no_containers,
        422,
        "Invalid",
        "spec.containers: Required value",
    );
    let bad_selector = sim
        .kget("/api/v1/namespaces?labelSelector=a%20in%20x")
        .await;
    assert_eq!(bad_selector.status, StatusCode::BAD_REQUEST);
    let bad_field = sim
        .kget("/api/v1/namespaces?fieldSelector=spec.nope%3Dx")
        .await;
    assert_status(
        &bad_field,
        400,
        "BadRequest",
        "field label not supported: spec.nope",
    );
    let bad_continue = sim.kget("/api/v1/namespaces?limit=1&continue=%%%").await;
    assert_status(
        &bad_continue,
        400,
        "BadRequest",
        "continue key is not valid",
    );
    let bad_dry = sim.kpost("/api/v1/namespaces?dryRun=Some", ns("x")).await;
    assert_eq!(bad_dry.status, StatusCode::BAD_REQUEST);

    let not_object_patch = sim
        .kpatch(
            "/api/v1/namespaces/default",
            "application/merge-patch+json",
            json!([1]),
        )
        .await;
    assert_status(
        &not_object_patch,
        400,
        "BadRequest",
        "a merge patch must be a JSON object",
    );
    let garbage_patch = sim
        .kube_raw(
            Method::PATCH,
            "/api/v1/namespaces/default",
            Some("application/merge-patch+json"),
            Some(b"{".to_vec()),
            &[],
        )
        .await;
    assert_status(&garbage_patch, 400, "BadRequest", "error decoding patch");
    let rename = sim
        .kpatch(
            "/api/v1/namespaces/default",
            "application/merge-patch+json",
            json!({"metadata": {"name": "other"}}),
        )
        .await;
    assert_status(
        &rename,
        400,
        "BadRequest",
        "does not match the name on the URL",
    );
    let missing_patch = sim
        .kpatch(
            "/api/v1/namespaces/nosuch",
            "application/merge-patch+json",
            json!({}),
        )
        .await;
    assert_status(
        &missing_patch,
        404,
        "NotFound",
        "namespaces \"nosuch\" not found",
    );

    let after = sim.with_plane(|p| (p.resource_version, p.objects.len()));
    assert_eq!(before, after, "refused requests changed nothing");
}

#[tokio::test]
async fn selectors_and_paging() {
    let sim = sim_with_plane("1.33.2");
    let cases = [
        ("a", json!({"env": "prod", "tier": "web"})),
        ("b", json!({"env": "dev", "tier": "web"})),
        ("c", json!({"env": "prod"})),
        ("d", json!({"istio.io/rev": "asm-1-17"})),
    ];
    for (name, labels) in cases {
        assert_eq!(
            sim.kpost("/api/v1/namespaces", ns_labelled(name, labels))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let check = [
        ("env=prod", vec!["a", "c"]),
        ("env==prod", vec!["a", "c"]),
        ("env!=prod,env", vec!["b"]),
        ("env%20in%20(prod,dev),tier", vec!["a", "b"]),
        (
            "env%20notin%20(prod)",
            vec![
                "b",
                "d",
                "default",
                "kube-node-lease",
                "kube-public",
                "kube-system",
            ],
        ),
        ("istio.io/rev", vec!["d"]),
        ("!env,!kubernetes.io/metadata.name", vec![]),
        ("!tier,env", vec!["c"]),
        ("kubernetes.io/metadata.name=default", vec!["default"]),
    ];
    for (selector, want) in check {
        let r = sim
            .kget(&format!("/api/v1/namespaces?labelSelector={selector}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{selector}: {}", r.body);
        assert_eq!(names(&r.body), want, "selector {selector}");
    }
    let by_name = sim
        .kget("/api/v1/namespaces?fieldSelector=metadata.name%3Dc")
        .await;
    assert_eq!(names(&by_name.body), vec!["c"]);
    let not_name = sim
        .kget("/api/v1/namespaces?fieldSelector=metadata.name!%3Dc&labelSelector=env")
        .await;
    assert_eq!(names(&not_name.body), vec!["a", "b"]);

    // Paging: 8 namespaces, pages of 3.
    let mut seen = Vec::new();
    let mut url = "/api/v1/namespaces?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = sim.kget(&url).await.body;
        pages += 1;
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                assert!(page["metadata"]["remainingItemCount"].as_u64().unwrap() > 0);
                url = format!("/api/v1/namespaces?limit=3&continue={token}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 8);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
}

#[tokio::test]
async fn a_list_without_limit_is_whole_and_a_big_limit_is_paged() {
    // kube-apiserver returns every match when no `limit` is given; clients that do not page
    // (kube-rs `list` with default parameters) rely on it. An explicit `limit` is capped.
    let sim = sim_with_plane("1.33.2");
    let made = limits::KUBE_LIST_PAGE_MAX + 20;
    for i in 0..made {
        let r = sim
            .kpost("/api/v1/namespaces", ns(&format!("n{i:04}")))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let total = made + 4; // plus default, kube-node-lease, kube-public, kube-system
    let all = sim.kget("/api/v1/namespaces").await.body;
    assert_eq!(all["items"].as_array().unwrap().len(), total);
    assert!(
        all["metadata"].get("continue").is_none(),
        "{}",
        all["metadata"]
    );

    let big = sim.kget("/api/v1/namespaces?limit=100000").await.body;
    assert_eq!(
        big["items"].as_array().unwrap().len(),
        limits::KUBE_LIST_PAGE_MAX
    );
    assert_eq!(
        big["metadata"]["remainingItemCount"],
        json!(total - limits::KUBE_LIST_PAGE_MAX)
    );
    let token = big["metadata"]["continue"].as_str().unwrap();
    let rest = sim
        .kget(&format!("/api/v1/namespaces?limit=100000&continue={token}"))
        .await
        .body;
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        total - limits::KUBE_LIST_PAGE_MAX
    );
}

#[tokio::test]
async fn namespace_termination_runs_on_the_virtual_clock() {
    let sim = sim_with_plane("1.33.2");
    sim.kpost("/api/v1/namespaces", ns("foo")).await;
    assert_eq!(
        sim.kpost(
            "/api/v1/namespaces/foo/configmaps",
            json!({"metadata": {"name": "cm"}, "data": {"k": "v"}})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        sim.kpost("/api/v1/namespaces/foo/pods", pod("p1"))
            .await
            .status,
        StatusCode::CREATED
    );

    for protected in ["default", "kube-system", "kube-public"] {
        let r = sim
            .kube(
                Method::DELETE,
                &format!("/api/v1/namespaces/{protected}"),
                None,
            )
            .await;
        assert_status(
            &r,
            403,
            "Forbidden",
            &format!("namespaces \"{protected}\" is forbidden: this namespace may not be deleted"),
        );
    }

    let deleted = sim
        .kube(Method::DELETE, "/api/v1/namespaces/foo", None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["status"]["phase"], "Terminating");
    assert!(deleted.body["metadata"]["deletionTimestamp"].is_string());
    let terminating = sim.kget("/api/v1/namespaces/foo").await.body;
    assert_eq!(terminating["status"]["phase"], "Terminating");
    assert_eq!(terminating["spec"]["finalizers"], json!(["kubernetes"]));
    let refused = sim.kpost("/api/v1/namespaces/foo/pods", pod("p2")).await;
    assert_status(&refused, 403, "Forbidden", "pods \"p2\" is forbidden: unable to create new content in namespace foo because it is being terminated");
    assert_eq!(
        refused.body["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );
    // Deleting again is accepted and changes nothing.
    assert_eq!(
        sim.kube(Method::DELETE, "/api/v1/namespaces/foo", None)
            .await
            .status,
        StatusCode::OK
    );

    sim.advance(4.0);
    assert_eq!(
        sim.kget("/api/v1/namespaces/foo").await.status,
        StatusCode::OK
    );
    sim.advance(1.5);
    assert_status(
        &sim.kget("/api/v1/namespaces/foo").await,
        404,
        "NotFound",
        "namespaces \"foo\" not found",
    );
    assert_eq!(sim.kget("/api/v1/pods").await.body["items"], json!([]));
    assert_eq!(
        sim.kget("/api/v1/namespaces/foo/configmaps").await.body["items"],
        json!([])
    );
    let in_missing = sim.kpost("/api/v1/namespaces/foo/pods", pod("p3")).await;
    assert_status(&in_missing, 404, "NotFound", "namespaces \"foo\" not found");

    // A delay of 0 makes deletion immediate.
    sim.with_plane(|p| p.termination_delay_secs = 0.0);
    sim.kpost("/api/v1/namespaces", ns("bar")).await;
    sim.kube(Method::DELETE, "/api/v1/namespaces/bar", None)
        .await;
    assert_eq!(
        sim.kget("/api/v1/namespaces/bar").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn table_output() {
    let sim = sim_with_plane("1.33.2");
    let accept = [("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")];
    sim.advance(90.0);
    let t = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces?limit=500",
            None,
            None,
            &accept,
        )
        .await
        .body;
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Status", "Age"]);
    assert_eq!(t["rows"][0]["cells"], json!(["default", "Active", "90s"]));
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "default");

    sim.kpost("/api/v1/namespaces/default/pods", pod("web"))
        .await;
    let pods = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces/default/pods",
            None,
            None,
            &accept,
        )
        .await
        .body;
    let cols: Vec<&str> = pods["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Ready", "Status", "Restarts", "Age"]);
    assert_eq!(
        pods["rows"][0]["cells"],
        json!(["web", "1/1", "Running", 0, "0s"])
    );
    let one = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces/default/pods/web",
            None,
            None,
            &accept,
        )
        .await
        .body;
    assert_eq!(one["kind"], "Table");
    let cms = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces/default/configmaps",
            None,
            None,
            &accept,
        )
        .await
        .body;
    let cols: Vec<&str> = cms["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Data", "Age"]);
    let full = sim
        .kube_raw(
            Method::GET,
            "/api/v1/namespaces?includeObject=Object",
            None,
            None,
            &accept,
        )
        .await
        .body;
    assert_eq!(full["rows"][0]["object"]["kind"], "Namespace");
}

async fn create_pod_in(sim: &Sim, namespace: &str, body: Value) -> Value {
    let r = sim
        .kpost(&format!("/api/v1/namespaces/{namespace}/pods"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn container_names(pod: &Value, key: &str) -> Vec<String> {
    pod["spec"][key]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn sidecar_injection_rules() {
    let sim = sim_with_plane("1.28.9");
    sim.reconcile(&enabled(&["asm-1-17"]));
    let cases: &[(&str, Value, Value, Option<&str>)] = &[
        // (namespace, namespace labels, pod, injected revision)
        (
            "inj",
            json!({"istio.io/rev": "asm-1-17"}),
            pod("p"),
            Some("asm-1-17"),
        ),
        (
            "legacy",
            json!({"istio-injection": "enabled"}),
            pod("p"),
            None,
        ),
        (
            "both",
            json!({"istio-injection": "enabled", "istio.io/rev": "asm-1-17"}),
            pod("p"),
            None,
        ),
        (
            "other-rev",
            json!({"istio.io/rev": "asm-1-18"}),
            pod("p"),
            None,
        ),
        ("plain", json!({}), pod("p"), None),
        (
            "optout-label",
            json!({"istio.io/rev": "asm-1-17"}),
            json!({"metadata": {"name": "p", "labels": {"sidecar.istio.io/inject": "false"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
            None,
        ),
        (
            "optout-annotation",
            json!({"istio.io/rev": "asm-1-17"}),
            json!({"metadata": {"name": "p", "annotations": {"sidecar.istio.io/inject": "false"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
            None,
        ),
        (
            "inject-true-alone",
            json!({}),
            json!({"metadata": {"name": "p", "labels": {"sidecar.istio.io/inject": "true"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
            None,
        ),
        (
            "pod-label",
            json!({}),
            json!({"metadata": {"name": "p", "labels": {"istio.io/rev": "asm-1-17", "app": "reviews", "version": "v2"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
            Some("asm-1-17"),
        ),
        (
            "windows",
            json!({"istio.io/rev": "asm-1-17"}),
            json!({"metadata": {"name": "p"}, "spec": {"nodeSelector": {"kubernetes.io/os": "windows"}, "containers": [{"name": "app", "image": "iis"}]}}),
            None,
        ),
    ];
    for (namespace, labels, body, want) in cases {
        sim.kpost("/api/v1/namespaces", ns_labelled(namespace, labels.clone()))
            .await;
        let created = create_pod_in(&sim, namespace, body.clone()).await;
        let containers = container_names(&created, "containers");
        match want {
            Some(rev) => {
                assert_eq!(containers, vec!["app", "istio-proxy"], "{namespace}");
                assert_eq!(
                    container_names(&created, "initContainers"),
                    vec!["istio-init"],
                    "{namespace}"
                );
                let proxy = &created["spec"]["containers"][1];
                assert_eq!(
                    proxy["image"],
                    "mcr.microsoft.com/oss/istio/proxyv2:1.17.8-distroless"
                );
                let status: Value = serde_json::from_str(
                    created["metadata"]["annotations"]["sidecar.istio.io/status"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(status["revision"], *rev);
                assert_eq!(status["containers"], json!(["istio-proxy"]));
                assert_eq!(status["initContainers"], json!(["istio-init"]));
                assert!(status["volumes"].as_array().unwrap().len() >= 5);
                assert_eq!(created["metadata"]["labels"]["istio.io/rev"], *rev);
                assert!(
                    created["metadata"]["labels"]["service.istio.io/canonical-name"].is_string()
                );
                assert_eq!(created["status"]["phase"], "Running");
                assert_eq!(
                    created["status"]["containerStatuses"]
                        .as_array()
                        .unwrap()
                        .len(),
                    2
                );
            }
            None => {
                assert_eq!(containers, vec!["app"], "{namespace} must not be injected");
                assert!(created["metadata"]["annotations"]
                    .get("sidecar.istio.io/status")
                    .is_none());
            }
        }
    }
    let labelled = sim.kget("/api/v1/namespaces/pod-label/pods/p").await.body;
    assert_eq!(
        labelled["metadata"]["labels"]["service.istio.io/canonical-name"],
        "reviews"
    );
    assert_eq!(
        labelled["metadata"]["labels"]["service.istio.io/canonical-revision"],
        "v2"
    );

    // CNI chaining: no istio-init (the validation init container instead).
    let mut cni = enabled(&["asm-1-17"]);
    cni.proxy_redirection = Some("CNIChaining".to_owned());
    sim.reconcile(&cni);
    let created = create_pod_in(&sim, "inj", pod("cni")).await;
    assert_eq!(
        container_names(&created, "containers"),
        vec!["app", "istio-proxy"]
    );
    assert_eq!(
        container_names(&created, "initContainers"),
        vec!["istio-validation"]
    );

    // Disabled add-on: nothing is injected.
    sim.reconcile(&MeshView::default());
    let created = create_pod_in(&sim, "inj", pod("off")).await;
    assert_eq!(container_names(&created, "containers"), vec!["app"]);

    // Pods across namespaces, and delete.
    let all = sim.kget("/api/v1/pods").await.body;
    assert!(names(&all).len() >= 12);
    let d = sim
        .kube(Method::DELETE, "/api/v1/namespaces/inj/pods/off", None)
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        sim.kget("/api/v1/namespaces/inj/pods/off").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn meshconfig_admission_and_read_only_addon_objects() {
    let sim = sim_with_plane("1.28.9");
    sim.reconcile(&enabled(&["asm-1-17"]));
    let cm = |name: &str, data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "aks-istio-system"}, "data": data});
    let path = "/api/v1/namespaces/aks-istio-system/configmaps";
    let ok = sim
        .kpost(path, cm("istio-shared-configmap-asm-1-17", json!({"mesh": "accessLogFile: /dev/stdout\ndefaultConfig:\n  holdApplicationUntilProxyStarts: true\n"})))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    // A configmap for the next revision may exist before the canary starts.
    let next = sim
        .kpost(
            path,
            cm(
                "istio-shared-configmap-asm-1-18",
                json!({"mesh": "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"}),
            ),
        )
        .await;
    assert_eq!(next.status, StatusCode::CREATED);

    let refused: &[(Value, &str)] = &[
        (
            json!({"mesh": "configSources:\n- address: x\n"}),
            "MeshConfig field \"configSources\" is not allowed in istio-shared-configmap-asm-1-19",
        ),
        (
            json!({"mesh": "defaultConfig:\n  discoveryAddress: x\n"}),
            "ProxyConfig field \"defaultConfig.discoveryAddress\" is not allowed",
        ),
        (
            json!({"mesh": "accessLogFil: /dev/stdout\n"}),
            "MeshConfig field \"accessLogFil\" is not allowed",
        ),
        (
            json!({"other": "x"}),
            "must hold the mesh configuration under the key \"mesh\"",
        ),
        (
            json!({"mesh": "accessLogFile: x\n", "extra": "y"}),
            "may only hold the key \"mesh\"",
        ),
        (
            json!({"mesh": "\tbad: tab\n"}),
            "is not a valid MeshConfig YAML mapping",
        ),
        (
            json!({"mesh": "- a list\n"}),
            "is not a valid MeshConfig YAML mapping",
        ),
    ];
    for (data, text) in refused {
        let r = sim
            .kpost(path, cm("istio-shared-configmap-asm-1-19", data.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{data}: {}", r.body);
        assert_eq!(r.body["reason"], "");
        let message = r.body["message"].as_str().unwrap();
        assert!(message.starts_with(WEBHOOK_PREFIX), "{message}");
        assert!(message.contains(text), "{message} lacks {text}");
    }
    assert_eq!(
        sim.kget(&format!("{path}/istio-shared-configmap-asm-1-19"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Updates are checked too.
    let bad_update = sim
        .kpatch(
            &format!("{path}/istio-shared-configmap-asm-1-17"),
            "application/merge-patch+json",
            json!({"data": {"mesh": "rootNamespace: x\n"}}),
        )
        .await;
    assert_eq!(bad_update.status, StatusCode::BAD_REQUEST);

    // The add-on's configmaps are read-only.
    let mesh_cm = sim.kget(&format!("{path}/istio-asm-1-17")).await.body;
    assert!(mesh_cm["data"]["mesh"]
        .as_str()
        .unwrap()
        .contains("istiod-asm-1-17.aks-istio-system.svc:15012"));
    let edit = sim
        .kpatch(
            &format!("{path}/istio-asm-1-17"),
            "application/merge-patch+json",
            json!({"data": {"mesh": "x: y"}}),
        )
        .await;
    assert_status(&edit, 403, "Forbidden", "configmaps \"istio-asm-1-17\" is forbidden: this object is managed by the Istio-based service mesh add-on and cannot be modified; put mesh settings in istio-shared-configmap-asm-1-17 instead");
    let del = sim
        .kube(
            Method::DELETE,
            &format!("{path}/istio-sidecar-injector-asm-1-17"),
            None,
        )
        .await;
    assert_status(
        &del,
        403,
        "Forbidden",
        "managed by the Istio-based service mesh add-on",
    );
    let del_ns = sim
        .kube(Method::DELETE, "/api/v1/namespaces/aks-istio-system", None)
        .await;
    assert_status(
        &del_ns,
        403,
        "Forbidden",
        "managed by the Istio-based service mesh add-on",
    );

    // The injector configmap istioctl reads.
    let injector = sim
        .kget(&format!("{path}/istio-sidecar-injector-asm-1-17"))
        .await
        .body;
    let config = injector["data"]["config"].as_str().unwrap();
    assert!(config.contains("istio-proxy") && config.contains("proxyv2:1.17.8-distroless"));
    let values: Value = serde_json::from_str(injector["data"]["values"].as_str().unwrap()).unwrap();
    assert_eq!(values["revision"], "asm-1-17");
    assert_eq!(values["global"]["istioNamespace"], "aks-istio-system");
}

fn istio_object(api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

/// An Istio object labelled with a revision (before 2025-03-16 the add-on validated only those).
fn labelled(mut object: Value, revision: &str) -> Value {
    object["metadata"]["labels"] = json!({"istio.io/rev": revision});
    object
}

fn envoy_filter(ty: &str) -> Value {
    istio_object(
        "networking.istio.io/v1alpha3",
        "EnvoyFilter",
        "ef",
        json!({"configPatches": [{"applyTo": "HTTP_FILTER", "patch": {"operation": "INSERT_BEFORE", "value": {"name": "f", "typed_config": {"@type": ty}}}}]}),
    )
}

#[tokio::test]
async fn istio_custom_resources_and_the_addon_webhook() {
    let sim = sim_with_plane("1.33.2");
    // Before the add-on, the Istio groups do not exist.
    let vs = istio_object(
        "networking.istio.io/v1",
        "VirtualService",
        "reviews",
        json!({"hosts": ["reviews"]}),
    );
    assert_status(
        &sim.kpost(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            vs.clone(),
        )
        .await,
        404,
        "NotFound",
        "could not find",
    );

    sim.reconcile(&enabled(&["asm-1-26"]));
    let allowed = [
        (
            "networking.istio.io/v1",
            "virtualservices",
            "VirtualService",
        ),
        (
            "networking.istio.io/v1beta1",
            "destinationrules",
            "DestinationRule",
        ),
        ("networking.istio.io/v1alpha3", "gateways", "Gateway"),
        ("networking.istio.io/v1", "serviceentries", "ServiceEntry"),
        ("networking.istio.io/v1", "sidecars", "Sidecar"),
        (
            "security.istio.io/v1",
            "peerauthentications",
            "PeerAuthentication",
        ),
        (
            "security.istio.io/v1beta1",
            "authorizationpolicies",
            "AuthorizationPolicy",
        ),
        (
            "security.istio.io/v1",
            "requestauthentications",
            "RequestAuthentication",
        ),
        ("telemetry.istio.io/v1", "telemetries", "Telemetry"),
    ];
    for (api, resource, kind) in allowed {
        let path = format!("/apis/{api}/namespaces/default/{resource}");
        let r = sim
            .kpost(&path, istio_object(api, kind, "one", json!({})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{kind}: {}", r.body);
        assert_eq!(r.body["apiVersion"], api);
        let list = sim.kget(&path).await.body;
        assert_eq!(list["kind"], format!("{kind}List"));
        assert_eq!(names(&list), vec!["one"]);
    }
    // The same object is visible at every served version.
    let other_version = sim
        .kget("/apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices/one")
        .await;
    assert_eq!(other_version.status, StatusCode::OK);
    assert_eq!(
        other_version.body["apiVersion"],
        "networking.istio.io/v1alpha3"
    );

    let blocked = [
        ("networking.istio.io/v1beta1", "proxyconfigs", "ProxyConfig"),
        ("networking.istio.io/v1", "workloadentries", "WorkloadEntry"),
        (
            "networking.istio.io/v1alpha3",
            "workloadgroups",
            "WorkloadGroup",
        ),
        (
            "install.istio.io/v1alpha1",
            "istiooperators",
            "IstioOperator",
        ),
        ("extensions.istio.io/v1alpha1", "wasmplugins", "WasmPlugin"),
    ];
    for (api, resource, kind) in blocked {
        let path = format!("/apis/{api}/namespaces/default/{resource}");
        let r = sim
            .kpost(&path, istio_object(api, kind, "x", json!({})))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{kind}: {}", r.body);
        assert_eq!(r.body["kind"], "Status");
        assert_eq!(r.body["reason"], "");
        assert_eq!(
            r.body["message"],
            format!("{WEBHOOK_PREFIX}custom resource kind \"{kind}\" is not allowed by the Istio-based service mesh add-on")
        );
        assert_eq!(
            sim.kget(&format!("{path}/x")).await.status,
            StatusCode::NOT_FOUND
        );
        // Listing the kind works (kubectl get shows "No resources found").
        assert_eq!(sim.kget(&path).await.body["items"], json!([]));
    }

    let ef_path = "/apis/networking.istio.io/v1alpha3/namespaces/default/envoyfilters";
    // Today (since release 2025-10-12) every EnvoyFilter type passes.
    let wasm = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
    let r = sim.kpost(ef_path, envoy_filter(wasm)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    sim.kube(Method::DELETE, &format!("{ef_path}/ef"), None)
        .await;
    // From 2024-08-05 to 2025-10-12 only Lua, Compressor and LocalRateLimit did.
    sim.set_azure_date("2025-06-01");
    for ty in [
        "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
        "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor",
        "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
    ] {
        let r = sim.kpost(ef_path, envoy_filter(ty)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{ty}: {}", r.body);
        sim.kube(Method::DELETE, &format!("{ef_path}/ef"), None)
            .await;
    }
    let r = sim.kpost(ef_path, envoy_filter(wasm)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["message"],
        format!("{WEBHOOK_PREFIX}envoy filter with type \"{wasm}\" is not allowed")
    );

    // Updates go through the webhook too.
    sim.kpost(
        ef_path,
        envoy_filter("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"),
    )
    .await;
    let patched = sim
        .kpatch(
            &format!("{ef_path}/ef"),
            "application/merge-patch+json",
            json!({"spec": {"configPatches": [{"patch": {"value": {"name": "w", "typed_config": {"@type": "type.googleapis.com/stats.PluginConfig"}}}}]}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::BAD_REQUEST);
    assert!(patched.body["message"]
        .as_str()
        .unwrap()
        .contains("stats.PluginConfig"));

    // In 2023 the add-on blocked EnvoyFilter and Telemetry outright (in resources labelled
    // with a revision: unlabelled ones were not validated before 2025-03-16).
    sim.set_azure_date("2023-12-01");
    let lua = sim
        .kpost(ef_path, {
            let mut e = labelled(
                envoy_filter("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"),
                "asm-1-26",
            );
            e["metadata"]["name"] = json!("ef2");
            e
        })
        .await;
    assert_eq!(lua.status, StatusCode::BAD_REQUEST);
    assert!(lua.body["message"]
        .as_str()
        .unwrap()
        .contains("\"EnvoyFilter\" is not allowed"));
    let tel = sim
        .kpost(
            "/apis/telemetry.istio.io/v1/namespaces/default/telemetries",
            labelled(
                istio_object("telemetry.istio.io/v1", "Telemetry", "t2", json!({})),
                "asm-1-26",
            ),
        )
        .await;
    assert_eq!(tel.status, StatusCode::BAD_REQUEST);
    let unlabelled = sim
        .kpost(
            "/apis/telemetry.istio.io/v1/namespaces/default/telemetries",
            istio_object("telemetry.istio.io/v1", "Telemetry", "t2u", json!({})),
        )
        .await;
    assert_eq!(
        unlabelled.status,
        StatusCode::CREATED,
        "{}",
        unlabelled.body
    );
    // From 2024-08-05 Telemetry is allowed, from asm-1-22 only.
    sim.set_azure_date("2024-09-01");
    sim.reconcile(&enabled(&["asm-1-21"]));
    let tel_old = sim
        .kpost(
            "/apis/telemetry.istio.io/v1/namespaces/default/telemetries",
            labelled(
                istio_object("telemetry.istio.io/v1", "Telemetry", "t3", json!({})),
                "asm-1-21",
            ),
        )
        .await;
    assert_eq!(tel_old.status, StatusCode::BAD_REQUEST);
    assert!(tel_old.body["message"]
        .as_str()
        .unwrap()
        .contains("before revision asm-1-22"));

    // Disabling the add-on removes its CRDs and with them the custom resources.
    sim.reconcile(&MeshView::default());
    assert_eq!(
        sim.kget("/apis/networking.istio.io/v1/namespaces/default/virtualservices")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(sim.with_plane(|p| !p.objects.keys().any(|k| k.contains("istio.io/"))));
}

#[tokio::test]
async fn kind_mismatch_on_custom_resources_is_bad_request() {
    let sim = sim_with_plane("1.33.2");
    sim.reconcile(&enabled(&["asm-1-26"]));
    let r = sim
        .kpost(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            istio_object("networking.istio.io/v1", "DestinationRule", "x", json!({})),
        )
        .await;
    assert_status(
        &r,
        400,
        "BadRequest",
        "the kind in the data (DestinationRule) does not match the expected kind (VirtualService)",
    );
    let r = sim
        .kpost(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            istio_object("security.istio.io/v1", "VirtualService", "x", json!({})),
        )
        .await;
    assert_status(
        &r,
        400,
        "BadRequest",
        "does not match the expected API version (networking.istio.io/v1)",
    );
}

fn kinds_in(sim_objects: &[String], prefix: &str) -> Vec<String> {
    sim_objects
        .iter()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect()
}

#[tokio::test]
async fn reconcile_follows_enable_canary_and_disable() {
    let sim = sim_with_plane("1.29.8");
    let keys = |sim: &Sim| sim.with_plane(|p| p.objects.keys().cloned().collect::<Vec<_>>());
    let mut view = enabled(&["asm-1-20"]);
    view.ingress_gateways = vec!["External".into(), "Internal".into()];
    view.egress_gateways = vec![("egw1".into(), String::new())];
    view.plugin_ca = true;
    view.proxy_redirection = Some("CNIChaining".into());
    sim.reconcile(&view);

    let nss = namespace_names(&sim).await;
    for n in ["aks-istio-system", "aks-istio-ingress", "aks-istio-egress"] {
        assert!(nss.contains(&n.to_owned()), "{n}");
    }
    let deploys = names(
        &sim.kget("/apis/apps/v1/namespaces/aks-istio-system/deployments")
            .await
            .body,
    );
    assert_eq!(deploys, vec!["istiod-asm-1-20"]);
    let svcs = sim
        .kget("/api/v1/namespaces/aks-istio-ingress/services")
        .await
        .body;
    assert_eq!(
        names(&svcs),
        vec![
            "aks-istio-ingressgateway-external",
            "aks-istio-ingressgateway-internal"
        ]
    );
    let ext = &svcs["items"][0];
    assert_eq!(ext["spec"]["type"], "LoadBalancer");
    assert_eq!(
        ext["metadata"]["labels"]["istio"],
        "aks-istio-ingressgateway-external"
    );
    let ports: Vec<u64> = ext["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![15021, 80, 443]);
    let egress = sim
        .kget("/api/v1/namespaces/aks-istio-egress/services/egw1")
        .await
        .body;
    assert_eq!(egress["spec"]["type"], "ClusterIP");
    assert_eq!(
        sim.kget("/api/v1/namespaces/aks-istio-system/secrets/cacerts")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        sim.kget("/apis/apps/v1/namespaces/aks-istio-system/daemonsets/azure-service-mesh-istio-cni-addon-node").await.status,
        StatusCode::OK
    );
    let crds = kinds_in(
        &keys(&sim),
        "apiextensions.k8s.io/customresourcedefinitions/",
    );
    assert!(crds.len() >= 15);
    let rv_after_enable = sim.with_plane(|p| p.resource_version);
    // Reconciling the same view again changes nothing.
    sim.reconcile(&view);
    assert_eq!(sim.with_plane(|p| p.resource_version), rv_after_enable);

    // Canary: two control planes and two gateway deployments per gateway, same services.
    view.revisions = vec!["asm-1-20".into(), "asm-1-21".into()];
    sim.reconcile(&view);
    let deploys = names(
        &sim.kget("/apis/apps/v1/namespaces/aks-istio-system/deployments")
            .await
            .body,
    );
    assert_eq!(deploys, vec!["istiod-asm-1-20", "istiod-asm-1-21"]);
    let gw = names(
        &sim.kget("/apis/apps/v1/namespaces/aks-istio-ingress/deployments")
            .await
            .body,
    );
    assert_eq!(gw.len(), 4);
    assert!(gw.contains(&"aks-istio-ingressgateway-internal-asm-1-21".to_owned()));
    let cms = names(
        &sim.kget("/api/v1/namespaces/aks-istio-system/configmaps")
            .await
            .body,
    );
    for want in [
        "istio-asm-1-20",
        "istio-asm-1-21",
        "istio-sidecar-injector-asm-1-21",
    ] {
        assert!(cms.contains(&want.to_owned()), "{want}");
    }
    // Complete: the old revision's objects go.
    view.revisions = vec!["asm-1-21".into()];
    view.ingress_gateways = vec!["External".into()];
    view.plugin_ca = false;
    sim.reconcile(&view);
    let deploys = names(
        &sim.kget("/apis/apps/v1/namespaces/aks-istio-system/deployments")
            .await
            .body,
    );
    assert_eq!(deploys, vec!["istiod-asm-1-21"]);
    assert_eq!(
        sim.kget("/api/v1/namespaces/aks-istio-ingress/services/aks-istio-ingressgateway-internal")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.kget("/api/v1/namespaces/aks-istio-system/secrets/cacerts")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A user object in an add-on namespace goes with it when the add-on is disabled.
    sim.kpost(
        "/api/v1/namespaces/aks-istio-system/configmaps",
        json!({"metadata": {"name": "istio-shared-configmap-asm-1-21"}, "data": {"mesh": "accessLogFile: /dev/stdout"}}),
    )
    .await;
    sim.reconcile(&MeshView::default());
    let nss = namespace_names(&sim).await;
    assert_eq!(
        nss,
        vec!["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    assert!(kinds_in(&keys(&sim), "apiextensions.k8s.io/").is_empty());
    assert!(sim.with_plane(|p| p.addon_keys.is_empty()));
    assert!(!sim.with_plane(|p| p.has_self_managed_istio()));
}

#[tokio::test]
async fn self_managed_istio_is_detected() {
    let checks: &[(&str, Value)] = &[
        (
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            json!({"metadata": {"name": "virtualservices.networking.istio.io"}, "spec": {"group": "networking.istio.io", "scope": "Namespaced",
                   "names": {"plural": "virtualservices", "singular": "virtualservice", "kind": "VirtualService"},
                   "versions": [{"name": "v1", "served": true, "storage": true}]}}),
        ),
        (
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
            json!({"metadata": {"name": "istio-sidecar-injector"}, "webhooks": []}),
        ),
        (
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            json!({"metadata": {"name": "istio-validator-istio-system"}, "webhooks": []}),
        ),
        (
            "/apis/apps/v1/namespaces/istio-system/deployments",
            json!({"metadata": {"name": "istiod"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "istiod"}}, "template": {"metadata": {"labels": {"app": "istiod"}}, "spec": {"containers": [{"name": "discovery", "image": "istio/pilot"}]}}}}),
        ),
    ];
    for (path, body) in checks {
        let sim = sim_with_plane("1.33.2");
        sim.kpost("/api/v1/namespaces", ns("istio-system")).await;
        assert!(!sim.with_plane(|p| p.has_self_managed_istio()));
        let r = sim.kpost(path, body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
        assert!(sim.with_plane(|p| p.has_self_managed_istio()), "{path}");
    }
    // A user CRD is served like the add-on's.
    let sim = sim_with_plane("1.33.2");
    sim.kpost(checks[0].0, checks[0].1.clone()).await;
    let r = sim
        .kpost(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            istio_object(
                "networking.istio.io/v1",
                "VirtualService",
                "mine",
                json!({}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // A CRD whose name does not match its spec is invalid.
    let bad = sim
        .kpost("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            json!({"metadata": {"name": "wrong.example.com"}, "spec": {"group": "example.com", "names": {"plural": "foos", "kind": "Foo"}, "versions": [{"name": "v1", "served": true, "storage": true}]}}))
        .await;
    assert_status(
        &bad,
        422,
        "Invalid",
        "must be spec.names.plural+\".\"+spec.group",
    );
    // The add-on's own CRDs and webhooks do not count.
    let sim = sim_with_plane("1.33.2");
    sim.reconcile(&enabled(&["asm-1-26"]));
    assert!(!sim.with_plane(|p| p.has_self_managed_istio()));
}

/// Opens a watch and returns its body to read events from.
async fn open_watch(sim: &Sim, path: &str) -> (StatusCode, Body) {
    let request = Request::builder()
        .uri(k8s(path))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = aksim::app(sim.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    (status, response.into_body())
}

/// Reads newline-delimited events until `n` arrived (fails after 5 s of real time).
async fn read_events(body: &mut Body, buffer: &mut Vec<u8>, n: usize) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        while let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=pos).collect();
            events.push(serde_json::from_slice::<Value>(&line).unwrap());
            if events.len() == n {
                return events;
            }
        }
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("watch event within 5 s")
            .expect("stream open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
        }
    }
}

#[tokio::test]
async fn watches_stream_resume_and_expire() {
    let sim = sim_with_plane("1.33.2");
    let list = sim.kget("/api/v1/namespaces").await.body;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, mut body) = open_watch(&sim, &format!("/api/v1/namespaces?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=30")).await;
    assert_eq!(status, StatusCode::OK);
    let mut buf = Vec::new();
    let first = read_events(&mut body, &mut buf, 1).await;
    assert_eq!(first[0]["type"], "BOOKMARK");
    assert_eq!(first[0]["object"]["metadata"]["resourceVersion"], rv);

    sim.kpost("/api/v1/namespaces", ns("w1")).await;
    sim.kpatch(
        "/api/v1/namespaces/w1",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    )
    .await;
    sim.kube(Method::DELETE, "/api/v1/namespaces/w1", None)
        .await;
    let events = read_events(&mut body, &mut buf, 3).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["ADDED", "MODIFIED", "MODIFIED"]);
    assert_eq!(events[2]["object"]["status"]["phase"], "Terminating");
    // The namespace goes away on the clock; the idle watch notices by itself.
    sim.advance(10.0);
    let gone = read_events(&mut body, &mut buf, 1).await;
    assert_eq!(gone[0]["type"], "DELETED");
    assert_eq!(gone[0]["object"]["metadata"]["name"], "w1");
    drop(body);

    // Resume from the list's resourceVersion: the history is replayed.
    let (_, mut replay) = open_watch(
        &sim,
        &format!("/api/v1/namespaces?watch=1&resourceVersion={rv}"),
    )
    .await;
    let mut buf = Vec::new();
    let again = read_events(&mut replay, &mut buf, 4).await;
    let types: Vec<&str> = again.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
    drop(replay);

    // Without a resourceVersion, the current state comes first as ADDED; a label selector
    // and a namespace filter apply.
    let (_, mut fresh) = open_watch(
        &sim,
        "/api/v1/namespaces?watch=true&labelSelector=kubernetes.io/metadata.name%3Ddefault",
    )
    .await;
    let mut buf = Vec::new();
    let initial = read_events(&mut fresh, &mut buf, 1).await;
    assert_eq!(initial[0]["type"], "ADDED");
    assert_eq!(initial[0]["object"]["metadata"]["name"], "default");
    drop(fresh);

    // A watch started from a resourceVersion older than the history is 410 Expired.
    sim.with_plane(|p| {
        p.history_floor = p.resource_version;
    });
    let (status, body) = open_watch(&sim, "/api/v1/namespaces?watch=true&resourceVersion=1").await;
    assert_eq!(status, StatusCode::GONE);
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let status_body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status_body["reason"], "Expired");
    assert_eq!(status_body["code"], 410);
    assert!(status_body["message"]
        .as_str()
        .unwrap()
        .contains("too old resource version"));

    // timeoutSeconds ends the stream.
    let (_, body) = open_watch(
        &sim,
        "/api/v1/namespaces?watch=true&resourceVersion=999999&timeoutSeconds=1",
    )
    .await;
    let ended = tokio::time::timeout(
        Duration::from_secs(5),
        axum::body::to_bytes(body, usize::MAX),
    )
    .await;
    assert!(ended.is_ok(), "the watch ended after its timeout");
}

#[tokio::test]
async fn reconcile_emits_watch_events() {
    let sim = sim_with_plane("1.33.2");
    let rv = sim.with_plane(|p| p.resource_version);
    let (_, mut body) = open_watch(
        &sim,
        &format!("/api/v1/namespaces?watch=true&resourceVersion={rv}"),
    )
    .await;
    sim.reconcile(&enabled(&["asm-1-26"]));
    let mut buf = Vec::new();
    let added = read_events(&mut body, &mut buf, 1).await;
    assert_eq!(added[0]["type"], "ADDED");
    assert_eq!(added[0]["object"]["metadata"]["name"], "aks-istio-system");
    sim.reconcile(&MeshView::default());
    let deleted = read_events(&mut body, &mut buf, 1).await;
    assert_eq!(deleted[0]["type"], "DELETED");
    assert_eq!(deleted[0]["object"]["metadata"]["name"], "aks-istio-system");
}

#[tokio::test]
async fn namespaced_paths_and_other_kinds() {
    let sim = sim_with_plane("1.33.2");
    let cm = sim
        .kpost(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
        )
        .await;
    assert_eq!(cm.status, StatusCode::CREATED);
    let put = sim
        .kube(
            Method::PUT,
            "/api/v1/namespaces/default/configmaps/c",
            Some(json!({"metadata": {"name": "c"}, "data": {"a": "2"}})),
        )
        .await;
    assert_eq!(put.body["data"]["a"], "2");
    // Cluster-scoped path for a namespaced kind, and a namespaced path for a cluster kind: 404.
    assert_eq!(
        sim.kget("/api/v1/configmaps/c").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.kget("/api/v1/namespaces/default/namespaces/x")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // All-namespaces list works.
    assert_eq!(names(&sim.kget("/api/v1/configmaps").await.body), vec!["c"]);
    let svc = sim
        .kpost(
            "/api/v1/namespaces/default/services",
            json!({"metadata": {"name": "1bad"}, "spec": {"ports": [{"port": 80}]}}),
        )
        .await;
    assert_status(
        &svc,
        422,
        "Invalid",
        "a DNS-1035 label must consist of lower case alphanumeric characters",
    );
    let svc = sim
        .kpost(
            "/api/v1/namespaces/default/services",
            json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
        )
        .await;
    assert_eq!(svc.body["spec"]["type"], "ClusterIP");
    let deploy = sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            json!({"metadata": {"name": "d"},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                            "template": {"metadata": {"labels": {"app": "d"}},
                                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
                   "status": {"readyReplicas": 99}}),
        )
        .await;
    // The status is the server's: empty on create, as kube-apiserver answers (the controllers
    // fill it in right after: tests/kube_workloads.rs).
    assert_eq!(deploy.body["status"], json!({}));
    let status_sub = sim
        .kget("/apis/apps/v1/namespaces/default/deployments/d/status")
        .await;
    assert_eq!(status_sub.status, StatusCode::OK);
    let yaml = sim
        .kube_raw(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            Some("application/yaml"),
            Some(
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n".to_vec(),
            ),
            &[],
        )
        .await;
    assert_eq!(yaml.status, StatusCode::CREATED, "{}", yaml.body);
    assert_eq!(yaml.body["data"]["k"], "v");
}

/// The admission policy is the server's day's (`--azure-date`; the old `--istio-admission-era
/// 2023` stands for 2023-12-01); a sandbox's own day wins.
#[tokio::test]
async fn admission_policy_comes_from_the_servers_day() {
    let mut config = aksim::Config::for_tests();
    config.istio_admission_era = Some("2023".to_owned());
    let state =
        aksim::AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None).unwrap();
    assert_eq!(state.core.behaviour.day_string(), "2023-12-01");
    assert!(state.core.settings.notes[0].contains("--azure-date 2023-12-01"));
    let sim = Sim { state };
    sim.plane("1.33.2");
    sim.reconcile(&enabled(&["asm-1-26"]));
    let r = sim
        .kpost(
            "/apis/networking.istio.io/v1alpha3/namespaces/default/envoyfilters",
            labelled(
                envoy_filter("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"),
                "asm-1-26",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("\"EnvoyFilter\" is not allowed"));
    // A sandbox's day wins over the server's: today every EnvoyFilter type is allowed.
    sim.set_azure_date("2026-12-07");
    let r = sim
        .kpost(
            "/apis/networking.istio.io/v1alpha3/namespaces/default/envoyfilters",
            envoy_filter("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let mut bad = aksim::Config::for_tests();
    bad.istio_admission_era = Some("1999".to_owned());
    let err = aksim::AppState::new(bad, aksim::identity::TokenIssuer::ephemeral(), None)
        .err()
        .unwrap();
    assert!(
        err.contains("--istio-admission-era '1999' is not one of 2023, 2024, current"),
        "{err}"
    );
}

#[tokio::test]
async fn egress_gateway_in_a_user_namespace_leaves_the_namespace_alone() {
    let sim = sim_with_plane("1.33.2");
    sim.kpost("/api/v1/namespaces", ns("egress-team")).await;
    let mut view = enabled(&["asm-1-26"]);
    view.egress_gateways = vec![
        ("egw".into(), "egress-team".into()),
        ("egw2".into(), "default".into()),
    ];
    sim.reconcile(&view);
    assert_eq!(
        sim.kget("/api/v1/namespaces/egress-team/services/egw")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        names(
            &sim.kget("/apis/apps/v1/namespaces/default/deployments")
                .await
                .body
        ),
        vec!["egw2-asm-1-26"]
    );
    // The user's namespace stays writable and survives the add-on.
    let labelled = sim
        .kpatch(
            "/api/v1/namespaces/egress-team",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"a": "b"}}}),
        )
        .await;
    assert_eq!(labelled.status, StatusCode::OK);
    sim.reconcile(&MeshView::default());
    assert_eq!(
        sim.kget("/api/v1/namespaces/egress-team").await.status,
        StatusCode::OK
    );
    assert_eq!(
        sim.kget("/api/v1/namespaces/default").await.status,
        StatusCode::OK
    );
    assert_eq!(
        sim.kget("/api/v1/namespaces/egress-team/services/egw")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ingress_services_accept_annotations_and_traffic_policy_only() {
    let sim = sim_with_plane("1.33.2");
    let mut view = enabled(&["asm-1-26"]);
    view.ingress_gateways = vec!["External".into()];
    sim.reconcile(&view);
    let svc = "/api/v1/namespaces/aks-istio-ingress/services/aks-istio-ingressgateway-external";
    let annotated = sim
        .kpatch(
            svc,
            "application/merge-patch+json",
            json!({"metadata": {"annotations": {
                       "service.beta.kubernetes.io/port_443_health-probe_request-path": "/healthz/ready",
                       "service.beta.kubernetes.io/azure-pip-name": "my-ip",
                       "external-dns.alpha.kubernetes.io/hostname": "mesh.example.com"}},
                   "spec": {"externalTrafficPolicy": "Local"}}),
        )
        .await;
    assert_eq!(annotated.status, StatusCode::OK, "{}", annotated.body);
    let ports = sim
        .kpatch(
            svc,
            "application/merge-patch+json",
            json!({"spec": {"ports": [{"port": 8080}]}}),
        )
        .await;
    assert_status(
        &ports,
        403,
        "Forbidden",
        "services \"aks-istio-ingressgateway-external\" is forbidden: this object is managed by the Istio-based service mesh add-on and cannot be modified except the annotations (and, since 2025-03-16, spec.externalTrafficPolicy) the add-on lets users customise (docs/kubernetes.md)",
    );
    // An Azure annotation the docs do not list is refused like any other.
    let unlisted = sim
        .kpatch(
            svc,
            "application/merge-patch+json",
            json!({"metadata": {"annotations": {"service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/x"}}}),
        )
        .await;
    assert_eq!(unlisted.status, StatusCode::FORBIDDEN);
    let other_annotation = sim
        .kpatch(
            svc,
            "application/merge-patch+json",
            json!({"metadata": {"annotations": {"team": "x"}}}),
        )
        .await;
    assert_eq!(other_annotation.status, StatusCode::FORBIDDEN);
    // A PUT of the unchanged object is fine; the customisation survives a reconcile.
    let current = sim.kget(svc).await.body;
    assert_eq!(
        sim.kube(Method::PUT, svc, Some(current)).await.status,
        StatusCode::OK
    );
    view.revisions = vec!["asm-1-26".into(), "asm-1-27".into()];
    sim.reconcile(&view);
    let after = sim.kget(svc).await.body;
    assert_eq!(after["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(
        after["metadata"]["annotations"]
            ["service.beta.kubernetes.io/port_443_health-probe_request-path"],
        "/healthz/ready"
    );
    assert_eq!(
        after["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
        "mesh.example.com"
    );
    // The list grew over time: external-dns from 2025-02-25, the port annotations from
    // 2026-01-26, spec.externalTrafficPolicy from 2025-03-16; before 2024-09-18 nothing.
    for (day, annotation, allowed) in [
        (
            "2025-02-24",
            "external-dns.alpha.kubernetes.io/hostname",
            false,
        ),
        (
            "2025-02-25",
            "external-dns.alpha.kubernetes.io/hostname",
            true,
        ),
        (
            "2026-01-25",
            "service.beta.kubernetes.io/port_80_no_lb_rule",
            false,
        ),
        (
            "2024-09-17",
            "service.beta.kubernetes.io/azure-pip-name",
            false,
        ),
        (
            "2024-09-18",
            "service.beta.kubernetes.io/azure-pip-name",
            true,
        ),
    ] {
        sim.set_azure_date(day);
        let r = sim
            .kpatch(
                svc,
                "application/merge-patch+json",
                json!({"metadata": {"annotations": {annotation: format!("v-{day}")}}}),
            )
            .await;
        let want = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, want, "{day} {annotation}: {}", r.body);
    }
    sim.set_azure_date("2025-03-15");
    let etp = sim
        .kpatch(
            svc,
            "application/merge-patch+json",
            json!({"spec": {"externalTrafficPolicy": "Cluster"}}),
        )
        .await;
    assert_eq!(etp.status, StatusCode::FORBIDDEN, "{}", etp.body);
    sim.set_azure_date("2026-12-07");
    let label_ns = sim
        .kpatch(
            "/api/v1/namespaces/aks-istio-system",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"a": "b"}}}),
        )
        .await;
    assert_eq!(label_ns.status, StatusCode::FORBIDDEN);
}

/// Reads in a namespace that does not exist (or no longer exists) are answered like
/// kube-apiserver does: a GET is `pods "x" not found` (the object's own NotFound, not the
/// namespace's), a LIST is an empty list. Only writes check the namespace.
#[tokio::test]
async fn reads_in_a_missing_namespace() {
    let sim = sim_with_plane("1.27.7");
    let missing = sim.kget("/api/v1/namespaces/nosuch/pods/web").await;
    assert_status(&missing, 404, "NotFound", "pods \"web\" not found");
    assert_eq!(
        missing.body["details"],
        json!({"name": "web", "kind": "pods"})
    );
    let list = sim.kget("/api/v1/namespaces/nosuch/pods").await;
    assert_eq!(list.status, StatusCode::OK, "body: {}", list.body);
    assert_eq!(list.body["kind"], "PodList");
    assert_eq!(list.body["items"], json!([]));
    let write = sim
        .kpost("/api/v1/namespaces/nosuch/pods", pod("web"))
        .await;
    assert_status(&write, 404, "NotFound", "namespaces \"nosuch\" not found");

    // A pod whose namespace terminated went with it.
    sim.with_plane(|p| p.termination_delay_secs = 0.0);
    assert_eq!(
        sim.kpost("/api/v1/namespaces", ns("gone")).await.status,
        StatusCode::CREATED
    );
    let created = sim.kpost("/api/v1/namespaces/gone/pods", pod("web")).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "body: {}",
        created.body
    );
    let deleted = sim
        .kube(Method::DELETE, "/api/v1/namespaces/gone", None)
        .await;
    assert!(deleted.status.is_success(), "body: {}", deleted.body);
    let after = sim.kget("/api/v1/namespaces/gone/pods/web").await;
    assert_status(&after, 404, "NotFound", "pods \"web\" not found");
}

/// The Table columns of services, deployments, configmaps and secrets are kube-apiserver's
/// (what `kubectl get svc|deploy|cm|secret` prints), including the `-o wide` ones (priority 1).
#[tokio::test]
async fn table_columns_of_services_deployments_configmaps_secrets() {
    let sim = sim_with_plane("1.27.7");
    let mut view = enabled(&["asm-1-17", "asm-1-18"]);
    view.ingress_gateways = vec!["External".into()];
    sim.reconcile(&view);
    sim.advance(30.0);
    let accept = [(
        "accept",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )];
    let table = |path: &'static str| {
        let sim = &sim;
        async move {
            let t = sim
                .kube_raw(Method::GET, path, None, None, &accept)
                .await
                .body;
            assert_eq!(t["kind"], "Table", "{t}");
            let cols: Vec<(String, u64)> = t["columnDefinitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_owned(),
                        c["priority"].as_u64().unwrap(),
                    )
                })
                .collect();
            (t, cols)
        }
    };
    let cols = |names: &[(&str, u64)]| -> Vec<(String, u64)> {
        names.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect()
    };

    let (svc, svc_cols) = table("/api/v1/namespaces/aks-istio-ingress/services").await;
    assert_eq!(
        svc_cols,
        cols(&[
            ("Name", 0),
            ("Type", 0),
            ("Cluster-IP", 0),
            ("External-IP", 0),
            ("Port(s)", 0),
            ("Age", 0),
            ("Selector", 1)
        ])
    );
    let cells = &svc["rows"][0]["cells"];
    assert_eq!(cells[0], "aks-istio-ingressgateway-external");
    assert_eq!(cells[1], "LoadBalancer");
    assert!(cells[2].as_str().unwrap().starts_with("10.0."), "{cells}");
    assert_eq!(cells[3], "20.0.0.100");
    assert_eq!(cells[4], "15021/TCP,80/TCP,443/TCP");
    assert_eq!(cells[5], "30s");
    assert_eq!(
        cells[6],
        "app=aks-istio-ingressgateway-external,istio=aks-istio-ingressgateway-external"
    );

    let (deploy, deploy_cols) =
        table("/apis/apps/v1/namespaces/aks-istio-system/deployments").await;
    assert_eq!(
        deploy_cols,
        cols(&[
            ("Name", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Age", 0),
            ("Containers", 1),
            ("Images", 1),
            ("Selector", 1)
        ])
    );
    let rows = deploy["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{deploy}");
    let first = &rows[0]["cells"];
    assert_eq!(first[0], "istiod-asm-1-17");
    let replicas = sim
        .kget("/apis/apps/v1/namespaces/aks-istio-system/deployments/istiod-asm-1-17")
        .await
        .body["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1);
    assert_eq!(first[1], format!("{replicas}/{replicas}"));
    assert_eq!(first[2], replicas);
    assert_eq!(first[3], replicas);
    assert_eq!(first[4], "30s");

    sim.kpost(
        "/api/v1/namespaces/default/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two"},
               "data": {"a": "1", "b": "2"}}),
    )
    .await;
    let (cm, cm_cols) = table("/api/v1/namespaces/default/configmaps").await;
    assert_eq!(cm_cols, cols(&[("Name", 0), ("Data", 0), ("Age", 0)]));
    assert_eq!(cm["rows"][0]["cells"], json!(["two", 2, "0s"]));

    sim.kpost(
        "/api/v1/namespaces/default/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
               "data": {"k": "dg=="}}),
    )
    .await;
    let (secret, secret_cols) = table("/api/v1/namespaces/default/secrets").await;
    assert_eq!(
        secret_cols,
        cols(&[("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)])
    );
    assert_eq!(secret["rows"][0]["cells"], json!(["s", "Opaque", 1, "0s"]));
}

/// Istio custom resources are listed with their CRDs' printer columns (`kubectl get vs`:
/// NAME GATEWAYS HOSTS AGE); a kind without any gets Name/Age; the CRD carries the columns.
#[tokio::test]
async fn table_columns_of_istio_custom_resources() {
    let sim = sim_with_plane("1.27.7");
    sim.reconcile(&enabled(&["asm-1-17"]));
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews"}, "spec": {"hosts": ["reviews"]}});
    let created = sim
        .kpost(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            vs,
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "body: {}",
        created.body
    );
    sim.advance(5.0);
    let accept = [(
        "accept",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )];
    let t = sim
        .kube_raw(
            Method::GET,
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            None,
            None,
            &accept,
        )
        .await
        .body;
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Gateways", "Hosts", "Age"], "{t}");
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["reviews", null, "[\"reviews\"]", "5s"])
    );

    let t = sim
        .kube_raw(
            Method::GET,
            "/apis/networking.istio.io/v1alpha3/namespaces/default/envoyfilters",
            None,
            None,
            &accept,
        )
        .await
        .body;
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Age"], "{t}");

    let crd = sim
        .kget("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/peerauthentications.security.istio.io")
        .await
        .body;
    assert_eq!(
        crd["spec"]["versions"][0]["additionalPrinterColumns"][0]["jsonPath"],
        ".spec.mtls.mode"
    );
}
