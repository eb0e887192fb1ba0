//! Registration state machines for preview features (Microsoft.Features) and resource
//! providers: one [`Registration`] per feature or provider a subscription touched.
//!
//! The machine (`../shared/reference/ARM-CONTRACT.md` §0.9, §3, §4.1):
//!
//! ```text
//! NotRegistered ─register─► Registering ─(delay)─► Registered ─unregister─► Unregistering ─(delay)─► Unregistered
//!        └──────register (approval required)──► Pending ─unregister─► Unregistering
//! Unregistering / Unregistered ─register─► Registering (or Pending)
//! ```
//!
//! Nothing runs in the background: a record keeps the phase it was last put in and, for the
//! two transitional phases, when that phase ends; [`Registration::state`] computes the state
//! at any instant of the virtual clock. A delay of zero skips the transitional phase.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Every state Azure shows for a feature or a provider (PascalCase on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegState {
    NotRegistered,
    Pending,
    Registering,
    Registered,
    Unregistering,
    Unregistered,
}

impl RegState {
    pub const ALL: [RegState; 6] = [
        RegState::NotRegistered,
        RegState::Pending,
        RegState::Registering,
        RegState::Registered,
        RegState::Unregistering,
        RegState::Unregistered,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RegState::NotRegistered => "NotRegistered",
            RegState::Pending => "Pending",
            RegState::Registering => "Registering",
            RegState::Registered => "Registered",
            RegState::Unregistering => "Unregistering",
            RegState::Unregistered => "Unregistered",
        }
    }

    /// States in which a register request starts a new registration.
    fn is_off(self) -> bool {
        matches!(
            self,
            RegState::NotRegistered | RegState::Unregistering | RegState::Unregistered
        )
    }
}

/// One feature's or one provider's registration in one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    /// The phase as last written; a transitional phase past `due` reads as its end state.
    pub phase: RegState,
    /// When a transitional phase (`Registering`, `Unregistering`) ends.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub due: Option<OffsetDateTime>,
    /// When the current registration became (or becomes) `Registered`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub registered_at: Option<OffsetDateTime>,
    /// Sequence number of the request that started the current phase.
    #[serde(default)]
    pub started_seq: u64,
    /// When the last register request arrived (also for no-op re-registers).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_register_at: Option<OffsetDateTime>,
    /// Sequence number of the last register request.
    #[serde(default)]
    pub last_register_seq: u64,
}

impl Default for Registration {
    fn default() -> Self {
        Registration {
            phase: RegState::NotRegistered,
            due: None,
            registered_at: None,
            started_seq: 0,
            last_register_at: None,
            last_register_seq: 0,
        }
    }
}

impl Registration {
    /// The state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> RegState {
        let elapsed = self.due.is_none_or(|due| now >= due);
        match self.phase {
            RegState::Registering if elapsed => RegState::Registered,
            RegState::Unregistering if elapsed => RegState::Unregistered,
            phase => phase,
        }
    }

    /// When the registration became `Registered`, if it is `Registered` at `now`.
    pub fn registered_since(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        (self.state(now) == RegState::Registered)
            .then_some(self.registered_at)
            .flatten()
    }

    /// Writes the state at `now` back into `phase` (drops an elapsed `due`).
    fn settle(&mut self, now: OffsetDateTime) {
        let state = self.state(now);
        if state != self.phase {
            self.phase = state;
            self.due = None;
        }
    }

    /// A register request. From an "off" state it starts `Registering` (or `Pending` when
    /// the feature needs approval; `Registered` at once when `delay` is zero); from
    /// `Registering`, `Registered` or `Pending` it changes nothing but the request record.
    pub fn register(
        &mut self,
        now: OffsetDateTime,
        delay: time::Duration,
        approval_required: bool,
        seq: u64,
    ) {
        self.settle(now);
        self.last_register_at = Some(now);
        self.last_register_seq = seq;
        if !self.phase.is_off() {
            return;
        }
        self.started_seq = seq;
        if approval_required {
            self.phase = RegState::Pending;
            self.due = None;
            self.registered_at = None;
        } else if delay <= time::Duration::ZERO {
            self.phase = RegState::Registered;
            self.due = None;
            self.registered_at = Some(now);
        } else {
            self.phase = RegState::Registering;
            self.due = Some(now + delay);
            self.registered_at = Some(now + delay);
        }
    }

    /// Registers at once, whatever the state (ARM's auto-registration).
    pub fn register_now(&mut self, now: OffsetDateTime, seq: u64) {
        self.settle(now);
        self.last_register_at = Some(now);
        self.last_register_seq = seq;
        if self.phase != RegState::Registered {
            self.phase = RegState::Registered;
            self.due = None;
            self.registered_at = Some(now);
            self.started_seq = seq;
        }
    }

    /// An unregister request. From `Registering`, `Registered` or `Pending` it starts
    /// `Unregistering` (`Unregistered` at once when `delay` is zero); otherwise it changes
    /// nothing.
    pub fn unregister(&mut self, now: OffsetDateTime, delay: time::Duration, seq: u64) {
        self.settle(now);
        if self.phase.is_off() {
            return;
        }
        self.started_seq = seq;
        self.registered_at = None;
        if delay <= time::Duration::ZERO {
            self.phase = RegState::Unregistered;
            self.due = None;
        } else {
            self.phase = RegState::Unregistering;
            self.due = Some(now + delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn registering_settles_on_the_clock() {
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let d = time::Duration::seconds(3);
        let mut r = Registration::default();
        assert_eq!(r.state(t0), RegState::NotRegistered);
        r.register(t0, d, false, 1);
        assert_eq!(r.state(t0), RegState::Registering);
        assert_eq!(
            r.state(t0 + time::Duration::seconds(2)),
            RegState::Registering
        );
        assert_eq!(r.state(t0 + d), RegState::Registered);
        assert_eq!(r.registered_since(t0 + d), Some(t0 + d));
        r.unregister(t0 + d, d, 2);
        assert_eq!(r.state(t0 + d), RegState::Unregistering);
        assert_eq!(r.state(t0 + d + d), RegState::Unregistered);
        r.register(t0 + d + d, time::Duration::ZERO, false, 3);
        assert_eq!(r.state(t0 + d + d), RegState::Registered);
        let mut p = Registration::default();
        p.register(t0, d, true, 1);
        assert_eq!(p.state(t0 + d + d), RegState::Pending);
    }
}
