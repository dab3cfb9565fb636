//! The one source of randomness. Everything is drawn from ChaCha8 (a stream that is stable across
//! versions) through integer arithmetic only, so the output does not depend on how `rand`
//! implements ranges or on the platform's floating-point library.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A seeded random stream with the few draws the generator needs.
pub(crate) struct Rand {
    inner: ChaCha8Rng,
}

impl Rand {
    /// A stream fully determined by `seed`.
    pub(crate) fn seeded(seed: u64) -> Self {
        Rand { inner: ChaCha8Rng::seed_from_u64(seed) }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A number in `0..n` (0 when `n` is 0). Multiply-shift: the bias is below `n / 2^64`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index into a collection of `len` items (0 when `len` is 0).
    pub(crate) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A number in `lo..hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi.abs_diff(lo)) as i64
    }

    /// True with probability `p`. The draw is an exact multiple of 2^-53, so the comparison is
    /// the same on every platform.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        unit < p
    }

    /// One item of a non-empty slice.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// An index chosen with the given integer weights (the first index if all are 0).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        self.weighted_by(weights, |&w| w)
    }

    /// An index into `items` chosen with the weights `weight` gives them.
    pub(crate) fn weighted_by<T>(&mut self, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
        let total: u64 = items.iter().map(|item| u64::from(weight(item))).sum();
        let mut draw = self.below(total);
        for (i, item) in items.iter().enumerate() {
            let w = u64::from(weight(item));
            if draw < w {
                return i;
            }
            draw -= w;
        }
        0
    }

    /// Appends `chars` lowercase hex digits.
    pub(crate) fn push_hex(&mut self, out: &mut Vec<u8>, chars: usize) {
        push_hex_from(out, chars, || self.next_u64());
    }

    /// A random (version 4) UUID in its usual text form.
    pub(crate) fn uuid(&mut self) -> String {
        let mut out = Vec::with_capacity(36);
        self.push_uuid(&mut out);
        String::from_utf8(out).expect("a UUID is ASCII")
    }

    /// Appends a random (version 4) UUID.
    pub(crate) fn push_uuid(&mut self, out: &mut Vec<u8>) {
        let (high, low) = (self.next_u64(), self.next_u64());
        crate::text::push_uuid(out, high, low);
    }
}

/// The splitmix64 finalizer: a cheap, well-mixed hash of one word. Used to derive per-key facts
/// (the key text, its variant) without storing them.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Appends `chars` hex digits taken from successive words of `next`.
pub(crate) fn push_hex_from(out: &mut Vec<u8>, chars: usize, mut next: impl FnMut() -> u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut word = 0;
    for i in 0..chars {
        if i % 16 == 0 {
            word = next();
        }
        out.push(DIGITS[(word & 0xf) as usize]);
        word >>= 4;
    }
}

/// FNV-1a over bytes: a stable hash for naming files after their content.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_and_variant() {
        let mut rand = Rand::seeded(7);
        for _ in 0..100 {
            let uuid = rand.uuid();
            assert_eq!(uuid.len(), 36);
            assert_eq!(&uuid[14..15], "4");
            assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
        }
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rand = Rand::seeded(1);
        for _ in 0..1000 {
            assert!(rand.below(10) < 10);
            let r = rand.range(-5, 5);
            assert!((-5..5).contains(&r));
        }
        assert_eq!(rand.below(0), 0);
        assert_eq!(rand.range(3, 3), 3);
        assert!(!rand.chance(0.0));
        assert!(rand.chance(1.0));
        assert_eq!(rand.weighted(&[0, 0, 5]), 2);
    }

    #[test]
    fn stream_is_stable() {
        // Pins the promise that a seed means the same data in every version and on every
        // platform: ChaCha8's stream and `seed_from_u64` are both specified.
        let mut rand = Rand::seeded(42);
        let draws: Vec<u64> = (0..3).map(|_| rand.below(1_000_000)).collect();
        assert_eq!(draws, [681_896, 950_275, 427_516]);
    }
}
