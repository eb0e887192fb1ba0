//! Expectations: JSON subset matching with placeholders, simple JSON paths, and the text of
//! a mismatch (expected vs actual at a path).
//!
//! Placeholders in expected strings: `{{any}}` (anything present), `{{absent}}` (the key must
//! not exist), `{{uuid}}`, `{{etag}}` (a non-empty string), `{{now}}` (an RFC 3339 time),
//! `{{regex:PATTERN}}` is not offered (no regex engine); `{{prefix:TEXT}}` and
//! `{{contains:TEXT}}` cover what scenarios need. Variables (`{{name}}`) are substituted before
//! matching.

use serde_json::Value;

/// Where a value differs: `$.properties.mode: expected "Istio", got "Disabled"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.path, self.expected, self.actual
        )
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 300 {
                format!(
                    "{}…",
                    &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)]
                )
            } else {
                s
            }
        }
    }
}

/// Matches a placeholder string against a value; `None` when `expected` is no placeholder.
fn placeholder(expected: &str, actual: Option<&Value>) -> Option<bool> {
    let inner = expected.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let text = actual.and_then(Value::as_str);
    Some(match inner {
        "any" => actual.is_some(),
        "absent" => actual.is_none(),
        "uuid" => text.is_some_and(|t| uuid::Uuid::parse_str(t).is_ok()),
        "etag" => text.is_some_and(|t| !t.is_empty()),
        "now" => text.is_some_and(|t| crate::clock::parse_rfc3339(t).is_some()),
        _ => {
            if let Some(prefix) = inner.strip_prefix("prefix:") {
                text.is_some_and(|t| t.starts_with(prefix))
            } else if let Some(part) = inner.strip_prefix("contains:") {
                text.is_some_and(|t| t.contains(part))
            } else {
                return None;
            }
        }
    })
}

/// Whether `actual` contains `expected`: objects by subset of keys, arrays element-wise with
/// equal length, scalars by equality (or placeholder).
pub fn subset(expected: &Value, actual: Option<&Value>, path: &str) -> Result<(), Mismatch> {
    if let Value::String(s) = expected {
        if let Some(ok) = placeholder(s, actual) {
            return if ok {
                Ok(())
            } else {
                Err(Mismatch {
                    path: path.to_owned(),
                    expected: s.clone(),
                    actual: show(actual),
                })
            };
        }
    }
    let Some(actual) = actual else {
        return Err(Mismatch {
            path: path.to_owned(),
            expected: show(Some(expected)),
            actual: show(None),
        });
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                subset(ev, a.get(k), &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(Mismatch {
                    path: format!("{path}.length"),
                    expected: e.len().to_string(),
                    actual: format!("{} in {}", a.len(), show(Some(actual))),
                });
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(ev, Some(av), &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(Mismatch {
            path: path.to_owned(),
            expected: show(Some(e)),
            actual: show(Some(a)),
        }),
    }
}

/// Resolves a simple JSON path: `$`, `.key`, `["key.with.dots"]`, `[index]`, and a final
/// `.length()`.
pub fn resolve<'a>(root: &'a Value, path: &str) -> Result<Option<Value>, String> {
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| format!("json path '{path}' must start with $"))?;
    let (rest, length) = match rest.strip_suffix(".length()") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let mut current: Option<&'a Value> = Some(root);
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("json path '{path}' has an empty key"));
                }
                current = current.and_then(|v| v.get(&key));
            }
            '[' if matches!(chars.peek(), Some('"' | '\'')) => {
                // A quoted key: ["sidecar.istio.io/status"].
                let quote = chars.next().unwrap_or('"');
                let mut key = String::new();
                let mut closed = false;
                while let Some(n) = chars.next() {
                    if n == quote && chars.peek() == Some(&']') {
                        chars.next();
                        closed = true;
                        break;
                    }
                    key.push(n);
                }
                if !closed {
                    return Err(format!("json path '{path}': unclosed [{quote}...{quote}]"));
                }
                current = current.and_then(|v| v.get(&key));
            }
            '[' => {
                let mut index = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    index.push(n);
                }
                let i: usize = index
                    .trim()
                    .parse()
                    .map_err(|_| format!("json path '{path}': bad index '{index}'"))?;
                current = current.and_then(|v| v.get(i));
            }
            other => return Err(format!("json path '{path}': unexpected '{other}'")),
        }
    }
    if length {
        return Ok(current.map(|v| match v {
            Value::Array(a) => Value::from(a.len()),
            Value::Object(o) => Value::from(o.len()),
            Value::String(s) => Value::from(s.chars().count()),
            _ => Value::Null,
        }));
    }
    Ok(current.cloned())
}

/// How deep placeholders may nest (`{{prefix:{{base}}/x}}` is 2). Deeper nesting is refused:
/// each level rescans the rest of the text and recurses, so a file of 20,000 nested
/// `{{prefix:` took seconds and then overflowed the stack (found by reviewing the `scenario`
/// fuzz target's reach).
pub const PLACEHOLDER_DEPTH_MAX: usize = 8;

/// Replaces `{{name}}` with variables; placeholders the matcher understands are left alone
/// (with variables inside their arguments substituted: `{{prefix:{{base}}/x}}`).
pub fn substitute(
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<String, String> {
    substitute_at(text, vars, 1)
}

fn substitute_at(
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
    depth: usize,
) -> Result<String, String> {
    if depth > PLACEHOLDER_DEPTH_MAX {
        let head: String = text.chars().take(64).collect();
        return Err(format!(
            "placeholders nest deeper than {PLACEHOLDER_DEPTH_MAX} levels at '{head}'"
        ));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = closing(after).ok_or_else(|| format!("unclosed '{{{{' in '{text}'"))?;
        let name = after[..end].trim();
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None if is_matcher(name) => {
                out.push_str("{{");
                out.push_str(&substitute_at(&after[..end], vars, depth + 1)?);
                out.push_str("}}");
            }
            None => return Err(format!("unknown variable '{{{{{name}}}}}'")),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}}` that closes an opened `{{`, allowing nested pairs.
fn closing(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && bytes[i + 1] == b'{' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'}' && bytes[i + 1] == b'}' {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

fn is_matcher(name: &str) -> bool {
    matches!(name, "any" | "absent" | "uuid" | "etag" | "now")
        || name.starts_with("prefix:")
        || name.starts_with("contains:")
}

/// Substitutes variables in every string of a JSON value.
pub fn substitute_json(
    value: &Value,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(substitute(s, vars)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| substitute_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((substitute(k, vars)?, substitute_json(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_and_placeholders() {
        let actual = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "id": "6f1c0b9e-8a3a-4a0e-9d5b-0c1d2e3f4a5b"});
        assert!(subset(&json!({"b": {"c": "x"}}), Some(&actual), "$").is_ok());
        assert!(subset(
            &json!({"id": "{{uuid}}", "zz": "{{absent}}", "a": "{{any}}"}),
            Some(&actual),
            "$"
        )
        .is_ok());
        let e = subset(&json!({"b": {"d": [1]}}), Some(&actual), "$").unwrap_err();
        assert_eq!(e.path, "$.b.d.length");
        let e = subset(&json!({"b": {"c": "y"}}), Some(&actual), "$").unwrap_err();
        assert_eq!(e.to_string(), "$.b.c: expected \"y\", got \"x\"");
        assert!(subset(&json!({"b": {"c": "{{prefix:x}}"}}), Some(&actual), "$").is_ok());
    }

    #[test]
    fn paths_and_variables() {
        let v = json!({"value": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(resolve(&v, "$.value[1].name").unwrap(), Some(json!("b")));
        assert_eq!(resolve(&v, "$.value.length()").unwrap(), Some(json!(2)));
        assert_eq!(resolve(&v, "$.nope").unwrap(), None);
        let a = json!({"m": {"a.b/c": 1}});
        assert_eq!(resolve(&a, r#"$.m["a.b/c"]"#).unwrap(), Some(json!(1)));
        assert!(resolve(&a, r#"$.m["a.b/c"#).is_err());
        assert!(resolve(&v, "value").is_err());
        let vars = [("sub".to_owned(), "S".to_owned())].into_iter().collect();
        assert_eq!(
            substitute("/subscriptions/{{sub}}/x/{{any}}", &vars).unwrap(),
            "/subscriptions/S/x/{{any}}"
        );
        assert!(substitute("{{missing}}", &vars).is_err());
        assert_eq!(
            substitute("{{prefix:{{sub}}/x}}", &vars).unwrap(),
            "{{prefix:S/x}}"
        );
    }
}
