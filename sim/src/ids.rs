//! Identifiers: request ids, operation ids, ETags, object uids.
//!
//! All come from one generator. With `--seed` the sequence is reproducible, so a run can be
//! replayed; without it the generator is seeded from the OS.

use parking_lot::Mutex;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

#[derive(Debug)]
pub struct Ids {
    rng: Mutex<ChaCha8Rng>,
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
            seed,
        }
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Restarts the sequence (used by `/_sim/reset` so a seeded run replays exactly).
    pub fn reseed(&self, seed: Option<u64>) {
        *self.rng.lock() = match seed.or(self.seed) {
            Some(seed) => ChaCha8Rng::seed_from_u64(seed),
            None => ChaCha8Rng::from_entropy(),
        };
    }

    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.lock().fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A lower-case hyphenated UUID string.
    pub fn uuid_string(&self) -> String {
        self.uuid().hyphenated().to_string()
    }

    /// A uniform number in [0, 1) (fault probabilities).
    pub fn unit(&self) -> f64 {
        (self.rng.lock().next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` random lower-case hex characters (fqdn suffixes and the like).
    pub fn hex(&self, n: usize) -> String {
        let mut out = String::with_capacity(n);
        let mut rng = self.rng.lock();
        while out.len() < n {
            out.push_str(&format!("{:08x}", rng.next_u32()));
        }
        out.truncate(n);
        out
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
}
