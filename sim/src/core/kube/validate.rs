//! Object validation with kube-apiserver's own texts (names, labels, annotations) and the
//! parsing of `labelSelector` / `fieldSelector` query parameters.
//!
//! Messages are copied from k8s.io/apimachinery `util/validation` so that a client sees the
//! same `Invalid value: ...` lines a real cluster prints.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{Cause, Error};
use crate::limits;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case \
alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. \
'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character \
(e.g. 'example.com', regex used for validation is \
'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric \
characters or '-', start with an alphabetic character, and end with an alphanumeric character \
(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric \
characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
'MyValue',  or 'my_value',  or '12345', regex used for validation is \
'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' \
or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Which name rule a resource's `metadata.name` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// Namespaces: RFC 1123 label, 63 characters.
    Label,
    /// Services: DNS-1035 label, 63 characters.
    Dns1035,
    /// Everything else: RFC 1123 subdomain, 253 characters.
    Subdomain,
}

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_label)
}

fn is_dns1035(s: &str) -> bool {
    is_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// The problems of `name` under `rule` (empty when valid).
pub fn name_errors(name: &str, rule: NameRule) -> Vec<String> {
    let mut out = Vec::new();
    let (max, ok, msg) = match rule {
        NameRule::Label => (63, is_label(name), DNS1123_LABEL_MSG),
        NameRule::Dns1035 => (63, is_dns1035(name), DNS1035_LABEL_MSG),
        NameRule::Subdomain => (253, is_subdomain(name), DNS1123_SUBDOMAIN_MSG),
    };
    if name.len() > max {
        out.push(format!("must be no more than {max} characters"));
    }
    if !ok {
        out.push(msg.to_owned());
    }
    out
}

fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Problems of a label or annotation key (`prefix/name`).
pub fn key_errors(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            out.push("prefix part must be non-empty".to_owned());
        } else {
            if prefix.len() > 253 {
                out.push("prefix part must be no more than 253 characters".to_owned());
            }
            if !is_subdomain(prefix) {
                out.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
            }
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > limits::KUBE_LABEL_NAME_MAX_CHARS {
            out.push(format!(
                "name part must be no more than {} characters",
                limits::KUBE_LABEL_NAME_MAX_CHARS
            ));
        }
        if !is_qualified_name_part(name) {
            out.push(QUALIFIED_NAME_MSG.to_owned());
        }
    }
    out
}

/// Problems of a label value.
pub fn label_value_errors(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    if value.len() > limits::KUBE_LABEL_VALUE_MAX_CHARS {
        out.push(format!(
            "must be no more than {} characters",
            limits::KUBE_LABEL_VALUE_MAX_CHARS
        ));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        out.push(LABEL_VALUE_MSG.to_owned());
    }
    out
}

/// Validates `metadata` of an object about to be stored: name, labels, annotations.
pub fn metadata_causes(meta: &Value, rule: NameRule) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        causes.push(Cause::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for e in name_errors(name, rule) {
            causes.push(Cause::invalid("metadata.name", name, &e));
        }
    }
    match meta.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(labels)) => {
            for (k, v) in labels {
                for e in key_errors(k) {
                    causes.push(Cause::invalid("metadata.labels", k, &e));
                }
                match v {
                    Value::String(v) => {
                        for e in label_value_errors(v) {
                            causes.push(Cause::invalid("metadata.labels", v, &e));
                        }
                    }
                    other => causes.push(Cause::invalid(
                        "metadata.labels",
                        &other.to_string(),
                        "label values must be strings",
                    )),
                }
            }
        }
        Some(_) => causes.push(Cause::invalid(
            "metadata.labels",
            "",
            "labels must be a map of strings",
        )),
    }
    match meta.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(annotations)) => {
            let mut total = 0usize;
            for (k, v) in annotations {
                for e in key_errors(k) {
                    causes.push(Cause::invalid("metadata.annotations", k, &e));
                }
                total += k.len() + v.as_str().map_or(0, str::len);
                if !v.is_string() {
                    causes.push(Cause::invalid(
                        "metadata.annotations",
                        &v.to_string(),
                        "annotation values must be strings",
                    ));
                }
            }
            if total > limits::KUBE_ANNOTATIONS_MAX_BYTES {
                causes.push(Cause {
                    reason: "FieldValueTooLong",
                    field: "metadata.annotations".to_owned(),
                    message: format!(
                        "Too long: must have at most {} bytes",
                        limits::KUBE_ANNOTATIONS_MAX_BYTES
                    ),
                });
            }
        }
        Some(_) => causes.push(Cause::invalid(
            "metadata.annotations",
            "",
            "annotations must be a map of strings",
        )),
    }
    causes
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Requirement {
    /// Whether the requirement holds for the labels `get` looks up (`None`: no such label).
    fn holds<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
        }
    }
}

/// A parsed `labelSelector` (all requirements must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0
            .iter()
            .all(|r| r.holds(|k| labels.get(k).map(String::as_str)))
    }

    /// [`LabelSelector::matches`] on an object's `metadata.labels`, read in place (a list
    /// filters every object of a type; building a map per object dominated it).
    pub fn matches_object(&self, object: &Value) -> bool {
        if self.0.is_empty() {
            return true;
        }
        // `get` twice, not `pointer`: a JSON pointer allocates per token, and a list runs
        // this on every object of the type.
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object);
        self.0
            .iter()
            .all(|r| r.holds(|k| labels.and_then(|m| m.get(k)).and_then(Value::as_str)))
    }
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unmatched ')'".to_owned());
                }
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if depth != 0 {
        return Err("unmatched '('".to_owned());
    }
    parts.push(cur);
    Ok(parts)
}

fn selector_key(k: &str) -> Result<String, String> {
    let k = k.trim();
    let errors = key_errors(k);
    if let Some(e) = errors.first() {
        return Err(format!(
            "unable to parse requirement: invalid label key {}: {e}",
            super::error::quote(k)
        ));
    }
    Ok(k.to_owned())
}

fn selector_value(v: &str) -> Result<String, String> {
    let v = v.trim();
    if let Some(e) = label_value_errors(v).first() {
        return Err(format!(
            "unable to parse requirement: invalid label value: {}: at key: {e}",
            super::error::quote(v)
        ));
    }
    Ok(v.to_owned())
}

fn value_set(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("found '{rest}', expected: '(' and ')' around the values"))?;
    inner
        .split(',')
        .map(selector_value)
        .collect::<Result<Vec<_>, _>>()
}

/// Parses a `labelSelector` query value (`a=b,c!=d,e in (x,y),!f,g`).
pub fn parse_label_selector(s: &str) -> Result<LabelSelector, Error> {
    if s.len() > limits::KUBE_SELECTOR_MAX_CHARS {
        return Err(Error::bad_request(format!(
            "unable to parse requirement: the selector is longer than {} characters",
            limits::KUBE_SELECTOR_MAX_CHARS
        )));
    }
    let mut reqs = Vec::new();
    let parts = split_top(s).map_err(Error::bad_request)?;
    for part in parts {
        let p = part.trim();
        if p.is_empty() {
            if s.trim().is_empty() {
                continue;
            }
            return Err(Error::bad_request(
                "found ',', expected: !, identifier, or 'end of string'",
            ));
        }
        let r = parse_requirement(p).map_err(Error::bad_request)?;
        reqs.push(r);
    }
    Ok(LabelSelector(reqs))
}

fn parse_requirement(p: &str) -> Result<Requirement, String> {
    if let Some(k) = p.strip_prefix('!') {
        return Ok(Requirement::NotExists(selector_key(k)?));
    }
    if let Some((k, v)) = p.split_once("!=") {
        return Ok(Requirement::NotEquals(selector_key(k)?, selector_value(v)?));
    }
    if let Some((k, v)) = p.split_once("==") {
        return Ok(Requirement::Equals(selector_key(k)?, selector_value(v)?));
    }
    if let Some((k, v)) = p.split_once('=') {
        return Ok(Requirement::Equals(selector_key(k)?, selector_value(v)?));
    }
    if p.contains('<') || p.contains('>') {
        return Err(format!(
            "unable to parse requirement: operator '<' and '>' need an integer value and are \
             not supported by aksim: {p}"
        ));
    }
    let words: Vec<&str> = p.splitn(3, char::is_whitespace).collect();
    if words.len() >= 2 {
        let rest = p[words[0].len()..].trim_start();
        if let Some(set) = rest.strip_prefix("notin") {
            return Ok(Requirement::NotIn(selector_key(words[0])?, value_set(set)?));
        }
        if let Some(set) = rest.strip_prefix("in") {
            return Ok(Requirement::In(selector_key(words[0])?, value_set(set)?));
        }
        return Err(format!(
            "found '{}', expected: in, notin, =, ==, !=, gt, lt",
            words[1]
        ));
    }
    Ok(Requirement::Exists(selector_key(p)?))
}

/// One `fieldSelector` term: `field=value` / `field!=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// Parses a `fieldSelector` against the fields a resource supports.
pub fn parse_field_selector(s: &str, supported: &[&str]) -> Result<Vec<FieldTerm>, Error> {
    let mut terms = Vec::new();
    for part in s.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let (field, value, negated) = if let Some((f, v)) = p.split_once("!=") {
            (f, v, true)
        } else if let Some((f, v)) = p.split_once("==") {
            (f, v, false)
        } else if let Some((f, v)) = p.split_once('=') {
            (f, v, false)
        } else {
            return Err(Error::bad_request(format!(
                "invalid selector: '{s}'; can't understand '{p}'"
            )));
        };
        let field = field.trim();
        if !supported.contains(&field) {
            return Err(Error::bad_request(format!(
                "field label not supported: {field}"
            )));
        }
        terms.push(FieldTerm {
            field: field.to_owned(),
            value: value.trim().to_owned(),
            negated,
        });
    }
    Ok(terms)
}

/// Whether `object` satisfies every field term (`metadata.name`, `metadata.namespace`,
/// `status.phase`, `spec.nodeName`, looked up by dotted path).
pub fn fields_match(object: &Value, terms: &[FieldTerm]) -> bool {
    terms.iter().all(|t| {
        let actual = t
            .field
            .split('.')
            .try_fold(object, |v, k| v.get(k))
            .and_then(Value::as_str)
            .unwrap_or("");
        (actual == t.value) != t.negated
    })
}

/// `metadata.labels` as a map (non-string values are ignored; validation refuses them).
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        let s = parse_label_selector("a=b,c!=d,e in (x, y),f notin (z),!g,h,i==j").unwrap();
        assert_eq!(s.0.len(), 7);
        assert_eq!(
            s.0[2],
            Requirement::In("e".into(), vec!["x".into(), "y".into()])
        );
        assert!(parse_label_selector("a in x").is_err());
        assert!(parse_label_selector("Bad Key").is_err());
    }

    #[test]
    fn names() {
        assert!(name_errors("ok-name", NameRule::Label).is_empty());
        assert_eq!(name_errors("Bad_Name", NameRule::Label).len(), 1);
        assert_eq!(name_errors(&"a".repeat(64), NameRule::Label).len(), 1);
        assert!(name_errors("a.b", NameRule::Subdomain).is_empty());
        assert!(!name_errors("1abc", NameRule::Dns1035).is_empty());
    }
}
