//! Context keys and what is fixed about them (text, variant, conflict, migration keys), derived by
//! hashing `(seed, experiment, key index)` so nothing about a key needs to be stored: a streaming
//! run can emit a key's events hours apart and still agree with itself.

use crate::rng::{mix64, push_hex_from};

/// Share of keys written as 32 hex characters instead of 64.
const SHORT_KEY_SHARE: u64 = 10;
/// Share (in percent) of keys that carry older keys in `migration_keys`.
const MIGRATED_KEY_SHARE: u64 = 4;

/// The keys of all experiments of one run.
pub(crate) struct KeySpace {
    seed: u64,
    per_experiment: u32,
    conflict_share: f64,
}

impl KeySpace {
    pub(crate) fn new(seed: u64, per_experiment: usize, conflict_share: f64) -> Self {
        KeySpace {
            seed,
            per_experiment: u32::try_from(per_experiment.max(1)).unwrap_or(u32::MAX),
            conflict_share,
        }
    }

    /// Number of distinct keys per experiment.
    pub(crate) fn per_experiment(&self) -> u32 {
        self.per_experiment
    }

    /// A hash of one key and a purpose (`salt`).
    fn hash(&self, experiment: usize, key: u32, salt: u64) -> u64 {
        let id = ((experiment as u64) << 32) | u64::from(key);
        mix64(self.seed ^ mix64(id ^ mix64(salt)))
    }

    /// The key's text: 64 hex characters, sometimes 32.
    pub(crate) fn text(&self, experiment: usize, key: u32) -> String {
        let short = self.hash(experiment, key, 1) % 100 < SHORT_KEY_SHARE;
        self.hex(experiment, key, 100, if short { 32 } else { 64 })
    }

    /// Index of the key's variant among `variants` (keys are spread evenly).
    pub(crate) fn variant(&self, experiment: usize, key: u32, variants: usize) -> usize {
        (self.hash(experiment, key, 2) % variants.max(1) as u64) as usize
    }

    /// For a key that also shows up with another variant, that variant's index.
    pub(crate) fn conflicting_variant(&self, experiment: usize, key: u32, variants: usize) -> Option<usize> {
        let unit = (self.hash(experiment, key, 3) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        if variants < 2 || unit >= self.conflict_share {
            return None;
        }
        let shift = 1 + (self.hash(experiment, key, 4) % (variants as u64 - 1)) as usize;
        Some((self.variant(experiment, key, variants) + shift) % variants)
    }

    /// Older keys of the same subject (empty for most keys).
    pub(crate) fn migration_keys(&self, experiment: usize, key: u32) -> Vec<String> {
        let hash = self.hash(experiment, key, 5);
        if hash % 100 >= MIGRATED_KEY_SHARE {
            return Vec::new();
        }
        let count = 1 + (hash >> 32) % 2;
        (0..count).map(|i| self.hex(experiment, key, 200 + i, 64)).collect()
    }

    fn hex(&self, experiment: usize, key: u32, salt: u64, chars: usize) -> String {
        let mut out = Vec::with_capacity(chars);
        let mut counter = salt;
        push_hex_from(&mut out, chars, || {
            counter += 1;
            self.hash(experiment, key, counter)
        });
        String::from_utf8(out).expect("hex digits are ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let space = KeySpace::new(9, 1000, 0.1);
        let again = KeySpace::new(9, 1000, 0.1);
        let mut seen = std::collections::BTreeSet::new();
        for experiment in 0..3 {
            for key in 0..1000 {
                let text = space.text(experiment, key);
                assert!(text.len() == 64 || text.len() == 32);
                assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
                assert_eq!(text, again.text(experiment, key));
                assert!(seen.insert(text));
            }
        }
        assert_ne!(KeySpace::new(10, 1000, 0.1).text(0, 0), space.text(0, 0));
    }

    #[test]
    fn conflicts_pick_another_variant() {
        let space = KeySpace::new(1, 1000, 0.2);
        let conflicts: Vec<_> =
            (0..1000).filter_map(|k| space.conflicting_variant(0, k, 3).map(|v| (k, v))).collect();
        assert!((120..280).contains(&conflicts.len()), "{}", conflicts.len());
        for (key, variant) in conflicts {
            assert_ne!(variant, space.variant(0, key, 3));
        }
        assert_eq!(KeySpace::new(1, 10, 1.0).conflicting_variant(0, 0, 1), None);
    }
}
