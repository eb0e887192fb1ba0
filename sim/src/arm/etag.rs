//! Optimistic concurrency: `If-Match` / `If-None-Match` as AKS applies them
//! (ARM-CONTRACT §2.5). Providers call [`check`] with the current ETag (or `None` when the
//! resource does not exist) before writing.

use axum::http::HeaderMap;

use crate::arm::error::ArmError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// PUT: may create.
    Put,
    /// PATCH / DELETE / POST: needs an existing resource for a conditional to hold.
    Modify,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Strips the quotes and weak prefix clients put around ETags.
fn bare(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

/// Applies the conditional headers to a write against a resource whose ETag is `current`.
pub fn check(headers: &HeaderMap, current: Option<&str>, write: Write) -> Result<(), ArmError> {
    let if_match = header(headers, "if-match");
    let if_none_match = header(headers, "if-none-match");
    if let Some(inm) = if_none_match {
        if inm != "*" {
            return Err(ArmError::bad_request(format!(
                "If-None-Match header value '{inm}' is not supported. Only '*' is supported."
            )));
        }
        if if_match.is_some() {
            return Err(ArmError::bad_request(
                "If-Match and If-None-Match: * cannot be used together.",
            ));
        }
        if current.is_some() && write == Write::Put {
            return Err(ArmError::precondition_failed(
                "The resource already exists, and If-None-Match: * was specified.",
            ));
        }
    }
    if let Some(im) = if_match {
        match current {
            None => {
                return Err(ArmError::precondition_failed(format!(
                    "The resource does not exist, and If-Match: {im} was specified."
                )))
            }
            Some(_) if im == "*" => {}
            Some(tag) => {
                let matches = im.split(',').any(|candidate| bare(candidate) == bare(tag));
                if !matches {
                    return Err(ArmError::precondition_failed(format!(
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

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn aks_etag_table() {
        let none = h(&[]);
        assert!(check(&none, None, Write::Put).is_ok());
        assert!(check(&none, Some("a"), Write::Put).is_ok());
        let star = h(&[("if-match", "*")]);
        assert_eq!(
            check(&star, None, Write::Put).unwrap_err().status.as_u16(),
            412
        );
        assert!(check(&star, Some("a"), Write::Put).is_ok());
        let tag = h(&[("if-match", "\"a\"")]);
        assert!(check(&tag, Some("a"), Write::Modify).is_ok());
        assert_eq!(
            check(&tag, Some("b"), Write::Modify)
                .unwrap_err()
                .status
                .as_u16(),
            412
        );
        let inm = h(&[("if-none-match", "*")]);
        assert!(check(&inm, None, Write::Put).is_ok());
        assert_eq!(
            check(&inm, Some("a"), Write::Put)
                .unwrap_err()
                .status
                .as_u16(),
            412
        );
        let bad = h(&[("if-none-match", "abc")]);
        assert_eq!(
            check(&bad, None, Write::Put).unwrap_err().status.as_u16(),
            400
        );
        let both = h(&[("if-none-match", "*"), ("if-match", "x")]);
        assert_eq!(
            check(&both, None, Write::Put).unwrap_err().status.as_u16(),
            400
        );
    }
}
