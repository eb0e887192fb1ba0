//! The one virtual clock.
//!
//! `now()` = the virtual instant of the last anchor + (real time since the anchor) × scale, or
//! the anchor itself while frozen. `/_sim/clock/advance` moves the anchor forward, `freeze`
//! stops it, `scale` makes virtual time run faster or slower than real time. The clock never
//! goes backwards. Nothing in aksim runs on a timer: operations, registrations, token expiry and
//! namespace termination store *when* they started and *when* they are due, and their state is
//! computed when someone looks. So advancing the clock by an hour is free and tests never sleep.

use parking_lot::RwLock;
use time::OffsetDateTime;

/// The largest scale factor accepted (virtual seconds per real second).
pub const SCALE_MAX: f64 = 1_000_000.0;

#[derive(Debug)]
pub struct Clock {
    /// Read on every request (`now`), written only by the control API: readers never wait
    /// for each other.
    inner: RwLock<ClockState>,
}

/// Instants are kept as Unix nanoseconds: reading the clock is then integer arithmetic and
/// one calendar conversion at the end (`OffsetDateTime` arithmetic normalises the date at
/// every step, and the clock is read twice per request).
#[derive(Debug, Clone, Copy)]
struct ClockState {
    /// Real time at the last anchor.
    real_anchor: i128,
    /// Virtual time at the last anchor.
    virtual_anchor: i128,
    scale: f64,
    frozen: bool,
}

/// Real time now, in Unix nanoseconds.
fn real_nanos() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => since.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// The instant `nanos` after the epoch, held to what `OffsetDateTime` can represent.
///
/// The calendar conversion is done once per second per thread: within the second of the last
/// conversion only the nanoseconds change (the clock is read on every request).
pub fn datetime_from_nanos(nanos: i128) -> OffsetDateTime {
    thread_local! {
        /// The whole second last converted on this thread, and its instant.
        static LAST: std::cell::Cell<Option<(i64, OffsetDateTime)>> =
            const { std::cell::Cell::new(None) };
    }
    const NANOS_PER_SEC: i64 = 1_000_000_000;
    let Ok(nanos64) = i64::try_from(nanos) else {
        return convert_nanos(nanos);
    };
    let (secs, sub) = (
        nanos64.div_euclid(NANOS_PER_SEC),
        nanos64.rem_euclid(NANOS_PER_SEC) as u32,
    );
    if let Some((last, at)) = LAST.get() {
        if last == secs {
            if let Ok(at) = at.replace_nanosecond(sub) {
                return at;
            }
        }
    }
    let at = convert_nanos(nanos);
    if at.unix_timestamp() == secs {
        LAST.set(Some((secs, at)));
    }
    at
}

fn convert_nanos(nanos: i128) -> OffsetDateTime {
    let max = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT);
    let min = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if nanos < 0 { min } else { max })
}

/// Whole Unix seconds of Unix nanoseconds (rounded down).
pub fn unix_secs(nanos: i128) -> i64 {
    let secs = nanos.div_euclid(1_000_000_000);
    secs.clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

fn to_nanos(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos()
}

impl ClockState {
    fn at(&self, real_now: i128) -> i128 {
        if self.frozen {
            return self.virtual_anchor;
        }
        let elapsed = (real_now - self.real_anchor).max(0);
        let advanced = if self.scale == 1.0 {
            elapsed
        } else {
            (elapsed as f64 * self.scale) as i128
        };
        self.virtual_anchor.saturating_add(advanced)
    }

    /// Moves the anchor to now so that a change of rate applies from here on.
    fn reanchor(&mut self) {
        let real_now = real_nanos();
        self.virtual_anchor = self.at(real_now);
        self.real_anchor = real_now;
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// Real time, running.
    pub fn new() -> Self {
        let now = real_nanos();
        Clock {
            inner: RwLock::new(ClockState {
                real_anchor: now,
                virtual_anchor: now,
                scale: 1.0,
                frozen: false,
            }),
        }
    }

    /// A clock that starts at `start` (and optionally stands still there).
    pub fn starting_at(start: OffsetDateTime, frozen: bool) -> Self {
        let clock = Clock::new();
        {
            let mut state = clock.inner.write();
            state.virtual_anchor = to_nanos(start);
            state.frozen = frozen;
        }
        clock
    }

    /// The current virtual time.
    pub fn now(&self) -> OffsetDateTime {
        datetime_from_nanos(self.now_nanos())
    }

    /// The current virtual time in Unix nanoseconds (no calendar arithmetic).
    pub fn now_nanos(&self) -> i128 {
        let real_now = real_nanos();
        self.inner.read().at(real_now)
    }

    /// The current virtual time in whole Unix seconds.
    pub fn now_unix_secs(&self) -> i64 {
        unix_secs(self.now_nanos())
    }

    /// Moves virtual time forward by `by` (callers refuse negative values).
    pub fn advance(&self, by: time::Duration) -> OffsetDateTime {
        let mut state = self.inner.write();
        state.reanchor();
        let by = by.max(time::Duration::ZERO).whole_nanoseconds();
        state.virtual_anchor = state.virtual_anchor.saturating_add(by);
        datetime_from_nanos(state.virtual_anchor)
    }

    /// Stops (or restarts) the clock at the current virtual instant.
    pub fn set_frozen(&self, frozen: bool) {
        let mut state = self.inner.write();
        state.reanchor();
        state.frozen = frozen;
    }

    pub fn is_frozen(&self) -> bool {
        self.inner.read().frozen
    }

    /// Virtual seconds per real second from now on (callers check `0 < scale ≤ SCALE_MAX`).
    pub fn set_scale(&self, scale: f64) {
        let mut state = self.inner.write();
        state.reanchor();
        state.scale = scale;
    }

    pub fn scale(&self) -> f64 {
        self.inner.read().scale
    }

    /// Seconds the virtual clock is ahead of real time.
    /// One reading of real time for both sides: two readings drift apart by however long the
    /// thread was descheduled between them (tens of µs on a loaded machine).
    pub fn offset_secs(&self) -> f64 {
        let real_now = real_nanos();
        let ahead = self.inner.read().at(real_now) - real_now;
        ahead as f64 / 1e9
    }

    /// Moves the clock to `to` if that is not in its past (snapshot import); returns the
    /// resulting now.
    pub fn catch_up_to(&self, to: OffsetDateTime) -> OffsetDateTime {
        let now = self.now();
        if to > now {
            self.advance(to - now)
        } else {
            now
        }
    }
}

/// RFC 3339 with 7 fractional digits, the way ARM writes timestamps.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    // Written digit by digit: the journal stamps every request with it.
    let mut out = String::with_capacity(28);
    push_date_time(&mut out, at);
    out.push('.');
    push_digits(&mut out, at.nanosecond() / 100, 7);
    out.push('Z');
    out
}

/// RFC 3339 with whole seconds, the way Kubernetes writes timestamps.
pub fn rfc3339_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let mut out = String::with_capacity(20);
    push_date_time(&mut out, at);
    out.push('Z');
    out
}

/// `YYYY-MM-DDTHH:MM:SS` (RFC 3339 years are 0000–9999).
fn push_date_time(out: &mut String, at: OffsetDateTime) {
    push_digits(out, at.year().clamp(0, 9999) as u32, 4);
    out.push('-');
    push_digits(out, u8::from(at.month()).into(), 2);
    out.push('-');
    push_digits(out, at.day().into(), 2);
    out.push('T');
    push_digits(out, at.hour().into(), 2);
    out.push(':');
    push_digits(out, at.minute().into(), 2);
    out.push(':');
    push_digits(out, at.second().into(), 2);
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for i in (0..width).rev() {
        let digit = (value / 10u32.pow(i)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// An HTTP date (RFC 1123), for the `Date` header.
pub fn http_date_secs(secs: i64) -> String {
    let secs = secs.max(0) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Parses an RFC 3339 timestamp.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_convert_as_the_calendar_says_in_any_order() {
        let second = 1_700_000_000_i128 * 1_000_000_000;
        for nanos in [
            second,
            second + 999_999_999,
            second + 1,
            second - 1,
            second + 1_000_000_000,
            -1,
            0,
            -1_500_000_000,
            i128::from(i64::MAX) + 1,
            i128::MAX,
            i128::MIN,
            second + 17,
        ] {
            assert_eq!(datetime_from_nanos(nanos), convert_nanos(nanos), "{nanos}");
        }
    }

    #[test]
    fn advance_moves_time_forward_and_freeze_holds_it() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance(time::Duration::hours(1));
        assert!(clock.now() - before >= time::Duration::hours(1));
        clock.set_frozen(true);
        let frozen = clock.now();
        assert_eq!(clock.now(), frozen);
        let later = clock.advance(time::Duration::seconds(5));
        assert_eq!(later - frozen, time::Duration::seconds(5));
        assert_eq!(clock.now(), later);
        clock.set_frozen(false);
        assert!(clock.now() >= later);
    }

    #[test]
    fn scale_and_start_are_honoured() {
        let start = time::macros::datetime!(2024-01-01 00:00 UTC);
        let clock = Clock::starting_at(start, true);
        assert_eq!(clock.now(), start);
        clock.set_scale(1000.0);
        assert_eq!(clock.now(), start, "frozen ignores scale");
        clock.set_frozen(false);
        assert!(clock.now() >= start);
        clock.set_frozen(true);
        let now = clock.now();
        assert_eq!(
            clock.catch_up_to(start - time::Duration::hours(1)),
            now,
            "never backwards"
        );
        let ahead = now + time::Duration::hours(2);
        assert_eq!(clock.catch_up_to(ahead), ahead);
    }

    #[test]
    fn timestamps_have_arm_and_kube_shapes() {
        let at = time::macros::datetime!(2024-07-03 07:13:32.857_181_1 UTC);
        assert_eq!(rfc3339(at), "2024-07-03T07:13:32.8571811Z");
        assert_eq!(rfc3339_seconds(at), "2024-07-03T07:13:32Z");
        assert_eq!(
            http_date_secs(at.unix_timestamp()),
            "Wed, 03 Jul 2024 07:13:32 GMT"
        );
        let small = time::macros::datetime!(0987-01-02 03:04:05.000_000_1 UTC);
        assert_eq!(rfc3339(small), "0987-01-02T03:04:05.0000001Z");
        assert_eq!(rfc3339_seconds(small), "0987-01-02T03:04:05Z");
        assert_eq!(
            parse_rfc3339("2024-07-03T07:13:32Z")
                .unwrap()
                .unix_timestamp(),
            1_719_990_812
        );
    }
}
