//! JSON kept for a long time (stored clusters, Kubernetes objects) rebuilt at exactly its size.
//!
//! Parsing and `json!`/`insert` grow maps and arrays by doubling, so a stored value carries up
//! to half of its maps' slots unused (with `preserve_order` every slot is a ~100-byte entry).
//! [`value`] and [`map`] rebuild them at their length; content and key order are unchanged.

use serde_json::{Map, Value};

/// Rebuilds a JSON map (and everything in it) at exactly its size; order is kept.
pub fn map(map: &mut Map<String, Value>) {
    let mut exact: Map<String, Value> = std::mem::take(map).into_iter().collect();
    exact.values_mut().for_each(value);
    *map = exact;
}

/// [`map`] for any value.
pub fn value(value: &mut Value) {
    match value {
        Value::Object(m) => map(m),
        Value::Array(items) => {
            items.shrink_to_fit();
            items.iter_mut().for_each(self::value);
        }
        Value::String(s) => s.shrink_to_fit(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn compacting_changes_neither_content_nor_order() {
        let mut v: serde_json::Value =
            serde_json::from_str(r#"{"z":1,"a":{"y":[1,{"b":2,"a":3}],"x":"s"},"m":null}"#)
                .expect("json");
        let before = serde_json::to_string(&v).expect("text");
        super::value(&mut v);
        assert_eq!(serde_json::to_string(&v).expect("text"), before);
        assert_eq!(v["a"]["y"][1], json!({"b": 2, "a": 3}));
    }
}
