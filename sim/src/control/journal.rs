//! The request journal: a bounded ring buffer of what aksim received and answered, queryable
//! by method, path glob, status, subscription and correlation id, exportable as JSON lines, with
//! a "verify" query (did request X happen N times?). Refused requests carry the error code and
//! message, so a tester can see why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Method;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::arm::path::subscription_of;
use crate::clock::{datetime_from_nanos, rfc3339};
use crate::control::glob;

/// One exchange as the edge hands it over, turned into an [`Entry`] only when someone reads
/// the journal: formatting the time, the ids and the path into strings on every request cost
/// as much as the rest of a cluster GET's own work. What came from the client is copied
/// (`target`, the client's ids, `User-Agent`): a reference into the request would keep
/// hyper's whole read buffer alive for as long as the entry, and make hyper allocate a new
/// one for the next request.
#[derive(Debug, Clone)]
pub struct Record {
    /// Virtual time in Unix nanoseconds.
    pub at_nanos: i128,
    pub method: Method,
    /// The path and query as sent.
    pub target: Box<str>,
    pub status: u16,
    pub request_id: uuid::Uuid,
    /// The client's `x-ms-correlation-request-id`; without one, the request id is the
    /// correlation id.
    pub client_correlation_id: Option<Box<str>>,
    pub client_request_id: Option<Box<str>>,
    pub user_agent: Option<Box<str>>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub fault: Option<String>,
    pub request_body: Option<String>,
    pub duration_micros: u64,
}

impl Record {
    /// The entry a reader sees.
    pub fn entry(&self, seq: u64) -> Entry {
        let (path, query) = match self.target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (&*self.target, None),
        };
        let request_id = self.request_id.hyphenated().to_string();
        Entry {
            seq,
            time: rfc3339(datetime_from_nanos(self.at_nanos)),
            method: self.method.to_string(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            status: self.status,
            subscription: subscription_of(path),
            correlation_id: self
                .client_correlation_id
                .as_deref()
                .map_or_else(|| request_id.clone(), str::to_owned),
            request_id,
            client_request_id: self.client_request_id.as_deref().map(str::to_owned),
            user_agent: self.user_agent.as_deref().map(str::to_owned),
            error_code: self.error_code.clone(),
            error_message: self.error_message.clone(),
            fault: self.fault.clone(),
            request_body: self.request_body.clone(),
            duration_micros: self.duration_micros,
        }
    }
}

/// One journalled exchange, as `/_sim/journal` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub seq: u64,
    /// Virtual time, RFC 3339.
    pub time: String,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    pub request_id: String,
    pub correlation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The ARM error code (or Kubernetes Status reason) when the request was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The id of the fault rule that acted on this request, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    pub duration_micros: u64,
}

/// What to look for.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    pub method: Option<String>,
    /// A glob over the path (`*` any run, `?` one character), case-insensitive.
    pub path: Option<String>,
    pub status: Option<u16>,
    pub subscription: Option<String>,
    pub correlation_id: Option<String>,
    pub error_code: Option<String>,
    /// Only entries after this sequence number.
    pub since: Option<u64>,
    pub limit: Option<usize>,
}

impl Filter {
    /// The checks that need no formatting (sequence, status, method): a record failing them
    /// is not turned into an entry at all.
    fn could_accept(&self, seq: u64, record: &Record) -> bool {
        self.since.is_none_or(|s| seq > s)
            && self.status.is_none_or(|s| s == record.status)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(record.method.as_str()))
    }

    pub fn accepts(&self, e: &Entry) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self
                .path
                .as_deref()
                .is_none_or(|p| glob::matches(p, &e.path))
            && self.status.is_none_or(|s| s == e.status)
            && self.subscription.as_deref().is_none_or(|s| {
                e.subscription
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(s))
            })
            && self
                .correlation_id
                .as_deref()
                .is_none_or(|c| c == e.correlation_id)
            && self.error_code.as_deref().is_none_or(|c| {
                e.error_code
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(c))
            })
            && self.since.is_none_or(|s| e.seq > s)
    }
}

#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Ring>,
    /// `Ring::capacity`, readable without the lock (the edge asks on every request).
    capacity: AtomicUsize,
}

#[derive(Debug)]
struct Ring {
    /// Sequence number and record, oldest first.
    entries: VecDeque<(u64, Record)>,
    capacity: usize,
    next_seq: u64,
    dropped: u64,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Journal {
            inner: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(1024)),
                capacity,
                next_seq: 1,
                dropped: 0,
            }),
            capacity: AtomicUsize::new(capacity),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Changes the capacity (0 turns journalling off), dropping the oldest entries past it.
    pub fn set_capacity(&self, capacity: usize) {
        let mut ring = self.inner.lock();
        ring.capacity = capacity;
        self.capacity.store(capacity, Ordering::Relaxed);
        while ring.entries.len() > capacity {
            ring.entries.pop_front();
            ring.dropped += 1;
        }
    }

    /// Records an exchange, assigning its sequence number. The record that falls out of the
    /// ring is dropped after the lock is released.
    pub fn record(&self, record: Record) {
        let mut ring = self.inner.lock();
        if ring.capacity == 0 {
            return;
        }
        let seq = ring.next_seq;
        ring.next_seq += 1;
        let evicted = if ring.entries.len() >= ring.capacity {
            ring.dropped += 1;
            ring.entries.pop_front()
        } else {
            None
        };
        ring.entries.push_back((seq, record));
        drop(ring);
        drop(evicted);
    }

    /// The entries `filter` accepts, oldest first (the last `limit` of them).
    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.inner.lock();
        let mut out: Vec<Entry> = ring
            .entries
            .iter()
            .filter(|(seq, record)| filter.could_accept(*seq, record))
            .map(|(seq, record)| record.entry(*seq))
            .filter(|e| filter.accepts(e))
            .collect();
        if let Some(limit) = filter.limit {
            let skip = out.len().saturating_sub(limit);
            out.drain(..skip);
        }
        out
    }

    pub fn count(&self, filter: &Filter) -> usize {
        self.inner
            .lock()
            .entries
            .iter()
            .filter(|(seq, record)| filter.could_accept(*seq, record))
            .filter(|(seq, record)| filter.accepts(&record.entry(*seq)))
            .count()
    }

    pub fn clear(&self) {
        let mut ring = self.inner.lock();
        ring.entries.clear();
    }

    /// (held, dropped since start, capacity)
    pub fn stats(&self) -> (usize, u64, usize) {
        let ring = self.inner.lock();
        (ring.entries.len(), ring.dropped, ring.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str, status: u16) -> Record {
        Record {
            at_nanos: 0,
            method: Method::from_bytes(method.as_bytes()).unwrap(),
            target: path.into(),
            status,
            request_id: uuid::Uuid::nil(),
            client_correlation_id: Some("c".into()),
            client_request_id: None,
            user_agent: None,
            error_code: None,
            error_message: None,
            fault: None,
            request_body: None,
            duration_micros: 0,
        }
    }

    #[test]
    fn a_record_reads_back_as_its_entry() {
        let mut record = entry(
            "PUT",
            "/subscriptions/00000000-0000-0000-0000-0000000000AB/resourcegroups/rg?api-version=1",
            409,
        );
        record.at_nanos = 1_719_990_812_857_181_100;
        record.user_agent = Some("az/2.91".into());
        record.error_code = Some("Conflict".into());
        let e = record.entry(7);
        assert_eq!(e.seq, 7);
        assert_eq!(e.time, "2024-07-03T07:13:32.8571811Z");
        assert_eq!(e.method, "PUT");
        assert_eq!(
            e.path,
            "/subscriptions/00000000-0000-0000-0000-0000000000AB/resourcegroups/rg"
        );
        assert_eq!(e.query.as_deref(), Some("api-version=1"));
        assert_eq!(
            e.subscription.as_deref(),
            Some("00000000-0000-0000-0000-0000000000ab")
        );
        assert_eq!(e.request_id, "00000000-0000-0000-0000-000000000000");
        assert_eq!(e.correlation_id, "c");
        assert_eq!(e.user_agent.as_deref(), Some("az/2.91"));
        assert_eq!(e.error_code.as_deref(), Some("Conflict"));
        record.client_correlation_id = None;
        record.target = "/".into();
        let e = record.entry(8);
        assert_eq!(e.correlation_id, e.request_id);
        assert_eq!((e.path.as_str(), e.query), ("/", None));
    }

    #[test]
    fn ring_is_bounded_and_filterable() {
        let j = Journal::new(2);
        j.record(entry("GET", "/a", 200));
        j.record(entry("PUT", "/b", 201));
        j.record(entry("GET", "/c", 404));
        let all = j.query(&Filter::default());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(j.stats().1, 1);
        let gets = Filter {
            method: Some("get".into()),
            ..Filter::default()
        };
        assert_eq!(j.count(&gets), 1);
        let glob = Filter {
            path: Some("/?".into()),
            status: Some(201),
            ..Filter::default()
        };
        assert_eq!(j.count(&glob), 1);
        j.set_capacity(0);
        j.record(entry("GET", "/d", 200));
        assert_eq!(j.query(&Filter::default()).len(), 0);
    }
}
