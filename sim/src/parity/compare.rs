//! Comparing one exchange: the recorded response against aksim's answer to the same request.
//!
//! Status first (a different status ends the comparison: the bodies then describe different
//! things); then the bodies as JSON trees — key paths the recording has and aksim lacks
//! (missing), key paths only aksim has (extra), and leaves whose values differ after the
//! normalisation rules; then the headers clients depend on, when the recording has them.
//! Every difference gets a category by cause (see [`Category`]).

use serde::Serialize;
use serde_json::Value;

use crate::parity::cassette;
use crate::parity::rules::{show_path, Rules, Seg, Site};

/// Longest value text kept in a difference.
const SHOWN_MAX: usize = 240;

/// One HTTP answer, whichever transport produced it.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `code` and `message` of an ARM error body.
    pub fn error(&self) -> Option<(String, String)> {
        error_of(&self.json()?)
    }
}

fn error_of(body: &Value) -> Option<(String, String)> {
    let e = body.get("error")?;
    Some((
        e.get("code")?.as_str()?.to_owned(),
        e.get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    ))
}

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// aksim has no route for the request (its `NotFound … does not exist in aksim`).
    MissingEndpoint,
    Status,
    /// A key path the recording has and aksim's answer lacks.
    MissingField,
    /// A key path only aksim's answer has.
    ExtraField,
    Value,
    Header,
}

impl Kind {
    /// The category a difference of this kind gets when no rule names another.
    pub fn category(self) -> &'static str {
        match self {
            Kind::MissingEndpoint => "missing endpoint",
            Kind::Status => "different status",
            Kind::MissingField => "missing field",
            Kind::ExtraField => "extra field",
            Kind::Value => "different value",
            Kind::Header => "header",
        }
    }
}

/// One difference of one exchange.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    pub kind: Kind,
    /// `status`, `header:location`, `$` (the whole body) or a body path.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// By cause: `missing endpoint`, `missing field`, `extra field`, `different value`,
    /// `different status`, `header`, or one named by a rule (`dated`, `follow-on`).
    pub category: String,
    /// Why the category (from the rule), or what caused a follow-on difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The id of the `--ignore` entry that accepts this difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            Kind::MissingEndpoint => "aksim has no such endpoint".to_owned(),
            Kind::MissingField => "missing in aksim's answer".to_owned(),
            Kind::ExtraField => "only in aksim's answer".to_owned(),
            _ => "differs".to_owned(),
        };
        write!(f, "{} {what} [{}]", self.path, self.category)?;
        if let Some(r) = &self.recorded {
            write!(f, "\n      recorded: {r}")?;
        }
        if let Some(a) = &self.actual {
            write!(f, "\n      aksim:    {a}")?;
        }
        if let Some(n) = &self.note {
            write!(f, "\n      note:     {n}")?;
        }
        if let Some(id) = &self.accepted {
            write!(f, "\n      accepted: {id}")?;
        }
        Ok(())
    }
}

fn shown(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    cut(&s)
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(SHOWN_MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Whether aksim answered "no such route" (a gap in the simulator, not a refusal).
pub fn is_missing_endpoint(reply: &Reply) -> bool {
    (reply.status == 404 || reply.status == 405)
        && reply.error().is_some_and(|(code, message)| {
            (code == "NotFound" && message.ends_with("does not exist in aksim."))
                || (reply.status == 405 && code == "MethodNotAllowed")
        })
}

/// The recorded response and aksim's answer for the request to `request_path` (no query).
pub fn compare(
    rules: &Rules,
    request_path: &str,
    recorded: &cassette::Response,
    actual: &Reply,
) -> Vec<Difference> {
    let mut c = Comparer {
        rules,
        request: request_path,
        aksim_error: actual.error(),
        out: Vec::new(),
    };
    let recorded_json: Option<Value> = serde_json::from_str(&recorded.body.string).ok();
    let recorded_error = recorded_json.as_ref().and_then(error_of);
    let status_text = |status: u16, error: &Option<(String, String)>| match error {
        Some((code, message)) => format!("{status} {code}: {}", cut(message)),
        None => status.to_string(),
    };
    if is_missing_endpoint(actual) && recorded.status.code != actual.status {
        c.push(
            Kind::MissingEndpoint,
            "status".into(),
            None,
            Some(status_text(recorded.status.code, &recorded_error)),
            Some(status_text(actual.status, &c.aksim_error)),
        );
        return c.out;
    }
    if recorded.status.code != actual.status {
        c.push(
            Kind::Status,
            "status".into(),
            None,
            Some(status_text(recorded.status.code, &recorded_error)),
            Some(status_text(actual.status, &c.aksim_error)),
        );
        return c.out;
    }
    c.bodies(&recorded.body.string, &actual.body, recorded_json.as_ref());
    c.headers(&recorded.headers, actual);
    c.out
}

struct Comparer<'a> {
    rules: &'a Rules,
    request: &'a str,
    aksim_error: Option<(String, String)>,
    out: Vec<Difference>,
}

impl Comparer<'_> {
    fn push(
        &mut self,
        kind: Kind,
        path: String,
        segs: Option<&[Seg]>,
        recorded: Option<String>,
        actual: Option<String>,
    ) {
        let site = Site {
            request: self.request,
            path: segs,
            recorded: recorded.as_deref(),
            aksim_error: self
                .aksim_error
                .as_ref()
                .map(|(c, m)| (c.as_str(), m.as_str())),
        };
        let (category, note) = match self.rules.category(&site) {
            Some(c) => (c.name.clone(), Some(c.why.clone())),
            None => (kind.category().to_owned(), None),
        };
        self.out.push(Difference {
            kind,
            path,
            recorded,
            actual,
            category,
            note,
            accepted: None,
        });
    }

    fn bodies(&mut self, recorded_text: &str, actual: &[u8], recorded: Option<&Value>) {
        let actual_json: Option<Value> = serde_json::from_slice(actual).ok();
        let recorded_empty = recorded_text.trim().is_empty();
        let actual_empty = actual.iter().all(u8::is_ascii_whitespace);
        match (recorded, actual_json.as_ref()) {
            (Some(r), Some(a)) => {
                let mut path = Vec::new();
                self.tree(r, a, &mut path);
            }
            _ if recorded_empty && actual_empty => {}
            (Some(r), None) if actual_empty => self.push(
                Kind::MissingField,
                "$".into(),
                Some(&[]),
                Some(shown(r)),
                Some("(empty body)".into()),
            ),
            _ if recorded_empty => self.push(
                Kind::ExtraField,
                "$".into(),
                Some(&[]),
                Some("(empty body)".into()),
                Some(cut(&String::from_utf8_lossy(actual))),
            ),
            _ => {
                let a = String::from_utf8_lossy(actual);
                if self.rules.mask(recorded_text.trim()) != self.rules.mask(a.trim()) {
                    self.push(
                        Kind::Value,
                        "$".into(),
                        Some(&[]),
                        Some(cut(recorded_text)),
                        Some(cut(&a)),
                    );
                }
            }
        }
    }

    fn tree(&mut self, r: &Value, a: &Value, path: &mut Vec<Seg>) {
        match (r, a) {
            (Value::Object(ro), Value::Object(ao)) => {
                for (k, rv) in ro {
                    path.push(Seg::Key(k.clone()));
                    match ao.get(k) {
                        Some(av) => self.tree(rv, av, path),
                        None => self.push(
                            Kind::MissingField,
                            show_path(path),
                            Some(path),
                            Some(shown(rv)),
                            None,
                        ),
                    }
                    path.pop();
                }
                for (k, av) in ao {
                    if !ro.contains_key(k) {
                        path.push(Seg::Key(k.clone()));
                        self.push(
                            Kind::ExtraField,
                            show_path(path),
                            Some(path),
                            None,
                            Some(shown(av)),
                        );
                        path.pop();
                    }
                }
            }
            (Value::Array(ra), Value::Array(aa)) => {
                for i in 0..ra.len().max(aa.len()) {
                    path.push(Seg::Index(i));
                    match (ra.get(i), aa.get(i)) {
                        (Some(rv), Some(av)) => self.tree(rv, av, path),
                        (Some(rv), None) => self.push(
                            Kind::MissingField,
                            show_path(path),
                            Some(path),
                            Some(shown(rv)),
                            None,
                        ),
                        (None, Some(av)) => self.push(
                            Kind::ExtraField,
                            show_path(path),
                            Some(path),
                            None,
                            Some(shown(av)),
                        ),
                        (None, None) => {}
                    }
                    path.pop();
                }
            }
            _ => {
                if !leaf_equal(self.rules, self.request, path, r, a) {
                    self.push(
                        Kind::Value,
                        show_path(path),
                        Some(path),
                        Some(shown(r)),
                        Some(shown(a)),
                    );
                }
            }
        }
    }

    fn headers(&mut self, recorded: &cassette::Headers, actual: &Reply) {
        let rules = self.rules;
        for name in &rules.headers.compare {
            let Some(r) = recorded.get(name) else {
                continue;
            };
            let path = format!("header:{name}");
            let Some(a) = actual.header(name) else {
                self.push(Kind::Header, path, None, Some(cut(r)), None);
                continue;
            };
            let shape = rules
                .headers
                .shapes
                .get(name)
                .filter(|s| s.accepts(&Value::String(r.to_owned())));
            let equal = if let Some(shape) = shape {
                shape.accepts(&Value::String(a.to_owned()))
            } else if rules.headers.media_type.contains(name) {
                media_type(r) == media_type(a)
            } else if rules.headers.urls.contains(name) {
                let (rn, an) = (normal_url(rules, r), normal_url(rules, a));
                if rn != an && without_api_version(&rn) == without_api_version(&an) {
                    // Only the api-version differs: its own path, so it can be told apart.
                    let (rv, av) = (api_version(&rn), api_version(&an));
                    self.push(
                        Kind::Header,
                        format!("{path}?api-version"),
                        None,
                        rv.map(str::to_owned),
                        av.map(str::to_owned),
                    );
                    continue;
                }
                rn == an
            } else {
                rules.mask(r) == rules.mask(a)
            };
            if !equal {
                self.push(Kind::Header, path, None, Some(cut(r)), Some(cut(a)));
            }
        }
    }
}

/// Whether two leaves (or a leaf and a tree) are equal under the rules.
pub fn leaf_equal(rules: &Rules, request: &str, path: &[Seg], r: &Value, a: &Value) -> bool {
    if let Some(rule) = rules.field(request, path) {
        if rule.shape.accepts(r) {
            return rule.shape.accepts(a) && same_type(r, a);
        }
    }
    if let Some(s) = rules.sanitised(r) {
        return s.shape.accepts(a);
    }
    match (r, a) {
        (Value::String(r), Value::String(a)) => r == a || rules.mask(r) == rules.mask(a),
        (Value::Number(r), Value::Number(a)) => r.as_f64() == a.as_f64(),
        (r, a) => r == a,
    }
}

fn same_type(r: &Value, a: &Value) -> bool {
    std::mem::discriminant(r) == std::mem::discriminant(a)
}

fn api_version(normal: &str) -> Option<&str> {
    let query = normal.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("api-version="))
}

fn without_api_version(normal: &str) -> String {
    let Some((path, query)) = normal.split_once('?') else {
        return normal.to_owned();
    };
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("api-version="))
        .collect();
    format!("{path}?{}", rest.join("&"))
}

/// `application/json; charset=utf-8` → `application/json`.
fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// An operation URL as compared: path (masked, lower case) and the query without the
/// signature parameters, sorted. The origin is left out: in-process both sides are
/// `management.azure.com`, and remote answers are mapped back to it before comparing.
pub fn normal_url(rules: &Rules, url: &str) -> String {
    let path = cassette::split_uri(url).map_or(url, |(_, p)| p);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !rules
                .headers
                .url_query_ignored
                .iter()
                .any(|i| i.eq_ignore_ascii_case(name))
        })
        .collect();
    params.sort_unstable();
    let masked = rules.mask(path).to_ascii_lowercase();
    if params.is_empty() {
        masked
    } else {
        format!("{masked}?{}", params.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::cassette::{Headers, Response, ResponseBody, Status};

    fn recorded(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
        let mut h = Headers::default();
        for (k, v) in headers {
            h.push(k, v);
        }
        Response {
            body: ResponseBody {
                string: body.to_owned(),
            },
            headers: h,
            status: Status {
                code: status,
                message: String::new(),
            },
        }
    }

    fn reply(status: u16, body: &str, headers: &[(&str, &str)]) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn equal_after_rules() {
        let rules = Rules::embedded();
        let r = recorded(
            200,
            r#"{"b": 1, "a": {"eTag": "x", "principalId": "00000000-0000-0000-0000-000000000001", "fqdn": "p-abcdefgh.hcp.westus2.azmk8s.io"}}"#,
            &[("content-type", "application/json; charset=utf-8")],
        );
        let a = reply(
            200,
            r#"{"a": {"fqdn": "p-12345678.hcp.westus2.azmk8s.io", "principalId": "6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00", "eTag": "y"}, "b": 1.0}"#,
            &[("Content-Type", "application/json")],
        );
        assert!(compare(&rules, "/x", &r, &a).is_empty());
    }

    #[test]
    fn lists_missing_extra_and_values() {
        let rules = Rules::embedded();
        let r = recorded(200, r#"{"a": {"x": 1, "y": [1, 2]}, "s": "p"}"#, &[]);
        let a = reply(200, r#"{"a": {"y": [1], "z": true}, "s": "q"}"#, &[]);
        let d = compare(&rules, "/x", &r, &a);
        let got: Vec<(Kind, &str)> = d.iter().map(|d| (d.kind, d.path.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Kind::MissingField, "a.x"),
                (Kind::MissingField, "a.y[1]"),
                (Kind::ExtraField, "a.z"),
                (Kind::Value, "s"),
            ]
        );
        assert_eq!(d[3].recorded.as_deref(), Some("\"p\""));
        assert_eq!(d[0].category, "missing field");
    }

    #[test]
    fn status_and_missing_endpoint() {
        let rules = Rules::embedded();
        let r = recorded(200, "{}", &[]);
        let a = reply(
            404,
            r#"{"error": {"code": "NotFound", "message": "The requested resource 'GET /x' does not exist in aksim."}}"#,
            &[],
        );
        let d = compare(&rules, "/x", &r, &a);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, Kind::MissingEndpoint);
        let a = reply(
            409,
            r#"{"error": {"code": "Conflict", "message": "m"}}"#,
            &[],
        );
        let d = compare(&rules, "/x", &r, &a);
        assert_eq!(d[0].kind, Kind::Status);
        assert_eq!(d[0].actual.as_deref(), Some("409 Conflict: m"));
    }

    #[test]
    fn headers_when_recorded() {
        let rules = Rules::embedded();
        let r = recorded(
            202,
            "",
            &[
                ("azure-asyncoperation", "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/P/locations/l/operations/6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2016-03-30&t=1&c=2&s=3&h=4"),
                ("location", "https://management.azure.com/x"),
            ],
        );
        let a = reply(
            202,
            "",
            &[(
                "Azure-AsyncOperation",
                "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/P/locations/l/operations/0b1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2016-03-30",
            )],
        );
        let d = compare(&rules, "/x", &r, &a);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "header:location");
        let a = reply(
            202,
            "",
            &[
                ("Azure-AsyncOperation", "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/P/locations/l/operations/0b1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00?api-version=2024-08-01"),
                ("location", "https://management.azure.com/x"),
            ],
        );
        let d = compare(&rules, "/x", &r, &a);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "header:azure-asyncoperation?api-version");
        assert_eq!(d[0].recorded.as_deref(), Some("2016-03-30"));
        assert_eq!(d[0].actual.as_deref(), Some("2024-08-01"));
    }

    #[test]
    fn bodies_empty_and_text() {
        let rules = Rules::embedded();
        assert!(compare(&rules, "/x", &recorded(204, "", &[]), &reply(204, "", &[])).is_empty());
        let d = compare(
            &rules,
            "/x",
            &recorded(200, "", &[]),
            &reply(200, "{}", &[]),
        );
        assert_eq!(d[0].kind, Kind::ExtraField);
        let d = compare(
            &rules,
            "/x",
            &recorded(200, "{}", &[]),
            &reply(200, "", &[]),
        );
        assert_eq!(d[0].kind, Kind::MissingField);
        let d = compare(
            &rules,
            "/x",
            &recorded(200, "a", &[]),
            &reply(200, "b", &[]),
        );
        assert_eq!(d[0].kind, Kind::Value);
    }
}
