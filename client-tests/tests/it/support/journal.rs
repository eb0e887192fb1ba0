//! Reads aksim's request journal (`GET /_sim/journal`) for tests that assert on what a real
//! client actually sent.

use serde_json::Value;

use super::sim::SimHandle;

/// The journal entries matching `query` (e.g. `"path=*/resourcegroups/*&method=GET"`), oldest
/// first; an empty query gives them all.
pub async fn entries(sim: &SimHandle, query: &str) -> Vec<Value> {
    let path = if query.is_empty() {
        "/_sim/journal".to_owned()
    } else {
        format!("/_sim/journal?{query}")
    };
    let reply = sim.get(&path).await;
    assert_eq!(reply.status.as_u16(), 200, "{reply:#?}");
    reply.body["value"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("the journal answers {{value: [...]}}: {reply:#?}"))
}

/// One line per entry (`METHOD path?query -> status`), for failure messages.
pub fn summary(entries: &[Value]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "{} {}?{} -> {} {}",
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or(""),
                e["query"].as_str().unwrap_or(""),
                e["status"],
                e["errorCode"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
