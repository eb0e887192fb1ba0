//! The `--ignore` file of `aksim parity`: differences aksim makes on purpose, each naming the
//! docs/deviations.md entry that explains it and why; the run lists them apart and counts an
//! exchange whose only differences are accepted as equal.

use std::path::Path;

use serde::Deserialize;

use crate::control::glob;
use crate::parity::compare::Kind;
use crate::parity::replay::CassetteResult;

/// The `--ignore` file: differences accepted because aksim deviates from Azure on purpose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub accepted: Vec<Accepted>,
}

/// One accepted difference.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Accepted {
    pub id: String,
    /// Text of the docs/deviations.md entry that explains it.
    pub deviation: String,
    pub why: String,
    #[serde(rename = "match")]
    pub matcher: Matcher,
}

/// Which differences an entry accepts; every field given must match (globs: `*` = any run of
/// characters, ignoring case).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Matcher {
    /// The difference's path: `status`, `header:location`, `$` or a body path.
    pub path: String,
    #[serde(default)]
    pub kind: Option<Kind>,
    #[serde(default)]
    pub method: Option<String>,
    /// The recorded request path (no query).
    #[serde(default)]
    pub request: Option<String>,
    /// The cassette's file name.
    #[serde(default)]
    pub cassette: Option<String>,
    #[serde(default)]
    pub recorded: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "missingEndpoint" => Kind::MissingEndpoint,
            "status" => Kind::Status,
            "missingField" => Kind::MissingField,
            "extraField" => Kind::ExtraField,
            "value" => Kind::Value,
            "header" => Kind::Header,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown kind '{other}' (missingEndpoint, status, missingField, extraField, value, header)"
                )))
            }
        })
    }
}

impl Ignore {
    /// Reads the file (YAML or JSON); with `deviations` (the text of docs/deviations.md),
    /// every entry's `deviation` must appear in it.
    pub fn load(path: &Path, deviations: Option<&str>) -> Result<Ignore, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ignore::parse(&text, deviations).map_err(|e| format!("{}:{e}", path.display()))
    }

    pub fn parse(text: &str, deviations: Option<&str>) -> Result<Ignore, String> {
        let ignore: Ignore = yaml_serde::from_str(text).map_err(|e| match e.location() {
            Some(loc) => format!("{}:{}: {e}", loc.line(), loc.column()),
            None => format!(" {e}"),
        })?;
        let doc = deviations.map(|d| d.replace("**", "").replace('`', ""));
        let mut ids = Vec::new();
        for a in &ignore.accepted {
            if a.id.trim().is_empty() || ids.contains(&a.id) {
                return Err(format!(
                    " entry ids must be unique and non-empty ('{}')",
                    a.id
                ));
            }
            ids.push(a.id.clone());
            if a.why.trim().is_empty() || a.deviation.trim().is_empty() {
                return Err(format!(
                    " entry '{}' must say why and name its deviation in docs/deviations.md",
                    a.id
                ));
            }
            if a.matcher.path.trim().is_empty() {
                return Err(format!(" entry '{}' needs match.path", a.id));
            }
            if let Some(doc) = &doc {
                let wanted = a.deviation.replace("**", "").replace('`', "");
                if !doc.contains(wanted.trim()) {
                    return Err(format!(
                        " entry '{}': its deviation \"{}\" is not in docs/deviations.md",
                        a.id, a.deviation
                    ));
                }
            }
        }
        Ok(ignore)
    }

    /// Marks the differences the entries accept.
    pub fn apply(&self, result: &mut CassetteResult) {
        for e in &mut result.exchanges {
            let request = e.path.split('?').next().unwrap_or("").to_owned();
            for d in &mut e.differences {
                let found = self.accepted.iter().find(|a| {
                    let m = &a.matcher;
                    let opt = |pattern: &Option<String>, text: &str| {
                        pattern.as_deref().is_none_or(|p| glob::matches(p, text))
                    };
                    glob::matches(&m.path, &d.path)
                        && m.kind.is_none_or(|k| k == d.kind)
                        && m.method
                            .as_deref()
                            .is_none_or(|x| x.eq_ignore_ascii_case(&e.method))
                        && opt(&m.request, &request)
                        && opt(&m.cassette, &result.name)
                        && opt(&m.recorded, d.recorded.as_deref().unwrap_or(""))
                        && opt(&m.actual, d.actual.as_deref().unwrap_or(""))
                });
                d.accepted = found.map(|a| a.id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_entries_need_a_documented_reason() {
        let ok = "accepted:\n  - id: a\n    deviation: \"Operation ids are UUIDs\"\n    why: x\n    match: {path: 'header:*', kind: header}\n";
        assert!(Ignore::parse(ok, Some("- **Operation ids are UUIDs** (…)")).is_ok());
        assert!(Ignore::parse(ok, Some("nothing"))
            .unwrap_err()
            .contains("not in docs/deviations.md"));
        let no_why = ok.replace("why: x", "why: ' '");
        assert!(Ignore::parse(&no_why, None).unwrap_err().contains("why"));
        let bad_kind = ok.replace("kind: header", "kind: nope");
        assert!(Ignore::parse(&bad_kind, None)
            .unwrap_err()
            .contains("unknown kind"));
        let twice =
            format!("{ok}  - id: a\n    deviation: d\n    why: y\n    match: {{path: x}}\n");
        assert!(Ignore::parse(&twice, None).unwrap_err().contains("unique"));
    }
}
