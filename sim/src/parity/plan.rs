//! What a cassette needs before and during its replay, derived from the recording itself (never
//! written per cassette):
//!
//! - the subscription (the first `/subscriptions/{id}` of a request URI);
//! - resource groups the test framework created outside the recording: every group a request
//!   URI names that no recorded request creates. Location and tags come from a recorded read
//!   of the group if there is one, else from the first request body under it that names a
//!   location, else from a `/locations/{region}/` URI segment;
//! - providers: every namespace a request URI names (`/providers/{namespace}/…`) that the
//!   recording does not register itself; features: every `AKSHTTPCustomFeatures` request
//!   header value that the recording does not register itself;
//! - the clock: each exchange replays at its response's `Date` header (the first one is the
//!   recording's date);
//! - operations: which request started which recorded operation (its `Azure-AsyncOperation`
//!   and `Location` headers), which later requests poll it, and how long it ran (from the
//!   start to the first terminal poll; never polled to the end: to the first later read of
//!   its resource with a final `provisioningState`; neither: it outlives the replay);
//! - transient failures: a recorded 429 or 5xx answer followed by the same request again is
//!   replayed as a one-shot injected fault, so the retry meets the same state it met in Azure.

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;

use crate::parity::cassette::{split_uri, Cassette, Interaction};

/// Seconds an operation runs when the recording never saw it finish.
pub const NEVER_SECS: f64 = 30.0 * 24.0 * 3600.0;

/// A resource group the replay must create first.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub location: String,
    pub tags: Option<Value>,
}

/// An operation the recording saw start.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedOp {
    /// `(header name, operation key)`: `azure-asyncoperation` and/or `location`.
    pub urls: Vec<(String, String)>,
    /// Virtual seconds aksim's operation should take to end where the recording's did.
    pub duration_secs: f64,
}

/// The role of one interaction in the replay.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    Plain,
    /// A poll of the operation started by interaction `started_by`, through the URL of
    /// `header` (`azure-asyncoperation` or `location`).
    Poll {
        started_by: usize,
        header: String,
    },
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub subscription: String,
    pub groups: Vec<Group>,
    pub providers: Vec<String>,
    pub features: Vec<String>,
    /// The instant each exchange replays at: its response's `Date`, plus a millisecond per
    /// earlier exchange with the same `Date` (the header counts whole seconds; this keeps a
    /// poll and the one after it apart).
    pub times: Vec<Option<OffsetDateTime>>,
    pub roles: Vec<Role>,
    /// Operations, by the interaction that started them.
    pub operations: BTreeMap<usize, RecordedOp>,
    /// Interactions whose recorded 429/5xx is replayed as an injected fault.
    pub faults: Vec<usize>,
}

pub const ZERO_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// The path of a recorded request (no origin, no query).
pub fn request_path(i: &Interaction) -> &str {
    let pq = split_uri(&i.request.uri).map_or(i.request.uri.as_str(), |(_, p)| p);
    pq.split('?').next().unwrap_or(pq)
}

/// The path and query of a recorded request.
pub fn request_path_query(i: &Interaction) -> &str {
    split_uri(&i.request.uri).map_or(i.request.uri.as_str(), |(_, p)| p)
}

/// An operation URL's key: its path, lower case, without query.
pub fn operation_key(url: &str) -> String {
    let pq = split_uri(url).map_or(url, |(_, p)| p);
    pq.split('?').next().unwrap_or(pq).to_ascii_lowercase()
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Whether a poll answer is terminal: not 202, and a `status` (if any) that is Succeeded,
/// Failed or Canceled.
pub fn is_terminal(status: u16, body: Option<&Value>) -> bool {
    if status == 202 {
        return false;
    }
    match body.and_then(|b| b.get("status")).and_then(Value::as_str) {
        Some(s) => ["succeeded", "failed", "canceled", "cancelled"]
            .contains(&s.to_ascii_lowercase().as_str()),
        None => true,
    }
}

fn date_of(i: &Interaction) -> Option<OffsetDateTime> {
    let text = i.response.headers.get("date")?;
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()
}

fn is_operation_url(header: &str, url: &str, status: u16) -> bool {
    let key = operation_key(url);
    header.eq_ignore_ascii_case("azure-asyncoperation")
        || status == 202
        || key.contains("/operations/")
        || key.contains("/operationresults/")
        || key.contains("/operationstatuses/")
}

impl Plan {
    pub fn derive(cassette: &Cassette) -> Plan {
        let list = &cassette.interactions;
        let subscription = list
            .iter()
            .find_map(|i| {
                let s = segments(request_path(i));
                (s.len() >= 2 && s[0].eq_ignore_ascii_case("subscriptions"))
                    .then(|| s[1].to_ascii_lowercase())
            })
            .filter(|s| uuid::Uuid::parse_str(s).is_ok())
            .unwrap_or_else(|| ZERO_SUBSCRIPTION.to_owned());
        let times = ordered(list.iter().map(date_of).collect());
        let (roles, operations) = operations(list, &times);
        let faults = (0..list.len().saturating_sub(1))
            .filter(|&i| {
                let (a, b) = (&list[i], &list[i + 1]);
                let status = a.response.status.code;
                (status == 429 || status >= 500)
                    && a.request.method == b.request.method
                    && a.request.uri == b.request.uri
            })
            .collect();
        Plan {
            groups: groups(list),
            providers: providers(list),
            features: features(list),
            subscription,
            times,
            roles,
            operations,
            faults,
        }
    }

    /// The recording's date: the first response `Date`.
    pub fn start(&self) -> Option<OffsetDateTime> {
        self.times.iter().flatten().next().copied()
    }
}

/// Dates with a millisecond per earlier exchange of the same second.
fn ordered(dates: Vec<Option<OffsetDateTime>>) -> Vec<Option<OffsetDateTime>> {
    let mut out = Vec::with_capacity(dates.len());
    let mut last: Option<(OffsetDateTime, i64)> = None;
    for d in dates {
        out.push(d.map(|d| {
            let rank = match last {
                Some((prev, n)) if prev == d => n + 1,
                _ => 0,
            };
            last = Some((d, rank));
            d + time::Duration::milliseconds(rank)
        }));
    }
    out
}

fn operations(
    list: &[Interaction],
    dates: &[Option<OffsetDateTime>],
) -> (Vec<Role>, BTreeMap<usize, RecordedOp>) {
    let mut roles = vec![Role::Plain; list.len()];
    let mut by_key: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut operations = BTreeMap::new();
    for (i, it) in list.iter().enumerate() {
        if it.request.method == "GET" {
            if let Some((start, header)) = by_key.get(&request_path(it).to_ascii_lowercase()) {
                roles[i] = Role::Poll {
                    started_by: *start,
                    header: header.clone(),
                };
                continue;
            }
        }
        let status = it.response.status.code;
        if !(200..300).contains(&status) {
            continue;
        }
        let mut urls = Vec::new();
        for header in ["azure-asyncoperation", "location"] {
            if let Some(url) = it.response.headers.get(header) {
                if is_operation_url(header, url, status) {
                    let key = operation_key(url);
                    by_key.insert(key.clone(), (i, header.to_owned()));
                    urls.push((header.to_owned(), key));
                }
            }
        }
        if !urls.is_empty() {
            operations.insert(
                i,
                RecordedOp {
                    urls,
                    duration_secs: NEVER_SECS,
                },
            );
        }
    }
    // How long each ran: from its start to its first terminal poll.
    for (start, op) in operations.iter_mut() {
        let end = (start + 1..list.len()).find(|&j| {
            matches!(&roles[j], Role::Poll { started_by, .. } if started_by == start) && {
                let body: Option<Value> = serde_json::from_str(&list[j].response.body.string).ok();
                is_terminal(list[j].response.status.code, body.as_ref())
            }
        });
        // Never polled to its end: it had ended by the first later read of its resource
        // that shows a final provisioningState.
        let end = end.or_else(|| {
            let resource = request_path(&list[*start]).to_ascii_lowercase();
            (start + 1..list.len()).find(|&j| {
                let it = &list[j];
                it.request.method == "GET"
                    && it.response.status.code == 200
                    && request_path(it).eq_ignore_ascii_case(&resource)
                    && serde_json::from_str::<Value>(&it.response.body.string)
                        .ok()
                        .and_then(|b| {
                            b.pointer("/properties/provisioningState")
                                .and_then(Value::as_str)
                                .map(|s| {
                                    ["succeeded", "failed", "canceled"]
                                        .contains(&s.to_ascii_lowercase().as_str())
                                })
                        })
                        .unwrap_or(false)
            })
        });
        if let Some(end) = end {
            if let (Some(Some(a)), Some(Some(b))) = (dates.get(*start), dates.get(end)) {
                op.duration_secs = (*b - *a).as_seconds_f64().max(0.0);
            } else {
                op.duration_secs = 0.0;
            }
        }
    }
    (roles, operations)
}

fn groups(list: &[Interaction]) -> Vec<Group> {
    let mut named: Vec<String> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    for it in list {
        let s = segments(request_path(it));
        if s.len() >= 4
            && s[0].eq_ignore_ascii_case("subscriptions")
            && s[2].eq_ignore_ascii_case("resourcegroups")
        {
            let name = s[3].to_owned();
            if s.len() == 4 && it.request.method == "PUT" {
                created.push(name.to_ascii_lowercase());
            }
            if !named.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                named.push(name);
            }
        }
    }
    let region = list.iter().find_map(|it| {
        let s = segments(request_path(it));
        s.iter()
            .position(|p| p.eq_ignore_ascii_case("locations"))
            .and_then(|i| s.get(i + 1))
            .map(|l| l.to_ascii_lowercase())
    });
    named
        .into_iter()
        .filter(|n| !created.contains(&n.to_ascii_lowercase()))
        .map(|name| {
            let under = |it: &&Interaction| {
                let s = segments(request_path(it));
                s.len() >= 4
                    && s[2].eq_ignore_ascii_case("resourcegroups")
                    && s[3].eq_ignore_ascii_case(&name)
            };
            let read: Option<Value> = list
                .iter()
                .filter(under)
                .find(|it| {
                    segments(request_path(it)).len() == 4
                        && it.request.method == "GET"
                        && it.response.status.code == 200
                })
                .and_then(|it| serde_json::from_str(&it.response.body.string).ok());
            let from_body = || {
                list.iter().filter(under).find_map(|it| {
                    let body: Value = serde_json::from_str(it.request.body.as_deref()?).ok()?;
                    body.get("location")?.as_str().map(str::to_owned)
                })
            };
            let location = read
                .as_ref()
                .and_then(|r| r.get("location")?.as_str().map(str::to_owned))
                .or_else(from_body)
                .or_else(|| region.clone())
                .unwrap_or_else(|| "eastus".to_owned());
            let tags = read
                .as_ref()
                .and_then(|r| r.get("tags").cloned())
                .filter(Value::is_object);
            Group {
                name,
                location,
                tags,
            }
        })
        .collect()
}

fn providers(list: &[Interaction]) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    let mut registered: Vec<String> = Vec::new();
    for it in list {
        let s = segments(request_path(it));
        let Some(at) = s.iter().position(|p| p.eq_ignore_ascii_case("providers")) else {
            continue;
        };
        let Some(ns) = s.get(at + 1) else { continue };
        if s.get(at + 2)
            .is_some_and(|p| p.eq_ignore_ascii_case("register"))
            && it.request.method == "POST"
        {
            registered.push(ns.to_ascii_lowercase());
        }
        let ns = (*ns).to_owned();
        if !ns.eq_ignore_ascii_case("Microsoft.Features")
            && !named.iter().any(|n| n.eq_ignore_ascii_case(&ns))
        {
            named.push(ns);
        }
    }
    named
        .into_iter()
        .filter(|n| !registered.contains(&n.to_ascii_lowercase()))
        .collect()
}

fn features(list: &[Interaction]) -> Vec<String> {
    let mut registered: Vec<String> = Vec::new();
    for it in list {
        let s = segments(request_path(it));
        // …/providers/Microsoft.Features/providers/{ns}/features/{name}/register
        if let Some(at) = s.iter().position(|p| p.eq_ignore_ascii_case("features")) {
            if let (Some(ns), Some(name)) =
                (at.checked_sub(1).and_then(|j| s.get(j)), s.get(at + 1))
            {
                if it.request.method == "POST" || it.request.method == "PUT" {
                    registered.push(format!("{ns}/{name}").to_ascii_lowercase());
                }
            }
        }
        if let Some(at) = s
            .iter()
            .position(|p| p.eq_ignore_ascii_case("subscriptionFeatureRegistrations"))
        {
            if let (Some(ns), Some(name)) =
                (at.checked_sub(1).and_then(|j| s.get(j)), s.get(at + 1))
            {
                if it.request.method == "PUT" {
                    registered.push(format!("{ns}/{name}").to_ascii_lowercase());
                }
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for it in list {
        for (name, values) in &it.request.headers.0 {
            if !name.eq_ignore_ascii_case("AKSHTTPCustomFeatures") {
                continue;
            }
            for feature in values.iter().flat_map(|v| v.split(',')) {
                let feature = feature.trim();
                if feature.contains('/')
                    && !registered.contains(&feature.to_ascii_lowercase())
                    && !out.iter().any(|f| f.eq_ignore_ascii_case(feature))
                {
                    out.push(feature.to_owned());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::cassette::parse;
    use std::path::Path;

    fn item(
        method: &str,
        uri: &str,
        body: Option<&str>,
        status: u16,
        rbody: &str,
        headers: &[(&str, &str)],
    ) -> String {
        let mut h = String::new();
        for (k, v) in headers {
            h.push_str(&format!("      {k}:\n      - '{v}'\n"));
        }
        format!(
            "- request:\n    body: {}\n    headers:\n      AKSHTTPCustomFeatures:\n      - Microsoft.ContainerService/AzureServiceMeshPreview\n    method: {method}\n    uri: {uri}\n  response:\n    body:\n      string: '{rbody}'\n    headers:\n{h}    status:\n      code: {status}\n      message: x\n",
            body.map(|b| format!("'{b}'")).unwrap_or("null".into())
        )
    }

    #[test]
    fn derives_setup_operations_and_faults() {
        let base =
            "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000";
        let cluster = format!("{base}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-05-01");
        let op = format!("{base}/providers/Microsoft.ContainerService/locations/westus2/operations/abc?api-version=2016-03-30");
        let text = [
            "interactions:\n".to_owned(),
            item(
                "PUT",
                &cluster,
                Some("{\"location\": \"westus2\"}"),
                201,
                "{}",
                &[
                    ("date", "Wed, 03 Jul 2024 07:13:00 GMT"),
                    ("azure-asyncoperation", &op),
                ],
            ),
            item(
                "GET",
                &op,
                None,
                200,
                "{\"status\": \"InProgress\"}",
                &[("date", "Wed, 03 Jul 2024 07:13:30 GMT")],
            ),
            item(
                "GET",
                &format!("{op}&t=1"),
                None,
                200,
                "{\"status\": \"Succeeded\"}",
                &[("date", "Wed, 03 Jul 2024 07:14:00 GMT")],
            ),
            item(
                "DELETE",
                &cluster,
                None,
                504,
                "{}",
                &[("date", "Wed, 03 Jul 2024 07:15:00 GMT")],
            ),
            item(
                "DELETE",
                &cluster,
                None,
                202,
                "",
                &[("date", "Wed, 03 Jul 2024 07:15:00 GMT")],
            ),
            "version: 1\n".to_owned(),
        ]
        .concat();
        let c = parse(&text, Path::new("t.yaml")).unwrap();
        let plan = Plan::derive(&c);
        assert_eq!(plan.subscription, ZERO_SUBSCRIPTION);
        assert_eq!(
            plan.groups,
            vec![Group {
                name: "rg1".into(),
                location: "westus2".into(),
                tags: None
            }]
        );
        assert_eq!(
            plan.providers,
            vec!["Microsoft.ContainerService".to_owned()]
        );
        assert_eq!(
            plan.features,
            vec!["Microsoft.ContainerService/AzureServiceMeshPreview".to_owned()]
        );
        assert_eq!(plan.operations[&0].duration_secs, 60.0);
        assert!(plan.times[3].is_some());
        assert_eq!(
            plan.times[4],
            plan.times[3].map(|t| t + time::Duration::milliseconds(1))
        );
        assert!(matches!(&plan.roles[2], Role::Poll { started_by: 0, .. }));
        assert_eq!(plan.faults, vec![3]);
        assert_eq!(
            plan.start().map(|d| d.date().to_string()),
            Some("2024-07-03".into())
        );
    }
}
