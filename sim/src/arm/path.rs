//! Request paths, parsed once: percent-decoded segments with the caller's casing, `//`
//! collapsed, `.`/`..` refused. Matching is done on these segments, ignoring ASCII case.

use crate::arm::error::ArmError;
use crate::limits;

/// A normalized request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// Decoded segments, in the caller's casing, without empty ones.
    pub segments: Vec<String>,
}

impl ArmPath {
    pub fn parse(raw: &str) -> Result<ArmPath, ArmError> {
        if raw.len() > limits::PATH_MAX_CHARS {
            // The first 64 characters (not bytes: a URI path may carry raw UTF-8, and a cut
            // inside a character panicked — found by fuzz/ `arm_path`).
            let head: String = raw.chars().take(64).collect();
            return Err(ArmError::invalid_request_uri(&head));
        }
        let mut segments = Vec::new();
        for piece in raw.split('/').filter(|s| !s.is_empty()) {
            let decoded = percent_encoding::percent_decode_str(piece)
                .decode_utf8()
                .map_err(|_| ArmError::invalid_request_uri(raw))?;
            if decoded == "." || decoded == ".." || decoded.contains('/') {
                return Err(ArmError::invalid_request_uri(raw));
            }
            if decoded.chars().count() > limits::PATH_SEGMENT_MAX_CHARS
                || decoded.chars().any(char::is_control)
            {
                return Err(ArmError::invalid_request_uri(raw));
            }
            segments.push(decoded.into_owned());
        }
        Ok(ArmPath { segments })
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Segment `i`, or "" past the end.
    pub fn seg(&self, i: usize) -> &str {
        self.segments.get(i).map(String::as_str).unwrap_or("")
    }

    /// Whether segment `i` equals `word`, ignoring ASCII case.
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.seg(i).eq_ignore_ascii_case(word)
    }

    /// The normalized path, `/a/b/c`.
    pub fn joined(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            out.push_str(s);
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_double_slashes_and_decodes() {
        let p = ArmPath::parse(
            "/subscriptions//x/providers/Microsoft.ContainerService//managedClusters/c%201",
        )
        .unwrap();
        assert_eq!(p.seg(0), "subscriptions");
        assert_eq!(p.seg(1), "x");
        assert_eq!(p.seg(5), "c 1");
        assert!(p.is(4, "MANAGEDCLUSTERS"));
        assert_eq!(p.seg(99), "");
    }

    #[test]
    fn an_overlong_path_of_multibyte_characters_is_refused() {
        let raw = format!("/ab{}", "é".repeat(limits::PATH_MAX_CHARS));
        let e = ArmPath::parse(&raw).unwrap_err();
        assert_eq!(e.code(), "InvalidRequestUri");
    }

    #[test]
    fn refuses_traversal_and_bad_bytes() {
        for bad in [
            "/a/../b",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a%2Fb",
            "/%ff",
            "/a%00",
        ] {
            let e = ArmPath::parse(bad).unwrap_err();
            assert_eq!(e.code(), "InvalidRequestUri", "{bad}");
        }
    }
}
