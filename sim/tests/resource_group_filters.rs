//! Router tests: `$filter` on resource-group lists (what `az group list --tag` sends), found
//! missing by the real-client tests.

mod common;

use axum::http::StatusCode;
use common::{Sim, SUB};
use serde_json::json;

fn names(reply: &common::Reply) -> Vec<String> {
    reply.body["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|g| g["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn tag_filters_select_groups() {
    let sim = Sim::new();
    for (name, tags) in [
        ("dev1", json!({"env": "dev", "team": "a"})),
        ("dev2", json!({"Env": "dev"})),
        ("prod", json!({"env": "prod"})),
        ("quoted", json!({"owner": "o'brien"})),
        ("untagged", json!(null)),
    ] {
        let reply = sim
            .put(
                &format!("/subscriptions/{SUB}/resourcegroups/{name}?api-version=2024-11-01"),
                json!({"location": "eastus", "tags": tags}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}");
    }
    let list = |filter: &str| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", filter)
            .append_pair("api-version", "2024-11-01")
            .finish();
        format!("/subscriptions/{SUB}/resourcegroups?{query}")
    };
    // (filter, groups it selects), data-driven.
    for (filter, want) in [
        (
            "tagName eq 'env' and tagValue eq 'dev'",
            vec!["dev1", "dev2"],
        ),
        (
            "tagname eq 'ENV' and tagvalue eq 'dev'",
            vec!["dev1", "dev2"],
        ),
        ("tagName eq 'env' and tagValue eq 'DEV'", vec![]),
        ("tagName eq 'env'", vec!["dev1", "dev2", "prod"]),
        ("  TAGNAME   EQ   'team'  ", vec!["dev1"]),
        (
            "tagName eq 'owner' and tagValue eq 'o''brien'",
            vec!["quoted"],
        ),
        ("tagName eq 'nope'", vec![]),
        ("", vec!["dev1", "dev2", "prod", "quoted", "untagged"]),
    ] {
        let reply = sim.get(&list(filter)).await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {:?}", reply.body);
        let mut got = names(&reply);
        got.sort();
        assert_eq!(got, want, "{filter}");
    }
    for bad in [
        "name eq 'dev1'",
        "location eq 'eastus'",
        "tagName eq dev",
        "tagName eq 'env' and",
        "tagName eq 'env' or tagValue eq 'dev'",
        "tagName eq 'env' and tagValue eq 'dev' and tagValue eq 'x'",
        "tagName eq 'unterminated",
        "tagNameeq 'env'",
        "é",
    ] {
        let reply = sim.get(&list(bad)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.code(), "InvalidFilterInQueryString", "{bad}");
        assert_eq!(
            reply.body["error"]["message"],
            format!("Invalid $filter '{bad}' specified in the query string."),
            "{bad}"
        );
    }
}
