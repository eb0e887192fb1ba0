//! The request journal: a bounded ring buffer of what aksim received and answered, queryable
//! by method, path glob, status, subscription and correlation id, exportable as JSON lines, with
//! a "verify" query (did request X happen N times?). Refused requests carry the error code and
//! message, so a tester can see why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::control::glob;

/// One journalled exchange.
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
    entries: VecDeque<Entry>,
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

    /// Records an entry, assigning its sequence number.
    pub fn record(&self, mut entry: Entry) {
        let mut ring = self.inner.lock();
        if ring.capacity == 0 {
            return;
        }
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() >= ring.capacity {
            ring.entries.pop_front();
            ring.dropped += 1;
        }
        ring.entries.push_back(entry);
    }

    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.inner.lock();
        let mut out: Vec<Entry> = ring
            .entries
            .iter()
            .filter(|e| filter.accepts(e))
            .cloned()
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
            .filter(|e| filter.accepts(e))
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

    fn entry(method: &str, path: &str, status: u16) -> Entry {
        Entry {
            seq: 0,
            time: String::new(),
            method: method.into(),
            path: path.into(),
            query: None,
            status,
            subscription: None,
            request_id: "r".into(),
            correlation_id: "c".into(),
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
