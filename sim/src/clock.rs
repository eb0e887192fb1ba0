//! The one virtual clock.
//!
//! `now()` is real UTC time plus an offset that `/_sim/clock/advance` grows, or a frozen
//! instant. Nothing in aksim runs on a timer: operations, registrations and token expiry store
//! *when* they started and *when* they are due, and their state is computed when someone looks.
//! So advancing the clock by an hour is free and tests never sleep.

use parking_lot::Mutex;
use time::OffsetDateTime;

#[derive(Debug)]
pub struct Clock {
    inner: Mutex<ClockState>,
}

#[derive(Debug, Clone, Copy)]
struct ClockState {
    /// Added to real time while running.
    offset: time::Duration,
    /// When set, the clock stands still at this instant (advance still moves it).
    frozen_at: Option<OffsetDateTime>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            inner: Mutex::new(ClockState {
                offset: time::Duration::ZERO,
                frozen_at: None,
            }),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> OffsetDateTime {
        let state = *self.inner.lock();
        match state.frozen_at {
            Some(at) => at,
            None => OffsetDateTime::now_utc() + state.offset,
        }
    }

    /// Moves virtual time forward. Negative values are refused by the caller.
    pub fn advance(&self, by: time::Duration) -> OffsetDateTime {
        let mut state = self.inner.lock();
        match state.frozen_at.as_mut() {
            Some(at) => *at += by,
            None => state.offset += by,
        }
        match state.frozen_at {
            Some(at) => at,
            None => OffsetDateTime::now_utc() + state.offset,
        }
    }

    /// Stops (or restarts) the clock at the current virtual instant.
    pub fn set_frozen(&self, frozen: bool) {
        let mut state = self.inner.lock();
        let now = match state.frozen_at {
            Some(at) => at,
            None => OffsetDateTime::now_utc() + state.offset,
        };
        if frozen {
            state.frozen_at.get_or_insert(now);
        } else if state.frozen_at.take().is_some() {
            state.offset = now - OffsetDateTime::now_utc();
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.inner.lock().frozen_at.is_some()
    }

    /// Seconds the virtual clock is ahead of real time.
    pub fn offset_secs(&self) -> f64 {
        (self.now() - OffsetDateTime::now_utc()).as_seconds_f64()
    }

    /// Back to real time.
    pub fn reset(&self) {
        *self.inner.lock() = ClockState {
            offset: time::Duration::ZERO,
            frozen_at: None,
        };
    }
}

/// RFC 3339 with 7 fractional digits, the way ARM writes timestamps.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond() / 100
    )
}

/// RFC 3339 with whole seconds, the way Kubernetes writes timestamps.
pub fn rfc3339_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// An HTTP date (RFC 1123), for the `Date` header.
pub fn http_date(at: OffsetDateTime) -> String {
    let secs = at.unix_timestamp().max(0) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        clock.set_frozen(false);
        assert!(clock.now() >= later);
    }

    #[test]
    fn timestamps_have_arm_and_kube_shapes() {
        let at = time::macros::datetime!(2024-07-03 07:13:32.857_181_1 UTC);
        assert_eq!(rfc3339(at), "2024-07-03T07:13:32.8571811Z");
        assert_eq!(rfc3339_seconds(at), "2024-07-03T07:13:32Z");
        assert_eq!(http_date(at), "Wed, 03 Jul 2024 07:13:32 GMT");
    }
}
