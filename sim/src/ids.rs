//! Identifiers: request ids, operation ids, ETags, object uids.
//!
//! With `--seed` (or `/_sim/seed`) all come from one generator behind a mutex, so the sequence
//! is reproducible and a run can be replayed. Without a seed nothing needs to be reproduced:
//! each thread draws from its own OS-seeded generator (`rand::thread_rng`), so the edge's
//! per-request id takes no shared lock.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

#[derive(Debug)]
pub struct Ids {
    rng: Mutex<ChaCha8Rng>,
    /// Whether `rng` is seeded (then every id comes from it, in order).
    seeded: AtomicBool,
    seed: Option<u64>,
}

impl Ids {
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => ChaCha8Rng::seed_from_u64(seed),
            None => ChaCha8Rng::from_entropy(),
        };
        Ids {
            rng: Mutex::new(rng),
            seeded: AtomicBool::new(seed.is_some()),
            seed,
        }
    }

    /// Runs `f` on the seeded generator, or on this thread's own generator when unseeded.
    fn with_rng<R>(&self, f: impl FnOnce(&mut dyn RngCore) -> R) -> R {
        if self.seeded.load(Ordering::Acquire) {
            f(&mut *self.rng.lock())
        } else {
            f(&mut rand::thread_rng())
        }
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Restarts the sequence (used by `/_sim/reset` so a seeded run replays exactly).
    pub fn reseed(&self, seed: Option<u64>) {
        let mut rng = self.rng.lock();
        let seed = seed.or(self.seed);
        *rng = match seed {
            Some(seed) => ChaCha8Rng::seed_from_u64(seed),
            None => ChaCha8Rng::from_entropy(),
        };
        self.seeded.store(seed.is_some(), Ordering::Release);
    }

    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.with_rng(|rng| rng.fill_bytes(&mut bytes));
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A lower-case hyphenated UUID string.
    pub fn uuid_string(&self) -> String {
        self.uuid().hyphenated().to_string()
    }

    /// A uniform number in [0, 1) (fault probabilities).
    pub fn unit(&self) -> f64 {
        (self.with_rng(|rng| rng.next_u64()) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` random lower-case hex characters (fqdn suffixes and the like).
    pub fn hex(&self, n: usize) -> String {
        self.with_rng(|rng| {
            let mut out = String::with_capacity(n + 8);
            while out.len() < n {
                out.push_str(&format!("{:08x}", rng.next_u32()));
            }
            out.truncate(n);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_repeat() {
        let a = Ids::new(Some(7));
        let b = Ids::new(Some(7));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.hex(12), b.hex(12));
        assert_eq!(a.hex(12).len(), 12);
        a.reseed(None);
        let c = Ids::new(Some(7));
        assert_eq!(a.uuid(), c.uuid());
    }

    #[test]
    fn a_runtime_seed_makes_an_unseeded_generator_repeat() {
        let a = Ids::new(None);
        let b = Ids::new(None);
        assert_ne!(a.uuid(), b.uuid());
        a.reseed(Some(9));
        b.reseed(Some(9));
        assert_eq!(a.uuid_string(), b.uuid_string());
        assert_eq!(a.hex(5), b.hex(5));
        assert_eq!(a.unit(), b.unit());
        a.reseed(None);
        assert_ne!(a.uuid(), b.uuid(), "back to entropy");
    }
}
