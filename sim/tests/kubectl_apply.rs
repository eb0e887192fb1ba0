//! `kubectl apply` as kube-apiserver answers it, with the real kubectl against a real HTTPS
//! aksim: client-side apply's strategic merge patches merge lists by their merge keys.

mod common;

use common::kube::Server;
use common::kubectl::Kubectl;
use serde_json::Value;

const DEPLOYMENT_V1: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      initContainers:
      - name: setup
        image: busybox
      containers:
      - name: app
        image: nginx:1.25
        env:
        - name: MODE
          value: prod
        ports:
        - containerPort: 80
        volumeMounts:
        - name: cache
          mountPath: /cache
      - name: logger
        image: fluentbit:2
        env:
        - name: LEVEL
          value: info
      volumes:
      - name: cache
        emptyDir: {}
";

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

/// Apply a Deployment, edit one container's image and add an env var, apply again: the other
/// container, its env and the first container's other fields stay; a change made by someone
/// else (an added container the file never had) survives, as on a real cluster.
#[tokio::test(flavor = "multi_thread")]
async fn client_side_apply_merges_lists_by_merge_key() {
    let server = Server::start().await;
    server.plane("1.33.2");
    let k = Kubectl::new(&server);
    let f = k.file("web.yaml", DEPLOYMENT_V1);
    let out = k.ok(&["apply", "-f", &f]).await;
    assert!(out.contains("deployment.apps/web created"), "{out}");

    // Someone else adds a container (kubectl patch: a strategic merge patch).
    let out = k
        .ok(&[
            "patch",
            "deployment",
            "web",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"debug","image":"busybox"}]}}}}"#,
        ])
        .await;
    assert!(out.contains("deployment.apps/web patched"), "{out}");

    let v2 = DEPLOYMENT_V1.replace("nginx:1.25", "nginx:1.26").replace(
        "          value: prod\n",
        "          value: prod\n        - name: FEATURE\n          value: \"on\"\n",
    );
    let f = k.file("web.yaml", &v2);
    let out = k.ok(&["apply", "-f", &f]).await;
    assert!(out.contains("deployment.apps/web configured"), "{out}");

    let d = k.json(&["get", "deployment", "web"]).await;
    let spec = &d["spec"]["template"]["spec"];
    let containers = &spec["containers"];
    let mut got = names(containers);
    got.sort_unstable();
    assert_eq!(got, ["app", "debug", "logger"], "{containers}");
    let app = containers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app")
        .unwrap();
    assert_eq!(app["image"], "nginx:1.26");
    assert_eq!(names(&app["env"]), ["MODE", "FEATURE"]);
    assert_eq!(app["ports"][0]["containerPort"], 80);
    assert_eq!(app["volumeMounts"][0]["mountPath"], "/cache");
    let logger = containers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "logger")
        .unwrap();
    assert_eq!(logger["env"][0]["value"], "info");
    assert_eq!(names(&spec["initContainers"]), ["setup"]);
    assert_eq!(names(&spec["volumes"]), ["cache"]);
    assert_eq!(d["metadata"]["generation"], 3);

    // Removing the logger from the file removes it from the cluster; the other manager's
    // container stays.
    let v3 = v2.replace(
        "      - name: logger\n        image: fluentbit:2\n        env:\n        - name: LEVEL\n          value: info\n",
        "",
    );
    let f = k.file("web.yaml", &v3);
    k.ok(&["apply", "-f", &f]).await;
    let d = k.json(&["get", "deployment", "web"]).await;
    let mut got = names(&d["spec"]["template"]["spec"]["containers"]);
    got.sort_unstable();
    assert_eq!(got, ["app", "debug"]);

    // Applying the same file again changes nothing (kubectl still sends the containers' order,
    // which names only the file's, and says "configured" as it does against kube-apiserver).
    k.ok(&["apply", "-f", &f]).await;
    let again = k.json(&["get", "deployment", "web"]).await;
    assert_eq!(
        again["metadata"]["resourceVersion"],
        d["metadata"]["resourceVersion"]
    );
    assert_eq!(again["spec"], d["spec"]);
}

/// `kubectl apply --server-side` by two managers: the second one's different replicas is a
/// conflict naming the first manager and the field; `--force-conflicts` takes it over.
#[tokio::test(flavor = "multi_thread")]
async fn server_side_apply_conflicts_and_force() {
    let server = Server::start().await;
    server.plane("1.33.2");
    let k = Kubectl::new(&server);
    let f = k.file("web.yaml", DEPLOYMENT_V1);
    let out = k.ok(&["apply", "--server-side", "-f", &f]).await;
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let d = k
        .json(&["get", "deployment", "web", "--show-managed-fields"])
        .await;
    let mf = &d["metadata"]["managedFields"];
    assert_eq!(mf[0]["manager"], "kubectl", "{mf}");
    assert_eq!(mf[0]["operation"], "Apply");
    assert!(
        mf[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
            .get("k:{\"name\":\"app\"}")
            .is_some(),
        "{mf}"
    );
    // Applying the same file again changes nothing.
    k.ok(&["apply", "--server-side", "-f", &f]).await;
    let again = k.json(&["get", "deployment", "web"]).await;
    assert_eq!(
        again["metadata"]["resourceVersion"],
        d["metadata"]["resourceVersion"]
    );

    let scaled = DEPLOYMENT_V1.replace("replicas: 2", "replicas: 5");
    let f2 = k.file("scaled.yaml", &scaled);
    let err = k
        .fails(&[
            "apply",
            "--server-side",
            "--field-manager=autoscaler",
            "-f",
            &f2,
        ])
        .await;
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"),
        "{err}"
    );
    assert_eq!(
        k.json(&["get", "deployment", "web"]).await["spec"]["replicas"],
        2
    );
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "--field-manager=autoscaler",
            "--force-conflicts",
            "-f",
            &f2,
        ])
        .await;
    assert!(out.contains("serverside-applied"), "{out}");
    let d = k
        .json(&["get", "deployment", "web", "--show-managed-fields"])
        .await;
    assert_eq!(d["spec"]["replicas"], 5);
    let mf = d["metadata"]["managedFields"].as_array().unwrap();
    let kubectl = mf.iter().find(|e| e["manager"] == "kubectl").unwrap();
    assert!(
        kubectl["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "{kubectl}"
    );
    let autoscaler = mf.iter().find(|e| e["manager"] == "autoscaler").unwrap();
    assert!(
        autoscaler["fieldsV1"]["f:spec"].get("f:replicas").is_some(),
        "{autoscaler}"
    );
}

/// An invalid Deployment: kubectl prints kube-apiserver's 422 as it does against a cluster,
/// and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_deployment_is_refused() {
    let server = Server::start().await;
    server.plane("1.33.2");
    let k = Kubectl::new(&server);
    let bad = DEPLOYMENT_V1
        .replace("replicas: 2", "replicas: -1")
        .replace(
            "    matchLabels:\n      app: web",
            "    matchLabels:\n      app: other",
        );
    let f = k.file("bad.yaml", &bad);
    let err = k.fails(&["apply", "-f", &f]).await;
    assert!(
        err.contains("The Deployment \"web\" is invalid: \n* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n* spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"),
        "{err}"
    );
    let err = k.fails(&["get", "deployment", "web"]).await;
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );
}

/// Moving from client-side to server-side apply: kube-apiserver lets the manager `kubectl`
/// take the fields the last-applied annotation still describes (its lastAppliedManager), so
/// the apply of a changed file goes through without a conflict; another manager, or a field
/// someone else changed since, still conflicts.
#[tokio::test(flavor = "multi_thread")]
async fn client_side_then_server_side_apply() {
    let server = Server::start().await;
    server.plane("1.33.2");
    let k = Kubectl::new(&server);
    let f = k.file("web.yaml", DEPLOYMENT_V1);
    k.ok(&["apply", "-f", &f]).await;
    let scaled = DEPLOYMENT_V1.replace("replicas: 2", "replicas: 4");
    let f = k.file("web.yaml", &scaled);
    let out = k.ok(&["apply", "--server-side", "-f", &f]).await;
    assert!(out.contains("serverside-applied"), "{out}");
    let d = k
        .json(&["get", "deployment", "web", "--show-managed-fields"])
        .await;
    assert_eq!(d["spec"]["replicas"], 4);
    let managers: Vec<&str> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");
    let kubectl = &d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "kubectl")
        .unwrap()["fieldsV1"];
    assert!(kubectl["f:spec"].get("f:replicas").is_some(), "{kubectl}");
    // kube-apiserver keeps the client-side annotation in step with what kubectl applied.
    let last: Value = serde_json::from_str(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["spec"]["replicas"], 4);

    // Someone scales with kubectl scale-like patch; the file's value now differs from the
    // live one, so it is no longer the last-applied's to take.
    k.ok(&[
        "patch",
        "deployment",
        "web",
        "--field-manager=hpa",
        "-p",
        r#"{"spec":{"replicas":7}}"#,
    ])
    .await;
    let f = k.file(
        "web.yaml",
        &DEPLOYMENT_V1.replace("replicas: 2", "replicas: 3"),
    );
    let err = k.fails(&["apply", "--server-side", "-f", &f]).await;
    assert!(
        err.contains(
            "Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1: .spec.replicas"
        ),
        "{err}"
    );
}
