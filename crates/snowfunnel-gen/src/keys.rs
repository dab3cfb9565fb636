//! Context keys and what is fixed about them (text, variant, conflict, migration keys), derived by
//! hashing `(seed, experiment, key index)` so nothing about a key needs to be stored: a streaming
//! run can emit a key's events hours apart and still agree with itself.

use crate::rng::{mix64, push_hex_from};
use crate::text::push_uuid;

/// Share of keys written as 32 hex characters instead of 64.
const SHORT_KEY_SHARE: u64 = 10;
/// Share (in percent) of keys that carry older keys in `migration_keys`.
const MIGRATED_KEY_SHARE: u64 = 4;

/// The keys of all experiments of one run.
pub(crate) struct KeySpace {
    seed: u64,
    per_experiment: u32,
    conflict_share: f64,
    /// Share of keys in another shape than lowercase hex.
    other_share: f64,
}

impl KeySpace {
    pub(crate) fn new(seed: u64, per_experiment: usize, conflict_share: f64) -> Self {
        KeySpace {
            seed,
            per_experiment: u32::try_from(per_experiment.max(1)).unwrap_or(u32::MAX),
            conflict_share,
            other_share: 0.0,
        }
    }

    /// The same keys, `share` of them in another shape than lowercase hex (see
    /// [`KeySpace::text`]).
    pub(crate) fn with_other_shapes(self, share: f64) -> Self {
        KeySpace { other_share: share, ..self }
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

    /// A uniform draw in `0..1` for one key and a purpose.
    fn unit(&self, experiment: usize, key: u32, salt: u64) -> f64 {
        (self.hash(experiment, key, salt) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The key's text: 64 lowercase hex characters, sometimes 32; with other shapes, a few are
    /// a UUID, 64 uppercase hex characters or a decimal id instead.
    pub(crate) fn text(&self, experiment: usize, key: u32) -> String {
        if self.other_share > 0.0 && self.unit(experiment, key, 6) < self.other_share {
            return self.other_shape(experiment, key);
        }
        let short = self.hash(experiment, key, 1) % 100 < SHORT_KEY_SHARE;
        self.hex(experiment, key, 100, if short { 32 } else { 64 })
    }

    fn other_shape(&self, experiment: usize, key: u32) -> String {
        let shape = self.hash(experiment, key, 7);
        match shape % 10 {
            0..=3 => {
                let mut out = Vec::with_capacity(36);
                push_uuid(&mut out, self.hash(experiment, key, 8), self.hash(experiment, key, 9));
                String::from_utf8(out).expect("a UUID is ASCII")
            }
            4..=6 => self.hex(experiment, key, 300, 64).to_ascii_uppercase(),
            // Twelve digits or fewer, as a numeric user or namespace id.
            _ => ((shape >> 8) % 1_000_000_000_000).to_string(),
        }
    }

    /// Index of the key's variant among `variants` (keys are spread evenly).
    pub(crate) fn variant(&self, experiment: usize, key: u32, variants: usize) -> usize {
        (self.hash(experiment, key, 2) % variants.max(1) as u64) as usize
    }

    /// For a key that also shows up with another variant, that variant's index.
    pub(crate) fn conflicting_variant(&self, experiment: usize, key: u32, variants: usize) -> Option<usize> {
        let unit = self.unit(experiment, key, 3);
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
    fn other_shapes_are_a_share_of_the_keys() {
        let space = KeySpace::new(9, 10_000, 0.1).with_other_shapes(0.2);
        let plain = KeySpace::new(9, 10_000, 0.1);
        let (mut uuid, mut upper, mut decimal) = (0, 0, 0);
        let mut seen = std::collections::BTreeSet::new();
        for key in 0..10_000 {
            let text = space.text(0, key);
            assert!(seen.insert(text.clone()));
            if text.len() == 36 && text.bytes().filter(|&b| b == b'-').count() == 4 {
                uuid += 1;
            } else if text.len() == 64 && text.bytes().any(|b| b.is_ascii_uppercase()) {
                upper += 1;
            } else if text.bytes().all(|b| b.is_ascii_digit()) && text.len() <= 12 {
                decimal += 1;
            } else {
                // Every other key is the one it would be without other shapes.
                assert_eq!(text, plain.text(0, key));
            }
        }
        let other = uuid + upper + decimal;
        assert!((1_800..2_200).contains(&other), "{other}");
        assert!(uuid > 600 && upper > 400 && decimal > 400, "{uuid} {upper} {decimal}");
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
