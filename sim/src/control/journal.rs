//! The request journal: a bounded ring of what aksim received and answered (sharded per
//! thread, read back as one ring: see [`Journal`]), queryable by method, path glob, status,
//! subscription and correlation id, exportable as JSON lines, with a "verify" query (did
//! request X happen N times?). Refused requests carry the error code and message, so a tester
//! can see why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::http::Method;
use parking_lot::{Mutex, MutexGuard};
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
    pub target: String,
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

/// Shards of the ring. Each thread writes to its own shard (threads past the sixteenth share),
/// so the requests in flight on different workers never wait for one another's lock: one
/// mutex shared by every request cost the default configuration a fifth of its throughput at
/// 64 connections (docs/performance.md).
const SHARDS: usize = 16;

/// The largest target buffer passed on to a newer record (a longer one is freed, so one
/// long path does not keep its buffer alive for ever).
const TARGET_REUSE_MAX_BYTES: usize = 1024;

/// Every this many sequence numbers, a writer also trims one other shard (see
/// [`Journal::record`]).
const TRIM_EVERY: u64 = 64;

/// The request journal: the last `capacity` exchanges by sequence number (the order they were
/// recorded in), held in per-thread shards.
///
/// A writer takes only its own shard's lock, and draws the next sequence number under it; a
/// reader takes every shard's lock (always in index order) and merges the shards by sequence
/// number. So a reader never sees a sequence number while a smaller one is still on its way
/// in, and the journal reads back exactly as one ring would: the entries whose sequence
/// number is among the last `capacity` drawn (less the cleared ones), oldest first.
///
/// A shard evicts its own entries that fall out of that window when it is written to; an
/// entry of a shard no one writes to is out of sight as soon as it is out of the window
/// (readers skip it and count it as dropped), and is freed when its shard is next written,
/// trimmed by another writer (one shard every [`TRIM_EVERY`] records), resized or cleared.
/// So the shards hold at most `capacity` visible entries plus the few that left the window
/// since their shard was last trimmed.
#[derive(Debug)]
pub struct Journal {
    shards: Box<[Shard]>,
    /// The capacity, readable without a lock (the edge asks on every request); written only
    /// with every shard locked.
    capacity: AtomicUsize,
    /// The next sequence number, drawn by writers under their shard's lock. On a cache line
    /// of its own: every writer changes it, and every request reads `capacity`.
    next_seq: Padded<AtomicU64>,
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// One shard on a cache line of its own, so writers on different cores do not share one.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<ShardRing>);

#[derive(Debug, Default)]
struct ShardRing {
    /// Sequence number and record, oldest first.
    entries: VecDeque<(u64, Record)>,
    /// Entries this shard let go because they left the window (not those cleared).
    dropped: u64,
}

impl ShardRing {
    /// Frees the entries at or below `oldest_gone`, counting them as dropped.
    fn evict_through(&mut self, oldest_gone: u64) {
        while self
            .entries
            .front()
            .is_some_and(|(seq, _)| *seq <= oldest_gone)
        {
            self.entries.pop_front();
            self.dropped += 1;
        }
    }
}

/// Every shard locked, in index order: what readers, `clear` and `set_capacity` work on.
struct Locked<'a> {
    rings: Vec<MutexGuard<'a, ShardRing>>,
    capacity: usize,
}

impl Locked<'_> {
    /// The newest sequence number any shard holds.
    fn newest(&self) -> Option<u64> {
        self.rings
            .iter()
            .filter_map(|ring| ring.entries.back().map(|(seq, _)| *seq))
            .max()
    }

    /// Sequence numbers at or below this one have left the window (`None`: none has).
    fn window_floor(&self) -> Option<u64> {
        let newest = self.newest()?;
        newest.checked_sub(self.capacity as u64)
    }

    fn in_window(&self, floor: Option<u64>, seq: u64) -> bool {
        floor.is_none_or(|floor| seq > floor)
    }

    /// The visible entries, oldest first.
    fn visible(&self) -> Vec<(u64, &Record)> {
        let floor = self.window_floor();
        let mut out: Vec<(u64, &Record)> = self
            .rings
            .iter()
            .flat_map(|ring| ring.entries.iter())
            .filter(|(seq, _)| self.in_window(floor, *seq))
            .map(|(seq, record)| (*seq, record))
            .collect();
        out.sort_unstable_by_key(|(seq, _)| *seq);
        out
    }

    /// Entries still held but out of the window: dropped, though not freed yet.
    fn hidden(&self) -> u64 {
        let floor = self.window_floor();
        self.rings
            .iter()
            .flat_map(|ring| ring.entries.iter())
            .filter(|(seq, _)| !self.in_window(floor, *seq))
            .count() as u64
    }

    /// Frees every entry out of the window, counting it as dropped.
    fn trim(&mut self) {
        if let Some(floor) = self.window_floor() {
            for ring in &mut self.rings {
                ring.evict_through(floor);
            }
        }
    }
}

thread_local! {
    /// This thread's shard, given out in turn to threads as they first record.
    static SHARD: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

fn this_threads_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD.with(|shard| {
        if shard.get() == usize::MAX {
            shard.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        shard.get()
    })
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Journal {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            capacity: AtomicUsize::new(capacity),
            next_seq: Padded(AtomicU64::new(1)),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    fn lock_all(&self) -> Locked<'_> {
        let rings = self.shards.iter().map(|shard| shard.0.lock()).collect();
        // Read after every lock is held: no writer is between its check and its insert.
        let capacity = self.capacity();
        Locked { rings, capacity }
    }

    /// Changes the capacity (0 turns journalling off), dropping the oldest entries past it.
    pub fn set_capacity(&self, capacity: usize) {
        let mut all = self.lock_all();
        // What left the old window goes first: a larger window must not bring it back.
        all.trim();
        all.capacity = capacity;
        all.trim();
        self.capacity.store(capacity, Ordering::Relaxed);
    }

    /// Records an exchange, assigning its sequence number. The record that falls out of the
    /// window is dropped after the lock is released.
    pub fn record(&self, record: Record) {
        self.record_whole(this_threads_shard(), record);
    }

    fn record_whole(&self, shard: usize, mut record: Record) {
        let target = std::mem::take(&mut record.target);
        self.record_in(shard, &target, record);
    }

    /// [`Journal::record`] for the request target `target` (`record.target` is ignored): the
    /// target is copied into the buffer of the record that leaves the window, so a full
    /// journal records without allocating (what the edge calls on every request).
    pub fn record_target(&self, target: &str, record: Record) {
        self.record_in(this_threads_shard(), target, record);
    }

    fn record_in(&self, shard: usize, target: &str, mut record: Record) {
        let mut ring = self.shards[shard].0.lock();
        let capacity = self.capacity() as u64;
        if capacity == 0 {
            return;
        }
        let seq = self.next_seq.0.fetch_add(1, Ordering::Relaxed);
        let mut evicted = match ring.entries.front() {
            Some((oldest, _)) if oldest + capacity <= seq => {
                ring.dropped += 1;
                ring.entries.pop_front()
            }
            _ => None,
        };
        let buffer = evicted
            .as_mut()
            .map(|(_, old)| std::mem::take(&mut old.target))
            .filter(|b| b.capacity() <= TARGET_REUSE_MAX_BYTES);
        record.target = match buffer {
            Some(mut buffer) => {
                buffer.clear();
                buffer.push_str(target);
                buffer
            }
            None => target.to_owned(),
        };
        ring.entries.push_back((seq, record));
        // More than one left the window only after this shard sat idle: rare.
        if let Some(floor) = seq.checked_sub(capacity) {
            ring.evict_through(floor);
        }
        drop(ring);
        drop(evicted);
        if seq % TRIM_EVERY == 0 {
            self.trim_other(shard, seq, capacity);
        }
    }

    /// Frees what left the window in another shard (the next one in turn), unless its writer
    /// holds it right now: a shard no thread writes to any more is not kept whole.
    fn trim_other(&self, shard: usize, seq: u64, capacity: u64) {
        let other = (shard + 1 + (seq / TRIM_EVERY) as usize) % SHARDS;
        let (Some(floor), Some(mut ring)) =
            (seq.checked_sub(capacity), self.shards[other].0.try_lock())
        else {
            return;
        };
        ring.evict_through(floor);
    }

    /// The entries `filter` accepts, oldest first (the last `limit` of them).
    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let all = self.lock_all();
        let mut out: Vec<Entry> = all
            .visible()
            .into_iter()
            .filter(|(seq, record)| filter.could_accept(*seq, record))
            .map(|(seq, record)| record.entry(seq))
            .filter(|e| filter.accepts(e))
            .collect();
        if let Some(limit) = filter.limit {
            let skip = out.len().saturating_sub(limit);
            out.drain(..skip);
        }
        out
    }

    pub fn count(&self, filter: &Filter) -> usize {
        self.lock_all()
            .visible()
            .into_iter()
            .filter(|(seq, record)| filter.could_accept(*seq, record))
            .filter(|(seq, record)| filter.accepts(&record.entry(*seq)))
            .count()
    }

    /// Empties the journal (the sequence numbers go on; what had already left the window
    /// counts as dropped, as it did before the clear).
    pub fn clear(&self) {
        let mut all = self.lock_all();
        all.trim();
        for ring in &mut all.rings {
            ring.entries.clear();
        }
    }

    /// (held, dropped since start, capacity)
    pub fn stats(&self) -> (usize, u64, usize) {
        let all = self.lock_all();
        let held = all.visible().len();
        let dropped = all.rings.iter().map(|ring| ring.dropped).sum::<u64>() + all.hidden();
        (held, dropped, all.capacity)
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
    #[test]
    fn targets_survive_the_reuse_of_buffers() {
        let j = Journal::new(2);
        let long = format!("/{}", "x".repeat(TARGET_REUSE_MAX_BYTES + 100));
        let targets = [
            "/a?api-version=1",
            "/bb",
            long.as_str(),
            "/c",
            "/dddddddddddddddddddddddd",
            "/e",
            "/f",
        ];
        for (i, target) in targets.iter().enumerate() {
            j.record_target(target, entry("GET", "/ignored", 200));
            let paths: Vec<String> = j
                .query(&Filter::default())
                .into_iter()
                .map(|e| match e.query {
                    Some(q) => format!("{}?{q}", e.path),
                    None => e.path,
                })
                .collect();
            let want = &targets[i.saturating_sub(1)..=i];
            assert_eq!(paths, want, "after {target}");
        }
    }

    /// The single ring the journal was before it was sharded: what it must read back as.
    struct OneRing {
        seqs: VecDeque<u64>,
        capacity: usize,
        next_seq: u64,
        dropped: u64,
    }

    impl OneRing {
        fn record(&mut self) {
            if self.capacity == 0 {
                return;
            }
            if self.seqs.len() >= self.capacity {
                self.seqs.pop_front();
                self.dropped += 1;
            }
            self.seqs.push_back(self.next_seq);
            self.next_seq += 1;
        }

        fn set_capacity(&mut self, capacity: usize) {
            self.capacity = capacity;
            while self.seqs.len() > capacity {
                self.seqs.pop_front();
                self.dropped += 1;
            }
        }
    }

    #[test]
    fn shards_read_back_as_one_ring() {
        // Writers on any shard, in any mix, with resizes and clears in between: every read
        // equals the single ring's (sequence numbers, held, dropped, capacity).
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for round in 0..40 {
            let capacity = [0, 1, 2, 3, 5, 16, 17, 40][round % 8];
            let journal = Journal::new(capacity);
            let mut model = OneRing {
                seqs: VecDeque::new(),
                capacity,
                next_seq: 1,
                dropped: 0,
            };
            // Some rounds write mostly to one shard, as a busy worker next to an idle one.
            let hot = (round % 3 == 0).then(|| next(SHARDS as u64) as usize);
            for step in 0..600 {
                match next(100) {
                    0..=1 => {
                        let c = next(50) as usize;
                        journal.set_capacity(c);
                        model.set_capacity(c);
                    }
                    2 => {
                        journal.clear();
                        model.seqs.clear();
                    }
                    _ => {
                        let shard = match hot {
                            Some(h) if next(10) > 0 => h,
                            _ => next(SHARDS as u64) as usize,
                        };
                        journal.record_whole(shard, entry("GET", "/a", 200));
                        model.record();
                    }
                }
                let seqs: Vec<u64> = journal
                    .query(&Filter::default())
                    .iter()
                    .map(|e| e.seq)
                    .collect();
                let want: Vec<u64> = model.seqs.iter().copied().collect();
                assert_eq!(seqs, want, "round {round}, step {step}");
                assert_eq!(
                    journal.stats(),
                    (model.seqs.len(), model.dropped, model.capacity),
                    "round {round}, step {step}"
                );
            }
        }
    }

    #[test]
    fn idle_shards_are_trimmed() {
        // One writer per shard, then only one: the others' entries leave the window and are
        // freed by the trims, not kept until their shard is written again.
        let journal = Journal::new(8);
        for shard in 0..SHARDS {
            journal.record_whole(shard, entry("GET", "/a", 200));
        }
        for _ in 0..(TRIM_EVERY as usize * SHARDS * 2) {
            journal.record_whole(0, entry("GET", "/a", 200));
        }
        let held: usize = journal
            .shards
            .iter()
            .map(|s| s.0.lock().entries.len())
            .sum();
        assert_eq!(held, 8);
        assert_eq!(journal.stats().0, 8);
    }

    #[test]
    fn concurrent_writers_leave_no_gaps() {
        // Threads record at once while a reader reads: every read is a run of consecutive
        // sequence numbers (no number shows before a smaller one is in), and the end is the
        // last `capacity` of them all.
        let journal = Journal::new(300);
        let threads = 6;
        let per_thread = 2_000;
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..per_thread {
                        journal.record(entry("GET", "/a", 200));
                    }
                });
            }
            scope.spawn(|| {
                for _ in 0..200 {
                    let seqs: Vec<u64> = journal
                        .query(&Filter::default())
                        .iter()
                        .map(|e| e.seq)
                        .collect();
                    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
                    assert!(seqs.len() <= 300);
                }
            });
        });
        let total = (threads * per_thread) as u64;
        let seqs: Vec<u64> = journal
            .query(&Filter::default())
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (total - 299..=total).collect::<Vec<_>>());
        assert_eq!(journal.stats(), (300, total - 300, 300));
    }
}
