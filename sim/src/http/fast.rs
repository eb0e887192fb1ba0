//! The cluster-GET fast path: `GET /subscriptions/{s}/resourceGroups/{rg}/providers/
//! Microsoft.ContainerService/managedClusters/{name}?api-version={v}`, the request pollers and
//! dashboards send most, answered from the cluster's cached body without building an
//! `ArmRequest` (path copy, query pairs, base URL) or walking the provider router.
//!
//! It answers only when the full path would answer 200 with the same bytes, and gives up
//! (`None`) at the first doubt: another method, a body, another query, an escape or an empty or
//! dot segment in the path, a refused token, an api-version the catalogue does not list, or
//! anything `Core::cached_cluster_body` will not serve (provider not
//! registered, group or cluster missing, an operation due to settle, a body not rendered yet).
//! The full path then answers, refusals included, so the two can never disagree on an error;
//! `sim/tests/fast_path.rs` checks that they agree on every answer.

use axum::body::Bytes;
use axum::http::Method;
use time::OffsetDateTime;

use std::sync::OnceLock;

use crate::core::clusters::NS;
use crate::core::resource_types::{Catalog, ResourceTypeSpec};
use crate::state::AppState;
use crate::{identity, limits};

/// The body of a cached cluster GET at `now`, or `None` for the full path.
pub(super) fn cluster_get<B: axum::body::HttpBody>(
    state: &AppState,
    request: &axum::http::Request<B>,
    now: OffsetDateTime,
) -> Option<Bytes> {
    if request.method() != Method::GET || !axum::body::HttpBody::is_end_stream(request.body()) {
        return None;
    }
    let uri = request.uri();
    let api_version = only_api_version(uri.query()?)?;
    let [sub, rg, name] = cluster_path(uri.path())?;
    // The subscription as the router keys it: a hyphenated GUID in lower case (what clients
    // send; other spellings take the full path, which normalises them). No `has_room_for`
    // check: `Store::read` serves only a subscription the store already holds.
    if !is_lower_guid(sub) {
        return None;
    }
    identity::check_arm_auth(state, request.headers()).ok()?;
    // What `arm::api_version::check_provider` passes: the type exists and lists the api-version.
    if !cluster_type(state.core.resource_types)?.supports(api_version) {
        return None;
    }
    state.core.cached_cluster_body(sub, rg, name, now)
}

/// The catalogue's `managedClusters` type, looked up once per process (the catalogue is
/// `'static` and never changes; a different one is looked up each time).
fn cluster_type(catalog: &'static Catalog) -> Option<&'static ResourceTypeSpec> {
    static CACHED: OnceLock<(usize, Option<&'static ResourceTypeSpec>)> = OnceLock::new();
    let address = std::ptr::from_ref(catalog) as usize;
    let &(cached_for, spec) =
        CACHED.get_or_init(|| (address, catalog.resource_type(NS, "managedClusters")));
    if cached_for == address {
        spec
    } else {
        catalog.resource_type(NS, "managedClusters")
    }
}

/// The api-version of a query that is exactly `api-version={v}` (the name in any case) and
/// needs no decoding; anything else (an escape, a `+`, another parameter, a byte outside
/// ASCII) is for the full path's query parser.
fn only_api_version(query: &str) -> Option<&str> {
    const NAME: &str = "api-version=";
    let value = strip_prefix_ignore_case(query, NAME)?;
    if value
        .bytes()
        .any(|b| matches!(b, b'&' | b'%' | b'+') || !b.is_ascii())
    {
        return None;
    }
    let value = value.trim_ascii();
    (!value.is_empty()).then_some(value)
}

/// `[subscription, group, cluster]` of a cluster path written plainly: exactly eight
/// segments, none empty, `.` or `..`, over the segment limit, or holding an escape or a byte
/// outside printable ASCII (the full path's parser decodes and checks those). The fixed words
/// are compared as two runs of bytes around the group name: splitting the path into segments
/// costs more than everything else the fast path checks.
fn cluster_path(path: &str) -> Option<[&str; 3]> {
    const HEAD: &str = "/subscriptions/";
    const MIDDLE: &str = "/resourceGroups/";
    const TAIL: &str = "/providers/Microsoft.ContainerService/managedClusters/";
    const GUID_LEN: usize = 36;
    if path.len() > limits::PATH_MAX_CHARS {
        return None;
    }
    let rest = strip_prefix_ignore_case(path, HEAD)?;
    let (sub, rest) = (rest.get(..GUID_LEN)?, rest.get(GUID_LEN..)?);
    let rest = strip_prefix_ignore_case(rest, MIDDLE)?;
    let (rg, rest) = rest.split_at(rest.bytes().position(|b| b == b'/')?);
    let name = strip_prefix_ignore_case(rest, TAIL)?;
    // `sub` has no '/' (the callers check it is a GUID); `rg` ends at the first '/'.
    (plain_segment(rg) && plain_segment(name) && !sub.contains('/')).then_some([sub, rg, name])
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    // Clients send the words as written (one memcmp); other spellings are compared per byte.
    (head == prefix || head.eq_ignore_ascii_case(prefix)).then(|| &text[prefix.len()..])
}

/// A segment the full path's parser would keep as it is (and no '/').
fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment.len() <= limits::PATH_SEGMENT_MAX_CHARS
        && segment
            .bytes()
            .all(|b| b != b'%' && b != b'/' && (0x20..0x7f).contains(&b))
}

/// A hyphenated GUID in lower case.
fn is_lower_guid(text: &str) -> bool {
    let lower_hex = |run: &[u8]| run.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let b = text.as_bytes();
    b.len() == 36
        && [b[8], b[13], b[18], b[23]] == [b'-'; 4]
        && [&b[..8], &b[9..13], &b[14..18], &b[19..23], &b[24..]]
            .into_iter()
            .all(lower_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_cluster_paths_qualify() {
        let sub = "00000000-0000-0000-0000-0000000000b1";
        let ok = format!(
            "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
        );
        assert_eq!(cluster_path(&ok), Some([sub, "rg1", "c1"]));
        let lower = ok.to_ascii_lowercase();
        assert_eq!(cluster_path(&lower), Some([sub, "rg1", "c1"]));
        for bad in [
            format!("{ok}/"),
            format!("{ok}/x"),
            ok.replace("/rg1/", "//rg1/"),
            ok.replace("/c1", "/c%31"),
            ok.replace("/rg1/", "/../"),
            ok.replace("/rg1/", "/./"),
            ok.replace("managedClusters", "managedCluster"),
            ok.replace("/c1", "/c\u{e9}"),
            ok.trim_start_matches('/').to_owned(),
            format!(
                "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{}",
                "a".repeat(limits::PATH_SEGMENT_MAX_CHARS + 1)
            ),
        ] {
            assert_eq!(cluster_path(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_lower_case_guids_qualify() {
        assert!(is_lower_guid("00000000-0000-0000-0000-0000000000b1"));
        for bad in [
            "00000000-0000-0000-0000-0000000000B1",
            "00000000000000000000000000000000b1",
            "00000000-0000-0000-0000-0000000000b",
            "00000000-0000-0000-0000-0000000000g1",
            "0000000000-00-0000-0000-0000000000b1",
        ] {
            assert!(!is_lower_guid(bad), "{bad}");
        }
    }

    #[test]
    fn only_a_lone_plain_api_version_qualifies() {
        assert_eq!(
            only_api_version("api-version=2026-06-01"),
            Some("2026-06-01")
        );
        assert_eq!(
            only_api_version("API-Version=2026-06-01"),
            Some("2026-06-01")
        );
        for bad in [
            "api-version=",
            "api-version",
            "api-version=2026-06-01&x=1",
            "api-version=2026%2D06-01",
            "x=2026-06-01",
            "api-version=a+b",
            "api-version=2026-06-01\u{a0}",
            "xapi-version=2026-06-01",
        ] {
            assert_eq!(only_api_version(bad), None, "{bad}");
        }
    }
}
