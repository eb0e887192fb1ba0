//! The normalisation rules of `aksim parity`, as data: `sim/data/parity-normalise.json` (built
//! in) or `--rules FILE`. docs/parity.md explains each rule.
//!
//! - `shapes`: named regular expressions a value may be required to match.
//! - `fields`: body paths (globs, below) whose values are compared by shape, not by value,
//!   optionally only for requests whose path matches a glob.
//! - `sanitised`: values the cassette's recorder wrote in place of the real ones; aksim's value
//!   only needs the shape.
//! - `masks`: replacements applied to every string on both sides before comparing.
//! - `headers`: which response headers are compared and how.
//! - `categories`: which differences are put in a named category (e.g. `dated`).
//!
//! Body paths read `properties.agentPoolProfiles[0].name`. A glob is the same with `*` for
//! any one key or index, `[*]` for any index and `**` for any number of segments; keys match
//! ignoring ASCII case.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::control::glob;

/// The built-in rules.
pub const EMBEDDED: &str = include_str!("../../data/parity-normalise.json");

/// One segment of a concrete body path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// `properties.agentPoolProfiles[0].name` (keys with `.`, `[` or spaces are quoted).
pub fn show_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if k.is_empty() || k.contains(['.', '[', ']', ' ', '"']) => {
                out.push_str(&format!("[{k:?}]"));
            }
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push('$');
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum GlobSeg {
    Key(String),
    Index(usize),
    /// `*`: one key or index.
    One,
    /// `[*]`: one index.
    AnyIndex,
    /// `**`: any number of segments.
    Deep,
}

/// A compiled body-path glob.
#[derive(Debug, Clone)]
pub struct PathGlob {
    segs: Vec<GlobSeg>,
}

impl PathGlob {
    pub fn parse(text: &str) -> Result<PathGlob, String> {
        let mut segs = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            match name {
                "" if rest.is_empty() => {
                    return Err(format!("path glob '{text}' has an empty segment"))
                }
                "" => {}
                "*" => segs.push(GlobSeg::One),
                "**" => segs.push(GlobSeg::Deep),
                "$" if segs.is_empty() => {}
                key => segs.push(GlobSeg::Key(key.to_ascii_lowercase())),
            }
            while !rest.is_empty() {
                let close = rest
                    .find(']')
                    .ok_or_else(|| format!("path glob '{text}': '[' without ']'"))?;
                let inner = &rest[1..close];
                segs.push(match inner {
                    "*" => GlobSeg::AnyIndex,
                    n => GlobSeg::Index(
                        n.parse()
                            .map_err(|_| format!("path glob '{text}': bad index '[{n}]'"))?,
                    ),
                });
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(format!("path glob '{text}': text after ']'"));
                }
            }
        }
        Ok(PathGlob { segs })
    }

    pub fn matches(&self, path: &[Seg]) -> bool {
        fn go(g: &[GlobSeg], p: &[Seg]) -> bool {
            match g.split_first() {
                None => p.is_empty(),
                Some((GlobSeg::Deep, rest)) => (0..=p.len()).any(|skip| go(rest, &p[skip..])),
                Some((first, rest)) => {
                    let Some((seg, tail)) = p.split_first() else {
                        return false;
                    };
                    let ok = match (first, seg) {
                        (GlobSeg::One, _) => true,
                        (GlobSeg::AnyIndex, Seg::Index(_)) => true,
                        (GlobSeg::Index(a), Seg::Index(b)) => a == b,
                        (GlobSeg::Key(a), Seg::Key(b)) => a.eq_ignore_ascii_case(b),
                        _ => false,
                    };
                    ok && go(rest, tail)
                }
            }
        }
        go(&self.segs, path)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    about: String,
    shapes: BTreeMap<String, String>,
    #[serde(default)]
    fields: Vec<RawField>,
    #[serde(default)]
    sanitised: Vec<RawSanitised>,
    #[serde(default)]
    masks: Vec<RawMask>,
    headers: RawHeaders,
    sanitise: RawSanitise,
    #[serde(default)]
    categories: Vec<RawCategory>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSanitise {
    placeholder: String,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    json_keys: Vec<String>,
    kubeconfig_keys: Vec<String>,
    #[serde(default)]
    patterns: Vec<RawPattern>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPattern {
    pattern: String,
    why: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawField {
    path: String,
    #[serde(default)]
    request: Option<String>,
    shape: String,
    why: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSanitised {
    value: String,
    shape: String,
    why: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMask {
    name: String,
    pattern: String,
    replace: String,
    why: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawHeaders {
    compare: Vec<String>,
    #[serde(default)]
    media_type: Vec<String>,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    url_query_ignored: Vec<String>,
    #[serde(default)]
    shapes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawCategory {
    #[serde(default)]
    request: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    aksim_error_code: Option<String>,
    #[serde(default)]
    aksim_message_contains: Option<String>,
    #[serde(default)]
    recorded_contains: Option<String>,
    category: String,
    why: String,
}

/// A value shape: a name and its expression (`""` matches anything).
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    re: Option<Regex>,
}

impl Shape {
    pub fn accepts(&self, value: &serde_json::Value) -> bool {
        match (&self.re, value) {
            (None, _) => true,
            (Some(re), serde_json::Value::String(s)) => re.is_match(s),
            (Some(_), serde_json::Value::Null) => false,
            (Some(re), other) => re.is_match(&other.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldRule {
    pub path: PathGlob,
    pub request: Option<String>,
    pub shape: Shape,
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct Sanitised {
    pub value: String,
    pub shape: Shape,
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct Mask {
    pub name: String,
    re: Regex,
    replace: String,
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct HeaderRules {
    /// Lower-case names of the headers compared (when the recording has them).
    pub compare: Vec<String>,
    pub media_type: Vec<String>,
    pub urls: Vec<String>,
    pub url_query_ignored: Vec<String>,
    pub shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub request: Option<String>,
    pub path: Option<PathGlob>,
    pub aksim_error_code: Option<String>,
    pub aksim_message_contains: Option<String>,
    pub recorded_contains: Option<String>,
    pub name: String,
    pub why: String,
}

/// What `aksim record` removes from what it writes (besides subscription ids).
#[derive(Debug, Clone)]
pub struct Sanitise {
    /// The value written in place of a secret.
    pub placeholder: String,
    /// Lower-case names of request headers left out.
    pub request_headers: Vec<String>,
    /// Lower-case names of response headers left out.
    pub response_headers: Vec<String>,
    /// JSON keys (any case) whose string values are replaced.
    pub json_keys: Vec<String>,
    /// Keys of a kubeconfig's `users[].user` whose values are replaced.
    pub kubeconfig_keys: Vec<String>,
    /// Text replaced wherever it appears.
    pub patterns: Vec<Regex>,
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub about: String,
    pub fields: Vec<FieldRule>,
    pub sanitised: Vec<Sanitised>,
    pub masks: Vec<Mask>,
    pub headers: HeaderRules,
    pub sanitise: Sanitise,
    pub categories: Vec<Category>,
}

/// Where a difference was found, for category matching.
pub struct Site<'a> {
    /// The recorded request's path (no query).
    pub request: &'a str,
    /// The body path, when the difference is in the body.
    pub path: Option<&'a [Seg]>,
    /// The recorded value, as shown in the difference.
    pub recorded: Option<&'a str>,
    /// aksim's error code and message, when it answered an error.
    pub aksim_error: Option<(&'a str, &'a str)>,
}

impl Rules {
    /// The built-in rules.
    pub fn embedded() -> Rules {
        Rules::parse(EMBEDDED).unwrap_or_else(|e| panic!("data/parity-normalise.json: {e}"))
    }

    /// Rules from a file (`--rules`).
    pub fn load(path: &std::path::Path) -> Result<Rules, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Rules::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Rules, String> {
        let raw: RawRules =
            serde_json::from_str(text).map_err(|e| format!("{}:{}: {e}", e.line(), e.column()))?;
        let mut shapes = BTreeMap::new();
        for (name, pattern) in &raw.shapes {
            let re = if pattern.is_empty() {
                None
            } else {
                Some(Regex::new(pattern).map_err(|e| format!("shape '{name}': {e}"))?)
            };
            shapes.insert(
                name.clone(),
                Shape {
                    name: name.clone(),
                    re,
                },
            );
        }
        let shape = |name: &str, what: &str| {
            shapes
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{what}: unknown shape '{name}'"))
        };
        let why = |text: &str, what: &str| {
            if text.trim().is_empty() {
                Err(format!("{what}: every rule needs a `why`"))
            } else {
                Ok(text.to_owned())
            }
        };
        let mut fields = Vec::new();
        for f in raw.fields {
            let what = format!("field rule '{}'", f.path);
            fields.push(FieldRule {
                path: PathGlob::parse(&f.path)?,
                request: f.request,
                shape: shape(&f.shape, &what)?,
                why: why(&f.why, &what)?,
            });
        }
        let mut sanitised = Vec::new();
        for s in raw.sanitised {
            let what = format!("sanitised value '{}'", s.value);
            sanitised.push(Sanitised {
                shape: shape(&s.shape, &what)?,
                why: why(&s.why, &what)?,
                value: s.value,
            });
        }
        let mut masks = Vec::new();
        for m in raw.masks {
            let what = format!("mask '{}'", m.name);
            masks.push(Mask {
                re: Regex::new(&m.pattern).map_err(|e| format!("{what}: {e}"))?,
                why: why(&m.why, &what)?,
                name: m.name,
                replace: m.replace,
            });
        }
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect();
        let mut header_shapes = BTreeMap::new();
        for (name, s) in &raw.headers.shapes {
            header_shapes.insert(
                name.to_ascii_lowercase(),
                shape(s, &format!("header '{name}'"))?,
            );
        }
        let headers = HeaderRules {
            compare: lower(raw.headers.compare),
            media_type: lower(raw.headers.media_type),
            urls: lower(raw.headers.urls),
            url_query_ignored: raw.headers.url_query_ignored,
            shapes: header_shapes,
        };
        let mut patterns = Vec::new();
        for p in &raw.sanitise.patterns {
            why(&p.why, "sanitise pattern")?;
            patterns.push(Regex::new(&p.pattern).map_err(|e| format!("sanitise pattern: {e}"))?);
        }
        if raw.sanitise.placeholder.trim().is_empty() {
            return Err("sanitise.placeholder must not be empty".into());
        }
        let sanitise = Sanitise {
            placeholder: raw.sanitise.placeholder,
            request_headers: lower(raw.sanitise.request_headers),
            response_headers: lower(raw.sanitise.response_headers),
            json_keys: raw.sanitise.json_keys,
            kubeconfig_keys: raw.sanitise.kubeconfig_keys,
            patterns,
        };
        let mut categories = Vec::new();
        for c in raw.categories {
            let what = format!("category '{}'", c.category);
            if c.category.trim().is_empty() {
                return Err(format!("{what}: the name is empty"));
            }
            categories.push(Category {
                path: c.path.as_deref().map(PathGlob::parse).transpose()?,
                why: why(&c.why, &what)?,
                request: c.request,
                aksim_error_code: c.aksim_error_code,
                aksim_message_contains: c.aksim_message_contains,
                recorded_contains: c.recorded_contains,
                name: c.category,
            });
        }
        Ok(Rules {
            about: raw.about,
            fields,
            sanitised,
            masks,
            headers,
            sanitise,
            categories,
        })
    }

    /// The field rule for a body path of a response to `request` (a path without query).
    pub fn field(&self, request: &str, path: &[Seg]) -> Option<&FieldRule> {
        self.fields.iter().find(|f| {
            f.path.matches(path)
                && f.request
                    .as_deref()
                    .is_none_or(|g| glob::matches(g, request))
        })
    }

    /// The sanitised entry whose value the recording holds, if any.
    pub fn sanitised(&self, recorded: &serde_json::Value) -> Option<&Sanitised> {
        let text = recorded.as_str()?;
        self.sanitised.iter().find(|s| s.value == text)
    }

    /// `text` with every mask applied.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for m in &self.masks {
            if m.re.is_match(&out) {
                out = m.re.replace_all(&out, m.replace.as_str()).into_owned();
            }
        }
        out
    }

    /// The category of a difference at `site`, if a rule names one.
    pub fn category(&self, site: &Site<'_>) -> Option<&Category> {
        self.categories.iter().find(|c| {
            c.request
                .as_deref()
                .is_none_or(|g| glob::matches(g, site.request))
                && match (&c.path, site.path) {
                    (None, _) => true,
                    (Some(g), Some(p)) => g.matches(p),
                    (Some(_), None) => false,
                }
                && c.aksim_error_code.as_deref().is_none_or(|code| {
                    site.aksim_error
                        .is_some_and(|(actual, _)| actual.eq_ignore_ascii_case(code))
                })
                && c.aksim_message_contains.as_deref().is_none_or(|part| {
                    site.aksim_error
                        .is_some_and(|(_, message)| message.contains(part))
                })
                && c.recorded_contains
                    .as_deref()
                    .is_none_or(|part| site.recorded.is_some_and(|r| r.contains(part)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<Seg> {
        parts
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key((*s).to_owned()),
            })
            .collect()
    }

    #[test]
    fn globs_match_paths() {
        let g = PathGlob::parse("**.etag").unwrap();
        assert!(g.matches(&p(&["etag"])));
        assert!(g.matches(&p(&["properties", "agentPoolProfiles", "0", "eTag"])));
        assert!(!g.matches(&p(&["etags"])));
        let g = PathGlob::parse("properties.agentPoolProfiles[*].name").unwrap();
        assert!(g.matches(&p(&["properties", "agentPoolProfiles", "3", "name"])));
        assert!(!g.matches(&p(&["properties", "agentPoolProfiles", "x", "name"])));
        let g = PathGlob::parse("a.*.b[2]").unwrap();
        assert!(g.matches(&p(&["a", "0", "b", "2"])));
        assert!(!g.matches(&p(&["a", "0", "b", "1"])));
        assert!(PathGlob::parse("a..b").is_err());
        assert!(PathGlob::parse("a[x]").is_err());
        assert!(PathGlob::parse("a[1").is_err());
        assert_eq!(
            show_path(&p(&["properties", "pools", "0", "a.b"])),
            "properties.pools[0][\"a.b\"]"
        );
        assert_eq!(show_path(&[]), "$");
    }

    #[test]
    fn embedded_rules_load_and_apply() {
        let r = Rules::embedded();
        assert!(r
            .field(
                "/subscriptions/x/providers/P/locations/l/operations/1",
                &p(&["name"])
            )
            .is_some());
        assert!(r.field("/subscriptions/x/rg/c", &p(&["name"])).is_none());
        assert_eq!(
            r.mask("cliakstest-abc-79a739-qjgs2lqm.portal.hcp.westus2.azmk8s.io"),
            "cliakstest-abc-79a739-<random>.portal.hcp.westus2.azmk8s.io"
        );
        assert_eq!(
            r.mask("/subscriptions/00000000-0000-0000-0000-000000000000/x"),
            "/subscriptions/<guid>/x"
        );
        let s = r
            .sanitised(&serde_json::json!("00000000-0000-0000-0000-000000000001"))
            .unwrap();
        assert!(s
            .shape
            .accepts(&serde_json::json!("6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00")));
        assert!(!s.shape.accepts(&serde_json::json!("msi")));
        let site = Site {
            request: "/subscriptions/x/providers/Microsoft.ContainerService/locations/westus2/meshRevisionProfiles",
            path: Some(&p(&["properties", "meshRevisions", "0", "revision"])),
            recorded: None,
            aksim_error: None,
        };
        assert_eq!(r.category(&site).map(|c| c.name.as_str()), Some("dated"));
    }

    #[test]
    fn bad_rules_are_refused() {
        let bad = EMBEDDED.replace("\"shape\": \"guid\"", "\"shape\": \"nope\"");
        assert!(Rules::parse(&bad)
            .unwrap_err()
            .contains("unknown shape 'nope'"));
        assert!(Rules::parse("{").is_err());
        let bad = EMBEDDED.replacen(
            "\"why\": \"ETags are generated on every write\"",
            "\"why\": \" \"",
            1,
        );
        assert!(Rules::parse(&bad).unwrap_err().contains("why"));
    }
}
