//! The fake Entra ID over HTTPS: cloud metadata (both formats), OpenID configuration (GUID
//! tenant and adfs), the token endpoint, JWKS verification of an issued token, and the
//! `--auth strict` checks on ARM (accepted, garbage, expired on the virtual clock, wrong
//! audience).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::sim::{send, spawn_sim, Reply, SimHandle};
use crate::support::{CLIENT_ID, SUB, TENANT};

async fn token(sim: &SimHandle, path: &str, form: &[(&str, &str)]) -> Reply {
    send(sim.client.post(sim.url(path)).form(form)).await
}

/// A client-credentials token for `scope` from the adfs token endpoint.
async fn access_token(sim: &SimHandle, scope: &str) -> String {
    let reply = token(
        sim,
        "/adfs/oauth2/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "s"),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:#?}");
    reply.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_metadata_in_both_formats() {
    let sim = spawn_sim(|_| {}).await;
    let base = &sim.base_url;
    let object = sim.get("/metadata/endpoints?api-version=2022-09-01").await;
    assert_eq!(object.status, StatusCode::OK);
    assert_eq!(object.body["resourceManager"], format!("{base}/"));
    assert_eq!(
        object.body["authentication"]["loginEndpoint"],
        format!("{base}/adfs")
    );
    assert_eq!(
        object.body["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert_eq!(object.body["name"], "aksim");

    let list = sim.get("/metadata/endpoints?api-version=2019-05-01").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().map(Vec::len), Some(1), "{list:#?}");
    assert_eq!(list.body[0], object.body);

    // Unauthenticated: `az cloud register` sends no token.
    let bare = send(
        sim.client
            .get(sim.url("/metadata/endpoints?api-version=2022-09-01")),
    )
    .await;
    assert_eq!(bare.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_configuration_for_a_guid_tenant_and_adfs() {
    let sim = spawn_sim(|_| {}).await;
    let base = &sim.base_url;
    let aad = sim
        .get(&format!("/{TENANT}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(aad.status, StatusCode::OK);
    assert_eq!(
        aad.body["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(aad.body["issuer"], format!("{base}/{TENANT}/v2.0"));
    assert!(aad.body["authorization_endpoint"].is_string());

    let adfs = sim.get("/adfs/.well-known/openid-configuration").await;
    assert_eq!(adfs.status, StatusCode::OK);
    assert_eq!(
        adfs.body["token_endpoint"],
        format!("{base}/adfs/oauth2/token")
    );
    assert_eq!(adfs.body["jwks_uri"], format!("{base}/adfs/discovery/keys"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_grants_and_refusals() {
    let sim = spawn_sim(|_| {}).await;
    let v2 = format!("/{TENANT}/oauth2/v2.0/token");
    let scope = "https://management.core.windows.net//.default";
    let with_secret = token(
        &sim,
        &v2,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "s"),
            ("scope", scope),
            ("client_info", "1"),
        ],
    )
    .await;
    assert_eq!(with_secret.status, StatusCode::OK, "{with_secret:#?}");
    assert_eq!(with_secret.body["token_type"], "Bearer");
    assert_eq!(with_secret.body["expires_in"], 3599);
    assert!(with_secret.body["access_token"].is_string());

    let with_assertion = token(
        &sim,
        &v2,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", "eyJhbGciOiJub25lIn0.e30."),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(with_assertion.status, StatusCode::OK, "{with_assertion:#?}");

    for (what, form, error, aadsts) in [
        (
            "no grant_type",
            vec![("client_id", CLIENT_ID), ("client_secret", "s")],
            "invalid_request",
            "AADSTS900144",
        ),
        (
            "no client credential",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
            ],
            "invalid_request",
            "AADSTS7000216",
        ),
        (
            "a grant aksim does not issue",
            vec![
                ("grant_type", "password"),
                ("client_id", CLIENT_ID),
                ("client_secret", "s"),
            ],
            "unsupported_grant_type",
            "AADSTS70003",
        ),
    ] {
        let reply = token(&sim, &v2, &form).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {reply:#?}");
        assert_eq!(reply.body["error"], error, "{what}");
        let description = reply.body["error_description"].as_str().unwrap_or("");
        assert!(description.starts_with(aadsts), "{what}: {description}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_verifies_an_issued_token() {
    let sim = spawn_sim(|_| {}).await;
    let jwt = access_token(&sim, "https://management.core.windows.net//.default").await;
    let jwks = sim.get("/adfs/discovery/keys").await;
    assert_eq!(jwks.status, StatusCode::OK);
    let same = sim.get(&format!("/{TENANT}/discovery/v2.0/keys")).await;
    assert_eq!(same.body, jwks.body);

    let header = jsonwebtoken::decode_header(&jwt).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::ES256);
    let key = jwks.body["keys"]
        .as_array()
        .and_then(|keys| {
            keys.iter()
                .find(|k| Some(k["kid"].as_str().unwrap_or("")) == header.kid.as_deref())
        })
        .expect("the token's kid is in the JWKS");
    let decoding = DecodingKey::from_ec_components(
        key["x"].as_str().expect("x"),
        key["y"].as_str().expect("y"),
    )
    .expect("an EC public key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["https://management.core.windows.net/"]);
    let data = jsonwebtoken::decode::<Value>(&jwt, &decoding, &validation)
        .expect("the signature verifies with the published key");
    let claims = data.claims;
    assert_eq!(claims["appid"], CLIENT_ID);
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims["idtyp"], "app");

    // A tampered payload fails verification.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value =
        serde_json::from_slice(&b64.decode(&parts[1]).expect("base64 payload")).expect("json");
    payload["appid"] = "someone-else".into();
    parts[1] = b64.encode(serde_json::to_vec(&payload).expect("json"));
    assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &decoding, &validation).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_auth_checks_signature_expiry_and_audience() {
    let sim = spawn_sim(|c| c.auth = aksim::config::AuthMode::Strict).await;
    let url = sim.url(&format!(
        "/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"
    ));
    let good = access_token(&sim, "https://management.core.windows.net//.default").await;
    let ok = send(sim.client.get(&url).bearer_auth(&good)).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:#?}");

    let azure_audience = access_token(&sim, "https://management.azure.com/.default").await;
    let ok = send(sim.client.get(&url).bearer_auth(&azure_audience)).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:#?}");

    send(sim.client.get(&url).bearer_auth("not-a-jwt"))
        .await
        .assert_arm_error(401, "InvalidAuthenticationToken");

    // Signed by another aksim (another key): refused.
    let other = spawn_sim(|_| {}).await;
    let foreign = access_token(&other, "https://management.core.windows.net//.default").await;
    send(sim.client.get(&url).bearer_auth(&foreign))
        .await
        .assert_arm_error(401, "InvalidAuthenticationToken");

    let graph = access_token(&sim, "https://graph.microsoft.com/.default").await;
    send(sim.client.get(&url).bearer_auth(&graph))
        .await
        .assert_arm_error(401, "InvalidAuthenticationTokenAudience");

    // Tokens live 3599 s on the virtual clock.
    sim.advance(3600.0);
    send(sim.client.get(&url).bearer_auth(&good))
        .await
        .assert_arm_error(401, "ExpiredAuthenticationToken");
    let fresh = access_token(&sim, "https://management.core.windows.net//.default").await;
    let ok = send(sim.client.get(&url).bearer_auth(&fresh)).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:#?}");
}
