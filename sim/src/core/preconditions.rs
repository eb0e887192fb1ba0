//! Optimistic concurrency: `If-Match` / `If-None-Match` as AKS applies them
//! (`../shared/reference/ARM-CONTRACT.md` §2.5). The wire reads the two headers into
//! [`Preconditions`]; a write calls [`Preconditions::check`] with the resource's current ETag
//! (or `None` when it does not exist) before it changes anything.

use crate::core::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// PUT: may create.
    Put,
    /// PATCH / DELETE / POST: needs an existing resource for a conditional to hold.
    Modify,
}

/// A write's conditional headers, as the client sent them (trimmed; empty = absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl Preconditions {
    pub fn new(if_match: Option<&str>, if_none_match: Option<&str>) -> Self {
        let clean = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Preconditions {
            if_match: clean(if_match),
            if_none_match: clean(if_none_match),
        }
    }

    /// Applies the conditions to a write against a resource whose ETag is `current`.
    pub fn check(&self, current: Option<&str>, write: Write) -> Result<()> {
        check(
            self.if_match.as_deref(),
            self.if_none_match.as_deref(),
            current,
            write,
        )
    }
}

/// Strips the quotes and weak prefix clients put around ETags.
fn bare(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

fn check(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    current: Option<&str>,
    write: Write,
) -> Result<()> {
    if let Some(inm) = if_none_match {
        if inm != "*" {
            return Err(Error::bad_request(format!(
                "If-None-Match header value '{inm}' is not supported. Only '*' is supported."
            )));
        }
        if if_match.is_some() {
            return Err(Error::bad_request(
                "If-Match and If-None-Match: * cannot be used together.",
            ));
        }
        if current.is_some() && write == Write::Put {
            return Err(Error::precondition_failed(
                "The resource already exists, and If-None-Match: * was specified.",
            ));
        }
    }
    if let Some(im) = if_match {
        match current {
            None => {
                return Err(Error::precondition_failed(format!(
                    "The resource does not exist, and If-Match: {im} was specified."
                )))
            }
            Some(_) if im == "*" => {}
            Some(tag) => {
                let matches = im.split(',').any(|candidate| bare(candidate) == bare(tag));
                if !matches {
                    return Err(Error::precondition_failed(format!(
                        "The specified If-Match value '{im}' does not match the resource's \
                         current ETag '{tag}'."
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorKind;

    fn h(pairs: &[(&'static str, &str)]) -> Preconditions {
        let get = |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        Preconditions::new(get("if-match"), get("if-none-match"))
    }

    #[test]
    fn aks_etag_table() {
        let none = h(&[]);
        assert!(none.check(None, Write::Put).is_ok());
        assert!(none.check(Some("a"), Write::Put).is_ok());
        let star = h(&[("if-match", "*")]);
        assert_eq!(
            star.check(None, Write::Put).unwrap_err().kind,
            ErrorKind::PreconditionFailed
        );
        assert!(star.check(Some("a"), Write::Put).is_ok());
        let tag = h(&[("if-match", "\"a\"")]);
        assert!(tag.check(Some("a"), Write::Modify).is_ok());
        assert_eq!(
            tag.check(Some("b"), Write::Modify).unwrap_err().kind,
            ErrorKind::PreconditionFailed
        );
        let inm = h(&[("if-none-match", "*")]);
        assert!(inm.check(None, Write::Put).is_ok());
        assert_eq!(
            inm.check(Some("a"), Write::Put).unwrap_err().kind,
            ErrorKind::PreconditionFailed
        );
        let bad = h(&[("if-none-match", "abc")]);
        assert_eq!(
            bad.check(None, Write::Put).unwrap_err().kind,
            ErrorKind::BadRequest
        );
        let both = h(&[("if-none-match", "*"), ("if-match", "x")]);
        assert_eq!(
            both.check(None, Write::Put).unwrap_err().kind,
            ErrorKind::BadRequest
        );
    }
}
