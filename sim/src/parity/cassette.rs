//! Cassettes: the vcrpy YAML files (`version: 1`, `interactions: [{request, response}]`) that
//! the Azure CLI's test suite records against real Azure, and that `aksim record` writes.
//!
//! Reading is strict about shape and lenient about spelling: header values may be a list or a
//! single string, a request body may be null, a string or a mapping (`{string: …}`), and keys
//! the format does not define are ignored, as vcrpy itself does. Anything malformed is an error
//! that names the file, the line and the column (`file:LINE:COLUMN: reason`), never a panic.

use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Largest cassette file read (bytes).
pub const CASSETTE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Most interactions one cassette may hold.
pub const INTERACTIONS_MAX: usize = 100_000;

/// Header name → values, in recorded order. Names compare ignoring case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, Vec<String>)>);

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// Adds a value (to the existing entry of that name, if any).
    pub fn push(&mut self, name: &str, value: &str) {
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some((_, values)) => values.push(value.to_owned()),
            None => self.0.push((name.to_owned(), vec![value.to_owned()])),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = Headers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of header names to a list of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let values = map.next_value::<HeaderValues>()?.0;
                    out.push((name, values));
                }
                Ok(Headers(out))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A header's values: a list of scalars, or one scalar.
struct HeaderValues(Vec<String>);

impl<'de> Deserialize<'de> for HeaderValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Int(i64),
            Float(f64),
            Bool(bool),
        }
        impl Scalar {
            fn text(self) -> String {
                match self {
                    Scalar::Text(s) => s,
                    Scalar::Int(i) => i.to_string(),
                    Scalar::Float(f) => f.to_string(),
                    Scalar::Bool(b) => b.to_string(),
                }
            }
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            List(Vec<Scalar>),
            One(Scalar),
        }
        match Either::deserialize(deserializer) {
            Ok(Either::List(items)) => {
                Ok(HeaderValues(items.into_iter().map(Scalar::text).collect()))
            }
            Ok(Either::One(one)) => Ok(HeaderValues(vec![one.text()])),
            Err(_) => Err(de::Error::custom(
                "a header value must be a string or a list of strings",
            )),
        }
    }
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default, deserialize_with = "request_body")]
    pub body: Option<String>,
    #[serde(default)]
    pub headers: Headers,
    #[serde(deserialize_with = "method")]
    pub method: String,
    #[serde(deserialize_with = "uri")]
    pub uri: String,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub body: ResponseBody,
    #[serde(default)]
    pub headers: Headers,
    pub status: Status,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseBody {
    #[serde(default, deserialize_with = "text_or_null")]
    pub string: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    #[serde(deserialize_with = "status_code")]
    pub code: u16,
    #[serde(default, deserialize_with = "text_or_null")]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub request: Request,
    pub response: Response,
}

/// The file as written: `interactions` then `version`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct File {
    #[serde(default, deserialize_with = "interactions")]
    interactions: Vec<Interaction>,
    #[serde(deserialize_with = "version")]
    version: u32,
}

/// A cassette and where it came from.
#[derive(Debug, Clone)]
pub struct Cassette {
    pub path: PathBuf,
    pub interactions: Vec<Interaction>,
    /// The line each interaction starts on (1-based), where it could be found.
    pub lines: Vec<Option<usize>>,
}

impl Cassette {
    /// The file name, for reports.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// `file:LINE` of interaction `i` (or just the file).
    pub fn locate(&self, i: usize) -> String {
        match self.lines.get(i).copied().flatten() {
            Some(line) => format!("{}:{line}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

fn text_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn request_body<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        Text(String),
        Wrapped { string: Option<String> },
    }
    match Option::<Body>::deserialize(d) {
        Ok(None) => Ok(None),
        Ok(Some(Body::Text(s))) => Ok(Some(s)),
        Ok(Some(Body::Wrapped { string })) => Ok(string),
        Err(_) => Err(de::Error::custom(
            "request body must be null, a string or {string: …}",
        )),
    }
}

fn method<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let m = String::deserialize(d)?;
    let token =
        !m.is_empty() && m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
    if !token {
        return Err(de::Error::custom(format!(
            "'{}' is not an HTTP method",
            m.chars().take(40).collect::<String>()
        )));
    }
    Ok(m.to_ascii_uppercase())
}

fn uri<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let u = String::deserialize(d)?;
    let path = split_uri(&u).map(|(_, p)| p);
    match path {
        Some(p) if axum::http::Uri::try_from(p).is_ok() => Ok(u),
        _ => Err(de::Error::custom(format!(
            "uri '{}' is not an absolute http(s) URL or a path",
            u.chars().take(120).collect::<String>()
        ))),
    }
}

fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let code = i64::deserialize(d)?;
    u16::try_from(code)
        .ok()
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| de::Error::custom(format!("status code {code} is not 100-599")))
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = i64::deserialize(d)?;
    if v != 1 {
        return Err(de::Error::custom(format!(
            "cassette version {v} is not supported (vcrpy writes version 1)"
        )));
    }
    Ok(1)
}

fn interactions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Interaction>, D::Error> {
    let list = Option::<Vec<Interaction>>::deserialize(d)?.unwrap_or_default();
    if list.len() > INTERACTIONS_MAX {
        return Err(de::Error::custom(format!(
            "{} interactions; at most {INTERACTIONS_MAX}",
            list.len()
        )));
    }
    Ok(list)
}

/// `(origin, path-and-query)` of a recorded URI: `https://host` and `/subscriptions/…`. A bare
/// path has an empty origin.
pub fn split_uri(uri: &str) -> Option<(&str, &str)> {
    if uri.starts_with('/') {
        return Some(("", uri));
    }
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?']).unwrap_or(rest.len());
    if host_len == 0 {
        return None;
    }
    let origin_len = uri.len() - rest.len() + host_len;
    let path = &uri[origin_len..];
    Some((&uri[..origin_len], if path.is_empty() { "/" } else { path }))
}

/// Reads and parses one cassette; errors read `file:LINE:COLUMN: reason`.
pub fn load(path: &Path) -> Result<Cassette, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > CASSETTE_BYTES_MAX {
        return Err(format!(
            "{}: {} bytes; cassettes may be at most {CASSETTE_BYTES_MAX}",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        format!("{}:{line}: not UTF-8 text", path.display())
    })?;
    parse(text, path).map_err(|e| format!("{}:{e}", path.display()))
}

/// Parses cassette text; errors read `LINE:COLUMN: reason` (or `: reason` without a place).
pub fn parse(text: &str, path: &Path) -> Result<Cassette, String> {
    if text.len() as u64 > CASSETTE_BYTES_MAX {
        return Err(format!(
            " {} bytes; cassettes may be at most {CASSETTE_BYTES_MAX}",
            text.len()
        ));
    }
    if text.trim().is_empty() {
        return Err("1:1: empty file; a cassette is `interactions: [...]` and `version: 1`".into());
    }
    let file: File = yaml_serde::from_str(text).map_err(|e| yaml_error(&e))?;
    let lines = interaction_lines(text, file.interactions.len());
    Ok(Cassette {
        path: path.to_owned(),
        interactions: file.interactions,
        lines,
    })
}

/// `LINE:COLUMN: reason` (the reason without yaml_serde's own ` at line … column …`).
pub fn yaml_error(e: &yaml_serde::Error) -> String {
    let text = e.to_string();
    match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let reason = text.strip_suffix(&suffix).unwrap_or(&text);
            format!("{}:{}: {reason}", loc.line(), loc.column())
        }
        None => format!(" {text}"),
    }
}

/// Where each interaction starts: vcrpy writes the list items as `- request:` at the start of
/// a line. `None`s when the text is laid out otherwise (flow style, other indentation).
fn interaction_lines(text: &str, n: usize) -> Vec<Option<usize>> {
    let starts: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with("- request:") && l.len() - t.len() <= 2
        })
        .map(|(i, _)| i + 1)
        .collect();
    if starts.len() == n {
        starts.into_iter().map(Some).collect()
    } else {
        vec![None; n]
    }
}

/// The YAML of a whole cassette.
pub fn to_yaml(interactions: &[Interaction]) -> Result<String, String> {
    yaml_serde::to_string(&File {
        interactions: interactions.to_vec(),
        version: 1,
    })
    .map_err(|e| format!("cannot write the cassette: {e}"))
}

/// The YAML of one interaction as an item of the top-level `interactions` list (appended to
/// a file that starts with `version: 1` and `interactions:`).
pub fn item_yaml(interaction: &Interaction) -> Result<String, String> {
    yaml_serde::to_string(&[interaction]).map_err(|e| format!("cannot write an interaction: {e}"))
}

/// Every cassette under the given folders (`*.yaml`, `*.yml`) and the files given, sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e == "yaml" || e == "yml")
            {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "interactions:\n- request:\n    body: null\n    headers:\n      Accept:\n      - application/json\n    method: GET\n    uri: https://management.azure.com/subscriptions/x?api-version=1\n  response:\n    body:\n      string: '{\"a\": 1}'\n    headers:\n      date:\n      - Wed, 03 Jul 2024 07:13:27 GMT\n    status:\n      code: 200\n      message: OK\nversion: 1\n";

    #[test]
    fn parses_and_locates() {
        let c = parse(ONE, Path::new("c.yaml")).unwrap();
        assert_eq!(c.interactions.len(), 1);
        assert_eq!(c.lines, vec![Some(2)]);
        let i = &c.interactions[0];
        assert_eq!(i.request.method, "GET");
        assert_eq!(i.request.headers.get("accept"), Some("application/json"));
        assert_eq!(i.response.status.code, 200);
        assert_eq!(i.response.body.string, "{\"a\": 1}");
    }

    #[test]
    fn round_trips() {
        let c = parse(ONE, Path::new("c.yaml")).unwrap();
        let text = to_yaml(&c.interactions).unwrap();
        let again = parse(&text, Path::new("c.yaml")).unwrap();
        assert_eq!(again.interactions, c.interactions);
        let appended = format!(
            "version: 1\ninteractions:\n{}",
            item_yaml(&c.interactions[0]).unwrap()
        );
        let again = parse(&appended, Path::new("c.yaml")).unwrap();
        assert_eq!(again.interactions, c.interactions);
        assert_eq!(again.lines, vec![Some(3)]);
    }

    #[test]
    fn errors_name_the_line() {
        let bad = ONE.replace("code: 200", "code: 999");
        let e = parse(&bad, Path::new("c.yaml")).unwrap_err();
        assert!(
            e.starts_with("16:7: interactions[0].response.status: status code 999"),
            "{e}"
        );
        assert!(!e.contains("at line"), "{e}");
        let bad = ONE.replace("method: GET", "method: 'G T'");
        let e = parse(&bad, Path::new("c.yaml")).unwrap_err();
        assert!(
            e.starts_with("3:5: interactions[0].request: 'G T' is not"),
            "{e}"
        );
        let bad = ONE.replace("version: 1", "version: 2");
        assert!(parse(&bad, Path::new("c.yaml"))
            .unwrap_err()
            .contains("version 2"));
        let bad = ONE.replace("    uri: https", "    uri: ftp");
        let e = parse(&bad, Path::new("c.yaml")).unwrap_err();
        assert!(
            e.starts_with("3:5: interactions[0].request: uri 'ftp"),
            "{e}"
        );
        let e = parse("interactions: [\n", Path::new("c.yaml")).unwrap_err();
        assert!(e.starts_with('2') || e.starts_with('1'), "{e}");
        assert!(parse("", Path::new("c.yaml"))
            .unwrap_err()
            .starts_with("1:1"));
        let e = parse("interactions: []\n", Path::new("c.yaml")).unwrap_err();
        assert!(e.contains("version"), "{e}");
    }

    #[test]
    fn splits_uris() {
        assert_eq!(
            split_uri("https://management.azure.com/subscriptions?x=1"),
            Some(("https://management.azure.com", "/subscriptions?x=1"))
        );
        assert_eq!(split_uri("https://h"), Some(("https://h", "/")));
        assert_eq!(split_uri("/a"), Some(("", "/a")));
        assert_eq!(split_uri("https:///a"), None);
        assert_eq!(split_uri("a/b"), None);
    }
}
