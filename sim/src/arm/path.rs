//! Request paths, parsed once: percent-decoded segments with the caller's casing, `//`
//! collapsed, `.`/`..` refused. Matching is done on these segments, ignoring ASCII case.

use crate::arm::error::ArmError;
use crate::limits;

/// A normalized request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// The decoded segments, in the caller's casing, without empty ones, one after the other
    /// (two allocations per request instead of one per segment).
    text: String,
    /// Where each segment ends in `text`.
    ends: Vec<usize>,
}

impl ArmPath {
    pub fn parse(raw: &str) -> Result<ArmPath, ArmError> {
        if raw.len() > limits::PATH_MAX_CHARS {
            // The first 64 characters (not bytes: a URI path may carry raw UTF-8, and a cut
            // inside a character panicked — found by fuzz/ `arm_path`).
            let head: String = raw.chars().take(64).collect();
            return Err(ArmError::invalid_request_uri(&head));
        }
        let mut text = String::with_capacity(raw.len());
        // ARM paths have up to a dozen segments.
        let mut ends = Vec::with_capacity(12);
        // Split on '/' byte by byte (cheaper than `str::split` for short pieces).
        let pieces = raw
            .as_bytes()
            .split(|&b| b == b'/')
            .scan(0usize, |at, bytes| {
                let start = *at;
                *at += bytes.len() + 1;
                Some(&raw[start..start + bytes.len()])
            })
            .filter(|s| !s.is_empty());
        for piece in pieces {
            // Fast path, the usual case: printable ASCII without '%' decodes to itself, so
            // only the `.`/`..` and length checks below apply. Anything else (escapes,
            // control bytes, non-ASCII) takes the full decode and checks.
            if piece
                .bytes()
                .all(|b| b != b'%' && (0x20..0x7f).contains(&b))
            {
                if piece == "." || piece == ".." || piece.len() > limits::PATH_SEGMENT_MAX_CHARS {
                    return Err(ArmError::invalid_request_uri(raw));
                }
                text.push_str(piece);
                ends.push(text.len());
                continue;
            }
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
            text.push_str(&decoded);
            ends.push(text.len());
        }
        Ok(ArmPath { text, ends })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Segment `i`, or "" past the end.
    pub fn seg(&self, i: usize) -> &str {
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..end]
    }

    /// The segments in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.seg(i))
    }

    /// Whether segment `i` equals `word`, ignoring ASCII case.
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.seg(i).eq_ignore_ascii_case(word)
    }

    /// The normalized path, `/a/b/c`.
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.len() + 1);
        for s in self.segments() {
            out.push('/');
            out.push_str(s);
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

/// The subscription a path addresses (`/subscriptions/{id}/…` or `/k8s/{id}/…`), if any.
pub fn subscription_of(path: &str) -> Option<String> {
    let mut parts = path.split('/').filter(|s| !s.is_empty());
    let first = parts.next()?;
    if first.eq_ignore_ascii_case("subscriptions") || first.eq_ignore_ascii_case("k8s") {
        let id = parts.next()?;
        uuid::Uuid::parse_str(id).ok().map(|u| {
            u.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .to_owned()
        })
    } else {
        None
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
        assert_eq!(p.len(), 6);
        assert_eq!(
            p.joined(),
            "/subscriptions/x/providers/Microsoft.ContainerService/managedClusters/c 1"
        );
        assert_eq!(p.segments().nth(3), Some("Microsoft.ContainerService"));
        let root = ArmPath::parse("//").unwrap();
        assert!(root.is_empty());
        assert_eq!((root.seg(0), root.joined().as_str()), ("", "/"));
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
